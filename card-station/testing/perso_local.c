/*
 * perso_local.c: cs-perso-local, personalization against a local throw-away CA.
 *
 * The integration tests and a bench demo need a card personalized end to end without the
 * back office. This program runs the same perso_run() sequence as card-station, with an
 * issue callback that signs the two requests with a CA key and certificate from files
 * (made with openssl in the test's temp dir). It is a test tool: its CA does no profile
 * checks beyond proof of possession.
 *
 *   cs-perso-local --reader NAME --ca-cert FILE --ca-key FILE --master-key FILE
 *                  --pin-file FILE [--mgm-alg aes128|3des] [--cn NAME] [--days N]
 *                  [--key-alg rsa2048|p256]
 */
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derive.h"
#include "log.h"
#include "pcsc.h"
#include "../personalize.h"
#include "piv.h"
#include "util.h"

struct local_ca {
	X509 *cert;
	EVP_PKEY *key;
	int days;
};

static int local_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* Sign one request (DER) into a certificate (DER, malloc'd) with KEY_USAGE. 0/-1. */
static int local_sign(struct local_ca *ca, const uint8_t *der, size_t len, const char *key_usage,
    uint8_t **out, size_t *olen)
{
	const uint8_t *q = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &q, (long)len);
	X509 *c = X509_new();
	BIGNUM *sn = BN_new();
	time_t now = ra_now();	/* the one clock */
	EVP_PKEY *pub;
	uint8_t *buf = NULL;
	int n, ret = -1;

	*out = NULL;
	if (!req || !c || !sn)
		goto out;
	pub = X509_REQ_get0_pubkey(req);
	if (!pub || X509_REQ_verify(req, pub) != 1) {
		log_err("local CA: request signature does not verify");
		goto out;
	}
	if (!BN_rand(sn, 64, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(sn, X509_get_serialNumber(c)) || !X509_set_version(c, 2) ||
	    !X509_set_issuer_name(c, X509_get_subject_name(ca->cert)) ||
	    !X509_set_subject_name(c, X509_REQ_get_subject_name(req)) || !X509_set_pubkey(c, pub) ||
	    !X509_time_adj(X509_getm_notBefore(c), 0, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(c), ca->days, 0, &now) ||
	    !local_ext(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !local_ext(c, ca->cert, NID_key_usage, key_usage) ||
	    !local_ext(c, ca->cert, NID_subject_key_identifier, "hash") ||
	    !local_ext(c, ca->cert, NID_authority_key_identifier, "keyid") ||
	    !X509_sign(c, ca->key, EVP_sha256()))
		goto out;
	n = i2d_X509(c, &buf);
	if (n <= 0)
		goto out;
	*out = xmalloc((size_t)n);
	memcpy(*out, buf, (size_t)n);
	*olen = (size_t)n;
	ret = 0;
out:
	OPENSSL_free(buf);
	BN_free(sn);
	X509_free(c);
	X509_REQ_free(req);
	return ret;
}

static int local_issue(void *ctx, uint32_t serial, const uint8_t *sreq, size_t slen,
    const uint8_t *ereq, size_t elen, uint8_t **scert, size_t *sclen, uint8_t **ecert,
    size_t *eclen)
{
	struct local_ca *ca = ctx;

	log_info("local CA: issuing for card %u", serial);
	if (local_sign(ca, sreq, slen, "critical,digitalSignature,nonRepudiation", scert, sclen) < 0)
		return -1;
	if (local_sign(ca, ereq, elen, "critical,keyEncipherment,dataEncipherment", ecert, eclen) < 0) {
		free(*scert);
		*scert = NULL;
		return -1;
	}
	return 0;
}

/* Read a PIN from FILE: the first line, digits only. 0/-1. */
static int local_read_pin(const char *file, char *pin, size_t cap)
{
	size_t len = 0, n;
	char *text = file_read(file, &len);
	int ret = -1;

	if (!text) {
		log_err("cannot read PIN file %s", file);
		return -1;
	}
	n = strcspn(text, "\r\n");
	if (n < cap) {
		memcpy(pin, text, n);
		pin[n] = '\0';
		ret = piv_pin_valid(pin) ? 0 : -1;
	}
	if (ret < 0)
		log_err("PIN file %s: the PIN must be 6 to 8 digits", file);
	OPENSSL_cleanse(text, len);
	free(text);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "ca-cert", required_argument, NULL, 'C' },
		{ "ca-key", required_argument, NULL, 'K' },
		{ "master-key", required_argument, NULL, 'm' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "mgm-alg", required_argument, NULL, 'a' },
		{ "cn", required_argument, NULL, 'n' },
		{ "days", required_argument, NULL, 'd' },
		{ "key-alg", required_argument, NULL, 'k' },
		{ "puk-retries", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reader = NULL, *cafile = NULL, *keyfile = NULL, *master = NULL, *pinfile = NULL;
	struct local_ca ca = { .days = 365 };
	struct perso_opts po = { 0 };
	char pin[16] = "";
	derive_t *d = NULL;
	pcsc_t *pc = NULL;
	piv_t *p = NULL;
	FILE *f;
	int c, alg = DERIVE_MGM_AES128, ret = 1;
	uint32_t serial = 0;
	piv_rc rc;

	log_init("cs-perso-local", LV_INFO);
	while ((c = getopt_long(argc, argv, "r:C:K:m:p:a:n:d:k:u:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': reader = optarg; break;
		case 'C': cafile = optarg; break;
		case 'K': keyfile = optarg; break;
		case 'm': master = optarg; break;
		case 'p': pinfile = optarg; break;
		case 'n': po.common_name = optarg; break;
		case 'd': ca.days = atoi(optarg); break;
		case 'u': po.puk_retries = atoi(optarg); break;
		case 'v': log_set_level(LV_DEBUG); break;
		case 'k':
			if (strcmp(optarg, "rsa2048") == 0)
				po.key_alg = PIV_ALG_RSA2048;
			else if (strcmp(optarg, "p256") == 0)
				po.key_alg = PIV_ALG_ECCP256;
			else {
				log_err("--key-alg: want rsa2048 or p256");
				return 2;
			}
			break;
		case 'a':
			alg = derive_mgm_alg_parse(optarg);
			if (alg < 0) {
				log_err("--mgm-alg: want aes128 or 3des");
				return 2;
			}
			break;
		case 'h':
			printf("usage: cs-perso-local --reader NAME --ca-cert FILE --ca-key FILE "
			       "--master-key FILE --pin-file FILE [--mgm-alg aes128|3des] [--cn NAME] "
			       "[--days N] [--key-alg rsa2048|p256] [--puk-retries N]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!reader || !cafile || !keyfile || !master || !pinfile || ca.days < 1) {
		log_err("missing options (see --help)");
		return 2;
	}
	if (!(f = fopen(cafile, "r")) || !(ca.cert = PEM_read_X509(f, NULL, NULL, NULL))) {
		log_err("cannot read CA certificate %s", cafile);
		goto out;
	}
	fclose(f);
	if (!(f = fopen(keyfile, "r")) || !(ca.key = PEM_read_PrivateKey(f, NULL, NULL, NULL))) {
		log_err("cannot read CA key %s", keyfile);
		goto out;
	}
	fclose(f);
	f = NULL;
	if (local_read_pin(pinfile, pin, sizeof pin) < 0 || !(d = derive_new(master)))
		goto out;
	if (!(pc = pcsc_new(&rc)) || (rc = piv_open(pc, reader, &p)) != PIV_OK) {
		log_err("%s: %s", reader, piv_strerror(rc));
		goto out;
	}
	po.derive = d;
	po.mgm_alg = (enum derive_mgm_alg)alg;
	po.pin = pin;
	po.issue = local_issue;
	po.issue_ctx = &ca;
	po.progress = NULL;
	rc = perso_run(p, &po, &serial);
	if (rc != PIV_OK)
		goto out;
	printf("%s: card %u personalized\n", reader, serial);
	ret = 0;
out:
	OPENSSL_cleanse(pin, sizeof pin);
	piv_close(&p);
	pcsc_destroy(&pc);
	derive_destroy(&d);
	X509_free(ca.cert);
	EVP_PKEY_free(ca.key);
	return ret;
}
