/*
 * mail.c: see mail.h. Composition is hand-written rather than libcurl's curl_mime so
 * that one rendering serves both the relay and the outbox, and so that Date and
 * Message-ID (which libcurl never adds) are part of it. Every body is base64: the RA
 * writes Chinese text, and base64 keeps lines short and 7-bit whatever the content.
 *
 * The sender lets libcurl open and secure each connection and speaks the transactions on
 * it itself, pipelined when the relay allows (see "the sender" below). Nothing we send
 * (the AUTH exchange included) is ever copied into a reply, a log line or the ledger.
 */
#include "mail.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define MAIL_MAX_TO 16

struct mail_attachment {
	char *filename;
	char *type;
	unsigned char *data;
	size_t len;
};

struct mail_msg {
	char *from_name, *from_addr;
	char *to_name[MAIL_MAX_TO], *to_addr[MAIL_MAX_TO];
	int nto;
	char *subject, *text, *html;
	struct mail_attachment *att;
	int natt;
	char *msgid;
};

/* ---- a growing text buffer ---- */

struct buf {
	char *p;
	size_t len, cap;
};

/* Room for N more bytes and the NUL; the place to write them. */
static char *buf_reserve(struct buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	return b->p + b->len;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	memcpy(buf_reserve(b, n), s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("mail: cannot format a header");
	if ((size_t)n >= room) {	/* did not fit: make room and write it again */
		buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* ---- encodings ---- */

/* Append the base64 of DATA to B, lines of 76 characters ending CRLF. */
static void buf_base64(struct buf *b, const void *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = data;
	size_t chars = (len + 2) / 3 * 4;
	char *o = buf_reserve(b, chars + (chars + 75) / 76 * 2), *start = o;
	size_t col = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len) v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len) v |= in[i + 2];
		o[0] = tab[(v >> 18) & 63];
		o[1] = tab[(v >> 12) & 63];
		o[2] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		o[3] = i + 2 < len ? tab[v & 63] : '=';
		o += 4;
		col += 4;
		if (col == 76) {
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
		}
	}
	if (col) {
		*o++ = '\r';
		*o++ = '\n';
	}
	b->len += (size_t)(o - start);
	b->p[b->len] = '\0';
}

char *mail_base64(const void *data, size_t len)
{
	struct buf b = { 0 };
	buf_add(&b, "", 0);
	buf_base64(&b, data, len);
	return b.p;
}

/* Base64 without line breaks, for encoded-words. */
static char *base64_flat(const void *data, size_t len)
{
	char *s = mail_base64(data, len), *w = s;
	for (char *r = s; *r; r++)
		if (*r != '\r' && *r != '\n')
			*w++ = *r;
	*w = '\0';
	return s;
}

static int needs_encoding(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 1;
	return strstr(s, "=?") != NULL;
}

char *mail_encode_word(const char *text)
{
	struct buf b = { 0 };
	size_t n = strlen(text), i = 0;

	if (!needs_encoding(text))
		return xstrdup(text);
	buf_add(&b, "", 0);
	/*
	 * An encoded-word may be at most 75 characters (RFC 2047 section 2): 45 bytes of
	 * UTF-8 make 60 of base64, plus 12 of framing. Cut only between characters, so each
	 * word decodes on its own.
	 */
	while (i < n) {
		size_t take = n - i > 45 ? 45 : n - i;
		while (i + take < n && ((unsigned char)text[i + take] & 0xc0) == 0x80)
			take--;
		char *w = base64_flat(text + i, take);
		buf_printf(&b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", w);
		free(w);
		i += take;
	}
	return b.p;
}

/* A header line's value may not carry a line break: that would let a value add headers. */
static char *one_line(const char *s)
{
	char *c = xstrdup(s ? s : "");
	for (char *p = c; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return c;
}

static int addr_ok(const char *a)
{
	const char *at = strchr(a, '@');
	if (!at || at == a || !at[1] || strchr(at + 1, '@'))
		return 0;
	for (const char *p = a; *p; p++)
		if (*p <= ' ' || *p == '<' || *p == '>' || *p == ',' || *p == '"' || *p == 0x7f)
			return 0;
	return 1;
}

/* "Name <addr>" for a header, with the name encoded or quoted as needed. */
static char *format_mailbox(const char *name, const char *addr)
{
	if (!name || !*name)
		return xasprintf("<%s>", addr);
	if (needs_encoding(name)) {
		char *w = mail_encode_word(name);
		char *r = xasprintf("%s <%s>", w, addr);
		free(w);
		return r;
	}
	struct buf b = { 0 };
	buf_add(&b, "\"", 1);
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_add(&b, "\\", 1);
		buf_add(&b, p, 1);
	}
	buf_printf(&b, "\" <%s>", addr);
	return b.p;
}

static char *random_hex(size_t nbytes)
{
	unsigned char r[32];
	char *out = xmalloc(2 * nbytes + 1);
	if (nbytes > sizeof r || RAND_bytes(r, (int)nbytes) != 1)
		fatal("no randomness for mail identifiers");
	hex_encode(r, nbytes, out);
	return out;
}

/* ---- the message ---- */

mail_msg_t *mail_msg_new(void)
{
	return xcalloc(1, sizeof(mail_msg_t));
}

void mail_msg_destroy(mail_msg_t **mp)
{
	mail_msg_t *m;
	if (!mp || !(m = *mp))
		return;
	free(m->from_name);
	free(m->from_addr);
	for (int i = 0; i < m->nto; i++) {
		free(m->to_name[i]);
		free(m->to_addr[i]);
	}
	free(m->subject);
	free(m->text);
	free(m->html);
	for (int i = 0; i < m->natt; i++) {
		free(m->att[i].filename);
		free(m->att[i].type);
		/* attachments are the one place a sheet's PDF lives in memory */
		OPENSSL_cleanse(m->att[i].data, m->att[i].len);
		free(m->att[i].data);
	}
	free(m->att);
	free(m->msgid);
	free(m);
	*mp = NULL;
}

int mail_msg_set_from(mail_msg_t *m, const char *mailbox)
{
	const char *lt = strrchr(mailbox, '<');
	char *name = NULL, *addr;

	if (lt) {
		const char *gt = strchr(lt, '>');
		if (!gt || gt[1] != '\0')
			return -1;
		addr = xasprintf("%.*s", (int)(gt - lt - 1), lt + 1);
		size_t nl = (size_t)(lt - mailbox);
		while (nl && mailbox[nl - 1] == ' ')
			nl--;
		name = xasprintf("%.*s", (int)nl, mailbox);
		if (name[0] == '"' && nl >= 2 && name[nl - 1] == '"') {
			memmove(name, name + 1, nl - 2);
			name[nl - 2] = '\0';
		}
	} else {
		addr = xstrdup(mailbox);
	}
	if (!addr_ok(addr)) {
		free(addr);
		free(name);
		return -1;
	}
	free(m->from_name);
	free(m->from_addr);
	m->from_name = name ? one_line(name) : NULL;
	free(name);
	m->from_addr = addr;
	return 0;
}

int mail_msg_add_to(mail_msg_t *m, const char *name, const char *addr)
{
	if (!addr || !addr_ok(addr) || m->nto == MAIL_MAX_TO)
		return -1;
	m->to_name[m->nto] = name ? one_line(name) : NULL;
	m->to_addr[m->nto] = xstrdup(addr);
	m->nto++;
	return 0;
}

void mail_msg_set_subject(mail_msg_t *m, const char *subject)
{
	free(m->subject);
	m->subject = one_line(subject);
}

void mail_msg_set_text(mail_msg_t *m, const char *text)
{
	free(m->text);
	m->text = xstrdup(text);
}

void mail_msg_set_html(mail_msg_t *m, const char *html)
{
	free(m->html);
	m->html = html ? xstrdup(html) : NULL;
}

void mail_msg_attach(mail_msg_t *m, const char *filename, const char *type,
    const void *data, size_t len)
{
	struct mail_attachment *a;
	m->att = xrealloc(m->att, (size_t)(m->natt + 1) * sizeof *m->att);
	a = &m->att[m->natt++];
	a->filename = one_line(filename);
	a->type = one_line(type);
	a->data = xmalloc(len);
	memcpy(a->data, data, len);
	a->len = len;
}

const char *mail_msg_from_addr(const mail_msg_t *m) { return m->from_addr; }
const char *mail_msg_first_to(const mail_msg_t *m) { return m->nto ? m->to_addr[0] : NULL; }
const char *mail_msg_id(const mail_msg_t *m) { return m->msgid; }

void mail_msg_set_id(mail_msg_t *m, const char *id)
{
	free(m->msgid);
	m->msgid = one_line(id);
}

/* Text bodies go out with CRLF line ends, whatever the template had. */
static char *crlf(const char *s, size_t *len)
{
	size_t n = strlen(s), bare = 0;
	const char *p, *nl;
	char *out, *o;

	for (p = s; (nl = memchr(p, '\n', n - (size_t)(p - s))); p = nl + 1)
		bare += nl == s || nl[-1] != '\r';
	o = out = xmalloc(n + bare + 1);
	for (p = s; (nl = memchr(p, '\n', n - (size_t)(p - s))); p = nl + 1) {
		size_t k = (size_t)(nl - p);
		memcpy(o, p, k);
		o += k;
		if (nl == s || nl[-1] != '\r')
			*o++ = '\r';
		*o++ = '\n';
	}
	memcpy(o, p, n - (size_t)(p - s));
	o += n - (size_t)(p - s);
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

static void add_text_part(struct buf *b, const char *subtype, const char *body)
{
	size_t len;
	char *c = crlf(body, &len);
	buf_printf(b, "Content-Type: text/%s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", subtype);
	buf_base64(b, c, len);
	free(c);
}

static void add_body(struct buf *b, const mail_msg_t *m)
{
	char *bd;
	if (!m->html) {
		add_text_part(b, "plain", m->text);
		return;
	}
	bd = xasprintf("=_alt_%s", m->msgid);
	buf_printf(b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", bd);
	buf_printf(b, "--%s\r\n", bd);
	add_text_part(b, "plain", m->text);
	buf_printf(b, "--%s\r\n", bd);
	add_text_part(b, "html", m->html);
	buf_printf(b, "--%s--\r\n", bd);
	free(bd);
}

static void add_attachment(struct buf *b, const struct mail_attachment *a)
{
	char *fn = mail_encode_word(a->filename);
	buf_printf(b, "Content-Type: %s; name=\"%s\"\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", a->type, fn, fn);
	buf_base64(b, a->data, a->len);
	free(fn);
}

static void add_date(struct buf *b, long long date)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)date;
	struct tm tm;
	/* spelled out rather than strftime, so that a locale never changes the names */
	gmtime_r(&t, &tm);
	buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
	    tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *mail_msg_render(mail_msg_t *m, long long date, size_t *len)
{
	struct buf b = { 0 };
	char *s, *bd = NULL;

	if (!m->from_addr || m->nto == 0 || !m->text)
		return NULL;
	if (!m->msgid) {
		char *r = random_hex(16);
		m->msgid = xasprintf("%lld.%s@%s", date, r, strchr(m->from_addr, '@') + 1);
		free(r);
	}
	add_date(&b, date);
	s = format_mailbox(m->from_name, m->from_addr);
	buf_printf(&b, "From: %s\r\n", s);
	free(s);
	buf_add(&b, "To: ", 4);
	for (int i = 0; i < m->nto; i++) {
		s = format_mailbox(m->to_name[i], m->to_addr[i]);
		buf_printf(&b, "%s%s", i ? ",\r\n " : "", s);
		free(s);
	}
	s = mail_encode_word(m->subject ? m->subject : "");
	buf_printf(&b, "\r\nSubject: %s\r\n", s);
	free(s);
	buf_printf(&b, "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n", m->msgid);
	if (m->natt == 0) {
		add_body(&b, m);
	} else {
		bd = xasprintf("=_mix_%s", m->msgid);
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bd);
		buf_printf(&b, "--%s\r\n", bd);
		add_body(&b, m);
		for (int i = 0; i < m->natt; i++) {
			buf_printf(&b, "--%s\r\n", bd);
			add_attachment(&b, &m->att[i]);
		}
		buf_printf(&b, "--%s--\r\n", bd);
		free(bd);
	}
	if (len)
		*len = b.len;
	return b.p;
}

/* ---- the sender ----
 *
 * libcurl opens each connection (TCP, the greeting, EHLO, STARTTLS with the relay's
 * certificate checked, AUTH) and then hands it over (CURLOPT_CONNECT_ONLY); the
 * transactions on it are ours, written with curl_easy_send and read with curl_easy_recv,
 * so TLS stays libcurl's while the SMTP commands can be pipelined (RFC 2920): when the
 * relay offers PIPELINING, MAIL FROM, every RCPT TO and DATA go out in one write and the
 * message and its final dot in a second, two writes and two reads per message where
 * libcurl's own SMTP writes each command alone and waits for each answer. A relay that
 * does not offer it gets one command at a time.
 *
 * A transaction that fails in any way closes its connection (the session may be in any
 * state) and the next message opens a fresh one; a kept connection the relay has closed
 * or spoken on while idle is replaced before it is used.
 */

#define SLOT_MAX_CMDS (MAIL_MAX_TO + 2)	/* MAIL FROM, a RCPT TO per recipient, DATA */

/* One message in flight at a time on its own connection. */
struct mail_slot {
	mail_sender_t *s;
	CURL *curl;		/* the connection; NULL when closed (and in outbox mode) */
	curl_socket_t fd;
	int pipelining;		/* the relay offers PIPELINING on this connection */
	int greeted;		/* while connecting: PIPELINING was in the last EHLO answer */
	enum { SLOT_FREE, SLOT_BUSY, SLOT_DONE } state;
	int ok;			/* DONE: accepted */
	mail_msg_t *m;
	long long tag;
	char *reply;		/* DONE: for the ledger */
	char *data;		/* the rendered message */
	size_t len;
	struct buf cmds;	/* the envelope: MAIL, RCPT..., DATA, each ending CRLF */
	size_t cmd_end[SLOT_MAX_CMDS];	/* where each command ends in cmds */
	int ncmds, written, answered;	/* commands in the envelope, queued, answered */
	int refused;		/* an envelope command was refused (first_bad says how) */
	struct buf out;		/* bytes queued for the relay */
	size_t out_pos;
	char in[1024];		/* the relay's answer, up to the end of a line */
	size_t in_len;
	int64_t started, deadline;	/* mono_ms() of the submission; by which it must be answered */
	char first_bad[512], last_reply[512];
	char errbuf[CURL_ERROR_SIZE];
};

struct mail_sender {
	struct mail_slot *slot;
	int nslots, busy, smtp;
	char *url, *outbox, *password, *user, *cainfo;
	int starttls;
	long timeout_s;
	int messages, connections;
	int unreachable;	/* connections that failed in a row, since the last that worked */
};

/* A relay's reply line "250-PIPELINING" or "250 PIPELINING" (EHLO keywords, any case). */
static int line_is_keyword(const char *line, size_t len, const char *kw)
{
	size_t k = strlen(kw);
	if (len < 4 + k || strncmp(line, "250", 3) || (line[3] != '-' && line[3] != ' '))
		return 0;
	return strncasecmp(line + 4, kw, k) == 0 && (len == 4 + k || line[4 + k] == ' ');
}

/*
 * While libcurl connects: note whether the relay's EHLO answer offers PIPELINING. Every
 * 220 (the greeting, the go-ahead for STARTTLS) starts over, so the answer to the EHLO
 * sent inside TLS is the one that counts. Only the relay's replies pass here, never what
 * we send (AUTH included).
 */
static size_t slot_header(char *data, size_t size, size_t nitems, void *arg)
{
	struct mail_slot *sl = arg;
	size_t n = size * nitems, len = n;

	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len >= 3 && !strncmp(data, "220", 3))
		sl->greeted = 0;
	else if (line_is_keyword(data, len, "PIPELINING"))
		sl->greeted = 1;
	if (len >= sizeof sl->last_reply)
		len = sizeof sl->last_reply - 1;
	memcpy(sl->last_reply, data, len);
	sl->last_reply[len] = '\0';
	return n;
}

/*
 * Close the slot's connection. A session between transactions says QUIT and waits for the
 * relay's answer (RFC 5321 section 4.1.1.10), at most until DEADLINE (mono_ms()); ABRUPT
 * (the session is in an unknown state) closes at once. libcurl says nothing on a
 * connection it has handed over.
 */
static void slot_close(struct mail_slot *sl, int abrupt, int64_t deadline)
{
	if (!sl->curl)
		return;
	if (!abrupt) {
		size_t n = 0;
		char r[512];
		if (curl_easy_send(sl->curl, "QUIT\r\n", 6, &n) == CURLE_OK && n == 6) {
			for (;;) {
				CURLcode cc = curl_easy_recv(sl->curl, r, sizeof r, &n);
				int64_t left = deadline - mono_ms();
				struct pollfd p = { .fd = sl->fd, .events = POLLIN };
				if (cc != CURLE_AGAIN || left <= 0 || poll(&p, 1, (int)left) <= 0)
					break;
			}
		}
	}
	if (sl->fd != CURL_SOCKET_BAD)
		shutdown(sl->fd, SHUT_RDWR);
	curl_easy_cleanup(sl->curl);
	sl->curl = NULL;
	sl->fd = CURL_SOCKET_BAD;
	sl->pipelining = 0;
	sl->in_len = 0;
}

/* Open the slot's connection (greeting, EHLO, STARTTLS, AUTH by libcurl). 0, or -1 with errbuf set. */
static int slot_connect(mail_sender_t *s, struct mail_slot *sl)
{
	long timeout = s->timeout_s > 0 ? s->timeout_s : 30L;
	CURL *c = curl_easy_init();
	CURLcode cc;

	sl->errbuf[0] = sl->last_reply[0] = '\0';
	sl->greeted = 0;
	if (!c) {
		snprintf(sl->errbuf, sizeof sl->errbuf, "libcurl would not start");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, slot_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, sl);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, sl->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout * 4);
	curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);	/* also bounds the QUIT */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (s->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (s->cainfo)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->cainfo);
	if (s->password) {
		curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK ||
	    curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &sl->fd) != CURLE_OK ||
	    sl->fd == CURL_SOCKET_BAD) {
		if (!sl->errbuf[0])
			snprintf(sl->errbuf, sizeof sl->errbuf, "%s", curl_easy_strerror(cc));
		curl_easy_cleanup(c);
		sl->fd = CURL_SOCKET_BAD;
		return -1;
	}
	sl->curl = c;
	sl->pipelining = sl->greeted;
	sl->in_len = 0;
	s->connections++;
	s->unreachable = 0;
	log_debug("mail: connection %d to the relay%s", s->connections,
	    sl->pipelining ? ", which offers PIPELINING" : "");
	return 0;
}

/* A kept connection is usable if the relay has neither closed it nor said anything (a 421). */
static int slot_alive(struct mail_slot *sl)
{
	char c;
	size_t n = 0;
	return sl->curl && sl->in_len == 0 && curl_easy_recv(sl->curl, &c, 1, &n) == CURLE_AGAIN;
}

mail_sender_t *mail_sender_new(const struct mail_conf *conf)
{
	mail_sender_t *s = xcalloc(1, sizeof *s);

	if (!conf->smtp_url || !*conf->smtp_url) {
		if (!conf->outbox || mkdir_p(conf->outbox, 0700) < 0) {
			log_err("mail: cannot create the outbox folder %s",
			    conf->outbox ? conf->outbox : "(none)");
			free(s);
			return NULL;
		}
		s->outbox = xstrdup(conf->outbox);
		s->nslots = 1;
	} else {
		s->smtp = 1;
		s->url = xstrdup(conf->smtp_url);
		s->starttls = conf->starttls;
		s->cainfo = conf->cainfo && *conf->cainfo ? xstrdup(conf->cainfo) : NULL;
		s->timeout_s = conf->timeout_s;
		if (conf->user && *conf->user) {
			s->user = xstrdup(conf->user);
			s->password = xstrdup(conf->password ? conf->password : "");
		}
		s->nslots = conf->connections > 0 ? conf->connections : 1;
	}
	s->slot = xcalloc((size_t)s->nslots, sizeof *s->slot);
	for (int i = 0; i < s->nslots; i++) {
		s->slot[i].s = s;
		s->slot[i].fd = CURL_SOCKET_BAD;
	}
	return s;
}

static void buf_wipe(struct buf *b)
{
	if (b->p)
		OPENSSL_cleanse(b->p, b->cap);
	free(b->p);
	memset(b, 0, sizeof *b);
}

static void slot_clear(struct mail_slot *sl)
{
	/* the rendered bytes may hold an encrypted sheet; no clear secret, but no need to keep it */
	if (sl->data) {
		OPENSSL_cleanse(sl->data, sl->len);
		free(sl->data);
	}
	sl->data = NULL;
	buf_wipe(&sl->out);
	sl->out_pos = 0;
	free(sl->cmds.p);
	memset(&sl->cmds, 0, sizeof sl->cmds);
	free(sl->reply);
	sl->reply = NULL;
	mail_msg_destroy(&sl->m);
	sl->state = SLOT_FREE;
}

void mail_sender_destroy(mail_sender_t **sp)
{
	mail_sender_t *s;
	int64_t quit_by;
	if (!sp || !(s = *sp))
		return;
	quit_by = mono_ms() + 1000L * (s->timeout_s > 0 && s->timeout_s < 5 ? s->timeout_s : 5);
	if (s->smtp && s->messages)
		log_info("mail: %d message(s) accepted over %d connection(s)", s->messages,
		    s->connections);
	for (int i = 0; i < s->nslots; i++) {
		struct mail_slot *sl = &s->slot[i];
		slot_close(sl, sl->state == SLOT_BUSY, quit_by);
		slot_clear(sl);
	}
	if (s->password) {
		OPENSSL_cleanse(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->slot);
	free(s->url);
	free(s->user);
	free(s->cainfo);
	free(s->outbox);
	free(s);
	*sp = NULL;
}

int mail_slots(const mail_sender_t *s) { return s->nslots; }
int mail_in_flight(const mail_sender_t *s) { return s->busy; }

int mail_finished(const mail_sender_t *s)
{
	int n = 0;
	for (int i = 0; i < s->nslots; i++)
		n += s->slot[i].state == SLOT_DONE;
	return n;
}

static void slot_finish(struct mail_slot *sl, int ok, char *reply)
{
	sl->ok = ok;
	sl->reply = reply;
	sl->state = SLOT_DONE;
	if (ok)
		sl->s->messages++;
}

/* The transaction failed for REASON: log it, close the connection, hand the message back. */
static void slot_fail(struct mail_slot *sl, const char *reason)
{
	log_warn("mail: %s to %s not sent: %s", mail_msg_id(sl->m), sl->m->to_addr[0], reason);
	slot_finish(sl, 0, xstrdup(reason));
	slot_close(sl, 1, 0);
}

static void send_outbox(mail_sender_t *s, struct mail_slot *sl)
{
	char *path = xasprintf("%s/%s.eml", s->outbox, mail_msg_id(sl->m));
	int rc = file_write_atomic(path, sl->data, sl->len, 0600);
	if (rc < 0)
		log_err("mail: cannot write %s", path);
	slot_finish(sl, rc == 0, rc < 0 ? xasprintf("cannot write %s", path) :
	    xasprintf("outbox:%s", path));
	free(path);
}

/* Queue bytes for the relay. */
static void slot_queue(struct mail_slot *sl, const char *p, size_t n)
{
	if (sl->out_pos == sl->out.len)
		sl->out_pos = sl->out.len = 0;
	buf_add(&sl->out, p, n);
}

/* Queue envelope command I (its bytes in cmds). */
static void slot_queue_cmd(struct mail_slot *sl, int i)
{
	size_t from = i ? sl->cmd_end[i - 1] : 0;
	slot_queue(sl, sl->cmds.p + from, sl->cmd_end[i] - from);
	sl->written = i + 1;
}

/* Does a line of the LEN bytes at P start with a dot? */
static int dot_line(const char *p, size_t len)
{
	const char *end = p + len, *nl;

	if (len && *p == '.')
		return 1;
	for (; (nl = memchr(p, '\n', (size_t)(end - p))) && nl + 1 < end; p = nl + 1)
		if (nl[1] == '.')
			return 1;
	return 0;
}

/* Queue the message, dot-stuffed (RFC 5321 section 4.5.2), and the final dot. */
static void slot_queue_body(struct mail_slot *sl)
{
	const char *p = sl->data, *end = sl->data + sl->len;

	if (sl->out_pos == sl->out.len)
		sl->out_pos = sl->out.len = 0;
	if (!dot_line(p, sl->len)) {
		buf_add(&sl->out, p, sl->len);	/* no line starts with a dot (ours never do) */
		p = end;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (*p == '.')
			buf_add(&sl->out, ".", 1);
		buf_add(&sl->out, p, n);
		p += n;
	}
	if (sl->len && sl->data[sl->len - 1] != '\n')
		buf_add(&sl->out, "\r\n", 2);
	buf_add(&sl->out, ".\r\n", 3);
	sl->written = sl->ncmds + 1;
}

/* What the I-th step of a transaction of NCMDS envelope commands is, for messages. */
static const char *step_name(int i, int ncmds)
{
	if (i >= ncmds)
		return "the message";
	if (i == 0)
		return "MAIL FROM";
	return i == ncmds - 1 ? "DATA" : "RCPT TO";
}

/* The step the next reply answers. */
static const char *slot_verb(const struct mail_slot *sl)
{
	return step_name(sl->answered, sl->ncmds);
}

/*
 * One complete reply (its last line LINE, code CODE) to the command it answers: go on
 * with the transaction, or end it. 0 while it goes on, 1 once the slot is DONE.
 */
static int slot_reply(struct mail_slot *sl, int code, const char *line)
{
	int i = sl->answered++;
	size_t len = strlen(line);

	if (len >= sizeof sl->last_reply)
		len = sizeof sl->last_reply - 1;
	memcpy(sl->last_reply, line, len);
	sl->last_reply[len] = '\0';
	if (i == sl->ncmds) {		/* the final dot */
		if (code / 100 == 2) {
			slot_finish(sl, 1, xstrdup(line));
			return 1;
		}
	} else if (i < sl->ncmds - 1) {	/* MAIL FROM, RCPT TO */
		if (code / 100 == 2) {
			if (!sl->pipelining)
				slot_queue_cmd(sl, i + 1);
			return 0;
		}
		if (!sl->refused)
			snprintf(sl->first_bad, sizeof sl->first_bad, "the relay refused %s: %.400s",
			    step_name(i, sl->ncmds), line);
		sl->refused = 1;
		if (sl->pipelining)
			return 0;	/* DATA is on its way: read its answer too */
	} else if (code == 354 && !sl->refused) {	/* DATA */
		slot_queue_body(sl);
		return 0;
	}
	if (sl->refused) {
		char *why = xstrdup(sl->first_bad);
		slot_fail(sl, why);
		free(why);
	} else {
		char *why = xasprintf("the relay refused %s: %s",
		    step_name(i, sl->ncmds), line);
		slot_fail(sl, why);
		free(why);
	}
	return 1;
}

/* Take the complete lines out of in[]; 1 once the slot is DONE. */
static int slot_lines(struct mail_slot *sl)
{
	char *p = sl->in, *end = sl->in + sl->in_len, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		size_t len = (size_t)(nl - p);
		if (len && p[len - 1] == '\r')
			len--;
		p[len] = '\0';
		if (len < 3 || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]) || (len > 3 && p[3] != ' ' && p[3] != '-')) {
			char *why = xasprintf("the relay answered %s with a malformed line: %.80s",
			    slot_verb(sl), p);
			slot_fail(sl, why);
			free(why);
			return 1;
		}
		if (len > 3 && p[3] == '-') {	/* more lines of this reply follow */
			p = nl + 1;
			continue;
		}
		if (sl->answered >= sl->written) {
			slot_fail(sl, "the relay answered a command it was not sent");
			return 1;
		}
		int done = slot_reply(sl, atoi(p), p);
		p = nl + 1;
		if (done)
			break;
	}
	if (sl->state == SLOT_DONE && !sl->ok)
		return 1;	/* slot_fail closed the connection and emptied in[] */
	sl->in_len = (size_t)(end - p);
	memmove(sl->in, p, sl->in_len);
	if (sl->state == SLOT_DONE)
		return 1;
	if (sl->in_len == sizeof sl->in - 1) {
		slot_fail(sl, "the relay answered with a line longer than SMTP allows");
		return 1;
	}
	return 0;
}

/*
 * Move a BUSY slot on as far as it goes without waiting: write what is queued, read and
 * act on what the relay said (which may queue more). 1 if bytes still wait to be written.
 */
static int slot_pump(struct mail_slot *sl)
{
	while (sl->state == SLOT_BUSY) {
		size_t n = 0;
		CURLcode cc;

		if (sl->out_pos < sl->out.len) {
			cc = curl_easy_send(sl->curl, sl->out.p + sl->out_pos, sl->out.len - sl->out_pos, &n);
			if (cc == CURLE_OK) {
				sl->out_pos += n;
			} else if (cc != CURLE_AGAIN) {
				char *why = xasprintf("cannot write to the relay: %s", curl_easy_strerror(cc));
				slot_fail(sl, why);
				free(why);
				return 0;
			}
		}
		cc = curl_easy_recv(sl->curl, sl->in + sl->in_len, sizeof sl->in - 1 - sl->in_len, &n);
		if (cc == CURLE_AGAIN)
			break;
		if (cc != CURLE_OK || n == 0) {
			char *why = cc != CURLE_OK ?
			    xasprintf("cannot read from the relay: %s", curl_easy_strerror(cc)) :
			    xasprintf("the relay closed the connection before it answered %s%s%s",
				slot_verb(sl), sl->last_reply[0] ? "; relay said: " : "", sl->last_reply);
			slot_fail(sl, why);
			free(why);
			return 0;
		}
		sl->in_len += n;
		slot_lines(sl);
	}
	return sl->state == SLOT_BUSY && sl->out_pos < sl->out.len;
}

int mail_submit(mail_sender_t *s, mail_msg_t *m, long long date, long long tag)
{
	struct mail_slot *sl = NULL;

	for (int i = 0; i < s->nslots && !sl; i++)
		if (s->slot[i].state == SLOT_FREE)
			sl = &s->slot[i];
	if (!sl)
		return -1;
	s->busy++;
	sl->m = m;
	sl->tag = tag;
	sl->data = mail_msg_render(m, date, &sl->len);
	if (!sl->data) {
		log_err("mail: message lacks a sender, a recipient or a body");
		slot_finish(sl, 0, xstrdup("incomplete message"));
		return 0;
	}
	if (!s->smtp) {
		send_outbox(s, sl);
		return 0;
	}
	if (sl->curl && !slot_alive(sl))
		slot_close(sl, 1, 0);
	if (!sl->curl && slot_connect(s, sl) < 0) {
		s->unreachable++;
		char *why = xasprintf("%s%s%s", sl->errbuf, sl->last_reply[0] ? "; relay said: " : "",
		    sl->last_reply);
		slot_fail(sl, why);
		free(why);
		return 0;
	}
	buf_printf(&sl->cmds, "MAIL FROM:<%s>\r\n", m->from_addr);
	sl->cmd_end[0] = sl->cmds.len;
	for (int i = 0; i < m->nto; i++) {
		buf_printf(&sl->cmds, "RCPT TO:<%s>\r\n", m->to_addr[i]);
		sl->cmd_end[i + 1] = sl->cmds.len;
	}
	buf_add(&sl->cmds, "DATA\r\n", 6);
	sl->ncmds = m->nto + 2;
	sl->cmd_end[sl->ncmds - 1] = sl->cmds.len;
	sl->written = sl->answered = sl->refused = 0;
	sl->first_bad[0] = sl->last_reply[0] = '\0';
	sl->state = SLOT_BUSY;
	sl->started = mono_ms();
	sl->deadline = sl->started + 1000 * (s->timeout_s > 0 ? s->timeout_s : 30) * 4;
	if (sl->pipelining)	/* RFC 2920: the envelope and DATA in one group */
		for (int i = 0; i < sl->ncmds; i++)
			slot_queue_cmd(sl, i);
	else
		slot_queue_cmd(sl, 0);
	slot_pump(sl);
	return 0;
}

int mail_unreachable(const mail_sender_t *s)
{
	return s->unreachable;
}

static struct mail_slot *slot_done(mail_sender_t *s)
{
	for (int i = 0; i < s->nslots; i++)
		if (s->slot[i].state == SLOT_DONE)
			return &s->slot[i];
	return NULL;
}

/*
 * How long mail_done_wait lingers, once a message has finished, for the others in flight,
 * when the relay pipelines and answered it within RELAY_NEAR_MS: a local relay answers in
 * microseconds, and the caller commits once for all the messages handed back together,
 * so a millisecond turns one commit per message or two into one per few. A distant relay
 * is not waited for, nor one spoken to a command at a time: such a relay on this host
 * (aiosmtpd) is the slower side, and a connection left idle only leaves it idle too.
 */
#define LINGER_MS 1
#define RELAY_NEAR_MS 2

void mail_done_wait(mail_sender_t *s)
{
	struct pollfd *pfd = xcalloc((size_t)s->nslots, sizeof *pfd);
	struct mail_slot **ps = xcalloc((size_t)s->nslots, sizeof *ps);
	int64_t linger_until = -1;
	int np = 0;

	/*
	 * A slot is pumped when poll says its socket is ready, or before polling if it has
	 * bytes to write. Nothing read waits inside libcurl meanwhile: a pump reads until
	 * libcurl has nothing more (CURLE_AGAIN), TLS records included.
	 */
	while (s->busy > 0) {
		int64_t now = mono_ms(), wait = 1000;
		struct mail_slot *done = slot_done(s);
		np = 0;
		if (done) {
			if (linger_until < 0)
				linger_until = done->ok && done->pipelining &&
				    now - done->started <= RELAY_NEAR_MS ?
				    now + LINGER_MS : now;
			if (now >= linger_until || mail_finished(s) == s->busy)
				break;
			wait = linger_until - now;
		}
		for (int i = 0; i < s->nslots; i++) {
			struct mail_slot *sl = &s->slot[i];
			int want_out = 0;
			if (sl->state != SLOT_BUSY)
				continue;
			if (now >= sl->deadline) {
				char *why = xasprintf("the relay did not answer %s within %ld s",
				    slot_verb(sl), (s->timeout_s > 0 ? s->timeout_s : 30) * 4);
				slot_fail(sl, why);
				free(why);
				continue;
			}
			if (sl->out_pos < sl->out.len)
				want_out = slot_pump(sl);
			if (sl->state != SLOT_BUSY)
				continue;
			ps[np] = sl;
			pfd[np].fd = sl->fd;
			pfd[np].events = (short)(POLLIN | (want_out ? POLLOUT : 0));
			pfd[np].revents = 0;
			np++;
			if (sl->deadline - now < wait)
				wait = sl->deadline - now;
		}
		if (np == 0)
			break;
		if (!done && slot_done(s))
			continue;	/* finished while writing: decide about lingering first */
		if (poll(pfd, (nfds_t)np, (int)(wait > 0 ? wait : 0)) < 0 && errno != EINTR)
			fatal("mail: poll: %s", strerror(errno));
		for (int i = 0; i < np; i++)
			if (pfd[i].revents && ps[i]->state == SLOT_BUSY)
				slot_pump(ps[i]);
	}
	free(ps);
	free(pfd);
}

int mail_done(mail_sender_t *s, long long *tag, mail_msg_t **m, char **reply)
{
	struct mail_slot *sl;
	int rc;

	*m = NULL;
	if (reply)
		*reply = NULL;
	mail_done_wait(s);
	if (!(sl = slot_done(s)))
		return -1;
	*tag = sl->tag;
	*m = sl->m;
	sl->m = NULL;
	if (reply) {
		*reply = sl->reply;
		sl->reply = NULL;
	}
	rc = sl->ok ? 0 : -1;
	slot_clear(sl);
	s->busy--;
	return rc;
}

int mail_send(mail_sender_t *s, mail_msg_t *m, long long date, char **reply)
{
	long long tag;
	mail_msg_t *back = NULL;
	int rc = -1;

	if (reply)
		*reply = NULL;
	/* one at a time: wait for what is in flight to make room (callers send nothing else meanwhile) */
	if (s->busy == s->nslots) {
		log_err("mail: every connection is busy");
		if (reply)
			*reply = xstrdup("every connection is busy");
		return -1;
	}
	if (mail_submit(s, m, date, -1) < 0)
		return -1;
	for (;;) {
		char *r = NULL;
		int done = mail_done(s, &tag, &back, &r);
		if (!back)
			break;
		if (tag == -1 && back == m) {
			rc = done;
			if (reply)
				*reply = r;
			else
				free(r);
			break;
		}
		/* not ours: a caller mixing both ways would lose it here, so none does */
		log_err("mail: message %lld finished during a single send and was dropped", tag);
		free(r);
		mail_msg_destroy(&back);
	}
	return rc;
}
