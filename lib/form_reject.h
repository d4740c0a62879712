/*
 * form_reject.h: the reasons a supervisor may give for rejecting a keyed form, one fixed
 * list in English and Traditional Chinese. The counter shows it (ra-intake reject --help)
 * and the back office accepts only its codes, so the applicant's letter always states a
 * reason the RA has worded, with the supervisor's free text beside it.
 */
#ifndef RA_FORM_REJECT_H
#define RA_FORM_REJECT_H

#include <stddef.h>

struct form_reject_reason {
	const char *code;	/* stored and sent: "incomplete", "documents", ... */
	const char *en;
	const char *zh;
	int needs_note;		/* "other" says nothing without the free text */
};

/* The reasons in list order; NULL past the end. */
const struct form_reject_reason *form_reject_reason_at(size_t i);
/* The reason with CODE (case-insensitive, '-' for '_'), or NULL. */
const struct form_reject_reason *form_reject_reason_find(const char *code);
/* Longest free text accepted, in code points. */
#define FORM_REJECT_NOTE_MAX 200

#endif
