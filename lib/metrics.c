/*
 * metrics.c: the Prometheus text exposition behind metrics.h.
 *
 * Families and samples live in small arrays searched in order: a program has a few dozen
 * samples, and keeping them in declaration order keeps the output stable for diffs and
 * tests. A sample's label set is rendered (escaped) once, when it is first used, and that
 * text is its key. Histograms keep cumulative bucket counts as the format wants them.
 */
#include "metrics.h"
#include "log.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sample {
	char *labels;		/* rendered: k="v",k="v" (may be empty) */
	double value;		/* counter, gauge; histogram: sum */
	unsigned long long count;	/* histogram */
	unsigned long long *buckets;	/* histogram: cumulative, one per bound */
};

struct family {
	char *name, *help;
	enum metric_type type;
	double *bounds;
	size_t nbounds;
	struct sample *samples;
	size_t nsamples;
};

struct metrics {
	struct family *fams;
	size_t nfams;
};

metrics_t *metrics_new(void)
{
	return xcalloc(1, sizeof(metrics_t));
}

static void family_clear(struct family *f)
{
	for (size_t i = 0; i < f->nsamples; i++) {
		free(f->samples[i].labels);
		free(f->samples[i].buckets);
	}
	free(f->samples);
	f->samples = NULL;
	f->nsamples = 0;
}

void metrics_destroy(metrics_t **mp)
{
	metrics_t *m;

	if (!mp || !(m = *mp))
		return;
	for (size_t i = 0; i < m->nfams; i++) {
		family_clear(&m->fams[i]);
		free(m->fams[i].name);
		free(m->fams[i].help);
		free(m->fams[i].bounds);
	}
	free(m->fams);
	free(m);
	*mp = NULL;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; no ':' in label names. */
static int name_ok(const char *s, int label)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || (!label && *s == ':')))
			return 0;
	return 1;
}

int metrics_declare(metrics_t *m, const char *name, enum metric_type type, const char *help,
    const double *bounds, size_t nbounds)
{
	struct family *f;

	assert(m && help);
	if (!name_ok(name, 0) || (type == METRIC_HISTOGRAM) != (nbounds > 0)) {
		log_err("metric %s: bad name or buckets", name ? name : "(null)");
		return -1;
	}
	for (size_t i = 1; i < nbounds; i++)
		if (!(bounds[i] > bounds[i - 1])) {
			log_err("metric %s: bucket bounds must ascend", name);
			return -1;
		}
	m->fams = xrealloc(m->fams, (m->nfams + 1) * sizeof *m->fams);
	f = &m->fams[m->nfams++];
	memset(f, 0, sizeof *f);
	f->name = xstrdup(name);
	f->help = xstrdup(help);
	f->type = type;
	if (nbounds) {
		f->bounds = xmalloc(nbounds * sizeof *bounds);
		memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
		f->nbounds = nbounds;
	}
	return 0;
}

static struct family *family_find(const metrics_t *m, const char *name)
{
	for (size_t i = 0; i < m->nfams; i++)
		if (strcmp(m->fams[i].name, name) == 0)
			return &m->fams[i];
	fatal("metric %s was never declared", name);
}

void metrics_clear(metrics_t *m, const char *name)
{
	family_clear(family_find(m, name));
}

/* Append TEXT escaped for a label value or (HELP) a help line. */
static void escape_into(char **buf, size_t *len, size_t *cap, const char *text, int help)
{
	for (const char *p = text; *p; p++) {
		const char *rep = NULL;
		char one[2] = { *p, 0 };
		if (*p == '\\')
			rep = "\\\\";
		else if (*p == '\n')
			rep = "\\n";
		else if (*p == '"' && !help)
			rep = "\\\"";
		else
			rep = one;
		size_t n = strlen(rep);
		if (*len + n + 1 > *cap) {
			*cap = (*cap + n + 1) * 2;
			*buf = xrealloc(*buf, *cap);
		}
		memcpy(*buf + *len, rep, n + 1);
		*len += n;
	}
}

static void append(char **buf, size_t *len, size_t *cap, const char *text)
{
	size_t n = strlen(text);
	if (*len + n + 1 > *cap) {
		*cap = (*cap + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, text, n + 1);
	*len += n;
}

static char *labels_render(va_list ap)
{
	char *buf = xstrdup("");
	size_t len = 0, cap = 1;
	const char *k, *v;

	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (!name_ok(k, 1) || strncmp(k, "__", 2) == 0 || strcmp(k, "le") == 0)
			fatal("metric label name %s is not allowed", k);
		if (len)
			append(&buf, &len, &cap, ",");
		append(&buf, &len, &cap, k);
		append(&buf, &len, &cap, "=\"");
		escape_into(&buf, &len, &cap, v ? v : "", 0);
		append(&buf, &len, &cap, "\"");
	}
	return buf;
}

static struct sample *sample_get(struct family *f, char *labels, int create)
{
	struct sample *s;

	for (size_t i = 0; i < f->nsamples; i++)
		if (strcmp(f->samples[i].labels, labels) == 0) {
			free(labels);
			return &f->samples[i];
		}
	if (!create) {
		free(labels);
		return NULL;
	}
	f->samples = xrealloc(f->samples, (f->nsamples + 1) * sizeof *f->samples);
	s = &f->samples[f->nsamples++];
	memset(s, 0, sizeof *s);
	s->labels = labels;
	if (f->nbounds)
		s->buckets = xcalloc(f->nbounds, sizeof *s->buckets);
	return s;
}

void metrics_set(metrics_t *m, const char *name, double v, ...)
{
	struct family *f = family_find(m, name);
	va_list ap;

	assert(f->type != METRIC_HISTOGRAM);
	va_start(ap, v);
	sample_get(f, labels_render(ap), 1)->value = v;
	va_end(ap);
}

void metrics_add(metrics_t *m, const char *name, double v, ...)
{
	struct family *f = family_find(m, name);
	va_list ap;

	assert(f->type != METRIC_HISTOGRAM);
	va_start(ap, v);
	sample_get(f, labels_render(ap), 1)->value += v;
	va_end(ap);
}

void metrics_observe(metrics_t *m, const char *name, double v, ...)
{
	struct family *f = family_find(m, name);
	struct sample *s;
	va_list ap;

	assert(f->type == METRIC_HISTOGRAM);
	va_start(ap, v);
	s = sample_get(f, labels_render(ap), 1);
	va_end(ap);
	s->count++;
	s->value += v;
	for (size_t i = 0; i < f->nbounds; i++)
		if (v <= f->bounds[i])
			s->buckets[i]++;
}

void metrics_set_histogram(metrics_t *m, const char *name, const unsigned long long *in,
    unsigned long long count, double sum, ...)
{
	struct family *f = family_find(m, name);
	unsigned long long below = 0;
	struct sample *s;
	va_list ap;

	assert(f->type == METRIC_HISTOGRAM);
	va_start(ap, sum);
	s = sample_get(f, labels_render(ap), 1);
	va_end(ap);
	for (size_t i = 0; i < f->nbounds; i++)
		s->buckets[i] = (below += in[i]);
	s->count = count < below ? below : count;
	s->value = sum;
}

double metrics_get(const metrics_t *m, const char *name, ...)
{
	struct family *f = family_find(m, name);
	struct sample *s;
	va_list ap;

	va_start(ap, name);
	s = sample_get(f, labels_render(ap), 0);
	va_end(ap);
	return s ? (f->type == METRIC_HISTOGRAM ? (double)s->count : s->value) : 0;
}

/* A number as the format writes it: integers plainly, +Inf/-Inf/NaN by name. */
static void number(char out[40], double v)
{
	if (isnan(v))
		strcpy(out, "NaN");
	else if (isinf(v))
		strcpy(out, v > 0 ? "+Inf" : "-Inf");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		snprintf(out, 40, "%.0f", v);
	else
		snprintf(out, 40, "%.9g", v);
}

static void line(char **buf, size_t *len, size_t *cap, const char *name, const char *suffix,
    const char *labels, const char *extra, const char *value)
{
	append(buf, len, cap, name);
	append(buf, len, cap, suffix);
	if (*labels || *extra) {
		append(buf, len, cap, "{");
		append(buf, len, cap, labels);
		if (*labels && *extra)
			append(buf, len, cap, ",");
		append(buf, len, cap, extra);
		append(buf, len, cap, "}");
	}
	append(buf, len, cap, " ");
	append(buf, len, cap, value);
	append(buf, len, cap, "\n");
}

char *metrics_render(const metrics_t *m)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	char *buf = xstrdup(""), num[40], le[64];
	size_t len = 0, cap = 1;

	for (size_t i = 0; i < m->nfams; i++) {
		const struct family *f = &m->fams[i];
		append(&buf, &len, &cap, "# HELP ");
		append(&buf, &len, &cap, f->name);
		append(&buf, &len, &cap, " ");
		escape_into(&buf, &len, &cap, f->help, 1);
		append(&buf, &len, &cap, "\n# TYPE ");
		append(&buf, &len, &cap, f->name);
		append(&buf, &len, &cap, " ");
		append(&buf, &len, &cap, types[f->type]);
		append(&buf, &len, &cap, "\n");
		for (size_t j = 0; j < f->nsamples; j++) {
			const struct sample *s = &f->samples[j];
			if (f->type != METRIC_HISTOGRAM) {
				number(num, s->value);
				line(&buf, &len, &cap, f->name, "", s->labels, "", num);
				continue;
			}
			for (size_t b = 0; b < f->nbounds; b++) {
				char bound[40];
				number(bound, f->bounds[b]);
				snprintf(le, sizeof le, "le=\"%s\"", bound);
				number(num, (double)s->buckets[b]);
				line(&buf, &len, &cap, f->name, "_bucket", s->labels, le, num);
			}
			number(num, (double)s->count);
			line(&buf, &len, &cap, f->name, "_bucket", s->labels, "le=\"+Inf\"", num);
			line(&buf, &len, &cap, f->name, "_count", s->labels, "", num);
			number(num, s->value);
			line(&buf, &len, &cap, f->name, "_sum", s->labels, "", num);
		}
	}
	return buf;
}

int metrics_write(const metrics_t *m, const char *path)
{
	char *text = metrics_render(m);
	int rc = file_write_atomic(path, text, strlen(text), 0644);

	if (rc < 0)
		log_err("cannot write the metrics file %s", path);
	free(text);
	return rc;
}

int metrics_write_at(const metrics_t *m, int dirfd, const char *name)
{
	char *text = metrics_render(m);
	int rc = file_write_at(dirfd, name, text, strlen(text), 0644);

	if (rc < 0)
		log_err("cannot write the metrics file %s", name);
	free(text);
	return rc;
}

char *metrics_path(const config_t *cfg, const char *program)
{
	char *dir = config_path(cfg, "metrics.dir");
	char *path = xasprintf("%s/%s.prom", dir, program);

	mkdir_p(dir, 0755);
	free(dir);
	return path;
}

void metrics_link(const config_t *cfg, const char *program, const char *dir)
{
	char *real = realpath(dir, NULL), *target = real ? xasprintf("%s/%s.prom", real, program) : NULL;
	char *link = metrics_path(cfg, program), cur[4096];
	ssize_t n = readlink(link, cur, sizeof cur - 1);

	if (n > 0)
		cur[n] = '\0';
	if (target && !(n > 0 && strcmp(cur, target) == 0)) {
		unlink(link);
		if (symlink(target, link) < 0)
			log_warn("cannot link %s to %s (%s): make that link for the textfile collector",
			    link, target, strerror(errno));
	}
	free(real);
	free(target);
	free(link);
}
