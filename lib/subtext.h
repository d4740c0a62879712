/*
 * subtext.h: the words a subscriber reads about online requests, in Traditional Chinese
 * and English, shared by ra-self (the terminal) and ra-web (the pages), so both channels
 * say the same thing. Each is a printf format where it takes arguments.
 */
#ifndef RA_SUBTEXT_H
#define RA_SUBTEXT_H

/* One message in both languages: the subscriber reads one of them. */
struct text {
	const char *zh, *en;
};

extern const struct text T_MISMATCH;
extern const struct text T_UNREACHABLE;
extern const struct text T_PENDING;
extern const struct text T_FAILED;
extern const struct text T_SUSPENDED;
extern const struct text T_CHANGED;
extern const struct text T_ACCOUNT;
extern const struct text T_NO_CERTS;

/* A certificate's usage ("signature", "encryption") in the subscriber's words. */
const char *subtext_usage(int en, const char *usage);
/* A certificate's status ("valid", "held", "revoked"; EXPIRED wins) in the subscriber's words. */
const char *subtext_status(int en, const char *status, int expired);

#endif
