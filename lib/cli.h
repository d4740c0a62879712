/*
 * cli.h: the command line of the daemons ra-queue, ca-signer and ra-ocsp, parsed one way:
 * -c/--config FILE, --check, --now TIME (the one clock, lib/clock.h), -h/--help. ra-worker
 * takes the same four with the same meanings and parses its own command line
 * (workers/worker_main.c), because it also takes --name and --kinds.
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
