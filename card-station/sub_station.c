/*
 * sub_station.c: the counter's channel for the subscriber's card operations
 * (card/subscriber.h): secrets on the station's terminal (the console prompt), lines on
 * stdout, jobs to ra-queue through lib/client.h under the station's key, and the website
 * password sealed here to the workers' key before it leaves. One cmd_*.c per command
 * parses its options and runs the shared sequence (card/sub_ops.c) with this channel.
 */
#include "station.h"
#include "subscriber.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "secret.h"
#include "station_metrics.h"
#include "util.h"

static int station_sub_submit(void *ctx, const char *kind, json_t *payload, json_t **result, int64_t *id,
    char **why)
{
	struct station_sub *ss = ctx;
	struct ra_job job = { 0 };
	int rc = -1;

	if (!ss->client && !(ss->client = ra_client_new_instance(ss->st->cfg, "station", ss->host))) {
		*why = xstrdup("the back office cannot be reached");
		return -1;
	}
	switch (ra_client_run(ss->client, kind, NULL, payload, (int)config_int(ss->st->cfg, "card_station.wait_ms"), &job)) {
	case JOB_DONE:
		*result = json_incref(job.result);
		*id = job.id;
		rc = 0;
		break;
	default:	/* failed, unreachable, or still not done when the wait ran out */
		*why = xstrdup(job.error ? job.error : "?");
	}
	ra_job_clear(&job);
	return rc;
}

static int station_sub_password(void *ctx, json_t *payload, const char *password)
{
	struct station_sub *ss = ctx;
	char *sealed = secret_seal_for_workers(ss->st->cfg, password);

	if (!sealed)
		return -1;
	json_object_set_new(payload, "sealed_password", json_string(sealed));
	free(sealed);
	return 0;
}

/* The subscriber's card answered a PIN try with "blocked": count it for the station. */
static void station_sub_pin_blocked(void *arg, const char *reader)
{
	struct station_sub *ss = arg;

	station_metrics_pin_blocked(ss->st->cfg, ss->s.producer, reader, ss->command);
}

int station_sub_open(struct station_sub *ss, struct station *st, const struct sub_args *a)
{
	char *reader;
	int rc;

	memset(ss, 0, sizeof *ss);
	ss->st = st;
	ss->command = a->command;
	ss->io.submit = station_sub_submit;
	ss->io.password = station_sub_password;
	ss->io.ctx = ss;
	ss->s.io = &ss->io;
	ss->s.lang = a->lang;
	ss->s.mgm_alg = st->mgm_alg == DERIVE_MGM_AES128 ? PIV_ALG_AES128 : PIV_ALG_3DES;
	gethostname(ss->host, sizeof ss->host - 1);
	ss->s.producer = ss->host[0] ? ss->host : "station";
	if (!(reader = station_reader(st, a->reader)))
		return -1;
	rc = sub_open(&ss->s, st->pcsc, reader);
	free(reader);
	if (rc == 0)
		piv_on_pin_blocked(ss->s.p, station_sub_pin_blocked, ss);
	return rc;
}

void station_sub_close(struct station_sub *ss)
{
	sub_close(&ss->s);
	ra_client_destroy(&ss->client);
}

int sub_args_parse(int argc, char **argv, int need_account, struct sub_args *a)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "account", required_argument, NULL, 'a' },
		{ "lang", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof *a);
	a->command = argv[0];
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:a:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			a->reader = optarg;
			break;
		case 'a':
			a->account = optarg;
			break;
		case 'l':
			if (sub_lang_parse(optarg, &a->lang) < 0) {
				log_err("--lang: zh-TW or en, not \"%s\"", optarg);
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (a->reader && optind == argc && (!need_account || a->account))
		return 0;
usage:
	log_err("usage: card-station %s --reader NAME%s [--lang zh-TW|en]", argv[0],
	    need_account ? " --account ID" : "");
	return 2;
}
