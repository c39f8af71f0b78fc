/*
 * Images on the management link's bulk channel, for dom0's agent: BEGIN reserves a buffer (dom0
 * pages mapped contiguously in the I/O window, at most IMAGE_MAX, kept for the next image if
 * large enough), DATA pieces must arrive in order and are copied straight from the ring into
 * it while their CRC-32 is computed, END checks length and CRC. Only END is answered: a failure
 * of BEGIN or DATA (NOREPLY messages) is latched and reported there.
 */
#include <kernel.h>
#include <mm.h>
#include <platform.h>
#include <klib/string.h>

#include "../arch/pv/pv.h"
#include "agent.h"
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

void bulk_request(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	unsigned int kind = m->flags & HVLINK_MSG_KIND_MASK;

	if (m->type == HVLINK_BULK_BEGIN && kind == HVLINK_MSG_NOREPLY &&
	    m->len == sizeof(struct hvlink_bulk_begin)) {
		struct hvlink_bulk_begin b;

		hvlink_ring_copy_payload(&ch->rx, 0, &b, sizeof(b));
		if (agent_image.buf && b.total <= agent_image.pages * PAGE_SIZE && b.total) {
			agent_image.begin_ns = platform->time_ns();
			/* The previous buffer is large enough: keep it (and its mapping). */
			agent_image.got = 0;
			agent_image.complete = false;
			agent_image.xfer = b.xfer;
			agent_image.kind = b.kind;
			agent_image.total = b.total;
			agent_image.crc = 0xffffffffu;
			agent_image.error =
			    b.kind == HVLINK_BULK_KERNEL || b.kind == HVLINK_BULK_RAMDISK
			        ? 0
			        : -HVLINK_EINVAL;
			return;
		}
		image_release();
		agent_image.begin_ns = platform->time_ns();
		agent_image.crc = 0xffffffffu;
		agent_image.xfer = b.xfer;
		agent_image.kind = b.kind;
		agent_image.total = b.total;
		if (b.xfer == 0 || (b.kind != HVLINK_BULK_KERNEL && b.kind != HVLINK_BULK_RAMDISK))
			agent_image.error = -HVLINK_EINVAL;
		else if (b.total > IMAGE_MAX)
			agent_image.error = -HVLINK_E2BIG;
		else
			agent_image.error = image_reserve(b.total);
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
		hvlink_ring_copy_payload(&ch->rx, sizeof(d), agent_image.buf + agent_image.got, n);
		agent_image.crc =
		    crc32_update(agent_image.crc, agent_image.buf + agent_image.got, n);
		agent_image.got += n;
		return;
	}
	if (m->type == HVLINK_BULK_END && kind == HVLINK_MSG_REQUEST &&
	    m->len == sizeof(struct hvlink_bulk_end)) {
		struct hvlink_bulk_end e;

		hvlink_ring_copy_payload(&ch->rx, 0, &e, sizeof(e));
		if (e.xfer == 0 || e.xfer != agent_image.xfer)
			agent_fail(ch, m, HVLINK_ENOENT, "no image transfer %u", e.xfer);
		else if (agent_image.error)
			agent_fail(
			    ch, m, -agent_image.error, "image transfer %u failed: %s", e.xfer,
			    agent_image.error == -HVLINK_E2BIG ? "image larger than 16 MiB"
			    : agent_image.error == -HVLINK_ENOMEM
			        ? "no memory in dom0 for the image"
			    : agent_image.error == -HVLINK_EINVAL ? "bad kind or out-of-order data"
			                                          : "error");
		else if (agent_image.got != agent_image.total)
			agent_fail(ch, m, HVLINK_EIO,
			           "image transfer %u incomplete: %llu of %llu bytes", e.xfer,
			           (unsigned long long)agent_image.got,
			           (unsigned long long)agent_image.total);
		else if ((agent_image.crc ^ 0xffffffffu) != e.crc32)
			agent_fail(ch, m, HVLINK_EIO, "image transfer %u: checksum mismatch",
			           e.xfer);
		else {
			agent_image.complete = true;
			agent_respond(ch, m, 0, NULL, 0);
			printk("agent: image %u: %llu bytes received and checked in %llu us\n",
			       e.xfer, (unsigned long long)agent_image.total,
			       (unsigned long long)(platform->time_ns() - agent_image.begin_ns) /
			           1000);
		}
		return;
	}
	if (kind == HVLINK_MSG_REQUEST || kind == HVLINK_MSG_NOREPLY)
		agent_fail(ch, m,
		           m->type >= HVLINK_BULK_BEGIN && m->type <= HVLINK_BULK_END
		               ? HVLINK_EINVAL
		               : HVLINK_ENOSYS,
		           "malformed or unknown bulk message (type %u, kind %u, %u bytes)",
		           m->type, kind, m->len);
}
