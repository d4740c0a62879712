/*
 * sign-bench.c: how many certificates per second ca-signer issues, durably, to one
 * worker connection that keeps a window of requests in flight (as several workers would).
 * Every request has its own request id and its own key (the signer certifies a key once),
 * so every answer is a newly signed, committed certificate. -o skips the first requests'
 * keys, for a second run against the same signer. -r names the run (request ids
 * RUN-0, RUN-1, ...; default bench-PID), so that a second run with the same name and keys
 * asks again for the same certificates; -l appends the serial of every certificate
 * received, a line each (written as it comes: the tests kill the signer mid-run and check
 * that every certificate answered is in signer.db). -k PID@K sends SIGKILL to PID (the
 * signer) on receiving the K-th certificate, with the window still full of requests
 * being signed and synced, then takes what answers were already on their way and stops.
 *
 * It prints the certificates received, the milliseconds they took and the errors; with -C
 * also its own CPU time (ms) over those milliseconds (not the start-up's, nor the time
 * spent loading or making the requests).
 *
 *   sign-bench -c CONFIG [-n COUNT] [-w WINDOW] [-o OFFSET] [-r RUN] [-l FILE] [-k PID@K] [-C]
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "util.h"

static uint8_t *make_csr(int *len)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	uint8_t *der = NULL;
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"bench", -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	X509_REQ_sign(r, k, EVP_sha256());
	*len = i2d_X509_REQ(r, &der);
	X509_NAME_free(n);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
	return der;
}

/*
 * CSR number I: the signer certifies each public key once, so every request needs a key
 * of its own. Generating RSA keys costs far more than signing, so the requests (public
 * data only) are kept in DIR and reused by later runs, each against a fresh signer.db.
 */
static uint8_t *csr_cached(const char *dir, int i, int *len)
{
	char *path = xasprintf("%s/%d.der", dir, i);
	size_t n = 0;
	uint8_t *der = (uint8_t *)file_read(path, &n), *copy;

	if (der && n > 0) {
		*len = (int)n;
		free(path);
		return der;
	}
	free(der);
	der = make_csr(len);
	if (file_write_atomic(path, der, (size_t)*len, 0644) < 0)
		log_warn("cannot keep %s", path);
	copy = xmalloc((size_t)*len);
	memcpy(copy, der, (size_t)*len);
	OPENSSL_free(der);
	free(path);
	return copy;
}

/* The requests of a run, loaded or made by one thread per core (making a key pair takes
 * a core some 100-400 ms; a first run on a new machine makes thousands). */
struct csr_load {
	const char *dir;
	int offset, n, next;
	uint8_t **csr;
	int *len;
	pthread_mutex_t mu;
};

static void *csr_load_thread(void *v)
{
	struct csr_load *l = v;

	for (;;) {
		pthread_mutex_lock(&l->mu);
		int i = l->next++;
		pthread_mutex_unlock(&l->mu);
		if (i >= l->n)
			return NULL;
		l->csr[i] = csr_cached(l->dir, l->offset + i, &l->len[i]);
	}
}

static void csr_load_all(const char *dir, int offset, int n, uint8_t **csr, int *len)
{
	struct csr_load l = { .dir = dir, .offset = offset, .n = n, .csr = csr, .len = len };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int missing = 0, threads = cores < 1 ? 1 : cores > 16 ? 16 : (int)cores;
	pthread_t tid[16];

	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%d.der", dir, offset + i);
		missing += access(path, R_OK) != 0;
		free(path);
	}
	if (missing)
		fprintf(stderr, "sign-bench: making %d requests with key pairs of their own on %d "
		    "core(s), kept in %s for later runs\n", missing, threads, dir);
	pthread_mutex_init(&l.mu, NULL);
	for (int t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, csr_load_thread, &l) != 0)
			fatal("cannot start a thread to make requests");
	for (int t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&l.mu);
}

/* This process's CPU time (user and system, every thread), in ms. */
static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* The serial of a CERT answer (frames: the certificate's DER, its serial). */
static void sign_bench_note(FILE *f, const msg_t *r)
{
	char *serial = msg_str(r, 1);
	fprintf(f, "%s\n", serial ? serial : "?");
	free(serial);
}

int main(int argc, char **argv)
{
	static const struct option help_opt[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *cfgfile = NULL, *csr_dir = getenv("BENCH_CSR_DIR"), *run = NULL;
	FILE *answered = NULL;
	int kill_pid = 0, kill_at = 0, killed = 0, show_cpu = 0;
	char run_default[32];
	int n = 2000, window = 64, offset = 0, c, sent = 0, got = 0, errors = 0;
	config_t *cfg;
	zcert_t *me;
	zsock_t *s;
	char *mine, *srv, *ep;
	uint8_t **csr;
	int *csr_len;
	json_t *subject = json_pack("{s:s,s:s,s:s}", "name", "效能測試", "account", "u00000001",
	    "email", "bench@example.com");
	int64_t t0, t1;
	double c0;

	log_init("sign-bench", LV_WARN);
	while ((c = getopt_long(argc, argv, "c:n:w:o:r:l:k:Ch", help_opt, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'o': offset = atoi(optarg); break;
		case 'r': run = optarg; break;
		case 'C': show_cpu = 1; break;
		case 'k':
			if (sscanf(optarg, "%d@%d", &kill_pid, &kill_at) != 2 || kill_pid <= 0 || kill_at <= 0)
				fatal("-k takes PID@COUNT");
			break;
		case 'l':
			if (!(answered = fopen(optarg, "a")))
				fatal("cannot open %s", optarg);
			setvbuf(answered, NULL, _IOLBF, 0);
			break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: sign-bench -c CONFIG [-n COUNT] [-w WINDOW] [-o OFFSET] "
			    "[-r RUN] [-l FILE] [-k PID@K] [-C]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!run) {
		snprintf(run_default, sizeof run_default, "bench-%d", (int)getpid());
		run = run_default;
	}
	cfg = config_open(cfgfile);
	zsys_init();
	mine = net_key_path(cfg, "workers", "worker");
	srv = net_key_path(cfg, "", "signer");
	ep = net_endpoint(cfg, "signer.endpoint");
	if (!(me = net_cert_load(mine)) || !(s = net_client(ZMQ_DEALER, ep, me, srv)))
		fatal("cannot connect to ca-signer at %s", ep);
	if (!csr_dir || !*csr_dir)
		csr_dir = "build/bench-csr";
	if (mkdir_p(csr_dir, 0755) < 0)
		fatal("cannot create %s", csr_dir);
	csr = xcalloc((size_t)n, sizeof *csr);
	csr_len = xcalloc((size_t)n, sizeof *csr_len);
	csr_load_all(csr_dir, offset, n, csr, csr_len);
	t0 = mono_ms();
	c0 = cpu_ms();
	while (got < n) {
		while (!killed && sent < n && sent - got < window) {
			char rid[64];
			msg_t *m = msg_new(MSG_SIGN);
			snprintf(rid, sizeof rid, "%.40s-%d", run, sent);
			msg_add_str(m, rid);
			msg_add_str(m, sent % 2 ? "encryption" : "signature");
			msg_add_mem(m, csr[sent], (size_t)csr_len[sent]);
			msg_add_json(m, subject);
			msg_send(&m, s);
			sent++;
		}
		msg_t *r = msg_recv(s, 0, NULL);
		if (!r && killed)
			break;	/* nothing more was on its way */
		if (!r)
			fatal("interrupted");
		if (r->cmd != MSG_CERT)
			errors++;
		else if (answered)
			sign_bench_note(answered, r);
		msg_destroy(&r);
		got++;
		if (kill_pid && !killed && got - errors == kill_at) {
			kill((pid_t)kill_pid, SIGKILL);
			killed = 1;
			zsock_set_rcvtimeo(s, 1000);
		}
	}
	t1 = mono_ms();
	if (show_cpu)
		printf("%d %lld %d %.1f\n", got, (long long)(t1 - t0), errors, cpu_ms() - c0);
	else
		printf("%d %lld %d\n", got, (long long)(t1 - t0), errors);
	for (int i = 0; i < n; i++)
		free(csr[i]);
	free(csr);
	free(csr_len);
	json_decref(subject);
	zsock_destroy(&s);
	zcert_destroy(&me);
	free(mine); free(srv); free(ep);
	config_destroy(&cfg);
	if (answered)
		fclose(answered);
	return errors ? 1 : 0;
}
