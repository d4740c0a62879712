/*
 * audit.h: the append-only audit chain in ra.db, and its signed checkpoints.
 *
 * Every state change of a form, job, account, order and certificate appends a row:
 * time, actor (officer or component), action, object, before/after (JSON or NULL), and a
 * SHA-256 over the previous row's hash and these fields. Rows are appended inside the
 * transaction that makes the change, so the chain and the state never disagree. Triggers
 * forbid UPDATE and DELETE.
 *
 * Each row carries the version of its hash encoding (column v): 1, the first encoding
 * (fields separated by 0x1f, which a field may contain), kept so old rows still verify;
 * 2, every field length-prefixed, which no field can imitate. Versions never go down
 * along the chain, so a rewritten row cannot fall back to the ambiguous encoding.
 *
 * The chain alone is an unkeyed hash: whoever can write ra.db could recompute it or cut
 * its tail. So its head is signed at intervals by ca-signer (audit_checkpoints: row
 * count, head hash, the signer's time, signature by the CA key; lib/checkpoint.h), and
 * audit_verify() checks every checkpoint against the recomputed chain.
 */
#ifndef RA_AUDIT_H
#define RA_AUDIT_H

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdint.h>

#define AUDIT_VERSION 2		/* the encoding of new rows */

/* Append one row (call inside a transaction). 0/-1. */
int audit_append(sqlite3 *db, const char *actor, const char *action, const char *object,
    const char *before, const char *after);

/* The chain's head: its row count and last hash (64 zeros for an empty chain). 0/-1. */
int audit_head(sqlite3 *db, int64_t *rows, char head[65]);

struct audit_report {
	int64_t rows;		/* rows that verified, in order */
	int64_t bad_row;	/* the first row that does not match its chain (0: none) */
	int64_t checkpoints;	/* checkpoints that verified */
	int64_t bad_checkpoint;	/* the first checkpoint that does not hold (0: none) */
	int64_t covered;	/* rows covered by the last good checkpoint */
	char why[160];		/* what is wrong, when audit_verify returns -1 */
};
/*
 * Recompute the chain and check every checkpoint with CA (the CA certificate's public
 * key; NULL: checkpoints are not checked). 0 if everything holds; -1 with R saying what
 * is wrong: a row that does not match (changed, or recomputed without its checkpoint),
 * a checkpoint whose signature fails or that names more rows than the chain has (a cut
 * tail) or another head (a rewritten chain).
 */
int audit_verify(sqlite3 *db, EVP_PKEY *ca, struct audit_report *r);

#endif
