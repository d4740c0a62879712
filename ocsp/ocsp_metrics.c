/*
 * ocsp_metrics.c: what ra-ocsp tells Prometheus: requests answered by each serving
 * thread, answers by kind (good, revoked, unknown; malformed, unauthorized, tryLater,
 * internalError), a histogram of the time from a request's arrival to its answer, and
 * that it is alive (the file's own timestamp). The serving threads share nothing, so each
 * counts into its own tally (relaxed atomics: a count a moment old is fine) and the first
 * thread sums them into the file between requests.
 *
 * An answer's kind is read back from the response's DER by walking its outer structure
 * (RFC 6960 4.2.1) with ASN1_get_object, without decoding it into objects: the responder
 * hands out kept answers as bytes, and counting must not cost what answering costs.
 */
#include "ocsp_metrics.h"
#include "clock.h"
#include "metrics.h"
#include "util.h"

#include <openssl/asn1.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const double ocsp_bounds[OCSP_METRICS_NBOUNDS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1,
};

static const char *const ocsp_answer_names[OCSP_ANSWER_COUNT] = {
	[OCSP_ANSWER_GOOD] = "good",
	[OCSP_ANSWER_REVOKED] = "revoked",
	[OCSP_ANSWER_UNKNOWN] = "unknown",
	[OCSP_ANSWER_MALFORMED] = "malformed",
	[OCSP_ANSWER_UNAUTHORIZED] = "unauthorized",
	[OCSP_ANSWER_TRYLATER] = "trylater",
	[OCSP_ANSWER_INTERNALERROR] = "internalerror",
};

struct ocsp_metrics {
	metrics_t *m;
	char *path;
	long n;
	int64_t every_ms, next_ms;
};

ocsp_metrics_t *ocsp_metrics_new(const config_t *cfg, long nthreads)
{
	ocsp_metrics_t *om = xcalloc(1, sizeof *om);

	om->m = metrics_new();
	om->path = metrics_path(cfg, "ra-ocsp");
	om->n = nthreads;
	om->every_ms = config_int(cfg, "metrics.interval_ms");
	metrics_declare(om->m, "ra_ocsp_requests_total", METRIC_COUNTER, "HTTP requests ra-ocsp answered, by serving thread.", NULL, 0);
	metrics_declare(om->m, "ra_ocsp_answers_total", METRIC_COUNTER,
	    "OCSP answers by kind: the certificate's status (good, revoked, unknown) or the error"
	    " status (malformed, unauthorized, trylater, internalerror).", NULL, 0);
	metrics_declare(om->m, "ra_ocsp_answer_seconds", METRIC_HISTOGRAM,
	    "Time from a request's arrival to its answer.", ocsp_bounds, OCSP_METRICS_NBOUNDS);
	metrics_declare(om->m, "ra_metrics_written_timestamp_seconds", METRIC_GAUGE,
	    "When a program last wrote its metrics file.", NULL, 0);
	for (int a = 0; a < OCSP_ANSWER_COUNT; a++)	/* every kind present from the start */
		metrics_set(om->m, "ra_ocsp_answers_total", 0, "kind", ocsp_answer_names[a], NULL);
	return om;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void ocsp_metrics_tick(ocsp_metrics_t *om, const struct ocsp_tally *t, int force)
{
	unsigned long long in[OCSP_METRICS_NBOUNDS] = { 0 }, count = 0, ns = 0;
	unsigned long answers[OCSP_ANSWER_COUNT] = { 0 };
	char id[24];

	if (!force && mono_ms() < om->next_ms)
		return;
	om->next_ms = mono_ms() + om->every_ms;
	for (long i = 0; i < om->n; i++) {
		snprintf(id, sizeof id, "%ld", i);
		metrics_set(om->m, "ra_ocsp_requests_total", (double)LOAD(t[i].served), "thread", id, NULL);
		for (int a = 0; a < OCSP_ANSWER_COUNT; a++)
			answers[a] += LOAD(t[i].answers[a]);
		for (int b = 0; b < OCSP_METRICS_NBOUNDS; b++)
			in[b] += LOAD(t[i].in_bucket[b]);
		count += LOAD(t[i].count);
		ns += LOAD(t[i].sum_ns);
	}
	for (int a = 0; a < OCSP_ANSWER_COUNT; a++)
		metrics_set(om->m, "ra_ocsp_answers_total", (double)answers[a], "kind", ocsp_answer_names[a], NULL);
	metrics_set_histogram(om->m, "ra_ocsp_answer_seconds", in, count, (double)ns / 1e9, NULL);
	metrics_set(om->m, "ra_metrics_written_timestamp_seconds", (double)ra_now(), "program", "ra-ocsp", NULL);
	metrics_write(om->m, om->path);
}

void ocsp_metrics_destroy(ocsp_metrics_t **omp)
{
	ocsp_metrics_t *om;

	if (!omp || !(om = *omp))
		return;
	metrics_destroy(&om->m);
	free(om->path);
	free(om);
	*omp = NULL;
}

/* The next TLV within [*p, end): its tag and class, *p at its contents, *len their length. */
static int der_next(const unsigned char **p, const unsigned char *end, int *tag, int *cls, long *len)
{
	int r;

	if (*p >= end)
		return -1;
	r = ASN1_get_object(p, len, tag, cls, end - *p);
	return (r & 0x80) ? -1 : 0;
}

/* Enter the next TLV, which must have TAG and CLS: *p at its contents, *end after them. */
static int der_enter(const unsigned char **p, const unsigned char **end, int tag, int cls)
{
	int t, c;
	long len;

	if (der_next(p, *end, &t, &c, &len) < 0 || t != tag || c != cls)
		return -1;
	*end = *p + len;
	return 0;
}

/* Skip the next TLV. */
static int der_skip(const unsigned char **p, const unsigned char *end)
{
	int t, c;
	long len;

	if (der_next(p, end, &t, &c, &len) < 0)
		return -1;
	*p += len;
	return 0;
}

static enum ocsp_answer error_kind(int status)
{
	switch (status) {
	case 1: return OCSP_ANSWER_MALFORMED;
	case 3: return OCSP_ANSWER_TRYLATER;
	case 5: /* sigRequired */
	case 6: return OCSP_ANSWER_UNAUTHORIZED;
	default: return OCSP_ANSWER_INTERNALERROR;
	}
}

enum ocsp_answer ocsp_metrics_classify(const uint8_t *resp, size_t len)
{
	const unsigned char *p = resp, *end = resp + len, *send;
	enum ocsp_answer worst = OCSP_ANSWER_GOOD;
	int tag, cls, n = 0;
	long l;

	/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ... } */
	if (der_enter(&p, &end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) < 0 ||
	    der_next(&p, end, &tag, &cls, &l) < 0 || tag != V_ASN1_ENUMERATED || l != 1)
		return OCSP_ANSWER_INTERNALERROR;
	if (*p != 0)
		return error_kind(*p);
	p += l;
	/* ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING (BasicOCSPResponse) } */
	if (der_enter(&p, &end, 0, V_ASN1_CONTEXT_SPECIFIC) < 0 ||
	    der_enter(&p, &end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) < 0 || der_skip(&p, end) < 0 ||
	    der_enter(&p, &end, V_ASN1_OCTET_STRING, V_ASN1_UNIVERSAL) < 0 ||
	    der_enter(&p, &end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) < 0 ||	/* BasicOCSPResponse */
	    der_enter(&p, &end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) < 0)		/* ResponseData */
		return OCSP_ANSWER_INTERNALERROR;
	/* [0] version (optional), responderID ([1] or [2]), producedAt, then responses */
	while (p < end) {
		if (der_next(&p, end, &tag, &cls, &l) < 0)
			return OCSP_ANSWER_INTERNALERROR;
		if (tag == V_ASN1_SEQUENCE && cls == V_ASN1_UNIVERSAL) {
			end = p + l;
			break;
		}
		p += l;
	}
	/* SingleResponse ::= SEQUENCE { certID, certStatus CHOICE { good [0], revoked [1], unknown [2] }, ... } */
	while (p < end) {
		send = end;
		if (der_enter(&p, &send, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) < 0 || der_skip(&p, send) < 0 ||
		    der_next(&p, send, &tag, &cls, &l) < 0 || cls != V_ASN1_CONTEXT_SPECIFIC)
			return OCSP_ANSWER_INTERNALERROR;
		if (tag == 1)
			worst = OCSP_ANSWER_REVOKED;
		else if (tag == 2 && worst == OCSP_ANSWER_GOOD)
			worst = OCSP_ANSWER_UNKNOWN;
		else if (tag != 0 && tag != 2)
			return OCSP_ANSWER_INTERNALERROR;
		p = send;
		n++;
	}
	return n > 0 ? worst : OCSP_ANSWER_INTERNALERROR;
}

void ocsp_tally_add(struct ocsp_tally *t, enum ocsp_answer a, uint64_t ns)
{
	int b = 0;

	while (b < OCSP_METRICS_NBOUNDS && (double)ns / 1e9 > ocsp_bounds[b])
		b++;
	__atomic_fetch_add(&t->answers[a], 1, __ATOMIC_RELAXED);
	if (b < OCSP_METRICS_NBOUNDS)
		__atomic_fetch_add(&t->in_bucket[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->sum_ns, ns, __ATOMIC_RELAXED);
}

uint64_t ocsp_metrics_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
