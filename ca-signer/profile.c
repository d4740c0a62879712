/*
 * profile.c: the subscriber certificate profile (see profile.h).
 *
 * Rules kept here: validity is the configured number of days from now; the subject is
 * C and O from the configuration plus CN and serialNumber from the subscriber record;
 * the extensions are exactly basicConstraints (CA:FALSE, critical), keyUsage (critical,
 * by usage), extendedKeyUsage (by usage), subjectKeyIdentifier, authorityKeyIdentifier,
 * certificatePolicies (the policy OID with the CPS address as a qualifier), cRLDistributionPoints, authorityInfoAccess and, with an e-mail
 * address, subjectAltName. Nothing is ever copied from a CSR.
 */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"


struct profile {
	int validity_days, min_bits, max_bits;
	char *c, *o;
	X509 *ca;
	ASN1_OCTET_STRING *ca_keyid;
	/* basicConstraints first; then per usage keyUsage and extendedKeyUsage. */
	X509_EXTENSION *basic;
	X509_EXTENSION *ku[2], *eku[2];
	X509_EXTENSION *akid, *policies, *crldp, *aia;	/* crldp, aia may be NULL */
	X509_EXTENSION *freshest;	/* Freshest CRL (delta CRLs); may be NULL */
	/* The template (profile_tbs), encoded once from the fields above: the issuer name;
	 * the subject's C and O RDNs; per usage basicConstraints, keyUsage and
	 * extendedKeyUsage; then authorityKeyIdentifier, certificatePolicies and the
	 * CRL, Freshest CRL and AIA pointers there are. */
	struct profile_der {
		uint8_t *p;
		size_t len, cap;
	} tpl_issuer, tpl_subject_co, tpl_ext_usage[2], tpl_ext_rest;
};

int profile_usage_parse(const char *text)
{
	if (!text)
		return -1;
	if (strcmp(text, "signature") == 0)
		return PROFILE_SIGNATURE;
	if (strcmp(text, "encryption") == 0)
		return PROFILE_ENCRYPTION;
	return -1;
}

const char *profile_usage_name(enum profile_usage u)
{
	return u == PROFILE_SIGNATURE ? "signature" : "encryption";
}

/* Decode one UTF-8 sequence at S; the code point, or -1 when malformed (overlong,
 * surrogate, beyond U+10FFFF, truncated). *n gets its length. */
static long profile_utf8_next(const unsigned char *s, int *n)
{
	long cp;
	int len, i;

	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return -1;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*n = len;
	return cp;
}

static int profile_printable(long cp)
{
	return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') ||
	    (cp && strchr(" '()+,-./:=?", (int)cp));
}

int profile_check_name(const char *what, const char *value, int printable,
    char err[SIGNER_ERR_LEN])
{
	const unsigned char *s = (const unsigned char *)value;
	int chars = 0, n;
	long cp;

	if (!value || !*value) {
		snprintf(err, SIGNER_ERR_LEN, "%s is empty", what);
		return -1;
	}
	for (; *s; s += n, chars++) {
		cp = profile_utf8_next(s, &n);
		if (cp < 0) {
			snprintf(err, SIGNER_ERR_LEN, "%s is not valid UTF-8 (at byte %d)", what,
			    (int)(s - (const unsigned char *)value));
			return -1;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			snprintf(err, SIGNER_ERR_LEN, "%s contains a control character (U+%04lX)",
			    what, cp);
			return -1;
		}
		if (printable && !profile_printable(cp)) {
			snprintf(err, SIGNER_ERR_LEN, "%s may hold only letters, digits, space and "
			    "' ( ) + , - . / : = ?", what);
			return -1;
		}
	}
	if (chars > PROFILE_NAME_MAX) {
		snprintf(err, SIGNER_ERR_LEN, "%s has %d characters; at most %d are allowed", what,
		    chars, PROFILE_NAME_MAX);
		return -1;
	}
	return 0;
}

static int profile_label_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int profile_check_email(const char *email, char err[SIGNER_ERR_LEN])
{
	const char *at, *p;
	size_t len;
	int dots = 0;

	len = strlen(email);
	at = strchr(email, '@');
	if (len > 254 || !at || at == email || at - email > 64 || strchr(at + 1, '@'))
		goto bad;
	for (p = email; p < at; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"(),:;<>[\\]", *p))
			goto bad;
	/* Domain: LDH labels separated by single dots, at least two labels. */
	p = at + 1;
	if (!*p || *p == '.' || *p == '-')
		goto bad;
	for (; *p; p++) {
		if (*p == '.') {
			if (p[1] == '\0' || p[1] == '.' || p[-1] == '-' || p[1] == '-')
				goto bad;
			dots++;
		} else if (!profile_label_char(*p)) {
			goto bad;
		}
	}
	if (dots == 0 || p[-1] == '-')
		goto bad;
	return 0;
bad:
	snprintf(err, SIGNER_ERR_LEN, "e-mail address is not a plain ASCII local@domain address");
	return -1;
}

/* URLs go into the extension text syntax, where ',' separates values: keep them plain. */
static int profile_check_url(const char *key, const char *url, char err[SIGNER_ERR_LEN])
{
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "ldap://", 7) != 0)
		goto bad;
	for (const char *p = url; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ',')
			goto bad;
	return 0;
bad:
	snprintf(err, SIGNER_ERR_LEN, "%s: \"%s\" is not an http://, https:// or ldap:// URL "
	    "without spaces or commas", key, url);
	return -1;
}

static X509_EXTENSION *profile_ext(int nid, const char *value, char err[SIGNER_ERR_LEN])
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, NULL, NULL, NULL, NULL, 0);
	X509V3_set_ctx_nodb(&ctx);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		snprintf(err, SIGNER_ERR_LEN, "cannot encode %s = %s", OBJ_nid2ln(nid), value);
	ERR_clear_error();
	return ext;
}

/* The CA's key identifier: its SKI if it has one, else SHA-1 of its public key. */
static ASN1_OCTET_STRING *profile_keyid(X509 *ca)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;
	ASN1_OCTET_STRING *out;

	if (ski)
		return ASN1_OCTET_STRING_dup(ski);
	if (!X509_pubkey_digest(ca, EVP_sha1(), md, &len) || !(out = ASN1_OCTET_STRING_new()))
		return NULL;
	if (!ASN1_OCTET_STRING_set(out, md, (int)len)) {
		ASN1_OCTET_STRING_free(out);
		return NULL;
	}
	return out;
}

static X509_EXTENSION *profile_akid(const ASN1_OCTET_STRING *keyid)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	X509_EXTENSION *ext = NULL;

	if (akid && (akid->keyid = ASN1_OCTET_STRING_dup(keyid)))
		ext = X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid);
	AUTHORITY_KEYID_free(akid);
	return ext;
}

/*
 * certificatePolicies with one policy OID and, when CPS is not empty, one CPS pointer
 * qualifier (RFC 5280 4.2.1.4: an IA5String URI) so a relying party finds the practice
 * statement the certificate was issued under.
 */
static X509_EXTENSION *profile_policies(const char *oid, const char *cps,
    char err[SIGNER_ERR_LEN])
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	POLICYQUALINFO *qi = NULL;
	X509_EXTENSION *ext = NULL;

	if (!pols || !pi)
		goto out;
	ASN1_OBJECT_free(pi->policyid);
	if (!(pi->policyid = OBJ_txt2obj(oid, 1))) {
		snprintf(err, SIGNER_ERR_LEN, "signer.policy_oid: \"%s\" is not a dotted OID", oid);
		goto out;
	}
	if (*cps) {
		if (!(pi->qualifiers = sk_POLICYQUALINFO_new_null()) ||
		    !(qi = POLICYQUALINFO_new()) ||
		    !(qi->pqualid = OBJ_nid2obj(NID_id_qt_cps)) ||
		    !(qi->d.cpsuri = ASN1_IA5STRING_new()) ||
		    !ASN1_STRING_set(qi->d.cpsuri, cps, (int)strlen(cps)) ||
		    !sk_POLICYQUALINFO_push(pi->qualifiers, qi))
			goto out;
		qi = NULL;
	}
	if (!sk_POLICYINFO_push(pols, pi))
		goto out;
	pi = NULL;
	ext = X509V3_EXT_i2d(NID_certificate_policies, 0, pols);
	if (!ext)
		snprintf(err, SIGNER_ERR_LEN, "cannot encode the certificate policies");
out:
	POLICYQUALINFO_free(qi);
	POLICYINFO_free(pi);
	sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
	ERR_clear_error();
	return ext;
}

static int profile_build_exts(profile_t *p, const config_t *cfg, char err[SIGNER_ERR_LEN])
{
	const char *policy = config_str(cfg, "signer.policy_oid");
	const char *cps = config_str(cfg, "signer.cps_url");
	const char *crl = config_str(cfg, "signer.crl_url");
	const char *delta = config_str(cfg, "signer.delta_crl_url");
	const char *ocsp = config_str(cfg, "signer.ocsp_url");
	const char *issuers = config_str(cfg, "signer.ca_issuers_url");
	char *aia = NULL;
	int rc = -1;

	if ((*crl && profile_check_url("signer.crl_url", crl, err) < 0) ||
	    (*delta && profile_check_url("signer.delta_crl_url", delta, err) < 0) ||
	    (*ocsp && profile_check_url("signer.ocsp_url", ocsp, err) < 0) ||
	    (*issuers && profile_check_url("signer.ca_issuers_url", issuers, err) < 0) ||
	    (*cps && profile_check_url("signer.cps_url", cps, err) < 0))
		goto out;
	if (!(p->basic = profile_ext(NID_basic_constraints, "critical,CA:FALSE", err)) ||
	    !(p->ku[PROFILE_SIGNATURE] = profile_ext(NID_key_usage,
		"critical,digitalSignature,nonRepudiation", err)) ||
	    !(p->ku[PROFILE_ENCRYPTION] = profile_ext(NID_key_usage,
		"critical,keyEncipherment,dataEncipherment", err)) ||
	    !(p->eku[PROFILE_SIGNATURE] = profile_ext(NID_ext_key_usage,
		"emailProtection,clientAuth", err)) ||
	    !(p->eku[PROFILE_ENCRYPTION] = profile_ext(NID_ext_key_usage, "emailProtection", err)) ||
	    !(p->policies = profile_policies(policy, cps, err)))
		goto out;
	if (!(p->akid = profile_akid(p->ca_keyid))) {
		snprintf(err, SIGNER_ERR_LEN, "cannot encode the authority key identifier");
		goto out;
	}
	if (*crl) {
		char *v = xasprintf("URI:%s", crl);
		p->crldp = profile_ext(NID_crl_distribution_points, v, err);
		free(v);
		if (!p->crldp)
			goto out;
	} else {
		log_warn("signer.crl_url is empty: certificates will name no CRL distribution point");
	}
	if (*delta) {
		char *v = xasprintf("URI:%s", delta);
		p->freshest = profile_ext(NID_freshest_crl, v, err);
		free(v);
		if (!p->freshest)
			goto out;
	}
	if (*issuers || *ocsp) {
		aia = xasprintf("%s%s%s%s%s", *issuers ? "caIssuers;URI:" : "", issuers,
		    *issuers && *ocsp ? "," : "", *ocsp ? "OCSP;URI:" : "", ocsp);
		if (!(p->aia = profile_ext(NID_info_access, aia, err)))
			goto out;
	}
	rc = 0;
out:
	free(aia);
	return rc;
}

/*
 * The certificate template: what profile_build encodes into every certificate of a usage,
 * encoded here once. profile_tbs puts a TBSCertificate together from these bytes and the
 * request's own parts, without building an X509 (whose every field, the issuer name and
 * each extension above all, OpenSSL would copy and then encode again for each
 * certificate). test_signer_template checks that both give the same bytes.
 */
static void der_put(struct profile_der *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 64;
		b->p = xrealloc(b->p, b->cap);
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* A tag and a definite length (DER: the shortest form). */
static void der_tl(struct profile_der *b, uint8_t tag, size_t len)
{
	uint8_t h[6];
	size_t n = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else if (len < 0x100) {
		h[n++] = 0x81;
		h[n++] = (uint8_t)len;
	} else if (len < 0x10000) {
		h[n++] = 0x82;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else {
		h[n++] = 0x83;
		h[n++] = (uint8_t)(len >> 16);
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	}
	der_put(b, h, n);
}

/* The size of a tag and length for LEN bytes of content, plus the content. */
static size_t der_size(size_t len)
{
	return 1 + (len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4) + len;
}

/*
 * The Certificate: TBS, the signature AlgorithmIdentifier SIG_ALG and the signature as a
 * BIT STRING (no unused bits), in one SEQUENCE. Malloc'd, *LEN bytes.
 */
uint8_t *profile_cert(const uint8_t *tbs, size_t tbs_len, const uint8_t *sig_alg,
    size_t sig_alg_len, const uint8_t *sig, size_t sig_len, size_t *len)
{
	struct profile_der b = { 0 };
	uint8_t unused = 0;

	der_tl(&b, 0x30, tbs_len + sig_alg_len + der_size(sig_len + 1));
	der_put(&b, tbs, tbs_len);
	der_put(&b, sig_alg, sig_alg_len);
	der_tl(&b, 0x03, sig_len + 1);
	der_put(&b, &unused, 1);
	der_put(&b, sig, sig_len);
	*len = b.len;
	return b.p;
}

/* An X509_EXTENSION's DER, appended to B. 0/-1. */
static int der_ext(struct profile_der *b, const X509_EXTENSION *ext)
{
	unsigned char *der = NULL;
	int n = i2d_X509_EXTENSION((X509_EXTENSION *)ext, &der);

	if (n <= 0)
		return -1;
	der_put(b, der, (size_t)n);
	OPENSSL_free(der);
	return 0;
}

/* The constant bytes, encoded by OpenSSL from the profile's own objects. 0/-1. */
static int profile_template(profile_t *p)
{
	X509_NAME *co = X509_NAME_new();
	unsigned char *der = NULL;
	const unsigned char *q;
	long len;
	int n, tag, xclass, rc = -1;

	n = i2d_X509_NAME(X509_get_subject_name(p->ca), &der);
	if (n <= 0)
		goto out;
	der_put(&p->tpl_issuer, der, (size_t)n);
	OPENSSL_free(der);
	der = NULL;
	/* The subject's first two RDNs, C and O, as profile_subject writes them. */
	if (!co || !X509_NAME_add_entry_by_NID(co, NID_countryName, MBSTRING_UTF8,
	    (const unsigned char *)p->c, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_NID(co, NID_organizationName, MBSTRING_UTF8,
	    (const unsigned char *)p->o, -1, -1, 0) ||
	    (n = i2d_X509_NAME(co, &der)) <= 0)
		goto out;
	q = der;
	if (ASN1_get_object(&q, &len, &tag, &xclass, n) & 0x80 || tag != V_ASN1_SEQUENCE ||
	    q + len != der + n)
		goto out;
	der_put(&p->tpl_subject_co, q, (size_t)len);
	for (int u = 0; u < 2; u++)
		if (der_ext(&p->tpl_ext_usage[u], p->basic) < 0 ||
		    der_ext(&p->tpl_ext_usage[u], p->ku[u]) < 0 ||
		    der_ext(&p->tpl_ext_usage[u], p->eku[u]) < 0)
			goto out;
	if (der_ext(&p->tpl_ext_rest, p->akid) < 0 || der_ext(&p->tpl_ext_rest, p->policies) < 0 ||
	    (p->crldp && der_ext(&p->tpl_ext_rest, p->crldp) < 0) ||
	    (p->freshest && der_ext(&p->tpl_ext_rest, p->freshest) < 0) ||
	    (p->aia && der_ext(&p->tpl_ext_rest, p->aia) < 0))
		goto out;
	rc = 0;
out:
	OPENSSL_free(der);
	X509_NAME_free(co);
	ERR_clear_error();
	return rc;
}

/* UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), as ASN1_TIME_set. */
static int der_time(struct profile_der *b, time_t t)
{
	struct tm tm;
	char s[20];
	int n;

	if (!gmtime_r(&t, &tm))
		return -1;
	if (tm.tm_year >= 50 && tm.tm_year < 150)
		n = snprintf(s, sizeof s, "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else if (tm.tm_year >= -1900 && tm.tm_year < 10000 - 1900)
		n = snprintf(s, sizeof s, "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		return -1;
	der_tl(b, n == 13 ? V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME, (size_t)n);
	der_put(b, s, (size_t)n);
	return 0;
}

/* One RDN of one attribute: SET { SEQUENCE { OID, string of TAG } }. */
static void der_rdn(struct profile_der *b, const uint8_t *oid, size_t oid_len, uint8_t tag,
    const char *value)
{
	size_t vlen = strlen(value), atv = oid_len + der_size(vlen);

	der_tl(b, V_ASN1_SET | V_ASN1_CONSTRUCTED, der_size(atv));
	der_tl(b, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, atv);
	der_put(b, oid, oid_len);
	der_tl(b, tag, vlen);
	der_put(b, value, vlen);
}

int profile_tbs(const profile_t *p, enum profile_usage usage, const uint8_t *sig_alg,
    size_t sig_alg_len, const uint8_t *key, size_t key_len, const char *cn,
    const char *subject_serial, const char *email, const ASN1_INTEGER *serial, time_t now,
    uint8_t **out, size_t *out_len, char err[SIGNER_ERR_LEN])
{
	/* OIDs, with their tag and length: commonName, serialNumber, subjectKeyIdentifier,
	 * subjectAltName; the SubjectPublicKeyInfo's AlgorithmIdentifier (RFC 3279). */
	static const uint8_t oid_cn[] = { 0x06, 0x03, 0x55, 0x04, 0x03 };
	static const uint8_t oid_sn[] = { 0x06, 0x03, 0x55, 0x04, 0x05 };
	static const uint8_t oid_skid[] = { 0x06, 0x03, 0x55, 0x1d, 0x0e };
	static const uint8_t oid_san[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };
	static const uint8_t rsa_alg[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
	    0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };
	static const uint8_t v3[] = { 0xa0, 0x03, 0x02, 0x01, 0x02 };
	struct profile_der b = { 0 }, v = { 0 }, t = { 0 };
	unsigned char skid[SHA_DIGEST_LENGTH], *sn_der = NULL;
	size_t mail_len = email && *email ? strlen(email) : 0, exts;
	int sn_len, rc = -1;

	*out = NULL;
	*out_len = 0;
	if ((sn_len = i2d_ASN1_INTEGER((ASN1_INTEGER *)serial, &sn_der)) <= 0 ||
	    !SHA1(key, key_len, skid))
		goto out;
	/* Variable parts first, each to its own buffer: validity (V), subject (T). */
	if (der_time(&t, now) < 0 ||
	    der_time(&t, now + (time_t)p->validity_days * 86400) < 0)
		goto out;
	der_tl(&v, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, t.len);
	der_put(&v, t.p, t.len);
	t.len = 0;
	der_put(&t, p->tpl_subject_co.p, p->tpl_subject_co.len);
	der_rdn(&t, oid_cn, sizeof oid_cn, V_ASN1_UTF8STRING, cn);
	der_rdn(&t, oid_sn, sizeof oid_sn, V_ASN1_PRINTABLESTRING, subject_serial);

	/* TBSCertificate's contents into B. */
	der_put(&b, v3, sizeof v3);
	der_put(&b, sn_der, (size_t)sn_len);
	der_put(&b, sig_alg, sig_alg_len);
	der_put(&b, p->tpl_issuer.p, p->tpl_issuer.len);
	der_put(&b, v.p, v.len);
	der_tl(&b, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, t.len);
	der_put(&b, t.p, t.len);
	der_tl(&b, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED,
	    sizeof rsa_alg + der_size(key_len + 1));
	der_put(&b, rsa_alg, sizeof rsa_alg);
	der_tl(&b, V_ASN1_BIT_STRING, key_len + 1);
	der_put(&b, "", 1);		/* no unused bits */
	der_put(&b, key, key_len);
	/* [3] { Extensions }: the usage's, subjectKeyIdentifier, the rest, subjectAltName. */
	exts = p->tpl_ext_usage[usage].len +
	    der_size(sizeof oid_skid + der_size(der_size(sizeof skid))) + p->tpl_ext_rest.len +
	    (mail_len ? der_size(sizeof oid_san + der_size(der_size(der_size(mail_len)))) : 0);
	der_tl(&b, 0xa3, der_size(exts));
	der_tl(&b, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, exts);
	der_put(&b, p->tpl_ext_usage[usage].p, p->tpl_ext_usage[usage].len);
	der_tl(&b, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, sizeof oid_skid +
	    der_size(der_size(sizeof skid)));
	der_put(&b, oid_skid, sizeof oid_skid);
	der_tl(&b, V_ASN1_OCTET_STRING, der_size(sizeof skid));
	der_tl(&b, V_ASN1_OCTET_STRING, sizeof skid);
	der_put(&b, skid, sizeof skid);
	der_put(&b, p->tpl_ext_rest.p, p->tpl_ext_rest.len);
	if (mail_len) {
		der_tl(&b, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, sizeof oid_san +
		    der_size(der_size(der_size(mail_len))));
		der_put(&b, oid_san, sizeof oid_san);
		der_tl(&b, V_ASN1_OCTET_STRING, der_size(der_size(mail_len)));
		der_tl(&b, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, der_size(mail_len));
		der_tl(&b, 0x81, mail_len);	/* [1] IMPLICIT IA5String: rfc822Name */
		der_put(&b, email, mail_len);
	}
	/* The TBSCertificate SEQUENCE around it. */
	t.len = 0;
	der_tl(&t, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, b.len);
	der_put(&t, b.p, b.len);
	*out = t.p;
	*out_len = t.len;
	t.p = NULL;
	rc = 0;
out:
	if (rc < 0)
		snprintf(err, SIGNER_ERR_LEN, "cannot build the certificate");
	OPENSSL_free(sn_der);
	free(b.p);
	free(v.p);
	free(t.p);
	ERR_clear_error();
	return rc;
}

profile_t *profile_new(const config_t *cfg, X509 *ca_cert, char err[SIGNER_ERR_LEN])
{
	profile_t *p = xcalloc(1, sizeof *p);
	const char *c = config_str(cfg, "signer.subject_c");
	const char *o = config_str(cfg, "signer.subject_o");

	p->validity_days = (int)config_int(cfg, "signer.validity_days");
	p->min_bits = (int)config_int(cfg, "signer.min_rsa_bits");
	p->max_bits = (int)config_int(cfg, "signer.max_rsa_bits");
	if (p->min_bits > p->max_bits) {
		snprintf(err, SIGNER_ERR_LEN, "signer.min_rsa_bits (%d) is above signer.max_rsa_bits "
		    "(%d)", p->min_bits, p->max_bits);
		goto fail;
	}
	if (strlen(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
		snprintf(err, SIGNER_ERR_LEN, "signer.subject_c: \"%s\" is not a two-letter "
		    "upper-case country code", c);
		goto fail;
	}
	if (profile_check_name("signer.subject_o", o, 0, err) < 0)
		goto fail;
	p->c = xstrdup(c);
	p->o = xstrdup(o);
	if (!X509_up_ref(ca_cert))
		goto fail;
	p->ca = ca_cert;
	if (!(p->ca_keyid = profile_keyid(ca_cert))) {
		snprintf(err, SIGNER_ERR_LEN, "cannot compute the CA key identifier");
		goto fail;
	}
	if (profile_build_exts(p, cfg, err) < 0)
		goto fail;
	if (profile_template(p) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot encode the certificate template");
		goto fail;
	}
	return p;
fail:
	profile_destroy(&p);
	return NULL;
}

void profile_destroy(profile_t **pp)
{
	profile_t *p;

	if (!pp || !*pp)
		return;
	p = *pp;
	free(p->c);
	free(p->o);
	X509_free(p->ca);
	ASN1_OCTET_STRING_free(p->ca_keyid);
	X509_EXTENSION_free(p->basic);
	for (int i = 0; i < 2; i++) {
		X509_EXTENSION_free(p->ku[i]);
		X509_EXTENSION_free(p->eku[i]);
	}
	X509_EXTENSION_free(p->akid);
	X509_EXTENSION_free(p->policies);
	X509_EXTENSION_free(p->crldp);
	X509_EXTENSION_free(p->aia);
	X509_EXTENSION_free(p->freshest);
	free(p->tpl_issuer.p);
	free(p->tpl_subject_co.p);
	free(p->tpl_ext_usage[0].p);
	free(p->tpl_ext_usage[1].p);
	free(p->tpl_ext_rest.p);
	free(p);
	*pp = NULL;
}

int profile_validity_days(const profile_t *p) { return p->validity_days; }
const X509_EXTENSION *profile_freshest_crl(const profile_t *p) { return p->freshest; }
int profile_min_bits(const profile_t *p) { return p->min_bits; }
int profile_max_bits(const profile_t *p) { return p->max_bits; }
X509 *profile_ca_cert(const profile_t *p) { return p->ca; }
const ASN1_OCTET_STRING *profile_ca_keyid(const profile_t *p) { return p->ca_keyid; }

/* The subject, written straight into the certificate's own (empty) name: building it
 * apart and setting it would copy it once more, by encoding and decoding it. 0/-1. */
static int profile_subject(const profile_t *p, X509_NAME *name, const char *cn, const char *sn)
{
	/* MBSTRING_UTF8 lets OpenSSL's string table pick each attribute's type:
	 * PrintableString for C and serialNumber, UTF8String for O and CN. */
	if (!name ||
	    !X509_NAME_add_entry_by_NID(name, NID_countryName, MBSTRING_UTF8,
		(const unsigned char *)p->c, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
		(const unsigned char *)p->o, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
		(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_UTF8,
		(const unsigned char *)sn, -1, -1, 0))
		return -1;
	return 0;
}

/* subjectKeyIdentifier: RFC 5280 method 1, SHA-1 of the subjectPublicKey bits. */
static int profile_add_skid(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;
	ASN1_OCTET_STRING *oct = ASN1_OCTET_STRING_new();
	int ok;

	ok = oct && X509_pubkey_digest(x, EVP_sha1(), md, &len) &&
	    ASN1_OCTET_STRING_set(oct, md, (int)len) &&
	    X509_add1_ext_i2d(x, NID_subject_key_identifier, oct, 0, X509V3_ADD_APPEND) == 1;
	ASN1_OCTET_STRING_free(oct);
	return ok ? 0 : -1;
}

/* Built from structures, not the text syntax, so that no address can inject values. */
static int profile_add_san(X509 *x, const char *email)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	int ok = 0;

	if (!gens || !g || !ia5 || !ASN1_STRING_set(ia5, email, (int)strlen(email)))
		goto out;
	GENERAL_NAME_set0_value(g, GEN_EMAIL, ia5);
	ia5 = NULL;
	if (!sk_GENERAL_NAME_push(gens, g))
		goto out;
	g = NULL;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_APPEND) == 1;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(g);
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

/*
 * The subject's SubjectPublicKeyInfo, set from its parts: X509_set_pubkey would run the
 * key through OpenSSL 3.0's encoder framework, which costs more than half a signature.
 * RFC 3279: rsaEncryption with NULL parameters.
 */
static int profile_set_key(X509 *x, const uint8_t *key, size_t key_len)
{
	unsigned char *copy = OPENSSL_memdup(key, key_len);

	if (!copy || !X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
	    OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, NULL, copy, (int)key_len)) {
		OPENSSL_free(copy);
		return -1;
	}
	return 0;
}

X509 *profile_build(const profile_t *p, enum profile_usage usage, const uint8_t *key,
    size_t key_len,
    const char *cn, const char *subject_serial, const char *email,
    const ASN1_INTEGER *serial, time_t now, char err[SIGNER_ERR_LEN])
{
	X509 *x = X509_new();
	time_t until = now + (time_t)p->validity_days * 86400;

	if (!x || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, (ASN1_INTEGER *)serial) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(p->ca)) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), now) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), until) ||
	    profile_set_key(x, key, key_len) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot build the certificate");
		goto fail;
	}
	if (profile_subject(p, X509_get_subject_name(x), cn, subject_serial) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot encode the subject name");
		goto fail;
	}
	if (!X509_add_ext(x, p->basic, -1) || !X509_add_ext(x, p->ku[usage], -1) ||
	    !X509_add_ext(x, p->eku[usage], -1) || profile_add_skid(x) < 0 ||
	    !X509_add_ext(x, p->akid, -1) || !X509_add_ext(x, p->policies, -1) ||
	    (p->crldp && !X509_add_ext(x, p->crldp, -1)) ||
	    (p->freshest && !X509_add_ext(x, p->freshest, -1)) ||
	    (p->aia && !X509_add_ext(x, p->aia, -1)) ||
	    (email && *email && profile_add_san(x, email) < 0)) {
		snprintf(err, SIGNER_ERR_LEN, "cannot add the certificate extensions");
		goto fail;
	}
	return x;
fail:
	ERR_clear_error();
	X509_free(x);
	return NULL;
}
