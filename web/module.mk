# ra-web: the subscriber's website back end and the RA's HTTP front door (libmicrohttpd
# with GnuTLS, cairo for the verification code). A producer like ra-self: lib/client.c.
PROGRAMS += ra-web
ra-web_SRCS = web/main.c web/http.c web/route.c web/session.c web/captcha.c web/ratelimit.c \
              web/pages.c web/assets.c web/text.c web/api.c web/api_card.c web/backend.c web/web_metrics.c \
              lib/secret.c lib/idcheck.c lib/subtext.c $(LIB_SEAL) $(LIB_B64) $(LIB_BASE) $(LIB_CONFIG) $(LIB_CLIENT) $(LIB_METRICS)
ra-web_PKGS := libmicrohttpd cairo jansson yaml-0.1 libczmq libzmq openssl
ra-web_LIBS := -lm

UNIT_TESTS += test_web
test_web_SRCS = tests/unit/test_web.c $(filter-out web/main.c,$(ra-web_SRCS))
test_web_PKGS := libmicrohttpd cairo fontconfig jansson yaml-0.1 libczmq libzmq openssl
test_web_LIBS := -lm
