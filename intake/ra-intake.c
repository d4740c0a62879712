/*
 * ra-intake.c: the counter program. Counter staff key paper and mailed forms here:
 * registrations, revocations, resumes and password resets, one at a time or a mailed
 * batch at once; a second clerk keys each form again blind; a supervisor approves or
 * rejects; the counter finds a subscriber and all that concerns them.
 *
 * main only reads the global options and hands over to a subcommand; each subcommand
 * has its own file and its own --help. Nothing here touches the database: every change
 * is a job for ra-queue.
 */
#include "intake.h"
#include "log.h"
#include "../card-station/officer_card.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	int (*run)(struct intake *, int, char **);
	const char *what;
} commands[] = {
	{ "register", cmd_register, "key a registration form (interactive, or --file F.yaml)" },
	{ "revoke", cmd_register, "key a revocation form" },
	{ "resume", cmd_register, "key a resume (lift the hold) form" },
	{ "password-reset", cmd_register, "key a website password reset form" },
	{ "change", cmd_register, "key a change of phone, address or contact person (not name or e-mail)" },
	{ "import", cmd_import, "import a batch of mailed forms (YAML list or CSV) as one job" },
	{ "verify", cmd_verify, "second keying of a form, blind; mismatches shown field by field" },
	{ "approve", cmd_approve, "approve a keyed and verified form" },
	{ "reject", cmd_reject, "reject a keyed form with a listed reason (a supervisor)" },
	{ "status", cmd_status, "show where a form stands" },
	{ "find", cmd_find, "find a subscriber by ID number, UBN, name, e-mail, account, card or certificate" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ra-intake [-c CONFIG] COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\n`ra-intake COMMAND --help` explains each. CONFIG defaults to $RA_CONFIG.\n");
}

config_t *intake_config(struct intake *in)
{
	if (!in->cfg) {
		in->cfg = config_open(in->config_arg);
		/* Reasons are always given in English; a zh-TW counter sees Chinese as well. */
		in->zh = strcmp(config_str(in->cfg, "language"), "zh-TW") == 0;
	}
	return in->cfg;
}

ra_client_t *intake_client(struct intake *in)
{
	if (!in->client) {
		in->client = ra_client_new(intake_config(in), "intake");
		if (!in->client)
			fprintf(stderr, "ra-intake: cannot reach the queue (see the log above)\n");
	}
	return in->client;
}

int main(int argc, char **argv)
{
	struct intake in = { .in = stdin, .out = stdout };
	int i = 1, rc;

	log_init("ra-intake", LV_WARN);
	officer_card_opener = officer_card_open;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			in.config_arg = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return INTAKE_OK;
		} else {
			fprintf(stderr, "ra-intake: unknown option %s\n", argv[i]);
			usage(stderr);
			return INTAKE_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return INTAKE_USAGE;
	}
	/* -c may also follow the subcommand; its parser takes it, so the config loads late. */
	for (size_t k = 0; k < ARRAY_LEN(commands); k++) {
		if (strcmp(argv[i], commands[k].name) != 0)
			continue;
		rc = commands[k].run(&in, argc - i, argv + i);
		officer_cred_destroy(&in.cred);
		ra_client_destroy(&in.client);
		config_destroy(&in.cfg);
		return rc;
	}
	fprintf(stderr, "ra-intake: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return INTAKE_USAGE;
}
