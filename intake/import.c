/*
 * import.c: a batch of mailed forms, keyed into a spreadsheet (CSV) or a YAML list.
 *
 * Every row is checked and reported with its line number, accepted or rejected with
 * every reason. The accepted forms go to the queue as ONE form_key job, so a batch is
 * stored whole or not at all. By default a batch with any rejected row sends nothing:
 * the clerk fixes the file and imports it again (the job's idempotency key and the
 * queue's "same" answer make a second import of the same rows harmless). --partial
 * sends the accepted rows anyway. Either way a rejected row makes the exit status 1.
 */
#include "intake.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f)
{
	fprintf(f, "usage: ra-intake import --officer ID [--kind KIND] [--partial] [--check] FILE\n\n"
	    "Import the forms of FILE: a CSV file (header line naming the fields, UTF-8) or a\n"
	    "YAML list of forms. Each row is reported as accepted or rejected, with its line\n"
	    "number and reasons. If every row is accepted they are sent as one job.\n\n"
	    "  --officer ID  the keying officer; rows without an officer get this one, rows\n"
	    "                naming another officer are rejected (required); the job is\n"
	    "                signed with this officer's credential\n"
	    INTAKE_CRED_HELP
	    "  --kind KIND   kind of rows that do not say (default registration)\n"
	    "  --partial     send the accepted rows even if some were rejected\n"
	    "  --check       check and report only; send nothing\n");
}

static const struct option long_opts[] = {
	{ "officer", required_argument, NULL, 'o' },
	{ "kind", required_argument, NULL, 'k' },
	{ "partial", no_argument, NULL, 'p' },
	{ "check", no_argument, NULL, 'n' },
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	INTAKE_CRED_OPTS,
	{ NULL, 0, NULL, 0 },
};

/* Check one row; print its verdict. 0 accepted, -1 rejected. */
static int check_row(struct intake *in, struct form_item *it, const char *officer,
    form_t *const *accepted, const long *lines, size_t nacc)
{
	struct form_problem *v = NULL;
	const char *serial, *had;
	form_t *probe;
	size_t n;

	if (it->error) {
		fprintf(in->out, "line %ld: rejected: %s\n", it->line, it->error);
		return -1;
	}
	serial = form_get(it->form, "serial");
	had = form_get(it->form, "officer");
	probe = form_new(form_get_kind(it->form));
	form_set(probe, "officer", officer, NULL);
	if (had && strcmp(had, form_get(probe, "officer") ?: "") != 0) {
		fprintf(in->out, "line %ld: rejected %s: officer: keyed by %s, not by %s\n",
		    it->line, serial ?: "", had, officer);
		form_destroy(&probe);
		return -1;
	}
	form_destroy(&probe);
	if (!had)
		form_set(it->form, "officer", officer, NULL);
	n = form_validate(it->form, &v);
	if (n) {
		fprintf(in->out, "line %ld: rejected %s\n", it->line, serial ?: "(no serial)");
		print_problems(in->out, v, n, in->zh || form_wants_zh(it->form), "    ");
		free(v);
		return -1;
	}
	for (size_t i = 0; i < nacc; i++) {
		if (strcmp(form_get(accepted[i], "serial"), serial) == 0) {
			fprintf(in->out, "line %ld: rejected %s: serial: already on line %ld\n",
			    it->line, serial, lines[i]);
			return -1;
		}
	}
	fprintf(in->out, "line %ld: accepted %s (%s)\n", it->line, serial,
	    form_kind_name(form_get_kind(it->form)));
	return 0;
}

int cmd_import(struct intake *in, int argc, char **argv)
{
	const char *officer = NULL, *kindarg = NULL, *file;
	int partial = 0, check = 0, ch, rc = INTAKE_FAIL;
	enum form_kind kind = FORM_REGISTRATION;
	form_batch_t *b = NULL;
	form_t **acc = NULL;
	long *lines = NULL;
	size_t nacc = 0, nrej = 0;
	char *err = NULL;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:k:c:h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'o': officer = optarg; break;
		case 'k': kindarg = optarg; break;
		case 'p': partial = 1; break;
		case 'n': check = 1; break;
		case 'c': in->config_arg = optarg; break;
		case 'C': in->credential = optarg; break;
		case 'P': in->passfile = optarg; break;
		case 'h': help(stdout); return INTAKE_OK;
		default: help(stderr); return INTAKE_USAGE;
		}
	}
	if (argc - optind != 1 || !officer || (kindarg && form_kind_parse(kindarg, &kind) < 0)) {
		if (!officer)
			fprintf(stderr, "ra-intake import: --officer is required\n");
		help(stderr);
		return INTAKE_USAGE;
	}
	file = argv[optind];
	intake_config(in);

	b = form_batch_load(file, kind, &err);
	if (!b) {
		fprintf(in->out, "%s: %s\n", file, err);
		free(err);
		return INTAKE_FAIL;
	}
	if (b->n == 0) {
		fprintf(in->out, "%s: holds no form\n", file);
		goto out;
	}
	acc = xcalloc(b->n, sizeof *acc);
	lines = xcalloc(b->n, sizeof *lines);
	for (size_t i = 0; i < b->n; i++) {
		if (check_row(in, &b->items[i], officer, acc, lines, nacc) < 0) {
			nrej++;
			continue;
		}
		lines[nacc] = b->items[i].line;
		acc[nacc++] = b->items[i].form;
	}
	fprintf(in->out, "%s: %zu accepted, %zu rejected\n", file, nacc, nrej);
	if (nrej && !partial) {
		fprintf(in->out, "nothing sent: fix the rejected rows and import the file again"
		    " (or use --partial)\n");
		goto out;
	}
	if (nacc == 0 || check) {
		rc = nrej ? INTAKE_FAIL : INTAKE_OK;
		goto out;
	}
	/* The officer as stored (normalised), as every accepted row now holds. */
	rc = submit_forms(in, form_get(acc[0], "officer"), acc, nacc);
	if (nrej)
		rc = INTAKE_FAIL;
out:
	free(acc);
	free(lines);
	form_batch_destroy(&b);
	return rc;
}
