/*
 * ctl.h: ra-ctl's parts: making a deployment (ctl_init.c), starting and stopping its
 * daemons (ctl_daemons.c), backups (ctl_backup.c, ctl_restore.c, ctl_reconcile.c, with
 * the encrypted key archive of ctl_keyarchive.c); the queue commands are in ra-ctl.c.
 */
#ifndef RA_CTL_H
#define RA_CTL_H

#include "config.h"

/* Make a fresh deployment in DIR (refuses a DIR that has one, unless FORCE), its
 * development CA key of CA_BITS. 0/-1. */
int ctl_init(const char *dir, int force, int ca_bits);
/* Start ca-signer, ra-queue, NWORKERS ra-workers and, if OCSP, ra-ocsp for CFGFILE. 0/-1. */
int ctl_up(const config_t *cfg, const char *cfgfile, int nworkers, int ocsp);
/* Stop every daemon of the deployment (SIGTERM, then SIGKILL after a while). 0/-1. */
int ctl_down(const config_t *cfg);
/* Print which daemons run. 0 if all run, 1 otherwise. */
int ctl_status(const config_t *cfg);

/* `ra-ctl backup|restore|reconcile ARGS`: each parses its own options (ARGV[0] is the
 * command); CFGFILE is -c given before the command, or NULL. The exit status. */
int ctl_backup_main(const char *cfgfile, int argc, char **argv);
int ctl_restore_main(const char *cfgfile, int argc, char **argv);
int ctl_reconcile_main(const char *cfgfile, int argc, char **argv);

/* Copy the SQLite database SRC to DST (a new file) with the online backup API: one read
 * transaction, so DST is a consistent snapshot while writers go on. 0/-1 (logged). */
int ctl_db_snapshot(const char *src, const char *dst);
/* SHA-256 of a file's bytes as lower-case hex (65 bytes); *size its length. 0/-1. */
int ctl_file_sha256(const char *path, char hex[65], long long *size);
/* The regular files under DIR, encrypted with the passphrase in PASSFILE, into OUT
 * (mode 0600); *NFILES how many. 0/-1 (logged). */
int ctl_keyarchive_write(const char *dir, const char *out, const char *passfile, int *nfiles);
/* The reverse: the files of archive IN under DIR. 0/-1 (a wrong passphrase is logged). */
int ctl_keyarchive_read(const char *in, const char *dir, const char *passfile, int *nfiles);

#endif
