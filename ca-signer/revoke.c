/*
 * revoke.c: certificate status changes (revoke, hold, release) and status queries.
 *
 * Rules (RFC 5280 5.3.1 and the RA's operations): a revocation is final and carries one
 * of the RFC 5280 reasons other than certificateHold and removeFromCRL; a hold suspends a
 * valid, unexpired certificate (reason certificateHold); a release lifts a hold before
 * expiry (removeFromCRL: the entry leaves the next CRL); a held certificate may be revoked
 * for good, a revoked one can be neither held nor released. Each change is idempotent by
 * (request id, serial): the same request id repeated is answered with success without a
 * second change; reused for a different change it is an error. The status, the entry's DER
 * as CRLs will carry it (a removeFromCRL entry for a release, for delta CRLs) and the
 * journal row are written under one savepoint.
 */
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "serial.h"
#include "util.h"

static const char *const revoke_reason_names[] = {
	[0] = "unspecified", [1] = "keyCompromise", [2] = "cACompromise",
	[3] = "affiliationChanged", [4] = "superseded", [5] = "cessationOfOperation",
	[6] = "certificateHold", [7] = NULL, [8] = "removeFromCRL",
	[9] = "privilegeWithdrawn", [10] = "aACompromise",
};

const char *signer_reason_name(int reason)
{
	if (reason < 0 || reason >= (int)ARRAY_LEN(revoke_reason_names) ||
	    !revoke_reason_names[reason])
		return "unknown";
	return revoke_reason_names[reason];
}

int signer_reason_parse(const char *text)
{
	char *end;
	long v;

	if (!text || !*text)
		return -1;
	for (int i = 0; i < (int)ARRAY_LEN(revoke_reason_names); i++)
		if (revoke_reason_names[i] && strcmp(text, revoke_reason_names[i]) == 0)
			return i;
	v = strtol(text, &end, 10);
	if (*end || strcmp(signer_reason_name((int)v), "unknown") == 0)
		return -1;
	return (int)v;
}

const char *signer_cert_state_name(enum signer_cert_state st)
{
	switch (st) {
	case SIGNER_CERT_VALID: return "valid";
	case SIGNER_CERT_REVOKED: return "revoked";
	case SIGNER_CERT_HELD: return "held";
	default: return "unknown";
	}
}

enum revoke_action { ACT_REVOKE, ACT_HOLD, ACT_RELEASE };
static const char *const revoke_action_names[] = { "revoke", "hold", "release" };

/* Is the transition from the certificate's status allowed? 0, or -1 with err. */
static int revoke_allowed(enum revoke_action act, const struct store_cert *c, time_t now,
    char err[SIGNER_ERR_LEN])
{
	if (strcmp(c->status, "revoked") == 0) {
		snprintf(err, SIGNER_ERR_LEN, "certificate %s is already revoked (%s); revocation "
		    "is final", c->serial, signer_reason_name(c->reason));
		return -1;
	}
	switch (act) {
	case ACT_REVOKE:
		return 0;
	case ACT_HOLD:
		if (strcmp(c->status, "held") == 0) {
			snprintf(err, SIGNER_ERR_LEN, "certificate %s is already on hold", c->serial);
			return -1;
		}
		break;
	case ACT_RELEASE:
		if (strcmp(c->status, "held") != 0) {
			snprintf(err, SIGNER_ERR_LEN, "certificate %s is not on hold", c->serial);
			return -1;
		}
		break;
	}
	if (c->not_after <= now) {
		snprintf(err, SIGNER_ERR_LEN, "certificate %s has expired; it can no longer be %s",
		    c->serial, act == ACT_HOLD ? "held" : "released");
		return -1;
	}
	return 0;
}

static int revoke_change(signer_t *s, enum revoke_action act, const char *request_id,
    const char *serial_in, int reason, time_t invalidity, char err[SIGNER_ERR_LEN])
{
	char serial[SIGNER_SERIAL_LEN], prev_action[16];
	struct store_cert c;
	time_t now = ra_now();
	int prev_reason, found, rc = -1, sp = 0;
	uint8_t *entry = NULL;
	size_t entry_len = 0;
	static const char *const new_status[] = { "revoked", "held", "valid" };

	err[0] = '\0';
	if (signer_check_request_id(request_id, err) < 0 ||
	    serial_canonical(serial_in, serial, err) < 0)
		goto out;
	if (act == ACT_REVOKE && (reason == SIGNER_REASON_CERTIFICATE_HOLD ||
	    reason == SIGNER_REASON_REMOVE_FROM_CRL ||
	    strcmp(signer_reason_name(reason), "unknown") == 0)) {
		snprintf(err, SIGNER_ERR_LEN, "revocation reason %d is not allowed: use one of "
		    "RFC 5280's reasons other than certificateHold and removeFromCRL", reason);
		goto out;
	}
	if (act == ACT_REVOKE && invalidity > now) {
		snprintf(err, SIGNER_ERR_LEN, "invalidity date is in the future");
		goto out;
	}
	if (store_sp_begin(s->store) < 0)
		goto dberr;
	sp = 1;
	found = store_change_find(s->store, request_id, serial, prev_action, &prev_reason);
	if (found < 0)
		goto dberr;
	if (found) {
		if (strcmp(prev_action, revoke_action_names[act]) != 0 ||
		    (act == ACT_REVOKE && prev_reason != reason)) {
			snprintf(err, SIGNER_ERR_LEN, "request id %s was already used to %s "
			    "certificate %s", request_id, prev_action, serial);
			goto out;
		}
		log_info("request %s: %s of %s was already done", request_id,
		    revoke_action_names[act], serial);
		rc = 0;
		goto out;
	}
	found = store_cert_by_serial(s->store, serial, &c, 0);
	if (found < 0)
		goto dberr;
	if (!found) {
		snprintf(err, SIGNER_ERR_LEN, "no certificate with serial %s was issued here", serial);
		goto out;
	}
	if (revoke_allowed(act, &c, now, err) < 0)
		goto out;
	if (act == ACT_HOLD)
		reason = SIGNER_REASON_CERTIFICATE_HOLD;
	else if (act == ACT_RELEASE)
		reason = SIGNER_REASON_REMOVE_FROM_CRL;
	if (crl_entry_der(serial, reason, now, act == ACT_REVOKE ? invalidity : 0, &entry,
	    &entry_len) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot encode the CRL entry");
		goto out;
	}
	if (store_cert_set_status(s->store, serial, new_status[act], reason, now,
	    act == ACT_REVOKE ? invalidity : 0, entry, entry_len) < 0 ||
	    store_journal(s->store, now, request_id, revoke_action_names[act], serial, reason,
	    NULL) < 0)
		goto dberr;
	log_info("request %s: certificate %s %s (%s)", request_id, serial, new_status[act],
	    signer_reason_name(reason));
	rc = 0;
	goto out;
dberr:
	snprintf(err, SIGNER_ERR_LEN, "signer database error");
out:
	if (sp && store_sp_end(s->store, rc == 0) < 0 && rc == 0) {
		snprintf(err, SIGNER_ERR_LEN, "signer database error");
		rc = -1;
	}
	if (rc < 0)
		log_info("request %s: %s refused: %s", request_id ? request_id : "(none)",
		    revoke_action_names[act], err);
	free(entry);
	return rc;
}

int signer_revoke(signer_t *s, const char *request_id, const char *serial, int reason,
    time_t invalidity_date, char err[SIGNER_ERR_LEN])
{
	return revoke_change(s, ACT_REVOKE, request_id, serial, reason, invalidity_date, err);
}

int signer_hold(signer_t *s, const char *request_id, const char *serial, char err[SIGNER_ERR_LEN])
{
	return revoke_change(s, ACT_HOLD, request_id, serial, SIGNER_REASON_CERTIFICATE_HOLD, 0, err);
}

int signer_release(signer_t *s, const char *request_id, const char *serial, char err[SIGNER_ERR_LEN])
{
	return revoke_change(s, ACT_RELEASE, request_id, serial, SIGNER_REASON_REMOVE_FROM_CRL, 0, err);
}

int signer_status(signer_t *s, const char *serial_in, struct signer_cert_status *st,
    char err[SIGNER_ERR_LEN])
{
	char serial[SIGNER_SERIAL_LEN];
	struct store_cert c;
	int found;

	memset(st, 0, sizeof *st);
	st->reason = -1;
	if (serial_canonical(serial_in, serial, err) < 0)
		return -1;
	snprintf(st->serial, sizeof st->serial, "%s", serial);
	found = store_cert_by_serial(s->store, serial, &c, 0);
	if (found < 0) {
		snprintf(err, SIGNER_ERR_LEN, "signer database error");
		return -1;
	}
	if (!found)
		return 0;
	st->state = strcmp(c.status, "revoked") == 0 ? SIGNER_CERT_REVOKED :
	    strcmp(c.status, "held") == 0 ? SIGNER_CERT_HELD : SIGNER_CERT_VALID;
	st->expired = c.not_after <= ra_now();
	st->reason = st->state == SIGNER_CERT_VALID ? -1 : c.reason;
	st->revoked_at = (time_t)c.revoked_at;
	st->invalidity_date = (time_t)c.invalidity_date;
	st->not_before = (time_t)c.not_before;
	st->not_after = (time_t)c.not_after;
	snprintf(st->usage, sizeof st->usage, "%s", c.usage);
	snprintf(st->request_id, sizeof st->request_id, "%s", c.request_id);
	return 0;
}

int signer_cert_der(signer_t *s, const char *serial_in, uint8_t **der, size_t *len,
    char err[SIGNER_ERR_LEN])
{
	char serial[SIGNER_SERIAL_LEN];
	struct store_cert c;
	int found;

	*der = NULL;
	*len = 0;
	if (serial_canonical(serial_in, serial, err) < 0)
		return -1;
	found = store_cert_by_serial(s->store, serial, &c, 1);
	if (found < 0) {
		snprintf(err, SIGNER_ERR_LEN, "signer database error");
		return -1;
	}
	if (!found)
		return 1;
	*der = c.der;
	*len = c.der_len;
	return 0;
}
