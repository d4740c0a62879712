/*
 * main.c: card-agent, the subscriber's local card service.
 *
 * Reads like its table of contents: parse the options, load and check the configuration
 * (every error at once; --check stops there), serve on 127.0.0.1 until SIGTERM or SIGINT.
 * It runs as the subscriber, under their session (a systemd user unit): it needs their
 * card reader and their display for pinentry, and nothing of the system's.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: card-agent [-c CONFIG] [-v]\n"
		   "       card-agent --check [-c CONFIG]\n\n"
		   "The subscriber's local card service: the RA website's card page calls it on\n"
		   "http://127.0.0.1:PORT to reach the card in this computer's reader (PIN change,\n"
		   "unlock with the website password, certificates download, renewal, export).\n"
		   "Only the pages of the configured origins are answered; every operation is shown\n"
		   "first in the agent's own window (pinentry), and the PIN and the website password\n"
		   "are typed there, never into the page.\n\n"
		   "options:\n"
		   "  -c, --config FILE  configuration (default: $CARD_AGENT_CONFIG, else\n"
		   "                     ~/.config/card-agent/agent.yaml)\n"
		   "  -v, --verbose      log every step (debug level)\n"
		   "      --check        load the configuration, report every error, exit\n"
		   "  -h, --help         this text\n\n"
		   "configuration keys (section agent:): port, origins, ra_web, ra_web_ca, pinentry,\n"
		   "reader, mgm_key_alg, export_dir, wait_ms (see `ra-ctl config`).\n");
}

/* The configuration file: ARG, else $CARD_AGENT_CONFIG, else the user's own if present. */
static char *agent_config_file(const char *arg)
{
	const char *env = getenv("CARD_AGENT_CONFIG"), *home = getenv("HOME");
	char *p;

	if (arg)
		return xstrdup(arg);
	if (env && *env)
		return xstrdup(env);
	if (!home)
		return NULL;
	p = xasprintf("%s/.config/card-agent/agent.yaml", home);
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* 1 if URL is https://, or http:// on the loopback address (a test site). */
static int agent_url_ok(const char *url)
{
	return strncmp(url, "https://", 8) == 0 || strncmp(url, "http://127.0.0.1:", 17) == 0 ||
	    strncmp(url, "http://localhost:", 17) == 0;
}

/* Split and check the configuration into A. The number of errors (logged). */
static int agent_check(struct agent *a)
{
	char *list = xstrdup(config_str(a->cfg, "agent.origins")), *save = NULL, *o;
	const char *alg = config_str(a->cfg, "agent.mgm_key_alg");
	int bad = 0;

	for (o = strtok_r(list, " ,\t", &save); o; o = strtok_r(NULL, " ,\t", &save)) {
		size_t n = strlen(o);
		if (a->norigins == AGENT_MAX_ORIGINS || !agent_url_ok(o) || o[n - 1] == '/' ||
		    strchr(o + 8, '/')) {
			log_err("agent.origins: \"%s\" is not an origin (https://host[:port], at most %d)", o,
			    AGENT_MAX_ORIGINS);
			bad++;
			continue;
		}
		a->origins[a->norigins++] = xstrdup(o);
	}
	free(list);
	if (a->norigins == 0) {
		log_err("agent.origins: no origin: no page could use the agent");
		bad++;
	}
	if (!agent_url_ok(config_str(a->cfg, "agent.ra_web"))) {
		log_err("agent.ra_web must be an https:// address");
		bad++;
	}
	if (strcmp(alg, "aes128") != 0 && strcmp(alg, "3des") != 0) {
		log_err("agent.mgm_key_alg must be aes128 or 3des");
		bad++;
	}
	if (!config_str(a->cfg, "agent.pinentry")[0]) {
		log_err("agent.pinentry: no program");
		bad++;
	}
	a->port = (unsigned)config_int(a->cfg, "agent.port");
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent a = { 0 };
	const char *arg = NULL;
	char *file, *errors = NULL;
	int c, check = 0, ret = 1;

	log_init("card-agent", LV_INFO);
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			arg = optarg;
			break;
		case 'v':
			log_set_level(LV_DEBUG);
			break;
		case 'C':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	file = agent_config_file(arg);
	if (!(a.cfg = config_load(file, &errors))) {
		fprintf(stderr, "%s", errors ? errors : "cannot load the configuration\n");
		free(errors);
		free(file);
		return 1;
	}
	free(file);
	if (agent_check(&a) > 0)
		goto out;
	if (check) {
		printf("%s: ok\n", config_file(a.cfg));
		ret = 0;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);	/* a pinentry that dies is an error, not our end */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&a.busy, NULL);
	ret = server_run(&a) < 0;
	pthread_mutex_destroy(&a.busy);
	curl_global_cleanup();
out:
	for (size_t i = 0; i < a.norigins; i++)
		free(a.origins[i]);
	config_destroy(&a.cfg);
	return ret;
}
