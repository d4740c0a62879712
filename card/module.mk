# card/: what card-station (the counter) and card-agent (the subscriber's PC) share: the
# PIV driver over PC/SC, and the subscriber's card operations (subscriber.h, one channel
# struct per caller). SRCS use "=" where they name lib/ files: lib/module.mk is read after.
CARD_DRIVER := card/rc.c card/tlv.c card/apdu.c card/pcsc.c card/piv.c card/csr.c
CARD_SUB = card/subscriber.c card/sub_ops.c card/answer.c $(LIB_SECRET_READ) $(LIB_B64) $(LIB_PEM) $(LIB_SEAL)
