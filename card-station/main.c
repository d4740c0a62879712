/*
 * main.c: card-station, the counter program that drives PIV cards in PC/SC readers.
 *
 * Reads like its table of contents: parse the global options, load the configuration,
 * open PC/SC, run one subcommand from the table below, clean up. Subcommands that need
 * the back office (personalize, pin-change, unlock, download, export, renew) are listed
 * already so --help shows the whole program; each becomes one cmd_*.c file and a
 * function pointer here when its queue job exists.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "officer_card.h"
#include "station.h"

static const struct command {
	const char *name;
	station_cmd_fn run;	/* NULL: not available yet */
	const char *args;
	const char *help;
} commands[] = {
	{ "readers", cmd_readers, "[--watch]", "list readers with each card's serial and state" },
	{ "wipe", cmd_wipe, "--reader NAME [--force]", "return a card to the factory state" },
	{ "personalize", cmd_personalize, "[--readers all|NAMES] [--count N]", "bulk: each blank card gets the next approved order" },
	{ "pin-change", cmd_pin_change, "--reader NAME", "change the card PIN (old, new, confirm)" },
	{ "unlock", cmd_unlock, "--reader NAME --account ID", "unblock a locked card with the website password" },
	{ "pin-reset", cmd_unlock, "--reader NAME --account ID", "a forgotten PIN: a new one with the website password" },
	{ "download", cmd_download, "--reader NAME --account ID", "write the card's issued certificates to it again" },
	{ "export", cmd_export, "--reader NAME [--out DIR]", "save the card's certificates and the CA chain as PEM files" },
	{ "dispatch", cmd_dispatch, "--reader NAME --counter|...", "where a personalized card went: handed over, mailed, returned" },
	{ "renew", cmd_renew, "--reader NAME --account ID", "new keys and certificates in the renewal window" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: card-station [-c CONFIG] [-v] COMMAND [ARGS]\n"
		   "       card-station --check [-c CONFIG]\n\n"
		   "Drive PIV cards in the PC/SC readers of a registration counter.\n\n"
		   "options:\n"
		   "  -c, --config FILE  configuration file (default: $RA_CONFIG, else built-in)\n"
		   "  -v, --verbose      log every step (debug level)\n"
		   "      --check        load the configuration, report every error, exit\n"
		   "  -h, --help         this text\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-12s %-26s %s%s\n", commands[i].name, commands[i].args,
		    commands[i].help, commands[i].run ? "" : " (not yet)");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
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
	struct station st = { 0 };
	const struct command *cmd;
	const char *cfgfile = NULL;
	int c, verbose = 0, check = 0, ret = 1, alg;
	piv_rc rc;

	log_init("card-station", LV_INFO);
	officer_card_opener = officer_card_open;
	/* "+": stop at the subcommand; its options are its own. */
	while ((c = getopt_long(argc, argv, "+c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfgfile = optarg;
			break;
		case 'v':
			verbose = 1;
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
	st.cfg = config_open(cfgfile);
	if (verbose)
		log_set_level(LV_DEBUG);
	alg = derive_mgm_alg_parse(config_str(st.cfg, "card_station.mgm_key_alg"));
	if (alg < 0) {
		log_err("%s: card_station.mgm_key_alg must be 3des or aes128", config_file(st.cfg));
		goto out;
	}
	st.mgm_alg = (enum derive_mgm_alg)alg;
	if (check) {
		printf("%s: ok\n", config_file(st.cfg));
		ret = 0;
		goto out;
	}
	if (optind >= argc) {
		usage(stderr);
		ret = 2;
		goto out;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		log_err("unknown command \"%s\" (see card-station --help)", argv[optind]);
		ret = 2;
		goto out;
	}
	if (!cmd->run) {
		log_err("\"%s\" is not available yet: it needs the back-office queue", cmd->name);
		ret = 2;
		goto out;
	}
	/* dispatch --card names a card by its serial and needs no reader: it may run where
	 * pcscd does not (cmd_dispatch.c asks for PC/SC only with --reader) */
	st.pcsc = pcsc_new(&rc);
	if (!st.pcsc && strcmp(cmd->name, "dispatch") != 0) {
		log_err("PC/SC: %s", piv_strerror(rc));
		goto out;
	}
	ret = cmd->run(&st, argc - optind, argv + optind);
out:
	derive_destroy(&st.derive);
	pcsc_destroy(&st.pcsc);
	config_destroy(&st.cfg);
	return ret;
}
