include ca-signer/tests.mk
# The key holder links no SMTP, no PC/SC and no RA database code.
PROGRAMS += ca-signer
ca-signer_SRCS = ca-signer/main.c $(LIB_SANDBOX) ca-signer/signer_metrics.c $(SIGNER_CORE) \
                 $(LIB_BASE) $(LIB_CONFIG) $(LIB_NET) $(LIB_B64) $(LIB_METRICS)
ca-signer_PKGS := libczmq libzmq openssl sqlite3 yaml-0.1 jansson libseccomp
