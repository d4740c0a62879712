/*
 * queue_main.c: ra-queue, the broker. It owns ra.db: producers' SUBMITs are committed
 * before they are acknowledged; jobs go to idle workers with a lease and a fencing token;
 * expired leases are dispatched again; after queue.max_attempts a job is parked as failed.
 *
 * Workers follow the Paranoid Pirate pattern: READY when idle, HEARTBEATs both ways while
 * idle, silence for queue.liveness heartbeats means dead. A worker sends DONE or FAILED and
 * then READY; only READY makes it idle, or a job handed out between the two would find it
 * busy with the next one already waiting in its socket. A busy worker is not expected
 * to heartbeat: its lease (queue.lease_ms) covers it, and the fencing token makes a late
 * worker's completion roll back. A HEARTBEAT from a worker this queue does not know (it
 * was dropped, or this queue restarted under it) is answered ERROR, never HEARTBEAT, so
 * that the worker says READY again instead of taking the answer as a sign of welcome.
 */
#include "config.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "queue.h"
#include "util.h"

#include "cli.h"
#include <signal.h>
#include <string.h>

#define MAX_WORKERS 256
#define MAX_WAITERS 4096

struct worker {
	zframe_t *id;		/* routing id */
	char name[64];		/* printable id */
	job_kind_set kinds;	/* the kinds it takes (its READY list) */
	int idle;
	uint64_t ready_seq;	/* when it last said READY (q->ready_seq): the longest idle goes first */
	unsigned pass;		/* the dispatch pass that last offered it a job */
	int64_t job;		/* the job it holds, when busy */
	int64_t expiry;		/* mono ms: presumed dead after this while idle */
};

struct waiter {
	zframe_t *id;
	int64_t job;
	int64_t deadline;	/* mono ms */
};

struct queue {
	const config_t *cfg;
	sqlite3 *db;
	zsock_t *front, *back;
	struct worker workers[MAX_WORKERS];
	int nworkers;
	struct waiter waiters[MAX_WAITERS];
	int nwaiters;
	int64_t lease_ms, hb_ms, backoff_ms;
	metrics_t *metrics;	/* written to metrics_path every metrics_ms */
	char *metrics_path;
	int64_t metrics_ms, metrics_next;
	int liveness, max_attempts;
	uint64_t ready_seq;	/* READYs counted */
	unsigned pass;		/* dispatch passes counted */
};

static void usage(int code)
{
	printf("usage: ra-queue [-c CONFIG] [--check] [--now TIME]\n"
	       "\n"
	       "The RA's broker. Owns ra.db (queue.db); producers (ra-intake, ra-self,\n"
	       "card-station, ra-ctl) connect to queue.endpoint, workers to\n"
	       "queue.worker_endpoint, both with CURVE keys on the allowlists in keys_dir\n"
	       "(clients/ and workers/). Stops cleanly on SIGTERM or SIGINT.\n"
	       "\n"
	       "  -c, --config FILE  configuration (default: $RA_CONFIG, else embedded defaults)\n"
	       "      --check        load and check the configuration, then exit\n"
	       "      --now TIME     pretend the time is TIME (tests)\n"
	       "  -h, --help         this help\n");
	exit(code);
}

static void worker_name(zframe_t *id, char out[64])
{
	char *hex = zframe_strhex(id);
	snprintf(out, 64, "w-%s", hex);
	free(hex);
}

static struct worker *worker_find(struct queue *q, zframe_t *id)
{
	for (int i = 0; i < q->nworkers; i++)
		if (zframe_eq(q->workers[i].id, id))
			return &q->workers[i];
	return NULL;
}

static void worker_drop(struct queue *q, struct worker *w)
{
	zframe_destroy(&w->id);
	*w = q->workers[--q->nworkers];
	memset(&q->workers[q->nworkers], 0, sizeof(struct worker));
}

static int worker_accepts(const char *kind, void *arg)
{
	const struct worker *w = arg;
	return job_kind_set_has(w->kinds, kind);
}

/* The idle worker that has waited longest and was not offered a job in PASS yet, or NULL. */
static struct worker *longest_idle(struct queue *q, unsigned pass)
{
	struct worker *best = NULL;

	for (int i = 0; i < q->nworkers; i++) {
		struct worker *w = &q->workers[i];
		if (w->idle && w->pass != pass && (!best || w->ready_seq < best->ready_seq))
			best = w;
	}
	return best;
}

/* Hand ready jobs to idle workers, oldest job first, to the longest idle worker first (so
 * work spreads over the workers rather than falling to the first one registered). */
static void dispatch(struct queue *q)
{
	unsigned pass = ++q->pass;
	struct worker *w;

	while ((w = longest_idle(q, pass))) {
		struct lease l;
		msg_t *m;

		w->pass = pass;
		if (ledger_lease(q->db, worker_accepts, w, w->name, q->lease_ms, &l) <= 0)
			continue;
		m = msg_new(MSG_JOB);
		m->routing = zframe_dup(w->id);
		msg_add_i64(m, l.id);
		msg_add_i64(m, l.token);
		msg_add_str(m, l.kind);
		msg_add_str(m, l.payload);
		msg_add_i64(m, l.attempt);
		msg_send(&m, q->back);
		log_debug("job %lld (%s) leased to %s, token %lld", (long long)l.id, l.kind, w->name,
		    (long long)l.token);
		w->idle = 0;
		w->job = l.id;
		lease_clear(&l);
	}
}

static void reply_state(struct queue *q, zframe_t *to, int64_t job)
{
	const char *state = "unknown";
	json_t *result = NULL;
	msg_t *m;

	if (ledger_state(q->db, job, &state, &result) < 0) {
		m = msg_new(MSG_ERROR);
		m->routing = zframe_dup(to);
		msg_add_i64(m, MERR_NOT_FOUND);
		msg_add_str(m, "no such job");
		msg_send(&m, q->front);
		return;
	}
	m = msg_new(MSG_STATE);
	m->routing = zframe_dup(to);
	msg_add_i64(m, job);
	msg_add_str(m, state);
	if (result)
		msg_add_json(m, result);
	else
		msg_add_str(m, "{}");
	json_decref(result);
	msg_send(&m, q->front);
}

static int job_finished(struct queue *q, int64_t job)
{
	const char *state = "";
	json_t *result = NULL;
	int fin = ledger_state(q->db, job, &state, &result) < 0 ||
	    strcmp(state, "done") == 0 || strcmp(state, "failed") == 0;
	json_decref(result);
	return fin;
}

/* Answer the waiters whose job is finished (or all waiters of JOB when JOB > 0) and those timed out. */
static void waiters_check(struct queue *q, int64_t job)
{
	int64_t now = mono_ms();
	for (int i = 0; i < q->nwaiters;) {
		struct waiter *w = &q->waiters[i];
		if ((job > 0 && w->job != job) && now < w->deadline) {
			i++;
			continue;
		}
		if (now >= w->deadline || job_finished(q, w->job)) {
			reply_state(q, w->id, w->job);
			zframe_destroy(&w->id);
			*w = q->waiters[--q->nwaiters];
			continue;
		}
		i++;
	}
}

/* A producer's instance with a key of its own (lib/jobs.h: station.counter2) speaks only for
 * itself: a payload that names a "station" must name it. 1 if so (or no instance); else
 * ERROR sent and 0. */
static int instance_ok(struct queue *q, msg_t *m, const char *kind, json_t *payload)
{
	const char *inst = job_producer_instance(m->peer);
	json_t *named = json_object_get(payload, "station");
	char *why;

	if (!inst || !named || (json_is_string(named) && strcmp(json_string_value(named), inst) == 0))
		return 1;
	why = xasprintf("client '%s' may submit jobs only for station '%s' (this %s job names '%s')", m->peer,
	    inst, kind, json_is_string(named) ? json_string_value(named) : "(not a name)");
	log_warn("refused a %s job from client '%s': it names another station", kind, m->peer);
	msg_send_error(q->front, m, MERR_REFUSED, why);
	free(why);
	return 0;
}

static void on_submit(struct queue *q, msg_t *m)
{
	char *kind = msg_str(m, 0), *idem = msg_str(m, 1);
	json_t *payload = msg_json(m, 2);
	const struct job_kind *k = kind ? job_kind_find(kind) : NULL;
	char who[64];
	int64_t id;
	msg_t *r;

	snprintf(who, sizeof who, "%s", m->peer[0] ? m->peer : "unknown");
	if (!k) {
		msg_send_error(q->front, m, MERR_REFUSED, "unknown job kind");
		goto out;
	}
	if (!job_kind_allows(k, m->peer)) {
		char allowed[64];
		char *why = xasprintf("client '%s' may not submit %s jobs (allowed: %s)", who, kind,
		    job_producer_list(k->producers, allowed, sizeof allowed));
		log_warn("refused a %s job from client '%s'", kind, who);
		msg_send_error(q->front, m, MERR_REFUSED, why);
		free(why);
		goto out;
	}
	if (!payload || !idem) {
		msg_send_error(q->front, m, MERR_BAD_MESSAGE, "payload is not a JSON object");
		goto out;
	}
	if (!instance_ok(q, m, kind, payload))
		goto out;
	{
		char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
		id = ledger_submit(q->db, kind, idem, text, who);
		free(text);
	}
	if (id < 0) {
		/* say why: a full disk is the operator's to fix, and nothing was accepted */
		int full = sqlite3_extended_errcode(q->db) == SQLITE_FULL || sqlite3_errcode(q->db) == SQLITE_FULL;
		msg_send_error(q->front, m, MERR_INTERNAL, full ?
		    "could not store the job: the disk holding ra.db is full (nothing was accepted; try again once the"
		    " operator has made space)" : "could not store the job; try again");
		goto out;
	}
	r = msg_new(MSG_ACK);
	r->routing = zframe_dup(m->routing);
	msg_add_i64(r, id);
	msg_send(&r, q->front);
	dispatch(q);
out:
	free(kind);
	free(idem);
	json_decref(payload);
}

/* A producer follows its own jobs (and the jobs they created); the operator's tool, all. */
static int may_follow(struct queue *q, const char *client, int64_t job)
{
	if (strcmp(client, "ctl") == 0)
		return 1;
	return db_int(q->db, "SELECT 1 FROM jobs j LEFT JOIN jobs p ON p.id = j.parent WHERE j.id = ?"
	    " AND (j.submitted_by = ?2 OR p.submitted_by = ?2)", "is", job, client) == 1;
}

static void on_wait(struct queue *q, msg_t *m)
{
	int ok1, ok2;
	int64_t job = msg_i64(m, 0, &ok1), timeout = msg_i64(m, 1, &ok2);

	if (!ok1 || !ok2 || timeout < 0) {
		msg_send_error(q->front, m, MERR_BAD_MESSAGE, "WAIT needs a job id and a timeout");
		return;
	}
	if (!may_follow(q, m->peer, job)) {
		msg_send_error(q->front, m, MERR_NOT_FOUND, "no such job");
		return;
	}
	if (timeout == 0 || job_finished(q, job) || q->nwaiters == MAX_WAITERS) {
		reply_state(q, m->routing, job);
		return;
	}
	q->waiters[q->nwaiters].id = zframe_dup(m->routing);
	q->waiters[q->nwaiters].job = job;
	q->waiters[q->nwaiters].deadline = mono_ms() + (timeout > 600000 ? 600000 : timeout);
	q->nwaiters++;
}

static void on_query(struct queue *q, msg_t *m)
{
	char *what = msg_str(m, 0), *err = NULL;
	json_t *args = msg_json(m, 1), *ans = NULL;
	msg_t *r;

	if (!what || !args)
		msg_send_error(q->front, m, MERR_BAD_MESSAGE, "QUERY needs a name and a JSON object");
	else if (!(ans = queue_query(q->db, m->peer, what, args, &err)))
		msg_send_error(q->front, m, MERR_REFUSED, err ? err : "refused");
	else {
		r = msg_new(MSG_ANSWER);
		r->routing = zframe_dup(m->routing);
		msg_add_json(r, ans);
		msg_send(&r, q->front);
	}
	free(what);
	free(err);
	json_decref(args);
	json_decref(ans);
}

static void on_front(struct queue *q)
{
	const char *why = NULL;
	msg_t *m = msg_recv(q->front, 1, &why);
	if (!m)
		return;
	switch (m->cmd) {
	case MSG_SUBMIT: on_submit(q, m); break;
	case MSG_WAIT: on_wait(q, m); break;
	case MSG_QUERY: on_query(q, m); break;
	case MSG_NCMDS: msg_send_error(q->front, m, MERR_BAD_MESSAGE, why); break;
	default: msg_send_error(q->front, m, MERR_BAD_MESSAGE, "not a producer's command"); break;
	}
	msg_destroy(&m);
}

static void on_back(struct queue *q)
{
	msg_t *m = msg_recv(q->back, 1, NULL);
	struct worker *w;
	int ok1 = 0, ok2 = 0, ok3 = 0;

	if (!m)
		return;
	w = worker_find(q, m->routing);
	switch (m->cmd) {
	case MSG_READY:
		if (!w && q->nworkers < MAX_WORKERS) {
			w = &q->workers[q->nworkers++];
			w->id = zframe_dup(m->routing);
			worker_name(w->id, w->name);
			log_info("worker %s is ready", w->name);
		}
		if (w) {
			char *kinds = msg_str(m, 0);
			w->kinds = job_kind_set_parse(kinds);
			free(kinds);
			w->idle = 1;
			w->ready_seq = ++q->ready_seq;
		}
		break;
	case MSG_HEARTBEAT:
		if (!w) {	/* dropped, or met before this queue restarted: it must say READY again */
			log_info("heartbeat from unknown worker; asking it to say READY");
			msg_send_error(q->back, m, MERR_NOT_FOUND, "unknown worker: say READY");
		}
		break;
	case MSG_DISCONNECT:	/* a worker stopping: hand it nothing more */
		if (w) {
			log_info("worker %s is stopping", w->name);
			worker_drop(q, w);
			w = NULL;
		}
		break;
	case MSG_DONE: {	/* the job has ended; the READY that follows makes the worker idle */
		int64_t job = msg_i64(m, 0, &ok1);
		if (w)
			w->job = 0;
		if (ok1)
			waiters_check(q, job);
		break;
	}
	case MSG_FAILED: {
		int64_t job = msg_i64(m, 0, &ok1), token = msg_i64(m, 1, &ok2);
		int64_t retry = msg_i64(m, 2, &ok3);
		char *error = msg_str(m, 3);
		json_t *detail = msg_json(m, 4);
		if (ok1 && ok2 && ok3 && error)
			ledger_fail(q->db, job, token, retry == JOB_RETRY_WAIT ? JOB_RETRY_WAIT : retry != 0, error,
			    detail, q->max_attempts, q->backoff_ms);
		json_decref(detail);
		if (w)
			w->job = 0;
		free(error);
		if (ok1)
			waiters_check(q, job);
		break;
	}
	default:
		log_warn("worker sent an unexpected %s", msg_table[m->cmd].name);
		break;
	}
	if (w)
		w->expiry = mono_ms() + q->hb_ms * q->liveness;
	msg_destroy(&m);
	dispatch(q);
}

static void on_expired(int64_t job, const char *name, void *arg)
{
	struct queue *q = arg;
	(void)job;
	for (int i = 0; i < q->nworkers; i++)
		if (strcmp(q->workers[i].name, name) == 0 && !q->workers[i].idle) {
			worker_drop(q, &q->workers[i]);
			break;
		}
}

static void metrics_write_now(struct queue *q)
{
	int idle = 0;
	for (int i = 0; i < q->nworkers; i++)
		idle += q->workers[i].idle != 0;
	queue_metrics_collect(q->metrics, q->db, q->nworkers, idle);
	metrics_write(q->metrics, q->metrics_path);
}

/* Timers: heartbeats to idle workers, dead idle workers, expired leases, waiters, metrics. */
static void tick(struct queue *q)
{
	int64_t now = mono_ms();
	int n;
	for (int i = 0; i < q->nworkers;) {
		struct worker *w = &q->workers[i];
		if (w->idle && now > w->expiry) {
			log_warn("worker %s is silent; dropped", w->name);
			worker_drop(q, w);
			continue;
		}
		if (w->idle) {
			msg_t *m = msg_new(MSG_HEARTBEAT);
			m->routing = zframe_dup(w->id);
			msg_send(&m, q->back);
		}
		i++;
	}
	ledger_clock_check(q->db, q->lease_ms, q->backoff_ms << 10 > 60000 ? q->backoff_ms << 10 : 60000);
	n = ledger_expire(q->db, q->max_attempts, on_expired, q);
	if (n > 0)
		metrics_add(q->metrics, "ra_lease_expiries_total", n, NULL);
	waiters_check(q, -1);
	dispatch(q);
	if (now >= q->metrics_next) {
		metrics_write_now(q);
		q->metrics_next = now + q->metrics_ms;
	}
}

static int queue_run(struct queue *q)
{
	zpoller_t *p = zpoller_new(q->front, q->back, NULL);
	int64_t next_tick = mono_ms() + q->hb_ms;

	log_info("ra-queue ready (ledger %s)", config_str(q->cfg, "queue.db"));
	while (!zsys_interrupted) {
		int64_t wait = next_tick - mono_ms();
		void *which = zpoller_wait(p, (int)(wait > 0 ? (wait < 200 ? wait : 200) : 0));
		if (which == q->front)
			on_front(q);
		else if (which == q->back)
			on_back(q);
		else if (zpoller_terminated(p))
			break;
		if (mono_ms() >= next_tick) {
			tick(q);
			next_tick = mono_ms() + (q->hb_ms < 250 ? q->hb_ms : 250);
		}
	}
	zpoller_destroy(&p);
	log_info("ra-queue stopping");
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_daemon opt;
		struct queue *q = xcalloc(1, sizeof *q);
	char *dbpath, *front, *back, *certpath, *dir;
	zcert_t *cert;

	log_init("ra-queue", LV_INFO);
	cli_daemon_parse(argc, argv, usage, &opt);
	q->cfg = config_open(opt.config);
	if (opt.check) {
		printf("%s: configuration is valid\n", config_file(q->cfg));
		config_destroy((config_t **)&q->cfg);
		free(q);
		return 0;
	}
	q->lease_ms = config_int(q->cfg, "queue.lease_ms");
	q->hb_ms = config_int(q->cfg, "queue.heartbeat_ms");
	q->liveness = (int)config_int(q->cfg, "queue.liveness");
	q->max_attempts = (int)config_int(q->cfg, "queue.max_attempts");
	q->backoff_ms = config_int(q->cfg, "queue.retry_backoff_ms");

	zsys_init();
	zsys_catch_interrupts();
	dbpath = config_path(q->cfg, "queue.db");
	if (!(q->db = db_open(dbpath)))
		fatal("cannot open the ledger %s", dbpath);
	dir = config_path(q->cfg, "keys_dir");
	{
		char *clients = xasprintf("%s/clients", dir), *workers = xasprintf("%s/workers", dir);
		if (net_auth_allow_dir("clients", clients) < 0 || net_auth_allow_dir("workers", workers) < 0)
			fatal("cannot read the allowlists in %s", dir);
		free(clients);
		free(workers);
	}
	if (net_auth_start() < 0)
		fatal("cannot start the ZAP handler");
	certpath = net_key_path(q->cfg, "", "queue");
	if (!(cert = net_cert_load(certpath)))
		fatal("cannot load the queue's key pair");
	front = net_endpoint(q->cfg, "queue.endpoint");
	back = net_endpoint(q->cfg, "queue.worker_endpoint");
	if (!(q->front = net_server(ZMQ_ROUTER, front, cert, "clients")) ||
	    !(q->back = net_server(ZMQ_ROUTER, back, cert, "workers")))
		fatal("cannot bind %s and %s", front, back);
	zsock_set_router_mandatory(q->back, 0);
	q->metrics = queue_metrics_new();
	q->metrics_path = metrics_path(q->cfg, "ra-queue");
	q->metrics_ms = config_int(q->cfg, "metrics.interval_ms");

	queue_run(q);
	metrics_write_now(q);

	for (int i = 0; i < q->nwaiters; i++)
		zframe_destroy(&q->waiters[i].id);
	while (q->nworkers)
		worker_drop(q, &q->workers[0]);
	zsock_destroy(&q->front);
	zsock_destroy(&q->back);
	zcert_destroy(&cert);
	net_auth_stop();
	db_close(&q->db);
	metrics_destroy(&q->metrics);
	free(q->metrics_path);
	free(dbpath); free(front); free(back); free(certpath); free(dir);
	config_destroy((config_t **)&q->cfg);
	free(q);
	return 0;
}
