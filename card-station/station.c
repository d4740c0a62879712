/*
 * station.c: the helpers subcommands share (master key, reader lookup, progress lines).
 */
#include "station.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

const derive_t *station_derive(struct station *st)
{
	char *path;

	if (st->derive)
		return st->derive;
	path = config_path(st->cfg, "cards.master_key_file");
	st->derive = derive_new(path);
	free(path);
	return st->derive;
}

char *station_reader(struct station *st, const char *name)
{
	struct pcsc_reader *r = NULL;
	size_t n = 0, hits = 0, hit = 0;
	char *out = NULL;
	piv_rc rc;

	rc = pcsc_readers(st->pcsc, &r, &n);
	if (rc != PIV_OK) {
		log_err("cannot list readers: %s", piv_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(r[i].name, name) == 0) {
			out = xstrdup(r[i].name);
			goto out;
		}
		if (strstr(r[i].name, name)) {
			hits++;
			hit = i;
		}
	}
	if (hits == 1)
		out = xstrdup(r[hit].name);
	else if (hits == 0)
		log_err("no reader named \"%s\" (see: card-station readers)", name);
	else
		log_err("\"%s\" matches %zu readers; give more of the name", name, hits);
out:
	pcsc_readers_free(r, n);
	return out;
}

void station_progress(void *ctx, const char *reader, const char *step)
{
	(void)ctx;
	printf("%s: %s\n", reader, step);
	fflush(stdout);
}
