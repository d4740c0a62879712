/*
 * relay.c: the steps of a card operation carried to the RA website (agent.ra_web) over
 * HTTPS with libcurl: POST /api/v1/card/<step> with the job's payload, and the CA
 * certificate for an export (GET /api/v1/card-ca). The agent has no key of the RA; the
 * website submits each step to the back office as its producer (web/api_card.c).
 *
 * Rules: only https:// (plain http only to a loopback address, for a test site), the
 * server's certificate always verified (agent.ra_web_ca, else the system's CAs), no
 * redirects followed, answers bounded; the request body, which carries the website
 * password for a challenge, is wiped after the call.
 */
#include "agent.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define RELAY_MAX_ANSWER (256 * 1024)

struct relay_buf {
	char *data;
	size_t len;
	int too_big;
};

static size_t relay_write(char *ptr, size_t size, size_t n, void *ctx)
{
	struct relay_buf *b = ctx;
	size_t add = size * n;

	if (b->len + add > RELAY_MAX_ANSWER) {
		b->too_big = 1;
		return 0;
	}
	b->data = realloc(b->data, b->len + add + 1);
	if (!b->data)
		fatal("out of memory");
	memcpy(b->data + b->len, ptr, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* GET (BODY NULL) or POST BODY (JSON) to PATH of the RA website. The answer's body
 * (malloc'd) and HTTP status; NULL when the website cannot be reached (*why set). */
static char *relay_http(struct agent *a, const char *path, const char *body, long *status, char **why)
{
	const char *base = config_str(a->cfg, "agent.ra_web");
	char *url = xasprintf("%s%s", base, path), *ca = NULL;
	struct relay_buf b = { 0 };
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	CURLcode rc = CURLE_FAILED_INIT;

	*status = 0;
	if (!c)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, strncmp(base, "http://127.0.0.1", 16) == 0 ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)config_int(a->cfg, "agent.wait_ms"));
	if (config_str(a->cfg, "agent.ra_web_ca")[0]) {
		ca = config_path(a->cfg, "agent.ra_web_ca");
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, relay_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
out:
	if (rc != CURLE_OK || b.too_big) {
		*why = xasprintf("the RA website %s cannot be reached: %s", base,
		    b.too_big ? "answer too long" : curl_easy_strerror(rc));
		free(b.data);
		b.data = NULL;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	free(ca);
	return b.data;
}

int relay_submit(struct agent *a, const char *kind, json_t *payload, json_t **result, int64_t *job, char **why)
{
	char *body = json_dumps(payload, JSON_COMPACT), *path, *answer;
	json_t *j = NULL;
	long status = 0;

	if (strncmp(kind, "card_", 5) != 0 || !body) {
		free(body);
		*why = xasprintf("%s: not a card step", kind);
		return -1;
	}
	path = xasprintf("/api/v1/card/%s", kind + 5);
	answer = relay_http(a, path, body, &status, why);
	OPENSSL_cleanse(body, strlen(body));
	free(body);
	free(path);
	if (!answer)
		return -1;
	j = json_loads(answer, 0, NULL);
	free(answer);
	if (!json_is_object(j)) {
		json_decref(j);
		*why = xasprintf("the RA website answered %ld without a JSON object", status);
		return -1;
	}
	if (status == 202 || status == 503) {
		*why = xstrdup(json_string_value(json_object_get(j, "error")) ?: "the back office did not answer");
		json_decref(j);
		return -1;
	}
	/* A refusal ({ok: false, error, error_zh}) is a done job's answer: sub_submit says it. */
	*job = json_integer_value(json_object_get(j, "job"));
	*result = j;
	return 0;
}

int relay_password(void *ctx, json_t *payload, const char *password)
{
	(void)ctx;
	/* Over HTTPS to the website, which seals it to the workers' key at once. */
	json_object_set_new(payload, "password", json_string(password));
	return 0;
}

char *relay_ca(struct agent *a)
{
	char *why = NULL, *pem;
	long status = 0;

	pem = relay_http(a, "/api/v1/card-ca", NULL, &status, &why);
	if (pem && status != 200) {
		free(pem);
		pem = NULL;
		why = xasprintf("the RA website answered %ld for the CA certificate", status);
	}
	if (!pem)
		log_err("%s", why ? why : "?");
	free(why);
	return pem;
}
