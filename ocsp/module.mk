# ra-ocsp: the OCSP responder, answering from the published CRL with its own delegated key.
PROGRAMS += ra-ocsp
ra-ocsp_SRCS := ocsp/ra-ocsp.c ocsp/responder.c $(LIB_BASE) $(LIB_CONFIG)
ra-ocsp_PKGS := openssl yaml-0.1
