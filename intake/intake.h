/*
 * intake.h: what the parts of ra-intake share: the run's settings, the subcommands, the
 * prompts and the jobs it sends to ra-queue.
 *
 * ra-intake never opens ra.db. Every change it asks for is a job submitted through
 * lib/client.h; every answer it shows comes from a job's result or a query. Forms are
 * checked here with lib/form.c before they leave the counter, and the back office checks
 * them again with the same code.
 */
#ifndef RA_INTAKE_H
#define RA_INTAKE_H

#include <stdio.h>

#include "client.h"
#include "config.h"
#include "form.h"
#include "form_batch.h"
#include "officer.h"

/* Exit statuses: a rejected form or a failed job is 1, a wrong command line 2. */
enum { INTAKE_OK = 0, INTAKE_FAIL = 1, INTAKE_USAGE = 2 };

struct intake {
	const char *config_arg;	/* -c CONFIG, or NULL ($RA_CONFIG, then defaults) */
	config_t *cfg;		/* loaded on first use */
	ra_client_t *client;	/* connected on first use */
	int zh;			/* operator language is zh-TW: reasons in both languages */
	const char *officer;	/* who acts (--officer, or the form's officer field) */
	const char *credential;	/* --credential FILE (default officers.credentials_dir/ID.pem) */
	const char *passfile;	/* --passphrase-file F (default: asked on the terminal) */
	officer_cred_t *cred;	/* opened on the first signed job */
	FILE *in, *out;		/* the counter's terminal */
};

/* Subcommands: argv[0] is the subcommand's name. Each returns an exit status. */
int cmd_register(struct intake *in, int argc, char **argv);	/* register, revoke, resume, password-reset, change */
int cmd_import(struct intake *in, int argc, char **argv);
int cmd_verify(struct intake *in, int argc, char **argv);
int cmd_approve(struct intake *in, int argc, char **argv);
int cmd_status(struct intake *in, int argc, char **argv);
int cmd_reject(struct intake *in, int argc, char **argv);	/* reject.c */
int cmd_find(struct intake *in, int argc, char **argv);	/* find.c */

/* The loaded configuration (fatal on errors, all of them listed). */
config_t *intake_config(struct intake *in);
/* The connection to ra-queue, or NULL (said on stderr). */
ra_client_t *intake_client(struct intake *in);

/* prompt.c: keying at the counter. */

/*
 * Ask every field of F that is not yet set and belongs on the form, in form order; a
 * wrong value is asked again with its reason. 0, or -1 at end of input.
 */
int prompt_form(struct intake *in, form_t *f);
/* Ask FIELDS again (after a mismatch), whatever they hold. 0, or -1 at end of input. */
int prompt_fields(struct intake *in, form_t *f, const char *const *fields, size_t n);
/* Print each present field with its label. */
void prompt_summary(struct intake *in, const form_t *f);
/* Ask a y/n question: 1 yes, 0 no, -1 end of input. */
int prompt_yes_no(struct intake *in, const char *question);
/* "label_zh (label_en)" or "label_en (label_zh)" by the operator's language. */
const char *prompt_label(const struct intake *in, const struct form_field *fd, char *buf, size_t len);
/* Print problems, one per line, each with INDENT; Chinese too if ZH. */
void print_problems(FILE *out, const struct form_problem *v, size_t n, int zh, const char *indent);

/* submit.c: jobs and queries. */

/* The idempotency key of a job: PREFIX ":" SHA-256 hex of the canonical payload. Caller frees. */
char *submit_idem_key(const char *prefix, const json_t *payload);
/* The form_key payload {"forms": [...]}. */
json_t *submit_key_payload(form_t *const *forms, size_t n);
/*
 * Submit KIND with PAYLOAD (and IDEM, may be NULL) and wait for it. An officer action is
 * signed first by in->officer's credential (opened once per run), with a fresh
 * idempotency key if IDEM is NULL. Returns the job's result (caller decrefs) with *failed
 * set if the job failed, or NULL if it could not be signed, submitted or did not finish
 * in time (said on stderr).
 */
json_t *submit_and_wait(struct intake *in, const char *kind, const char *idem,
    json_t *payload, int *failed);
/* For a zh-TW counter (in->zh): the back office's refusal RES (a failed job's result, or a
 * rejected row) in Chinese after WHAT, "WHAT：words", or "WHAT（原因如上）" when it has
 * no Chinese words; nothing for an English counter. */
void submit_say_zh(struct intake *in, const char *what, const json_t *res);
/* The options every officer command takes besides --officer: --credential, --passphrase-file. */
#define INTAKE_CRED_OPTS \
	{ "credential", required_argument, NULL, 'C' }, { "passphrase-file", required_argument, NULL, 'P' }
#define INTAKE_CRED_HELP \
	"  --credential F       the officer's credential (default officers.credentials_dir/ID.pem;\n" \
	"                       card:READER for the officer's PIV card)\n" \
	"  --passphrase-file F  read the credential's passphrase (a card's PIN) from F (else the terminal)\n"
/* Key FORMS by OFFICER as one form_key job and report stored/same/conflicts. Exit status. */
int submit_forms(struct intake *in, const char *officer, form_t *const *forms, size_t n);

#endif
