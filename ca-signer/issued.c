/*
 * issued.c: the list of issued serials the signer publishes beside its CRLs, so that an
 * OCSP responder knows which serials exist (see signer.h, signer_issued_publish).
 *
 * ra.issued in signer.crl_dir is one lower-case hex serial per line, every certificate
 * ever issued. It is written whole (write, fsync, rename) when the signer starts, from
 * signer.db, and then only appended to: the serials of a batch are written in one write()
 * after the batch commits and before anyone is answered, so a certificate a worker holds
 * is always on the list. Appends are not fsync'ed: after a crash the next start writes
 * the list again from signer.db, which is the record. Status is not on this list: it
 * comes from the signed CRLs, so a responder never has to trust this file for "revoked".
 */
#include "signer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct issued_fill {
	char *buf;
	size_t len, cap;
};

static void issued_put(struct issued_fill *f, const char *serial)
{
	size_t n = strlen(serial);

	if (f->len + n + 1 > f->cap) {
		f->cap = (f->len + n + 1) * 2 + 4096;
		f->buf = xrealloc(f->buf, f->cap);
	}
	memcpy(f->buf + f->len, serial, n);
	f->buf[f->len + n] = '\n';
	f->len += n + 1;
}

static int issued_add(void *arg, const char *serial)
{
	issued_put(arg, serial);
	return 0;
}

int signer_issued_publish(signer_t *s, char err[SIGNER_ERR_LEN])
{
	struct issued_fill f = { 0 };
	char *path = xasprintf("%s/ra.issued", s->crl_dir);
	int rc = -1;

	err[0] = '\0';
	if (s->in_batch) {
		snprintf(err, SIGNER_ERR_LEN, "the issued list is not written inside a batch");
		goto out;
	}
	if (s->issued_fd >= 0) {
		close(s->issued_fd);
		s->issued_fd = -1;
	}
	if (store_serials_foreach(s->store, issued_add, &f) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "signer database error");
		goto out;
	}
	/* through the CRL folder's descriptor: ca-signer's sandbox allows no other writes */
	if (file_write_at(s->crl_fd, "ra.issued", f.buf ? f.buf : "", f.len, 0644) < 0 ||
	    (s->issued_fd = openat(s->crl_fd, "ra.issued", O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	log_info("issued list written: %zu bytes", f.len);
	rc = 0;
out:
	free(f.buf);
	free(path);
	return rc;
}

void issued_note(signer_t *s, const char *serial)
{
	struct issued_fill f = { s->pending, s->pending_len, s->pending_cap };

	if (s->issued_fd < 0)
		return;
	issued_put(&f, serial);
	s->pending = f.buf;
	s->pending_len = f.len;
	s->pending_cap = f.cap;
}

void issued_flush(signer_t *s, int committed)
{
	const char *p = s->pending;
	size_t left = s->pending_len;

	while (committed && s->issued_fd >= 0 && left > 0) {
		ssize_t w = write(s->issued_fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* The responder would call these serials unknown until the next start. */
			log_err("cannot append to the issued list: %s", strerror(errno));
			close(s->issued_fd);
			s->issued_fd = -1;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	s->pending_len = 0;
}
