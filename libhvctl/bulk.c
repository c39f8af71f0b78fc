/*
 * Kernel and ramdisk images on the link's bulk channel: BEGIN, DATA pieces as large as the
 * ring allows, END_SUM (or END) with the image's check. BEGIN and DATA are not answered (NOREPLY),
 * so an image is streamed at the speed of the ring and costs one round trip, for END, whose status
 * is the whole transfer's. The check is computed piece by piece after each piece is sent, so
 * it overlaps the machine's copy instead of delaying END: the 64-bit sums of bulk_sum.h
 * (END_SUM, link protocol 1.1). A 1.0 agent answers END_SUM with ENOSYS; the image is then sent
 * again with END's CRC-32 (costs one more transfer with an old agent, instead of a HELLO round
 * trip before every image with every agent). One upload at a time per handle
 * (core_bulk_begin/end).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk_crc32.h"
#include "bulk_sum.h"
#include "internal.h"

#define BULK_PIECE_MAX (1u << 20)

static struct hvlink_crc32_tables crc_tab; /* bulk_crc32.h */
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_tables_init(void)
{
	hvlink_crc32_init(&crc_tab);
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	return hvlink_crc32_update(&crc_tab, crc, p, len);
}

uint32_t bulk_crc32(const void *data, size_t len)
{
	pthread_once(&crc_once, crc_tables_init);
	return crc32_update(0xffffffffu, data, len) ^ 0xffffffffu;
}

/*
 * One attempt: BEGIN, DATA pieces, then END_SUM (use_sum) or END. *end_refused says the agent
 * did not know END_SUM (a 1.0 agent), so the caller may send the image again with the CRC.
 */
static int upload_once(hvctl *h, uint32_t kind, const void *data, size_t len, uint8_t *msg,
                       uint32_t piece, int use_sum, uint32_t *xfer, int *end_refused,
                       hvctl_error *err)
{
	struct hvlink_bulk_begin begin;
	struct hvlink_bulk_end end;
	struct hvlink_bulk_end_sum end_sum;
	struct hvlink_bulk_data dh;
	int64_t timeout = core_timeout_ns(h);
	uint32_t crc = 0xffffffffu;
	struct hvlink_sum64 sum = {0, 0};
	size_t off;
	int rc;

	*end_refused = 0;
	*xfer = core_bulk_begin(h);
	memset(&begin, 0, sizeof(begin));
	begin.xfer = *xfer;
	begin.kind = kind | (use_sum ? HVLINK_BULK_SUM64 : 0);
	begin.total = len;
	/* Each piece may wait for ring space up to the timeout: a deadline on progress. */
	rc = core_send(h, HVLINK_CHAN_BULK, HVLINK_BULK_BEGIN, HVLINK_MSG_NOREPLY, &begin,
	               sizeof(begin), now_ns() + timeout, err);
	for (off = 0; rc == HVCTL_OK && off < len; off += piece) {
		uint32_t n = len - off < piece ? (uint32_t)(len - off) : piece;

		memset(&dh, 0, sizeof(dh));
		dh.xfer = *xfer;
		dh.offset = off;
		memcpy(msg, &dh, sizeof(dh));
		memcpy(msg + sizeof(dh), (const uint8_t *)data + off, n);
		rc = core_send(h, HVLINK_CHAN_BULK, HVLINK_BULK_DATA, HVLINK_MSG_NOREPLY, msg,
		               sizeof(dh) + n, now_ns() + timeout, err);
		/* While the machine copies this piece out of the ring. */
		if (use_sum)
			hvlink_sum64_update(&sum, (const uint8_t *)data + off, n);
		else
			crc = crc32_update(crc, (const uint8_t *)data + off, n);
	}
	if (rc == HVCTL_OK && use_sum) {
		memset(&end_sum, 0, sizeof(end_sum));
		end_sum.xfer = *xfer;
		end_sum.sum_a = sum.a;
		end_sum.sum_b = sum.b;
		rc = core_call(h, HVLINK_CHAN_BULK, HVLINK_BULK_END_SUM, &end_sum, sizeof(end_sum),
		               NULL, 0, NULL, err);
		*end_refused = rc == HVCTL_ERR_UNSUPPORTED;
	} else if (rc == HVCTL_OK) {
		end.xfer = *xfer;
		end.crc32 = crc ^ 0xffffffffu;
		rc = core_call(h, HVLINK_CHAN_BULK, HVLINK_BULK_END, &end, sizeof(end), NULL, 0,
		               NULL, err);
	}
	core_bulk_end(h);
	return rc;
}

int bulk_upload(hvctl *h, uint32_t kind, const void *data, size_t len, uint32_t *xfer,
                hvctl_error *err)
{
	uint32_t max = core_max_payload(h, HVLINK_CHAN_BULK, 1), piece;
	uint8_t *msg;
	int rc, refused;

	if (max <= sizeof(struct hvlink_bulk_data))
		return err_set(err, HVCTL_ERR_UNSUPPORTED, "the machine offers no bulk channel");
	piece = max - sizeof(struct hvlink_bulk_data) < BULK_PIECE_MAX
	            ? max - sizeof(struct hvlink_bulk_data)
	            : BULK_PIECE_MAX;
	msg = malloc(sizeof(struct hvlink_bulk_data) + piece);
	if (!msg)
		return err_set(err, HVCTL_ERR_SYSTEM, "out of memory");
	pthread_once(&crc_once, crc_tables_init);

	/* The 1.1 form first; a 1.0 agent refuses END_SUM (ENOSYS): then again, with the CRC. */
	rc = upload_once(h, kind, data, len, msg, piece, 1, xfer, &refused, err);
	if (rc != HVCTL_OK && refused)
		rc = upload_once(h, kind, data, len, msg, piece, 0, xfer, &refused, err);
	free(msg);
	if (rc != HVCTL_OK && err) {
		char m[sizeof(err->message)];

		memcpy(m, err->message, sizeof(m));
		snprintf(err->message, sizeof(err->message), "sending the %s image (%zu bytes): %s",
		         kind == HVLINK_BULK_KERNEL ? "kernel" : "ramdisk", len, m);
	}
	return rc;
}
