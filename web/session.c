/*
 * session.c: the website's sessions, in memory.
 *
 * Rules kept here:
 *   - a session id is 32 bytes from RAND_bytes, sent only in a cookie
 *     (__Host- prefix, Secure, HttpOnly, SameSite=Strict, Path=/); the store keeps only
 *     its SHA-256, so a copy of the store (a core dump) gives no usable id;
 *   - the CSRF token is an HMAC of that hash under a key made at start-up: it is never
 *     stored, and dies with the session (or with a restart);
 *   - the verification code is kept as a hash beside its drawn image, and is used up by
 *     the first check, right or wrong;
 *   - a login gives the session a new id (no fixation); a session ends after
 *     web.session_idle_s unused or web.session_max_s after it began, and at logout;
 *   - no password, sealed or not, is ever kept: each request that needs one asks for it.
 * One lock guards the store; nothing slow (no back-office call) runs under it.
 */
#include "web.h"
#include "log.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

struct sess {
	int used;
	uint8_t key[32];	/* SHA-256 of the id */
	int en, logged_in;
	char account[16];
	time_t created, seen;
	int has_code;
	uint8_t code_hash[32];
	uint8_t *png;
	size_t png_len;
	json_t *certs;
	char flash[512];	/* a message for the next page (after a redirect), shown once */
};

struct web_sessions {
	pthread_mutex_t lock;
	size_t n;
	struct sess *s;
	int64_t idle_s, max_s;
	uint8_t csrf_key[32];
};

web_sessions_t *session_store_new(const config_t *cfg)
{
	web_sessions_t *st = xcalloc(1, sizeof *st);

	pthread_mutex_init(&st->lock, NULL);
	st->n = (size_t)config_int(cfg, "web.max_sessions");
	st->s = xcalloc(st->n, sizeof *st->s);
	st->idle_s = config_int(cfg, "web.session_idle_s");
	st->max_s = config_int(cfg, "web.session_max_s");
	if (RAND_bytes(st->csrf_key, sizeof st->csrf_key) != 1)
		fatal("no randomness for the CSRF key");
	return st;
}

static void sess_clear(struct sess *s)
{
	free(s->png);
	json_decref(s->certs);
	OPENSSL_cleanse(s, sizeof *s);
}

void session_store_destroy(web_sessions_t **pst)
{
	web_sessions_t *st = pst ? *pst : NULL;
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		sess_clear(&st->s[i]);
	free(st->s);
	OPENSSL_cleanse(st->csrf_key, sizeof st->csrf_key);
	pthread_mutex_destroy(&st->lock);
	free(st);
	*pst = NULL;
}

static void sha256(const void *data, size_t len, uint8_t out[32])
{
	EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL);
}

/* The slot of KEY, or NULL. Under the lock. */
static struct sess *find(web_sessions_t *st, const uint8_t key[32])
{
	for (size_t i = 0; i < st->n; i++)
		if (st->s[i].used && CRYPTO_memcmp(st->s[i].key, key, 32) == 0)
			return &st->s[i];
	return NULL;
}

static int expired(const web_sessions_t *st, const struct sess *s, time_t now)
{
	return now - s->seen >= st->idle_s || now - s->created >= st->max_s || now < s->created;
}

/* A fresh id: its cookie into R->set_cookie, its hash into KEY. */
static void new_id(struct web_req *r, uint8_t key[32])
{
	uint8_t id[32];
	char hex[65];

	if (RAND_bytes(id, sizeof id) != 1)
		fatal("no randomness for a session id");
	hex_encode(id, sizeof id, hex);
	sha256(hex, 64, key);
	free(r->set_cookie);
	r->set_cookie = xasprintf("%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict", WEB_SID_COOKIE, hex);
	OPENSSL_cleanse(id, sizeof id);
	OPENSSL_cleanse(hex, sizeof hex);
}

/* Fill R's snapshot from S. Under the lock. */
static void snapshot(struct web_req *r, const struct sess *s)
{
	uint8_t mac[32];
	unsigned maclen = sizeof mac;

	memcpy(r->sid_key, s->key, 32);
	r->has_session = 1;
	r->s.en = s->en;
	r->s.logged_in = s->logged_in;
	snprintf(r->s.account, sizeof r->s.account, "%s", s->account);
	HMAC(EVP_sha256(), r->w->sessions->csrf_key, sizeof r->w->sessions->csrf_key, s->key, 32, mac, &maclen);
	hex_encode(mac, sizeof mac, r->s.csrf);
}

int session_attach(struct web_req *r, const char *cookie, int make)
{
	web_sessions_t *st = r->w->sessions;
	time_t now = ra_now();
	struct sess *s = NULL, *victim;
	uint8_t key[32];
	int rc = -1;

	pthread_mutex_lock(&st->lock);
	if (cookie && strlen(cookie) == 64 && strspn(cookie, "0123456789abcdef") == 64) {
		sha256(cookie, 64, key);
		if ((s = find(st, key)) && expired(st, s, now)) {
			log_info("%s: a session ended (%s)", r->source, now - s->created >= st->max_s ? "too old" : "idle");
			sess_clear(s);
			s = NULL;
		}
	}
	if (s) {
		s->seen = now;
		snapshot(r, s);
		rc = 1;
	} else if (make) {
		victim = &st->s[0];
		for (size_t i = 0; i < st->n; i++) {
			if (!st->s[i].used || expired(st, &st->s[i], now)) {
				victim = &st->s[i];
				break;
			}
			if (st->s[i].seen < victim->seen)
				victim = &st->s[i];
		}
		sess_clear(victim);
		victim->used = 1;
		victim->created = victim->seen = now;
		new_id(r, victim->key);
		snapshot(r, victim);
		rc = 0;
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void session_login(struct web_req *r, const char *account, json_t *certs)
{
	web_sessions_t *st = r->w->sessions;
	struct sess *s;

	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key))) {
		new_id(r, s->key);
		s->logged_in = 1;
		snprintf(s->account, sizeof s->account, "%s", account);
		s->created = s->seen = ra_now();
		json_decref(s->certs);
		s->certs = json_deep_copy(certs);
		s->has_code = 0;
		snapshot(r, s);
	}
	pthread_mutex_unlock(&st->lock);
}

void session_end(struct web_req *r)
{
	web_sessions_t *st = r->w->sessions;
	struct sess *s;

	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key)))
		sess_clear(s);
	pthread_mutex_unlock(&st->lock);
	r->has_session = 0;
	memset(&r->s, 0, sizeof r->s);
	free(r->set_cookie);
	r->set_cookie = xasprintf("%s=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0", WEB_SID_COOKIE);
}

void session_set_lang(struct web_req *r, int en)
{
	web_sessions_t *st = r->w->sessions;
	struct sess *s;

	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key)))
		s->en = en;
	pthread_mutex_unlock(&st->lock);
	r->s.en = en;
}

int session_new_code(struct web_req *r, const char *test_code)
{
	web_sessions_t *st = r->w->sessions;
	char code[CAPTCHA_LEN + 1];
	uint8_t *png, hash[32];
	size_t len = 0;
	struct sess *s;

	if (test_code)
		snprintf(code, sizeof code, "%s", test_code);
	else
		captcha_code(code);
	png = captcha_png(code, &len);
	sha256(code, strlen(code), hash);
	OPENSSL_cleanse(code, sizeof code);
	if (!png)
		return -1;
	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key))) {
		free(s->png);
		s->png = png;
		s->png_len = len;
		memcpy(s->code_hash, hash, 32);
		s->has_code = 1;
		png = NULL;
	}
	pthread_mutex_unlock(&st->lock);
	free(png);
	return 0;
}

uint8_t *session_code_png(struct web_req *r, size_t *len)
{
	web_sessions_t *st = r->w->sessions;
	uint8_t *out = NULL;
	struct sess *s;

	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key)) && s->png) {
		out = xmalloc(s->png_len);
		memcpy(out, s->png, s->png_len);
		*len = s->png_len;
	}
	pthread_mutex_unlock(&st->lock);
	return out;
}

int session_check_code(struct web_req *r, const char *code)
{
	web_sessions_t *st = r->w->sessions;
	uint8_t hash[32];
	char up[CAPTCHA_LEN + 1];
	struct sess *s;
	int ok = 0;
	size_t n = code ? strlen(code) : 0;

	if (n != CAPTCHA_LEN)
		code = NULL;
	for (size_t i = 0; code && i < n; i++)
		up[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 32 : code[i]);
	up[CAPTCHA_LEN] = '\0';
	sha256(up, code ? n : 0, hash);
	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key)) && s->has_code) {
		ok = code && CRYPTO_memcmp(hash, s->code_hash, 32) == 0;
		s->has_code = 0;
	}
	pthread_mutex_unlock(&st->lock);
	return ok;
}

json_t *session_certs(struct web_req *r)
{
	web_sessions_t *st = r->w->sessions;
	json_t *out = NULL;
	struct sess *s;

	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key)) && s->certs)
		out = json_deep_copy(s->certs);
	pthread_mutex_unlock(&st->lock);
	return out ? out : json_array();
}

void session_set_certs(struct web_req *r, json_t *certs)
{
	web_sessions_t *st = r->w->sessions;
	struct sess *s;

	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key))) {
		json_decref(s->certs);
		s->certs = json_deep_copy(certs);
	}
	pthread_mutex_unlock(&st->lock);
}

void session_flash(struct web_req *r, const char *words)
{
	web_sessions_t *st = r->w->sessions;
	struct sess *s;

	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key)))
		snprintf(s->flash, sizeof s->flash, "%s", words);
	pthread_mutex_unlock(&st->lock);
}

int session_take_flash(struct web_req *r, char *out, size_t len)
{
	web_sessions_t *st = r->w->sessions;
	struct sess *s;
	int got = 0;

	pthread_mutex_lock(&st->lock);
	if ((s = find(st, r->sid_key)) && s->flash[0]) {
		snprintf(out, len, "%s", s->flash);
		s->flash[0] = '\0';
		got = 1;
	}
	pthread_mutex_unlock(&st->lock);
	return got;
}
