/*
 * job_officer.c: the officer registry's changes, each a job signed by an administrator
 * (officer_check() has verified that before these run): officer_add records a new officer
 * with the certificate `ra-ctl officer add` issued from the officer CA; officer_disable
 * stops an officer's signatures from being accepted from then on. Both are audited with
 * the administrator as actor.
 */
#include "db.h"
#include "officer.h"
#include "officer_registry.h"
#include "pem.h"
#include "util.h"
#include "worker.h"

#include <string.h>

int job_officer_add_apply(struct job_ctx *ctx, json_t **result)
{
	const char *id = job_str(ctx, ctx->payload, "id");
	const char *role = job_str(ctx, ctx->payload, "role");
	const char *pem = job_str(ctx, ctx->payload, "cert");
	const char *name = json_string_value(json_object_get(ctx->payload, "name"));
	X509 *cert = NULL;
	char *cn = NULL, serial[41];
	int rc = -1;

	if (!id || !role || !pem)
		return -1;
	if (!officer_id_valid(id))
		return job_refuse(ctx, JT_OFFICER_BAD_ID, id);
	if (!officer_role_parse(role))
		return job_refuse(ctx, JT_OFFICER_BAD_ROLE, role);
	if (db_int(ctx->db, "SELECT 1 FROM officers WHERE id = ?", "s", id) == 1)
		return job_refuse(ctx, JT_OFFICER_EXISTS, id);
	if (!(cert = pem_cert(pem))) {
		job_refuse(ctx, JT_OFFICER_CERT_UNREADABLE);
		goto out;
	}
	if (!(cn = officer_cert_cn(cert)) || strcmp(cn, id) != 0) {
		job_refuse(ctx, JT_OFFICER_CERT_NAME, cn ? cn : "nobody", id);
		goto out;
	}
	if (officer_registry_add(ctx->db, ctx->actor, id, name && *name ? name : id, role, cert) < 0) {
		job_refuse(ctx, JT_OFFICER_NOT_RECORDED, id);
		goto out;
	}
	officer_cert_serial(cert, serial);
	*result = json_pack("{s:s,s:s,s:s}", "officer", id, "role", role, "cert_serial", serial);
	rc = 0;
out:
	free(cn);
	X509_free(cert);
	return rc;
}

int job_officer_disable_apply(struct job_ctx *ctx, json_t **result)
{
	const char *id = job_str(ctx, ctx->payload, "id");
	int rc;

	if (!id)
		return -1;
	if (strcmp(id, ctx->officer) == 0)
		return job_refuse(ctx, JT_OFFICER_SELF_DISABLE);
	if ((rc = officer_registry_disable(ctx->db, ctx->actor, id)) < 0)
		return job_fail(ctx, 1, "officer_disable: cannot update the registry");
	if (rc == 0)
		return job_refuse(ctx, JT_OFFICER_NOT_ENABLED, id);
	*result = json_pack("{s:s,s:b}", "officer", id, "enabled", 0);
	return 0;
}
