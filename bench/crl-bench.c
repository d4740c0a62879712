/*
 * crl-bench.c: the key holder's time for one CRL, measured inside the signer's own code
 * (the same calls ca-signer makes), so that a delta CRL, which ca-signer publishes only
 * together with other work, can be timed on its own. Run while ca-signer is stopped: it
 * opens signer.db and the CA key itself, publishes into signer.crl_dir, and prints one
 * line per publication: "KIND MS ENTRIES_BYTES".
 *
 *   crl-bench -c CONFIG [-k base|complete|delta] [-n COUNT]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../ca-signer/signer.h"
#include "config.h"
#include "log.h"
#include "util.h"

int main(int argc, char **argv)
{
	static const struct option help_opt[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *cfgfile = NULL, *kind_name = "complete";
	enum signer_crl_kind kind = SIGNER_CRL_COMPLETE;
	char err[SIGNER_ERR_LEN];
	int n = 1, c, rc = 0;
	config_t *cfg;
	signer_t *s;

	log_init("crl-bench", LV_WARN);
	while ((c = getopt_long(argc, argv, "c:k:n:h", help_opt, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'k': kind_name = optarg; break;
		case 'n': n = atoi(optarg); break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: crl-bench -c CONFIG [-k base|complete|delta] [-n COUNT]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (strcmp(kind_name, "base") == 0)
		kind = SIGNER_CRL_BASE;
	else if (strcmp(kind_name, "delta") == 0)
		kind = SIGNER_CRL_DELTA;
	else if (strcmp(kind_name, "complete") != 0)
		fatal("unknown CRL kind %s: base, complete or delta", kind_name);
	cfg = config_open(cfgfile);
	if (!(s = signer_new(cfg)))
		fatal("cannot open the signer (see above)");
	for (int i = 0; i < n && rc == 0; i++) {
		char *dir = config_path(cfg, "signer.crl_dir");
		char *path = xasprintf("%s/%s", dir, kind == SIGNER_CRL_DELTA ? "ra-delta.crl" : "ra.crl");
		struct stat st = { 0 };
		int64_t t0 = mono_ms();
		rc = signer_crl_publish(s, kind, err);
		int64_t t1 = mono_ms();
		stat(path, &st);
		if (rc == 0)
			printf("%s %lld %lld\n", kind_name, (long long)(t1 - t0), (long long)st.st_size);
		else
			fprintf(stderr, "crl-bench: %s\n", err);
		free(dir);
		free(path);
	}
	signer_destroy(&s);
	config_destroy(&cfg);
	return rc ? 1 : 0;
}
