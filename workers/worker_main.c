/*
 * worker_main.c: ra-worker. Takes jobs from ra-queue (Paranoid Pirate: READY, heartbeats
 * while idle, reconnect when the queue falls silent), runs the handler of the job's kind,
 * and commits the job's effects together with its completion, fenced by the lease token.
 * Only a HEARTBEAT or a JOB means the queue knows this worker: a queue that restarted
 * (ZeroMQ reconnects the socket underneath) answers a heartbeat with ERROR, and the
 * worker then says READY again.
 */
#include "config.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "officer.h"
#include "officer_check.h"
#include "seal.h"
#include "util.h"
#include "audit_checkpoint.h"
#include "handlers.h"
#include "job.h"
#include "signer_client.h"
#include "cardkey_client.h"
#include "worker_metrics.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

struct worker {
	const config_t *cfg;
	sqlite3 *db;
	zsock_t *sock;
	zcert_t *cert;
	char *endpoint, *server_cert, *kinds, *name;
	signer_client_t *signer;
	cardkey_client_t *cardkey;
	EVP_PKEY *sheet_key;
	X509_STORE *officer_cas;	/* the officer CA: officers' signatures chain to it */
	int64_t hb_ms, liveness;
	int64_t stall_ms;	/* tests: pause between prepare and apply (RA_WORKER_STALL_MS) */
};

static void usage(int code)
{
	printf("usage: ra-worker [-c CONFIG] [--name NAME] [--kinds LIST] [--check]\n"
	       "\n"
	       "Runs RA jobs handed out by ra-queue. Uses the CURVE key pair\n"
	       "keys_dir/workers/NAME.cert (default NAME: worker) for the queue and ca-signer.\n"
	       "\n"
	       "  -c, --config FILE  configuration (default: $RA_CONFIG, else embedded defaults)\n"
	       "      --name NAME    which worker key pair to use\n"
	       "      --kinds LIST   comma-separated job kinds to take (default: worker.kinds)\n"
	       "      --check        check the configuration and exit\n"
	       "      --now TIME     pretend the time is TIME (tests)\n"
	       "  -h, --help         this help\n"
	       "\nJob kinds:\n");
	for (int i = 0; i < job_nkinds; i++)
		printf("  %-14s %s\n", job_kinds[i].name, job_kinds[i].help);
	exit(code);
}

/* The handler of the kind named KIND, or NULL if the kind is unknown. */
static const struct job_handler *handler_find(const char *kind)
{
	const struct job_kind *k = job_kind_find(kind);
	return k ? &job_handlers[k->id] : NULL;
}

static void reply(struct worker *w, enum msg_cmd cmd, const struct job_ctx *ctx)
{
	msg_t *m = msg_new(cmd);
	msg_add_i64(m, ctx->id);
	msg_add_i64(m, ctx->token);
	if (cmd == MSG_FAILED) {
		json_t *detail = job_error_detail(ctx);
		msg_add_i64(m, ctx->retry);
		msg_add_str(m, ctx->error);
		msg_add_json(m, detail);
		json_decref(detail);
	}
	msg_send(&m, w->sock);
}

/* Run one job to DONE or FAILED. */
static void run_job(struct worker *w, msg_t *m)
{
	struct job_ctx ctx = { .db = w->db, .cfg = w->cfg, .signer = w->signer, .cardkey = w->cardkey, .sheet_key = w->sheet_key };
	enum { FAILED, DONE, FENCED } outcome = FAILED;
	int ok1, ok2, ok3, rc;
	char *kind = msg_str(m, 2);
	const struct job_handler *h;
	json_t *result = NULL;
	int64_t started = mono_ms();

	ctx.started_ms = started;
	ctx.id = msg_i64(m, 0, &ok1);
	ctx.token = msg_i64(m, 1, &ok2);
	ctx.attempt = msg_i64(m, 4, &ok3);
	ctx.payload = msg_json(m, 3);
	ctx.kind = kind;
	ctx.scratch = json_object();
	if (!ok1 || !ok2 || !ok3 || !kind) {
		log_err("malformed JOB message; ignored");
		goto out;
	}
	snprintf(ctx.actor, sizeof ctx.actor, "%s", w->name);
	log_info("job %lld (%s) attempt %lld", (long long)ctx.id, kind, (long long)ctx.attempt);
	if (!(h = handler_find(kind))) {
		job_fail(&ctx, 0, "this worker has no handler for job kind '%s'", kind);
		goto reply;
	}
	if (!ctx.payload) {
		job_fail(&ctx, 0, "the job's payload is not a JSON object");
		goto reply;
	}
	if (officer_check(&ctx, w->officer_cas, w->name) < 0)
		goto reply;
	if (h->prepare && h->prepare(&ctx) < 0)
		goto reply;
	if (w->stall_ms > 0)
		usleep((useconds_t)w->stall_ms * 1000);
	if (db_begin(w->db) < 0) {
		job_fail(&ctx, 1, "the ledger is busy");
		goto reply;
	}
	if (h->apply(&ctx, &result) < 0) {
		db_rollback(w->db);
		goto reply;
	}
	rc = job_complete(w->db, ctx.id, ctx.token, result);
	if (rc == 1 && db_commit(w->db) == 0) {
		outcome = DONE;
	} else {
		db_rollback(w->db);
		if (rc == 0)
			outcome = FENCED;
		else
			job_fail(&ctx, 1, "could not commit the job's effects");
	}
reply:
	switch (outcome) {
	case DONE:
		log_info("job %lld (%s) done", (long long)ctx.id, kind);
		reply(w, MSG_DONE, &ctx);
		audit_checkpoint_maybe(&ctx);
		break;
	case FENCED:
		log_warn("job %lld: its lease was taken over by another worker; rolled back", (long long)ctx.id);
		reply(w, MSG_DONE, &ctx);
		break;
	case FAILED:
		log_warn("job %lld (%s) failed: %s", (long long)ctx.id, kind, ctx.error);
		reply(w, MSG_FAILED, &ctx);
		break;
	}
	worker_metrics_job(kind, outcome == DONE ? "done" : outcome == FENCED ? "fenced" : "failed",
	    (double)(mono_ms() - started) / 1000.0);
	worker_metrics_tick(0);
out:
	json_decref(result);
	json_decref(ctx.payload);
	json_decref(ctx.scratch);
	free(kind);
}

/* Tell the queue this worker is idle and which kinds it takes. */
static int worker_ready(struct worker *w)
{
	msg_t *m = msg_new(MSG_READY);
	msg_add_str(m, w->kinds);
	return msg_send(&m, w->sock);
}

static int worker_connect(struct worker *w)
{
	zsock_destroy(&w->sock);
	w->sock = net_client(ZMQ_DEALER, w->endpoint, w->cert, w->server_cert);
	if (!w->sock)
		return -1;
	return worker_ready(w);
}

static void worker_run(struct worker *w)
{
	int64_t alive_until = mono_ms() + w->hb_ms * w->liveness, next_hb = mono_ms() + w->hb_ms;
	int64_t reconnect_ms = w->hb_ms;

	while (!zsys_interrupted) {
		zpoller_t *p = zpoller_new(w->sock, NULL);
		void *ready = zpoller_wait(p, (int)w->hb_ms);
		zpoller_destroy(&p);
		if (ready) {
			msg_t *m = msg_recv(w->sock, 0, NULL);
			alive_until = mono_ms() + w->hb_ms * w->liveness;
			reconnect_ms = w->hb_ms;
			if (m && m->cmd == MSG_JOB) {
				run_job(w, m);
				worker_ready(w);
				next_hb = mono_ms() + w->hb_ms;
			} else if (m && m->cmd == MSG_ERROR) {
				log_info("the queue does not know this worker (it restarted?); saying READY again");
				worker_ready(w);
			}
			msg_destroy(&m);
		} else if (zsys_interrupted) {
			break;
		} else if (mono_ms() > alive_until) {
			log_warn("the queue is silent; reconnecting in %lld ms", (long long)reconnect_ms);
			zclock_sleep((int)reconnect_ms);
			if (reconnect_ms < 32000)
				reconnect_ms *= 2;
			worker_connect(w);
			alive_until = mono_ms() + w->hb_ms * w->liveness;
		}
		worker_metrics_tick(0);
		if (mono_ms() >= next_hb) {
			msg_t *hb = msg_new(MSG_HEARTBEAT);
			msg_send(&hb, w->sock);
			next_hb = mono_ms() + w->hb_ms;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, 0, 'c' }, { "name", required_argument, 0, 'N' },
		{ "kinds", required_argument, 0, 'K' }, { "check", no_argument, 0, 'k' },
		{ "now", required_argument, 0, 'n' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	struct worker w = { 0 };
	const char *cfgfile = NULL, *kinds = NULL, *stall = getenv("RA_WORKER_STALL_MS");
	int check = 0, c;
	char *certpath, *dbpath, *sheetpub, *officer_ca;

	log_init("ra-worker", LV_INFO);
	w.name = "worker";
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'N': w.name = optarg; break;
		case 'K': kinds = optarg; break;
		case 'k': check = 1; break;
		case 'n': if (clock_set(optarg) < 0) fatal("--now %s is not a time", optarg); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	w.cfg = config_open(cfgfile);
	if (check) {
		printf("%s: configuration is valid\n", config_file(w.cfg));
		config_destroy((config_t **)&w.cfg);
		return 0;
	}
	w.kinds = xstrdup(kinds ? kinds : config_str(w.cfg, "worker.kinds"));
	w.hb_ms = config_int(w.cfg, "queue.heartbeat_ms");
	w.liveness = config_int(w.cfg, "queue.liveness");
	w.stall_ms = stall ? atoll(stall) : 0;

	zsys_init();
	dbpath = config_path(w.cfg, "queue.db");
	if (!(w.db = db_open(dbpath)))
		fatal("cannot open the ledger %s", dbpath);
	sheetpub = config_path(w.cfg, "sheets.public_key");
	if (!(w.sheet_key = seal_load_public(sheetpub)))
		fatal("cannot load the sheet key %s: secrets could not be sealed", sheetpub);
	officer_ca = config_path(w.cfg, "officers.ca_cert");
	if (!(w.officer_cas = officer_ca_store(officer_ca)))
		fatal("cannot load the officer CA %s: officers' signatures could not be checked", officer_ca);
	certpath = net_key_path(w.cfg, "workers", w.name);
	if (!(w.cert = net_cert_load(certpath)))
		fatal("cannot load this worker's key pair");
	w.endpoint = net_endpoint(w.cfg, "queue.worker_endpoint");
	w.server_cert = net_key_path(w.cfg, "", "queue");
	if (!(w.signer = signer_client_new(w.cfg, w.name)))
		fatal("cannot set up the connection to ca-signer");
	/* Without it only the card operations fail (and are retried): the rest goes on. */
	if (!(w.cardkey = cardkey_client_new(w.cfg, w.name)))
		log_warn("no connection to ra-cardkey: card operations will wait for it");
	if (worker_connect(&w) < 0)
		fatal("cannot connect to the queue at %s", w.endpoint);
	log_info("ra-worker %s ready (kinds: %s)", w.name, w.kinds);

	worker_metrics_init(w.cfg, w.name);
	worker_run(&w);
	worker_metrics_end();

	log_info("ra-worker stopping");
	if (w.sock) {	/* so that the queue hands it no job meanwhile, to be lost until its lease ends */
		msg_t *bye = msg_new(MSG_DISCONNECT);
		zsock_set_linger(w.sock, 200);	/* the queue may be gone already */
		msg_send(&bye, w.sock);
	}
	signer_client_destroy(&w.signer);
	cardkey_client_destroy(&w.cardkey);
	zsock_destroy(&w.sock);
	zcert_destroy(&w.cert);
	EVP_PKEY_free(w.sheet_key);
	X509_STORE_free(w.officer_cas);
	db_close(&w.db);
	free(certpath); free(dbpath); free(sheetpub); free(officer_ca); free(w.endpoint); free(w.server_cert); free(w.kinds);
	config_destroy((config_t **)&w.cfg);
	return 0;
}
