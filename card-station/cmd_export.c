/*
 * cmd_export.c: `card-station export --reader NAME [--out DIR] [--ca FILE] [--lang en]`:
 * the card's two certificates and the CA chain as PEM files, for the subscriber's new
 * computer (with PIV the operating system reads the card itself; the files are for
 * programs that want the certificates imported, as the old service's browser step did).
 *
 * Files: DIR/card-SERIAL-signature.pem (9C), DIR/card-SERIAL-encryption.pem (9D),
 * DIR/ca-chain.pem (the CA certificate from --ca, else the configuration's signer.cert).
 * Nothing here needs a PIN or the back office: certificates are public. The sequence is
 * card/sub_ops.c's sub_export, shared with card-agent: each certificate is checked to be
 * issued by the CA exported with it before anything is written, so the subscriber never
 * carries away a set that `openssl verify` would refuse.
 */
#include "station.h"
#include "subscriber.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

int cmd_export(struct station *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "ca", required_argument, NULL, 'C' },
		{ "lang", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = ".", *ca_opt = NULL;
	struct sub_args a = { 0 };
	struct station_sub ss = { 0 };
	char *ca_path = NULL, *chain = NULL;
	size_t len = 0;
	int c, bad = 0, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:o:C:l:", opts, NULL)) != -1) {
		if (c == 'r')
			a.reader = optarg;
		else if (c == 'o')
			dir = optarg;
		else if (c == 'C')
			ca_opt = optarg;
		else if (c == 'l' && sub_lang_parse(optarg, &a.lang) == 0)
			continue;
		else
			bad = 1;	/* an unknown option, or a --lang that is neither */
	}
	if (bad || !a.reader || optind != argc) {
		log_err("usage: card-station export --reader NAME [--out DIR] [--ca FILE] [--lang zh-TW|en]");
		return 2;
	}
	ca_path = ca_opt ? xstrdup(ca_opt) : config_path(st->cfg, "signer.cert");
	if (!(chain = file_read(ca_path, &len))) {
		log_err("no CA certificate in %s (give --ca FILE)", ca_path);
		goto out;
	}
	if (station_sub_open(&ss, st, &a) < 0 || sub_export(&ss.s, chain, dir) < 0)
		goto out;
	ret = 0;
out:
	station_sub_close(&ss);
	free(chain);
	free(ca_path);
	return ret;
}
