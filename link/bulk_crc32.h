/*
 * The CRC-32 (IEEE 802.3, as zlib's crc32) of an image sent with link protocol 1.0's
 * HVLINK_BULK_END (link_ctl.h), computed piece by piece by the host as it sends and by dom0 as
 * it receives. Slice-by-8: eight tables, one 64-bit load per 8 bytes, about six times the
 * byte-at-a-time loop (under emulation this loop, not the copy, limits a transfer).
 *
 * The running value is kept without the final inversion: start at 0xffffffff, pass the result
 * of each update to the next, invert at the end. The caller owns the tables (fill them once).
 * Shared by hosted and freestanding code: header-only, <stdint.h> and <stddef.h> only; x86
 * (little endian) on both sides, so 8 bytes are a plain 64-bit load.
 */
#ifndef HVLINK_BULK_CRC32_H
#define HVLINK_BULK_CRC32_H

#include <stddef.h>
#include <stdint.h>

struct hvlink_crc32_tables {
	uint32_t t[8][256];
};

static inline void hvlink_crc32_init(struct hvlink_crc32_tables *tab)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		tab->t[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int s = 1; s < 8; s++)
			tab->t[s][n] = tab->t[0][tab->t[s - 1][n] & 0xff] ^ (tab->t[s - 1][n] >> 8);
}

static inline uint32_t hvlink_crc32_update(const struct hvlink_crc32_tables *tab, uint32_t crc,
                                           const void *data, size_t len)
{
	const uint32_t(*t)[256] = tab->t;
	const uint8_t *p = data;

	while (len && ((uintptr_t)p & 7)) {
		crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v =
		    *(const uint64_t *)(const void *)p ^ crc; /* p is 8-byte aligned here */

		crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^
		      t[4][(v >> 24) & 0xff] ^ t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^
		      t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
	}
	while (len--)
		crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#endif
