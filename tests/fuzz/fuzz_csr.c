/*
 * fuzz_csr.c: libFuzzer target for ca-signer's CSR gate, the first code that reads a
 * PKCS#10 request arriving from a worker (and so from `ra-ctl request-certs`, ra-self and
 * the card station). csr_parse() must refuse anything malformed with a reason.
 */
#include "../../ca-signer/csr.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[SIGNER_ERR_LEN];
	struct csr c = { 0 };

	if (csr_parse(data, size, 2048, 4096, &c, err) == 0)
		csr_clear(&c);
	return 0;
}
