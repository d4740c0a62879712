/*
 * web.h: ra-web's pieces and the one table of its routes.
 *
 * ra-web is the subscriber's website back end and the RA's HTTP front door. It is a
 * producer like ra-self (lib/client.c, its own CURVE key "web"): every change of state
 * is a job that ra-queue commits and a worker carries out with the website password,
 * sealed here to the workers' key at once. It holds no database, no CA key and no
 * subscriber secret beyond the one request that carries it.
 *
 * Pieces, one file each: main.c (options, configuration, TLS, the daemon), http.c
 * (requests and answers: bodies, forms, cookies, headers), route.c (the route table and
 * who may call what), session.c (the session store), captcha.c (the verification code
 * image), ratelimit.c (per-source rate limit), pages.c (the subscriber's HTML pages),
 * assets.c (their style sheet and the card page's script),
 * text.c (their words in Traditional Chinese and English, with lib/subtext.c
 * that ra-self shares), api.c (the JSON API), api_card.c (the card agent's relay),
 * backend.c (jobs and questions to ra-queue, one client per serving thread).
 */
#ifndef RA_WEB_H
#define RA_WEB_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "subtext.h"

#define WEB_MAX_BODY 16384	/* the largest form or JSON body accepted */
#define WEB_SID_COOKIE "__Host-ra_sid"

/* ---- the server as a whole ---------------------------------------------------------- */

typedef struct web_sessions web_sessions_t;
typedef struct web_ratelimit web_ratelimit_t;

struct web {
	config_t *cfg;
	web_sessions_t *sessions;
	web_ratelimit_t *rate;
	const char *test_code;		/* non-NULL only under --insecure-test */
	uint8_t api_token_hash[32];	/* SHA-256 of the site's bearer token */
	int api_on;
	char *csp;			/* Content-Security-Policy of every page */
	int tls;
};

/* ---- one request ------------------------------------------------------------------- */

struct web_req {
	struct web *w;
	struct MHD_Connection *con;
	const char *method, *path;
	char source[64];	/* the client's address (through web.trusted_proxy when set) */
	char *body;		/* the request body, NUL-terminated; wiped when the request ends */
	size_t body_len;
	int too_big;
	json_t *form;		/* a urlencoded body as an object of strings (NULL if none) */
	const char *param;	/* the "*" segment of a route's path (a serial number) */
	/* the session, as found or made by the route's rule (session.c) */
	uint8_t sid_key[32];	/* SHA-256 of the cookie's id: the store's key */
	int has_session;
	char *set_cookie;	/* a Set-Cookie header to send (a new or ended session) */
	struct web_snapshot {
		int en;			/* English pages */
		int logged_in;
		char account[16];
		char csrf[65];		/* the session's CSRF token (derived, never stored) */
	} s;
};

/* ---- http.c ------------------------------------------------------------------------ */

/* Parse R->body as application/x-www-form-urlencoded into R->form. 0/-1. */
int http_parse_form(struct web_req *r);
/* Wipe every value of R's form (the passwords in it) and the body. */
void http_wipe(struct web_req *r);
/* A form field, or NULL. */
const char *http_field(const struct web_req *r, const char *name);
/* Send BODY (LEN bytes, copied) with STATUS and TYPE, the security headers and any
 * cookie of R. Returns MHD's verdict. */
enum MHD_Result http_send(struct web_req *r, unsigned status, const char *type, const void *body, size_t len);
/* A 303 See Other to LOCATION (a path of this site). */
enum MHD_Result http_redirect(struct web_req *r, const char *location);
/* A JSON answer (OBJ is stolen). */
enum MHD_Result http_json(struct web_req *r, unsigned status, json_t *obj);
/* Compare two strings in time that depends only on their lengths. 1 if equal. */
int http_equal(const char *a, const char *b);

/* ---- route.c ----------------------------------------------------------------------- */

/* Who may call a route. */
enum web_who {
	WHO_ANYONE,		/* no session needed (static files, the public status look-up) */
	WHO_VISITOR,		/* a session is made if there is none (login page, code image) */
	WHO_SUBSCRIBER,		/* a logged-in session */
	WHO_SITE,		/* the site's bearer token (web.api_token_file) */
	WHO_CARD,		/* the subscriber's card agent: no session, no token; each step's payload
				 * carries its proof (the website password, then the card's own answer) */
};

typedef enum MHD_Result (*web_handler)(struct web_req *r);

struct web_route {
	const char *method;
	const char *path;	/* "*" as the last segment matches one segment (r->param) */
	enum web_who who;
	int csrf;		/* a form that changes state: the session's token must come with it */
	const char *params;	/* what the request carries, for the reader (and docs/openapi.yaml) */
	web_handler fn;
	const char *what;
};

extern const struct web_route web_routes[];
extern const size_t web_nroutes;

/* Serve one complete request. */
enum MHD_Result route_dispatch(struct web_req *r);

/* ---- web_metrics.c ---- */
/* Count one response with STATUS (any thread). */
void web_metrics_count(unsigned status);
/* Write ra-web's metrics textfile to PATH. 0/-1. */
int web_metrics_write(const char *path);

/* ---- session.c --------------------------------------------------------------------- */

web_sessions_t *session_store_new(const config_t *cfg);
void session_store_destroy(web_sessions_t **s);
/*
 * Find the session of COOKIE (the request's session cookie, or NULL; R->sid_key, R->s
 * filled, touched) or, with MAKE, start a visitor session (R->set_cookie set). Expired
 * sessions are ended here. 1 found, 0 made, -1 none (not found and not MAKE).
 */
int session_attach(struct web_req *r, const char *cookie, int make);
/* After a login: a fresh id for the same session (no fixation), logged in as ACCOUNT,
 * with the account's certificates CERTS (not stolen). */
void session_login(struct web_req *r, const char *account, json_t *certs);
/* End the session of R (logout) and clear its cookie. */
void session_end(struct web_req *r);
/* Set the session's language. */
void session_set_lang(struct web_req *r, int en);
/* A new verification code for the session; its image (PNG, malloc'd) to *png. 0/-1. */
int session_new_code(struct web_req *r, const char *test_code);
/* The session's current code image, copied. NULL if none. */
uint8_t *session_code_png(struct web_req *r, size_t *len);
/* Check CODE against the session's code; the code is used up either way. 1 right, 0 not. */
int session_check_code(struct web_req *r, const char *code);
/* A message for the next page the session sees (Post/Redirect/Get), and taking it: 1 if
 * there was one (into OUT), 0 if not. */
void session_flash(struct web_req *r, const char *words);
int session_take_flash(struct web_req *r, char *out, size_t len);
/* The session's certificates (a copy; caller decrefs), and their replacement. */
json_t *session_certs(struct web_req *r);
void session_set_certs(struct web_req *r, json_t *certs);

/* ---- captcha.c --------------------------------------------------------------------- */

/* CODE drawn as a PNG (malloc'd, *len bytes) hard for a program to read. NULL on error. */
uint8_t *captcha_png(const char *code, size_t *len);
/* A fresh random code of CAPTCHA_LEN characters from an unambiguous alphabet. */
#define CAPTCHA_LEN 5
void captcha_code(char out[CAPTCHA_LEN + 1]);

/* ---- ratelimit.c ------------------------------------------------------------------- */

web_ratelimit_t *ratelimit_new(int per_minute, int burst);
void ratelimit_destroy(web_ratelimit_t **rl);
/* Take one request from SOURCE's allowance. 1 allowed, 0 over the limit. */
int ratelimit_take(web_ratelimit_t *rl, const char *source);

/* ---- backend.c --------------------------------------------------------------------- */

/*
 * Carry a subscriber's request from SOURCE (the client's address, sent as the payload's
 * "source" so the back office can slow down one source's wrong passwords): submit KIND
 * with PAYLOAD (not stolen) as the "web" producer and wait for it. Returns the job's result (caller decrefs) when it ended:
 * a done job's result with "ok" true unless it refuses ("ok" false, "code"), a failed job as
 * {"ok": false, "failed": true, "error": ...};
 * NULL when the back office cannot be reached or did not answer in web.wait_ms (logged;
 * *pending set when the job exists but is not finished).
 */
json_t *backend_run(struct web *w, const char *source, const char *kind, json_t *payload, int *pending);
/* backend_run, and the job's id into *ID (if not NULL) when it ended. */
json_t *backend_run_job(struct web *w, const char *source, const char *kind, json_t *payload, int *pending,
    int64_t *id);
/* A read-only question to ra-queue; NULL if unanswered (logged). */
json_t *backend_query(struct web *w, const char *what, json_t *args);
/* CLEAR sealed to the workers' key (base64); NULL on error. */
char *backend_seal(struct web *w, const char *clear);

/* ---- pages.c and api.c: the handlers named in the route table ---------------------- */

enum MHD_Result page_root(struct web_req *r);
enum MHD_Result page_login(struct web_req *r);
enum MHD_Result page_login_post(struct web_req *r);
enum MHD_Result page_code_png(struct web_req *r);
enum MHD_Result page_code_new(struct web_req *r);
enum MHD_Result page_lang(struct web_req *r);
enum MHD_Result page_logout(struct web_req *r);
enum MHD_Result page_certs(struct web_req *r);
enum MHD_Result page_suspend(struct web_req *r);
enum MHD_Result page_suspend_post(struct web_req *r);
enum MHD_Result page_password(struct web_req *r);
enum MHD_Result page_password_post(struct web_req *r);
enum MHD_Result page_card(struct web_req *r);
enum MHD_Result page_style(struct web_req *r);
enum MHD_Result page_card_js(struct web_req *r);
/* An error page in the session's language (403, 404, 429 ...). */
enum MHD_Result page_error(struct web_req *r, unsigned status);

/* api.c's helpers for every JSON handler: a 400 with WHY; the body as an object (NULL if
 * not one); its strings wiped and it freed; a job's RESULT (consumed) as the API's answer. */
enum MHD_Result api_bad(struct web_req *r, const char *why);
json_t *api_body(struct web_req *r);
void api_body_wipe(json_t *j);
enum MHD_Result api_answer(struct web_req *r, json_t *result, int pending);

enum MHD_Result api_cert_status(struct web_req *r);
enum MHD_Result api_login(struct web_req *r);
enum MHD_Result api_suspend(struct web_req *r);
enum MHD_Result api_password(struct web_req *r);
enum MHD_Result api_routes(struct web_req *r);
/* api_card.c: the relay of the subscriber's card agent */
enum MHD_Result api_card_job(struct web_req *r);
enum MHD_Result api_card_ca(struct web_req *r);

/* ---- text.c ------------------------------------------------------------------------ */

#define TR(r, t) ((r)->s.en ? (t).en : (t).zh)

/*
 * What the subscriber is told about a back-office answer {"ok": false, "code": ...}: an
 * unknown account and a wrong password get the same words (and the same code, "denied"),
 * so the website never says which accounts exist. Returns the code to report.
 */
const char *text_refusal(const json_t *result, int en, const char **words);
/* That one answer's words. */
const char *text_denied(int en);

#endif
