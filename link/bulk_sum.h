/*
 * The check of an image sent with HVLINK_BULK_SUM64 (link protocol 1.1, link_ctl.h): a
 * Fletcher-style pair of 64-bit sums over the image's little-endian 64-bit words, the last word
 * padded with zero bytes:
 *
 *     a = w0 + w1 + ... + w(n-1)            (mod 2^64)
 *     b = n*w0 + (n-1)*w1 + ... + 1*w(n-1)  (mod 2^64), i.e. the sum of a after each word.
 *
 * Why not CRC-32: dom0 checks every image byte under emulation (TCG), where a table CRC costs
 * ~30 instructions per 8 bytes and made an image transfer ten times slower than the copy; these
 * sums cost two additions per 8 bytes. What the check is for: the link is shared memory, not a
 * noisy wire, so it guards against lost, repeated, reordered or overwritten data (a software
 * fault on either side), which a changed word (a) or a moved one (b, position-weighted)
 * reveals; the total length is checked separately.
 *
 * Incremental: every call but the last must cover a multiple of 8 bytes. Shared by hosted and
 * freestanding code: header-only, <stdint.h> and <stddef.h> only; x86 (little endian) on both
 * sides, so a word is a plain 64-bit load.
 */
#ifndef HVLINK_BULK_SUM_H
#define HVLINK_BULK_SUM_H

#include <stddef.h>
#include <stdint.h>

struct hvlink_sum64 {
	uint64_t a, b;
};

typedef uint64_t __attribute__((may_alias, aligned(1))) hvlink_u64_any;

static inline void hvlink_sum64_update(struct hvlink_sum64 *s, const void *data, size_t len)
{
	const hvlink_u64_any *w = data;
	uint64_t a = s->a, b = s->b, last = 0;
	size_t n = len / 8, rest = len % 8, i;

	/* Unrolled: under emulation the loop's own instructions cost as much as the sums. */
	for (; n >= 4; n -= 4, w += 4) {
		a += w[0];
		b += a;
		a += w[1];
		b += a;
		a += w[2];
		b += a;
		a += w[3];
		b += a;
	}
	for (; n; n--, w++) {
		a += *w;
		b += a;
	}
	if (rest) {
		const uint8_t *p = (const uint8_t *)w;

		for (i = 0; i < rest; i++)
			last |= (uint64_t)p[i] << (8 * i);
		a += last;
		b += a;
	}
	s->a = a;
	s->b = b;
}

#endif
