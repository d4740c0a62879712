/*
 * dispatch.h: recording where a personalized card went, from the officer's side: `ra-ctl
 * dispatch` (by order) and `card-station dispatch` (by the card in the reader: the
 * operator who personalized it hands it over or posts it). One card_dispatch job, signed by
 * the officer; the worker (workers/job_dispatch.c) keeps the rules. Messages in the
 * operators' language (en, or zh-TW); a refusal is shown in the worker's words, in Chinese
 * too when it gave them.
 */
#ifndef RA_DISPATCH_H
#define RA_DISPATCH_H

#include "client.h"
#include "officer.h"

struct dispatch_step {
	long long order;	/* the card order, or 0 when CARD names the card */
	const char *card;	/* the card's serial (card-station reads it off the card) */
	int counter;		/* handed over at the counter */
	const char *mail;	/* posted, with this tracking number */
	int returned;		/* came back undelivered */
	int revoke;		/* with RETURNED: revoke its certificates and set it aside */
};

/* 0 if S names a card and exactly one step (REVOKE only with RETURNED); else the usage
 * line (in Chinese when ZH) goes to stderr after PROG ("ra-ctl: ") and 2 is returned. */
int dispatch_check(const struct dispatch_step *s, int zh, const char *prog);

/* Sign S as OFFICER and run it through C. Says on stdout what was recorded, or on
 * stderr why not. Exit status: 0 recorded, 1 refused or not done. */
int dispatch_run(ra_client_t *c, const officer_cred_t *officer, const struct dispatch_step *s, int zh,
    const char *prog);

#endif
