/*
 * ctl_station.c: `ra-ctl station-key NAME`, a card station's own CURVE key pair.
 *
 * ra-ctl init makes one key pair per producer; every card station may share the
 * "station" one. A station with a key of its own (keys/clients/station.NAME.cert) is known
 * to ra-queue as "station.NAME": it follows only its own jobs, its idempotency keys are
 * its own (an HMAC under its own secret), and the queue takes no job from it that names
 * another station (lib/jobs.h). A stolen station key then speaks for that station only,
 * and disabling it (removing the .cert from keys/clients and restarting ra-queue) leaves
 * the others working. The new files take the owner and mode of the shared station key,
 * so a deployment made with --users reads them as it reads that one.
 */
#include "ctl.h"
#include "jobs.h"
#include "log.h"
#include "net.h"
#include "util.h"

#include <czmq.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Give PATH the owner and mode of LIKE (if LIKE exists). 0/-1. */
static int same_as(const char *path, const char *like)
{
	struct stat st;

	if (stat(like, &st) < 0)
		return 0;
	if (chmod(path, st.st_mode & 07777) < 0 || (geteuid() == 0 && chown(path, st.st_uid, st.st_gid) < 0)) {
		log_err("%s: cannot set its owner and mode like %s", path, like);
		return -1;
	}
	return 0;
}

int ctl_station_key(const config_t *cfg, const char *station)
{
	char *name = NULL, *pub = NULL, *secret = NULL, *shared = NULL, *shared_secret = NULL;
	zcert_t *c = NULL;
	int rc = -1;

	if (!job_instance_valid(station)) {
		log_err("'%s' is not a station name (1 to %d of a-z 0-9 and '-', not first)", station ? station : "",
		    JOB_INSTANCE_MAX);
		return -1;
	}
	name = xasprintf("station.%s", station);
	pub = net_key_path(cfg, "clients", name);
	secret = xasprintf("%s_secret", pub);
	shared = net_key_path(cfg, "clients", "station");
	shared_secret = xasprintf("%s_secret", shared);
	if (access(pub, F_OK) == 0 || access(secret, F_OK) == 0) {
		log_err("station %s has a key pair already (%s): remove both files first to replace it", station, pub);
		goto out;
	}
	if (!(c = zcert_new()) || zcert_save(c, pub) != 0) {
		log_err("cannot write the key pair %s", pub);
		goto out;
	}
	if (same_as(pub, shared) < 0 || same_as(secret, shared_secret) < 0)
		goto out;
	printf("station %s: key pair %s (public, on the RA host's allowlist) and %s (secret)\n"
	       "Copy both to the station's keys_dir/clients/ and remove the secret from the RA host;\n"
	       "restart ra-queue to admit the key (ra-ctl down, ra-ctl up), then run the station with\n"
	       "--station %s.\n", station, pub, secret, station);
	rc = 0;
out:
	zcert_destroy(&c);
	free(name);
	free(pub);
	free(secret);
	free(shared);
	free(shared_secret);
	return rc;
}
