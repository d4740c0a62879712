/*
 * sheet.h: password and PIN sheets as PDF, laid out like a sealed PIN mailer.
 *
 * One A4 page per sheet, folded in three for a DL window envelope (window 20 mm from the
 * left, 45 mm from the top, as DIN 5008 form B and Taiwanese window envelopes place it):
 *   top third    the cover: return address, the recipient's postal code, address and
 *                name in the window; the account id, sheet serial and reference beside it
 *   middle third the inner part, behind a tear-off perforation: the secret, on a
 *                security tint so it cannot be read through the envelope
 *   bottom third what to do with it, in Traditional Chinese with English below, and the
 *                service's contact details (phone, website, hours).
 * No barcode. The document is drawn in memory; the caller decides whether it is written
 * (a paper batch) or encrypted and mailed, and wipes the bytes afterwards.
 */
#ifndef RA_SHEET_H
#define RA_SHEET_H

#include <stddef.h>

struct sheet_info {
	const char *kind;		/* "password" or "pin" */
	const char *serial;		/* sheet serial, printed on cover and inner part */
	const char *reference;		/* order or form reference */
	const char *reason;		/* registration, resume, reset, personalization */
	const char *name;
	const char *postal_code;
	const char *address;
	const char *account_id;		/* printed on the cover */
	const char *secret;		/* printed on the inner part only */
	long long date;			/* production date (RA clock) */
};

typedef struct sheet_doc sheet_doc_t;

/* A new document in memory using font FAMILY; RETURN_ADDRESS is printed above the window. */
sheet_doc_t *sheet_doc_new(const char *family, const char *return_address);
/* The service's contact line printed at the foot of every page (copied; NULL: none). */
void sheet_doc_set_contact(sheet_doc_t *d, const char *contact);
/* Add one page for INFO. 0, or -1 if a field is missing or cairo failed (logged). */
int sheet_doc_add(sheet_doc_t *d, const struct sheet_info *info);
/* A letter (no secret): the same letterhead and window address, then TITLE and BODY. */
struct sheet_letter {
	const char *name, *postal_code, *address;
	const char *title, *body;
	const char *reference;		/* e.g. the form serial */
	long long date;
};
/* Add one letter page. 0, or -1 if a field is missing or cairo failed (logged). */
int sheet_doc_add_letter(sheet_doc_t *d, const struct sheet_letter *l);

/* Finish the PDF; *pdf gets the bytes (caller wipes and frees). 0/-1. */
int sheet_doc_finish(sheet_doc_t *d, unsigned char **pdf, size_t *len);
/* Free (wiping the buffer). Accepts NULL. */
void sheet_doc_destroy(sheet_doc_t **d);

/*
 * A preview of INFO's page as a PNG file at PATH (DPI dots per inch), drawn like the
 * printed page but with the secret masked: INFO->secret is never read, so a preview can
 * be shown, mailed or kept. CONTACT as sheet_doc_set_contact. 0/-1 (logged).
 */
int sheet_preview_png(const char *family, const char *return_address, const char *contact,
    const struct sheet_info *info, int dpi, const char *path);
/* The same for a letter page (it holds no secret). 0/-1 (logged). */
int sheet_letter_preview_png(const char *family, const char *return_address, const char *contact,
    const struct sheet_letter *l, int dpi, const char *path);

/* The title of a sheet KIND in LANG-less form ("網站密碼單 Website password sheet"). */
const char *sheet_title(const char *kind);

#endif
