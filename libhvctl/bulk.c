/*
 * Kernel and ramdisk images on the link's bulk channel: BEGIN, DATA pieces as large as the
 * ring allows, END with the image's CRC-32. BEGIN and DATA are not answered (NOREPLY), so an
 * image is streamed at the speed of the ring and costs one round trip, for END, whose status
 * is the whole transfer's. One upload at a time per handle (core_bulk_begin/end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BULK_PIECE_MAX (1u << 20)

uint32_t bulk_crc32(const void *data, size_t len)
{
	static uint32_t table[256];
	static int ready;
	const uint8_t *p = data;
	uint32_t crc = 0xffffffffu;
	size_t i;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		uint32_t n, k, c;

		/* Idempotent: racing threads compute the same table. */
		for (n = 0; n < 256; n++) {
			c = n;
			for (k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			__atomic_store_n(&table[n], c, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

int bulk_upload(hvctl *h, uint32_t kind, const void *data, size_t len, uint32_t *xfer,
                hvctl_error *err)
{
	uint32_t max = core_max_payload(h, HVLINK_CHAN_BULK, 1), piece;
	struct hvlink_bulk_begin begin;
	struct hvlink_bulk_end end;
	struct hvlink_bulk_data dh;
	int64_t timeout = core_timeout_ns(h);
	uint8_t *msg;
	size_t off;
	int rc;

	if (max <= sizeof(dh))
		return err_set(err, HVCTL_ERR_UNSUPPORTED, "the machine offers no bulk channel");
	piece = max - sizeof(dh) < BULK_PIECE_MAX ? max - sizeof(dh) : BULK_PIECE_MAX;
	msg = malloc(sizeof(dh) + piece);
	if (!msg)
		return err_set(err, HVCTL_ERR_SYSTEM, "out of memory");

	*xfer = core_bulk_begin(h);
	memset(&begin, 0, sizeof(begin));
	begin.xfer = *xfer;
	begin.kind = kind;
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
	}
	if (rc == HVCTL_OK) {
		end.xfer = *xfer;
		end.crc32 = bulk_crc32(data, len);
		rc = core_call(h, HVLINK_CHAN_BULK, HVLINK_BULK_END, &end, sizeof(end), NULL, 0,
		               NULL, err);
	}
	core_bulk_end(h);
	free(msg);
	if (rc != HVCTL_OK && err) {
		char m[sizeof(err->message)];

		memcpy(m, err->message, sizeof(m));
		snprintf(err->message, sizeof(err->message), "sending the %s image (%zu bytes): %s",
		         kind == HVLINK_BULK_KERNEL ? "kernel" : "ramdisk", len, m);
	}
	return rc;
}
