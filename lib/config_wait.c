/*
 * config_wait.c: how long a worker waits on the other programs within one job, and the
 * rule that a job's lease covers it.
 *
 * A worker asks ca-signer and ra-cardkey with net_call (Lazy Pirate): a few tries on a
 * fresh socket each, never longer in all than worker.signer_timeout_ms or
 * worker.cardkey_timeout_ms (config_call_plan). A busy worker does not heartbeat; its
 * lease (queue.lease_ms) is all that keeps another worker from taking the job over. A
 * lease shorter than what a healthy worker may wait within one job hands the job of a
 * worker that is only waiting on a slow signer to another one, which repeats the calls
 * and makes the first one's work roll back. The longest wait, from the workers' code:
 * a card renewal (workers/job_card.c) asks ra-cardkey once for the card's proof, then
 * ca-signer for two signatures (issue_pair.c) and, when the card's challenge was used
 * meanwhile, for two withdrawals; an issue job (job_issue.c) the same without the card;
 * a revocation asks for two status changes and a CRL. Hence one ra-cardkey call and four
 * ca-signer calls, each as long as its timeout, and the loader refuses a shorter lease.
 * The bulk revocation (ra-ctl revoke) asks once per serial and is cut into jobs for that.
 */
#include "config.h"
#include "util.h"

#include <stdio.h>

/* The most ca-signer and ra-cardkey calls one job makes (see above). */
#define JOB_SIGNER_CALLS 4
#define JOB_CARDKEY_CALLS 1

void config_call_plan(long long timeout_ms, int *tries, int *per_try_ms)
{
	/* Three tries from 3 s on, fewer below, so that no try is shorter than a second
	 * unless the whole timeout is. */
	*tries = timeout_ms >= 3000 ? 3 : timeout_ms >= 2000 ? 2 : 1;
	*per_try_ms = (int)(timeout_ms / *tries);
}

/* A call's tries end to end never exceed its timeout (config_call_plan), so the timeouts
 * themselves bound the wait. */
long long config_job_wait_ms(const config_t *cfg)
{
	return JOB_SIGNER_CALLS * config_int(cfg, "worker.signer_timeout_ms") +
	    JOB_CARDKEY_CALLS * config_int(cfg, "worker.cardkey_timeout_ms");
}

char *config_check_lease(const config_t *cfg)
{
	long long lease = config_int(cfg, "queue.lease_ms"), wait = config_job_wait_ms(cfg);

	if (lease >= wait)
		return NULL;
	return xasprintf("%s: queue.lease_ms (%lld) is shorter than a worker may wait within one job:"
	    " %d x worker.signer_timeout_ms (%lld) + %d x worker.cardkey_timeout_ms (%lld) = %lld ms"
	    " (a card renewal: the card's proof, two signatures, two withdrawals); raise queue.lease_ms"
	    " or lower the timeouts\n", config_file(cfg), lease, JOB_SIGNER_CALLS,
	    config_int(cfg, "worker.signer_timeout_ms"), JOB_CARDKEY_CALLS,
	    config_int(cfg, "worker.cardkey_timeout_ms"), wait);
}
