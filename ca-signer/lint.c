/*
 * lint.c: the pre-signing certificate check (see lint.h).
 *
 * Each rule reads the certificate as a relying party would (decoding the extensions,
 * not looking at the builder's inputs). Any failure is a refusal: the signer logs it and
 * signs nothing.
 */
#include "lint.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

/*
 * The fields the rules read, borrowed from an X509 (lint_tbs) or decoded from the DER
 * about to be signed (lint_der).
 */
struct lint_cert {
	long version;
	const ASN1_INTEGER *serial;
	const ASN1_TIME *not_before, *not_after;
	const unsigned char *issuer;	/* DER */
	int issuer_len;
	const X509_NAME *subject;
	const STACK_OF(X509_EXTENSION) *exts;
	const ASN1_OBJECT *key_alg;
	int key_ptype;
	const unsigned char *key;
	int key_len;
};

/* The extensions a subscriber certificate may carry, each at most once. */
static const int lint_allowed[] = {
	NID_basic_constraints, NID_key_usage, NID_ext_key_usage, NID_subject_key_identifier,
	NID_authority_key_identifier, NID_certificate_policies, NID_crl_distribution_points,
	NID_info_access, NID_subject_alt_name, NID_freshest_crl,
};

static int lint_serial(const struct lint_cert *c, char err[SIGNER_ERR_LEN])
{
	const ASN1_INTEGER *sn = c->serial;
	const unsigned char *d = ASN1_STRING_get0_data(sn);
	int n = ASN1_STRING_length(sn), zero = 1;

	if (ASN1_STRING_type(sn) != V_ASN1_INTEGER || n <= 0) {
		snprintf(err, SIGNER_ERR_LEN, "lint: serial number is not positive");
		return -1;
	}
	for (int i = 0; i < n; i++)
		zero &= d[i] == 0;
	/* DER adds a zero octet in front of a magnitude whose top bit is set. */
	if (zero || n + (d[0] & 0x80 ? 1 : 0) > 20) {
		snprintf(err, SIGNER_ERR_LEN, "lint: serial number is zero or longer than 20 octets");
		return -1;
	}
	return 0;
}

static int lint_validity(const profile_t *p, const struct lint_cert *c,
    char err[SIGNER_ERR_LEN])
{
	int days, secs;

	if (!c->not_before || !c->not_after ||
	    !ASN1_TIME_diff(&days, &secs, c->not_before, c->not_after) ||
	    days != profile_validity_days(p) || secs != 0) {
		snprintf(err, SIGNER_ERR_LEN, "lint: validity is not exactly %d days",
		    profile_validity_days(p));
		return -1;
	}
	return 0;
}

/* The issuer is the CA's subject, byte for byte (what a relying party's name chaining
 * compares at its strictest); the subject names a person and an account. */
static int lint_names(const profile_t *p, const struct lint_cert *c, char err[SIGNER_ERR_LEN])
{
	const X509_NAME *subj = c->subject;
	unsigned char *ca = NULL;
	int n = i2d_X509_NAME(X509_get_subject_name(profile_ca_cert(p)), &ca), same;

	same = n > 0 && c->issuer && c->issuer_len == n && memcmp(c->issuer, ca, (size_t)n) == 0;
	OPENSSL_free(ca);
	if (!same) {
		snprintf(err, SIGNER_ERR_LEN, "lint: issuer is not the CA's subject");
		return -1;
	}
	if (!subj || X509_NAME_entry_count(subj) == 0 ||
	    X509_NAME_get_index_by_NID(subj, NID_commonName, -1) < 0 ||
	    X509_NAME_get_index_by_NID(subj, NID_serialNumber, -1) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "lint: subject lacks commonName or serialNumber");
		return -1;
	}
	return 0;
}

static int lint_basic(const struct lint_cert *c, char err[SIGNER_ERR_LEN])
{
	int crit = -1;
	BASIC_CONSTRAINTS *bc = X509V3_get_d2i(c->exts, NID_basic_constraints, &crit, NULL);
	int ok = bc && crit == 1 && !bc->ca && !bc->pathlen;

	BASIC_CONSTRAINTS_free(bc);
	if (!ok)
		snprintf(err, SIGNER_ERR_LEN, "lint: basicConstraints is not critical CA:FALSE");
	return ok ? 0 : -1;
}

static int lint_key_usage(const struct lint_cert *c, enum profile_usage usage,
    char err[SIGNER_ERR_LEN])
{
	/* Bits of KeyUsage (RFC 5280 4.2.1.3) each usage must set; every other bit is clear. */
	static const int want[2][9] = {
		[PROFILE_SIGNATURE] = { 1, 1, 0, 0, 0, 0, 0, 0, 0 },
		[PROFILE_ENCRYPTION] = { 0, 0, 1, 1, 0, 0, 0, 0, 0 },
	};
	int crit = -1, ok;
	ASN1_BIT_STRING *ku = X509V3_get_d2i(c->exts, NID_key_usage, &crit, NULL);

	ok = ku && crit == 1;
	for (int bit = 0; ok && bit < 16; bit++)
		ok = ASN1_BIT_STRING_get_bit(ku, bit) == (bit < 9 ? want[usage][bit] : 0);
	ASN1_BIT_STRING_free(ku);
	if (!ok)
		snprintf(err, SIGNER_ERR_LEN, "lint: keyUsage is not critical or does not match "
		    "the %s usage", profile_usage_name(usage));
	return ok ? 0 : -1;
}

static int lint_eku(const struct lint_cert *c, enum profile_usage usage,
    char err[SIGNER_ERR_LEN])
{
	EXTENDED_KEY_USAGE *eku = X509V3_get_d2i(c->exts, NID_ext_key_usage, NULL, NULL);
	int n = eku ? sk_ASN1_OBJECT_num(eku) : 0, ok;
	int email = 0, client = 0, other = 0;

	for (int i = 0; i < n; i++) {
		int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
		if (nid == NID_email_protect)
			email++;
		else if (nid == NID_client_auth)
			client++;
		else
			other++;
	}
	EXTENDED_KEY_USAGE_free(eku);
	ok = email == 1 && other == 0 &&
	    client == (usage == PROFILE_SIGNATURE ? 1 : 0);
	if (!ok)
		snprintf(err, SIGNER_ERR_LEN, "lint: extendedKeyUsage does not match the %s usage",
		    profile_usage_name(usage));
	return ok ? 0 : -1;
}

static int lint_key_ids(const profile_t *p, const struct lint_cert *c,
    char err[SIGNER_ERR_LEN])
{
	AUTHORITY_KEYID *akid = X509V3_get_d2i(c->exts, NID_authority_key_identifier, NULL, NULL);
	ASN1_OCTET_STRING *skid = X509V3_get_d2i(c->exts, NID_subject_key_identifier, NULL, NULL);
	int ok = akid && akid->keyid && ASN1_OCTET_STRING_cmp(akid->keyid, profile_ca_keyid(p)) == 0;

	AUTHORITY_KEYID_free(akid);
	if (!ok) {
		snprintf(err, SIGNER_ERR_LEN, "lint: authorityKeyIdentifier does not match the CA's "
		    "key identifier");
		ASN1_OCTET_STRING_free(skid);
		return -1;
	}
	ok = skid && ASN1_STRING_length(skid) > 0;
	ASN1_OCTET_STRING_free(skid);
	if (!ok)
		snprintf(err, SIGNER_ERR_LEN, "lint: subjectKeyIdentifier is missing");
	return ok ? 0 : -1;
}

/*
 * certificatePolicies names one policy; its qualifiers, if any, are CPS pointers whose
 * value is an IA5String http(s) URL (user notices are not part of the profile).
 */
static int lint_policies(const struct lint_cert *c, char err[SIGNER_ERR_LEN])
{
	CERTIFICATEPOLICIES *pols = X509V3_get_d2i(c->exts, NID_certificate_policies, NULL, NULL);
	POLICYINFO *pi = pols && sk_POLICYINFO_num(pols) == 1 ? sk_POLICYINFO_value(pols, 0) : NULL;
	int ok = pi != NULL;

	for (int i = 0; ok && i < sk_POLICYQUALINFO_num(pi->qualifiers); i++) {
		POLICYQUALINFO *qi = sk_POLICYQUALINFO_value(pi->qualifiers, i);
		const char *u;
		int n;

		ok = OBJ_obj2nid(qi->pqualid) == NID_id_qt_cps && qi->d.cpsuri &&
		    ASN1_STRING_type(qi->d.cpsuri) == V_ASN1_IA5STRING;
		if (!ok)
			break;
		u = (const char *)ASN1_STRING_get0_data(qi->d.cpsuri);
		n = ASN1_STRING_length(qi->d.cpsuri);
		ok = (n > 7 && strncmp(u, "http://", 7) == 0) ||
		    (n > 8 && strncmp(u, "https://", 8) == 0);
		for (int j = 0; ok && j < n; j++)
			ok = u[j] > ' ' && u[j] < 0x7f;
	}
	CERTIFICATEPOLICIES_free(pols);
	if (!ok)
		snprintf(err, SIGNER_ERR_LEN, "lint: certificatePolicies is not one policy with "
		    "only CPS URL qualifiers");
	return ok ? 0 : -1;
}

static int lint_extension_set(const struct lint_cert *c, char err[SIGNER_ERR_LEN])
{
	int seen[sizeof lint_allowed / sizeof lint_allowed[0]] = { 0 };
	int n = sk_X509_EXTENSION_num(c->exts);

	for (int i = 0; i < n; i++) {
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(c->exts, i)));
		size_t j;
		for (j = 0; j < sizeof lint_allowed / sizeof lint_allowed[0]; j++)
			if (lint_allowed[j] == nid)
				break;
		if (j == sizeof lint_allowed / sizeof lint_allowed[0] || seen[j]++) {
			snprintf(err, SIGNER_ERR_LEN, "lint: extension %s is not in the profile or "
			    "appears twice", nid == NID_undef ? "(unknown)" : OBJ_nid2ln(nid));
			return -1;
		}
	}
	return 0;
}

/* The key is the CSR's, byte for byte, and an RSA key the profile accepts. */
static int lint_key(const profile_t *p, const struct lint_cert *c, const uint8_t *csr_key,
    size_t csr_key_len, char err[SIGNER_ERR_LEN])
{
	const unsigned char *q;
	int bits = 0, e65537 = 0;
	RSA *rsa;

	if (!c->key || (size_t)c->key_len != csr_key_len ||
	    memcmp(c->key, csr_key, csr_key_len) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "lint: the certificate's key is not the CSR's key");
		return -1;
	}
	q = c->key;
	rsa = d2i_RSAPublicKey(NULL, &q, c->key_len);
	if (rsa && q == c->key + c->key_len) {
		bits = RSA_bits(rsa);
		e65537 = RSA_get0_e(rsa) && BN_is_word(RSA_get0_e(rsa), 65537);
	}
	RSA_free(rsa);
	if (OBJ_obj2nid(c->key_alg) != NID_rsaEncryption || c->key_ptype != V_ASN1_NULL ||
	    !e65537 || bits < profile_min_bits(p) || bits > profile_max_bits(p)) {
		snprintf(err, SIGNER_ERR_LEN, "lint: key is not RSA of %d..%d bits with exponent "
		    "65537", profile_min_bits(p), profile_max_bits(p));
		return -1;
	}
	return 0;
}

static int lint_rules(const profile_t *p, const struct lint_cert *c, enum profile_usage usage,
    const uint8_t *csr_key, size_t csr_key_len, char err[SIGNER_ERR_LEN])
{
	if (c->version != X509_VERSION_3) {
		snprintf(err, SIGNER_ERR_LEN, "lint: certificate is not version 3");
		return -1;
	}
	if (lint_serial(c, err) < 0 || lint_validity(p, c, err) < 0 || lint_names(p, c, err) < 0 ||
	    lint_extension_set(c, err) < 0 || lint_basic(c, err) < 0 ||
	    lint_key_usage(c, usage, err) < 0 || lint_eku(c, usage, err) < 0 ||
	    lint_key_ids(p, c, err) < 0 || lint_policies(c, err) < 0 ||
	    lint_key(p, c, csr_key, csr_key_len, err) < 0)
		return -1;
	return 0;
}

int lint_tbs(const profile_t *p, X509 *x, enum profile_usage usage, const uint8_t *csr_key,
    size_t csr_key_len, char err[SIGNER_ERR_LEN])
{
	struct lint_cert c;
	X509_ALGOR *alg = NULL;
	unsigned char *issuer = NULL;
	int rc;

	memset(&c, 0, sizeof c);
	c.issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), &issuer);
	c.issuer = issuer;
	c.version = X509_get_version(x);
	c.serial = X509_get0_serialNumber(x);
	c.not_before = X509_get0_notBefore(x);
	c.not_after = X509_get0_notAfter(x);
	c.subject = X509_get_subject_name(x);
	c.exts = X509_get0_extensions(x);
	if (X509_PUBKEY_get0_param((ASN1_OBJECT **)&c.key_alg, &c.key, &c.key_len, &alg,
	    X509_get_X509_PUBKEY(x)))
		X509_ALGOR_get0(NULL, &c.key_ptype, NULL, alg);
	else
		c.key = NULL;
	rc = lint_rules(p, &c, usage, csr_key, csr_key_len, err);
	OPENSSL_free(issuer);
	ERR_clear_error();
	return rc;
}

/* One DER element at *P (not beyond END): its tag, content and extent; *P moves past it. */
struct lint_elem {
	const unsigned char *start, *content;
	long len;
	int tag, xclass, constructed;
};

static int lint_next(const unsigned char **p, const unsigned char *end, struct lint_elem *e)
{
	const unsigned char *q = *p;
	int r;

	if (q >= end)
		return -1;
	r = ASN1_get_object(&q, &e->len, &e->tag, &e->xclass, end - q);
	if (r & 0x80 || r & 0x01)	/* error, or an indefinite length */
		return -1;
	e->start = *p;
	e->content = q;
	e->constructed = (r & V_ASN1_CONSTRUCTED) != 0;
	*p = q + e->len;
	return 0;
}

static int lint_is(const struct lint_elem *e, int xclass, int tag, int constructed)
{
	return e->xclass == xclass && e->tag == tag && e->constructed == constructed;
}

#define LINT_SEQ(e) lint_is((e), V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, 1)
/* The whole element E decoded with D2I, which must take exactly all of it (else the object
 * is freed with FREE_FN): the object, or NULL. */
#define LINT_D2I(d2i, free_fn, e) ({ \
	const unsigned char *q_ = (e)->start, *end_ = (e)->content + (e)->len; \
	__typeof__(d2i(NULL, &q_, 0)) v_ = d2i(NULL, &q_, (long)(end_ - (e)->start)); \
	if (v_ && q_ != end_) { \
		free_fn(v_); \
		v_ = NULL; \
	} \
	v_; \
})

static void lint_exts_free(STACK_OF(X509_EXTENSION) *exts)
{
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

int lint_der(const profile_t *p, const uint8_t *tbs, size_t len, const uint8_t *sig_alg,
    size_t sig_alg_len, enum profile_usage usage, const uint8_t *csr_key, size_t csr_key_len,
    X509_NAME **subject, char err[SIGNER_ERR_LEN])
{
	static const unsigned char v3[] = { 0x02, 0x01, 0x02 };
	const unsigned char *q = tbs, *end = tbs + len, *r, *rend;
	struct lint_elem outer, e, alg, bits, val, exts_elem;
	struct lint_cert c;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *nb = NULL, *na = NULL;
	X509_NAME *subj = NULL;
	X509_ALGOR *key_alg = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const ASN1_OBJECT *obj;
	int rc = -1;

	memset(&c, 0, sizeof c);
	if (subject)
		*subject = NULL;
	/* TBSCertificate ::= SEQUENCE { [0] EXPLICIT version, serialNumber, signature, issuer,
	 * validity, subject, subjectPublicKeyInfo, [3] EXPLICIT extensions }: no unique ids,
	 * nothing after the extensions, nothing after the SEQUENCE. */
	if (lint_next(&q, end, &outer) < 0 || !LINT_SEQ(&outer) || q != end)
		goto bad;
	q = outer.content;
	end = q + outer.len;
	if (lint_next(&q, end, &e) < 0)
		goto bad;
	if (lint_is(&e, V_ASN1_CONTEXT_SPECIFIC, 0, 1)) {
		c.version = -1;
		if (e.len == (long)sizeof v3 && memcmp(e.content, v3, sizeof v3) == 0)
			c.version = X509_VERSION_3;
		if (lint_next(&q, end, &e) < 0)
			goto bad;
	} else {
		c.version = X509_VERSION_1;
	}
	if (!lint_is(&e, V_ASN1_UNIVERSAL, V_ASN1_INTEGER, 0) ||
	    !(serial = LINT_D2I(d2i_ASN1_INTEGER, ASN1_INTEGER_free, &e)))
		goto bad;
	c.serial = serial;
	if (lint_next(&q, end, &e) < 0 || !LINT_SEQ(&e))
		goto bad;
	if ((size_t)(e.content + e.len - e.start) != sig_alg_len ||
	    memcmp(e.start, sig_alg, sig_alg_len) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "lint: the signature algorithm is not the CA key's");
		goto out;
	}
	if (lint_next(&q, end, &e) < 0 || !LINT_SEQ(&e))
		goto bad;
	c.issuer = e.start;
	c.issuer_len = (int)(e.content + e.len - e.start);
	if (lint_next(&q, end, &e) < 0 || !LINT_SEQ(&e))
		goto bad;
	r = e.content;
	rend = r + e.len;
	if (lint_next(&r, rend, &val) < 0 || !(nb = LINT_D2I(d2i_ASN1_TIME, ASN1_TIME_free, &val)) ||
	    lint_next(&r, rend, &val) < 0 || !(na = LINT_D2I(d2i_ASN1_TIME, ASN1_TIME_free, &val)) || r != rend)
		goto bad;
	c.not_before = nb;
	c.not_after = na;
	if (lint_next(&q, end, &e) < 0 || !LINT_SEQ(&e) || !(subj = LINT_D2I(d2i_X509_NAME, X509_NAME_free, &e)))
		goto bad;
	c.subject = subj;
	/* SubjectPublicKeyInfo: read as it stands (no key decoder: lint_key reads the key). */
	if (lint_next(&q, end, &e) < 0 || !LINT_SEQ(&e))
		goto bad;
	r = e.content;
	rend = r + e.len;
	if (lint_next(&r, rend, &alg) < 0 || !LINT_SEQ(&alg) ||
	    !(key_alg = LINT_D2I(d2i_X509_ALGOR, X509_ALGOR_free, &alg)) || lint_next(&r, rend, &bits) < 0 ||
	    !lint_is(&bits, V_ASN1_UNIVERSAL, V_ASN1_BIT_STRING, 0) || bits.len < 2 ||
	    bits.content[0] != 0 || r != rend)
		goto bad;
	X509_ALGOR_get0(&obj, &c.key_ptype, NULL, key_alg);
	c.key_alg = obj;
	c.key = bits.content + 1;
	c.key_len = (int)bits.len - 1;
	if (lint_next(&q, end, &e) < 0 || !lint_is(&e, V_ASN1_CONTEXT_SPECIFIC, 3, 1) || q != end)
		goto bad;
	r = e.content;
	rend = r + e.len;
	if (lint_next(&r, rend, &exts_elem) < 0 || !LINT_SEQ(&exts_elem) || r != rend ||
	    !(exts = LINT_D2I(d2i_X509_EXTENSIONS, lint_exts_free, &exts_elem)))
		goto bad;
	c.exts = exts;
	if (lint_rules(p, &c, usage, csr_key, csr_key_len, err) < 0)
		goto out;
	if (subject) {
		*subject = subj;
		subj = NULL;
	}
	rc = 0;
	goto out;
bad:
	snprintf(err, SIGNER_ERR_LEN, "lint: the certificate is not a well-formed DER "
	    "TBSCertificate of a version 3 certificate with extensions");
out:
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	X509_NAME_free(subj);
	X509_ALGOR_free(key_alg);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return rc;
}
