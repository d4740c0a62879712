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

/* The extensions a subscriber certificate may carry, each at most once. */
static const int lint_allowed[] = {
	NID_basic_constraints, NID_key_usage, NID_ext_key_usage, NID_subject_key_identifier,
	NID_authority_key_identifier, NID_certificate_policies, NID_crl_distribution_points,
	NID_info_access, NID_subject_alt_name, NID_freshest_crl,
};

static int lint_serial(X509 *x, char err[SIGNER_ERR_LEN])
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
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

static int lint_validity(const profile_t *p, X509 *x, char err[SIGNER_ERR_LEN])
{
	int days, secs;

	if (!ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)) ||
	    days != profile_validity_days(p) || secs != 0) {
		snprintf(err, SIGNER_ERR_LEN, "lint: validity is not exactly %d days",
		    profile_validity_days(p));
		return -1;
	}
	return 0;
}

static int lint_names(const profile_t *p, X509 *x, char err[SIGNER_ERR_LEN])
{
	const X509_NAME *subj = X509_get_subject_name(x);

	if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(profile_ca_cert(p))) != 0) {
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

static int lint_basic(X509 *x, char err[SIGNER_ERR_LEN])
{
	int crit = -1;
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	int ok = bc && crit == 1 && !bc->ca && !bc->pathlen;

	BASIC_CONSTRAINTS_free(bc);
	if (!ok)
		snprintf(err, SIGNER_ERR_LEN, "lint: basicConstraints is not critical CA:FALSE");
	return ok ? 0 : -1;
}

static int lint_key_usage(X509 *x, enum profile_usage usage, char err[SIGNER_ERR_LEN])
{
	/* Bits of KeyUsage (RFC 5280 4.2.1.3) each usage must set; every other bit is clear. */
	static const int want[2][9] = {
		[PROFILE_SIGNATURE] = { 1, 1, 0, 0, 0, 0, 0, 0, 0 },
		[PROFILE_ENCRYPTION] = { 0, 0, 1, 1, 0, 0, 0, 0, 0 },
	};
	int crit = -1, ok;
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);

	ok = ku && crit == 1;
	for (int bit = 0; ok && bit < 16; bit++)
		ok = ASN1_BIT_STRING_get_bit(ku, bit) == (bit < 9 ? want[usage][bit] : 0);
	ASN1_BIT_STRING_free(ku);
	if (!ok)
		snprintf(err, SIGNER_ERR_LEN, "lint: keyUsage is not critical or does not match "
		    "the %s usage", profile_usage_name(usage));
	return ok ? 0 : -1;
}

static int lint_eku(X509 *x, enum profile_usage usage, char err[SIGNER_ERR_LEN])
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
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

static int lint_key_ids(const profile_t *p, X509 *x, char err[SIGNER_ERR_LEN])
{
	AUTHORITY_KEYID *akid = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	ASN1_OCTET_STRING *skid = X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
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
static int lint_policies(X509 *x, char err[SIGNER_ERR_LEN])
{
	CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
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

static int lint_extension_set(X509 *x, char err[SIGNER_ERR_LEN])
{
	int seen[sizeof lint_allowed / sizeof lint_allowed[0]] = { 0 };
	int n = X509_get_ext_count(x);

	for (int i = 0; i < n; i++) {
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(x, i)));
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
static int lint_key(const profile_t *p, X509 *x, const uint8_t *csr_key, size_t csr_key_len,
    char err[SIGNER_ERR_LEN])
{
	const ASN1_OBJECT *obj;
	const unsigned char *pk, *q;
	X509_ALGOR *alg;
	int pklen, ptype, bits = 0, e65537 = 0;
	RSA *rsa;

	if (!X509_PUBKEY_get0_param((ASN1_OBJECT **)&obj, &pk, &pklen, &alg,
	    X509_get_X509_PUBKEY(x)) || (size_t)pklen != csr_key_len ||
	    memcmp(pk, csr_key, csr_key_len) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "lint: the certificate's key is not the CSR's key");
		return -1;
	}
	X509_ALGOR_get0(NULL, &ptype, NULL, alg);
	q = pk;
	rsa = d2i_RSAPublicKey(NULL, &q, pklen);
	if (rsa) {
		bits = RSA_bits(rsa);
		e65537 = RSA_get0_e(rsa) && BN_is_word(RSA_get0_e(rsa), 65537);
	}
	RSA_free(rsa);
	if (OBJ_obj2nid(obj) != NID_rsaEncryption || ptype != V_ASN1_NULL || !e65537 ||
	    bits < profile_min_bits(p) || bits > profile_max_bits(p)) {
		snprintf(err, SIGNER_ERR_LEN, "lint: key is not RSA of %d..%d bits with exponent "
		    "65537", profile_min_bits(p), profile_max_bits(p));
		return -1;
	}
	return 0;
}

int lint_tbs(const profile_t *p, X509 *x, enum profile_usage usage, const uint8_t *csr_key,
    size_t csr_key_len, char err[SIGNER_ERR_LEN])
{
	int rc = -1;

	if (X509_get_version(x) != X509_VERSION_3) {
		snprintf(err, SIGNER_ERR_LEN, "lint: certificate is not version 3");
		goto out;
	}
	if (lint_serial(x, err) < 0 || lint_validity(p, x, err) < 0 || lint_names(p, x, err) < 0 ||
	    lint_extension_set(x, err) < 0 || lint_basic(x, err) < 0 ||
	    lint_key_usage(x, usage, err) < 0 || lint_eku(x, usage, err) < 0 ||
	    lint_key_ids(p, x, err) < 0 || lint_policies(x, err) < 0 || lint_key(p, x, csr_key, csr_key_len, err) < 0)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	return rc;
}
