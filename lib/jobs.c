/*
 * jobs.c: the job kinds and producers tables (made from the lists in jobs.h) and the ledger
 * operations shared by ra-queue and ra-worker.
 *
 * Idempotency keys are stored as "SUBMITTER/KIND/KEY" (names and kinds hold no '/'), so a
 * key chosen by one producer, or for one kind, can never return another's job.
 */
#include "jobs.h"
#include "audit.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

const char *const job_producer_names[PRODUCER_COUNT] = {
#define X(name) #name,
	JOB_PRODUCERS(X)
#undef X
};

unsigned job_producer_bit(const char *name)
{
	size_t len = name ? strcspn(name, ".") : 0;

	if (name && name[len] && !job_instance_valid(name + len + 1))
		return 0;
	for (int i = 0; len && i < PRODUCER_COUNT; i++)
		if (strlen(job_producer_names[i]) == len && strncmp(job_producer_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

int job_instance_valid(const char *instance)
{
	size_t n = instance ? strlen(instance) : 0;

	if (n < 1 || n > JOB_INSTANCE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((instance[i] >= 'a' && instance[i] <= 'z') || (instance[i] >= '0' && instance[i] <= '9') ||
		    (instance[i] == '-' && i > 0)))
			return 0;
	return 1;
}

const char *job_producer_instance(const char *client)
{
	const char *dot = client ? strchr(client, '.') : NULL;
	return dot && job_producer_bit(client) ? dot + 1 : NULL;
}

char *job_producer_list(unsigned set, char *buf, size_t size)
{
	size_t n = 0;

	assert(size > 0);
	buf[0] = '\0';
	for (int i = 0; i < PRODUCER_COUNT; i++)
		if (set & (1u << i) && n < size)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "", job_producer_names[i]);
	return buf;
}

/* Every kind's roles are officer roles (or none): a stray bit does not compile. */
#define X(name, producers, roles, help) \
	_Static_assert(((roles) & ~ROLE_ALL) == 0, "job kind " #name ": roles must be ROLE_* bits");
JOB_KINDS(X)
#undef X

const struct job_kind job_kinds[JOB_KIND_COUNT] = {
#define X(name, producers, roles, help) [JOB_KIND_##name] = { JOB_KIND_##name, #name, producers, roles, help },
	JOB_KINDS(X)
#undef X
};
const int job_nkinds = JOB_KIND_COUNT;

int job_kind_allows(const struct job_kind *k, const char *client)
{
	return (k->producers & job_producer_bit(client)) != 0;
}

const struct job_kind *job_kind_find(const char *name)
{
	for (int i = 0; name && i < JOB_KIND_COUNT; i++)
		if (strcmp(job_kinds[i].name, name) == 0)
			return &job_kinds[i];
	return NULL;
}

job_kind_set job_kind_set_parse(const char *list)
{
	job_kind_set set = 0;
	char *copy, *tok, *save = NULL;

	if (!list || strcmp(list, "all") == 0)
		return JOB_KIND_COUNT == 64 ? ~(job_kind_set)0 : ((job_kind_set)1 << JOB_KIND_COUNT) - 1;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct job_kind *k = job_kind_find(tok);
		if (k)
			set |= (job_kind_set)1 << k->id;
		else
			log_warn("'%s' is not a job kind; left out", tok);
	}
	free(copy);
	return set;
}

int job_kind_set_has(job_kind_set set, const char *kind)
{
	const struct job_kind *k = job_kind_find(kind);
	return k && (set & ((job_kind_set)1 << k->id));
}

const char *job_idem_sent(const char *stored)
{
	const char *p = stored ? strchr(stored, '/') : NULL;

	p = p ? strchr(p + 1, '/') : NULL;
	return p ? p + 1 : stored;
}

int64_t job_insert(sqlite3 *db, const char *kind, const char *idem, const char *payload,
    const char *submitted_by, int64_t parent, int *existed)
{
	sqlite3_stmt *st;
	int64_t id;
	char obj[32], *scoped = NULL;

	assert(kind && submitted_by);
	*existed = 0;
	if (idem && *idem) {
		/* Scoped by submitter and kind: one producer's key never finds another's job. */
		scoped = xasprintf("%s/%s/%s", submitted_by, kind, idem);
		id = db_int(db, "SELECT id FROM jobs WHERE idem_key = ?", "s", scoped);
		if (id > 0) {
			*existed = 1;
			free(scoped);
			return id;
		}
	}
	st = db_prepare(db, "INSERT INTO jobs (kind, idem_key, payload, submitted_by, parent,"
	    " created_at, updated_at, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (scoped)
		sqlite3_bind_text(st, 2, scoped, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, payload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, submitted_by, -1, SQLITE_STATIC);
	if (parent > 0)
		sqlite3_bind_int64(st, 5, parent);
	sqlite3_bind_int64(st, 6, ra_now());
	sqlite3_bind_int64(st, 7, ra_now());
	sqlite3_bind_int64(st, 8, clock_wall_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("cannot store a %s job: %s", kind, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		free(scoped);
		return -1;
	}
	sqlite3_finalize(st);
	free(scoped);
	id = sqlite3_last_insert_rowid(db);
	snprintf(obj, sizeof obj, "job:%lld", (long long)id);
	if (audit_append(db, submitted_by, "job.submit", obj, NULL, kind) < 0)
		return -1;
	return id;
}

int job_redact(sqlite3 *db, int64_t id, const char *member)
{
	sqlite3_stmt *st;
	char *path;
	int rc;

	assert(member && *member);
	/* The member name goes into a JSON path: quote it so no name can reach elsewhere. */
	path = xasprintf("$.\"%s\"", member);
	st = db_prepare(db, "UPDATE jobs SET payload = json_set(payload, ?, '(redacted)')"
	    " WHERE id = ? AND json_type(payload, ?) IS NOT NULL");
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc < 0)
		log_err("cannot redact job %lld: %s", (long long)id, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	free(path);
	return rc;
}

/* Payload members that may hold a sealed secret (passwords, PINs). */
static const char *const job_secret_members[] = { "password", "new_password", "sealed_password", "sealed_pin" };

int job_redact_secrets(sqlite3 *db, int64_t id)
{
	for (size_t i = 0; i < sizeof job_secret_members / sizeof job_secret_members[0]; i++)
		if (job_redact(db, id, job_secret_members[i]) < 0)
			return -1;
	return 0;
}

int job_complete(sqlite3 *db, int64_t id, int64_t token, json_t *result)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE jobs SET state = 'done', result = ?, error = NULL,"
	    " lease_until_ms = NULL, updated_at = ?, finished_ms = ? WHERE id = ? AND lease_token = ?"
	    " AND state = 'leased'");
	char *text = json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS);
	char obj[32];
	int rc, changed;

	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, ra_now());
	sqlite3_bind_int64(st, 3, clock_wall_ms());
	sqlite3_bind_int64(st, 4, id);
	sqlite3_bind_int64(st, 5, token);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(text);
	if (rc != SQLITE_DONE)
		return -1;
	changed = sqlite3_changes(db);
	if (changed != 1)
		return 0;
	if (job_redact_secrets(db, id) < 0)
		return -1;
	snprintf(obj, sizeof obj, "job:%lld", (long long)id);
	return audit_append(db, "ra-worker", "job.done", obj, "leased", "done") < 0 ? -1 : 1;
}
