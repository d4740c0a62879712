/*
 * job_texts.h: the refusals that reach people (counter staff, officers and card operators
 * through ra-intake, ra-ctl and card-station; subscribers through ra-self and ra-web),
 * including ca-signer's and ra-cardkey's refusals as the worker reports them, each with a
 * stable code for scripts and its words in English and Traditional Chinese. The English words are the job's error as before (the
 * ledger's jobs.error, the logs); the Chinese go beside them in the failed job's result
 * ({"error", "code", "error_zh"}), and the programs show them to a zh-TW counter.
 * Both texts of an entry are printf formats taking the same arguments in the same order
 * (tests/unit/test_job_texts.c checks it).
 */
#ifndef RA_JOB_TEXTS_H
#define RA_JOB_TEXTS_H

enum job_text {
	JT_NO_OFFICER,		/* kind */
	JT_OFFICER_REFUSED,	/* kind, why */
	JT_OFFICER_DISABLED,	/* kind, officer */
	JT_OFFICER_ROLE,	/* kind, officer, role, roles needed */
	JT_VERIFY_UNREADABLE,	/* why */
	JT_VERIFY_NO_SERIAL,
	JT_NOT_KEYED_YET,	/* serial */
	JT_VERIFY_SAME_CLERK,	/* serial, officer */
	JT_NOT_AWAITING_VERIFY,	/* serial, state */
	JT_NO_APPLICANT_ID,	/* serial */
	JT_WRONG_APPLICANT_ID,	/* serial, id, account */
	JT_NOT_KEYED,		/* serial */
	JT_APPROVE_KEYER,	/* serial, officer */
	JT_APPROVE_VERIFIER,	/* serial, officer */
	JT_NEEDS_VERIFY,	/* serial */
	JT_ALREADY,		/* serial, state */
	JT_LIVE_REGISTRATION,	/* serial, id number, account */
	JT_NEEDS_SUPERSEDE,	/* serial, account */
	JT_NOT_STORED,		/* serial */
	JT_ALREADY_REGISTERED,	/* serial */
	JT_REJECT_REASON,	/* reason */
	JT_REJECT_NOTE_LONG,	/* max characters */
	JT_REJECT_NEEDS_NOTE,	/* reason */
	JT_REJECT_STATE,	/* serial, state */
	JT_REJECT_KEYER,	/* serial, officer */
	JT_NO_ORDER,		/* order (long long) */
	JT_ORDER_NOT_PERSONALIZED, /* order (long long), state */
	JT_CARD_SET_ASIDE,	/* order (long long) */
	JT_CARD_ALREADY_COUNTER, /* order (long long) */
	JT_CARD_ALREADY_MAILED,	/* order (long long) */
	JT_TRACKING,
	JT_REVOKE_ONLY_RETURNED,
	JT_NOT_MAILED,		/* order (long long) */
	JT_DISPATCH_HOW,	/* how */
	JT_NO_CARD,		/* card serial */
	JT_REVOKE_NO_ACCOUNT,	/* %s */
	JT_REVOKE_NO_REASON,	/* %s */
	JT_REVOKE_EVENT_DATE,	/* %s %s */
	JT_NOTHING_TO_REVOKE,	/* %s */
	JT_SIGNER_REFUSED_REVOKE,	/* %s */
	JT_REVOKE_BAD_REASON,	/* %s */
	JT_REVOKE_NO_SERIALS,	/*  */
	JT_SIGNER_REFUSED_REVOKE_ONE,	/* %s %s */
	JT_RESUME_NO_ACCOUNT,	/* %s */
	JT_RESUME_EXPIRED,	/* %s %s */
	JT_RESUME_REVOKED,	/* %s */
	JT_RESUME_NOT_HELD,	/* %s */
	JT_SIGNER_REFUSED_RELEASE,	/* %s */
	JT_NOT_SEALED,	/* %s */
	JT_SEALED_NUL,	/* %s */
	JT_NO_ACCOUNT,	/* %s */
	JT_FORM_NO_ACCOUNT,	/* %s */
	JT_RESET_NO_ACCOUNT,	/* %s %s */
	JT_SUSPEND_CERTS,	/*  */
	JT_SUSPEND_REASON,	/* %d */
	JT_RENEW_CSRS,	/* %s */
	JT_RENEW_NEEDS_PASSWORD,	/*  */
	JT_COUNTER_RENEW_OFFICER,	/*  */
	JT_OFFICER_BAD_ID,	/* %s */
	JT_OFFICER_BAD_ROLE,	/* %s */
	JT_OFFICER_EXISTS,	/* %s */
	JT_OFFICER_CERT_UNREADABLE,	/*  */
	JT_OFFICER_CERT_NAME,	/* %s %s */
	JT_OFFICER_NOT_RECORDED,	/* %s */
	JT_OFFICER_SELF_DISABLE,	/*  */
	JT_OFFICER_NOT_ENABLED,	/* %s */
	JT_CHANGE_NO_ACCOUNT,	/* %s %s */
	JT_CHANGE_CONTACT,	/* %s %s */
	JT_CERT_NOT_IN_LEDGER,	/* %s */
	JT_ISSUE_FIELD,	/* %s */
	JT_ISSUE_ORDER_STATE,	/* %lld %s */
	JT_ISSUE_OTHER_CARD,	/* %lld %s */
	JT_ISSUE_GIVEN_BACK,	/* %lld %s */
	JT_ISSUE_CHANGED,	/* %lld */
	JT_SEALED_PIN,	/*  */
	JT_CSR_NOT_PEM,	/* %s */
	JT_CSR_SAME_KEY,	/*  */
	JT_CSR_REFUSED,	/* %s %s %s */
	JT_CARD_SERIAL,	/* %s */
	JT_CARD_PURPOSE,	/*  */
	JT_CARD_WITNESS,	/*  */
	JT_CARD_NO_CHALLENGE,	/* %lld %s %s */
	JT_CARD_CHALLENGE_EXPIRED,	/*  */
	JT_CARD_CHALLENGE_USED,	/*  */
	JT_CARD_NOT_REGISTERED,	/*  */
	JT_CARD_RECIPIENT,	/*  */
	JT_CARD_NO_UNLOCK,	/* %lld %s */
	JT_CARD_PUK_VERSION,	/* %lld %lld */
	JT_CARD_UNLOCK_STALE,	/* %s %lld %lld */
	JT_CARD_CERTS_INVALID,	/*  */
	JT_RENEW_EARLY,	/* %s */
	JT_RENEW_EXPIRED,	/* %s */
	JT_ORDER_NO_SUBSCRIBER,	/* %lld */
	JT_CARD_CHALLENGE_USED_REVOKED,	/*  */
	JT_SUBSCRIBER_FIND_BY,	/* %s */
	JT_SIGNER_REFUSED_SUPERSEDE,	/* %s %s */
	JT_SUBSCRIBER_FIND_TEXT,	/* %s */
	JT_SUBSCRIBER_FIND_OFFICER,	/*  */
	JT_SIGNER_REFUSED,	/* %s */
	JT_CARDKEY_NOT_CARD,	/* %s */
	JT_CARDKEY_REFUSED,	/* %s */
	JT_OFFICER_NOT_REGISTERED,	/* %s */
	JT_COUNT
};

struct job_text_entry {
	const char *code, *en, *zh;
};

extern const struct job_text_entry job_texts[JT_COUNT];

#endif
