# The card master key's holder links no SMTP, no PC/SC and no RA database code; it shares
# ca-signer's seccomp allow-list (lib/sandbox.c), with one folder to write in: its own
# (cardkey.dir), for its metrics file.
PROGRAMS += ra-cardkey
ra-cardkey_SRCS = cardkey/main.c cardkey/cardkey.c cardkey/cardkey_metrics.c $(LIB_SANDBOX) \
                  lib/derive.c $(LIB_METRICS) $(LIB_BASE) $(LIB_CONFIG) $(LIB_NET) $(LIB_SEAL) $(LIB_B64)
ra-cardkey_PKGS := libczmq libzmq openssl sqlite3 yaml-0.1 jansson libseccomp
