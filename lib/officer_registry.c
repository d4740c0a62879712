/*
 * officer_registry.c: the officers table (see officer_registry.h). A certificate is known
 * by its serial and compared whole, so a certificate that merely shares a serial with a
 * registered one names nobody.
 */
#include "officer_registry.h"
#include "audit.h"
#include "db.h"
#include "log.h"
#include "officer.h"
#include "pem.h"
#include "util.h"

#include <string.h>

int officer_registry_add(sqlite3 *db, const char *actor, const char *id, const char *name,
    const char *role, X509 *cert)
{
	char serial[41], object[48], *pem = pem_cert_text(cert);
	sqlite3_stmt *st;
	int rc = -1;

	if (!pem)
		goto out;
	officer_cert_serial(cert, serial);
	st = db_prepare(db, "INSERT INTO officers (id, name, role, cert_serial, cert_pem, enabled, created_at,"
	    " updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, pem, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ra_now());
	sqlite3_bind_int64(st, 7, ra_now());
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
	else
		log_err("cannot record officer %s: %s", id, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	snprintf(object, sizeof object, "officer:%s", id);
	if (rc == 0) {
		char *after = xasprintf("{\"role\":\"%s\",\"cert_serial\":\"%s\"}", role, serial);
		rc = audit_append(db, actor, "officer.added", object, NULL, after);
		free(after);
	}
out:
	free(pem);
	return rc;
}

int officer_registry_disable(sqlite3 *db, const char *actor, const char *id)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE officers SET enabled = 0, updated_at = ? WHERE id = ? AND enabled = 1");
	char object[48];
	int rc;

	sqlite3_bind_int64(st, 1, ra_now());
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db) : -1;
	sqlite3_finalize(st);
	if (rc <= 0)
		return rc;
	snprintf(object, sizeof object, "officer:%s", id);
	return audit_append(db, actor, "officer.disabled", object, "enabled", "disabled") < 0 ? -1 : 1;
}

int officer_registry_find(sqlite3 *db, X509 *cert, struct officer_entry *e)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT id, role, enabled, cert_pem FROM officers WHERE cert_serial = ?");
	char serial[41];
	int rc = 0;

	officer_cert_serial(cert, serial);
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		X509 *known = pem_cert((const char *)sqlite3_column_text(st, 3));
		if (known && X509_cmp(known, cert) == 0) {
			snprintf(e->id, sizeof e->id, "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(e->role, sizeof e->role, "%s", (const char *)sqlite3_column_text(st, 1));
			snprintf(e->serial, sizeof e->serial, "%s", serial);
			e->enabled = sqlite3_column_int(st, 2);
			rc = 1;
		}
		X509_free(known);
	}
	sqlite3_finalize(st);
	return rc;
}
