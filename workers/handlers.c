/*
 * handlers.c: which functions run which job kind. The kinds are listed once, in
 * lib/jobs.h (JOB_KINDS); this file names the prepare and apply function of each, and
 * does not compile if a kind has no handler, has two, or a handler names no kind.
 */
#include "handlers.h"
#include "worker.h"

/* kind, prepare (NULL: none), apply */
#define JOB_HANDLERS(H) \
	H(form_key, NULL, job_form_key_apply) \
	H(form_verify, NULL, job_form_verify_apply) \
	H(form_approve, job_form_approve_prepare, job_form_approve_apply) \
	H(form_reject, NULL, job_form_reject_apply) \
	H(subscriber_find, NULL, job_subscriber_find_apply) \
	H(issue, job_issue_prepare, job_issue_apply) \
	H(order_claim, NULL, job_order_claim_apply) \
	H(card_done, NULL, job_card_done_apply) \
	H(card_fail, job_card_fail_prepare, job_card_fail_apply) \
	H(card_challenge, job_card_challenge_prepare, job_card_challenge_apply) \
	H(card_unlock, job_card_unlock_prepare, job_card_unlock_apply) \
	H(card_puk, NULL, job_card_puk_apply) \
	H(card_renew, job_card_renew_prepare, job_card_renew_apply) \
	H(card_dispatch, job_card_dispatch_prepare, job_card_dispatch_apply) \
	H(revoke, job_revoke_prepare, job_revoke_apply) \
	H(suspend, job_suspend_prepare, job_suspend_apply) \
	H(login, job_account_prepare, job_login_apply) \
	H(password_change, job_account_prepare, job_password_change_apply) \
	H(renew, job_account_prepare, job_renew_apply) \
	H(counter_renew, NULL, job_counter_renew_apply) \
	H(officer_add, NULL, job_officer_add_apply) \
	H(officer_disable, NULL, job_officer_disable_apply)

/* The compile-time check: one enumerator per handled kind (a kind handled twice is a
 * redefinition; a handler whose kind is not in JOB_KINDS names an undeclared JOB_KIND_),
 * then one assertion per kind, which names an undeclared enumerator if it has no handler. */
#define H(kind, prepare, apply) enum { job_handled_##kind = JOB_KIND_##kind + 1 };
JOB_HANDLERS(H)
#undef H
#define X(kind, producers, roles, help) \
	_Static_assert(job_handled_##kind == JOB_KIND_##kind + 1, "job kind " #kind " has no handler");
JOB_KINDS(X)
#undef X

const struct job_handler job_handlers[JOB_KIND_COUNT] = {
#define H(kind, prepare, apply) [JOB_KIND_##kind] = { prepare, apply },
	JOB_HANDLERS(H)
#undef H
};
