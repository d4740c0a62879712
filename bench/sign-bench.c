/*
 * sign-bench.c: how many certificates per second ca-signer issues, durably, to one
 * worker connection that keeps a window of requests in flight (as several workers would).
 * Every request has its own request id and its own key (the signer certifies a key once),
 * so every answer is a newly signed, committed certificate. -o skips the first requests'
 * keys, for a second run against the same signer.
 *
 *   sign-bench -c CONFIG [-n COUNT] [-w WINDOW] [-o OFFSET]
 */
#include <getopt.h>
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

int main(int argc, char **argv)
{
	const char *cfgfile = NULL, *csr_dir = getenv("BENCH_CSR_DIR");
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

	log_init("sign-bench", LV_WARN);
	while ((c = getopt(argc, argv, "c:n:w:o:h")) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'o': offset = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: sign-bench -c CONFIG [-n COUNT] [-w WINDOW] [-o OFFSET]\n");
			return 2;
		}
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
	for (int i = 0; i < n; i++)
		csr[i] = csr_cached(csr_dir, offset + i, &csr_len[i]);
	t0 = mono_ms();
	while (got < n) {
		while (sent < n && sent - got < window) {
			char rid[64];
			msg_t *m = msg_new(MSG_SIGN);
			snprintf(rid, sizeof rid, "bench-%d-%d", (int)getpid(), sent);
			msg_add_str(m, rid);
			msg_add_str(m, sent % 2 ? "encryption" : "signature");
			msg_add_mem(m, csr[sent], (size_t)csr_len[sent]);
			msg_add_json(m, subject);
			msg_send(&m, s);
			sent++;
		}
		msg_t *r = msg_recv(s, 0, NULL);
		if (!r)
			fatal("interrupted");
		if (r->cmd != MSG_CERT)
			errors++;
		msg_destroy(&r);
		got++;
	}
	t1 = mono_ms();
	printf("%d %lld %d\n", n, (long long)(t1 - t0), errors);
	for (int i = 0; i < n; i++)
		free(csr[i]);
	free(csr);
	free(csr_len);
	json_decref(subject);
	zsock_destroy(&s);
	zcert_destroy(&me);
	free(mine); free(srv); free(ep);
	config_destroy(&cfg);
	return errors ? 1 : 0;
}
