/*
 * pem.c: see pem.h. PEM is written and read through OpenSSL's generic PEM_write_bio /
 * PEM_read_bio, so one function serves certificates, requests and CRLs alike.
 */
#include "pem.h"
#include "util.h"

#include <openssl/pem.h>
#include <string.h>

/* What was written to memory BIO B, as a NUL-terminated string; frees B. */
static char *pem_bio_text(BIO *b, int ok)
{
	char *data, *out = NULL;
	long n;

	if (b && ok) {
		n = BIO_get_mem_data(b, &data);
		out = xmalloc((size_t)n + 1);
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

char *pem_encode(const char *label, const uint8_t *der, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	return pem_bio_text(b, b && len > 0 && PEM_write_bio(b, label, "", der, (long)len) > 0);
}

/* Whether a PEM block named NAME is what LABEL asks for. */
static int pem_label_is(const char *name, const char *label)
{
	return strcmp(name, label) == 0 || (strcmp(label, "CERTIFICATE REQUEST") == 0 &&
	    strcmp(name, "NEW CERTIFICATE REQUEST") == 0);
}

uint8_t *pem_decode(const char *text, const char *label, size_t *len)
{
	BIO *b = BIO_new_mem_buf(text, -1);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	uint8_t *out = NULL;
	long n = 0;

	/* Blocks of other kinds before it are passed over, as OpenSSL's typed readers do. */
	while (b && !out && PEM_read_bio(b, &name, &header, &data, &n) == 1) {
		if (n > 0 && pem_label_is(name, label)) {
			out = xmalloc((size_t)n);
			memcpy(out, data, (size_t)n);
			*len = (size_t)n;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	BIO_free(b);
	return out;
}

X509 *pem_cert(const char *text)
{
	size_t len = 0;
	uint8_t *der = text ? pem_decode(text, "CERTIFICATE", &len) : NULL;
	const unsigned char *p = der;
	X509 *x = der ? d2i_X509(NULL, &p, (long)len) : NULL;

	free(der);
	return x;
}

char *pem_cert_text(X509 *x)
{
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1;
	char *out = n > 0 ? pem_encode("CERTIFICATE", der, (size_t)n) : NULL;

	OPENSSL_free(der);
	return out;
}

char *pem_name_text(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	return pem_bio_text(b, b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0);
}
