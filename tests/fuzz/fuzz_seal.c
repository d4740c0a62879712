/*
 * fuzz_seal.c: libFuzzer target for sealed secrets as the workers and the notifier read
 * them: base64 text from a job payload or the ledger (b64_decode), then the sealed box
 * (seal_open: X25519 public key, nonce, AES-GCM ciphertext and tag). A box that is cut
 * short, too long or forged must be refused, never read past. Half the inputs are boxes
 * sealed here to the test key with their bytes flipped, so the decryption path is reached.
 */
#include "b64.h"
#include "seal.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	return key ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	uint8_t *raw = NULL, *msg = NULL, *box = NULL;
	size_t rawlen = 0, msglen = 0, boxlen = 0;

	memcpy(text, data, size);
	text[size] = '\0';
	if (b64_decode(text, &raw, &rawlen) == 0) {
		if (seal_open(key, raw, rawlen, &msg, &msglen) == 0)
			free(msg);
		msg = NULL;
	}
	if (seal_open(key, data, size, &msg, &msglen) == 0)
		free(msg);
	msg = NULL;
	/* a genuine box for this key, its bytes flipped where the input says */
	if (size > 0 && seal_box(key, data, size > 64 ? 64 : size, &box, &boxlen) == 0) {
		for (size_t i = 0; i + 1 < size && i < 16; i += 2)
			box[data[i] % boxlen] ^= data[i + 1];
		if (seal_open(key, box, size > 1 && data[0] & 1 ? boxlen : boxlen - data[0] % (boxlen + 1), &msg, &msglen) == 0)
			free(msg);
		free(box);
	}
	free(raw);
	free(text);
	return 0;
}
