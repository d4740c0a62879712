/*
 * officer_local.c: an officer action done on the RA host itself rather than through a
 * job (the notifier's reprint of a PIN sheet, its confirmation that a batch was printed).
 *
 * A typed officer id names nobody: the officer opens their own credential (file and
 * passphrase, or card and PIN), it signs a statement of exactly this action on this
 * object, and the signature is checked here as the workers check a job's
 * (workers/officer_check.c): the certificate chains to the officer CA and is valid now,
 * the registry in ra.db knows that very certificate, the officer is enabled and has one of
 * the roles the action allows. The audit chain then records "ID (cert SERIAL)", the same
 * actor a job would have, never the typed name.
 */
#include "officer_local.h"

#include "log.h"
#include "officer.h"
#include "officer_registry.h"
#include "util.h"

#include <string.h>

int officer_local_prove(const config_t *cfg, sqlite3 *db, const struct officer_local_ask *ask,
    char *actor, size_t actorlen)
{
	officer_cred_t *cred = NULL;
	X509_STORE *store = NULL;
	X509 *cert = NULL;
	json_t *payload = NULL;
	char *idem = NULL, *cas = NULL, why[256];
	struct officer_entry e;
	int found, rc = -1;

	if (!ask->id || !*ask->id) {
		log_err("%s needs --officer ID", ask->action);
		return -1;
	}
	if (!(cred = officer_cred_open(cfg, ask->id, ask->credential, ask->passphrase_file))) {
		log_err("%s: officer %s could not open their credential: nothing done", ask->action, ask->id);
		goto out;
	}
	payload = json_pack("{s:s,s:s}", "action", ask->action, "object", ask->object);
	idem = officer_idem_new("local");
	cas = config_path(cfg, "officers.ca_cert");
	if (!payload || officer_sign(cred, ask->action, idem, payload) < 0 || !(store = officer_ca_store(cas))) {
		log_err("%s: cannot sign or check officer %s's statement: nothing done", ask->action, ask->id);
		goto out;
	}
	if (!(cert = officer_sig_verify(store, ask->action, idem, payload, why, sizeof why))) {
		log_err("%s: officer %s's credential is refused: %s", ask->action, ask->id, why);
		goto out;
	}
	if ((found = officer_registry_find(db, cert, &e)) <= 0) {
		log_err("%s: officer %s's certificate is not in the officer registry%s", ask->action, ask->id,
		    found < 0 ? " (the registry could not be read)" : "");
		goto out;
	}
	if (!e.enabled) {
		log_err("%s: officer %s is disabled", ask->action, e.id);
		goto out;
	}
	if (!(officer_role_parse(e.role) & ask->roles)) {
		log_err("%s: officer %s is a %s; this needs a %s", ask->action, e.id, e.role,
		    officer_roles_text(ask->roles));
		goto out;
	}
	snprintf(actor, actorlen, "%s (cert %s)", e.id, e.serial);
	rc = 0;
out:
	json_decref(payload);
	X509_free(cert);
	X509_STORE_free(store);
	officer_cred_destroy(&cred);
	free(idem);
	free(cas);
	return rc;
}
