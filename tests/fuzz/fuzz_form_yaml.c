/*
 * fuzz_form_yaml.c: libFuzzer target for forms keyed or mailed as YAML (ra-intake
 * register/import/verify --file): the shared batch body (fuzz_form_batch.c) with the YAML
 * reader.
 */
#include "fuzz_form_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_form_batch(data, size, form_batch_parse_yaml);
}
