/*
 * main.c: ca-signer, the isolated key holder. It loads the CA key, binds one socket that
 * accepts only the workers' CURVE keys, drops privileges, installs its seccomp filter and
 * then answers SIGN, STATUS and CRL requests, nothing else.
 *
 * Group commit: every request waiting on the socket is taken at once (up to a batch),
 * handled inside one signer.db transaction, committed once, and only then answered, so an
 * answered certificate is always on disk and the fsync cost is shared by the batch.
 * CRLs are signed after status changes (debounced) and whenever the last one is half-way
 * to its nextUpdate.
 */
#include "config.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "sandbox.h"
#include "signer.h"
#include "util.h"

#include "cli.h"
#include <string.h>

#define BATCH_MAX 256
#define CRL_DEBOUNCE_MS 300

struct reply {
	msg_t *msg;		/* the answer if the batch commits */
	msg_t *req;		/* the request, to answer ERROR if it does not */
};

struct ca {
	const config_t *cfg;
	signer_t *signer;
	zsock_t *sock;
	int64_t crl_due;	/* mono ms; 0: nothing pending */
	int64_t crl_refresh_ms;
	int64_t last_crl;	/* mono ms of the last publication */
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
	log_info("%s %s certificate %s for %s", res->repeated ? "returned" : "issued", req->usage, res->serial,
	    req->request_id);
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

static void crl_publish(struct ca *ca)
{
	char err[SIGNER_ERR_LEN];
	if (signer_crl_publish(ca->signer, err) < 0) {
		log_err("CRL not published: %s", err);
		ca->crl_due = mono_ms() + 5000;
		return;
	}
	log_info("CRL %lld published", signer_crl_number(ca->signer));
	ca->crl_due = 0;
	ca->last_crl = mono_ms();
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
	int n = 0, nsign = 0, want_crl = 0, failed = 0;

	while (n < BATCH_MAX && (zsock_events(ca->sock) & ZMQ_POLLIN)) {
		const char *why = NULL;
		msg_t *req = msg_recv(ca->sock, 1, &why);
		if (!req)
			break;
		batch[n].req = req;
		batch[n].msg = NULL;
		if (req->cmd == MSG_SIGN) {
			batch[n].msg = sign_read(req, &slots[nsign], &reqs[nsign]);
			if (!batch[n].msg)
				at[nsign] = n;
			nsign += batch[n].msg ? 0 : 1;
			if (batch[n].msg)
				sign_slot_clear(&slots[nsign]);
		} else if (req->cmd == MSG_NCMDS) {
			batch[n].msg = error_for(req, MERR_BAD_MESSAGE, why);
		} else if (req->cmd != MSG_STATUS && req->cmd != MSG_CRL) {
			batch[n].msg = error_for(req, MERR_BAD_MESSAGE, "ca-signer answers SIGN, STATUS and CRL only");
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
		else if (batch[i].req->cmd == MSG_CRL && !batch[i].msg) {
			want_crl = 1;
			batch[i].msg = answer(batch[i].req, MSG_ANSWER);
		}
	}
	if (failed || signer_batch_commit(ca->signer) < 0) {
		log_err("signer.db commit failed: answering %d request(s) with an error", n);
		signer_batch_rollback(ca->signer);
		for (int i = 0; i < n; i++) {
			msg_destroy(&batch[i].msg);
			batch[i].msg = error_for(batch[i].req, MERR_INTERNAL, "signer journal commit failed; try again");
		}
		want_crl = 0;
	}
	if (want_crl)
		crl_publish(ca);
	for (int i = 0; i < n; i++) {
		if (batch[i].msg->cmd == MSG_ANSWER && batch[i].req->cmd == MSG_CRL) {
			json_t *j = json_pack("{s:I}", "crl_number", (json_int_t)signer_crl_number(ca->signer));
			msg_add_json(batch[i].msg, j);
			json_decref(j);
		}
		msg_send(&batch[i].msg, ca->sock);
		msg_destroy(&batch[i].req);
	}
	for (int i = 0; i < nsign; i++) {
		signer_result_clear(&res[i]);
		sign_slot_clear(&slots[i]);
	}
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
		if ((ca->crl_due && mono_ms() >= ca->crl_due) || mono_ms() - ca->last_crl > ca->crl_refresh_ms)
			crl_publish(ca);
	}
	zpoller_destroy(&p);
}

int main(int argc, char **argv)
{
	struct cli_daemon opt;
	struct ca ca = { 0 };
		char *dir, *workers, *certpath, *endpoint;
	zcert_t *cert;

	log_init("ca-signer", LV_INFO);
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
	ca.crl_refresh_ms = config_int(ca.cfg, "signer.crl_next_update_hours") * 3600 * 1000 / 2;

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
	if (sandbox_drop_user(config_str(ca.cfg, "signer.user")) < 0)
		fatal("cannot drop privileges");
	if (config_bool(ca.cfg, "signer.seccomp") && sandbox_seccomp() < 0)
		fatal("cannot install the seccomp filter");
	crl_publish(&ca);

	ca_run(&ca);

	log_info("ca-signer stopping");
	zsock_destroy(&ca.sock);
	zcert_destroy(&cert);
	net_auth_stop();
	signer_destroy(&ca.signer);
	free(dir); free(workers); free(certpath); free(endpoint);
	config_destroy((config_t **)&ca.cfg);
	return 0;
}
