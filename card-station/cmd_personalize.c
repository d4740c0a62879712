/*
 * cmd_personalize.c: `card-station personalize`: the bulk run. Every blank card put in a
 * watched reader gets the next approved card order, its keys, certificates and PIN, and
 * is recorded against the order; a card that fails is reported, set aside, and its order
 * given back (card_fail revokes whatever certificate it got).
 *
 * One thread per reader: the per-card sequence (perso_run) is straight-line blocking
 * code, and most of a card's time is spent waiting for the card itself (on-card key
 * generation) or for the issue job, so a blocked thread per reader costs nothing and
 * keeps the sequence readable; an event loop would have to cut it into a state machine.
 * pcscd allows at most 16 readers, so the thread count stays small. Each thread has its
 * own PC/SC context and its own queue connection (neither is shared across threads).
 *
 * A reader's thread takes a card when it sees one it has not handled yet (by serial), so
 * a card left in the reader after it is done or set aside is not taken again, and the
 * next card is taken as soon as it is put in. A card whose claim, record or give-back the
 * queue never answered is reported "run again": the claim may have landed, and its order
 * then waits for this card, which the next run gives back before anything else.
 *
 * After a crash, the cards are run again: a card still holding an order from the earlier
 * run gives it back first (card_fail: the certificates for its keys are revoked), then is
 * wiped (keys generated but not finished are never trusted) and starts over. A card that
 * finished before the crash is recognised by its order and left alone, also when its
 * card_done lands only now: the give-back answers "finished" and nothing is touched, and
 * a card_done landing after the give-back changes nothing (office.h).
 *
 * The subscriber PIN is generated here, sealed to the sheet key at once, and the clear
 * copy wiped as soon as the card holds it; it is never printed or logged.
 */
#include "station.h"

#include <czmq.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "board.h"
#include "log.h"
#include "office.h"
#include "personalize.h"
#include "station_metrics.h"
#include "util.h"

#define PERSO_SETTLE_MS 120000
#define PERSO_UNREADABLE_LOOKS 3	/* a card is reported unreadable after this many looks */

static volatile sig_atomic_t perso_stop;

static void perso_on_signal(int sig)
{
	(void)sig;
	perso_stop = 1;
}

struct perso_run {
	struct station *st;
	const derive_t *derive;
	board_t *board;
	char *station_name;
	char run_id[17];
	enum piv_alg key_alg;
	int pin_len;
	int puk_retries;
	long count;		/* cards to take; 0: until no order is waiting */
	pthread_mutex_t mu;
	long taken;		/* cards taken so far */
	int active;		/* cards in progress */
	size_t scanned;		/* readers that have looked at their card once */
	int done;		/* the run is over: threads leave */
	station_metrics_t *metrics;	/* cards by reader and result, cards per minute */
};

struct perso_reader {
	struct perso_run *run;
	size_t index;
	char *name;
	pthread_t tid;
	pcsc_t *pc;
	office_t *office;
	int has_last;		/* a card is in the reader that was handled already */
	uint32_t last;
	int started;		/* the thread was created */
	int unreadable;		/* looks in a row that could not read the card */
};

/* Take a card if the run wants more. 1 taken, 0 not. */
static int perso_take(struct perso_run *run)
{
	int ok;

	pthread_mutex_lock(&run->mu);
	ok = !perso_stop && !run->done && (run->count == 0 || run->taken < run->count);
	if (ok) {
		run->taken++;
		run->active++;
	}
	pthread_mutex_unlock(&run->mu);
	return ok;
}

/* The card is finished; UNTAKE gives its place back (it got no order). */
static void perso_release(struct perso_run *run, int untake)
{
	pthread_mutex_lock(&run->mu);
	run->active--;
	if (untake)
		run->taken--;
	pthread_mutex_unlock(&run->mu);
}

static void perso_progress(void *ctx, const char *reader, const char *step)
{
	struct perso_reader *r = ctx;

	(void)reader;
	board_step(r->run->board, r->index, step);
}

/* Give ORD back (card_fail) and build the summary detail from WHY. */
static char *perso_give_back(struct perso_reader *r, const struct office_order *ord, const char *why)
{
	char *err = NULL, *detail;

	board_step(r->run->board, r->index, "give order back");
	switch (office_fail(r->office, ord, why, &err)) {
	case 0:
		detail = xasprintf("%s; order %lld given back", why, (long long)ord->order);
		break;
	case 1:
		detail = xasprintf("%s; order %lld NOT given back: the ledger has it finished", why,
		    (long long)ord->order);
		break;
	default:
		detail = xasprintf("%s; order %lld NOT given back (%s): run again to finish it", why,
		    (long long)ord->order, err ? err : "error");
	}
	free(err);
	return detail;
}

/*
 * Claim an order for the blank card SERIAL. A card coming back from an earlier run may
 * get back an order that was issued certificates for keys since wiped: those are revoked
 * and the order claimed again. 0 claimed, 1 no order waiting, -1 (DETAIL set).
 */
static int perso_claim(struct perso_reader *r, uint32_t serial, struct office_order *ord,
    char **detail)
{
	char *err = NULL;
	int rc;

	for (int try = 0; try < 3; try++) {
		board_step(r->run->board, r->index, "claim order");
		rc = office_claim(r->office, serial, try, ord, &err);
		if (rc == 1) {
			free(err);
			return 1;
		}
		if (rc < 0) {
			/* Unanswered, the claim may still land: the card's next run gives that order back. */
			*detail = xasprintf("no order claimed: %s%s", err ? err : "error",
			    rc == -2 ? "; run again with this card in the reader" : "");
			free(err);
			return -1;
		}
		if (strcmp(ord->state, "issued") != 0)
			return 0;
		/* Certificates exist for keys this card no longer holds. */
		log_info("%s: card %u: order %lld was issued certificates for keys since wiped; "
		    "revoking them and starting over", r->name, serial, (long long)ord->order);
		board_step(r->run->board, r->index, "revoke earlier pair");
		if (office_fail(r->office, ord, "unfinished personalization from an earlier run", &err) != 0) {
			*detail = xasprintf("order %lld from an earlier run not given back: %s",
			    (long long)ord->order, err ? err : "the ledger has it finished");
			free(err);
			return -1;
		}
	}
	*detail = xstrdup("the order kept coming back issued");
	return -1;
}

/* Personalize the card open as P for the order claimed into ORD. 0, or -1 (DETAIL). */
static int perso_card(struct perso_reader *r, piv_t *p, struct office_order *ord, char **detail)
{
	struct perso_run *run = r->run;
	struct office_issue_ctx ictx = { r->office, ord, NULL };
	struct perso_opts po = { 0 };
	char pin[DERIVE_PIN_MAX + 1], *sealed = NULL, *err = NULL, *why;
	piv_rc rc;
	int ret = -1;

	if (derive_pin_generate(run->pin_len, pin) < 0 || office_seal_pin(r->office, pin, &sealed) < 0) {
		OPENSSL_cleanse(pin, sizeof pin);
		*detail = perso_give_back(r, ord, "cannot make or seal the PIN");
		goto out;
	}
	po.derive = run->derive;
	po.mgm_alg = run->st->mgm_alg;
	po.pin = pin;
	po.key_alg = run->key_alg;
	po.puk_retries = run->puk_retries;
	po.issue = office_issue;
	po.issue_ctx = &ictx;
	po.progress = perso_progress;
	po.progress_ctx = r;
	rc = perso_run(p, &po, NULL);
	OPENSSL_cleanse(pin, sizeof pin);
	if (rc != PIV_OK) {
		why = rc == PIV_E_ISSUE && ictx.error ? xasprintf("issue: %s", ictx.error) :
		    xasprintf("%s", piv_strerror(rc));
		*detail = perso_give_back(r, ord, why);
		free(why);
		goto out;
	}
	board_step(run->board, r->index, "record card");
	if (office_done(r->office, ord, sealed, &err) < 0) {
		/* The card is finished but the back office does not know: run again (it is wiped). */
		*detail = xasprintf("card_done not recorded: %s; run again to redo this card",
		    err ? err : "error");
		goto out;
	}
	*detail = xasprintf("order %lld, account %s", (long long)ord->order, ord->account);
	ret = 0;
out:
	free(ictx.error);
	free(err);
	free(sealed);
	return ret;
}

/* Handle the card SERIAL just taken in reader R (open as P). */
static void perso_handle(struct perso_reader *r, piv_t *p, uint32_t serial)
{
	struct perso_run *run = r->run;
	struct office_order prev = { 0 }, ord = { 0 };
	enum piv_card_state state;
	enum board_result result = BOARD_FAILED;
	char *detail = NULL, *err = NULL;
	int found, leftover = 0, untake = 0;
	piv_rc rc;

	board_card(run->board, r->index, serial);
	board_step(run->board, r->index, "check card");
	found = office_find(r->office, serial, &prev, &err);
	if (found < 0) {
		detail = xasprintf("queue: %s; run again with this card in the reader", err ? err : "error");
		goto out;
	}
	if ((rc = piv_classify(p, &state)) != PIV_OK) {
		detail = xasprintf("cannot read the card: %s", piv_strerror(rc));
		goto out;
	}
	leftover = found && (strcmp(prev.state, "claimed") == 0 || strcmp(prev.state, "issued") == 0);
	if (found && strcmp(prev.state, "personalized") == 0 && state == PIV_STATE_PERSONALIZED) {
		result = BOARD_SKIPPED;
		detail = xasprintf("already personalized for order %lld", (long long)prev.order);
		goto out;
	}
	if (leftover) {
		/* Wait until no request of the earlier run can still land on the order. */
		board_step(run->board, r->index, "settle earlier run");
		if (office_settle(r->office, PERSO_SETTLE_MS) < 0) {
			detail = xasprintf("order %lld: an earlier issue job is still running",
			    (long long)prev.order);
			goto out;
		}
		/* The ledger decides whether the earlier run finished the card, not what we saw:
		 * the order is given back before anything on the card is touched, and a card_done
		 * of that run that landed first (sent just before a crash) makes the give-back
		 * answer "finished" instead; one landing later finds its pair given back. */
		board_step(run->board, r->index, "give earlier order back");
		switch (office_fail(r->office, &prev, "unfinished personalization from an earlier run", &err)) {
		case 1:
			if (state == PIV_STATE_PERSONALIZED) {
				result = BOARD_SKIPPED;
				detail = xasprintf("already personalized for order %lld", (long long)prev.order);
			} else {
				detail = xasprintf("order %lld is recorded finished but the card is %s: set aside",
				    (long long)prev.order, piv_state_name(state));
			}
			goto out;
		case -1:
			detail = xasprintf("order %lld from an earlier run not given back (%s): run again",
			    (long long)prev.order, err ? err : "error");
			goto out;
		}
	}
	if (state != PIV_STATE_BLANK) {
		if (!leftover) {
			detail = xasprintf("not blank (%s): set aside for card-station wipe",
			    piv_state_name(state));
			goto out;
		}
		rc = perso_wipe(p, run->derive, run->st->mgm_alg, 0, perso_progress, r);
		if (rc != PIV_OK) {
			detail = xasprintf("unfinished card from an earlier run could not be wiped (%s); "
			    "order %lld given back", piv_strerror(rc), (long long)prev.order);
			goto out;
		}
	}
	switch (perso_claim(r, serial, &ord, &detail)) {
	case 1:
		result = BOARD_SKIPPED;
		untake = 1;
		detail = xstrdup("no approved order is waiting");
		goto out;
	case -1:
		goto out;
	}
	if (perso_card(r, p, &ord, &detail) == 0)
		result = BOARD_OK;
out:
	board_finish(run->board, r->index, ord.order ? ord.order : prev.order, result, detail);
	station_metrics_card(run->metrics, r->name, result == BOARD_OK ? "personalized" :
	    result == BOARD_SKIPPED ? "skipped" : "failed");
	perso_release(run, untake);
	free(detail);
	free(err);
}

/* Is a card in reader NAME? 1, 0, or -1 if the readers cannot be listed. */
static int perso_present(pcsc_t *pc, const char *name)
{
	struct pcsc_reader *rd = NULL;
	size_t n = 0;
	int present = 0;

	if (pcsc_readers(pc, &rd, &n) != PIV_OK)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rd[i].name, name) == 0)
			present = rd[i].present;
	pcsc_readers_free(rd, n);
	return present;
}

/* The card in reader R answered a PIN try with "blocked": count it for the station. */
static void perso_pin_blocked(void *arg, const char *reader)
{
	struct perso_reader *r = arg;

	station_metrics_pin_blocked(r->run->st->cfg, r->run->station_name, reader, "personalize");
}

/* Look at the card in the reader; take and handle it if it is new. */
static void perso_look(struct perso_reader *r)
{
	piv_t *p = NULL;
	uint32_t serial = 0;
	piv_rc rc;

	switch (perso_present(r->pc, r->name)) {
	case 0:
		r->has_last = 0;
		r->unreadable = 0;
		return;
	case -1:
		return;
	}
	rc = piv_open(r->pc, r->name, &p);
	if (rc == PIV_OK) {
		piv_on_pin_blocked(p, perso_pin_blocked, r);
		rc = piv_get_serial(p, &serial);
	}
	if (rc != PIV_OK && rc != PIV_E_NOT_FOUND && ++r->unreadable < PERSO_UNREADABLE_LOOKS) {
		/* Most likely being put in or pulled out as we looked: look again before reporting it. */
		log_debug("%s: %s", r->name, piv_strerror(rc));
		goto out;
	}
	if (rc == PIV_OK)
		r->unreadable = 0;
	if (r->has_last && r->last == serial)
		goto out;
	if (!perso_take(r->run))
		goto out;
	r->has_last = 1;
	r->last = serial;
	if (rc != PIV_OK) {
		board_card(r->run->board, r->index, serial);
		board_finish(r->run->board, r->index, 0, BOARD_FAILED,
		    rc == PIV_E_NOT_FOUND ? "not a PIV card" : piv_strerror(rc));
		perso_release(r->run, 0);
		goto out;
	}
	perso_handle(r, p, serial);
out:
	piv_close(&p);
}

static void *perso_thread(void *arg)
{
	struct perso_reader *r = arg;
	struct perso_run *run = r->run;
	int counted = 0;
	piv_rc rc;

	r->pc = pcsc_new(&rc);
	if (!r->pc)
		log_err("%s: PC/SC: %s", r->name, piv_strerror(rc));
	else
		pcsc_wait_change(r->pc, 0);
	for (;;) {
		pthread_mutex_lock(&run->mu);
		if (run->done || perso_stop) {
			pthread_mutex_unlock(&run->mu);
			break;
		}
		pthread_mutex_unlock(&run->mu);
		if (r->pc)
			perso_look(r);
		if (!counted) {
			pthread_mutex_lock(&run->mu);
			run->scanned++;
			pthread_mutex_unlock(&run->mu);
			counted = 1;
		}
		if (!r->pc) {
			/* pcscd is gone or was restarted: a new context once it is back */
			usleep(500 * 1000);
			if ((r->pc = pcsc_new(&rc))) {
				log_info("%s: PC/SC service back; watching the reader again", r->name);
				pcsc_wait_change(r->pc, 0);
			}
			continue;
		}
		/* Wakes on any reader's change; every second also rechecks for a swapped card. */
		rc = pcsc_wait_change(r->pc, 1000);
		if (rc == PIV_E_NO_SERVICE || rc == PIV_E_PCSC) {
			/* a restarted pcscd does not know our context: drop it and make a new one */
			log_warn("%s: the PC/SC service went away; waiting for it", r->name);
			pcsc_destroy(&r->pc);
		} else if (rc != PIV_OK && rc != PIV_E_TIMEOUT) {
			usleep(500 * 1000);
		}
	}
	return NULL;
}

/* Is reader NAME wanted by the --readers list WANT ("all", or names/substrings, comma-separated)? */
static int perso_wanted(const char *want, const char *name)
{
	char *copy, *tok, *save = NULL;
	int hit = 0;

	if (strcmp(want, "all") == 0)
		return 1;
	copy = xstrdup(want);
	for (tok = strtok_r(copy, ",", &save); tok && !hit; tok = strtok_r(NULL, ",", &save))
		hit = strcmp(tok, name) == 0 || (*tok && strstr(name, tok));
	free(copy);
	return hit;
}

static void perso_usage(FILE *f)
{
	fprintf(f, "usage: card-station personalize --officer ID [--credential F] [--passphrase-file F]\n"
		   "       [--readers all|NAME,...] [--count N] [--station NAME] [--key-alg rsa2048|p256]\n"
		   "\n"
		   "Every job of the run is signed by the card operator ID's credential (default\n"
		   "officers.credentials_dir/ID.pem; card:READER for the operator's PIV card, whose reader\n"
		   "is then left out of the run; passphrase or PIN from F or the terminal).\n"
		   "--station NAME names this station in its jobs (default: station); with a key pair of\n"
		   "its own (keys/clients/station.NAME.cert, ra-ctl station-key NAME) the back office\n"
		   "knows it by that key and takes no job from it that names another station.\n");
}

/* Decide whether the run is over; refresh the expected total. */
static int perso_finished(struct perso_run *run, size_t nreaders, office_t *office, int64_t *next_query)
{
	long waiting;
	char *err = NULL;
	size_t ok, failed;
	int64_t ms;
	int idle, over = 0;

	pthread_mutex_lock(&run->mu);
	idle = run->scanned == nreaders && run->active == 0;
	if (perso_stop && run->active == 0)
		over = 1;
	if (idle && run->count > 0 && run->taken >= run->count)
		over = 1;
	pthread_mutex_unlock(&run->mu);
	if (over || mono_ms() < *next_query)
		return over;
	*next_query = mono_ms() + 1000;
	waiting = office_waiting(office, &err);
	if (waiting < 0) {
		log_warn("cannot ask the queue how many orders wait: %s", err ? err : "error");
		free(err);
		return 0;
	}
	board_counts(run->board, &ok, &failed, &ms);
	pthread_mutex_lock(&run->mu);
	if (run->count == 0)
		board_expect(run->board, (long)ok + waiting + run->active);
	/* Re-check idleness: a card may have been taken while the queue answered. */
	if (run->scanned == nreaders && run->active == 0 && waiting == 0)
		over = 1;
	pthread_mutex_unlock(&run->mu);
	return over;
}

int cmd_personalize(struct station *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "readers", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "station", required_argument, NULL, 's' },
		{ "key-alg", required_argument, NULL, 'k' },
		{ "officer", required_argument, NULL, 'o' },
		{ "credential", required_argument, NULL, 'C' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct perso_run run = { .st = st, .key_alg = PIV_ALG_RSA2048 };
	struct perso_reader *readers = NULL;
	struct pcsc_reader *list = NULL;
	struct sigaction sa = { 0 };
	struct rusage ru;
	office_t *office = NULL;
	officer_cred_t *operator = NULL;
	const char *want = "all", *officer = NULL, *credential = NULL, *passfile = NULL;
	char host[64] = "station", **names = NULL, *end;
	uint8_t rnd[8];
	size_t nlist = 0, n = 0, failed;
	int64_t next_query = 0, card_ms;
	size_t ok, nfailed;
	int c, ret = 1;
	double cpu_ms;
	piv_rc rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:n:s:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			want = optarg;
			break;
		case 'n':
			run.count = strtol(optarg, &end, 10);
			if (*end || run.count < 1) {
				log_err("--count: want a positive number of cards, not \"%s\"", optarg);
				return 2;
			}
			break;
		case 's':
			run.station_name = xstrdup(optarg);
			break;
		case 'k':
			if (strcmp(optarg, "rsa2048") == 0)
				run.key_alg = PIV_ALG_RSA2048;
			else if (strcmp(optarg, "p256") == 0)
				run.key_alg = PIV_ALG_ECCP256;
			else {
				log_err("--key-alg: want rsa2048 or p256, not \"%s\"", optarg);
				free(run.station_name);
				return 2;
			}
			break;
		case 'o':
			officer = optarg;
			break;
		case 'C':
			credential = optarg;
			break;
		case 'P':
			passfile = optarg;
			break;
		case 'h':
			perso_usage(stdout);
			return 0;
		default:
			perso_usage(stderr);
			free(run.station_name);
			return 2;
		}
	}
	if (optind != argc) {
		log_err("personalize: unexpected argument \"%s\"", argv[optind]);
		perso_usage(stderr);
		free(run.station_name);
		return 2;
	}
	if (!officer) {
		log_err("personalize: --officer ID is required (the card operator who signs the run)");
		perso_usage(stderr);
		free(run.station_name);
		return 2;
	}
	if (!(operator = officer_cred_open(st->cfg, officer, credential, passfile))) {
		free(run.station_name);
		return 1;
	}
	if (!run.station_name) {
		gethostname(host, sizeof host - 1);
		run.station_name = xstrdup(host);
	}
	run.pin_len = (int)config_int(st->cfg, "card_station.pin_length");
	run.puk_retries = (int)config_int(st->cfg, "card_station.puk_retries");
	run.metrics = station_metrics_new(st->cfg, run.station_name);
	pthread_mutex_init(&run.mu, NULL);
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		goto out;
	hex_encode(rnd, sizeof rnd, run.run_id);
	if (!(run.derive = station_derive(st)))
		goto out;

	rc = pcsc_readers(st->pcsc, &list, &nlist);
	if (rc != PIV_OK) {
		log_err("cannot list readers: %s", piv_strerror(rc));
		goto out;
	}
	names = xcalloc(nlist + 1, sizeof *names);
	for (size_t i = 0; i < nlist; i++)
		/* The operator's own card signs the run; it is not a card to personalize. */
		if (perso_wanted(want, list[i].name) &&
		    !(credential && strncmp(credential, "card:", 5) == 0 && strcmp(credential + 5, list[i].name) == 0))
			names[n++] = list[i].name;
	if (n == 0) {
		log_err("no reader matches \"%s\" (see: card-station readers)", want);
		goto out;
	}

	/* ZeroMQ's own SIGINT handler would cut the queue conversations of cards in progress. */
	zsys_init();
	zsys_handler_set(NULL);
	sa.sa_handler = perso_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!(office = office_new(st->cfg, run.station_name, run.run_id, operator)))
		goto out;
	run.board = board_new(stdout, names, n, run.count);
	printf("personalizing through %zu reader%s as station %s%s\n", n, n == 1 ? "" : "s",
	    run.station_name, run.count ? "" : " until no approved order is left (Ctrl-C stops)");
	fflush(stdout);
	readers = xcalloc(n, sizeof *readers);
	for (size_t i = 0; i < n; i++) {
		readers[i].run = &run;
		readers[i].index = i;
		readers[i].name = names[i];
		readers[i].office = office_new(st->cfg, run.station_name, run.run_id, operator);
		if (!readers[i].office || pthread_create(&readers[i].tid, NULL, perso_thread, &readers[i]) != 0) {
			log_err("%s: cannot start its worker", names[i]);
			perso_stop = 1;
			break;
		}
		readers[i].started = 1;
	}
	while (!perso_finished(&run, n, office, &next_query)) {
		board_tick(run.board);
		usleep(250 * 1000);
	}
	pthread_mutex_lock(&run.mu);
	run.done = 1;
	pthread_mutex_unlock(&run.mu);
	for (size_t i = 0; i < n; i++)
		if (readers[i].started)
			pthread_join(readers[i].tid, NULL);
	board_tick(run.board);
	failed = board_summary(run.board);
	board_counts(run.board, &ok, &nfailed, &card_ms);
	getrusage(RUSAGE_SELF, &ru);
	cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
	printf("host CPU: %.0f ms in all, %.1f ms per personalized card; card time %.0f ms per card\n",
	    cpu_ms, ok ? cpu_ms / (double)ok : 0.0, ok ? (double)card_ms / (double)ok : 0.0);
	ret = failed ? 1 : 0;
out:
	if (readers)
		for (size_t i = 0; i < n; i++) {
			pcsc_destroy(&readers[i].pc);
			office_destroy(&readers[i].office);
		}
	free(readers);
	office_destroy(&office);
	officer_cred_destroy(&operator);
	board_destroy(&run.board);
	station_metrics_destroy(&run.metrics);
	free(names);
	pcsc_readers_free(list, nlist);
	free(run.station_name);
	pthread_mutex_destroy(&run.mu);
	return ret;
}
