/*
 * cmd_export.c: `card-station export --reader NAME [--out DIR] [--ca FILE] [--lang en]`:
 * the card's two certificates and the CA chain as PEM files, for the subscriber's new
 * computer (with PIV the operating system reads the card itself; the files are for
 * programs that want the certificates imported, as the old service's browser step did).
 *
 * Files: DIR/card-SERIAL-signature.pem (9C), DIR/card-SERIAL-encryption.pem (9D),
 * DIR/ca-chain.pem (the CA certificate from --ca, else the configuration's signer.cert).
 * Nothing here needs a PIN or the back office: certificates are public. Each certificate
 * is checked to be issued by the CA exported with it before anything is written, so the
 * subscriber never carries away a set that `openssl verify` would refuse.
 */
#include "station.h"
#include "subscriber.h"

#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pem.h"
#include "util.h"

/* Write X as PEM to PATH atomically. 0/-1. */
static int export_write(const char *path, X509 *x)
{
	char *pem = pem_cert_text(x);
	int rc = pem ? file_write_atomic(path, pem, strlen(pem), 0644) : -1;

	free(pem);
	if (rc < 0)
		log_err("cannot write %s", path);
	return rc;
}

/* The CA certificates of PATH (one or more PEM). NULL if none (logged). */
static STACK_OF(X509_INFO) *export_chain(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	STACK_OF(X509_INFO) *chain = b ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (!chain || sk_X509_INFO_num(chain) == 0 || !sk_X509_INFO_value(chain, 0)->x509) {
		log_err("no CA certificate in %s (give --ca FILE)", path);
		sk_X509_INFO_pop_free(chain, X509_INFO_free);
		return NULL;
	}
	return chain;
}

/* 1 if X was signed by one of CHAIN's certificates. */
static int export_issued_by(X509 *x, STACK_OF(X509_INFO) *chain)
{
	for (int i = 0; i < sk_X509_INFO_num(chain); i++) {
		X509 *ca = sk_X509_INFO_value(chain, i)->x509;
		if (ca && X509_check_issued(ca, x) == X509_V_OK && X509_verify(x, X509_get0_pubkey(ca)) == 1)
			return 1;
	}
	return 0;
}

int cmd_export(struct station *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "ca", required_argument, NULL, 'C' },
		{ "lang", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { uint8_t slot; const char *name; } slots[2] = {
		{ PIV_SLOT_SIGN, "signature" }, { PIV_SLOT_KEYMGMT, "encryption" },
	};
	const char *reader = NULL, *dir = ".", *ca_opt = NULL;
	struct sub s = { 0 };
	STACK_OF(X509_INFO) *chain = NULL;
	X509 *certs[2] = { NULL, NULL };
	char *ca_path = NULL, *path = NULL;
	int c, bad = 0, ret = 1;
	piv_rc rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:o:C:l:", opts, NULL)) != -1) {
		if (c == 'r')
			reader = optarg;
		else if (c == 'o')
			dir = optarg;
		else if (c == 'C')
			ca_opt = optarg;
		else if (c == 'l' && sub_lang_parse(optarg, &s.lang) == 0)
			continue;
		else
			bad = 1;	/* an unknown option, or a --lang that is neither */
	}
	if (bad || !reader || optind != argc) {
		log_err("usage: card-station export --reader NAME [--out DIR] [--ca FILE] [--lang zh-TW|en]");
		return 2;
	}
	ca_path = ca_opt ? xstrdup(ca_opt) : config_path(st->cfg, "signer.cert");
	if (!(chain = export_chain(ca_path)))
		goto out;
	if (sub_open(&s, st, reader) < 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		rc = piv_read_cert(s.p, slots[i].slot, &certs[i]);
		if (rc == PIV_E_NOT_FOUND) {
			sub_say(&s, SUB_NOT_PERSONALIZED);
			goto out;
		}
		if (rc != PIV_OK) {
			sub_say(&s, SUB_CARD_ERROR, piv_strerror(rc));
			goto out;
		}
		if (!export_issued_by(certs[i], chain)) {
			log_err("card %s: the %s certificate was not issued by the CA in %s", s.serial_text,
			    slots[i].name, ca_path);
			goto out;
		}
	}
	if (mkdir_p(dir, 0755) < 0) {
		log_err("cannot make %s", dir);
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		free(path);
		path = xasprintf("%s/card-%s-%s.pem", dir, s.serial_text, slots[i].name);
		if (export_write(path, certs[i]) < 0)
			goto out;
		sub_say(&s, SUB_EXPORTED, path);
	}
	{
		char *text = xstrdup("");
		free(path);
		path = xasprintf("%s/ca-chain.pem", dir);
		for (int i = 0; i < sk_X509_INFO_num(chain); i++) {
			char *one = sk_X509_INFO_value(chain, i)->x509 ?
			    pem_cert_text(sk_X509_INFO_value(chain, i)->x509) : NULL, *t;
			t = xasprintf("%s%s", text, one ? one : "");
			free(text);
			free(one);
			text = t;
		}
		c = file_write_atomic(path, text, strlen(text), 0644);
		free(text);
		if (c < 0) {
			log_err("cannot write %s", path);
			goto out;
		}
		sub_say(&s, SUB_EXPORTED, path);
	}
	ret = 0;
out:
	X509_free(certs[0]);
	X509_free(certs[1]);
	sk_X509_INFO_pop_free(chain, X509_INFO_free);
	free(ca_path);
	free(path);
	sub_close(&s);
	return ret;
}
