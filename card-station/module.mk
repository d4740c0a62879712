# card-station: the counter program (the PIV driver is in card/, shared with card-agent).
# SRCS use "=": this file is read before lib/module.mk and card/module.mk define theirs.
CS_CORE = $(CARD_DRIVER) card-station/personalize.c lib/derive.c

PROGRAMS += card-station
card-station_SRCS = $(CS_CORE) card-station/station.c card-station/cmd_readers.c \
                     card-station/cmd_wipe.c card-station/main.c $(LIB_BASE) $(LIB_CONFIG)
card-station_PKGS := libpcsclite openssl yaml-0.1
# Bulk personalization: the back office through lib/client.h, PINs sealed to the sheet key.
card-station_SRCS += card-station/cmd_personalize.c card-station/office.c card-station/board.c card-station/station_metrics.c \
                     $(LIB_CLIENT) $(LIB_SEAL) $(LIB_B64) $(LIB_PEM) $(LIB_OFFICER) card-station/officer_card.c $(LIB_METRICS)
card-station_PKGS += libczmq libzmq jansson
card-station_LIBS += -lpthread
# The subscriber's card operations (the back office through lib/client.h).
card-station_SRCS += $(CARD_SUB) card-station/sub_station.c card-station/cmd_pin.c card-station/cmd_download.c \
                     card-station/cmd_export.c card-station/cmd_renew.c lib/secret.c
# Where a personalized card went (lib/dispatch.c, shared with ra-ctl dispatch).
card-station_SRCS += card-station/cmd_dispatch.c $(LIB_DISPATCH)

# Personalize a card against a throw-away local CA: the issuer of the integration tests.
PROGRAMS += cs-perso-local
cs-perso-local_SRCS = $(CS_CORE) card-station/testing/perso_local.c $(LIB_BASE)
cs-perso-local_PKGS := libpcsclite openssl

UNIT_TESTS += test_apdu
test_apdu_SRCS = tests/unit/test_apdu.c card/apdu.c card/rc.c $(LIB_BASE)
test_apdu_PKGS := openssl libpcsclite

UNIT_TESTS += test_tlv
test_tlv_SRCS = tests/unit/test_tlv.c card/tlv.c $(LIB_BASE)
test_tlv_PKGS := openssl

UNIT_TESTS += test_piv_rc
test_piv_rc_SRCS = tests/unit/test_piv_rc.c card/rc.c $(LIB_BASE)
test_piv_rc_PKGS := libpcsclite

UNIT_TESTS += test_piv_derive
test_piv_derive_SRCS = tests/unit/test_piv_derive.c lib/derive.c $(LIB_BASE)
test_piv_derive_PKGS := openssl

UNIT_TESTS += test_piv_fascn
test_piv_fascn_SRCS = tests/unit/test_piv_fascn.c $(CS_CORE) $(LIB_BASE)
test_piv_fascn_PKGS := openssl libpcsclite

UNIT_TESTS += test_piv_cmds
test_piv_cmds_SRCS = tests/unit/test_piv_cmds.c $(CS_CORE) $(LIB_BASE)
test_piv_cmds_PKGS := openssl libpcsclite

UNIT_TESTS += test_card_subscriber
test_card_subscriber_SRCS = tests/unit/test_card_subscriber.c card/subscriber.c card/answer.c $(LIB_PEM) $(LIB_SECRET_READ) $(CS_CORE) $(LIB_BASE)
test_card_subscriber_PKGS := openssl libpcsclite jansson
