# card-agent: the subscriber's local card service (libmicrohttpd on 127.0.0.1, libcurl to
# the RA website, the shared card sequences of card/, pinentry for the subscriber's secrets).
PROGRAMS += card-agent
card-agent_SRCS = card-agent/main.c card-agent/server.c card-agent/ops.c card-agent/pinentry.c card-agent/relay.c \
                  $(CARD_DRIVER) $(CARD_SUB) lib/derive.c lib/idcheck.c $(LIB_BASE) $(LIB_CONFIG)
card-agent_PKGS := libmicrohttpd libcurl libpcsclite jansson yaml-0.1 openssl
card-agent_LIBS := -lpthread

UNIT_TESTS += test_agent_parts
test_agent_parts_SRCS = tests/unit/test_agent_parts.c card-agent/pinentry.c card-agent/server.c card-agent/ops.c card-agent/relay.c \
                       $(CARD_DRIVER) $(CARD_SUB) lib/derive.c lib/idcheck.c $(LIB_BASE) $(LIB_CONFIG)
test_agent_parts_PKGS := libmicrohttpd libcurl libpcsclite jansson yaml-0.1 openssl
test_agent_parts_LIBS := -lpthread
