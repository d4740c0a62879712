/*
 * ctl.h: ra-ctl's parts: making a deployment (ctl_init.c), starting and stopping its
 * daemons (ctl_daemons.c); the queue commands are in ra-ctl.c.
 */
#ifndef RA_CTL_H
#define RA_CTL_H

#include "config.h"

/* Make a fresh deployment in DIR (refuses a DIR that has one, unless FORCE), its
 * development CA key of CA_BITS. 0/-1. */
int ctl_init(const char *dir, int force, int ca_bits);
/* Give DIR's files to one user per part (created if missing), move the passphrases to
 * DIR/credentials, name the users in ra.yaml. Root only. 0/-1. */
int ctl_users_init(const char *dir);
/* The user PROG runs as in this deployment (users.*), or NULL. */
const char *ctl_user_of(const config_t *cfg, const char *prog);
/* In a daemon's child, as root: hand PROG its own credentials (run/credentials/USER,
 * $CREDENTIALS_DIRECTORY) and become its user. No user configured or not root: nothing.
 * 0/-1. */
int ctl_become(const config_t *cfg, const char *prog);
/* Start ca-signer, ra-queue, NWORKERS ra-workers and, if OCSP, ra-ocsp for CFGFILE. 0/-1. */
int ctl_up(const config_t *cfg, const char *cfgfile, int nworkers, int ocsp);
/* Stop every daemon of the deployment (SIGTERM, then SIGKILL after a while). 0/-1. */
int ctl_down(const config_t *cfg);
/* Print which daemons run. 0 if all run, 1 otherwise. */
int ctl_status(const config_t *cfg);

#endif
