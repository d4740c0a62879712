/*
 * cmd_pin.c: the card PIN, by the subscriber at the counter.
 *
 *   card-station pin-change --reader NAME [--lang en]
 *       old PIN, new PIN, confirm; on the card alone.
 *   card-station unlock | pin-reset --reader NAME --account ID [--lang en]
 *       website password, new PIN, confirm; the PUK released sealed to a one-time key
 *       and replaced on the card at once.
 *
 * The sequences are card/sub_ops.c's, shared with card-agent on the subscriber's PC.
 * Secrets come from the terminal without echo, or from stdin lines in scripts; never from
 * the command line, which other users can read.
 */
#include "station.h"
#include "subscriber.h"

int cmd_pin_change(struct station *st, int argc, char **argv)
{
	struct sub_args a;
	struct station_sub ss;
	int ret;

	if ((ret = sub_args_parse(argc, argv, 0, &a)) != 0)
		return ret;
	ret = station_sub_open(&ss, st, &a) < 0 || sub_pin_change(&ss.s) < 0;
	station_sub_close(&ss);
	return ret;
}

int cmd_unlock(struct station *st, int argc, char **argv)
{
	struct sub_args a;
	struct station_sub ss;
	int ret;

	if ((ret = sub_args_parse(argc, argv, 1, &a)) != 0)
		return ret;
	ret = station_sub_open(&ss, st, &a) < 0 || sub_unlock(&ss.s, a.account) < 0;
	station_sub_close(&ss);
	return ret;
}
