/*
 * fuzz_config.c: libFuzzer target for the configuration loader (every program's -c
 * FILE): the bytes as ra.yaml, loaded and checked against the declared keys; an error
 * list or a configuration, never a fault or a leak.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *errors = NULL;
	config_t *cfg;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof path, "/tmp/ra-fuzz-config.%d.yaml", (int)getpid());
	if (!(f = fopen(path, "wb")))
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	cfg = config_load(path, &errors);
	if (cfg) {
		(void)config_str(cfg, "queue.endpoint");
		(void)config_int(cfg, "queue.heartbeat_ms");
		free(config_path(cfg, "queue.db"));
	}
	config_destroy(&cfg);
	free(errors);
	unlink(path);
	return 0;
}
