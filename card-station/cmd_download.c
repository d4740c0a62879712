/*
 * cmd_download.c: `card-station download --reader NAME --account ID [--lang en]`: write
 * the subscriber's current certificates (signature to 9C, encryption to 9D) to the card
 * again, after an interrupted activation or a renewal whose write failed. The sequence is
 * card/sub_ops.c's sub_download, shared with card-agent.
 */
#include "station.h"
#include "subscriber.h"

int cmd_download(struct station *st, int argc, char **argv)
{
	struct sub_args a;
	struct station_sub ss;
	int ret;

	if (sub_args_parse(argc, argv, 1, &a) != 0)
		return 2;
	ret = station_sub_open(&ss, st, &a) < 0 || sub_download(&ss.s, a.account) < 0;
	station_sub_close(&ss);
	return ret;
}
