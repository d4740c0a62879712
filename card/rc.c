/*
 * rc.c: the tables behind piv_rc: names, operator texts, and the two mappings (status
 * words from the card, LONG results from PC/SC). Kept as tables so that a new code is one
 * line here and a test can check that every code has a text.
 */
#include "rc.h"

#include <PCSC/winscard.h>
#include <stddef.h>

static const struct {
	const char *name;
	const char *text;
} rc_table[PIV_RC_COUNT] = {
	[PIV_OK] = { "PIV_OK", "success" },
	[PIV_E_NO_SERVICE] = { "PIV_E_NO_SERVICE", "the PC/SC service (pcscd) is not running" },
	[PIV_E_NO_READER] = { "PIV_E_NO_READER", "no such card reader" },
	[PIV_E_NO_CARD] = { "PIV_E_NO_CARD", "no card in the reader" },
	[PIV_E_CARD_REMOVED] = { "PIV_E_CARD_REMOVED", "the card was removed" },
	[PIV_E_CARD_RESET] = { "PIV_E_CARD_RESET", "the card was reset by another program" },
	[PIV_E_SHARING] = { "PIV_E_SHARING", "the card is in use by another program" },
	[PIV_E_TIMEOUT] = { "PIV_E_TIMEOUT", "timed out waiting for the reader" },
	[PIV_E_PCSC] = { "PIV_E_PCSC", "card reader error" },
	[PIV_E_COMM] = { "PIV_E_COMM", "malformed answer from the card" },
	[PIV_E_WRONG_PIN] = { "PIV_E_WRONG_PIN", "wrong PIN or PUK" },
	[PIV_E_PIN_BLOCKED] = { "PIV_E_PIN_BLOCKED", "PIN or PUK blocked: no tries left" },
	[PIV_E_SECURITY] = { "PIV_E_SECURITY", "the card needs the PIN or management key first" },
	[PIV_E_AUTH] = { "PIV_E_AUTH", "management key authentication failed" },
	[PIV_E_NOT_FOUND] = { "PIV_E_NOT_FOUND", "not found on the card" },
	[PIV_E_NOT_SUPPORTED] = { "PIV_E_NOT_SUPPORTED", "the card does not support this command or algorithm" },
	[PIV_E_BAD_PARAM] = { "PIV_E_BAD_PARAM", "the card refused the command's data" },
	[PIV_E_WRONG_LENGTH] = { "PIV_E_WRONG_LENGTH", "the card refused the command's length" },
	[PIV_E_CONDITIONS] = { "PIV_E_CONDITIONS", "the card does not allow this in its current state" },
	[PIV_E_CARD_FULL] = { "PIV_E_CARD_FULL", "the card is out of memory" },
	[PIV_E_CARD] = { "PIV_E_CARD", "the card returned an error" },
	[PIV_E_ARG] = { "PIV_E_ARG", "invalid argument" },
	[PIV_E_CRYPTO] = { "PIV_E_CRYPTO", "host cryptography failed" },
	[PIV_E_ISSUE] = { "PIV_E_ISSUE", "certificate issuance failed" },
	[PIV_E_VERIFY] = { "PIV_E_VERIFY", "the card's contents did not verify" },
	[PIV_E_FOREIGN] = { "PIV_E_FOREIGN", "the card accepts neither our management key nor the factory one" },
};

const char *piv_strerror(piv_rc rc)
{
	if ((unsigned)rc >= PIV_RC_COUNT || !rc_table[rc].text)
		return "unknown error";
	return rc_table[rc].text;
}

const char *piv_rc_name(piv_rc rc)
{
	if ((unsigned)rc >= PIV_RC_COUNT || !rc_table[rc].name)
		return "PIV_E_UNKNOWN";
	return rc_table[rc].name;
}

int piv_sw_tries(uint16_t sw)
{
	if ((sw & 0xFFF0) == 0x63C0)
		return sw & 0x0F;
	return -1;
}

piv_rc piv_rc_from_sw(uint16_t sw)
{
	static const struct {
		uint16_t sw;
		piv_rc rc;
	} map[] = {
		{ 0x9000, PIV_OK },
		{ 0x63C0, PIV_E_PIN_BLOCKED },
		{ 0x6983, PIV_E_PIN_BLOCKED },
		{ 0x6982, PIV_E_SECURITY },
		{ 0x6984, PIV_E_CONDITIONS },
		{ 0x6985, PIV_E_CONDITIONS },
		{ 0x6A82, PIV_E_NOT_FOUND },
		{ 0x6A81, PIV_E_NOT_SUPPORTED },
		{ 0x6D00, PIV_E_NOT_SUPPORTED },
		{ 0x6E00, PIV_E_NOT_SUPPORTED },
		{ 0x6A80, PIV_E_BAD_PARAM },
		{ 0x6A86, PIV_E_BAD_PARAM },
		{ 0x6A88, PIV_E_BAD_PARAM },
		{ 0x6B00, PIV_E_BAD_PARAM },
		{ 0x6700, PIV_E_WRONG_LENGTH },
		{ 0x6A84, PIV_E_CARD_FULL },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].sw == sw)
			return map[i].rc;
	if ((sw & 0xFFF0) == 0x63C0)
		return PIV_E_WRONG_PIN;
	return PIV_E_CARD;
}

piv_rc piv_rc_from_pcsc(long scard_rc)
{
	switch (scard_rc) {
	case SCARD_S_SUCCESS:
		return PIV_OK;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
		return PIV_E_NO_SERVICE;
	case SCARD_E_NO_READERS_AVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_READER_UNAVAILABLE:
		return PIV_E_NO_READER;
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_UNPOWERED_CARD:
	case SCARD_W_UNRESPONSIVE_CARD:
		return PIV_E_NO_CARD;
	case SCARD_W_REMOVED_CARD:
		return PIV_E_CARD_REMOVED;
	case SCARD_W_RESET_CARD:
		return PIV_E_CARD_RESET;
	case SCARD_E_SHARING_VIOLATION:
		return PIV_E_SHARING;
	case SCARD_E_TIMEOUT:
		return PIV_E_TIMEOUT;
	case SCARD_E_INVALID_PARAMETER:
	case SCARD_E_INVALID_VALUE:
	case SCARD_E_INSUFFICIENT_BUFFER:
		return PIV_E_ARG;
	default:
		return PIV_E_PCSC;
	}
}
