# libFuzzer targets: one file per parser that reads bytes from outside the process.
# Built with clang into $(FUZZ_BUILD) by `make fuzz` and `make test` (never by `make all`).
# Seeds: tests/fuzz/corpus/NAME/; inputs that once crashed: tests/fuzz/regress/NAME/.
# SRCS use "=": lib/module.mk, read after this file, sets LIB_BASE and friends.
FUZZ_TARGETS += fuzz_form_yaml fuzz_form_csv fuzz_form_json
# The YAML and CSV readers are ra-intake's (intake/form_batch.c); both targets share one
# body (fuzz_form_batch.c) and differ only in the reader they pass it.
fuzz_form_yaml_SRCS = tests/fuzz/fuzz_form_yaml.c tests/fuzz/fuzz_form_batch.c intake/form_batch.c $(LIB_FORM) $(LIB_BASE)
fuzz_form_yaml_PKGS := jansson yaml-0.1
fuzz_form_csv_SRCS = tests/fuzz/fuzz_form_csv.c tests/fuzz/fuzz_form_batch.c intake/form_batch.c $(LIB_FORM) $(LIB_BASE)
fuzz_form_csv_PKGS := jansson yaml-0.1
$(FUZZ_BUILD)/obj/tests/fuzz/fuzz_form_yaml.o $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_form_csv.o \
$(FUZZ_BUILD)/obj/tests/fuzz/fuzz_form_batch.o: FUZZ_CFLAGS += -Iintake
fuzz_form_json_SRCS = tests/fuzz/fuzz_form_json.c $(LIB_FORM) $(LIB_BASE)
fuzz_form_json_PKGS := jansson yaml-0.1

FUZZ_TARGETS += fuzz_msg
fuzz_msg_SRCS = tests/fuzz/fuzz_msg.c lib/msg.c $(LIB_BASE)
fuzz_msg_PKGS := libczmq libzmq jansson libcrypto

FUZZ_TARGETS += fuzz_config
fuzz_config_SRCS = tests/fuzz/fuzz_config.c $(LIB_CONFIG) $(LIB_BASE)
fuzz_config_PKGS := yaml-0.1

FUZZ_TARGETS += fuzz_csr
fuzz_csr_SRCS = tests/fuzz/fuzz_csr.c $(SIGNER_CORE) $(LIB_CONFIG) $(LIB_BASE)
fuzz_csr_PKGS := $(SIGNER_TEST_PKGS)

FUZZ_TARGETS += fuzz_tlv fuzz_apdu
fuzz_tlv_SRCS = tests/fuzz/fuzz_tlv.c card/tlv.c $(LIB_BASE)
fuzz_tlv_PKGS := openssl
fuzz_apdu_SRCS = tests/fuzz/fuzz_apdu.c card/apdu.c card/rc.c $(LIB_BASE)
fuzz_apdu_PKGS := openssl libpcsclite

FUZZ_TARGETS += fuzz_template
fuzz_template_SRCS = tests/fuzz/fuzz_template.c notifier/template.c $(LIB_BASE)
fuzz_template_PKGS :=

FUZZ_TARGETS += fuzz_ocsp
fuzz_ocsp_SRCS = tests/fuzz/fuzz_ocsp.c ocsp/responder.c ocsp/status.c $(LIB_CONFIG) $(LIB_BASE)
fuzz_ocsp_PKGS := openssl yaml-0.1

FUZZ_TARGETS += fuzz_csr_pem
fuzz_csr_pem_SRCS = tests/fuzz/fuzz_csr_pem.c workers/csr_check.c $(LIB_PEM) $(LIB_BASE)
fuzz_csr_pem_PKGS := openssl

FUZZ_TARGETS += fuzz_seal
fuzz_seal_SRCS = tests/fuzz/fuzz_seal.c $(LIB_SEAL) $(LIB_B64) $(LIB_BASE)
fuzz_seal_PKGS := libcrypto

FUZZ_TARGETS += fuzz_piv
fuzz_piv_SRCS = tests/fuzz/fuzz_piv.c $(CS_CORE) $(LIB_BASE)
fuzz_piv_PKGS := openssl libpcsclite

FUZZ_TARGETS += fuzz_web_form
fuzz_web_form_SRCS = tests/fuzz/fuzz_web_form.c web/http.c web/web_metrics.c $(LIB_METRICS) $(LIB_CONFIG) $(LIB_BASE)
fuzz_web_form_PKGS := libmicrohttpd jansson libcrypto yaml-0.1

FUZZ_TARGETS += fuzz_station_answer
# card-station's reading of the back office's job results and query answers.
fuzz_station_answer_SRCS = tests/fuzz/fuzz_station_answer.c card/answer.c $(LIB_PEM) $(LIB_BASE)
fuzz_station_answer_PKGS := jansson openssl

FUZZ_TARGETS += fuzz_ocsp_url
# ra-ocsp's own reading of a GET request's URL (the rest of the head is libmicrohttpd's).
fuzz_ocsp_url_SRCS = tests/fuzz/fuzz_ocsp_url.c ocsp/request.c $(LIB_BASE)
fuzz_ocsp_url_PKGS := libcrypto
