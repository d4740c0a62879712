/*
 * ctl_lang.c: the operator's language. ra-ctl speaks English; an operator whose
 * deployment says language: zh-TW also reads the back office's refusals in Traditional
 * Chinese (the error_zh of a failed job's result, workers/job_texts.c), on stderr beside
 * the English, so a script matching the English words keeps working.
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

int ctl_zh(const config_t *cfg)
{
	return strcmp(config_str(cfg, "language"), "zh-TW") == 0;
}

void ctl_say_zh(const config_t *cfg, const char *what, const json_t *res)
{
	const char *zh = json_string_value(json_object_get(res, "error_zh"));

	if (zh && *zh && ctl_zh(cfg))
		fprintf(stderr, "ra-ctl: %s：%s\n", what, zh);
}
