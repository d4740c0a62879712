/*
 * fuzz_csr_pem.c: libFuzzer target for the certificate requests a worker reads from a
 * job payload: the PEM text of `ra-ctl request-certs --sign-csr FILE`, ra-self renew or
 * the card station, to DER (pem_decode, lib/pem.c), then the worker's parse, size and
 * proof of possession check (csr_check_der). Inputs starting with '0' (0x30, a DER SEQUENCE) are
 * also checked as DER directly.
 */
#include "../../workers/csr_check.h"
#include "pem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pem = malloc(size + 1), err[160];
	uint8_t *der;
	size_t len = 0;

	memcpy(pem, data, size);
	pem[size] = '\0';
	if ((der = pem_decode(pem, "CERTIFICATE REQUEST", &len)) != NULL)
		(void)csr_check_der(der, len, 2048, err, sizeof err);
	if (size > 0 && data[0] == 0x30)
		(void)csr_check_der(data, size, 2048, err, sizeof err);
	free(der);
	free(pem);
	return 0;
}
