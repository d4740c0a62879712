/*
 * ctl_officer.c: officers' credentials and the officer registry from the operator's side:
 * the officer CA and the first administrator at `ra-ctl init`, and `ra-ctl officer
 * add | list | disable`.
 *
 * The officer CA is separate from the subscribers' CA: it only certifies officers, and
 * its key is sealed under the first administrator's passphrase (never beside it in
 * clear), so issuing an officer credential takes an administrator who knows it. A new
 * officer's key pair is made here (ECDSA P-256), its certificate issued at once, and the
 * credential written as one PEM file (certificate, then the key as encrypted PKCS#8 under
 * the new officer's passphrase); or, with --card, the key is made on the officer's blank
 * PIV card and the certificate written beside it (card-station/officer_card.c), the
 * preferred credential. The registry entry is not written here: it is an
 * officer_add job signed by the administrator, so it is checked and audited like every
 * officer action. A credential whose job was refused is deleted.
 */
#include "client.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "officer.h"
#include "../card-station/officer_card.h"
#include "officer_registry.h"
#include "pem.h"
#include "util.h"

#include <openssl/pem.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OFFICER_CERT_YEARS 2

char *ctl_new_passphrase(const char *passfile, const char *who)
{
	char *prompt = xasprintf("new passphrase for %s: ", who), *again = NULL, *p;

	p = officer_passphrase(passfile, prompt);
	if (p && !passfile) {
		free(prompt);
		prompt = xasprintf("the same passphrase again: ");
		again = officer_passphrase(NULL, prompt);
		if (!again || strcmp(p, again) != 0) {
			fprintf(stderr, "ra-ctl: the two passphrases differ\n");
			officer_secret_free(p);
			p = NULL;
		}
	}
	if (p && strlen(p) < 8) {
		fprintf(stderr, "ra-ctl: a credential passphrase has at least 8 characters\n");
		officer_secret_free(p);
		p = NULL;
	}
	officer_secret_free(again);
	free(prompt);
	return p;
}

/* Officer ID's certificate for public key PUB from the officer CA; NULL on failure. */
static X509 *officer_cert_for(X509 *ca, EVP_PKEY *cakey, const char *id, EVP_PKEY *pub)
{
	static const struct ctl_ext exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" }, { NID_key_usage, "critical,digitalSignature" },
		{ NID_subject_key_identifier, "hash" }, { NID_authority_key_identifier, "keyid:always" },
	};
	return ctl_dev_cert(pub, "RA Officers", id, ca, cakey, OFFICER_CERT_YEARS, exts, ARRAY_LEN(exts));
}

/* A new software key pair for officer ID and its certificate; NULL on failure. */
static X509 *officer_issue(X509 *ca, EVP_PKEY *cakey, const char *id, EVP_PKEY **key)
{
	X509 *cert;

	if (!(*key = EVP_EC_gen("P-256")))
		return NULL;
	if (!(cert = officer_cert_for(ca, cakey, id, *key))) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return cert;
}

/* The officer's card PIN: PINFILE's first line, or asked twice on the terminal. */
static char *new_pin(const char *pinfile, const char *id)
{
	char *prompt = xasprintf("new PIN for officer %s's card (6 to 8 digits): ", id), *again = NULL, *p;

	p = officer_passphrase(pinfile, prompt);
	if (p && !pinfile && (!(again = officer_passphrase(NULL, "the same PIN again: ")) || strcmp(p, again) != 0)) {
		fprintf(stderr, "ra-ctl: the two PINs differ\n");
		officer_secret_free(p);
		p = NULL;
	}
	officer_secret_free(again);
	free(prompt);
	return p;
}

int ctl_officer_bootstrap(const char *dir, sqlite3 *db, const char *admin, const char *pass)
{
	static const struct ctl_ext ca_exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" }, { NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" }, { NID_authority_key_identifier, "keyid:always" },
	};
	char *keyp = xasprintf("%s/officers/ca.key", dir), *certp = xasprintf("%s/officers/ca.pem", dir);
	char *credp = xasprintf("%s/officers/%s.pem", dir, admin);
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *key = NULL;
	X509 *ca = NULL, *cert = NULL;
	FILE *f = NULL;
	int rc = -1;

	if (!cakey || !(ca = ctl_dev_cert(cakey, "RA Officers", "RA Officer CA", NULL, cakey, 10, ca_exts,
	    ARRAY_LEN(ca_exts))))
		goto out;
	if (!(f = fopen(keyp, "w")) || fchmod(fileno(f), 0600) < 0 ||
	    !PEM_write_PKCS8PrivateKey(f, cakey, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)pass) || fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	if (!(f = fopen(certp, "w")) || !PEM_write_X509(f, ca) || fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (!(cert = officer_issue(ca, cakey, admin, &key)) || officer_cred_write(credp, cert, key, pass) < 0)
		goto out;
	if (db_begin(db) < 0)
		goto out;
	if (officer_registry_add(db, "ra-ctl init", admin, admin, "admin", cert) < 0 || db_commit(db) < 0) {
		db_rollback(db);
		goto out;
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	free(keyp); free(certp); free(credp);
	return rc;
}

officer_cred_t *ctl_as_open(const config_t *cfg, const struct ctl_as *as, const char *what)
{
	officer_cred_t *c;

	if (!as->officer)
		fatal("%s needs --officer ID: the officer who signs it", what);
	if (!(c = officer_cred_open(cfg, as->officer, as->credential, as->passfile)))
		exit(1);
	return c;
}

/* Sign PAYLOAD as C, submit it as KIND and wait. The result, or NULL with the reason said. */
static json_t *signed_job(const config_t *cfg, const officer_cred_t *c, const char *kind, json_t *payload)
{
	char *idem = officer_idem_new(kind);
	struct ra_job job = { 0 };
	ra_client_t *q = NULL;
	json_t *result = NULL;

	if (officer_sign(c, kind, idem, payload) < 0)
		goto out;
	if (!(q = ra_client_new(cfg, "ctl"))) {
		fprintf(stderr, "ra-ctl: %s not accepted: queue unreachable\n", kind);
		goto out;
	}
	if (ra_client_run(q, kind, idem, payload, 60000, &job) == JOB_DONE)
		result = json_incref(job.result);
	else if (job.id < 0)
		fprintf(stderr, "ra-ctl: %s not accepted: %s\n", kind, job.error);
	else {
		fprintf(stderr, "ra-ctl: %s: job %lld %s: %s\n", kind, (long long)job.id,
		    job.state < 0 ? "unknown" : job_state_name((enum job_state)job.state), job.error);
		ctl_say_zh(cfg, kind, job.result);
	}
out:
	ra_job_clear(&job);
	ra_client_destroy(&q);
	free(idem);
	return result;
}

static int officer_add(const config_t *cfg, const char *id, const struct ctl_as *as,
    const struct ctl_officer_add *add)
{
	const char *role = add->role, *name = add->name, *newpass = add->newpass, *card = add->card;
	officer_card_t *oc = NULL;
	char *capass = NULL, *pass = NULL, *npass = NULL, *prompt = NULL, *credp = NULL, *path = NULL, *who = NULL;
	officer_cred_t *admin = NULL;
	EVP_PKEY *cakey = NULL, *key = NULL;
	X509 *ca = NULL, *cert = NULL;
	json_t *payload = NULL, *res = NULL;
	char *pem = NULL, serial[41];
	FILE *f;
	int rc = 1;

	if (!officer_id_valid(id))
		fatal("'%s' is not an officer id (1 to 32 of a-z 0-9 . _ -)", id);
	if (!officer_role_parse(role))
		fatal("officer add needs --role clerk|supervisor|operator|admin");
	if (!as->officer)
		fatal("officer add needs --officer ADMIN: the administrator who signs it");
	credp = card ? xasprintf("card:%s", card) : officer_cred_path(cfg, id, add->out);
	if (!card && access(credp, F_OK) == 0)
		fatal("%s exists already: a credential is never overwritten", credp);
	prompt = xasprintf("passphrase of officer %s: ", as->officer);
	if (!(pass = officer_passphrase(as->passfile, prompt)))
		goto out;
	path = officer_cred_path(cfg, as->officer, as->credential);
	if (!(admin = officer_cred_load(path, pass)) || strcmp(officer_cred_id(admin), as->officer) != 0) {
		fprintf(stderr, "ra-ctl: cannot open administrator %s's credential %s\n", as->officer, path);
		goto out;
	}
	free(path);
	path = config_path(cfg, "officers.ca_key");
	if (add->capass && !(capass = officer_passphrase(add->capass, NULL)))
		goto out;
	if (!(f = fopen(path, "r")) || !(cakey = PEM_read_PrivateKey(f, NULL, NULL, capass ? capass : pass))) {
		if (f)
			fclose(f);
		fprintf(stderr, "ra-ctl: cannot open the officer CA key %s with %s\n", path,
		    capass ? "the passphrase of --ca-passphrase-file" : "the administrator's passphrase (--ca-passphrase-file?)");
		goto out;
	}
	fclose(f);
	free(path);
	path = config_path(cfg, "officers.ca_cert");
	if (!(f = fopen(path, "r")) || !(ca = PEM_read_X509(f, NULL, NULL, NULL))) {
		if (f)
			fclose(f);
		fprintf(stderr, "ra-ctl: cannot read the officer CA certificate %s\n", path);
		goto out;
	}
	fclose(f);
	who = xasprintf("officer %s", id);
	if (card) {
		/* The key is made on the card; the card is finished before the registry knows it. */
		if (!(npass = new_pin(newpass, id)) || !(oc = officer_card_enrol(card, &key)) ||
		    !(cert = officer_cert_for(ca, cakey, id, key)) || officer_card_enrol_finish(oc, cert, npass) < 0)
			goto out;
		officer_card_close(&oc);
	} else if (!(npass = ctl_new_passphrase(newpass, who)) || !(cert = officer_issue(ca, cakey, id, &key)) ||
	    officer_cred_write(credp, cert, key, npass) < 0) {
		goto out;
	}
	if (!(pem = pem_cert_text(cert)))
		goto out;
	payload = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "role", role, "name", name ? name : id, "cert", pem);
	if (!(res = signed_job(cfg, admin, "officer_add", payload))) {
		if (!card)
			unlink(credp);
		goto out;
	}
	officer_cert_serial(cert, serial);
	printf("officer %s (%s) added: certificate %s, credential %s\n", id, role, serial, credp);
	if (ctl_zh(cfg))
		printf("已新增人員 %s（%s）：憑證 %s，憑證檔 %s\n", id, role, serial, credp);
	rc = 0;
out:
	officer_secret_free(pass);
	officer_secret_free(capass);
	officer_secret_free(npass);
	officer_cred_destroy(&admin);
	officer_card_close(&oc);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	X509_free(ca);
	X509_free(cert);
	free(pem);
	json_decref(payload);
	json_decref(res);
	free(prompt); free(credp); free(path); free(who);
	return rc;
}

static int officer_list(const config_t *cfg)
{
	char *path = config_path(cfg, "queue.db");
	sqlite3 *db = db_open_readonly(path);
	sqlite3_stmt *st;

	if (!db)
		fatal("cannot open %s", path);
	st = db_prepare(db, "SELECT id, role, enabled, cert_serial, name FROM officers ORDER BY id");
	printf("%-16s %-10s %-8s %-34s %s\n", "OFFICER", "ROLE", "STATE", "CERTIFICATE", "NAME");
	while (sqlite3_step(st) == SQLITE_ROW)
		printf("%-16s %-10s %-8s %-34s %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_int(st, 2) ? "enabled" : "disabled", sqlite3_column_text(st, 3), sqlite3_column_text(st, 4));
	sqlite3_finalize(st);
	db_close(&db);
	free(path);
	return 0;
}

static int officer_disable(const config_t *cfg, const char *id, const struct ctl_as *as)
{
	officer_cred_t *admin = ctl_as_open(cfg, as, "officer disable");
	json_t *payload = json_pack("{s:s}", "id", id), *res;
	int rc = 1;

	if ((res = signed_job(cfg, admin, "officer_disable", payload)) != NULL) {
		printf("officer %s disabled: their signatures are refused from now on\n", id);
		if (ctl_zh(cfg))
			printf("已停用人員 %s：自即日起不再接受其簽章\n", id);
		rc = 0;
	}
	json_decref(res);
	json_decref(payload);
	officer_cred_destroy(&admin);
	return rc;
}

int ctl_officer(const config_t *cfg, int argc, char **argv, const struct ctl_as *as,
    const struct ctl_officer_add *add)
{
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return officer_list(cfg);
	if (argc == 2 && strcmp(argv[0], "add") == 0)
		return officer_add(cfg, argv[1], as, add);
	if (argc == 2 && strcmp(argv[0], "disable") == 0)
		return officer_disable(cfg, argv[1], as);
	fprintf(stderr, "ra-ctl: officer add ID | list | disable ID (see ra-ctl --help)\n");
	return 2;
}
