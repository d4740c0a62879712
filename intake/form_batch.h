/*
 * form_batch.h: forms read from YAML or CSV text, as `ra-intake import` and `--file` take
 * them. Only ra-intake reads such files; the back office receives forms as JSON.
 */
#ifndef RA_FORM_BATCH_H
#define RA_FORM_BATCH_H

#include "form.h"

/* One form read from a file, with the line it starts on. */
struct form_item {
	form_t *form;		/* NULL if the entry could not be read as a form */
	long line;		/* 1-based line of the entry in the file */
	char *error;		/* why it could not be read (unknown field, ...), else NULL */
};

typedef struct form_batch {
	size_t n;
	struct form_item *items;
} form_batch_t;

/*
 * Read forms from YAML text: one mapping (one form) or a sequence of mappings. A form
 * without a "kind" key is of kind DEF. NULL with *err if the text is not such YAML.
 */
form_batch_t *form_batch_parse_yaml(const char *text, size_t len, enum form_kind def,
    char **err);
/*
 * Read forms from CSV text (RFC 4180; a header line naming the fields; UTF-8, a BOM is
 * skipped; an optional "kind" column, else DEF). NULL with *err for a bad header.
 */
form_batch_t *form_batch_parse_csv(const char *text, size_t len, enum form_kind def,
    char **err);
/* Read a file: CSV if its name ends in ".csv", else YAML. NULL with *err. */
form_batch_t *form_batch_load(const char *path, enum form_kind def, char **err);
void form_batch_destroy(form_batch_t **b);

#endif
