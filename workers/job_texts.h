/*
 * job_texts.h: the refusals that reach counter staff and card operators (through
 * ra-intake, ra-ctl and card-station), each with a stable code for scripts and its words in
 * English and Traditional Chinese. The English words are the job's error as before (the
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
	JT_COUNT
};

struct job_text_entry {
	const char *code, *en, *zh;
};

extern const struct job_text_entry job_texts[JT_COUNT];

#endif
