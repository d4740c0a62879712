/*
 * sandbox.c: what a key holder gives up once its key is loaded and its socket bound: ca-signer
 * (ca-signer/main.c), for which the list was made.
 * ra-cardkey (cardkey/main.c) installs the same list with one folder descriptor, its own
 * folder's (cardkey.dir, in place of signer.db's), so that it can write its metrics file
 * there and nothing anywhere else.
 *
 * It drops to signer.user (if set and started as root), forbids gaining privileges
 * again (PR_SET_NO_NEW_PRIVS), and installs a seccomp filter (libseccomp) that is an
 * allow-list: the calls the running signer was seen to make (strace -f of issuance,
 * revocation, CRL publication and shut-down under load) and nothing else. Anything
 * outside it kills the whole process with SIGSYS, so a compromised signer cannot start a
 * program, fork, open a network socket of its own or carry the key to a file.
 *
 * A filter cannot read a path, so writing is tied to directory descriptors opened before
 * the filter: a write-open (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND) is allowed only
 * by openat relative to signer.db's folder or the CRL folder, and so are unlinkat and
 * renameat; reading opens stay allowed (the key is already in memory). SQLite names its
 * files by path, so its "open" and "unlink" system calls are replaced (sqlite3_vfs
 * xSetSystemCall) by ones that go through the database folder's descriptor and refuse
 * any other folder, and its temporary files (a savepoint's journal that outgrows memory,
 * as a batch's does once signer.db has grown) are made in that folder too (SQLite as root
 * would also hand a new WAL to the database's owner: that fchown is made a no-op). New
 * threads are allowed (CLONE_THREAD), a new process is not; clone3 answers ENOSYS so that
 * the C library falls back to clone, whose flags can be checked. No memory may be mapped
 * executable after start-up. Threads that were started before the
 * filter but run their first lines after it (a race seen under load) may read and reset
 * their scheduling parameters and name themselves: that is allowed too, narrowly.
 *
 * Its metrics (signer_metrics.c) need no call and no folder more: ca-signer writes
 * ca-signer.prom into its own folder (signer.db's) through that folder's descriptor,
 * written, synced and renamed like a CRL. An HTTP endpoint would have meant a listening
 * socket beside the key, which is exactly what this process must not offer.
 */
#include "sandbox.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Allowed with any arguments. Names, so that a call one architecture lacks is skipped. */
static const char *const sandbox_allowed[] = {
	/* memory (mmap and mprotect below: never executable) */
	"brk", "munmap", "mremap", "madvise", "mlock", "munlock",
	/* threads already running: ZeroMQ's I/O and reaper, CZMQ's actors, the signing pool */
	"futex", "set_robust_list", "rseq", "sched_yield", "nanosleep", "clock_nanosleep",
	"clock_gettime", "gettimeofday", "getpid", "gettid", "getrandom", "exit",
	"exit_group", "restart_syscall", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction",
	"getuid", "geteuid", "getgid", "getegid",
	/* descriptors it holds: the ROUTER socket, accepted connections, ZeroMQ's
	 * eventfd mailboxes, signer.db, the CRL files */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close", "fcntl",
	"fstat", "newfstatat", "stat", "lstat", "statx", "getdents64", "fsync", "fdatasync",
	/* whether a file exists, no more than stat tells: SQLite asks it of signer.db when a
	 * connection opens (the strace behind this list did not see it; a run of a thousand
	 * orders did, and SIGSYS killed the signer) */
	"access", "faccessat", "faccessat2",
	"ftruncate", "poll", "ppoll", "epoll_wait", "epoll_pwait", "epoll_ctl", "eventfd2",
	"accept4", "recvfrom", "sendto", "recvmsg", "sendmsg", "getsockopt", "setsockopt",
	"getpeername", "getsockname", "shutdown",
};

#define SANDBOX_WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)

/* signer.db's folder, for SQLite's replaced system calls. */
static int sandbox_db_fd = -1;
static char *sandbox_db_dir, *sandbox_db_real, *sandbox_db_path;

/* The name of PATH inside the database folder ("." for the folder), or NULL. */
static const char *sandbox_db_name(const char *path)
{
	const char *dirs[] = { sandbox_db_dir, sandbox_db_real };

	for (size_t i = 0; i < 2; i++) {
		size_t n = dirs[i] ? strlen(dirs[i]) : 0;
		if (!n || strncmp(path, dirs[i], n) != 0)
			continue;
		if (path[n] == '\0')
			return ".";
		if (path[n] == '/' && path[n + 1] && !strchr(path + n + 1, '/'))
			return path + n + 1;
	}
	return NULL;
}

static int sandbox_db_open(const char *path, int flags, int mode)
{
	const char *name = sandbox_db_name(path);

	if (!name) {
		errno = EACCES;
		return -1;
	}
	return openat(sandbox_db_fd, name, flags, mode);
}

static int sandbox_db_unlink(const char *path)
{
	const char *name = sandbox_db_name(path);

	if (!name || strcmp(name, ".") == 0) {
		errno = EACCES;
		return -1;
	}
	return unlinkat(sandbox_db_fd, name, 0);
}

/* SQLite running as root gives a new WAL or journal the database file's owner; the files
 * in signer.db's folder are the signer's own already, and the filter allows no fchown. */
static int sandbox_db_fchown(int fd, uid_t uid, gid_t gid)
{
	(void)fd;
	(void)uid;
	(void)gid;
	return 0;
}

int sandbox_sqlite_confine(const char *db_path, int *db_fd)
{
	char *copy = xstrdup(db_path), *real;
	sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
	int rc = -1;

	sandbox_db_path = xstrdup(db_path);
	sandbox_db_dir = xstrdup(dirname(copy));
	real = realpath(sandbox_db_dir, NULL);
	sandbox_db_real = real ? xstrdup(real) : NULL;
	free(real);
	sandbox_db_fd = open(sandbox_db_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sandbox_db_fd < 0) {
		log_err("cannot open signer.db's folder %s: %s", sandbox_db_dir, strerror(errno));
		goto out;
	}
	if (!vfs || !vfs->xSetSystemCall ||
	    vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)sandbox_db_open) != SQLITE_OK ||
	    vfs->xSetSystemCall(vfs, "unlink", (sqlite3_syscall_ptr)sandbox_db_unlink) != SQLITE_OK ||
	    vfs->xSetSystemCall(vfs, "fchown", (sqlite3_syscall_ptr)sandbox_db_fchown) != SQLITE_OK) {
		log_err("cannot confine SQLite to %s", sandbox_db_dir);
		goto out;
	}
	/* A statement journal that outgrows memory, and any other temporary file, goes in this
	 * folder too (SQLite would look in /var/tmp or /tmp, which the filter refuses). */
	sqlite3_free(sqlite3_temp_directory);
	sqlite3_temp_directory = sqlite3_mprintf("%s", sandbox_db_dir);
	*db_fd = sandbox_db_fd;
	rc = 0;
out:
	free(copy);
	return rc;
}

int sandbox_drop_user(const char *user)
{
	struct passwd *pw;

	if (!user || !*user)
		return 0;
	if (!(pw = getpwnam(user))) {
		log_err("user %s does not exist", user);
		return -1;
	}
	if (pw->pw_uid == geteuid())
		return 0;	/* started as that user already (systemd's User=, ra-ctl up) */
	if (geteuid() != 0) {
		log_warn("the daemon's user is %s but it was not started as root: staying as we are", user);
		return 0;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot drop privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	return 0;
}

#define ALLOW(ctx, call, ...) \
	seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(call), __VA_ARGS__)

/* The calls allowed only with certain arguments. 0/-1. */
static int sandbox_rules_args(scmp_filter_ctx ctx, const struct sandbox_dirs *d)
{
	const int dirs[] = { d->db_fd, d->crl_fd };
	int rc = 0;

	/* read-only opens anywhere; any open inside the two folders */
	rc |= ALLOW(ctx, openat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, SANDBOX_WRITE_FLAGS, 0));
	rc |= ALLOW(ctx, open, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, SANDBOX_WRITE_FLAGS, 0));
	for (size_t i = 0; i < 2; i++) {
		if (dirs[i] < 0)
			continue;
		rc |= ALLOW(ctx, openat, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dirs[i]));
		rc |= ALLOW(ctx, unlinkat, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dirs[i]));
		rc |= ALLOW(ctx, renameat, 2, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dirs[i]),
		    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)dirs[i]));
		rc |= ALLOW(ctx, renameat2, 2, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dirs[i]),
		    SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)dirs[i]));
	}
	/* memory: never executable (no code can be loaded or written after start-up) */
	rc |= ALLOW(ctx, mmap, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= ALLOW(ctx, mprotect, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* a thread, never a process (fork is clone without CLONE_THREAD) */
	rc |= ALLOW(ctx, clone, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* A thread ZeroMQ or CZMQ started just before the filter may run its prologue after
	 * it: libzmq reads its scheduling parameters and sets them back (SCHED_OTHER only,
	 * so never a higher priority), and names itself. */
	rc |= ALLOW(ctx, sched_getparam, 0);
	rc |= ALLOW(ctx, sched_getscheduler, 0);
	rc |= ALLOW(ctx, sched_setscheduler, 1, SCMP_A1(SCMP_CMP_EQ, SCHED_OTHER));
	rc |= ALLOW(ctx, prctl, 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	/* abort() signals itself */
	rc |= ALLOW(ctx, tgkill, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	return rc ? -1 : 0;
}

int sandbox_seccomp(const struct sandbox_dirs *d)
{
	scmp_filter_ctx ctx;
	int rc = -1;

#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer's leak check stops the world with ptrace at exit (a new process
	 * and ptrace, both outside the allow-list): the process would die or spin instead
	 * of reporting. Sanitizer builds are for tests; release builds always filter. */
	(void)d;
	log_warn("sanitizer build: the seccomp filter is not installed");
	return 0;
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (!(ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)))
		return -1;
	/* ZeroMQ's threads already run: the filter must cover them too */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
		goto out;
	for (size_t i = 0; i < sizeof sandbox_allowed / sizeof sandbox_allowed[0]; i++) {
		int nr = seccomp_syscall_resolve_name(sandbox_allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not a call of this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			goto out;
	}
	if (sandbox_rules_args(ctx, d) < 0)
		goto out;
	if (seccomp_load(ctx) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		log_err("cannot install the seccomp filter");
	seccomp_release(ctx);
	return rc;
}

/*
 * The self-test: one call the sandbox must forbid (the process dies of SIGSYS before this
 * returns) or allow. 0 when an allowed call worked, 3 when a forbidden one came back.
 */
/*
 * What a batch of the signer does once signer.db has grown: a savepoint inside a
 * transaction changes more pages than SQLite keeps its statement journal in memory for
 * (64 KiB), so the journal spills to a temporary file. On signer.db itself (its WAL made
 * before the filter, as the daemon's is), in a scratch table dropped at the end, through
 * a second connection opened after the filter. 0 done, 1 failed.
 */
static int sandbox_selftest_spill(void)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc;

	rc = sandbox_db_path && sqlite3_open(sandbox_db_path, &db) == SQLITE_OK && sqlite3_exec(db,
	    "CREATE TABLE sandbox_spill (x BLOB);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)"
	    " INSERT INTO sandbox_spill SELECT randomblob(1000) FROM n;"
	    "BEGIN; SAVEPOINT s; UPDATE sandbox_spill SET x = randomblob(1000); RELEASE s; COMMIT;"
	    "DROP TABLE sandbox_spill;", NULL, NULL, &err) == SQLITE_OK ? 0 : 1;
	if (rc)
		log_err("sandbox self-test: sqlite-spill: %s", err ? err : db ? sqlite3_errmsg(db) : "no database");
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

int sandbox_selftest(const char *what, const struct sandbox_dirs *d)
{
	const char *arg = strchr(what, ':');
	size_t n = arg ? (size_t)(arg - what) : strlen(what);
	long r = -1;

	arg = arg ? arg + 1 : "";
	log_info("sandbox self-test: %s", what);
#define IS(name) (n == strlen(name) && strncmp(what, name, n) == 0)
	if (IS("fork"))
		r = fork();
	else if (IS("clone"))
		r = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
	else if (IS("execve"))
		r = execl("/bin/true", "true", (char *)NULL);
	else if (IS("socket-inet"))
		r = socket(AF_INET, SOCK_STREAM, 0);
	else if (IS("socket-inet6"))
		r = socket(AF_INET6, SOCK_DGRAM, 0);
	else if (IS("socket-unix"))
		r = socket(AF_UNIX, SOCK_STREAM, 0);
	else if (IS("open-write"))	/* :PATH */
		r = open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	else if (IS("openat-write")) {	/* :DIR, a folder opened now */
		int dfd = open(arg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = dfd < 0 ? -1 : openat(dfd, "sandbox-test", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	} else if (IS("mmap-exec"))
		r = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		    MAP_FAILED ? -1 : 0;
	else if (IS("open-read"))	/* :PATH, allowed */
		return open(arg, O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 1;
	else if (IS("access"))	/* :PATH, allowed: SQLite asks whether its files exist */
		return access(arg, F_OK) == 0 ? 0 : 1;
	else if (IS("sqlite-spill"))	/* allowed: a savepoint's journal outgrows memory */
		return sandbox_selftest_spill();
	else if (IS("write-crl"))	/* allowed */
		return file_write_at(d->crl_fd, "sandbox-test", "ok\n", 3, 0644) == 0 ? 0 : 1;
	else if (IS("write-db-dir"))	/* allowed, as SQLite does it */
		return close(openat(d->db_fd, "sandbox-test", O_WRONLY | O_CREAT | O_CLOEXEC, 0600))
		    == 0 ? 0 : 1;
	else {
		log_err("sandbox self-test: unknown call %s", what);
		return 2;
	}
#undef IS
	log_err("sandbox self-test: %s was not stopped (returned %ld: %s)", what, r,
	    r < 0 ? strerror(errno) : "ok");
	return 3;
}
