/*
 * cmd_wipe.c: `card-station wipe --reader NAME [--force]`: return the card in a reader
 * to the factory state (see personalize.c for how and why), printing each step.
 */
#include "station.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "personalize.h"

int cmd_wipe(struct station *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *want = NULL;
	char *reader = NULL;
	const derive_t *d;
	piv_t *p = NULL;
	int force = 0, c, ret = 1;
	piv_rc rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			want = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			printf("usage: card-station wipe --reader NAME [--force]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!want || optind != argc) {
		log_err("usage: card-station wipe --reader NAME [--force]");
		return 2;
	}
	d = station_derive(st);
	if (!d)
		goto out;
	reader = station_reader(st, want);
	if (!reader)
		goto out;
	rc = piv_open(st->pcsc, reader, &p);
	if (rc != PIV_OK) {
		log_err("%s: %s", reader, piv_strerror(rc));
		goto out;
	}
	rc = perso_wipe(p, d, st->mgm_alg, force, station_progress, NULL);
	if (rc != PIV_OK)
		goto out;
	ret = 0;
out:
	piv_close(&p);
	free(reader);
	return ret;
}
