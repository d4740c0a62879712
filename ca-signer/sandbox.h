/*
 * sandbox.h: ca-signer's privilege drop and seccomp filter (see sandbox.c).
 */
#ifndef RA_SANDBOX_H
#define RA_SANDBOX_H

/* Become USER (NULL or "": stay). 0/-1. */
int sandbox_drop_user(const char *user);
/* no_new_privs + the deny filter. 0/-1. */
int sandbox_seccomp(void);

#endif
