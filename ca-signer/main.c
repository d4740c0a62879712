/*
 * main.c: ca-signer, the isolated key holder. It loads the CA key, binds one socket that
 * accepts only the workers' CURVE keys, drops privileges, installs its seccomp allow-list
 * (lib/sandbox.c) and then answers SIGN, STATUS and CRL requests, nothing else.
 * With $RA_SANDBOX_TEST set it attempts that one call under the very same sandbox instead
 * of serving (the tests' proof that the forbidden calls kill it).
 *
 * Group commit: every request waiting on the socket is taken at once (up to a batch),
 * handled inside one signer.db transaction, committed once, and answered only once the
 * commit is on disk, so an answered certificate is always on disk and the fsync cost is
 * shared by the batch. A batch goes through three stages: signing (its SIGN requests
 * were checked and looked up on the main thread, then queued to the signing threads),
 * syncing (stored and committed in one transaction, the fsync under way on the syncing
 * thread) and answered. The main thread never signs: it receives and checks the next
 * batch, stores and commits the one whose signatures are done and answers the ones whose
 * sync is done, while the signing threads sign; up to two batches are in the signing
 * stage, so the threads go from one to the next without waiting for the main thread.
 * The threads wake the main loop through an eventfd (the notifier) when a batch's
 * signatures are done and when a sync settles; batches are answered in the order they
 * came.
 * CRLs: after status changes (debounced) a delta CRL (a complete one when deltas are
 * off); a complete CRL when a worker asks for one; a new base CRL whenever the last base
 * is half-way to its nextUpdate, and a delta whenever the last delta is.
 */
#include "b64.h"
#include "config.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "sandbox.h"
#include "signer.h"
#include "signer_metrics.h"
#include "clock.h"
#include "util.h"

#include "cli.h"
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define BATCH_MAX 256
#define CRL_DEBOUNCE_MS 300
#define SIGNING_MAX 2	/* batches in the signing stage at once */
#define RING 8		/* batches on their way: signing, then syncing */

struct reply {
	msg_t *msg;		/* the answer if the batch commits */
	msg_t *req;		/* the request, to answer ERROR if it does not */
	double t0;		/* when it was received (signer_metrics_clock) */
};

/* A SIGN request's fields, read from its frames (owned here until the batch is answered). */
struct sign_slot {
	char *rid, *usage;
	json_t *subject;
};

/* The requests taken from the socket at once, from their reception to their answers. */
struct batch {
	enum { BATCH_SIGNING, BATCH_SYNCING } stage;
	int n, nsign;
	struct reply r[BATCH_MAX];
	struct sign_slot slots[BATCH_MAX];
	struct sign_request reqs[BATCH_MAX];
	struct sign_result res[BATCH_MAX];
	int at[BATCH_MAX];	/* batch index of each SIGN request */
	signer_job_t *job;	/* its signatures, while signing */
	uint64_t ticket;	/* its sync, while syncing (0: durable already) */
};

struct ca {
	const config_t *cfg;
	signer_t *signer;
	zsock_t *sock;
	int64_t crl_due;	/* mono ms; 0: nothing pending */
	int64_t base_refresh_ms, delta_refresh_ms;
	int64_t last_base, last_delta;	/* mono ms of the last publications */
	struct batch *ring[RING];	/* batches on their way, oldest at ring[head] */
	int head, count, signing;
	int wake_fd;		/* eventfd: the signer's threads wake the loop */
	metrics_t *metrics;	/* ca-signer.prom in signer.db's folder, every metrics_ms */
	int metrics_dirfd;	/* that folder (the sandbox lets it write there) */
	char *crl_dir;
	int64_t metrics_ms, metrics_next;
};

static void usage(int code)
{
	printf("usage: ca-signer [-c CONFIG] [--check] [--now TIME]\n"
	       "\n"
	       "The RA's isolated CA signer. Holds the CA key (signer.key, an encrypted PEM, or a\n"
	       "PKCS#11 token) and signer.db; serves SIGN, STATUS and CRL requests from the workers\n"
	       "whose CURVE keys are in keys_dir/workers on signer.endpoint. Certificates are built\n"
	       "from the signer's own profile (signer.* keys), never from the request.\n"
	       "\n"
	       "  -c, --config FILE  configuration (default: $RA_CONFIG, else embedded defaults)\n"
	       "      --check        load the configuration and the CA key, then exit\n"
	       "      --now TIME     pretend the time is TIME (tests)\n"
	       "  -h, --help         this help\n");
	exit(code);
}

static msg_t *answer(const msg_t *req, enum msg_cmd cmd)
{
	msg_t *m = msg_new(cmd);
	m->routing = zframe_dup(req->routing);
	return m;
}

static msg_t *error_for(const msg_t *req, enum msg_err code, const char *text)
{
	msg_t *m = answer(req, MSG_ERROR);
	msg_add_i64(m, code);
	msg_add_str(m, text);
	return m;
}

static void sign_slot_clear(struct sign_slot *sl)
{
	free(sl->rid);
	free(sl->usage);
	json_decref(sl->subject);
	memset(sl, 0, sizeof *sl);
}

/* Read a SIGN request into REQ; NULL, or the ERROR answer when it is malformed. */
static msg_t *sign_read(const msg_t *m, struct sign_slot *sl, struct sign_request *req)
{
	sl->rid = msg_str(m, 0);
	sl->usage = msg_str(m, 1);
	sl->subject = msg_json(m, 3);
	if (!sl->rid || !sl->usage || !sl->subject)
		return error_for(m, MERR_BAD_MESSAGE, "SIGN needs a request id, a usage, a CSR and a subject object");
	*req = (struct sign_request){
		.request_id = sl->rid, .usage = sl->usage, .csr_der = msg_data(m, 2), .csr_len = msg_len(m, 2),
		.subject_name = json_string_value(json_object_get(sl->subject, "name")),
		.subject_serial = json_string_value(json_object_get(sl->subject, "account")),
		.email = json_string_value(json_object_get(sl->subject, "email")),
	};
	if (!req->subject_name || !req->subject_serial)
		return error_for(m, MERR_BAD_MESSAGE, "the subject needs a name and an account");
	return NULL;
}

/* The answer to one signed (or refused) request. */
static msg_t *sign_answer(const msg_t *m, const struct sign_request *req, struct sign_result *res)
{
	msg_t *a;
	if (!res->der) {
		log_warn("refused %s (%s): %s", req->request_id, req->usage, res->error);
		return error_for(m, MERR_REFUSED, res->error);
	}
	/* issue.c has logged the issuance already: one line per certificate is enough. */
	a = answer(m, MSG_CERT);
	msg_add_mem(a, res->der, res->der_len);
	msg_add_str(a, res->serial);
	return a;
}

static msg_t *on_status(struct ca *ca, const msg_t *req)
{
	char *rid = msg_str(req, 0), *serial = msg_str(req, 1), *action = msg_str(req, 2), *why = msg_str(req, 3);
	char err[SIGNER_ERR_LEN] = "";
	int ok, rc = -1, reason = -1;
	int64_t invalidity = msg_i64(req, 4, &ok);
	struct signer_cert_status st;
	msg_t *m;

	if (!rid || !serial || !action || !why || !ok) {
		m = error_for(req, MERR_BAD_MESSAGE, "STATUS needs request id, serial, action, reason, invalidity");
		goto out;
	}
	if (strcmp(action, "revoke") == 0) {
		reason = signer_reason_parse(why);
		if (reason < 0)
			snprintf(err, sizeof err, "unknown revocation reason '%s'", why);
		else
			rc = signer_revoke(ca->signer, rid, serial, reason, (time_t)invalidity, err);
	} else if (strcmp(action, "hold") == 0) {
		rc = signer_hold(ca->signer, rid, serial, err);
	} else if (strcmp(action, "release") == 0) {
		rc = signer_release(ca->signer, rid, serial, err);
	} else if (strcmp(action, "query") == 0) {
		rc = 0;
	} else {
		snprintf(err, sizeof err, "unknown action '%s' (revoke, hold, release, query)", action);
	}
	if (rc == 0)
		rc = signer_status(ca->signer, serial, &st, err);
	if (rc < 0) {
		log_warn("status change %s on %s refused: %s", action, serial, err);
		m = error_for(req, MERR_REFUSED, err);
		goto out;
	}
	if (strcmp(action, "query") != 0) {
		log_info("certificate %s: %s (%s)", st.serial, signer_cert_state_name(st.state), rid);
		if (!ca->crl_due)
			ca->crl_due = mono_ms() + CRL_DEBOUNCE_MS;
	}
	m = answer(req, MSG_ANSWER);
	{
		json_t *j = json_pack("{s:s,s:s,s:b,s:s?}", "serial", st.serial, "status",
		    signer_cert_state_name(st.state), "expired", st.expired,
		    "reason", st.reason >= 0 ? signer_reason_name(st.reason) : NULL);
		msg_add_json(m, j);
		json_decref(j);
	}
out:
	free(rid);
	free(serial);
	free(action);
	free(why);
	return m;
}

/* CHECKPOINT rows, head: sign the RA's audit head (ca-signer/checkpoint.c). */
static msg_t *on_checkpoint(struct ca *ca, const msg_t *req)
{
	char *head = msg_str(req, 1), *b64 = NULL, err[SIGNER_ERR_LEN] = "";
	int ok;
	int64_t rows = msg_i64(req, 0, &ok), at = 0;
	uint8_t *sig = NULL;
	size_t len = 0;
	msg_t *m;
	json_t *j;

	if (!ok || !head || signer_checkpoint(ca->signer, rows, head, &at, &sig, &len, err) < 0) {
		log_warn("audit checkpoint refused: %s", err[0] ? err : "malformed");
		m = error_for(req, err[0] ? MERR_REFUSED : MERR_BAD_MESSAGE, err[0] ? err : "CHECKPOINT needs rows, head");
		goto out;
	}
	b64 = b64_encode(sig, len);
	m = answer(req, MSG_ANSWER);
	j = json_pack("{s:I,s:s,s:I,s:s}", "rows", (json_int_t)rows, "head", head, "at", (json_int_t)at,
	    "signature", b64);
	msg_add_json(m, j);
	json_decref(j);
out:
	free(head);
	free(sig);
	free(b64);
	return m;
}

/* Publish a CRL of KIND, and the delta that goes with it when deltas are on. */
static void crl_publish(struct ca *ca, enum signer_crl_kind kind)
{
	char err[SIGNER_ERR_LEN];
	int deltas = signer_crl_deltas(ca->signer);

	if (!deltas && kind == SIGNER_CRL_DELTA)
		kind = SIGNER_CRL_COMPLETE;
	/* A new base also writes the issued list again, in case an append failed. */
	if ((kind == SIGNER_CRL_BASE && signer_issued_publish(ca->signer, err) < 0) ||
	    signer_crl_publish(ca->signer, kind, err) < 0 ||
	    (deltas && kind != SIGNER_CRL_DELTA &&
	    signer_crl_publish(ca->signer, SIGNER_CRL_DELTA, err) < 0)) {
		log_err("CRL not published: %s", err);
		ca->crl_due = mono_ms() + 5000;
		return;
	}
	ca->crl_due = 0;
	ca->last_delta = mono_ms();
	if (kind == SIGNER_CRL_BASE || !deltas)
		ca->last_base = ca->last_delta;
}

/* The signer's threads: a batch's signatures are done, or a sync settled. */
static void ca_wake(void *arg)
{
	struct ca *ca = arg;
	uint64_t one = 1;

	if (write(ca->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("cannot wake the main loop: %s", strerror(errno));
}

static struct batch *ring_at(struct ca *ca, int i)
{
	return ca->ring[(ca->head + i) % RING];
}

/* Send a batch's answers (all of them errors if its sync failed) and free its requests. */
static void batch_answer(struct ca *ca, struct batch *b, int durable)
{
	if (durable < 0) {
		log_err("signer.db sync failed: answering %d request(s) with an error", b->n);
		for (int i = 0; i < b->n; i++) {
			msg_destroy(&b->r[i].msg);
			b->r[i].msg = error_for(b->r[i].req, MERR_INTERNAL, "signer journal sync failed; try again");
		}
	}
	for (int i = 0; i < b->n; i++) {
		if (b->r[i].msg->cmd == MSG_ANSWER && b->r[i].req->cmd == MSG_CRL) {
			json_t *j = json_pack("{s:I}", "crl_number", (json_int_t)signer_crl_number(ca->signer));
			msg_add_json(b->r[i].msg, j);
			json_decref(j);
		}
		signer_metrics_answered(ca->metrics, b->r[i].req, b->r[i].msg, b->r[i].t0);
		msg_send(&b->r[i].msg, ca->sock);
		msg_destroy(&b->r[i].req);
	}
	b->n = 0;
}

/*
 * Answer the oldest batches in the syncing stage whose sync is done, in order; with WAIT,
 * every batch in that stage, waiting for their syncs. Until its sync is done nothing of a
 * batch may be reported as stored. Returns how many were answered.
 */
static int answer_durable(struct ca *ca, int wait)
{
	int answered = 0;

	while (ca->count > 0) {
		struct batch *b = ring_at(ca, 0);
		int durable = b->stage != BATCH_SYNCING ? 0 :
		    signer_batch_durable(ca->signer, b->ticket, wait);
		if (durable == 0)
			break;
		batch_answer(ca, b, durable);
		ca->head = (ca->head + 1) % RING;
		ca->count--;
		answered++;
	}
	return answered;
}

/* Take every waiting request (up to a batch) into B, and start signing its SIGN requests. */
static void batch_receive(struct ca *ca, struct batch *b)
{
	int n = 0, nsign = 0;

	while (n < BATCH_MAX) {
		const char *why = NULL;
		/* The socket does not wait (its receive time-out is 0): no request, no message.
		 * Asking ZMQ_EVENTS before each one cost a system call per request. */
		msg_t *req = msg_recv(ca->sock, 1, &why);
		if (!req)
			break;
		b->r[n].req = req;
		b->r[n].msg = NULL;
		b->r[n].t0 = signer_metrics_clock();
		if (req->cmd == MSG_SIGN) {
			b->r[n].msg = sign_read(req, &b->slots[nsign], &b->reqs[nsign]);
			if (b->r[n].msg)
				sign_slot_clear(&b->slots[nsign]);
			else
				b->at[nsign++] = n;
		} else if (req->cmd == MSG_NCMDS) {
			b->r[n].msg = error_for(req, MERR_BAD_MESSAGE, why);
		} else if (req->cmd != MSG_STATUS && req->cmd != MSG_CRL && req->cmd != MSG_CHECKPOINT) {
			b->r[n].msg = error_for(req, MERR_BAD_MESSAGE, "ca-signer answers SIGN, STATUS, CRL and"
			    " CHECKPOINT only");
		}
		n++;
	}
	b->n = n;
	b->nsign = nsign;
	b->ticket = 0;
	b->stage = BATCH_SIGNING;
	b->job = nsign > 0 ? signer_issue_start(ca->signer, b->reqs, b->res, (size_t)nsign) : NULL;
}

/*
 * The oldest signing batch B, its signatures done: store them and handle the batch's
 * status changes in one transaction, commit it and start its sync. A CRL request is
 * answered with a CRL published from what is on disk, so its batch waits for its sync
 * (and every batch before it is answered first).
 */
static void batch_finish(struct ca *ca, struct batch *b)
{
	int want_crl = 0, failed = 0, overlap;

	signer_batch_begin(ca->signer);
	if (b->job) {
		failed = signer_issue_finish(ca->signer, &b->job) < 0;
		for (int i = 0; i < b->nsign; i++)
			b->r[b->at[i]].msg = sign_answer(b->r[b->at[i]].req, &b->reqs[i], &b->res[i]);
	}
	for (int i = 0; i < b->n; i++) {
		msg_t *req = b->r[i].req;
		if (b->r[i].msg)
			continue;
		if (req->cmd == MSG_STATUS)
			b->r[i].msg = on_status(ca, req);
		else if (req->cmd == MSG_CHECKPOINT)
			b->r[i].msg = on_checkpoint(ca, req);
		else if (req->cmd == MSG_CRL) {
			want_crl = 1;
			b->r[i].msg = answer(req, MSG_ANSWER);
		}
	}
	/* Sync on the syncing thread only while issuing with more work on its way or
	 * waiting, which the sync can hide behind. Status changes come one at a time from
	 * each worker: there, the thread's wake-ups would only add to each answer's wait
	 * (bulk revocation ran at half its rate). */
	overlap = b->nsign > 0 && (ca->count > 1 || (zsock_events(ca->sock) & ZMQ_POLLIN) != 0);
	if (failed || (overlap ? signer_batch_commit_async(ca->signer, &b->ticket) :
	    signer_batch_commit(ca->signer)) < 0) {
		log_err("signer.db commit failed: answering %d request(s) with an error", b->n);
		signer_batch_rollback(ca->signer);
		for (int i = 0; i < b->n; i++) {
			msg_destroy(&b->r[i].msg);
			b->r[i].msg = error_for(b->r[i].req, MERR_INTERNAL, "signer journal commit failed; try again");
		}
		want_crl = 0;
		b->ticket = 0;
	}
	for (int i = 0; i < b->nsign; i++) {
		signer_result_clear(&b->res[i]);
		sign_slot_clear(&b->slots[i]);
	}
	b->stage = BATCH_SYNCING;
	ca->signing--;
	if (want_crl) {
		/* A CRL is published from what is on disk, and answered with its number. */
		signer_batch_durable(ca->signer, b->ticket, 1);
		crl_publish(ca, SIGNER_CRL_COMPLETE);
		answer_durable(ca, 1);	/* every batch up to this one, in order */
	}
}

/*
 * One round of the loop's work, whatever can be done without waiting: receive a batch if
 * requests wait and fewer than SIGNING_MAX are being signed (before anything else, so
 * that the signing threads never run out of work), store and commit the oldest signing
 * batch once its signatures are done, answer every batch whose sync is done. 1 when
 * something was done.
 */
static int ca_step(struct ca *ca)
{
	int did = 0;

	if (ca->signing < SIGNING_MAX && ca->count < RING &&
	    (zsock_events(ca->sock) & ZMQ_POLLIN)) {
		batch_receive(ca, ring_at(ca, ca->count));
		ca->count++;
		ca->signing++;
		did = 1;
	}
	for (int i = 0; i < ca->count; i++) {
		struct batch *b = ring_at(ca, i);
		if (b->stage != BATCH_SIGNING)
			continue;
		if (!b->job || signer_issue_ready(ca->signer, b->job)) {
			batch_finish(ca, b);
			did = 1;
		}
		break;	/* batches are finished in the order they came */
	}
	if (answer_durable(ca, 0) > 0)
		did = 1;
	return did;
}

/*
 * Sleep until a request comes (when one could be taken), the signer's threads wake us,
 * or TIMEOUT_MS passes.
 */
static void ca_sleep(struct ca *ca, long timeout_ms)
{
	zmq_pollitem_t items[2] = {
		{ .fd = ca->wake_fd, .events = ZMQ_POLLIN },
		{ .socket = zsock_resolve(ca->sock), .events = ZMQ_POLLIN },
	};
	int nitems = ca->signing < SIGNING_MAX && ca->count < RING ? 2 : 1;
	uint64_t v;

	if (zmq_poll(items, nitems, timeout_ms) > 0 && (items[0].revents & ZMQ_POLLIN) &&
	    read(ca->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_warn("cannot read the wake-up counter: %s", strerror(errno));
}

/* Shut-down: finish every batch on its way, in order, and answer it. */
static void ca_drain(struct ca *ca)
{
	for (int i = 0; i < ca->count; i++) {
		struct batch *b = ring_at(ca, i);
		if (b->stage == BATCH_SIGNING)
			batch_finish(ca, b);
	}
	answer_durable(ca, 1);
}

/* The metrics file, with the CRL figures read back from what was published. */
static void metrics_write_now(struct ca *ca)
{
	signer_metrics_crl(ca->metrics, ca->crl_dir);
	metrics_set(ca->metrics, "ra_metrics_written_timestamp_seconds", (double)ra_now(), "program", "ca-signer", NULL);
	metrics_write_at(ca->metrics, ca->metrics_dirfd, "ca-signer.prom");
	ca->metrics_next = mono_ms() + ca->metrics_ms;
}

static void ca_run(struct ca *ca)
{
	log_info("ca-signer ready");
	while (!zsys_interrupted) {
		/* Work while there is work; sleep only when nothing can move without waiting. */
		if (!ca_step(ca))
			ca_sleep(ca, 200);
		if (mono_ms() - ca->last_base > ca->base_refresh_ms)
			crl_publish(ca, SIGNER_CRL_BASE);
		else if ((ca->crl_due && mono_ms() >= ca->crl_due) ||
		    mono_ms() - ca->last_delta > ca->delta_refresh_ms)
			crl_publish(ca, SIGNER_CRL_DELTA);
		if (mono_ms() >= ca->metrics_next)
			metrics_write_now(ca);
	}
	ca_drain(ca);
	metrics_write_now(ca);
}

int main(int argc, char **argv)
{
	struct cli_daemon opt;
	struct ca ca = { 0 };
	char *dir, *workers, *certpath, *endpoint, *dbpath;
	const char *selftest;
	struct sandbox_dirs dirs = { -1, -1 };
	zcert_t *cert;

	log_init("ca-signer", LV_INFO);
	/*
	 * Every certificate allocates and frees a few hundred kilobytes across the signing
	 * threads; glibc would hand that memory back to the kernel after each batch and
	 * fault it in again (brk, munmap and page faults were some 5 % of the signer's time).
	 * Keep it: the signer's heap stays at its working size.
	 */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	cli_daemon_parse(argc, argv, usage, &opt);
	ca.cfg = config_open(opt.config);
	if (!(ca.signer = signer_new(ca.cfg)))
		fatal("cannot start the signer (CA key, certificate or signer.db): see above");
	if (opt.check) {
		printf("%s: configuration and CA key are valid\n", config_file(ca.cfg));
		signer_destroy(&ca.signer);
		config_destroy((config_t **)&ca.cfg);
		return 0;
	}
	/* The wake-up counter is made before the sandbox, like every descriptor the signer
	 * holds; the signer's threads only write to it and the loop reads and polls it, the
	 * calls ZeroMQ's own eventfd mailboxes make already: the allow-list needs nothing new. */
	if ((ca.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		fatal("cannot make the main loop's wake-up counter: %s", strerror(errno));
	for (int i = 0; i < RING; i++)
		ca.ring[i] = xcalloc(1, sizeof *ca.ring[i]);
	signer_set_notify(ca.signer, ca_wake, &ca);
	ca.base_refresh_ms = config_int(ca.cfg, "signer.crl_next_update_hours") * 3600 * 1000 / 2;
	ca.delta_refresh_ms = config_int(ca.cfg, "signer.delta_next_update_minutes") * 60 * 1000 / 2;

	ca.metrics = signer_metrics_new();
	ca.crl_dir = config_path(ca.cfg, "signer.crl_dir");
	ca.metrics_ms = config_int(ca.cfg, "metrics.interval_ms");

	zsys_init();
	dir = config_path(ca.cfg, "keys_dir");
	workers = xasprintf("%s/workers", dir);
	if (net_auth_allow_dir("workers", workers) < 0 || net_auth_start() < 0)
		fatal("cannot set up the workers' allowlist %s", workers);
	certpath = net_key_path(ca.cfg, "", "signer");
	if (!(cert = net_cert_load(certpath)))
		fatal("cannot load the signer's key pair");
	endpoint = net_endpoint(ca.cfg, "signer.endpoint");
	if (!(ca.sock = net_server(ZMQ_ROUTER, endpoint, cert, "workers")))
		fatal("cannot bind %s", endpoint);
	zsock_set_rcvtimeo(ca.sock, 0);	/* batch_receive takes what waits, never waits */
	dbpath = config_path(ca.cfg, "signer.db");
	if (sandbox_sqlite_confine(dbpath, &dirs.db_fd) < 0)
		fatal("cannot confine signer.db to its folder");
	dirs.crl_fd = signer_crl_fd(ca.signer);
	ca.metrics_dirfd = dirs.db_fd;
	signer_metrics_link(ca.cfg, dbpath);
	if (sandbox_drop_user(config_str(ca.cfg, "signer.user")) < 0)
		fatal("cannot drop privileges");
	if (config_bool(ca.cfg, "signer.seccomp") && sandbox_seccomp(&dirs) < 0)
		fatal("cannot install the seccomp filter");
	if ((selftest = getenv("RA_SANDBOX_TEST"))) {
		int rc = sandbox_selftest(selftest, &dirs);
		fflush(NULL);
		_exit(rc);	/* a test only: no clean shut-down of sockets it never served */
	}
	crl_publish(&ca, SIGNER_CRL_BASE);

	ca_run(&ca);

	log_info("ca-signer stopping");
	zsock_destroy(&ca.sock);
	zcert_destroy(&cert);
	net_auth_stop();
	signer_destroy(&ca.signer);
	for (int i = 0; i < RING; i++)
		free(ca.ring[i]);
	close(ca.wake_fd);
	metrics_destroy(&ca.metrics);
	free(ca.crl_dir);
	free(dir); free(workers); free(certpath); free(endpoint); free(dbpath);
	config_destroy((config_t **)&ca.cfg);
	return 0;
}
