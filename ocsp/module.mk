# ra-ocsp: the OCSP responder, answering from the signer's published CRLs and issued list
# with its own delegated key.
PROGRAMS += ra-ocsp
ra-ocsp_SRCS := ocsp/ra-ocsp.c ocsp/request.c ocsp/responder.c ocsp/status.c ocsp/ocsp_metrics.c $(LIB_BASE) $(LIB_CONFIG) $(LIB_METRICS)
ra-ocsp_PKGS := openssl yaml-0.1 libmicrohttpd
ra-ocsp_LIBS := -pthread
