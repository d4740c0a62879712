# Benchmark helpers (make bench), never installed.
PROGRAMS += sign-bench
sign-bench_SRCS = bench/sign-bench.c $(LIB_BASE) $(LIB_CONFIG) $(LIB_NET)
sign-bench_PKGS := libczmq libzmq openssl jansson yaml-0.1
