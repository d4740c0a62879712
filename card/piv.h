/*
 * piv.h: the PIV card commands (NIST SP 800-73-4 part 2) and the YubiKey extensions the
 * station needs (set management key, serial, version, reset).
 *
 * A piv_t is one connected, selected card. Every function runs inside a PC/SC
 * transaction; wrap a sequence in piv_begin()/piv_end() to keep it atomic (management key
 * authentication, for one, only lasts while no one else talks to the card). PINs, PUKs
 * and keys passed in are copied only into APDU buffers, which are wiped after use.
 */
#ifndef CS_PIV_H
#define CS_PIV_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apdu.h"
#include "pcsc.h"
#include "rc.h"

enum piv_alg {
	PIV_ALG_3DES = 0x03,
	PIV_ALG_RSA1024 = 0x06,
	PIV_ALG_RSA2048 = 0x07,
	PIV_ALG_AES128 = 0x08,
	PIV_ALG_AES192 = 0x0A,
	PIV_ALG_AES256 = 0x0C,
	PIV_ALG_ECCP256 = 0x11,
	PIV_ALG_ECCP384 = 0x14,
};

/* Key references. */
#define PIV_SLOT_AUTH 0x9A
#define PIV_SLOT_SIGN 0x9C
#define PIV_SLOT_KEYMGMT 0x9D
#define PIV_SLOT_CARDAUTH 0x9E
#define PIV_REF_PIN 0x80
#define PIV_REF_PUK 0x81
#define PIV_REF_MGM 0x9B

/* Data object identifiers (BER-TLV tags). */
#define PIV_OBJ_DISCOVERY 0x7E
#define PIV_OBJ_CHUID 0x5FC102
#define PIV_OBJ_CCC 0x5FC107
#define PIV_OBJ_CERT_9A 0x5FC105
#define PIV_OBJ_CERT_9C 0x5FC10A
#define PIV_OBJ_CERT_9D 0x5FC10B
#define PIV_OBJ_CERT_9E 0x5FC101

#define PIV_FACTORY_PIN "123456"
#define PIV_FACTORY_PUK "12345678"
extern const uint8_t PIV_FACTORY_MGM[24];	/* 3DES 0102030405060708 x 3 */

enum piv_card_state {
	PIV_STATE_BLANK,	/* factory management key works, no certificate */
	PIV_STATE_PERSONALIZED,	/* a signature certificate is on the card */
	PIV_STATE_LOCKED,	/* the PIN is blocked */
	PIV_STATE_SET_ASIDE,	/* not factory and no certificate: a personalization stopped */
};
const char *piv_state_name(enum piv_card_state s);

typedef struct piv piv_t;

/* Connect to the card in READER and select the PIV application. */
piv_rc piv_open(pcsc_t *pc, const char *reader, piv_t **out);
/* A card reached through XMIT(CTX) instead of PC/SC (unit tests' scripted cards, other
 * transports): no transactions, no SELECT; NAME is used in logs. */
piv_rc piv_open_xmit(apdu_xmit_fn xmit, void *ctx, const char *name, piv_t **out);
/* Disconnect; accepts NULL and clears the pointer. */
void piv_close(piv_t **p);
/* Call FN(ARG, reader) whenever P's card answers a PIN verification or PIN change with
 * "blocked": 63 C0 (that wrong PIN was the last try) or 69 83 (no try was left). A status
 * query (VERIFY without a PIN) and the PUK do not count. FN NULL: no call. */
typedef void (*piv_pin_blocked_fn)(void *arg, const char *reader);
void piv_on_pin_blocked(piv_t *p, piv_pin_blocked_fn fn, void *arg);
const char *piv_reader(const piv_t *p);
const uint8_t *piv_atr(const piv_t *p, size_t *len);

/* Open / close an outer transaction around several calls. */
piv_rc piv_begin(piv_t *p);
piv_rc piv_end(piv_t *p);

/* SELECT the PIV application. */
piv_rc piv_select(piv_t *p);
/* The card's serial number (YubiKey GET SERIAL). */
piv_rc piv_get_serial(piv_t *p, uint32_t *serial);
/* The applet version, three bytes (YubiKey GET VERSION). */
piv_rc piv_get_version(piv_t *p, uint8_t ver[3]);

/* PIN tries left without spending one; 0 when blocked; -1 if the PIN is already verified. */
piv_rc piv_pin_tries(piv_t *p, int *tries);
/* VERIFY PIN. On PIV_E_WRONG_PIN *tries (if not NULL) gets the tries left. */
piv_rc piv_verify_pin(piv_t *p, const char *pin, int *tries);
/* CHANGE REFERENCE DATA for the PIN or the PUK; *tries as above. */
piv_rc piv_change_pin(piv_t *p, const char *old_pin, const char *new_pin, int *tries);
piv_rc piv_change_puk(piv_t *p, const char *old_puk, const char *new_puk, int *tries);
/* RESET RETRY COUNTER: unblock the PIN with the PUK and set NEW_PIN; *tries = PUK tries. */
piv_rc piv_unblock_pin(piv_t *p, const char *puk, const char *new_pin, int *tries);
/*
 * Set the PIN and PUK retry limits (YubiKey SET PIN RETRIES, 1..15 each; needs the
 * management key and the PIN; the card puts PIN and PUK back to their factory values).
 * PIV_E_NOT_SUPPORTED from a card without the command.
 */
piv_rc piv_set_pin_retries(piv_t *p, int pin_tries, int puk_tries);
/* Forget the PIN verification (VERIFY P1 = FF), so piv_pin_tries reads the counter. */
piv_rc piv_pin_logout(piv_t *p);
/* Retry limit and tries left of REF (PIV_REF_PIN or PIV_REF_PUK) from the YubiKey GET
 * METADATA; PIV_E_NOT_SUPPORTED from a card without it. */
piv_rc piv_pin_metadata(piv_t *p, uint8_t ref, int *max, int *left);
/* 1 if PIN is an acceptable PIN or PUK for the card: 6 to 8 digits. */
int piv_pin_valid(const char *pin);

/* Mutual authentication with the management key (3DES or AES): PIV_E_AUTH if refused. */
piv_rc piv_authenticate(piv_t *p, enum piv_alg alg, const uint8_t *key, size_t len);
/*
 * The two halves of that authentication, for a station that does not hold the key (the
 * back office answers for it). The block size of ALG's cipher (8 for 3DES, 16 for AES),
 * 0 if ALG is no management-key algorithm: */
size_t piv_mgm_block(enum piv_alg alg);
/* Step 1: the card's witness, encrypted under its management key, into WITNESS (one
 * block). Inside the caller's transaction: the card forgets the witness at its end. */
piv_rc piv_mgm_witness(piv_t *p, enum piv_alg alg, uint8_t *witness);
/* Step 2: give the card the decrypted WITNESS and our CHALLENGE (one block each);
 * RESPONSE gets the card's encryption of the challenge. PIV_E_AUTH if the witness is wrong. */
piv_rc piv_mgm_answer(piv_t *p, enum piv_alg alg, const uint8_t *witness, const uint8_t *challenge,
    uint8_t *response);
/* Replace the management key (after piv_authenticate). */
piv_rc piv_set_mgm_key(piv_t *p, enum piv_alg alg, const uint8_t *key, size_t len);

/* Generate a key pair in SLOT (RSA 2048 or P-256); *pub gets the public key. Needs the
 * management key. */
piv_rc piv_generate_key(piv_t *p, uint8_t slot, enum piv_alg alg, EVP_PKEY **pub);
/* Raw private-key operation of SLOT on IN (a padded RSA block, or an EC hash). *out is
 * malloc'd. Needs the PIN. */
piv_rc piv_sign_raw(piv_t *p, uint8_t slot, enum piv_alg alg, const uint8_t *in, size_t inlen,
    uint8_t **out, size_t *outlen);
/* Sign DIGEST (of MD_NID) with SLOT whose public key is PUB: RSA PKCS#1 v1.5 (DigestInfo
 * and padding built here) or ECDSA (DER). *sig is malloc'd. Needs the PIN. */
piv_rc piv_sign_digest(piv_t *p, uint8_t slot, EVP_PKEY *pub, int md_nid, const uint8_t *digest,
    size_t dlen, uint8_t **sig, size_t *siglen);
/* The PIV algorithm of a public key, or 0 if the card cannot hold it. */
enum piv_alg piv_alg_of(EVP_PKEY *pub);

/* GET DATA of object ID; *data is the value inside tag 53, malloc'd. */
piv_rc piv_read_object(piv_t *p, uint32_t id, uint8_t **data, size_t *len);
/* PUT DATA of object ID with DATA wrapped in tag 53 (LEN 0 deletes). Needs the mgm key. */
piv_rc piv_write_object(piv_t *p, uint32_t id, const uint8_t *data, size_t len);
/* Certificate object of a slot, or 0 for an unknown slot. */
uint32_t piv_cert_object(uint8_t slot);
/* Read the certificate of SLOT; PIV_E_NOT_FOUND if none. */
piv_rc piv_read_cert(piv_t *p, uint8_t slot, X509 **cert);
/* Write DER as SLOT's certificate: 70 <cert> 71 01 00 FE 00. */
piv_rc piv_write_cert(piv_t *p, uint8_t slot, const uint8_t *der, size_t len);
/* Write the CHUID: FASC-N (agency 9999, system 9999, credential from SERIAL), GUID,
 * expiry date, empty signature. */
piv_rc piv_write_chuid(piv_t *p, uint32_t serial, const uint8_t guid[16], time_t expiry);
/* Write the Card Capability Container with a 14-byte card identifier. */
piv_rc piv_write_ccc(piv_t *p, const uint8_t card_id[14]);

/* Encode a FASC-N (25 bytes, 5-bit BCD with parity and LRC) from its numeric fields. */
void piv_fascn_encode(unsigned agency, unsigned system, unsigned credential, uint8_t out[25]);

/* Blank, personalized, locked or set aside (see enum). May try the factory mgm key. */
piv_rc piv_classify(piv_t *p, enum piv_card_state *state);
/* Spend every PIN and PUK try, so RESET is allowed. */
piv_rc piv_block_pin_puk(piv_t *p);
/* YubiKey RESET: keys, objects, PIN, PUK and management key back to the factory. */
piv_rc piv_reset(piv_t *p);

#endif
