/*
 * config.c: load config/ra.yaml with libyaml into the declared keys (config_keys.c).
 *
 * Rules it keeps: every problem is reported with file:line:column, and all problems at
 * once; a key not declared is an error (a typo must never silently fall back to a
 * default); values are checked against type and range when loaded, so programs read them
 * without further checks, and keys that bound each other are checked together
 * (a job's lease covers what a worker may wait within it: see config_check_lease below).
 */
#include "config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

struct config {
	char *file;		/* NULL: defaults only */
	char *base;		/* folder of the file, or the cwd */
	char *home;		/* absolute */
	char **values;		/* cfg_nkeys entries; NULL = default */
};

struct errbuf {
	char *text;
	size_t len;
	int count;
};

static void err_add(struct errbuf *e, const char *file, size_t line, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void err_add(struct errbuf *e, const char *file, size_t line, size_t col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char *l = xasprintf("%s:%zu:%zu: %s\n", file, line, col, msg);
	size_t n = strlen(l);
	e->text = xrealloc(e->text, e->len + n + 1);
	memcpy(e->text + e->len, l, n + 1);
	e->len += n;
	e->count++;
	free(l);
}

static int key_index(const char *name)
{
	for (size_t i = 0; i < cfg_nkeys; i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int is_prefix_of_key(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < cfg_nkeys; i++)
		if (strncmp(cfg_keys[i].name, path, n) == 0 && cfg_keys[i].name[n] == '.')
			return 1;
	return 0;
}

/* Check VALUE against key K; NULL if fine, else a static reason. */
static const char *check_value(const struct cfg_key *k, const char *value)
{
	char *end;
	long long v;

	switch (k->type) {
	case CFG_INT:
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno || end == value || *end)
			return "not a whole number";
		if (v < k->min || v > k->max)
			return "out of range";
		return NULL;
	case CFG_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "false") || !strcmp(value, "yes") ||
		    !strcmp(value, "no") || !strcmp(value, "on") || !strcmp(value, "off"))
			return NULL;
		return "not true or false";
	default:
		return NULL;
	}
}

static void set_value(config_t *cfg, struct errbuf *e, const char *path, const char *value,
    const yaml_mark_t *m)
{
	int i = key_index(path);
	const char *why;

	if (i < 0) {
		err_add(e, cfg->file, m->line + 1, m->column + 1, "unknown key '%s'", path);
		return;
	}
	if ((why = check_value(&cfg_keys[i], value)) != NULL) {
		if (cfg_keys[i].type == CFG_INT)
			err_add(e, cfg->file, m->line + 1, m->column + 1, "%s: '%s' is %s (%lld..%lld)",
			    path, value, why, cfg_keys[i].min, cfg_keys[i].max);
		else
			err_add(e, cfg->file, m->line + 1, m->column + 1, "%s: '%s' is %s", path, value, why);
		return;
	}
	free(cfg->values[i]);
	cfg->values[i] = xstrdup(value);
}

/* Walk a mapping node; PREFIX is the dotted path so far. */
static void walk(config_t *cfg, struct errbuf *e, yaml_document_t *doc, yaml_node_t *node,
    const char *prefix)
{
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		char *path;

		if (k->type != YAML_SCALAR_NODE) {
			err_add(e, cfg->file, k->start_mark.line + 1, k->start_mark.column + 1,
			    "a key must be a plain name");
			continue;
		}
		path = *prefix ? xasprintf("%s.%s", prefix, (char *)k->data.scalar.value)
			       : xstrdup((char *)k->data.scalar.value);
		if (v->type == YAML_MAPPING_NODE) {
			if (!is_prefix_of_key(path))
				err_add(e, cfg->file, k->start_mark.line + 1, k->start_mark.column + 1,
				    "unknown section '%s'", path);
			else
				walk(cfg, e, doc, v, path);
		} else if (v->type == YAML_SCALAR_NODE) {
			if (key_index(path) < 0 && is_prefix_of_key(path))
				err_add(e, cfg->file, v->start_mark.line + 1, v->start_mark.column + 1,
				    "'%s' is a section: it needs keys below it", path);
			else
				set_value(cfg, e, path, (char *)v->data.scalar.value, &v->start_mark);
		} else {
			err_add(e, cfg->file, v->start_mark.line + 1, v->start_mark.column + 1,
			    "%s: a list is not allowed here", path);
		}
		free(path);
	}
}

static int parse_file(config_t *cfg, struct errbuf *e)
{
	FILE *f = fopen(cfg->file, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	if (!f) {
		err_add(e, cfg->file, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		err_add(e, cfg->file, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		    "YAML syntax: %s", parser.problem ? parser.problem : "error");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE)
		walk(cfg, e, &doc, root, "");
	else if (root)
		err_add(e, cfg->file, root->start_mark.line + 1, root->start_mark.column + 1,
		    "the file must be a mapping of sections and keys");
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return 0;
}

config_t *config_load(const char *file, char **errors)
{
	config_t *cfg = xcalloc(1, sizeof *cfg);
	struct errbuf e = { 0 };
	char cwd[PATH_MAX];
	const char *home;

	*errors = NULL;
	cfg->values = xcalloc(cfg_nkeys, sizeof(char *));
	if (file) {
		char *copy = xstrdup(file);
		char *abs = realpath(dirname(copy), NULL);
		cfg->file = xstrdup(file);
		cfg->base = abs ? abs : xstrdup(".");
		free(copy);
		parse_file(cfg, &e);
	} else {
		cfg->file = NULL;
		cfg->base = xstrdup(getcwd(cwd, sizeof cwd) ? cwd : ".");
	}
	if (e.count) {
		*errors = e.text;
		config_destroy(&cfg);
		return NULL;
	}
	home = config_str(cfg, "home");
	cfg->home = home[0] == '/' ? xstrdup(home) : xasprintf("%s/%s", cfg->base, home);
	{
		char *real = realpath(cfg->home, NULL);
		if (real) {
			free(cfg->home);
			cfg->home = real;
		}
	}
	if (log_level_parse(config_str(cfg, "log_level")) < 0) {
		*errors = xasprintf("%s: log_level '%s' is not error, warn, info or debug\n",
		    config_file(cfg), config_str(cfg, "log_level"));
		config_destroy(&cfg);
		return NULL;
	}
	if ((*errors = config_check_lease(cfg)) != NULL) {
		config_destroy(&cfg);
		return NULL;
	}
	return cfg;
}

void config_destroy(config_t **pcfg)
{
	config_t *cfg = pcfg ? *pcfg : NULL;
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg_nkeys; i++)
		free(cfg->values[i]);
	free(cfg->values);
	free(cfg->file);
	free(cfg->base);
	free(cfg->home);
	free(cfg);
	*pcfg = NULL;
}

static const char *raw(const config_t *cfg, const char *key, enum cfg_type want)
{
	int i = key_index(key);
	if (i < 0)
		fatal("internal: undeclared config key '%s'", key);
	if (cfg_keys[i].type != want && !(want == CFG_STR && cfg_keys[i].type == CFG_PATH))
		fatal("internal: config key '%s' read with the wrong type", key);
	return cfg->values[i] ? cfg->values[i] : cfg_keys[i].def;
}

const char *config_str(const config_t *cfg, const char *key) { return raw(cfg, key, CFG_STR); }

long long config_int(const config_t *cfg, const char *key)
{
	return strtoll(raw(cfg, key, CFG_INT), NULL, 10);
}

int config_bool(const config_t *cfg, const char *key)
{
	const char *v = raw(cfg, key, CFG_BOOL);
	return !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on");
}

/* A key naming a passphrase, password or PIN file. */
static int config_is_secret_file(const char *key)
{
	static const char *const ends[] = { "_passphrase_file", "_password_file", "_pin_file" };
	size_t n = strlen(key);

	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
		if (n > strlen(ends[i]) && strcmp(key + n - strlen(ends[i]), ends[i]) == 0)
			return 1;
	return 0;
}

char *config_path(const config_t *cfg, const char *key)
{
	const char *v = raw(cfg, key, CFG_PATH), *creds = getenv("CREDENTIALS_DIRECTORY");
	if (!*v)
		return xstrdup("");
	/* systemd credentials (LoadCredential=) come first: a passphrase need not lie
	 * beside its key, nor be readable by the service's user outside the service */
	if (creds && *creds && config_is_secret_file(key)) {
		const char *base = strrchr(v, '/') ? strrchr(v, '/') + 1 : v;
		char *c = xasprintf("%s/%s", creds, base);
		if (access(c, R_OK) == 0)
			return c;
		free(c);
	}
	return v[0] == '/' ? xstrdup(v) : xasprintf("%s/%s", cfg->home, v);
}

const char *config_home(const config_t *cfg) { return cfg->home; }
const char *config_file(const config_t *cfg) { return cfg->file ? cfg->file : "(defaults)"; }

config_t *config_open(const char *arg)
{
	const char *file = arg ? arg : getenv("RA_CONFIG");
	char *errors = NULL;
	config_t *cfg = config_load(file && *file ? file : NULL, &errors);
	if (!cfg) {
		fprintf(stderr, "%s", errors);
		free(errors);
		fatal("configuration has errors: nothing started");
	}
	log_set_level((enum log_level)log_level_parse(config_str(cfg, "log_level")));
	return cfg;
}

/*
 * How long a worker waits on the other programs within one job, and the rule that a
 * job's lease covers it.
 *
 * A worker asks ca-signer and ra-cardkey with net_call (Lazy Pirate): a few tries on a
 * fresh socket each, never longer in all than worker.signer_timeout_ms or
 * worker.cardkey_timeout_ms (config_call_plan). A busy worker does not heartbeat; its
 * lease (queue.lease_ms) is all that keeps another worker from taking the job over. A
 * lease shorter than what a healthy worker may wait within one job hands the job of a
 * worker that is only waiting on a slow signer to another one, which repeats the calls
 * and makes the first one's work roll back. The longest wait, from the workers' code:
 * a card renewal (workers/job_card.c) asks ra-cardkey once for the card's proof, then
 * ca-signer for two signatures (issue_pair.c) and, when the card's challenge was used
 * meanwhile, for two withdrawals; an issue job (job_issue.c) the same without the card;
 * a revocation asks for two status changes and a CRL. Hence one ra-cardkey call and four
 * ca-signer calls, each as long as its timeout, and the loader refuses a shorter lease.
 * The bulk revocation (ra-ctl revoke) asks once per serial: it stops in time and leaves
 * the rest to a follow-on job (workers/job_revoke.c), so it never outlasts its lease.
 */

/* The most ca-signer and ra-cardkey calls one job makes (see above). */
#define JOB_SIGNER_CALLS 4
#define JOB_CARDKEY_CALLS 1

void config_call_plan(long long timeout_ms, int *tries, int *per_try_ms)
{
	/* Three tries from 3 s on, fewer below, so that no try is shorter than a second
	 * unless the whole timeout is. */
	*tries = timeout_ms >= 3000 ? 3 : timeout_ms >= 2000 ? 2 : 1;
	*per_try_ms = (int)(timeout_ms / *tries);
}

/* A call's tries end to end never exceed its timeout (config_call_plan), so the timeouts
 * themselves bound the wait. */
long long config_job_wait_ms(const config_t *cfg)
{
	return JOB_SIGNER_CALLS * config_int(cfg, "worker.signer_timeout_ms") +
	    JOB_CARDKEY_CALLS * config_int(cfg, "worker.cardkey_timeout_ms");
}

char *config_check_lease(const config_t *cfg)
{
	long long lease = config_int(cfg, "queue.lease_ms"), wait = config_job_wait_ms(cfg);

	if (lease >= wait)
		return NULL;
	return xasprintf("%s: queue.lease_ms (%lld) is shorter than a worker may wait within one job:"
	    " %d x worker.signer_timeout_ms (%lld) + %d x worker.cardkey_timeout_ms (%lld) = %lld ms"
	    " (a card renewal: the card's proof, two signatures, two withdrawals); raise queue.lease_ms"
	    " or lower the timeouts\n", config_file(cfg), lease, JOB_SIGNER_CALLS,
	    config_int(cfg, "worker.signer_timeout_ms"), JOB_CARDKEY_CALLS,
	    config_int(cfg, "worker.cardkey_timeout_ms"), wait);
}
