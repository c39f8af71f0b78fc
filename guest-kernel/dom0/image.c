/*
 * Images on the management link's bulk channel, for dom0's agent: BEGIN reserves a buffer (dom0
 * pages mapped contiguously in the I/O window, at most IMAGE_MAX, kept for the next image if
 * large enough), DATA pieces must arrive in order and are copied straight from the ring into
 * it while their check is computed, END checks length and CRC-32 (END_SUM, link protocol 1.1:
 * the 64-bit sums of bulk_sum.h, much cheaper under emulation). Only END is answered: a
 * failure of BEGIN or DATA (NOREPLY messages) is latched and reported there.
 */
#include <kernel.h>
#include <mm.h>
#include <platform.h>
#include <klib/string.h>

#include "../arch/pv/pv.h"
#include "agent.h"
#include "bulk_sum.h"
#include "dom0.h"
#include "link_ctl.h"

struct agent_image agent_image;

void image_release(void)
{
	if (agent_image.buf) {
		dom0_unmap(agent_image.buf, agent_image.pages);
		for (unsigned long i = 0; i < agent_image.pages; i++)
			free_page(agent_image.page_va[i]);
	}
	memset(&agent_image, 0, sizeof(agent_image));
}

static int image_reserve(uint64_t total)
{
	static void *page_va[IMAGE_MAX / PAGE_SIZE];
	static uint64_t mfns[IMAGE_MAX / PAGE_SIZE];
	unsigned long n = (unsigned long)((total + PAGE_SIZE - 1) / PAGE_SIZE);

	if (n == 0)
		n = 1;
	agent_image.page_va = page_va;
	for (agent_image.pages = 0; agent_image.pages < n; agent_image.pages++) {
		void *p = alloc_page();

		if (!p)
			goto nomem;
		page_va[agent_image.pages] = p;
		mfns[agent_image.pages] = pv_virt_to_mfn(p);
	}
	agent_image.buf = dom0_map_frames(mfns, n, false);
	if (agent_image.buf)
		return 0;
nomem:
	for (unsigned long i = 0; i < agent_image.pages; i++)
		free_page(page_va[i]);
	agent_image.pages = 0;
	return -HVLINK_ENOMEM;
}

/*
 * CRC-32 (IEEE 802.3, zlib's), updated piece by piece as data arrives: slice-by-8 (eight
 * tables, one 64-bit load per 8 bytes), because under emulation this loop, not the copy, is
 * what limits an image transfer. crc is the running value without the final inversion.
 */
static uint32_t crc_tab[8][256];

void crc32_init_tables(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int t = 1; t < 8; t++)
			crc_tab[t][n] =
			    crc_tab[0][crc_tab[t - 1][n] & 0xff] ^ (crc_tab[t - 1][n] >> 8);
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint64_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v = *(const uint64_t *)p ^ crc;

		crc = crc_tab[7][v & 0xff] ^ crc_tab[6][(v >> 8) & 0xff] ^
		      crc_tab[5][(v >> 16) & 0xff] ^ crc_tab[4][(v >> 24) & 0xff] ^
		      crc_tab[3][(v >> 32) & 0xff] ^ crc_tab[2][(v >> 40) & 0xff] ^
		      crc_tab[1][(v >> 48) & 0xff] ^ crc_tab[0][v >> 56];
	}
	while (len--)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

/*
 * How the current image is checked (link protocol 1.1): begun with HVLINK_BULK_SUM64, the
 * 64-bit sums of bulk_sum.h instead of the CRC. Words are summed as whole 8-byte words of the
 * image arrive (summed <= got, a multiple of 8); the tail at END. Kept here rather than in
 * struct agent_image because nothing outside this file needs it.
 */
static struct {
	bool use_sum;
	uint64_t summed;
	struct hvlink_sum64 sum;
} image_check;

static void image_begin(const struct hvlink_bulk_begin *b)
{
	uint32_t kind = b->kind & ~HVLINK_BULK_SUM64;
	bool kind_ok = kind == HVLINK_BULK_KERNEL || kind == HVLINK_BULK_RAMDISK;

	image_check.use_sum = (b->kind & HVLINK_BULK_SUM64) != 0;
	image_check.summed = 0;
	image_check.sum.a = image_check.sum.b = 0;
	if (agent_image.buf && b->total <= agent_image.pages * PAGE_SIZE && b->total) {
		agent_image.begin_ns = platform->time_ns();
		/* The previous buffer is large enough: keep it (and its mapping). */
		agent_image.got = 0;
		agent_image.complete = false;
		agent_image.xfer = b->xfer;
		agent_image.kind = kind;
		agent_image.total = b->total;
		agent_image.crc = 0xffffffffu;
		agent_image.error = kind_ok ? 0 : -HVLINK_EINVAL;
		return;
	}
	image_release();
	agent_image.begin_ns = platform->time_ns();
	agent_image.crc = 0xffffffffu;
	agent_image.xfer = b->xfer;
	agent_image.kind = kind;
	agent_image.total = b->total;
	if (b->xfer == 0 || !kind_ok)
		agent_image.error = -HVLINK_EINVAL;
	else if (b->total > IMAGE_MAX)
		agent_image.error = -HVLINK_E2BIG;
	else
		agent_image.error = image_reserve(b->total);
}

/* The bytes [got, got + n) of the image, straight from the ring into the image's buffer. */
/*
 * Copies words 8-byte words from src (the ring) to dst and adds them to the sums, in one pass:
 * under TCG a separate sum over the copy costs as much again as the loads here. Each word is
 * read once, so what is summed is what was stored, whatever the host does to the ring meanwhile.
 */
static void copy_sum_words(uint64_t *dst, const hvlink_u64_any *src, uint64_t words,
                           struct hvlink_sum64 *s)
{
	uint64_t a = s->a, b = s->b, w0, w1, w2, w3, w4, w5, w6, w7;

	/* Eight words a turn: under TCG each turn of the loop is a translated block's exit. */
	for (; words >= 8; words -= 8, src += 8, dst += 8) {
		w0 = src[0];
		w1 = src[1];
		w2 = src[2];
		w3 = src[3];
		w4 = src[4];
		w5 = src[5];
		w6 = src[6];
		w7 = src[7];
		dst[0] = w0;
		dst[1] = w1;
		dst[2] = w2;
		dst[3] = w3;
		dst[4] = w4;
		dst[5] = w5;
		dst[6] = w6;
		dst[7] = w7;
		a += w0;
		b += a;
		a += w1;
		b += a;
		a += w2;
		b += a;
		a += w3;
		b += a;
		a += w4;
		b += a;
		a += w5;
		b += a;
		a += w6;
		b += a;
		a += w7;
		b += a;
	}
	for (; words; words--, src++, dst++) {
		w0 = *src;
		*dst = w0;
		a += w0;
		b += a;
	}
	s->a = a;
	s->b = b;
}

/* The bytes [got, got + n) of the image, straight from the ring into the image's buffer. */
static void image_data(struct hvlink_guest_chan *ch, uint32_t n)
{
	uint8_t *dst = agent_image.buf + agent_image.got;
	const uint8_t *span[2];
	uint32_t len[2], words;
	uint64_t upto;

	if (image_check.use_sum && image_check.summed == agent_image.got &&
	    hvlink_ring_payload_spans(&ch->rx, sizeof(struct hvlink_bulk_data), n, &span[0],
	                              &len[0], &span[1], &len[1]) == 0) {
		/* Whole words copied and summed together; a tail (last piece) copied, summed at
		 * END. */
		for (int i = 0; i < 2; i++) {
			words = len[i] / 8;
			copy_sum_words((uint64_t *)dst, (const hvlink_u64_any *)span[i], words,
			               &image_check.sum);
			memcpy(dst + words * 8, span[i] + words * 8, len[i] % 8);
			dst += len[i];
			/* A span ends on a word only at the ring's end, where the next one goes on.
			 */
			image_check.summed += words * 8;
			if (len[i] % 8 && i == 0 && len[1]) {
				/* Unaligned wrap (cannot happen: records are 8-aligned): sum the
				 * rest later. */
				memcpy(dst, span[1], len[1]);
				break;
			}
		}
		agent_image.got += n;
		return;
	}
	hvlink_ring_copy_payload(&ch->rx, sizeof(struct hvlink_bulk_data), dst, n);
	agent_image.got += n;
	if (!image_check.use_sum) {
		agent_image.crc = crc32_update(agent_image.crc, dst, n);
		return;
	}
	/* Whole words only, while they are still in the cache; the tail waits for END. */
	upto = agent_image.got & ~(uint64_t)7;
	hvlink_sum64_update(&image_check.sum, agent_image.buf + image_check.summed,
	                    upto - image_check.summed);
	image_check.summed = upto;
}

/* END or END_SUM of transfer xfer: matched says whether the image's check came out right. */
static void image_end(struct hvlink_guest_chan *ch, const struct hvlink_msg *m, uint32_t xfer,
                      bool sum_expected)
{
	bool matched = false;

	if (xfer == 0 || xfer != agent_image.xfer) {
		agent_fail(ch, m, HVLINK_ENOENT, "no image transfer %u", xfer);
		return;
	}
	if (agent_image.error) {
		agent_fail(ch, m, -agent_image.error, "image transfer %u failed: %s", xfer,
		           agent_image.error == -HVLINK_E2BIG    ? "image larger than 16 MiB"
		           : agent_image.error == -HVLINK_ENOMEM ? "no memory in dom0 for the image"
		           : agent_image.error == -HVLINK_EINVAL ? "bad kind or out-of-order data"
		                                                 : "error");
		return;
	}
	if (agent_image.got != agent_image.total) {
		agent_fail(ch, m, HVLINK_EIO, "image transfer %u incomplete: %llu of %llu bytes",
		           xfer, (unsigned long long)agent_image.got,
		           (unsigned long long)agent_image.total);
		return;
	}
	if (sum_expected != image_check.use_sum) {
		agent_fail(ch, m, HVLINK_EINVAL,
		           "image transfer %u was begun with %s check but ended with %s", xfer,
		           image_check.use_sum ? "the 64-bit sum" : "the CRC-32",
		           sum_expected ? "the 64-bit sum" : "the CRC-32");
		return;
	}
	if (sum_expected) {
		struct hvlink_bulk_end_sum e;

		hvlink_ring_copy_payload(&ch->rx, 0, &e, sizeof(e));
		hvlink_sum64_update(&image_check.sum, agent_image.buf + image_check.summed,
		                    agent_image.total - image_check.summed);
		image_check.summed = agent_image.total;
		matched = e.sum_a == image_check.sum.a && e.sum_b == image_check.sum.b;
	} else {
		struct hvlink_bulk_end e;

		hvlink_ring_copy_payload(&ch->rx, 0, &e, sizeof(e));
		matched = (agent_image.crc ^ 0xffffffffu) == e.crc32;
	}
	if (!matched) {
		agent_fail(ch, m, HVLINK_EIO, "image transfer %u: checksum mismatch", xfer);
		return;
	}
	agent_image.complete = true;
	agent_respond(ch, m, 0, NULL, 0);
	printk("agent: image %u: %llu bytes received and checked (%s) in %llu us\n", xfer,
	       (unsigned long long)agent_image.total, sum_expected ? "sum64" : "crc32",
	       (unsigned long long)(platform->time_ns() - agent_image.begin_ns) / 1000);
}

void bulk_request(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	unsigned int kind = m->flags & HVLINK_MSG_KIND_MASK;

	if (m->type == HVLINK_BULK_BEGIN && kind == HVLINK_MSG_NOREPLY &&
	    m->len == sizeof(struct hvlink_bulk_begin)) {
		struct hvlink_bulk_begin b;

		hvlink_ring_copy_payload(&ch->rx, 0, &b, sizeof(b));
		image_begin(&b);
		return;
	}
	if (m->type == HVLINK_BULK_DATA && kind == HVLINK_MSG_NOREPLY &&
	    m->len >= sizeof(struct hvlink_bulk_data)) {
		struct hvlink_bulk_data d;
		uint32_t n = m->len - (uint32_t)sizeof(d);

		hvlink_ring_copy_payload(&ch->rx, 0, &d, sizeof(d));
		if (d.xfer != agent_image.xfer || agent_image.xfer == 0 || agent_image.error)
			return; /* not ours, or already failed: END says so */
		if (d.offset != agent_image.got || n > agent_image.total - agent_image.got) {
			agent_image.error = -HVLINK_EINVAL;
			return;
		}
		image_data(ch, n);
		return;
	}
	if (m->type == HVLINK_BULK_END && kind == HVLINK_MSG_REQUEST &&
	    m->len == sizeof(struct hvlink_bulk_end)) {
		uint32_t xfer;

		hvlink_ring_copy_payload(&ch->rx, 0, &xfer, sizeof(xfer));
		image_end(ch, m, xfer, false);
		return;
	}
	if (m->type == HVLINK_BULK_END_SUM && kind == HVLINK_MSG_REQUEST &&
	    m->len == sizeof(struct hvlink_bulk_end_sum)) {
		uint32_t xfer;

		hvlink_ring_copy_payload(&ch->rx, 0, &xfer, sizeof(xfer));
		image_end(ch, m, xfer, true);
		return;
	}
	if (kind == HVLINK_MSG_REQUEST || kind == HVLINK_MSG_NOREPLY)
		agent_fail(ch, m,
		           m->type >= HVLINK_BULK_BEGIN && m->type <= HVLINK_BULK_END_SUM
		               ? HVLINK_EINVAL
		               : HVLINK_ENOSYS,
		           "malformed or unknown bulk message (type %u, kind %u, %u bytes)",
		           m->type, kind, m->len);
}
