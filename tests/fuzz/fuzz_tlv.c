/*
 * fuzz_tlv.c: libFuzzer target for card-station's BER-TLV reader, which parses every
 * data object a card returns (CHUID, certificates, key generation answers, discovery).
 * A card is outside input: no length may lead a read past the buffer.
 */
#include "../../card/tlv.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t tags[] = { 0x53, 0x70, 0x71, 0x7F49, 0x81, 0x82, 0x86, 0x5FC102, 0x30, 0x34 };
	struct tlv t;
	size_t used, off = 0;

	(void)tlv_check_all(data, size);
	while (off < size && tlv_parse(data + off, size - off, &t, &used) == 0 && used > 0) {
		for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
			(void)tlv_find(t.val, t.len, tags[i], &t);
		off += used;
	}
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
		(void)tlv_find(data, size, tags[i], &t);
	return 0;
}
