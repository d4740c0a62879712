/*
 * cmd_dispatch.c: `card-station dispatch --reader NAME | --card SERIAL --counter |
 * --mail TRACKING | --returned [--revoke] --officer ID`: the card operator who personalized
 * a card records where it went, the card in hand: handed over at the counter, posted with
 * its tracking number, or back from the post undelivered (and with --revoke, withdrawn).
 *
 * The card's serial is read off the card in the reader (or given with --card, for a card
 * back in its envelope); the job and its messages are lib/dispatch.c's, the same as
 * `ra-ctl dispatch`, and the worker finds the personalized order of that card. The card
 * is only read: no PIN, no key, nothing written. Messages follow the `language` setting.
 */
#include "station.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "dispatch.h"
#include "log.h"
#include "officer.h"

static void dispatch_help(FILE *f)
{
	fprintf(f, "usage: card-station dispatch --reader NAME | --card SERIAL\n"
		   "                            --counter | --mail TRACKING | --returned [--revoke]\n"
		   "                            --officer ID [--credential F] [--passphrase-file F]\n"
		   "                            [--station NAME]\n\n"
		   "Record where a personalized card went, signed by the officer ID:\n"
		   "  --counter          handed over at the counter\n"
		   "  --mail TRACKING    posted, with the registered mail's tracking number\n"
		   "  --returned         came back from the post undelivered\n"
		   "  --revoke           (with --returned) revoke its certificates and set the card aside\n"
		   "The card is named by the card in reader NAME (its serial is read, nothing is written)\n"
		   "or by its serial with --card. --station NAME: this station's own key pair\n"
		   "(keys/clients/station.NAME.cert, made by ra-ctl station-key NAME) if it has one.\n");
}

/* The serial of the card in READER, as text, into OUT (12 bytes). 0/-1 (logged). */
static int dispatch_card_serial(struct station *st, const char *reader, char *out)
{
	char *name = station_reader(st, reader);
	piv_t *p = NULL;
	uint32_t serial = 0;
	piv_rc rc = PIV_OK;
	int began = 0;

	if (!name)
		return -1;
	if ((rc = piv_open(st->pcsc, name, &p)) == PIV_OK && (rc = piv_begin(p)) == PIV_OK) {
		began = 1;
		rc = piv_get_serial(p, &serial);
	}
	if (began)
		piv_end(p);
	piv_close(&p);
	if (rc != PIV_OK)
		log_err("%s: %s", name, piv_strerror(rc));
	else
		snprintf(out, 12, "%u", serial);
	free(name);
	return rc == PIV_OK ? 0 : -1;
}

int cmd_dispatch(struct station *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "card", required_argument, NULL, 'k' },
		{ "counter", no_argument, NULL, 'n' },
		{ "mail", required_argument, NULL, 'm' },
		{ "returned", no_argument, NULL, 'R' },
		{ "revoke", no_argument, NULL, 'v' },
		{ "officer", required_argument, NULL, 'o' },
		{ "credential", required_argument, NULL, 'C' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "station", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reader = NULL, *officer = NULL, *credential = NULL, *passfile = NULL, *station = NULL;
	struct dispatch_step s = { 0 };
	int zh = strcmp(config_str(st->cfg, "language"), "zh-TW") == 0, ch, rc = 1;
	officer_cred_t *cred = NULL;
	ra_client_t *c = NULL;
	char serial[12];

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': reader = optarg; break;
		case 'k': s.card = optarg; break;
		case 'n': s.counter = 1; break;
		case 'm': s.mail = optarg; break;
		case 'R': s.returned = 1; break;
		case 'v': s.revoke = 1; break;
		case 'o': officer = optarg; break;
		case 'C': credential = optarg; break;
		case 'P': passfile = optarg; break;
		case 's': station = optarg; break;
		case 'h': dispatch_help(stdout); return 0;
		default: dispatch_help(stderr); return 2;
		}
	}
	if (optind != argc || !officer || !reader == !s.card) {
		log_err("dispatch: --officer and one of --reader, --card are required");
		dispatch_help(stderr);
		return 2;
	}
	if (reader && !s.card)
		s.card = "-";	/* read below, once the step itself is known to be right */
	if (dispatch_check(&s, zh, "card-station: ") != 0)
		return 2;
	if (reader) {
		if (!st->pcsc) {
			log_err("dispatch --reader: the PC/SC service (pcscd) is not running; name the card with --card SERIAL");
			return 1;
		}
		if (dispatch_card_serial(st, reader, serial) < 0)
			return 1;
		s.card = serial;
	}
	if (!(cred = officer_cred_open(st->cfg, officer, credential, passfile)))
		goto out;
	if (!(c = ra_client_new_instance(st->cfg, "station", station))) {
		log_err("cannot set up the connection to ra-queue");
		goto out;
	}
	rc = dispatch_run(c, cred, &s, zh, "card-station: ");
out:
	ra_client_destroy(&c);
	officer_cred_destroy(&cred);
	return rc;
}
