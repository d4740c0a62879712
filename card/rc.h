/*
 * rc.h: the card station's one error code.
 *
 * Every layer of the card driver (APDU transfer, PC/SC, PIV commands, personalization)
 * returns a piv_rc, so a caller tells "wrong PIN" from "card removed" from "reader gone"
 * without knowing which layer found it. Status words and PC/SC errors are mapped here and
 * nowhere else; piv_strerror() gives the operator's English text for each code.
 */
#ifndef CS_RC_H
#define CS_RC_H

#include <stdint.h>

typedef enum piv_rc {
	PIV_OK = 0,
	/* PC/SC and transport */
	PIV_E_NO_SERVICE,	/* pcscd is not running */
	PIV_E_NO_READER,	/* no such reader, or no readers at all */
	PIV_E_NO_CARD,		/* the reader is empty */
	PIV_E_CARD_REMOVED,	/* the card left during the operation */
	PIV_E_CARD_RESET,	/* someone else reset the card: state is lost */
	PIV_E_SHARING,		/* another program holds the card */
	PIV_E_TIMEOUT,
	PIV_E_PCSC,		/* any other PC/SC failure */
	PIV_E_COMM,		/* malformed or truncated response from the card */
	/* card answers */
	PIV_E_WRONG_PIN,	/* 63 Cx: wrong PIN or PUK, tries left */
	PIV_E_PIN_BLOCKED,	/* 69 83 / 63 C0: no tries left */
	PIV_E_SECURITY,		/* 69 82: PIN or management key needed first */
	PIV_E_AUTH,		/* management key authentication failed */
	PIV_E_NOT_FOUND,	/* 6A 82: object or applet absent */
	PIV_E_NOT_SUPPORTED,	/* 6D 00, 6E 00, 6A 81: command or algorithm unknown */
	PIV_E_BAD_PARAM,	/* 6A 80, 6A 86, 6B 00, 6A 88: the card refused the data */
	PIV_E_WRONG_LENGTH,	/* 67 00 */
	PIV_E_CONDITIONS,	/* 69 85, 69 84: not allowed in this state */
	PIV_E_CARD_FULL,	/* 6A 84 */
	PIV_E_CARD,		/* any other status word */
	/* host side */
	PIV_E_ARG,		/* bad input from our caller (PIN format, slot, length) */
	PIV_E_CRYPTO,		/* host cryptography failed */
	PIV_E_ISSUE,		/* the issuer callback refused or failed */
	PIV_E_VERIFY,		/* a read-back or self-check did not match */
	PIV_E_FOREIGN,		/* the card answers to neither our nor the factory key */
	PIV_RC_COUNT
} piv_rc;

/* Operator text for RC; never NULL. */
const char *piv_strerror(piv_rc rc);
/* Short stable name ("PIV_E_WRONG_PIN") for logs and tests; never NULL. */
const char *piv_rc_name(piv_rc rc);
/* Map a status word (SW1 << 8 | SW2) to a code; 90 00 gives PIV_OK. */
piv_rc piv_rc_from_sw(uint16_t sw);
/* Tries left carried by a 63 Cx status word, or -1 if SW is not one. */
int piv_sw_tries(uint16_t sw);
/* Map a PC/SC LONG result (SCARD_*) to a code; SCARD_S_SUCCESS gives PIV_OK. */
piv_rc piv_rc_from_pcsc(long scard_rc);

#endif
