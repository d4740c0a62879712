/*
 * fuzz_msg.c: libFuzzer target for the wire messages of lib/msg.c as any peer on a
 * ZeroMQ socket may send them: frames (the input split at each newline; the first byte
 * says whether a ROUTER routing frame comes first) checked by msg_decode(), then every
 * body frame read as text, number and JSON object, as the handlers do.
 */
#include "msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zmsg_t *z = zmsg_new();
	const char *why = NULL;
	const uint8_t *p, *end = data + size, *nl;
	int router;
	msg_t *m;

	if (size == 0) {
		zmsg_destroy(&z);
		return 0;
	}
	router = data[0] & 1;
	for (p = data + 1; p <= end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		zmsg_addmem(z, p, (size_t)(nl - p));
	}
	m = msg_decode(&z, router, &why);
	for (int i = 0; m && i < m->nframes; i++) {
		int ok;
		char *s = msg_str(m, i);
		json_t *j = msg_json(m, i);
		(void)msg_i64(m, i, &ok);
		free(s);
		json_decref(j);
	}
	msg_destroy(&m);
	return 0;
}
