/*
 * idcheck.h: check digits of the identifiers an applicant writes on a form: the Taiwan
 * national ID (身分證統一編號), the resident certificate numbers given to foreign
 * residents (統一證號: the 2021 format and the older two-letter one) and the unified
 * business number of an organization (統一編號).
 *
 * The functions take the text exactly as it should be stored: upper-case, no spaces.
 * Normalising what a clerk typed is lib/form's job, so that one rule decides validity
 * wherever an ID is checked. Each returns 0 if valid, else -1 and an English reason (a
 * static string); idcheck_reason_zh() gives the same reason in Traditional Chinese.
 */
#ifndef RA_IDCHECK_H
#define RA_IDCHECK_H

enum idcheck_kind {
	IDCHECK_NATIONAL = 1,		/* letter + 1|2 + 8 digits */
	IDCHECK_RESIDENT_NEW = 2,	/* letter + 8|9 + 8 digits (issued from 2021) */
	IDCHECK_RESIDENT_OLD = 3,	/* letter + A..D + 8 digits */
};

/* A citizen's national ID: letter, 1 or 2, 8 digits, check digit. 0 or -1 with *reason. */
int idcheck_national_id(const char *id, const char **reason);
/* A new-format resident certificate number (second char 8 or 9). 0 or -1 with *reason. */
int idcheck_resident_new(const char *id, const char **reason);
/* An old-format resident certificate number (second char A-D). 0 or -1 with *reason. */
int idcheck_resident_old(const char *id, const char **reason);
/*
 * Any personal ID the RA accepts (the three above). 0 and *kind (may be NULL) set, or -1
 * with *reason naming what is wrong for the format the second character announces.
 */
int idcheck_person(const char *id, enum idcheck_kind *kind, const char **reason);
/* A unified business number: 8 digits, the weighted digit sum divisible by 5. 0 or -1. */
int idcheck_ubn(const char *ubn, const char **reason);

/* A website account id: "u" and 8 digits. 0 or -1 (ra-self, ra-web: said before a password is asked). */
int idcheck_account(const char *account);

/* The Traditional Chinese text of a reason returned above (the English one if unknown). */
const char *idcheck_reason_zh(const char *reason);

#endif
