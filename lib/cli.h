/*
 * cli.h: the command line every daemon takes (ra-queue, ca-signer, ra-ocsp), parsed one
 * way: -c/--config FILE, --check, --now TIME (the one clock, lib/util.h), -h/--help.
 */
#ifndef RA_CLI_H
#define RA_CLI_H

struct cli_daemon {
	const char *config;	/* NULL: $RA_CONFIG, else the embedded defaults */
	int check;		/* --check: check the configuration and exit */
};

/* Parse ARGV into O. Calls USAGE(0) for --help and USAGE(2) for anything else; USAGE exits. */
void cli_daemon_parse(int argc, char **argv, void (*usage)(int), struct cli_daemon *o);

#endif
