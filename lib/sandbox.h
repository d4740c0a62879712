/*
 * sandbox.h: the key holders' privilege drop and seccomp allow-list (see sandbox.c): ca-signer
 * and ra-cardkey install it once their key is loaded.
 */
#ifndef RA_SANDBOX_H
#define RA_SANDBOX_H

/* The folders the signer may write in after start-up, open before the filter. */
struct sandbox_dirs {
	int db_fd;		/* signer.db's folder */
	int crl_fd;		/* signer.crl_dir */
};

/* Make SQLite open and unlink files only in DB_PATH's folder, through a descriptor of
 * that folder (*DB_FD). Before sandbox_seccomp. 0/-1. */
int sandbox_sqlite_confine(const char *db_path, int *db_fd);
/* Become USER (NULL or "": stay). 0/-1. */
int sandbox_drop_user(const char *user);
/* no_new_privs + the allow-list; anything else kills the process (SIGSYS). 0/-1. */
int sandbox_seccomp(const struct sandbox_dirs *d);
/*
 * After sandbox_seccomp, attempt WHAT (tests, through $RA_SANDBOX_TEST): fork, clone,
 * execve, socket-inet, socket-inet6, socket-unix, open-write:PATH, openat-write:DIR,
 * mmap-exec (each must kill the process), or open-read:PATH, access:PATH, sqlite-spill,
 * write-crl, write-db-dir
 * (each must work). 0 allowed and done, 1 allowed but failed, 2 unknown, 3 forbidden
 * but not stopped.
 */
int sandbox_selftest(const char *what, const struct sandbox_dirs *d);

#endif
