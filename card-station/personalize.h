/*
 * personalize.h: the per-card sequences: personalize a blank card, wipe a card back to
 * the factory state.
 *
 * The back office is reached only through the issue callback, so the same sequence runs
 * against the queue (card-station personalize) and against a throw-away CA in tests.
 * Each step is announced through the progress callback by a short fixed name, so a
 * caller can keep one live line per reader.
 */
#ifndef CS_PERSONALIZE_H
#define CS_PERSONALIZE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "derive.h"
#include "piv.h"

/*
 * Turn the two requests (DER) into two certificates (DER, malloc'd; the sequence frees
 * them). Return 0, or -1 with the reason logged. SERIAL is the card's serial.
 */
typedef int (*perso_issue_fn)(void *ctx, uint32_t serial, const uint8_t *sign_csr,
    size_t sign_len, const uint8_t *enc_csr, size_t enc_len, uint8_t **sign_cert,
    size_t *sign_cert_len, uint8_t **enc_cert, size_t *enc_cert_len);

/* Called as each step starts (STEP: "authenticate", "generate 9C", ... "done"). */
typedef void (*perso_progress_fn)(void *ctx, const char *reader, const char *step);

/* The PIN retry limit the subscriber manual promises. */
#define PERSO_PIN_RETRIES 3

struct perso_opts {
	const derive_t *derive;		/* the card master key */
	enum derive_mgm_alg mgm_alg;	/* the card's new management key algorithm */
	const char *pin;		/* the subscriber's PIN (6..8 digits); wiped by the caller */
	const char *common_name;	/* request subject; NULL: "PIV card <serial>" */
	enum piv_alg key_alg;		/* PIV_ALG_RSA2048 (also when 0) or PIV_ALG_ECCP256 */
	int puk_retries;		/* the PUK's retry limit, 1..15 (0: 3) */
	perso_issue_fn issue;
	void *issue_ctx;
	perso_progress_fn progress;	/* may be NULL */
	void *progress_ctx;
};

/*
 * Personalize the blank card P: PIN retry limit PERSO_PIN_RETRIES and PUK limit
 * OPTS->puk_retries, read back (a card that will not take them is refused with its
 * error, or PIV_E_VERIFY when it says yes and does not), derived management key and PUK, keys in 9C and 9D
 * (RSA-2048 unless OPTS->key_alg says P-256), certificates through OPTS->issue, CHUID, CCC, the subscriber PIN, then read back
 * and a signature self-test. *serial (if not NULL) gets the card serial. A card that is
 * not blank is refused with PIV_E_CONDITIONS: wipe it first.
 */
piv_rc perso_run(piv_t *p, const struct perso_opts *opts, uint32_t *serial);

/*
 * Return P to the factory state: check the card answers to its derived management key
 * (or the factory one), spend every PIN and PUK try, then RESET. A card that answers to
 * neither key is PIV_E_FOREIGN unless FORCE. MGM_ALG is the algorithm cards were given.
 */
piv_rc perso_wipe(piv_t *p, const derive_t *d, enum derive_mgm_alg mgm_alg, int force,
    perso_progress_fn progress, void *progress_ctx);

#endif
