/*
 * The block split-driver ring (Xen's blkif ABI, x86-64 layout): requests from a front end
 * (blkfront, in a domU) to its back end (blkback, in dom0) and their responses, in one shared
 * page of io/ring.h (32 slots of 112 bytes after the 64-byte header).
 *
 * A READ or WRITE names up to BLKIF_MAX_SEGMENTS_PER_REQUEST pages of the front end by grant
 * reference; in each page the sectors [first_sect, last_sect] (512-byte units, inclusive, at most
 * 7) take part, and the segments' sectors follow one another on the disk from sector_number.
 * FLUSH_DISKCACHE carries no segment; DISCARD uses the blkif_request_discard view of the slot;
 * INDIRECT (blkif_request_indirect) names pages that themselves hold segment arrays. Every
 * request gets exactly one response with the request's id and a BLKIF_RSP_* status.
 *
 * XenStore nodes the two ends exchange (io-design.md): the back end's sectors, sector-size,
 * info (VDISK_* bits), mode, feature-flush-cache, feature-discard,
 * feature-max-indirect-segments; the front end's ring-ref, event-channel, protocol.
 */
#ifndef __HV_PUBLIC_IO_BLKIF_H__
#define __HV_PUBLIC_IO_BLKIF_H__

#include <stdint.h>

#include "../grant_table.h"
#include "ring.h"

typedef uint16_t blkif_vdev_t;
typedef uint64_t blkif_sector_t;

/* Operations (blkif_request.operation). */
#define BLKIF_OP_READ            0
#define BLKIF_OP_WRITE           1
#define BLKIF_OP_WRITE_BARRIER   2 /* "feature-barrier" */
#define BLKIF_OP_FLUSH_DISKCACHE 3 /* "feature-flush-cache" */
#define BLKIF_OP_RESERVED_1      4
#define BLKIF_OP_DISCARD         5 /* "feature-discard" */
#define BLKIF_OP_INDIRECT        6 /* "feature-max-indirect-segments" */

#define BLKIF_MAX_SEGMENTS_PER_REQUEST       11
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* Sectors in a 4 KiB page: first_sect and last_sect are at most this minus 1. */
#define BLKIF_SECTORS_PER_PAGE 8

struct blkif_request_segment {
	grant_ref_t gref;   /* the page */
	uint8_t first_sect; /* first 512-byte sector of the page that takes part */
	uint8_t last_sect;  /* last one (inclusive) */
};

struct blkif_request {
	uint8_t operation;   /* BLKIF_OP_* */
	uint8_t nr_segments; /* READ/WRITE: 1..BLKIF_MAX_SEGMENTS_PER_REQUEST */
	blkif_vdev_t handle; /* the virtual device (READ/WRITE) */
	uint64_t id;         /* the front end's, echoed in the response */
	blkif_sector_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

/* The same slot seen as a DISCARD. */
struct blkif_request_discard {
	uint8_t operation; /* BLKIF_OP_DISCARD */
	uint8_t flag;      /* BLKIF_DISCARD_SECURE or 0 */
	blkif_vdev_t handle;
	uint64_t id;
	blkif_sector_t sector_number;
	uint64_t nr_sectors;
};
#define BLKIF_DISCARD_SECURE (1u << 0)

/* The same slot seen as an INDIRECT request: its segments live in the pages named here. */
struct blkif_request_indirect {
	uint8_t operation;    /* BLKIF_OP_INDIRECT */
	uint8_t indirect_op;  /* BLKIF_OP_READ or BLKIF_OP_WRITE */
	uint16_t nr_segments; /* at most the back end's feature-max-indirect-segments */
	uint64_t id;
	blkif_sector_t sector_number;
	blkif_vdev_t handle;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

struct blkif_response {
	uint64_t id;       /* the request's */
	uint8_t operation; /* the request's */
	int16_t status;    /* BLKIF_RSP_* */
};

#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR      (-1)
#define BLKIF_RSP_OKAY       0

/* Values of the back end's "info" node. */
#define VDISK_CDROM     0x1
#define VDISK_REMOVABLE 0x2
#define VDISK_READONLY  0x4

HV_RING_DEFINE(blkif, struct blkif_request, struct blkif_response);

/* Ring slots in one 4 KiB page. */
#define BLKIF_RING_SIZE HV_RING_SIZE_FOR(blkif, 4096)

/* The x86-64 ABI (Xen's public/io/blkif.h compiled for LP64). */
_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif segment");
_Static_assert(__builtin_offsetof(struct blkif_request, nr_segments) == 1, "blkif nr_segments");
_Static_assert(__builtin_offsetof(struct blkif_request, handle) == 2, "blkif handle");
_Static_assert(__builtin_offsetof(struct blkif_request, id) == 8, "blkif id");
_Static_assert(__builtin_offsetof(struct blkif_request, sector_number) == 16, "blkif sector");
_Static_assert(__builtin_offsetof(struct blkif_request, seg) == 24, "blkif seg");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif request");
_Static_assert(__builtin_offsetof(struct blkif_request_discard, nr_sectors) == 24, "discard");
_Static_assert(sizeof(struct blkif_request_discard) == 32, "blkif discard");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, nr_segments) == 2, "ind nr");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, handle) == 24, "ind handle");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "grefs");
_Static_assert(sizeof(struct blkif_request_indirect) == 64, "blkif indirect");
_Static_assert(__builtin_offsetof(struct blkif_response, operation) == 8, "rsp operation");
_Static_assert(__builtin_offsetof(struct blkif_response, status) == 10, "rsp status");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif response");
_Static_assert(sizeof(union blkif_sring_entry) == 112, "blkif slot");
_Static_assert(BLKIF_RING_SIZE == 32, "blkif ring of one page has 32 slots");

#endif /* __HV_PUBLIC_IO_BLKIF_H__ */
