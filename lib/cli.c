/*
 * cli.c: see cli.h. A bad --now is fatal: a daemon must never run on a clock it misread.
 */
#include "cli.h"
#include "log.h"
#include "util.h"

#include <getopt.h>
#include <string.h>

void cli_daemon_parse(int argc, char **argv, void (*usage)(int), struct cli_daemon *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, 0, 'c' }, { "check", no_argument, 0, 'k' },
		{ "now", required_argument, 0, 'n' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;

	memset(o, 0, sizeof *o);
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'k': o->check = 1; break;
		case 'n': if (clock_set(optarg) < 0) fatal("--now %s is not a time", optarg); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
}
