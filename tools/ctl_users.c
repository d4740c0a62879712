/*
 * ctl_users.c: one Unix user per part of the RA host, for `ra-ctl init DIR --users` (run
 * as root) and for `ra-ctl up` starting each daemon under its user.
 *
 * Users: ra-signer (ca-signer), ra-cardkey (ra-cardkey: the card master key), ra-queue
 * (ra-queue and the workers), ra-notifier
 * (ra-notifier), ra-web (ra-web: its client key and TLS key); the group ra-ledger (ra-queue, ra-notifier) shares ra.db, the only file
 * two of them need, and the group ra-metrics (all five) may write in
 * metrics/, which the textfile collector reads: no other local user can plant a file there.
 * The group ra-sockets (ra-signer, ra-cardkey, ra-queue: the daemons that bind) may make
 * sockets in run/; nobody else can, so no local user can take a socket's name before its
 * daemon starts (libzmq's bind removes a stale file, which the sticky bit lets it do only
 * for its own). Existing users and groups are used as they are. Each file is owned by
 * the one user that needs it, mode 0600 in a folder of 0700 or 0711 (traverse only):
 * a worker cannot read the sheet private key, the card master key, a producer's CURVE
 * secret key or the CA key, and the signer cannot read the workers' keys. Public halves
 * (*.cert, *.pub) and ra.yaml (no secret in it) are 0644; the CRL folder is public.
 *
 * Passphrases do not lie beside their keys: they move to DIR/credentials (root, 0700),
 * from where systemd hands each service its own (LoadCredential=, $CREDENTIALS_DIRECTORY;
 * lib/config.c looks there first). `ra-ctl up` does the same for a deployment started by
 * hand: it copies a daemon's credentials into run/credentials/USER (that user's, 0700)
 * only while it runs, and `down` removes them. ipc sockets are made reachable by every
 * local user (CURVE decides who gets in, lib/net.c).
 */
#include "ctl.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEDGER_GROUP "ra-ledger"
#define METRICS_GROUP "ra-metrics"
#define SOCKETS_GROUP "ra-sockets"

struct ctl_user {
	const char *name;
	int ledger;		/* member of ra-ledger */
	int metrics;		/* member of ra-metrics: writes its file in metrics/ */
	int sockets;		/* member of ra-sockets: binds a socket in run/ */
	const char *config_key;	/* where ra.yaml names it */
};

/* ca-signer and ra-cardkey write their metrics in their own folders (their sandboxes
 * reach nothing else) and link them from metrics/ at start (lib/metrics.c, metrics_link). */
static const struct ctl_user ctl_users[] = {
	{ "ra-signer", 0, 1, 1, "signer.user" },
	{ "ra-cardkey", 0, 1, 1, "cardkey.user" },
	{ "ra-queue", 1, 1, 1, "queue.user" },
	{ "ra-notifier", 1, 1, 0, "notifier.user" },
	{ "ra-web", 0, 1, 0, NULL },
};

/* The passphrase files of a deployment, moved to credentials/ by init --users, and the
 * program each belongs to. */
static const struct { const char *key, *file, *cred, *prog; } ctl_creds[] = {
	{ "signer.key_passphrase_file", "signer/ca.pass", "ca.pass", "ca-signer" },
	{ "sheets.private_key_passphrase_file", "keys/sheets.pass", "sheets.pass", "ra-notifier" },
	{ "workers.seal_passphrase_file", "keys/worker-seal.pass", "worker-seal.pass", "ra-worker" },
	{ "ocsp.key_passphrase_file", "keys/ocsp.pass", "ocsp.pass", "ra-ocsp" },
};

/* Run a program (absolute path, arguments), wait. 0 when it exits 0. */
static int ctl_run(const char *path, const char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(path, (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		log_err("%s %s failed", path, argv[1] ? argv[1] : "");
		return -1;
	}
	return 0;
}

static int ctl_ensure_group(const char *group)
{
	const char *a[] = { "groupadd", "--system", group, NULL };
	return getgrnam(group) ? 0 : ctl_run("/usr/sbin/groupadd", a);
}

static int ctl_ensure_users(const char *home)
{
	if (ctl_ensure_group(LEDGER_GROUP) < 0 || ctl_ensure_group(METRICS_GROUP) < 0 ||
	    ctl_ensure_group(SOCKETS_GROUP) < 0)
		return -1;
	for (size_t i = 0; i < sizeof ctl_users / sizeof ctl_users[0]; i++) {
		const struct ctl_user *u = &ctl_users[i];
		if (!getpwnam(u->name)) {
			const char *a[] = { "useradd", "--system", "--user-group", "--no-create-home",
			    "--home-dir", home, "--shell", "/usr/sbin/nologin", u->name, NULL };
			if (ctl_run("/usr/sbin/useradd", a) < 0)
				return -1;
			log_info("created the system user %s", u->name);
		}
		const char *groups[] = { u->ledger ? LEDGER_GROUP : NULL, u->metrics ? METRICS_GROUP : NULL,
		    u->sockets ? SOCKETS_GROUP : NULL };
		for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
			const char *a[] = { "usermod", "--append", "--groups", groups[g], u->name, NULL };
			if (groups[g] && ctl_run("/usr/sbin/usermod", a) < 0)
				return -1;
		}
	}
	return 0;
}

/* chown and chmod DIR/REL to USER (NULL: root) and GROUP (NULL: the user's). 0/-1. */
static int ctl_own(const char *dir, const char *rel, const char *user, const char *group, int mode)
{
	char *p = *rel ? xasprintf("%s/%s", dir, rel) : xstrdup(dir);
	struct passwd *pw = user ? getpwnam(user) : NULL;
	struct group *gr = group ? getgrnam(group) : NULL;
	uid_t uid = pw ? pw->pw_uid : 0;
	gid_t gid = gr ? gr->gr_gid : pw ? pw->pw_gid : 0;
	int rc = 0;

	if ((user && !pw) || (group && !gr) || chown(p, uid, gid) < 0 || chmod(p, (mode_t)mode) < 0) {
		log_err("cannot give %s to %s: %s", p, user ? user : "root", strerror(errno));
		rc = -1;
	}
	free(p);
	return rc;
}

/* Name the users in ra.yaml and point the passphrase keys at credentials/. */
static int ctl_users_config(const char *dir)
{
	static const char old[] = "key_passphrase_file: signer/ca.pass";
	static const char more[] =
	    "# made with --users: each part runs as its own user; passphrases come from\n"
	    "# systemd credentials (LoadCredential= from credentials/), never from beside the keys\n"
	    "users:\n  signer: ra-signer\n  cardkey: ra-cardkey\n  queue: ra-queue\n  notifier: ra-notifier\n"
	    "sheets:\n  private_key_passphrase_file: credentials/sheets.pass\n"
	    "workers:\n  seal_passphrase_file: credentials/worker-seal.pass\n"
	    "ocsp:\n  key_passphrase_file: credentials/ocsp.pass\n";
	char *p = xasprintf("%s/ra.yaml", dir), *text = file_read(p, NULL), *at, *out = NULL;
	int rc = -1;

	if (!text || !(at = strstr(text, old)))
		goto done;
	*at = '\0';
	out = xasprintf("%skey_passphrase_file: credentials/ca.pass%s%s", text, at + strlen(old), more);
	rc = file_write_atomic(p, out, strlen(out), 0644);
done:
	if (rc < 0)
		log_err("cannot update %s", p);
	free(text);
	free(out);
	free(p);
	return rc;
}

int ctl_users_init(const char *dir)
{
	static const struct { const char *rel, *user, *group; int mode, optional; } own[] = {
		{ "", NULL, LEDGER_GROUP, 02771, 0 },	/* ra.db's WAL files are made here */
		{ "ra.yaml", NULL, NULL, 0644, 0 },
		{ "ra.db", "ra-queue", LEDGER_GROUP, 0660, 0 },
		{ "credentials", NULL, NULL, 0700, 0 },
		{ "run", NULL, SOCKETS_GROUP, 01775, 0 },	/* the daemons that bind make their sockets here */
		{ "metrics", NULL, METRICS_GROUP, 01775, 0 },	/* the daemons write their metrics here; anyone reads */
		{ "signer", "ra-signer", NULL, 0700, 0 },
		{ "signer/ca.key", "ra-signer", NULL, 0600, 0 },
		{ "signer/ca.pem", "ra-signer", NULL, 0644, 0 },
		{ "crl", "ra-signer", NULL, 0755, 0 },
		{ "outbox", "ra-notifier", NULL, 0700, 0 },
		{ "sheets", "ra-notifier", NULL, 0700, 0 },
		{ "keys", NULL, NULL, 0711, 0 },
		{ "keys/queue.cert", NULL, NULL, 0644, 0 },
		{ "keys/queue.cert_secret", "ra-queue", NULL, 0600, 0 },
		{ "keys/signer.cert", NULL, NULL, 0644, 0 },
		{ "keys/signer.cert_secret", "ra-signer", NULL, 0600, 0 },
		{ "keys/workers", NULL, NULL, 0755, 0 },
		{ "keys/workers/worker.cert", NULL, NULL, 0644, 0 },
		{ "keys/workers/worker.cert_secret", "ra-queue", NULL, 0600, 0 },
		{ "keys/clients", NULL, NULL, 0755, 0 },
		{ "keys/sheets.pub", NULL, NULL, 0644, 0 },
		{ "keys/sheets.key", "ra-notifier", NULL, 0600, 0 },
		{ "keys/worker-seal.pub", NULL, NULL, 0644, 0 },
		{ "keys/worker-seal.key", "ra-queue", NULL, 0600, 0 },
		{ "cardkey", "ra-cardkey", NULL, 0755, 0 },	/* its metrics file, read by node-exporter */
		{ "keys/card-master.key", "ra-cardkey", NULL, 0600, 0 },	/* and card-station's, run by root */
		{ "keys/cardkey.cert", NULL, NULL, 0644, 0 },
		{ "keys/cardkey.cert_secret", "ra-cardkey", NULL, 0600, 0 },
		{ "keys/ocsp.pem", NULL, NULL, 0644, 0 },
		{ "officers", NULL, NULL, 0711, 0 },	/* the CA key and credentials stay root's */
		{ "officers/ca.pem", NULL, NULL, 0644, 0 },	/* workers check officers' signatures */
		{ "keys/clients/web.cert_secret", "ra-web", NULL, 0600, 1 },
		{ "keys/web.key", "ra-web", NULL, 0600, 1 },
		{ "keys/web.pem", NULL, NULL, 0644, 1 },
	};
	static const char *const clients[] = { "intake", "self", "station", "ctl", "web" };
	char *home = realpath(dir, NULL), *creds = xasprintf("%s/credentials", dir);
	char *metrics = xasprintf("%s/metrics", dir);
	int rc = -1;

	if (geteuid() != 0) {
		log_err("--users needs root (it creates users and gives files to them)");
		goto out;
	}
	if (!home || ctl_ensure_users(home) < 0)
		goto out;
	if (mkdir_p(creds, 0700) < 0 || mkdir_p(metrics, 0755) < 0)
		goto out;
	for (size_t i = 0; i < sizeof ctl_creds / sizeof ctl_creds[0]; i++) {
		char *from = xasprintf("%s/%s", dir, ctl_creds[i].file);
		char *to = xasprintf("%s/credentials/%s", dir, ctl_creds[i].cred);
		int r = rename(from, to);
		if (r < 0)
			log_err("cannot move %s to %s: %s", from, to, strerror(errno));
		free(from);
		free(to);
		if (r < 0)
			goto out;
	}
	if (ctl_users_config(dir) < 0)
		goto out;
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
		char *p = xasprintf("%s/%s", dir, own[i].rel);
		int missing = own[i].optional && access(p, F_OK) < 0;
		free(p);
		if (!missing && ctl_own(dir, own[i].rel, own[i].user, own[i].group, own[i].mode) < 0)
			goto out;
	}
	for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++) {
		char *pub = xasprintf("keys/clients/%s.cert", clients[i]), *p = xasprintf("%s/%s", dir, pub);
		int r = access(p, F_OK) < 0 ? 0 : ctl_own(dir, pub, NULL, NULL, 0644);
		free(p);
		free(pub);
		if (r < 0)
			goto out;
	}
	log_info("%s: files given to ra-signer, ra-cardkey, ra-queue and ra-notifier; passphrases in %s/credentials",
	    dir, dir);
	rc = 0;
out:
	free(home);
	free(creds);
	free(metrics);
	return rc;
}

const char *ctl_user_of(const config_t *cfg, const char *prog)
{
	const char *key = strcmp(prog, "ca-signer") == 0 ? "users.signer" :
	    strcmp(prog, "ra-cardkey") == 0 ? "users.cardkey" :
	    strcmp(prog, "ra-queue") == 0 || strcmp(prog, "ra-worker") == 0 ? "users.queue" :
	    strcmp(prog, "ra-notifier") == 0 ? "users.notifier" : NULL;
	const char *u = key ? config_str(cfg, key) : "";

	return u && *u ? u : NULL;
}

/* Copy credential file SRC into DIR (owned by PW, 0400). 0/-1; a missing SRC is fine. */
static int ctl_cred_copy(const char *src, const char *dir, const struct passwd *pw)
{
	const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	char *dst = xasprintf("%s/%s", dir, base), buf[4096];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	ssize_t n;

	if (in < 0) {
		rc = errno == ENOENT ? 0 : -1;
		goto done;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400);
	if (out < 0 || fchown(out, pw->pw_uid, pw->pw_gid) < 0)
		goto done;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			goto done;
	rc = n == 0 ? 0 : -1;
done:
	OPENSSL_cleanse(buf, sizeof buf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(dst);
	return rc;
}

int ctl_become(const config_t *cfg, const char *prog)
{
	const char *user = ctl_user_of(cfg, prog);
	struct passwd *pw;
	char *dir;
	int rc = -1;

	if (!user || geteuid() != 0)
		return 0;
	if (!(pw = getpwnam(user))) {
		fprintf(stderr, "no user %s for %s\n", user, prog);
		return -1;
	}
	dir = xasprintf("%s/run/credentials/%s", config_home(cfg), user);
	if (mkdir_p(dir, 0700) < 0 || chown(dir, pw->pw_uid, pw->pw_gid) < 0)
		goto out;
	*strrchr(dir, '/') = '\0';	/* run/credentials: each user reaches only its own */
	if (chmod(dir, 0711) < 0)
		goto out;
	dir[strlen(dir)] = '/';
	for (size_t i = 0; i < sizeof ctl_creds / sizeof ctl_creds[0]; i++) {
		if (strcmp(ctl_creds[i].prog, prog) != 0)
			continue;	/* each daemon gets its own passphrase only */
		char *src = config_path(cfg, ctl_creds[i].key);
		int r = *src ? ctl_cred_copy(src, dir, pw) : 0;
		free(src);
		if (r < 0)
			goto out;
	}
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "cannot start %s as %s: %s\n", prog, user, strerror(errno));
	free(dir);
	return rc;
}
