/*
 * Images on the management link's bulk channel, for dom0's agent. One slot per kind (kernel,
 * ramdisk), so a build can name one of each: BEGIN of a kind replaces what that kind's slot
 * held and reserves a buffer (dom0 pages mapped contiguously in the I/O window, at most
 * IMAGE_MAX, kept for the next image of that kind if large enough), DATA pieces of the slot's
 * transfer must arrive in order and are copied straight from the ring into it while their
 * check is computed, END checks length and CRC-32 (END_SUM, link protocol 1.1: the 64-bit
 * sums of bulk_sum.h, much cheaper under emulation). Only END is answered: a failure of BEGIN
 * or DATA (NOREPLY messages) is latched in the slot and reported there. A BEGIN of an unknown
 * kind takes the kernel slot and fails at END, as it did when there was one slot.
 */
#include <kernel.h>
#include <mm.h>
#include <platform.h>
#include <klib/string.h>

#include "../arch/pv/pv.h"
#include "agent.h"
#include "bulk_crc32.h"
#include "bulk_sum.h"
#include "dom0.h"
#include "link_ctl.h"

struct agent_image agent_images[IMAGE_SLOTS];

void image_release(struct agent_image *img)
{
	if (img->buf) {
		dom0_unmap(img->buf, img->pages);
		for (unsigned long i = 0; i < img->pages; i++)
			free_page(img->page_va[i]);
	}
	memset(img, 0, sizeof(*img));
}

void image_release_all(void)
{
	for (unsigned int i = 0; i < IMAGE_SLOTS; i++)
		image_release(&agent_images[i]);
}

struct agent_image *image_completed(uint32_t xfer, uint32_t kind)
{
	for (unsigned int i = 0; i < IMAGE_SLOTS; i++) {
		struct agent_image *img = &agent_images[i];

		if (xfer && img->xfer == xfer && img->complete && img->kind == kind)
			return img;
	}
	return NULL;
}

/* The slot of transfer xfer (0 if none is that transfer's). */
static struct agent_image *image_of_xfer(uint32_t xfer)
{
	for (unsigned int i = 0; i < IMAGE_SLOTS; i++)
		if (xfer && agent_images[i].xfer == xfer)
			return &agent_images[i];
	return NULL;
}

static int image_reserve(struct agent_image *img, uint64_t total)
{
	static void *page_va[IMAGE_SLOTS][IMAGE_MAX / PAGE_SIZE];
	static uint64_t mfns[IMAGE_MAX / PAGE_SIZE];
	unsigned long n = (unsigned long)((total + PAGE_SIZE - 1) / PAGE_SIZE);

	if (n == 0)
		n = 1;
	img->page_va = page_va[img - agent_images];
	for (img->pages = 0; img->pages < n; img->pages++) {
		void *p = alloc_page();

		if (!p)
			goto nomem;
		img->page_va[img->pages] = p;
		mfns[img->pages] = pv_virt_to_mfn(p);
	}
	img->buf = dom0_map_frames(mfns, n, false);
	if (img->buf)
		return 0;
nomem:
	for (unsigned long i = 0; i < img->pages; i++)
		free_page(img->page_va[i]);
	img->pages = 0;
	return -HVLINK_ENOMEM;
}

static struct hvlink_crc32_tables crc_tab; /* bulk_crc32.h */

void crc32_init_tables(void)
{
	hvlink_crc32_init(&crc_tab);
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint64_t len)
{
	return hvlink_crc32_update(&crc_tab, crc, p, len);
}

static void image_begin(const struct hvlink_bulk_begin *b)
{
	uint32_t kind = b->kind & ~HVLINK_BULK_SUM64;
	bool kind_ok = kind == HVLINK_BULK_KERNEL || kind == HVLINK_BULK_RAMDISK;
	struct agent_image *img = &agent_images[kind == HVLINK_BULK_RAMDISK ? 1 : 0];

	if (img->buf && b->total <= img->pages * PAGE_SIZE && b->total) {
		img->begin_ns = platform->time_ns();
		/* The previous buffer is large enough: keep it (and its mapping). */
		img->got = 0;
		img->complete = false;
		img->xfer = b->xfer;
		img->kind = kind;
		img->total = b->total;
		img->crc = 0xffffffffu;
		img->error = kind_ok ? 0 : -HVLINK_EINVAL;
	} else {
		image_release(img);
		img->begin_ns = platform->time_ns();
		img->crc = 0xffffffffu;
		img->xfer = b->xfer;
		img->kind = kind;
		img->total = b->total;
		if (b->xfer == 0 || !kind_ok)
			img->error = -HVLINK_EINVAL;
		else if (b->total > IMAGE_MAX)
			img->error = -HVLINK_E2BIG;
		else
			img->error = image_reserve(img, b->total);
	}
	/* How it is checked (link protocol 1.1): the 64-bit sums of bulk_sum.h, or the CRC. */
	img->check.use_sum = (b->kind & HVLINK_BULK_SUM64) != 0;
	img->check.summed = 0;
	img->check.sum.a = img->check.sum.b = 0;
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
static void image_data(struct agent_image *img, struct hvlink_guest_chan *ch, uint32_t n)
{
	uint8_t *dst = img->buf + img->got;
	const uint8_t *span[2];
	uint32_t len[2], words;
	uint64_t upto;

	if (img->check.use_sum && img->check.summed == img->got &&
	    hvlink_ring_payload_spans(&ch->rx, sizeof(struct hvlink_bulk_data), n, &span[0],
	                              &len[0], &span[1], &len[1]) == 0) {
		/* Whole words copied and summed together; a tail (last piece) copied, summed at
		 * END. */
		for (int i = 0; i < 2; i++) {
			words = len[i] / 8;
			copy_sum_words((uint64_t *)dst, (const hvlink_u64_any *)span[i], words,
			               &img->check.sum);
			memcpy(dst + words * 8, span[i] + words * 8, len[i] % 8);
			dst += len[i];
			/* A span ends on a word only at the ring's end, where the next one goes on.
			 */
			img->check.summed += words * 8;
			if (len[i] % 8 && i == 0 && len[1]) {
				/* Unaligned wrap (cannot happen: records are 8-aligned): sum the
				 * rest later. */
				memcpy(dst, span[1], len[1]);
				break;
			}
		}
		img->got += n;
		return;
	}
	hvlink_ring_copy_payload(&ch->rx, sizeof(struct hvlink_bulk_data), dst, n);
	img->got += n;
	if (!img->check.use_sum) {
		img->crc = crc32_update(img->crc, dst, n);
		return;
	}
	/* Whole words only, while they are still in the cache; the tail waits for END. */
	upto = img->got & ~(uint64_t)7;
	hvlink_sum64_update(&img->check.sum, img->buf + img->check.summed,
	                    upto - img->check.summed);
	img->check.summed = upto;
}

/* END or END_SUM of transfer xfer: matched says whether the image's check came out right. */
static void image_end(struct hvlink_guest_chan *ch, const struct hvlink_msg *m, uint32_t xfer,
                      bool sum_expected)
{
	struct agent_image *img = image_of_xfer(xfer);
	bool matched = false;

	if (!img) {
		agent_fail(ch, m, HVLINK_ENOENT, "no image transfer %u", xfer);
		return;
	}
	if (img->error) {
		agent_fail(ch, m, -img->error, "image transfer %u failed: %s", xfer,
		           img->error == -HVLINK_E2BIG    ? "image larger than 16 MiB"
		           : img->error == -HVLINK_ENOMEM ? "no memory in dom0 for the image"
		           : img->error == -HVLINK_EINVAL ? "bad kind or out-of-order data"
		                                          : "error");
		return;
	}
	if (img->got != img->total) {
		agent_fail(ch, m, HVLINK_EIO, "image transfer %u incomplete: %llu of %llu bytes",
		           xfer, (unsigned long long)img->got, (unsigned long long)img->total);
		return;
	}
	if (sum_expected != img->check.use_sum) {
		agent_fail(ch, m, HVLINK_EINVAL,
		           "image transfer %u was begun with %s check but ended with %s", xfer,
		           img->check.use_sum ? "the 64-bit sum" : "the CRC-32",
		           sum_expected ? "the 64-bit sum" : "the CRC-32");
		return;
	}
	if (sum_expected) {
		struct hvlink_bulk_end_sum e;

		hvlink_ring_copy_payload(&ch->rx, 0, &e, sizeof(e));
		hvlink_sum64_update(&img->check.sum, img->buf + img->check.summed,
		                    img->total - img->check.summed);
		img->check.summed = img->total;
		matched = e.sum_a == img->check.sum.a && e.sum_b == img->check.sum.b;
	} else {
		struct hvlink_bulk_end e;

		hvlink_ring_copy_payload(&ch->rx, 0, &e, sizeof(e));
		matched = (img->crc ^ 0xffffffffu) == e.crc32;
	}
	if (!matched) {
		agent_fail(ch, m, HVLINK_EIO, "image transfer %u: checksum mismatch", xfer);
		return;
	}
	img->complete = true;
	agent_respond(ch, m, 0, NULL, 0);
	printk("agent: image %u: %llu bytes received and checked (%s) in %llu us\n", xfer,
	       (unsigned long long)img->total, sum_expected ? "sum64" : "crc32",
	       (unsigned long long)(platform->time_ns() - img->begin_ns) / 1000);
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
		struct agent_image *img;
		uint32_t n = m->len - (uint32_t)sizeof(d);

		hvlink_ring_copy_payload(&ch->rx, 0, &d, sizeof(d));
		img = image_of_xfer(d.xfer);
		if (!img || img->error)
			return; /* not ours, or already failed: END says so */
		if (d.offset != img->got || n > img->total - img->got) {
			img->error = -HVLINK_EINVAL;
			return;
		}
		image_data(img, ch, n);
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
