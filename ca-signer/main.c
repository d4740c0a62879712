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
 * shared by the batch. The fsync runs on the syncing thread while the next batch is
 * received and signed; that batch answers the previous one just before its own commit
 * (or the loop does, as soon as nothing else is waiting).
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
#include <malloc.h>
#include <string.h>
#include <unistd.h>

#define BATCH_MAX 256
#define CRL_DEBOUNCE_MS 300

struct reply {
	msg_t *msg;		/* the answer if the batch commits */
	msg_t *req;		/* the request, to answer ERROR if it does not */
	double t0;		/* when it was received (signer_metrics_clock) */
};

struct ca {
	const config_t *cfg;
	signer_t *signer;
	zsock_t *sock;
	int64_t crl_due;	/* mono ms; 0: nothing pending */
	int64_t base_refresh_ms, delta_refresh_ms;
	int64_t last_base, last_delta;	/* mono ms of the last publications */
	struct reply pending[BATCH_MAX];	/* the last batch, committed, its sync under way */
	int npending;
	uint64_t pending_ticket;
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

/* A SIGN request's fields, read from its frames (owned here until the batch is answered). */
struct sign_slot {
	char *rid, *usage;
	json_t *subject;
};

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

/*
 * Answer the pending batch once its sync is done (waiting for it), or with an error if
 * the sync failed: until then nothing of it may be reported as stored.
 */
static void answer_pending(struct ca *ca)
{
	struct reply *b = ca->pending;
	int n = ca->npending;

	if (n == 0)
		return;
	if (ca->pending_ticket && signer_batch_durable(ca->signer, ca->pending_ticket, 1) < 0) {
		log_err("signer.db sync failed: answering %d request(s) with an error", n);
		for (int i = 0; i < n; i++) {
			msg_destroy(&b[i].msg);
			b[i].msg = error_for(b[i].req, MERR_INTERNAL, "signer journal sync failed; try again");
		}
	}
	for (int i = 0; i < n; i++) {
		if (b[i].msg->cmd == MSG_ANSWER && b[i].req->cmd == MSG_CRL) {
			json_t *j = json_pack("{s:I}", "crl_number", (json_int_t)signer_crl_number(ca->signer));
			msg_add_json(b[i].msg, j);
			json_decref(j);
		}
		signer_metrics_answered(ca->metrics, b[i].req, b[i].msg, b[i].t0);
		msg_send(&b[i].msg, ca->sock);
		msg_destroy(&b[i].req);
	}
	ca->npending = 0;
}

/*
 * Take every waiting request (up to a batch) and handle them in one transaction: the SIGN
 * requests in one signer_issue_many call (signing on every core), then the status
 * changes; commit once; answer everyone.
 */
static void serve_batch(struct ca *ca)
{
	static struct reply batch[BATCH_MAX];
	static struct sign_slot slots[BATCH_MAX];
	static struct sign_request reqs[BATCH_MAX];
	static struct sign_result res[BATCH_MAX];
	static int at[BATCH_MAX];	/* batch index of each SIGN request */
	int n = 0, nsign = 0, want_crl = 0, failed = 0, overlap;
	uint64_t ticket = 0;

	while (n < BATCH_MAX && (zsock_events(ca->sock) & ZMQ_POLLIN)) {
		const char *why = NULL;
		msg_t *req = msg_recv(ca->sock, 1, &why);
		if (!req)
			break;
		batch[n].req = req;
		batch[n].msg = NULL;
		batch[n].t0 = signer_metrics_clock();
		if (req->cmd == MSG_SIGN) {
			batch[n].msg = sign_read(req, &slots[nsign], &reqs[nsign]);
			if (!batch[n].msg)
				at[nsign] = n;
			nsign += batch[n].msg ? 0 : 1;
			if (batch[n].msg)
				sign_slot_clear(&slots[nsign]);
		} else if (req->cmd == MSG_NCMDS) {
			batch[n].msg = error_for(req, MERR_BAD_MESSAGE, why);
		} else if (req->cmd != MSG_STATUS && req->cmd != MSG_CRL && req->cmd != MSG_CHECKPOINT) {
			batch[n].msg = error_for(req, MERR_BAD_MESSAGE, "ca-signer answers SIGN, STATUS, CRL and"
			    " CHECKPOINT only");
		}
		n++;
	}
	signer_batch_begin(ca->signer);
	if (nsign > 0) {
		memset(res, 0, sizeof(res[0]) * (size_t)nsign);
		failed = signer_issue_many(ca->signer, reqs, res, (size_t)nsign) < 0;
		for (int i = 0; i < nsign; i++)
			batch[at[i]].msg = sign_answer(batch[at[i]].req, &reqs[i], &res[i]);
	}
	for (int i = 0; i < n; i++) {
		if (batch[i].req->cmd == MSG_STATUS && !batch[i].msg)
			batch[i].msg = on_status(ca, batch[i].req);
		else if (batch[i].req->cmd == MSG_CHECKPOINT && !batch[i].msg)
			batch[i].msg = on_checkpoint(ca, batch[i].req);
		else if (batch[i].req->cmd == MSG_CRL && !batch[i].msg) {
			want_crl = 1;
			batch[i].msg = answer(batch[i].req, MSG_ANSWER);
		}
	}
	/* The previous batch's sync ran while this one was received and signed: answer it. */
	answer_pending(ca);
	/* Sync on the syncing thread only while issuing with another batch already waiting,
	 * whose signing the sync can hide behind. Status changes come one at a time from
	 * each worker: there, splitting batches and the thread's wake-ups would only add to
	 * each answer's wait (bulk revocation ran at half its rate). */
	overlap = nsign > 0 && (zsock_events(ca->sock) & ZMQ_POLLIN) != 0;
	if (failed || (overlap ? signer_batch_commit_async(ca->signer, &ticket) :
	    signer_batch_commit(ca->signer)) < 0) {
		log_err("signer.db commit failed: answering %d request(s) with an error", n);
		signer_batch_rollback(ca->signer);
		for (int i = 0; i < n; i++) {
			msg_destroy(&batch[i].msg);
			batch[i].msg = error_for(batch[i].req, MERR_INTERNAL, "signer journal commit failed; try again");
		}
		want_crl = 0;
		ticket = 0;
	}
	for (int i = 0; i < nsign; i++) {
		signer_result_clear(&res[i]);
		sign_slot_clear(&slots[i]);
	}
	memcpy(ca->pending, batch, sizeof batch[0] * (size_t)n);
	ca->npending = n;
	ca->pending_ticket = ticket;
	if (want_crl) {
		/* A CRL is published from what is on disk, and answered with its number. */
		if (ticket)
			signer_batch_durable(ca->signer, ticket, 1);
		crl_publish(ca, SIGNER_CRL_COMPLETE);
	}
	if (want_crl || !ticket)
		answer_pending(ca);
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
	zpoller_t *p = zpoller_new(ca->sock, NULL);
	log_info("ca-signer ready");
	while (!zsys_interrupted) {
		void *which = zpoller_wait(p, 200);
		if (which == ca->sock)
			serve_batch(ca);
		else if (zpoller_terminated(p))
			break;
		/* Nobody else waiting: no batch to overlap the sync with, answer now. */
		if (ca->npending && !(zsock_events(ca->sock) & ZMQ_POLLIN))
			answer_pending(ca);
		if (mono_ms() - ca->last_base > ca->base_refresh_ms)
			crl_publish(ca, SIGNER_CRL_BASE);
		else if ((ca->crl_due && mono_ms() >= ca->crl_due) ||
		    mono_ms() - ca->last_delta > ca->delta_refresh_ms)
			crl_publish(ca, SIGNER_CRL_DELTA);
		if (mono_ms() >= ca->metrics_next)
			metrics_write_now(ca);
	}
	answer_pending(ca);
	metrics_write_now(ca);
	zpoller_destroy(&p);
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
	metrics_destroy(&ca.metrics);
	free(ca.crl_dir);
	free(dir); free(workers); free(certpath); free(endpoint); free(dbpath);
	config_destroy((config_t **)&ca.cfg);
	return 0;
}
