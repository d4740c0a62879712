# Shared code. Programs name the pieces they link; the key holder links the fewest.
LIB_BASE   := lib/log.c lib/util.c lib/clock.c lib/cli.c
LIB_CONFIG := lib/config.c lib/config_keys.c
LIB_DB     := lib/db.c lib/schema.c lib/audit.c lib/checkpoint.c lib/jobs.c
LIB_SEAL   := lib/seal.c
LIB_NET    := lib/msg.c lib/net.c
LIB_CLIENT := lib/client.c $(LIB_NET)
LIB_B64    := lib/b64.c
LIB_PEM    := lib/pem.c
LIB_FORM   := lib/form.c lib/form_kinds.c lib/form_rules.c lib/form_json.c lib/form_reject.c lib/idcheck.c
LIB_SECRET_READ := lib/secret_read.c
LIB_OFFICER := lib/officer.c $(LIB_SECRET_READ) $(LIB_B64) $(LIB_PEM)
LIB_OFFICER_DB := lib/officer_registry.c
LIB_METRICS := lib/metrics.c
LIB_DISPATCH := lib/dispatch.c
# text on a printed page in millimetres (cairo + pango): the sheets and the report
LIB_PAGETEXT := lib/pagetext.c
# The key holders' privilege drop and seccomp allow-list (ca-signer, ra-cardkey).
LIB_SANDBOX := lib/sandbox.c

UNIT_TESTS += test_config test_msg test_seal test_net test_audit
test_config_SRCS := tests/unit/test_config.c $(LIB_BASE) $(LIB_CONFIG)
test_config_PKGS := yaml-0.1
test_msg_SRCS := tests/unit/test_msg.c $(LIB_BASE) lib/msg.c $(LIB_B64)
test_msg_PKGS := libczmq libzmq jansson libcrypto
test_seal_SRCS := tests/unit/test_seal.c $(LIB_BASE) $(LIB_SEAL)
test_seal_PKGS := libcrypto
test_net_SRCS := tests/unit/test_net.c $(LIB_BASE) $(LIB_CONFIG) $(LIB_NET) $(LIB_B64)
test_net_PKGS := libczmq libzmq jansson libcrypto yaml-0.1
test_audit_SRCS := tests/unit/test_audit.c $(LIB_BASE) $(LIB_DB)
test_audit_PKGS := sqlite3 jansson libcrypto

UNIT_TESTS += test_officer
test_officer_SRCS := tests/unit/test_officer.c $(LIB_BASE) $(LIB_CONFIG) $(LIB_OFFICER)
test_officer_PKGS := libcrypto jansson yaml-0.1

UNIT_TESTS += test_metrics
test_metrics_SRCS := tests/unit/test_metrics.c $(LIB_BASE) $(LIB_CONFIG) $(LIB_METRICS)
test_metrics_PKGS := yaml-0.1

UNIT_TESTS += test_secret_read
test_secret_read_SRCS := tests/unit/test_secret_read.c $(LIB_BASE) $(LIB_SECRET_READ)
test_secret_read_PKGS := libcrypto
