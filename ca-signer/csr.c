/*
 * csr.c: PKCS#10 parsing and proof of possession (see csr.h).
 *
 * The request is walked element by element (RFC 2986: CertificationRequest ::= SEQUENCE
 * { certificationRequestInfo, signatureAlgorithm, signature }) instead of going through
 * d2i_X509_REQ: OpenSSL 3.0 decodes a SubjectPublicKeyInfo through its generic decoder
 * framework, which costs about as much as half an RSA signature, and the signer's rate
 * target leaves no room for that. The RSA key is read with the PKCS#1 decoder directly.
 *
 * The DER must be one complete request and nothing else: trailing bytes, indefinite
 * lengths and elements out of place are refused, so that two different byte strings never
 * pass as the same request. Key checks come before the signature check so that a weak or
 * foreign key is reported as such.
 */
#include "csr.h"
#include "digest.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

/* One DER element: its tag, where its content is, and where it starts. */
struct csr_elem {
	const unsigned char *start, *content;
	long len;		/* of the content */
	int tag, xclass, constructed;
};

/* Read the element at *P (not beyond END) and move *P past it. 0/-1. */
static int csr_next(const unsigned char **p, const unsigned char *end, struct csr_elem *e)
{
	const unsigned char *q = *p;
	int r;

	if (q >= end)
		return -1;
	r = ASN1_get_object(&q, &e->len, &e->tag, &e->xclass, end - q);
	if (r & 0x80 || r & 0x01)	/* error, or indefinite length (BER, not DER) */
		return -1;
	e->start = *p;
	e->content = q;
	e->constructed = (r & V_ASN1_CONSTRUCTED) != 0;
	*p = q + e->len;
	return 0;
}

static int csr_is(const struct csr_elem *e, int tag, int constructed)
{
	return e->xclass == V_ASN1_UNIVERSAL && e->tag == tag && e->constructed == constructed;
}

/* An AlgorithmIdentifier: its NID, and whether its parameters are absent or NULL. */
static int csr_algorithm(const struct csr_elem *e, int *nid, int *null_params)
{
	const unsigned char *p = e->start;
	X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, e->content + e->len - e->start);
	const ASN1_OBJECT *obj;
	int ptype;

	if (!alg || p != e->content + e->len) {
		X509_ALGOR_free(alg);
		return -1;
	}
	X509_ALGOR_get0(&obj, &ptype, NULL, alg);
	*nid = OBJ_obj2nid(obj);
	*null_params = ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL;
	X509_ALGOR_free(alg);
	return 0;
}

/* The content of a BIT STRING with no unused bits. */
static int csr_bits(const struct csr_elem *e, const unsigned char **data, size_t *len)
{
	if (!csr_is(e, V_ASN1_BIT_STRING, 0) || e->len < 2 || e->content[0] != 0)
		return -1;
	*data = e->content + 1;
	*len = (size_t)e->len - 1;
	return 0;
}

struct csr_parts {
	struct csr_elem info, sigalg, sig, spki_alg, spki_bits;
	struct csr_elem ext_req;	/* the extensionRequest attribute's value set, if any */
};

/* Split the request into the parts the signer uses; -1 on anything malformed. */
static int csr_split(const uint8_t *der, size_t len, struct csr_parts *pt, size_t *trailing)
{
	const unsigned char *p = der, *end = der + len, *q, *qend;
	struct csr_elem outer, e;

	*trailing = 0;
	if (csr_next(&p, end, &outer) < 0 || !csr_is(&outer, V_ASN1_SEQUENCE, 1))
		return -1;
	if (p != end) {
		*trailing = (size_t)(end - p);
		return -1;
	}
	q = outer.content;
	qend = q + outer.len;
	if (csr_next(&q, qend, &pt->info) < 0 || !csr_is(&pt->info, V_ASN1_SEQUENCE, 1) ||
	    csr_next(&q, qend, &pt->sigalg) < 0 || !csr_is(&pt->sigalg, V_ASN1_SEQUENCE, 1) ||
	    csr_next(&q, qend, &pt->sig) < 0 || q != qend)
		return -1;

	/* CertificationRequestInfo: version 0, subject (not used), SPKI, [0] attributes. */
	q = pt->info.content;
	qend = q + pt->info.len;
	if (csr_next(&q, qend, &e) < 0 || !csr_is(&e, V_ASN1_INTEGER, 0) || e.len != 1 ||
	    e.content[0] != 0)
		return -1;
	if (csr_next(&q, qend, &e) < 0 || !csr_is(&e, V_ASN1_SEQUENCE, 1))
		return -1;
	if (csr_next(&q, qend, &e) < 0 || !csr_is(&e, V_ASN1_SEQUENCE, 1))
		return -1;
	{
		const unsigned char *s = e.content, *send = e.content + e.len;
		if (csr_next(&s, send, &pt->spki_alg) < 0 ||
		    !csr_is(&pt->spki_alg, V_ASN1_SEQUENCE, 1) ||
		    csr_next(&s, send, &pt->spki_bits) < 0 || s != send)
			return -1;
	}
	if (q < qend) {
		if (csr_next(&q, qend, &e) < 0 || e.xclass != V_ASN1_CONTEXT_SPECIFIC || e.tag != 0 ||
		    !e.constructed)
			return -1;
		/* Attributes are ignored by design, but must still be well-formed elements. */
		const unsigned char *a = e.content, *aend = e.content + e.len;
		struct csr_elem attr;
		while (a < aend) {
			const unsigned char *v;
			struct csr_elem oid, set;
			if (csr_next(&a, aend, &attr) < 0 || !csr_is(&attr, V_ASN1_SEQUENCE, 1))
				return -1;
			v = attr.content;
			if (csr_next(&v, attr.content + attr.len, &oid) < 0 || !csr_is(&oid, V_ASN1_OBJECT, 0) ||
			    csr_next(&v, attr.content + attr.len, &set) < 0 || !csr_is(&set, V_ASN1_SET, 1))
				return -1;
			/* 1.2.840.113549.1.9.14 extensionRequest */
			static const unsigned char ext_req_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e };
			if (oid.len == (long)sizeof ext_req_oid && memcmp(oid.content, ext_req_oid, sizeof ext_req_oid) == 0)
				pt->ext_req = set;
		}
	}
	return q == qend ? 0 : -1;
}

/*
 * What a request asks for is never copied into a certificate, but a request that asks to
 * be a CA (basicConstraints CA:TRUE, keyUsage keyCertSign or cRLSign) is refused outright:
 * it is either a mistake or an attempt, and the operator should hear of it.
 */
static int csr_check_requested(const struct csr_parts *pt, char err[SIGNER_ERR_LEN])
{
	const unsigned char *p = pt->ext_req.content;
	STACK_OF(X509_EXTENSION) *exts;
	int rc = 0;

	if (!pt->ext_req.content)
		return 0;
	/* the SET holds one Extensions SEQUENCE */
	exts = d2i_X509_EXTENSIONS(NULL, &p, pt->ext_req.len);
	if (!exts || p != pt->ext_req.content + pt->ext_req.len) {
		snprintf(err, SIGNER_ERR_LEN, "CSR's extensionRequest attribute is malformed");
		rc = -1;
		goto out;
	}
	for (int i = 0; i < sk_X509_EXTENSION_num(exts) && rc == 0; i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		if (nid == NID_basic_constraints) {
			BASIC_CONSTRAINTS *bc = X509V3_EXT_d2i(ext);
			int ca = bc && bc->ca;
			BASIC_CONSTRAINTS_free(bc);
			if (ca) {
				snprintf(err, SIGNER_ERR_LEN, "CSR asks for a CA certificate (basicConstraints "
				    "CA:TRUE): out of profile, subscriber certificates are never CAs");
				rc = -1;
			}
		} else if (nid == NID_key_usage) {
			ASN1_BIT_STRING *ku = X509V3_EXT_d2i(ext);
			int bad = ku && (ASN1_BIT_STRING_get_bit(ku, 5) || ASN1_BIT_STRING_get_bit(ku, 6));
			ASN1_BIT_STRING_free(ku);
			if (bad) {
				snprintf(err, SIGNER_ERR_LEN, "CSR asks for keyCertSign or cRLSign: out of "
				    "profile, subscriber certificates never sign certificates or CRLs");
				rc = -1;
			}
		}
	}
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* RSA with exponent 65537 and an acceptable size. */
static int csr_check_key(const struct csr_parts *pt, int min_bits, int max_bits,
    struct csr *out, char err[SIGNER_ERR_LEN])
{
	const unsigned char *bits, *p;
	size_t nbits;
	int nid, null_params;
	RSA *rsa = NULL;
	const BIGNUM *e;

	if (csr_algorithm(&pt->spki_alg, &nid, &null_params) < 0 ||
	    csr_bits(&pt->spki_bits, &bits, &nbits) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "CSR public key is malformed");
		return -1;
	}
	if (nid != NID_rsaEncryption || !null_params) {
		snprintf(err, SIGNER_ERR_LEN, "CSR key is %s, not RSA: only RSA keys are certified",
		    nid == NID_undef ? "of an unknown type" : OBJ_nid2sn(nid));
		return -1;
	}
	p = bits;
	rsa = d2i_RSAPublicKey(NULL, &p, (long)nbits);
	if (!rsa || p != bits + nbits) {
		RSA_free(rsa);
		snprintf(err, SIGNER_ERR_LEN, "CSR RSA public key is malformed");
		return -1;
	}
	out->pub = EVP_PKEY_new();
	if (!out->pub || !EVP_PKEY_assign_RSA(out->pub, rsa)) {
		RSA_free(rsa);
		snprintf(err, SIGNER_ERR_LEN, "out of memory");
		return -1;
	}
	out->key_der = bits;
	out->key_len = nbits;
	out->bits = RSA_bits(rsa);
	if (out->bits < min_bits) {
		snprintf(err, SIGNER_ERR_LEN, "CSR RSA key has %d bits; at least %d are required",
		    out->bits, min_bits);
		return -1;
	}
	if (out->bits > max_bits) {
		snprintf(err, SIGNER_ERR_LEN, "CSR RSA key has %d bits; at most %d are accepted",
		    out->bits, max_bits);
		return -1;
	}
	e = RSA_get0_e(rsa);
	if (!e || !BN_is_word(e, 65537)) {
		snprintf(err, SIGNER_ERR_LEN, "CSR RSA public exponent is not 65537");
		return -1;
	}
	return 0;
}

/* The self-signature must use SHA-256 or stronger: SHA-1 proofs are forgeable in principle. */
static const EVP_MD *csr_sig_md(const struct csr_elem *alg, char err[SIGNER_ERR_LEN])
{
	int nid, null_params;

	if (csr_algorithm(alg, &nid, &null_params) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "CSR signature algorithm is malformed");
		return NULL;
	}
	if (null_params) {
		switch (nid) {
		case NID_sha256WithRSAEncryption: return EVP_sha256();
		case NID_sha384WithRSAEncryption: return EVP_sha384();
		case NID_sha512WithRSAEncryption: return EVP_sha512();
		default: break;
		}
	}
	snprintf(err, SIGNER_ERR_LEN, "CSR is signed with %s; SHA-256 or stronger with RSA "
	    "(PKCS#1 v1.5) is required", nid == NID_undef ? "an unknown algorithm" : OBJ_nid2ln(nid));
	return NULL;
}

/*
 * One digest of MD (one of csr_sig_md's) with the digest's own functions (digest.h): through
 * EVP, or OpenSSL 3's one-shot SHA256() and the like, the digest is looked up in the
 * provider's store every time. 0/-1.
 */
static int csr_digest(const EVP_MD *md, const unsigned char *data, size_t len,
    unsigned char *out, unsigned int *out_len)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha256:
		*out_len = SHA256_DIGEST_LENGTH;
		return digest_sha256(data, len, out);
	case NID_sha384:
		*out_len = SHA384_DIGEST_LENGTH;
		return digest_sha384(data, len, out);
	case NID_sha512:
		*out_len = SHA512_DIGEST_LENGTH;
		return digest_sha512(data, len, out);
	default:
		return EVP_Digest(data, len, out, out_len, md, NULL) == 1 ? 0 : -1;
	}
}

/*
 * Proof of possession: the request's signature (PKCS#1 v1.5, the only kind csr_sig_md
 * accepts) verified with the request's own key. RSA_verify on the key itself, after one
 * digest: the EVP_DigestVerify route does the same check but first hands the key to a
 * provider, which cost a fifth as much again as the check itself, on every request.
 */
static int csr_verify(const struct csr_parts *pt, const EVP_MD *md, EVP_PKEY *pub)
{
	const unsigned char *sig;
	unsigned char dgst[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	size_t siglen;
	const RSA *rsa = EVP_PKEY_get0_RSA(pub);
	int ok;

	ok = rsa && csr_bits(&pt->sig, &sig, &siglen) == 0 && siglen <= INT_MAX &&
	    csr_digest(md, pt->info.start,
		(size_t)(pt->info.content + pt->info.len - pt->info.start), dgst, &dlen) == 0 &&
	    RSA_verify(EVP_MD_get_type(md), dgst, dlen, sig, (unsigned int)siglen,
		(RSA *)rsa) == 1;
	return ok ? 0 : -1;
}

/*
 * The SubjectPublicKeyInfo of an RSA key, built around its PKCS#1 encoding by hand: the
 * generic encoder (i2d_PUBKEY) costs as much as the decoder the file avoids, and for RSA
 * the algorithm identifier is fixed (rsaEncryption, NULL parameters).
 */
static unsigned char *csr_rsa_spki(const RSA *rsa, size_t *len)
{
	static const unsigned char alg[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };
	unsigned char *pk = NULL, *buf, *q;
	int n = i2d_RSAPublicKey(rsa, &pk), inner, total;

	if (n <= 0)
		return NULL;
	inner = (int)sizeof alg + ASN1_object_size(0, n + 1, V_ASN1_BIT_STRING);
	total = ASN1_object_size(1, inner, V_ASN1_SEQUENCE);
	q = buf = OPENSSL_malloc((size_t)total);
	if (buf) {
		ASN1_put_object(&q, 1, inner, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
		memcpy(q, alg, sizeof alg);
		q += sizeof alg;
		ASN1_put_object(&q, 0, n + 1, V_ASN1_BIT_STRING, V_ASN1_UNIVERSAL);
		*q++ = 0;
		memcpy(q, pk, (size_t)n);
		*len = (size_t)total;
	}
	OPENSSL_free(pk);
	return buf;
}

int csr_key_sha256(const uint8_t *der, size_t len, uint8_t out[32])
{
	struct csr_parts pt;
	const unsigned char *bits, *p;
	unsigned char *spki = NULL;
	size_t nbits, trailing, n = 0;
	int nid, null_params, rc = -1;
	RSA *rsa = NULL;

	memset(&pt, 0, sizeof pt);
	if (!der || len == 0 || len > CSR_MAX_LEN || csr_split(der, len, &pt, &trailing) < 0 ||
	    csr_algorithm(&pt.spki_alg, &nid, &null_params) < 0 || nid != NID_rsaEncryption ||
	    csr_bits(&pt.spki_bits, &bits, &nbits) < 0)
		goto out;
	p = bits;
	if (!(rsa = d2i_RSAPublicKey(NULL, &p, (long)nbits)) || p != bits + nbits)
		goto out;
	if (!(spki = csr_rsa_spki(rsa, &n)))
		goto out;
	if (digest_sha256(spki, n, out) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_free(spki);
	RSA_free(rsa);
	ERR_clear_error();
	return rc;
}

void csr_clear(struct csr *c)
{
	if (!c)
		return;
	EVP_PKEY_free(c->pub);
	memset(c, 0, sizeof *c);
}

int csr_parse(const uint8_t *der, size_t len, int min_bits, int max_bits, struct csr *out,
    char err[SIGNER_ERR_LEN])
{
	struct csr_parts pt;
	const EVP_MD *md;
	size_t trailing;
	int rc = -1;

	memset(&pt, 0, sizeof pt);
	memset(out, 0, sizeof *out);
	if (!der || len == 0) {
		snprintf(err, SIGNER_ERR_LEN, "no CSR given");
		goto out;
	}
	if (len > CSR_MAX_LEN) {
		snprintf(err, SIGNER_ERR_LEN, "CSR is %zu bytes; at most %d are accepted", len,
		    CSR_MAX_LEN);
		goto out;
	}
	if (csr_split(der, len, &pt, &trailing) < 0) {
		if (trailing)
			snprintf(err, SIGNER_ERR_LEN, "CSR has %zu trailing bytes after the request",
			    trailing);
		else
			snprintf(err, SIGNER_ERR_LEN, "CSR is not a valid DER PKCS#10 request");
		goto out;
	}
	if (csr_check_key(&pt, min_bits, max_bits, out, err) < 0)
		goto out;
	if (csr_check_requested(&pt, err) < 0)
		goto out;
	if (!(md = csr_sig_md(&pt.sigalg, err)))
		goto out;
	if (csr_verify(&pt, md, out->pub) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "CSR signature does not verify with its own key "
		    "(no proof of possession)");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	if (rc < 0)
		csr_clear(out);
	return rc;
}
