/*
 * cmd_readers.c: `card-station readers [--watch]`: one line per reader with the card's
 * ATR, serial and state (blank, personalized, locked, set-aside). With --watch the table
 * is printed again whenever a reader or card comes or goes, until SIGINT or SIGTERM.
 *
 * Classifying a card may try the factory management key, which costs no PIN try.
 */
#include "station.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static volatile sig_atomic_t readers_stop;

static void readers_on_signal(int sig)
{
	(void)sig;
	readers_stop = 1;
}

/* Serial and state of the card in READER, as table text. */
static void readers_card(struct station *st, const char *reader, char *serial, size_t slen,
    char *state, size_t stlen)
{
	enum piv_card_state s;
	piv_t *p = NULL;
	uint32_t sn = 0;
	piv_rc rc;

	snprintf(serial, slen, "-");
	rc = piv_open(st->pcsc, reader, &p);
	if (rc != PIV_OK) {
		snprintf(state, stlen, rc == PIV_E_NOT_FOUND ? "not-piv" : "error: %s",
		    piv_strerror(rc));
		goto out;
	}
	if (piv_get_serial(p, &sn) == PIV_OK)
		snprintf(serial, slen, "%u", sn);
	rc = piv_classify(p, &s);
	if (rc != PIV_OK)
		snprintf(state, stlen, "error: %s", piv_strerror(rc));
	else
		snprintf(state, stlen, "%s", piv_state_name(s));
out:
	piv_close(&p);
}

static int readers_print(struct station *st)
{
	struct pcsc_reader *r = NULL;
	char atr[2 * PCSC_ATR_MAX + 1], serial[16], state[96];
	size_t n = 0;
	piv_rc rc;

	rc = pcsc_readers(st->pcsc, &r, &n);
	if (rc != PIV_OK) {
		log_err("cannot list readers: %s", piv_strerror(rc));
		return 1;
	}
	printf("%-28s %-5s %-44s %-10s %s\n", "READER", "CARD", "ATR", "SERIAL", "STATE");
	for (size_t i = 0; i < n; i++) {
		if (!r[i].present) {
			printf("%-28s %-5s %-44s %-10s %s\n", r[i].name, "no", "-", "-", "-");
			continue;
		}
		hex_encode(r[i].atr, r[i].atr_len, atr);
		readers_card(st, r[i].name, serial, sizeof serial, state, sizeof state);
		printf("%-28s %-5s %-44s %-10s %s\n", r[i].name, "yes", atr, serial, state);
	}
	if (n == 0)
		printf("(no readers)\n");
	fflush(stdout);
	pcsc_readers_free(r, n);
	return 0;
}

int cmd_readers(struct station *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int watch = 0, c, rc;
	piv_rc prc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "wh", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			watch = 1;
			break;
		case 'h':
			printf("usage: card-station readers [--watch]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		log_err("readers: unexpected argument %s", argv[optind]);
		return 2;
	}
	rc = readers_print(st);
	if (!watch || rc != 0)
		return rc;
	signal(SIGINT, readers_on_signal);
	signal(SIGTERM, readers_on_signal);
	pcsc_wait_change(st->pcsc, 0);	/* learn the current state */
	while (!readers_stop) {
		prc = pcsc_wait_change(st->pcsc, 1000);
		if (prc == PIV_E_TIMEOUT)
			continue;
		if (prc != PIV_OK) {
			log_err("watching readers: %s", piv_strerror(prc));
			return 1;
		}
		printf("\n");
		if (readers_print(st) != 0)
			return 1;
	}
	return 0;
}
