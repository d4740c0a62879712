/*
 * cmd_renew.c: `card-station renew --reader NAME --account ID [--lang en]`: new keys on
 * the card and a new pair of certificates, inside the renewal window (from
 * renewal.window_days before the certificates expire until they do; the back office
 * decides by its clock). The sequence, and why its steps come in that order, is
 * card/sub_ops.c's sub_renew, shared with card-agent.
 */
#include "station.h"
#include "subscriber.h"

int cmd_renew(struct station *st, int argc, char **argv)
{
	struct sub_args a;
	struct station_sub ss;
	int ret;

	if (sub_args_parse(argc, argv, 1, &a) != 0)
		return 2;
	ret = station_sub_open(&ss, st, &a) < 0 || sub_renew(&ss.s, a.account) < 0;
	station_sub_close(&ss);
	return ret;
}
