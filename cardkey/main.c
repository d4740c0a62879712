/*
 * main.c: ra-cardkey, the isolated holder of the card master key on the RA host. It loads
 * the master key, binds one socket that accepts only the workers' CURVE keys, drops
 * privileges, installs the same seccomp allow-list as ca-signer (lib/sandbox.c, with one
 * folder to write in: its own, cardkey.dir, for its metrics file) and then answers
 * CARD_CHALLENGE and CARD_PROOF (cardkey.c), nothing else. With $RA_SANDBOX_TEST set it
 * attempts that one call under the very same sandbox instead of serving (the tests' proof
 * that forbidden calls kill it).
 */
#include "cardkey.h"
#include "cardkey_metrics.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "net.h"
#include "sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static void usage(int code)
{
	printf("usage: ra-cardkey [-c CONFIG] [--check] [--now TIME]\n"
	       "\n"
	       "The RA's isolated holder of the card master key (cards.master_key_file). Serves\n"
	       "the workers whose CURVE keys are in keys_dir/workers, on cardkey.endpoint: it\n"
	       "decrypts a card's management-key witness and gives the challenge (CARD_CHALLENGE),\n"
	       "checks the card's answer and releases the card's PUKs sealed to the station's\n"
	       "one-time key (CARD_PROOF). No derived key or PUK ever leaves it in clear.\n"
	       "\n"
	       "  -c, --config FILE  configuration (default: $RA_CONFIG, else embedded defaults)\n"
	       "      --check        load the configuration and the master key, then exit\n"
	       "      --now TIME     pretend the time is TIME (tests)\n"
	       "  -h, --help         this help\n");
	exit(code);
}

static void cardkey_run(cardkey_t *k, zsock_t *sock, cardkey_metrics_t *cm)
{
	zpoller_t *p = zpoller_new(sock, NULL);

	log_info("ra-cardkey ready");
	while (!zsys_interrupted) {
		void *which = zpoller_wait(p, 500);
		cardkey_metrics_tick(cm, 0);
		if (which == sock) {
			const char *why = NULL;
			double t0 = cardkey_metrics_clock();
			msg_t *req = msg_recv(sock, 1, &why), *rep;
			if (!req)
				continue;
			if (req->cmd == MSG_NCMDS) {
				msg_send_error(sock, req, MERR_BAD_MESSAGE, why ? why : "malformed message");
				cardkey_metrics_answered(cm, NULL, NULL, t0);
				msg_destroy(&req);
				continue;
			}
			rep = cardkey_answer(k, req);
			cardkey_metrics_answered(cm, req, rep, t0);
			msg_send(&rep, sock);
			msg_destroy(&req);
		} else if (zpoller_terminated(p)) {
			break;
		}
	}
	zpoller_destroy(&p);
	cardkey_metrics_tick(cm, 1);
}

int main(int argc, char **argv)
{
	struct cli_daemon opt;
	const config_t *cfg;
	cardkey_t *k;
	cardkey_metrics_t *cm;
	char *dir, *workers, *certpath, *endpoint, *own;
	const char *selftest;
	struct sandbox_dirs dirs = { -1, -1 };	/* its own folder only, for its metrics */
	zcert_t *cert;
	zsock_t *sock;

	log_init("ra-cardkey", LV_INFO);
	cli_daemon_parse(argc, argv, usage, &opt);
	cfg = config_open(opt.config);
	if (!(k = cardkey_new(cfg)))
		fatal("cannot load the card master key: see above");
	if (opt.check) {
		printf("%s: configuration and card master key are valid\n", config_file(cfg));
		cardkey_destroy(&k);
		config_destroy((config_t **)&cfg);
		return 0;
	}
	zsys_init();
	dir = config_path(cfg, "keys_dir");
	workers = xasprintf("%s/workers", dir);
	if (net_auth_allow_dir("workers", workers) < 0 || net_auth_start() < 0)
		fatal("cannot set up the workers' allowlist %s", workers);
	certpath = net_key_path(cfg, "", "cardkey");
	if (!(cert = net_cert_load(certpath)))
		fatal("cannot load ra-cardkey's key pair %s", certpath);
	endpoint = net_endpoint(cfg, "cardkey.endpoint");
	if (!(sock = net_server(ZMQ_ROUTER, endpoint, cert, "workers")))
		fatal("cannot bind %s", endpoint);
	own = config_path(cfg, "cardkey.dir");
	if (mkdir_p(own, 0700) < 0 || (dirs.db_fd = open(own, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fatal("cannot open ra-cardkey's folder %s", own);
	metrics_link(cfg, "ra-cardkey", own);
	cm = cardkey_metrics_new(cfg, dirs.db_fd);
	if (sandbox_drop_user(config_str(cfg, "cardkey.user")) < 0)
		fatal("cannot drop privileges");
	if (config_bool(cfg, "cardkey.seccomp") && sandbox_seccomp(&dirs) < 0)
		fatal("cannot install the seccomp filter");
	if ((selftest = getenv("RA_SANDBOX_TEST"))) {
		int rc = sandbox_selftest(selftest, &dirs);
		fflush(NULL);
		_exit(rc);	/* a test only: no clean shut-down of sockets it never served */
	}

	cardkey_run(k, sock, cm);

	log_info("ra-cardkey stopping");
	zsock_destroy(&sock);
	zcert_destroy(&cert);
	net_auth_stop();
	cardkey_destroy(&k);
	cardkey_metrics_destroy(&cm);
	close(dirs.db_fd);
	free(dir); free(workers); free(certpath); free(endpoint); free(own);
	config_destroy((config_t **)&cfg);
	return 0;
}
