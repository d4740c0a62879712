/*
 * test_signer_pkcs11.c: the CA key in a PKCS#11 token (SoftHSM2, with a private
 * SOFTHSM2_CONF in the temp dir) through OpenSSL's pkcs11 engine: a wrong PIN is refused
 * at start-up; with the right one the signer issues certificates and CRLs that
 * `openssl verify` and `openssl crl -verify` accept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../ca-signer/signer.h"
#include "log.h"
#include "test_signer_fixture.h"
#include "util.h"

#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"
#define TOKEN_PIN "246810"
#define TOKEN_URI "pkcs11:token=ra-test-ca;object=ca-key;type=private"

struct t {
	char *dir;
	int skip;
};

static int setup(void **state)
{
	struct t *t = xcalloc(1, sizeof *t);
	char *conf;

	*state = t;
	log_init("test_signer_pkcs11", LV_ERR);
	if (access(SOFTHSM, R_OK) != 0 || system("command -v pkcs11-tool >/dev/null") != 0) {
		t->skip = 1;	/* softhsm2 / opensc missing: tools/deps.sh installs them */
		return 0;
	}
	t->dir = fx_tmpdir();
	if (!t->dir)
		return -1;
	conf = xasprintf("%s/softhsm2.conf", t->dir);
	setenv("SOFTHSM2_CONF", conf, 1);
	free(conf);
	return fx_run("cd '%s' && mkdir tokens && printf 'directories.tokendir = %s/tokens\\n"
	    "objectstore.backend = file\\nlog.level = ERROR\\n' '%s' > softhsm2.conf && "
	    "softhsm2-util --init-token --free --label ra-test-ca --so-pin 13579135 "
	    "--pin " TOKEN_PIN " >/dev/null && "
	    "pkcs11-tool --module " SOFTHSM " --token-label ra-test-ca --login --pin " TOKEN_PIN
	    " --keypairgen --key-type rsa:2048 --id 01 --label ca-key >/dev/null 2>&1 && "
	    "openssl req -new -x509 -engine pkcs11 -keyform engine "
	    "-key '" TOKEN_URI ";pin-value=" TOKEN_PIN "' -sha256 -days 3650 "
	    "-subj '/C=TW/O=Test RA/CN=Token CA' -addext 'basicConstraints=critical,CA:TRUE' "
	    "-addext 'keyUsage=critical,keyCertSign,cRLSign' -out ca.pem >/dev/null 2>&1 && "
	    "printf '" TOKEN_PIN "\\n' > ca.pin && printf '999999\\n' > wrong.pin && "
	    "chmod 600 ca.pin wrong.pin", t->dir, t->dir, t->dir) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct t *t = *state;
	fx_rmdir(t->dir);
	free(t);
	return 0;
}

static config_t *token_config(struct t *t, const char *pin_file)
{
	char *extra = xasprintf("  pkcs11_module: " SOFTHSM "\n  pkcs11_uri: \"" TOKEN_URI "\"\n"
	    "  pkcs11_pin_file: %s\n", pin_file);
	config_t *cfg = fx_config(t->dir, extra);
	free(extra);
	return cfg;
}

static void test_wrong_pin(void **state)
{
	struct t *t = *state;
	if (t->skip)
		skip();
	config_t *cfg = token_config(t, "wrong.pin");
	assert_non_null(cfg);
	signer_t *s = signer_new(cfg);
	assert_null(s);
	config_destroy(&cfg);
}

static void test_token_issue_and_crl(void **state)
{
	struct t *t = *state;
	if (t->skip)
		skip();
	config_t *cfg = token_config(t, "ca.pin");
	signer_t *s = signer_new(cfg);
	assert_non_null(s);

	EVP_PKEY *key = fx_rsa(2048, 65537);
	size_t len;
	uint8_t *csr = fx_csr(key, NULL, &len);
	struct sign_request r = { .request_id = "token-1", .usage = "encryption", .csr_der = csr,
		.csr_len = len, .subject_name = "李大華", .subject_serial = "T000000001",
		.email = "li@example.gov.tw" };
	struct sign_result res;
	char err[SIGNER_ERR_LEN];

	assert_int_equal(signer_issue(s, &r, &res), 0);
	char *pem = xasprintf("%s/token-cert.pem", t->dir);
	assert_int_equal(fx_write_pem(pem, res.der, res.der_len), 0);
	assert_int_equal(fx_run("openssl verify -CAfile '%s/ca.pem' '%s' >/dev/null 2>&1",
	    t->dir, pem), 0);
	assert_int_equal(signer_revoke(s, "token-revoke-1", res.serial,
	    SIGNER_REASON_AFFILIATION_CHANGED, 0, err), 0);
	assert_int_equal(signer_crl_publish(s, SIGNER_CRL_COMPLETE, err), 0);
	assert_int_equal(fx_run("cd '%s' && openssl crl -in crl/ra.crl -inform DER -CAfile ca.pem "
	    "-noout 2>&1 | grep -q 'verify OK'", t->dir), 0);
	assert_int_not_equal(fx_run("cd '%s' && openssl verify -crl_check -CAfile ca.pem -CRLfile "
	    "crl/ra.crl.pem '%s' >/dev/null 2>&1", t->dir, pem), 0);

	free(pem);
	free(csr);
	EVP_PKEY_free(key);
	signer_result_clear(&res);
	signer_destroy(&s);
	config_destroy(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_token_issue_and_crl),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
