/*
 * secret.c: sealing a subscriber's secret for the workers (see secret.h). The public key
 * is read on each call: producers seal one or two secrets per run, and a key file
 * replaced by the operator is picked up at once.
 */
#include "secret.h"
#include "b64.h"
#include "log.h"
#include "seal.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

char *secret_seal_for_workers(const config_t *cfg, const char *clear)
{
	char *path = config_path(cfg, "workers.seal_public_key"), *out = NULL;
	EVP_PKEY *pub = seal_load_public(path);
	uint8_t *box = NULL;
	size_t boxlen = 0;

	if (!pub) {
		log_err("cannot load the workers' sealing key %s", path);
		goto out;
	}
	if (seal_box(pub, (const uint8_t *)clear, strlen(clear), &box, &boxlen) < 0) {
		log_err("cannot seal a secret for the workers");
		goto out;
	}
	out = b64_encode(box, boxlen);
out:
	free(box);
	EVP_PKEY_free(pub);
	free(path);
	return out;
}
