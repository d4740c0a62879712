/*
 * mail.c: see mail.h. Composition is hand-written rather than libcurl's curl_mime so
 * that one rendering serves both the relay and the outbox, and so that Date and
 * Message-ID (which libcurl never adds) are part of it. Every body is base64: the RA
 * writes Chinese text, and base64 keeps lines short and 7-bit whatever the content.
 *
 * The sender records the relay's last reply line through libcurl's header callback, which
 * sees only the relay's replies, so the AUTH exchange (outgoing) is never copied anywhere.
 */
#include "mail.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* One message in flight: its own easy handle, so its own connection while it is sent. */
struct mail_slot {
	mail_sender_t *s;
	CURL *curl;		/* NULL in outbox mode */
	enum { SLOT_FREE, SLOT_BUSY, SLOT_DONE } state;
	int fresh;		/* its last transfer failed: do not reuse that connection */
	int ok;			/* DONE: accepted */
	mail_msg_t *m;
	long long tag;
	char *reply;		/* DONE: for the ledger */
	struct curl_slist *rcpt;
	char *data;		/* the rendered message being uploaded */
	size_t len, pos;
	char last_reply[512];
	char errbuf[CURL_ERROR_SIZE];
};

struct mail_sender {
	CURLM *multi;		/* NULL in outbox mode */
	struct mail_slot *slot;
	int nslots, busy;
	char *url, *outbox, *password;
	int messages, connections;
};

/* ---- a growing text buffer ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	buf_add(b, s, strlen(s));
	free(s);
}

/* ---- encodings ---- */

char *mail_base64(const void *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = data;
	struct buf b = { 0 };
	size_t col = 0;

	buf_add(&b, "", 0);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		char q[4];
		if (i + 1 < len) v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len) v |= in[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? tab[v & 63] : '=';
		buf_add(&b, q, 4);
		col += 4;
		if (col == 76) {
			buf_add(&b, "\r\n", 2);
			col = 0;
		}
	}
	if (col)
		buf_add(&b, "\r\n", 2);
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
static char *crlf(const char *s)
{
	struct buf b = { 0 };
	buf_add(&b, "", 0);
	for (const char *p = s; *p; p++) {
		if (*p == '\n' && (p == s || p[-1] != '\r'))
			buf_add(&b, "\r", 1);
		buf_add(&b, p, 1);
	}
	return b.p;
}

static void add_text_part(struct buf *b, const char *subtype, const char *body)
{
	char *c = crlf(body);
	char *enc = mail_base64(c, strlen(c));
	buf_printf(b, "Content-Type: text/%s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s", subtype, enc);
	free(enc);
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
	char *enc = mail_base64(a->data, a->len);
	buf_printf(b, "Content-Type: %s; name=\"%s\"\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s", a->type, fn, fn, enc);
	free(enc);
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

/* ---- the sender ---- */

static size_t slot_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct mail_slot *sl = arg;
	size_t n = size * nmemb, left = sl->len - sl->pos;
	if (n > left)
		n = left;
	memcpy(dst, sl->data + sl->pos, n);
	sl->pos += n;
	return n;
}

/*
 * Keep the relay's last reply line. libcurl hands every reply line of the SMTP dialogue
 * to the header callback; nothing we send (AUTH included) passes here. Not its verbose
 * mode, which formats a line of text for each step of every transfer.
 */
static size_t slot_header(char *data, size_t size, size_t nitems, void *arg)
{
	struct mail_slot *sl = arg;
	size_t n = size * nitems, len = n;

	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len >= sizeof sl->last_reply)
		len = sizeof sl->last_reply - 1;
	memcpy(sl->last_reply, data, len);
	sl->last_reply[len] = '\0';
	return n;
}

static CURL *slot_easy(mail_sender_t *s, struct mail_slot *sl, const struct mail_conf *conf)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, slot_read);
	curl_easy_setopt(c, CURLOPT_READDATA, sl);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, slot_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, sl);
	curl_easy_setopt(c, CURLOPT_PRIVATE, sl);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, sl->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, conf->timeout_s > 0 ? conf->timeout_s : 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, conf->timeout_s > 0 ? conf->timeout_s * 4 : 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (conf->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (conf->cainfo && *conf->cainfo)
		curl_easy_setopt(c, CURLOPT_CAINFO, conf->cainfo);
	if (s->password) {
		curl_easy_setopt(c, CURLOPT_USERNAME, conf->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
	}
	return c;
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
		s->slot = xcalloc(1, sizeof *s->slot);
		s->slot[0].s = s;
		return s;
	}
	s->url = xstrdup(conf->smtp_url);
	if (conf->user && *conf->user)
		s->password = xstrdup(conf->password ? conf->password : "");
	s->nslots = conf->connections > 0 ? conf->connections : 1;
	s->slot = xcalloc((size_t)s->nslots, sizeof *s->slot);
	s->multi = curl_multi_init();
	if (!s->multi)
		goto fail;
	/* one relay: every connection goes to it, and never more than one per slot */
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)s->nslots);
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)s->nslots);
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)s->nslots);
	for (int i = 0; i < s->nslots; i++) {
		s->slot[i].s = s;
		if (!(s->slot[i].curl = slot_easy(s, &s->slot[i], conf)))
			goto fail;
	}
	return s;
fail:
	log_err("mail: libcurl would not start");
	mail_sender_destroy(&s);
	return NULL;
}

static void slot_clear(struct mail_slot *sl)
{
	curl_slist_free_all(sl->rcpt);
	sl->rcpt = NULL;
	/* the rendered bytes may hold an encrypted sheet; no clear secret, but no need to keep it */
	if (sl->data) {
		OPENSSL_cleanse(sl->data, sl->len);
		free(sl->data);
	}
	sl->data = NULL;
	free(sl->reply);
	sl->reply = NULL;
	mail_msg_destroy(&sl->m);
	sl->state = SLOT_FREE;
}

void mail_sender_destroy(mail_sender_t **sp)
{
	mail_sender_t *s;
	if (!sp || !(s = *sp))
		return;
	if (s->multi && s->messages)
		log_info("mail: %d message(s) accepted over %d connection(s)", s->messages,
		    s->connections);
	for (int i = 0; i < s->nslots; i++) {
		struct mail_slot *sl = &s->slot[i];
		if (sl->state == SLOT_BUSY)
			curl_multi_remove_handle(s->multi, sl->curl);
		slot_clear(sl);
		if (sl->curl)
			curl_easy_cleanup(sl->curl);
	}
	if (s->multi)
		curl_multi_cleanup(s->multi);
	if (s->password) {
		OPENSSL_cleanse(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->slot);
	free(s->url);
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
	sl->pos = 0;
	if (!sl->data) {
		log_err("mail: message lacks a sender, a recipient or a body");
		slot_finish(sl, 0, xstrdup("incomplete message"));
		return 0;
	}
	if (!s->multi) {
		send_outbox(s, sl);
		return 0;
	}
	for (int i = 0; i < m->nto; i++)
		sl->rcpt = curl_slist_append(sl->rcpt, m->to_addr[i]);
	sl->last_reply[0] = sl->errbuf[0] = '\0';
	curl_easy_setopt(sl->curl, CURLOPT_MAIL_FROM, m->from_addr);
	curl_easy_setopt(sl->curl, CURLOPT_MAIL_RCPT, sl->rcpt);
	curl_easy_setopt(sl->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)sl->len);
	/* after a failure the session may be in any state: start the next one clean */
	curl_easy_setopt(sl->curl, CURLOPT_FRESH_CONNECT, (long)sl->fresh);
	if (curl_multi_add_handle(s->multi, sl->curl) != CURLM_OK) {
		slot_finish(sl, 0, xstrdup("libcurl refused the transfer"));
		return 0;
	}
	sl->state = SLOT_BUSY;
	return 0;
}

/* A transfer of the multi handle ended with CC: record its outcome in its slot. */
static void slot_ended(mail_sender_t *s, struct mail_slot *sl, CURLcode cc)
{
	long opened = 0;

	/* the connections this transfer had to open (0 when it reused its slot's) */
	if (curl_easy_getinfo(sl->curl, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK)
		s->connections += (int)opened;
	curl_multi_remove_handle(s->multi, sl->curl);
	curl_easy_setopt(sl->curl, CURLOPT_MAIL_RCPT, NULL);
	sl->fresh = cc != CURLE_OK;
	if (cc == CURLE_OK) {
		slot_finish(sl, 1, xstrdup(sl->last_reply[0] ? sl->last_reply : "250"));
		return;
	}
	log_warn("mail: %s to %s not sent: %s%s%s", mail_msg_id(sl->m), sl->m->to_addr[0],
	    sl->errbuf[0] ? sl->errbuf : curl_easy_strerror(cc),
	    sl->last_reply[0] ? "; relay said: " : "", sl->last_reply);
	slot_finish(sl, 0, xasprintf("%s%s%s", sl->errbuf[0] ? sl->errbuf : curl_easy_strerror(cc),
	    sl->last_reply[0] ? "; relay said: " : "", sl->last_reply));
}

static struct mail_slot *slot_done(mail_sender_t *s)
{
	for (int i = 0; i < s->nslots; i++)
		if (s->slot[i].state == SLOT_DONE)
			return &s->slot[i];
	return NULL;
}

void mail_done_wait(mail_sender_t *s)
{
	while (s->busy > 0 && !slot_done(s)) {
		int running, left;
		CURLMsg *msg;
		if (curl_multi_perform(s->multi, &running) != CURLM_OK)
			fatal("mail: libcurl's transfer loop failed");
		while ((msg = curl_multi_info_read(s->multi, &left))) {
			struct mail_slot *ended = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&ended);
			slot_ended(s, ended, msg->data.result);
		}
		if (!slot_done(s))
			curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
	}
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
