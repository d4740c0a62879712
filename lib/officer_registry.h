/*
 * officer_registry.h: the officer registry in ra.db (table officers): who may sign officer
 * actions, with which role, with which certificate, and whether they are still enabled.
 *
 * Changed only by audited jobs (officer_add, officer_disable, signed by an administrator)
 * and once by `ra-ctl init`, which records the first administrator. Every function runs in
 * the caller's transaction.
 */
#ifndef RA_OFFICER_REGISTRY_H
#define RA_OFFICER_REGISTRY_H

#include <openssl/x509.h>
#include <sqlite3.h>

struct officer_entry {
	char id[33];
	char role[16];
	char serial[41];
	int enabled;
};

/* Record officer ID (NAME, ROLE) with certificate CERT, audited as ACTOR. 0/-1 (logged). */
int officer_registry_add(sqlite3 *db, const char *actor, const char *id, const char *name,
    const char *role, X509 *cert);
/* Disable officer ID, audited as ACTOR. 1 disabled, 0 no such enabled officer, -1 error. */
int officer_registry_disable(sqlite3 *db, const char *actor, const char *id);
/* The entry whose certificate is CERT (same serial and same certificate). 1 found, 0 none, -1 error. */
int officer_registry_find(sqlite3 *db, X509 *cert, struct officer_entry *e);

#endif
