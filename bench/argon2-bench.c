/*
 * argon2-bench.c: the cost of one approval's password hash alone, as the baseline beside
 * bench/e2e.sh's approval rate: COUNT argon2id hashes at the cost ra-worker uses
 * (workers/account.c: T passes, M KiB, one lane, 16-byte salt, 32-byte tag), spread over
 * THREADS threads as the approvals are spread over the workers. The passes and memory
 * are given by the caller, read from the deployment's configuration, so both sides of the
 * ratio pay the same cost.
 *
 *   argon2-bench -t PASSES -m KIB [-n COUNT] [-j THREADS]
 *
 * Prints "COUNT MS ERRORS".
 */
#include <argon2.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct bench {
	uint32_t t, m;
	int n, next, errors;
	pthread_mutex_t lock;
};

static int take(struct bench *b)
{
	int i;

	pthread_mutex_lock(&b->lock);
	i = b->next < b->n ? b->next++ : -1;
	pthread_mutex_unlock(&b->lock);
	return i;
}

static void *run(void *arg)
{
	struct bench *b = arg;
	unsigned char salt[16];
	char password[32], out[128];
	int i;

	while ((i = take(b)) >= 0) {
		snprintf(password, sizeof password, "Bench-password-%d", i);
		if (RAND_bytes(salt, sizeof salt) != 1 ||
		    argon2id_hash_encoded(b->t, b->m, 1, password, strlen(password), salt, sizeof salt,
		    32, out, sizeof out) != ARGON2_OK) {
			pthread_mutex_lock(&b->lock);
			b->errors++;
			pthread_mutex_unlock(&b->lock);
		}
		OPENSSL_cleanse(password, sizeof password);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option help_opt[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	struct bench b = { .n = 100, .lock = PTHREAD_MUTEX_INITIALIZER };
	long threads = 1, t = 0, m = 0;
	pthread_t *tid;
	int64_t t0;
	int c;

	while ((c = getopt_long(argc, argv, "t:m:n:j:h", help_opt, NULL)) != -1) {
		switch (c) {
		case 't': t = strtol(optarg, NULL, 10); break;
		case 'm': m = strtol(optarg, NULL, 10); break;
		case 'n': b.n = atoi(optarg); break;
		case 'j': threads = strtol(optarg, NULL, 10); break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
			    "usage: argon2-bench -t PASSES -m KIB [-n COUNT] [-j THREADS]\n\n"
			    "COUNT argon2id hashes (one lane) on THREADS threads; prints COUNT MS ERRORS.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (t < 1 || m < 8 || b.n < 1 || threads < 1 || threads > 256)
		fatal("argon2-bench: -t PASSES and -m KIB are required (-h for help)");
	b.t = (uint32_t)t;
	b.m = (uint32_t)m;
	tid = xcalloc((size_t)threads, sizeof *tid);
	t0 = mono_ms();
	for (long i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, run, &b) != 0)
			fatal("cannot start a thread");
	for (long i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("%d %lld %d\n", b.n, (long long)(mono_ms() - t0), b.errors);
	free(tid);
	return 0;
}
