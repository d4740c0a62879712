/*
 * ctl_dispatch.c: `ra-ctl dispatch ORDER --counter | --mail TRACKING | --returned [--revoke]`:
 * record where a personalized card went, as a card_dispatch job signed by the officer
 * (lib/dispatch.c sends it and says what happened, as `card-station dispatch` does;
 * workers/job_dispatch.c keeps the rules). Messages follow the operators' `language`
 * (en or zh-TW).
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "dispatch.h"
#include "log.h"

int ctl_dispatch(const config_t *cfg, long long order, const struct ctl_dispatch_opts *o,
    const struct ctl_as *as)
{
	struct dispatch_step s = { .order = order, .counter = o->counter, .mail = o->mail,
	    .returned = o->returned, .revoke = o->revoke };
	int zh = strcmp(config_str(cfg, "language"), "zh-TW") == 0, rc;
	officer_cred_t *officer;
	ra_client_t *c;

	if (order <= 0) {
		fprintf(stderr, "ra-ctl: %s\n", zh ? "dispatch ORDER：ORDER 須為卡片訂單編號" :
		    "dispatch ORDER: ORDER is the number of a card order");
		return 2;
	}
	if (dispatch_check(&s, zh, "ra-ctl: ") != 0)
		return 2;
	officer = ctl_as_open(cfg, as, "dispatch");
	if (!(c = ra_client_new(cfg, "ctl")))
		fatal("cannot set up the connection to ra-queue (keys in %s?)", config_home(cfg));
	rc = dispatch_run(c, officer, &s, zh, "ra-ctl: ");
	officer_cred_destroy(&officer);
	ra_client_destroy(&c);
	return rc;
}
