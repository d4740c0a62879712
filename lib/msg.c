/*
 * msg.c: build, send, receive and check RA messages (see msg.h for the table).
 */
#include "msg.h"
#include "log.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

const struct msg_def msg_table[MSG_NCMDS] = {
	[MSG_SUBMIT] = { "SUBMIT", 3 },
	[MSG_WAIT] = { "WAIT", 2 },
	[MSG_QUERY] = { "QUERY", 2 },
	[MSG_ACK] = { "ACK", 1 },
	[MSG_STATE] = { "STATE", 3 },
	[MSG_ANSWER] = { "ANSWER", 1 },
	[MSG_READY] = { "READY", 1 },
	[MSG_HEARTBEAT] = { "HEARTBEAT", 0 },
	[MSG_JOB] = { "JOB", 5 },
	[MSG_DONE] = { "DONE", 2 },
	[MSG_FAILED] = { "FAILED", 5 },
	[MSG_DISCONNECT] = { "DISCONNECT", 0 },
	[MSG_SIGN] = { "SIGN", 4 },
	[MSG_CERT] = { "CERT", 2 },
	[MSG_STATUS] = { "STATUS", 5 },
	[MSG_CRL] = { "CRL", 0 },
	[MSG_CHECKPOINT] = { "CHECKPOINT", 2 },
	[MSG_CARD_CHALLENGE] = { "CARD_CHALLENGE", 3 },
	[MSG_CARD_PROOF] = { "CARD_PROOF", 5 },
	[MSG_ERROR] = { "ERROR", 2 },
};

msg_t *msg_new(enum msg_cmd cmd)
{
	msg_t *m = xcalloc(1, sizeof *m);
	assert(cmd < MSG_NCMDS);
	m->cmd = cmd;
	return m;
}

void msg_destroy(msg_t **pm)
{
	msg_t *m = pm ? *pm : NULL;
	if (!m)
		return;
	zframe_destroy(&m->routing);
	for (int i = 0; i < m->nframes; i++)
		zframe_destroy(&m->frames[i]);
	free(m);
	*pm = NULL;
}

void msg_add_mem(msg_t *m, const void *data, size_t len)
{
	assert(m->nframes < msg_table[m->cmd].nframes);
	m->frames[m->nframes++] = zframe_new(data, len);
}

void msg_add_str(msg_t *m, const char *s) { msg_add_mem(m, s, strlen(s)); }

void msg_add_i64(msg_t *m, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	msg_add_str(m, buf);
}

void msg_add_json(msg_t *m, const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	msg_add_str(m, s ? s : "null");
	free(s);
}

int msg_send(msg_t **pm, zsock_t *sock)
{
	msg_t *m = *pm;
	zmsg_t *z = zmsg_new();
	int rc;

	assert(m->nframes == msg_table[m->cmd].nframes);
	if (m->routing)
		zmsg_append(z, &m->routing);
	zmsg_addstr(z, MSG_PROTO);
	zmsg_addstr(z, msg_table[m->cmd].name);
	for (int i = 0; i < m->nframes; i++)
		zmsg_append(z, &m->frames[i]);
	m->nframes = 0;
	rc = zmsg_send(&z, sock);
	if (rc < 0)
		zmsg_destroy(&z);
	msg_destroy(pm);
	return rc;
}

static int frame_is(zframe_t *f, const char *s)
{
	return f && zframe_size(f) == strlen(s) && memcmp(zframe_data(f), s, zframe_size(f)) == 0;
}

msg_t *msg_recv(zsock_t *sock, int router, const char **why)
{
	zmsg_t *z = zmsg_recv(sock);
	return z ? msg_decode(&z, router, why) : NULL;
}

msg_t *msg_decode(zmsg_t **pz, int router, const char **why)
{
	zmsg_t *z = *pz;
	msg_t *m = NULL;
	zframe_t *f;
	const char *reason = NULL;
	int cmd = -1;

	*pz = NULL;
	m = xcalloc(1, sizeof *m);
	if (router)
		m->routing = zmsg_pop(z);
	f = zmsg_pop(z);
	if (f) {
		const char *user = zframe_meta(f, "User-Id");
		snprintf(m->peer, sizeof m->peer, "%s", user ? user : "");
	}
	if (!frame_is(f, MSG_PROTO)) {
		reason = "wrong protocol version";
		zframe_destroy(&f);
		goto bad;
	}
	zframe_destroy(&f);
	f = zmsg_pop(z);
	for (int i = 0; f && i < MSG_NCMDS; i++)
		if (frame_is(f, msg_table[i].name))
			cmd = i;
	zframe_destroy(&f);
	if (cmd < 0) {
		reason = "unknown command";
		goto bad;
	}
	m->cmd = (enum msg_cmd)cmd;
	if ((int)zmsg_size(z) != msg_table[cmd].nframes) {
		reason = (int)zmsg_size(z) < msg_table[cmd].nframes ? "missing frames" : "extra frames";
		goto bad;
	}
	while ((f = zmsg_pop(z)) != NULL)
		m->frames[m->nframes++] = f;
	zmsg_destroy(&z);
	return m;
bad:
	log_debug("dropped a malformed message: %s", reason);
	if (why)
		*why = reason;
	zmsg_destroy(&z);
	/* keep the routing frame so the caller can answer ERROR to a ROUTER peer */
	if (why && m->routing) {
		m->cmd = MSG_NCMDS;
		m->nframes = 0;
		return m;
	}
	msg_destroy(&m);
	return NULL;
}

size_t msg_len(const msg_t *m, int i) { return zframe_size(m->frames[i]); }
const uint8_t *msg_data(const msg_t *m, int i) { return zframe_data(m->frames[i]); }

char *msg_str(const msg_t *m, int i)
{
	size_t n = msg_len(m, i);
	char *s;
	if (memchr(msg_data(m, i), '\0', n))
		return NULL;
	s = xmalloc(n + 1);
	memcpy(s, msg_data(m, i), n);
	s[n] = '\0';
	return s;
}

int64_t msg_i64(const msg_t *m, int i, int *ok)
{
	size_t n = msg_len(m, i);
	const uint8_t *d = msg_data(m, i);
	int64_t v = 0;
	int neg = 0;
	size_t k = 0;

	*ok = 0;
	if (n > 0 && d[0] == '-') {
		neg = 1;
		k = 1;
	}
	if (n == k || n - k > 18)
		return -1;
	for (; k < n; k++) {
		if (d[k] < '0' || d[k] > '9')
			return -1;
		v = v * 10 + (d[k] - '0');
	}
	*ok = 1;
	return neg ? -v : v;
}

json_t *msg_json(const msg_t *m, int i)
{
	json_error_t e;
	json_t *j = json_loadb((const char *)msg_data(m, i), msg_len(m, i), JSON_REJECT_DUPLICATES, &e);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int msg_send_error(zsock_t *sock, const msg_t *req, enum msg_err code, const char *text)
{
	msg_t *r = msg_new(MSG_ERROR);
	if (req->routing)
		r->routing = zframe_dup(req->routing);
	msg_add_i64(r, code);
	msg_add_str(r, text);
	return msg_send(&r, sock);
}
