/*
 * status.c: the responder's knowledge, from the signer's published files (see status.h).
 *
 * Rules it keeps: "revoked" comes only from CRLs that verify against the CA, never from
 * the issued list, so a tampered list can at worst turn "good" into "unknown" or the
 * reverse for serials no certificate carries; the delta CRL counts only when it is newer
 * than the complete CRL and names a base no newer than it (RFC 5280 5.2.4), otherwise the
 * complete CRL alone is the truth. The issued list is read once and then from where the
 * last read stopped (it only grows); a new inode or a shorter file means the signer
 * wrote it again, and it is read from the start. The files are looked at only when
 * inotify reports a change in the folder (and once a second in any case), so a question
 * costs no stat, and inotify is read once per clock tick, not once per question.
 */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"

#define SERIAL_MAX 20

/* One serial in the issued set: magnitude bytes, len 0 = empty slot. */
struct slot {
	uint8_t len;
	uint8_t b[SERIAL_MAX];
};

struct crl_file {
	char *path;
	struct stat st;		/* of the file this CRL came from */
	X509_CRL *crl;
	long long number, base;	/* base: -1 for a complete CRL */
};

struct ocsp_status {
	X509 *ca;
	int ifd;		/* inotify on the folder; -1: look at the files every time */
	int64_t checked_ms;	/* when the files were last looked at (monotonic) */
	int64_t drained_tick;	/* the coarse clock (ns) when inotify was last drained */
	char *issued_path;
	struct stat issued_st;
	off_t issued_off;
	struct slot *set;
	size_t cap, count;
	struct crl_file full, delta;
	unsigned long gen;
};

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static size_t slot_hash(const uint8_t *b, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return (size_t)h;
}

static struct slot *set_find(struct slot *set, size_t cap, const uint8_t *b, size_t len)
{
	size_t i = slot_hash(b, len) & (cap - 1);

	while (set[i].len && (set[i].len != len || memcmp(set[i].b, b, len) != 0))
		i = (i + 1) & (cap - 1);
	return &set[i];
}

static void set_add(ocsp_status_t *st, const uint8_t *b, size_t len)
{
	struct slot *s;

	if ((st->count + 1) * 2 > st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 1024;
		struct slot *nset = xcalloc(ncap, sizeof *nset);
		for (size_t i = 0; i < st->cap; i++)
			if (st->set[i].len)
				*set_find(nset, ncap, st->set[i].b, st->set[i].len) = st->set[i];
		free(st->set);
		st->set = nset;
		st->cap = ncap;
	}
	s = set_find(st->set, st->cap, b, len);
	if (!s->len) {
		s->len = (uint8_t)len;
		memcpy(s->b, b, len);
		st->count++;
	}
}

/* Add the serials of the complete lines in BUF; returns the bytes consumed. */
static size_t issued_parse(ocsp_status_t *st, const char *buf, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b[SERIAL_MAX + 1];
		char hex[2 * SERIAL_MAX + 2];
		size_t n = i - start;
		int nb;

		if (buf[i] != '\n')
			continue;
		if (n > 0 && n < sizeof hex && n % 2 == 0) {
			memcpy(hex, buf + start, n);
			hex[n] = '\0';
			nb = hex_decode(hex, b, sizeof b);
			if (nb > 0 && nb <= SERIAL_MAX)
				set_add(st, b, (size_t)nb);
		}
		start = i + 1;
	}
	return start;
}

/* Read what was appended to ra.issued since the last call (all of it if it was rewritten). */
static void issued_refresh(ocsp_status_t *st)
{
	struct stat s;
	char *buf;
	size_t want, got = 0;
	int fd;

	if (stat(st->issued_path, &s) < 0)
		return;
	if (s.st_ino != st->issued_st.st_ino || s.st_dev != st->issued_st.st_dev ||
	    s.st_size < st->issued_off) {
		free(st->set);
		st->set = NULL;
		st->cap = st->count = 0;
		st->issued_off = 0;
		st->gen++;
	}
	st->issued_st = s;
	if (s.st_size <= st->issued_off)
		return;
	if ((fd = open(st->issued_path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	want = (size_t)(s.st_size - st->issued_off);
	buf = xmalloc(want);
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, st->issued_off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	st->issued_off += (off_t)issued_parse(st, buf, got);
	free(buf);
	st->gen++;
}

static long long crl_int_ext(X509_CRL *crl, int nid)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, nid, NULL, NULL);
	long long v = -1;
	int64_t x;

	if (n && ASN1_INTEGER_get_int64(&x, n))
		v = x;
	ASN1_INTEGER_free(n);
	return v;
}

/* Load F again if its file changed; a CRL that does not verify, or is of the wrong kind
 * (DELTA: must or must not carry a Delta CRL Indicator), is refused. */
static void crl_refresh(ocsp_status_t *st, struct crl_file *f, int delta)
{
	struct stat s;
	size_t len;
	char *der;
	const unsigned char *p;
	X509_CRL *crl;
	long long number, base;

	if (stat(f->path, &s) < 0 || same_file(&s, &f->st))
		return;
	if (!(der = file_read(f->path, &len)))
		return;
	p = (const unsigned char *)der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	free(der);
	/* Published atomically by the signer, so a CRL that does not verify is not half-written:
	 * it is not ours, and the last good one stays. */
	if (!crl || X509_CRL_verify(crl, X509_get0_pubkey(st->ca)) != 1 ||
	    X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(st->ca)) != 0 ||
	    (number = crl_int_ext(crl, NID_crl_number)) < 0 ||
	    ((base = crl_int_ext(crl, NID_delta_crl)) >= 0) != delta) {
		log_err("%s is not a %s CRL signed by this CA; keeping the previous one", f->path,
		    delta ? "delta" : "complete");
		X509_CRL_free(crl);
		ERR_clear_error();
		f->st = s;	/* do not try the same bad file again */
		return;
	}
	X509_CRL_free(f->crl);
	f->crl = crl;
	f->st = s;
	f->number = number;
	f->base = base;
	st->gen++;
	log_info("%s loaded: number %lld, %d entries", f->path, number,
	    sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)));
}

ocsp_status_t *ocsp_status_new(const char *dir, X509 *ca)
{
	ocsp_status_t *st = xcalloc(1, sizeof *st);

	X509_up_ref(ca);
	st->ca = ca;
	st->issued_path = xasprintf("%s/ra.issued", dir);
	st->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (st->ifd >= 0 && inotify_add_watch(st->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_MODIFY | IN_CREATE | IN_DELETE | IN_ATTRIB) < 0) {
		close(st->ifd);
		st->ifd = -1;
	}
	st->full.path = xasprintf("%s/ra.crl", dir);
	st->delta.path = xasprintf("%s/ra-delta.crl", dir);
	return st;
}

void ocsp_status_destroy(ocsp_status_t **pst)
{
	ocsp_status_t *st = pst ? *pst : NULL;

	if (!st)
		return;
	if (st->ifd >= 0)
		close(st->ifd);
	X509_free(st->ca);
	X509_CRL_free(st->full.crl);
	X509_CRL_free(st->delta.crl);
	free(st->full.path);
	free(st->delta.path);
	free(st->issued_path);
	free(st->set);
	free(st);
	*pst = NULL;
}

/*
 * Has anything in the folder changed since the last look? inotify is drained at most once
 * per tick of the coarse monotonic clock (1-4 ms): a busy responder answered with a read
 * that found nothing for every question, and a change published by the signer (itself
 * debounced by some 300 ms) is seen a tick later at most. The files are looked at anyway
 * once a second (a folder on a network file system may not report changes).
 */
static int folder_changed(ocsp_status_t *st)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct timespec now;
	int64_t ms, tick;
	int changed = 0;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	tick = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	ms = tick / 1000000;
	if (st->ifd < 0 || !st->full.crl || ms - st->checked_ms >= 1000)
		changed = 1;
	if (st->ifd >= 0 && tick != st->drained_tick) {
		st->drained_tick = tick;
		while (read(st->ifd, buf, sizeof buf) > 0)
			changed = 1;
	}
	if (changed)
		st->checked_ms = ms;
	return changed;
}

int ocsp_status_refresh(ocsp_status_t *st)
{
	if (!folder_changed(st))
		return 0;
	crl_refresh(st, &st->full, 0);
	crl_refresh(st, &st->delta, 1);
	issued_refresh(st);
	return st->full.crl ? 0 : -1;
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* The entry for SERIAL in CRL: 1 with reason and time, else 0. */
static int crl_find(X509_CRL *crl, ASN1_INTEGER *serial, struct ocsp_status_answer *a)
{
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *e;

	if (X509_CRL_get0_by_serial(crl, &rev, serial) != 1 || !rev)
		return 0;
	e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	a->reason = e ? (int)ASN1_ENUMERATED_get(e) : OCSP_REVOKED_STATUS_UNSPECIFIED;
	ASN1_ENUMERATED_free(e);
	a->revoked_at = asn1_to_time(X509_REVOKED_get0_revocationDate(rev));
	return 1;
}

/* Does the delta CRL add to the complete one (RFC 5280 5.2.4)? */
static int use_delta(const ocsp_status_t *st)
{
	return st->full.crl && st->delta.crl && st->delta.number > st->full.number &&
	    st->delta.base <= st->full.number;
}

void ocsp_status_times(ocsp_status_t *st, time_t *this_update, time_t *next_update)
{
	X509_CRL *src = use_delta(st) ? st->delta.crl : st->full.crl;

	*this_update = src ? asn1_to_time(X509_CRL_get0_lastUpdate(src)) : 0;
	*next_update = src ? asn1_to_time(X509_CRL_get0_nextUpdate(src)) : 0;
}

int ocsp_status_lookup(ocsp_status_t *st, const uint8_t *sn, size_t len,
    struct ocsp_status_answer *a)
{
	ASN1_INTEGER *serial;
	int delta, issued, rc = 0;

	memset(a, 0, sizeof *a);
	a->status = V_OCSP_CERTSTATUS_UNKNOWN;
	if (!st->full.crl)
		return -1;
	delta = use_delta(st);
	ocsp_status_times(st, &a->this_update, &a->next_update);
	issued = len > 0 && len <= SERIAL_MAX && st->cap &&
	    set_find(st->set, st->cap, sn, len)->len != 0;
	serial = ASN1_INTEGER_new();
	if (!serial || !ASN1_STRING_set(serial, sn, (int)len)) {
		rc = -1;
		goto out;
	}
	if (delta && crl_find(st->delta.crl, serial, a)) {
		/* removeFromCRL: released after the base; good again. */
		if (a->reason != CRL_REASON_REMOVE_FROM_CRL) {
			a->status = V_OCSP_CERTSTATUS_REVOKED;
			goto out;
		}
	} else if (crl_find(st->full.crl, serial, a)) {
		a->status = V_OCSP_CERTSTATUS_REVOKED;
		goto out;
	}
	a->reason = 0;
	a->revoked_at = 0;
	a->status = issued ? V_OCSP_CERTSTATUS_GOOD : V_OCSP_CERTSTATUS_UNKNOWN;
out:
	ASN1_INTEGER_free(serial);
	return rc;
}

unsigned long ocsp_status_generation(const ocsp_status_t *st)
{
	return st->gen;
}

int ocsp_status_issued_next(ocsp_status_t *st, size_t *cursor, uint8_t sn[SERIAL_MAX], size_t *len)
{
	while (*cursor < st->cap) {
		const struct slot *s = &st->set[(*cursor)++];
		if (s->len) {
			memcpy(sn, s->b, s->len);
			*len = s->len;
			return 1;
		}
	}
	*cursor = 0;
	return 0;
}

size_t ocsp_status_issued(const ocsp_status_t *st)
{
	return st->count;
}
