# Unit tests of the CA signer's core (included by ca-signer/module.mk).
# "=" rather than ":=": LIB_BASE and LIB_CONFIG are set in lib/module.mk, read later.
SIGNER_CORE = ca-signer/cakey.c ca-signer/crl.c ca-signer/csr.c ca-signer/durable.c \
              ca-signer/issue.c ca-signer/issued.c \
              ca-signer/lint.c ca-signer/pool.c ca-signer/profile.c ca-signer/revoke.c \
              ca-signer/serial.c ca-signer/checkpoint.c lib/checkpoint.c \
              ca-signer/signer.c ca-signer/store.c lib/pem.c
SIGNER_TEST_PKGS := openssl sqlite3 yaml-0.1

UNIT_TESTS += test_profile
test_profile_SRCS = tests/unit/test_profile.c tests/unit/test_signer_fixture.c $(SIGNER_CORE) \
                    $(LIB_BASE) $(LIB_CONFIG)
test_profile_PKGS := $(SIGNER_TEST_PKGS)

UNIT_TESTS += test_signer_issue
test_signer_issue_SRCS = tests/unit/test_signer_issue.c tests/unit/test_signer_fixture.c \
                         $(SIGNER_CORE) $(LIB_BASE) $(LIB_CONFIG)
test_signer_issue_PKGS := $(SIGNER_TEST_PKGS)

UNIT_TESTS += test_signer_crl
test_signer_crl_SRCS = tests/unit/test_signer_crl.c tests/unit/test_signer_fixture.c \
                       $(SIGNER_CORE) $(LIB_BASE) $(LIB_CONFIG)
test_signer_crl_PKGS := $(SIGNER_TEST_PKGS)

UNIT_TESTS += test_signer_pkcs11
test_signer_pkcs11_SRCS = tests/unit/test_signer_pkcs11.c tests/unit/test_signer_fixture.c \
                          $(SIGNER_CORE) $(LIB_BASE) $(LIB_CONFIG)
test_signer_pkcs11_PKGS := $(SIGNER_TEST_PKGS)

UNIT_TESTS += test_signer_template
test_signer_template_SRCS = tests/unit/test_signer_template.c tests/unit/test_signer_fixture.c \
                            $(SIGNER_CORE) $(LIB_BASE) $(LIB_CONFIG)
test_signer_template_PKGS := $(SIGNER_TEST_PKGS)
