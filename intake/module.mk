# ra-intake: the counter program (forms keyed, imported, verified, approved).
# The form rules live in lib/ (LIB_FORM), which the back office links too; reading
# batches of forms from YAML and CSV files (form_batch.c) is the counter's alone.

UNIT_TESTS += test_idcheck test_form
test_idcheck_SRCS = tests/unit/test_idcheck.c lib/idcheck.c $(LIB_BASE)
test_idcheck_PKGS :=
test_form_SRCS = tests/unit/test_form.c intake/form_batch.c $(LIB_FORM) $(LIB_BASE)
$(OBJ)/tests/unit/test_form.o: CFLAGS += -Iintake
test_form_PKGS := jansson yaml-0.1

# ra-intake talks to ra-queue only through lib/client.c.
# (LIB_BASE and friends are set in lib/module.mk, read after this file: hence "=".)
ifneq ($(wildcard intake/ra-intake.c),)
PROGRAMS += ra-intake
ra-intake_SRCS = $(filter-out intake/ra-self.c,$(wildcard intake/*.c)) $(LIB_FORM) $(LIB_BASE) $(LIB_CONFIG) $(LIB_CLIENT) \
                 $(LIB_OFFICER) $(CS_CORE) card-station/officer_card.c
ra-intake_PKGS := jansson yaml-0.1 libczmq libzmq openssl libpcsclite
endif

# ra-self: the subscriber's online client (stands in for the website's back end).
ifneq ($(wildcard intake/ra-self.c),)
PROGRAMS += ra-self
ra-self_SRCS = intake/ra-self.c lib/secret.c $(LIB_SECRET_READ) lib/idcheck.c lib/subtext.c $(LIB_SEAL) $(LIB_B64) $(LIB_BASE) $(LIB_CONFIG) $(LIB_CLIENT)
ra-self_PKGS := jansson yaml-0.1 libczmq libzmq openssl
endif
