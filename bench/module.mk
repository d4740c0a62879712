# Benchmark helpers (make bench), never installed.
PROGRAMS += sign-bench
sign-bench_SRCS = bench/sign-bench.c $(LIB_BASE) $(LIB_CONFIG) $(LIB_NET)
sign-bench_PKGS := libczmq libzmq openssl jansson yaml-0.1
PROGRAMS += crl-bench
crl-bench_SRCS = bench/crl-bench.c $(SIGNER_CORE) $(LIB_BASE) $(LIB_CONFIG)
crl-bench_PKGS := openssl sqlite3 yaml-0.1
PROGRAMS += ocsp-bench
ocsp-bench_SRCS = bench/ocsp-bench.c $(LIB_BASE)
ocsp-bench_PKGS := openssl
ocsp-bench_LIBS := -pthread
PROGRAMS += argon2-bench
argon2-bench_SRCS = bench/argon2-bench.c $(LIB_BASE)
argon2-bench_PKGS := libargon2 libcrypto
argon2-bench_LIBS := -pthread
