/*
 * fuzz_form_batch.h: the body the libFuzzer targets for batches of forms share
 * (fuzz_form_yaml.c, fuzz_form_csv.c): the bytes read by one of ra-intake's readers
 * (intake/form_batch.c), then every form read checked, canonicalised and compared, so
 * that neither reading nor what follows it may fault or leak, whatever the bytes.
 */
#ifndef RA_FUZZ_FORM_BATCH_H
#define RA_FUZZ_FORM_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "form_batch.h"

/* A reader of a batch file, as form_batch_parse_yaml and form_batch_parse_csv. */
typedef form_batch_t *(*fuzz_form_reader)(const char *text, size_t len, enum form_kind def, char **err);

/* Read DATA with READ and exercise every form read. Returns 0 (libFuzzer's convention). */
int fuzz_form_batch(const uint8_t *data, size_t size, fuzz_form_reader read);

#endif
