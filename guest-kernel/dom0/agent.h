/*
 * The pieces of dom0's control agent that share state: agent.c (the loop, the control channel,
 * responses) and image.c (images on the bulk channel). Internal to guest-kernel/dom0.
 */
#ifndef GK_DOM0_AGENT_H
#define GK_DOM0_AGENT_H

#include <klib/compiler.h>

#include "bulk_sum.h"
#include "guest.h"

#define IMAGE_MAX (16UL << 20) /* hv's build_buffer limit */

/* Responses on ch's tx ring to request req (agent.c). fail carries a message for a person. */
void agent_respond(struct hvlink_guest_chan *ch, const struct hvlink_msg *req, int32_t status,
                   const void *payload, uint32_t len);
void agent_fail(struct hvlink_guest_chan *ch, const struct hvlink_msg *req, int err,
                const char *fmt, ...) __printf(4, 5);

/* An image being received or received (image.c): one slot per kind. */
struct agent_image {
	uint32_t xfer; /* 0: none */
	uint32_t kind;
	uint64_t total, got;
	uint32_t crc;        /* running CRC-32 of the bytes got (not inverted) */
	uint64_t begin_ns;   /* when BEGIN arrived (for the console line at END) */
	int error;           /* latched failure of BEGIN or DATA (negative) */
	bool complete;       /* END checked it */
	uint8_t *buf;        /* contiguous in the I/O window */
	unsigned long pages; /* backing pages (dom0 RAM) */
	void **page_va;      /* their direct-map addresses, to free them */
	/* Begun with HVLINK_BULK_SUM64 (link 1.1): the 64-bit sums instead of the CRC. Whole
	 * 8-byte words are summed as they arrive (summed <= got, a multiple of 8); the tail at END.
	 */
	struct {
		bool use_sum;
		uint64_t summed;
		struct hvlink_sum64 sum;
	} check;
};

#define IMAGE_SLOTS 2 /* [0] the kernel, [1] the ramdisk */
extern struct agent_image agent_images[IMAGE_SLOTS];

/* The completed image of transfer xfer if it is of this kind (HVLINK_BULK_*), else NULL. */
struct agent_image *image_completed(uint32_t xfer, uint32_t kind);
void crc32_init_tables(void);
/* Frees an image's buffer and forgets it; all of them. */
void image_release(struct agent_image *img);
void image_release_all(void);
/* Serves one record of the bulk channel (BEGIN, DATA, END). */
void bulk_request(struct hvlink_guest_chan *ch, const struct hvlink_msg *m);

#endif
