/*
 * station.h: what every card-station subcommand shares: the loaded configuration, the
 * PC/SC context, the card master key (loaded on first use), and reader lookup.
 *
 * A subcommand is one cmd_*.c file with one function of type station_cmd_fn and one
 * line in main.c's table; the ones that talk to the back office add lib/client.h on top.
 */
#ifndef CS_STATION_H
#define CS_STATION_H

#include "config.h"
#include "derive.h"
#include "pcsc.h"
#include "piv.h"

struct station {
	config_t *cfg;
	pcsc_t *pcsc;
	derive_t *derive;		/* NULL until station_derive() */
	enum derive_mgm_alg mgm_alg;	/* card_station.mgm_key_alg */
};

/* Run a subcommand with its own arguments (argv[0] is its name). Returns the exit code. */
typedef int (*station_cmd_fn)(struct station *st, int argc, char **argv);

/* The card master key, loaded from cards.master_key_file on first use; NULL if unusable. */
const derive_t *station_derive(struct station *st);
/* Resolve NAME to one reader: an exact name, or a substring matching exactly one reader.
 * Returns a malloc'd name, or NULL with the reason logged. */
char *station_reader(struct station *st, const char *name);
/* Print a progress line for STEP on READER (a perso_progress_fn). */
void station_progress(void *ctx, const char *reader, const char *step);

/* The counter's channel for one subscriber card operation (sub_station.c). */
#include "client.h"
#include "subscriber.h"

struct station_sub {
	struct station *st;
	const char *command;	/* the card-station command running the operation */
	struct sub s;
	struct sub_io io;
	ra_client_t *client;	/* NULL until the first job */
	char host[64];
};

/* The options every subscriber command takes. */
struct sub_args {
	const char *command;	/* argv[0]: pin-change, unlock, renew... (metrics label) */
	const char *reader, *account;
	enum sub_lang lang;
};
/* Parse --reader, --account (required when NEED_ACCOUNT) and --lang for command argv[0].
 * 0, or 2 after logging the usage. */
int sub_args_parse(int argc, char **argv, int need_account, struct sub_args *a);
/* Open the card of A's reader for one operation through the station's channel. 0/-1. */
int station_sub_open(struct station_sub *ss, struct station *st, const struct sub_args *a);
/* Close the card and the queue connection; safe on a failed open. */
void station_sub_close(struct station_sub *ss);

int cmd_readers(struct station *st, int argc, char **argv);
int cmd_wipe(struct station *st, int argc, char **argv);
/* The subscriber's operations (cmd_pin.c, cmd_download.c, cmd_export.c, cmd_renew.c). */
int cmd_pin_change(struct station *st, int argc, char **argv);
int cmd_unlock(struct station *st, int argc, char **argv);
int cmd_download(struct station *st, int argc, char **argv);
int cmd_export(struct station *st, int argc, char **argv);
int cmd_renew(struct station *st, int argc, char **argv);
int cmd_personalize(struct station *st, int argc, char **argv);
/* Where a personalized card went (cmd_dispatch.c). */
int cmd_dispatch(struct station *st, int argc, char **argv);

#endif
