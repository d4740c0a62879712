/*
 * signer_metrics.c: ca-signer's figures for Prometheus: requests by command and result, their
 * latency (from receipt to the answer leaving, which includes the wait for the journal's
 * sync), certificates issued, status changes made, and the published CRLs' times, size
 * and entries.
 *
 * The key holder opens no socket for this, and the sandbox lets it write nowhere but its
 * own folders: the main loop writes ca-signer.prom into signer.db's folder through that
 * folder's descriptor (written, synced, renamed), and at start-up, before the sandbox, a
 * symbolic link in metrics.dir points to it so that the textfile collector reads it
 * with the others. The CRL figures are read back from the files relying parties get, so
 * they say what was really published, not what was meant to be.
 */
#include "signer_metrics.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <libgen.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

metrics_t *signer_metrics_new(void)
{
	static const double lat[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
	metrics_t *m = metrics_new();

	metrics_declare(m, "ca_signer_requests_total", METRIC_COUNTER, "Requests answered, by command and result.", NULL, 0);
	metrics_declare(m, "ca_signer_request_seconds", METRIC_HISTOGRAM,
	    "Time from a request's receipt to its answer (signing and the journal's sync).", lat, sizeof lat / sizeof lat[0]);
	metrics_declare(m, "ca_signer_certificates_issued_total", METRIC_COUNTER, "Certificates signed and answered.", NULL, 0);
	metrics_declare(m, "ca_signer_status_changes_total", METRIC_COUNTER,
	    "Certificate status changes made (revoke, hold, release).", NULL, 0);
	metrics_declare(m, "ca_signer_crl_this_update_timestamp_seconds", METRIC_GAUGE,
	    "thisUpdate of the published CRL (base or delta).", NULL, 0);
	metrics_declare(m, "ca_signer_crl_next_update_timestamp_seconds", METRIC_GAUGE,
	    "nextUpdate of the published CRL (base or delta).", NULL, 0);
	metrics_declare(m, "ca_signer_crl_bytes", METRIC_GAUGE, "Size of the published CRL (DER).", NULL, 0);
	metrics_declare(m, "ca_signer_crl_entries", METRIC_GAUGE, "Revoked certificates listed in the published CRL.", NULL, 0);
	metrics_declare(m, "ra_metrics_written_timestamp_seconds", METRIC_GAUGE,
	    "When a program last wrote its metrics file.", NULL, 0);
	return m;
}

double signer_metrics_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void signer_metrics_answered(metrics_t *m, const msg_t *req, const msg_t *ans, double t0)
{
	const char *cmd = req->cmd < MSG_NCMDS ? msg_table[req->cmd].name : "unknown";
	int ok = ans->cmd != MSG_ERROR;

	metrics_add(m, "ca_signer_requests_total", 1, "command", cmd, "result", ok ? "ok" : "error", NULL);
	metrics_observe(m, "ca_signer_request_seconds", signer_metrics_clock() - t0, "command", cmd, NULL);
	if (!ok)
		return;
	if (ans->cmd == MSG_CERT)
		metrics_add(m, "ca_signer_certificates_issued_total", 1, NULL);
	if (req->cmd == MSG_STATUS) {
		char *action = msg_str(req, 2);
		if (action && strcmp(action, "query") != 0)
			metrics_add(m, "ca_signer_status_changes_total", 1, "action", action, NULL);
		free(action);
	}
}

static time_t asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

static void crl_one(metrics_t *m, const char *crl_dir, const char *file, const char *which)
{
	char *path = xasprintf("%s/%s", crl_dir, file);
	size_t len = 0;
	unsigned char *der = (unsigned char *)file_read(path, &len);
	const unsigned char *p = der;
	X509_CRL *crl = der ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;

	if (crl) {
		STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
		metrics_set(m, "ca_signer_crl_this_update_timestamp_seconds",
		    (double)asn1_epoch(X509_CRL_get0_lastUpdate(crl)), "crl", which, NULL);
		metrics_set(m, "ca_signer_crl_next_update_timestamp_seconds",
		    (double)asn1_epoch(X509_CRL_get0_nextUpdate(crl)), "crl", which, NULL);
		metrics_set(m, "ca_signer_crl_bytes", (double)len, "crl", which, NULL);
		metrics_set(m, "ca_signer_crl_entries", rev ? sk_X509_REVOKED_num(rev) : 0, "crl", which, NULL);
	}
	X509_CRL_free(crl);
	free(der);
	free(path);
}

void signer_metrics_crl(metrics_t *m, const char *crl_dir)
{
	metrics_clear(m, "ca_signer_crl_this_update_timestamp_seconds");
	metrics_clear(m, "ca_signer_crl_next_update_timestamp_seconds");
	metrics_clear(m, "ca_signer_crl_bytes");
	metrics_clear(m, "ca_signer_crl_entries");
	crl_one(m, crl_dir, "ra.crl", "base");
	crl_one(m, crl_dir, "ra-delta.crl", "delta");
}

void signer_metrics_link(const config_t *cfg, const char *db_path)
{
	char *copy = xstrdup(db_path);

	metrics_link(cfg, "ca-signer", dirname(copy));
	free(copy);
}
