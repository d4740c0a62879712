/*
 * handlers.c: which function runs which job kind. A kind listed in lib/jobs.c but not
 * here fails at once with a clear error instead of looping through retries.
 */
#include "worker.h"

const struct job_handler job_handlers[] = {
	{ "form_key", NULL, job_form_key_apply },
	{ "form_verify", NULL, job_form_verify_apply },
	{ "form_approve", job_form_approve_prepare, job_form_approve_apply },
	{ "issue", job_issue_prepare, job_issue_apply },
	{ "order_claim", NULL, job_order_claim_apply },
	{ "card_done", NULL, job_card_done_apply },
	{ "card_fail", job_card_fail_prepare, job_card_fail_apply },
	{ "card_challenge", job_account_prepare, job_card_challenge_apply },
	{ "card_unlock", NULL, job_card_unlock_apply },
	{ "card_renew", job_card_renew_prepare, job_card_renew_apply },
	{ "revoke", job_revoke_prepare, job_revoke_apply },
	{ "suspend", job_suspend_prepare, job_suspend_apply },
	{ "login", job_account_prepare, job_login_apply },
	{ "password_change", job_account_prepare, job_password_change_apply },
	{ "renew", job_account_prepare, job_renew_apply },
	{ "counter_renew", NULL, job_counter_renew_apply },
	{ "officer_add", NULL, job_officer_add_apply },
	{ "officer_disable", NULL, job_officer_disable_apply },
};
const int job_nhandlers = (int)(sizeof job_handlers / sizeof job_handlers[0]);
