/*
 * officer_local.h: proof of which officer asks for an action done on the RA host itself,
 * not through a job (officer_local.c says how it is checked).
 */
#ifndef RA_OFFICER_LOCAL_H
#define RA_OFFICER_LOCAL_H

#include <sqlite3.h>
#include <stddef.h>

#include "config.h"

struct officer_local_ask {
	const char *action;		/* what is done, e.g. "sheet.reprint" (signed) */
	const char *object;		/* on what, e.g. "sheet:PIN-0003" (signed) */
	int roles;			/* the roles (lib/officer.h bits) allowed to do it */
	const char *id;			/* --officer ID */
	const char *credential;		/* --credential FILE or card:READER; NULL: the default */
	const char *passphrase_file;	/* --passphrase-file F; NULL: asked on the terminal */
};

/*
 * Have officer ASK->id sign ASK's statement with their credential and check it against
 * officers.ca_cert of CFG and the registry in DB: on success 0 and ACTOR (ACTORLEN) set to
 * "ID (cert SERIAL)" for the audit chain; -1 with the reason logged.
 */
int officer_local_prove(const config_t *cfg, sqlite3 *db, const struct officer_local_ask *ask,
    char *actor, size_t actorlen);

#endif
