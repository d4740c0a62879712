/*
 * fuzz_form_csv.c: libFuzzer target for batches of mailed forms as CSV (ra-intake
 * import FILE.csv): the shared batch body (fuzz_form_batch.c) with the CSV reader.
 */
#include "fuzz_form_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_form_batch(data, size, form_batch_parse_csv);
}
