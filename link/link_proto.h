/*
 * The management link: the layout of the shared memory between the management host (virthvd,
 * libhvctl) and dom0 on the machine, and the framing of the messages that cross it.
 *
 * Transport: QEMU's ivshmem-doorbell device. The host is the ivshmem server; it creates the
 * shared memory, initialises it as described here, and hands it with the doorbell eventfds to
 * QEMU. dom0 sees the memory as BAR2 of the ivshmem PCI device and rings the host through the
 * Doorbell register (peer id = header.host_peer_id, vector = channel's vector); the host rings
 * dom0 by writing to dom0's eventfd for that vector (an MSI-X interrupt in dom0).
 *
 * Shared memory layout (all offsets from the start of the shared memory, little endian):
 *
 *   0                     struct hvlink_header (one page): identity, version, states, and the
 *                         channel table
 *   channel[i].ring[d]    struct hvlink_ring_idx (128 bytes: producer line, consumer line)
 *   ...                   ring data areas (power-of-two sizes, 64-byte aligned)
 *
 * Channels. Each channel (control, console, bulk, later block and net) has two rings:
 * ring[HVLINK_DIR_H2G] carries what the host produces (requests, data to the machine) and
 * ring[HVLINK_DIR_G2H] what dom0 produces (responses, events, data from the machine). Each ring
 * has exactly one producer and one consumer; they share no lock.
 *
 * Rings are byte rings of records in the style of the paper's I/O rings (Xen io/ring.h):
 * free-running 32-bit producer and consumer indices (byte counts; slot = index & (size - 1)),
 * and event indices with which a side asks to be notified: the producer notifies after
 * publishing iff the new producer index passed prod_event, the consumer notifies after
 * consuming iff the new consumer index passed cons_event. A side that has nothing to do sets the
 * event index, re-checks, and sleeps on its doorbell: nobody polls while idle.
 *
 * Records. A record is struct hvlink_msg (16 bytes) followed by hdr.len payload bytes, padded
 * to HVLINK_MSG_ALIGN. A record may wrap around the end of the data area. The producer
 * publishes whole records only, so the producer index is always a multiple of HVLINK_MSG_ALIGN.
 *
 * Attaching. The host writes the whole layout, then the magic, then host_state READY, and only
 * then hands the memory to QEMU. dom0 copies the header, checks the copy (layout.h), and then
 * either writes guest_version_*, guest_peer_id and finally guest_state READY, or guest_fault
 * and guest_state REFUSED; in both cases it rings the host on vector 0. The host starts using
 * the rings when it sees READY with its own version_major. A side that stops (fault, close)
 * writes its state and rings the other. A new machine (a new ivshmem client) gets a freshly
 * initialised layout with generation + 1.
 *
 * Trust. Everything the peer writes is checked before it is used for a memory access: an
 * index beyond the other index plus the ring size, an index that moved backwards, a length
 * beyond the ring's max_msg or beyond what was published, a layout that points outside the
 * shared memory: each is a fault (enum hvlink_fault). A side that sees a fault stops using
 * that ring, writes its state FAULT with the code in its header line, and reports it. Each side
 * keeps its own index privately and never reads it back from shared memory.
 *
 * Version rule. version_major changes when the layout or the meaning of an existing field or
 * message changes; a side that reads a different major refuses the link (writes its state
 * REFUSED, fault HVLINK_FAULT_VERSION) and touches no ring. version_minor grows when something
 * is added compatibly (a message type, a channel type, a field in space that was reserved and
 * zero): both sides use what min(host minor, guest minor) defines, unknown channel types are
 * ignored, and an unknown message type is answered with status -HVLINK_ENOSYS.
 *
 * This header is shared by hosted code and by freestanding code (guest-kernel's dom0 agent): it
 * uses only <stdint.h>.
 */
#ifndef HVLINK_LINK_PROTO_H
#define HVLINK_LINK_PROTO_H

#include <stdint.h>

#define HVLINK_MAGIC         "HVLINK\0\0" /* 8 bytes, NULs included */
#define HVLINK_MAGIC_LEN     8
#define HVLINK_VERSION_MAJOR 1
#define HVLINK_VERSION_MINOR 1 /* 1.1: bulk images checked by 64-bit sums (link_ctl.h) */

#define HVLINK_PAGE_SIZE     4096u
#define HVLINK_MAX_CHANNELS  8u
#define HVLINK_MAX_VECTORS   16u /* doorbell vectors per side (ivshmem "vectors=") */
#define HVLINK_MSG_ALIGN     8u
#define HVLINK_RING_MIN_SIZE 256u       /* smallest data area */
#define HVLINK_RING_MAX_SIZE (1u << 30) /* largest: keeps free-running u32 indices unambiguous */
#define HVLINK_CACHELINE     64u

/* Channel types (hvlink_channel_desc.type). 0 marks an unused table entry. */
enum hvlink_channel_type {
	HVLINK_CHAN_NONE = 0,
	HVLINK_CHAN_CONTROL = 1, /* control requests/responses and domain events (link_ctl.h) */
	HVLINK_CHAN_CONSOLE = 2, /* guest console read/write */
	HVLINK_CHAN_BULK = 3,    /* kernel and ramdisk images, streamed */
	HVLINK_CHAN_BLOCK = 4,   /* later: block data the host backs */
	HVLINK_CHAN_NET = 5,     /* later: net data the host backs */
};

/* Directions: index into hvlink_channel_desc.ring[]. */
enum hvlink_dir {
	HVLINK_DIR_H2G = 0, /* host produces, dom0 consumes */
	HVLINK_DIR_G2H = 1, /* dom0 produces, host consumes */
};

/* Link states, written by each side in its own line of the header. */
enum hvlink_state {
	HVLINK_STATE_ABSENT = 0,       /* nothing there yet (memory is zero) */
	HVLINK_STATE_INITIALISING = 1, /* host: writing the layout, do not read it */
	HVLINK_STATE_READY = 2,        /* host: layout valid; guest: attached, serving */
	HVLINK_STATE_CLOSED = 3,       /* orderly close */
	HVLINK_STATE_FAULT = 4,        /* saw a fault; *_fault holds the enum hvlink_fault */
	HVLINK_STATE_REFUSED = 5,      /* version or layout not acceptable; *_fault says why */
};

/* What a side can find wrong with what its peer wrote. Stable numbers: they cross the link. */
enum hvlink_fault {
	HVLINK_FAULT_NONE = 0,
	HVLINK_FAULT_MAGIC = 1,     /* header magic is not HVLINK_MAGIC */
	HVLINK_FAULT_VERSION = 2,   /* version_major differs from ours */
	HVLINK_FAULT_LAYOUT = 3,    /* a size/offset in the header is out of range or overlaps */
	HVLINK_FAULT_PROD = 4,      /* producer index beyond consumer + size, or misaligned */
	HVLINK_FAULT_CONS = 5,      /* consumer index beyond the producer index */
	HVLINK_FAULT_BACKWARDS = 6, /* the peer's index moved backwards */
	HVLINK_FAULT_LENGTH = 7,    /* record length beyond max_msg or beyond published data */
	HVLINK_FAULT_COUNT = 8      /* number of codes (not a code) */
};

/*
 * One ring's description in the channel table (24 bytes). Written by the host at set-up.
 * Constraints checked by both sides (hvlink_layout_check): idx_offset and data_offset are
 * multiples of 64, the index block and the data area lie inside shm_size and after the header
 * page and do not overlap any other ring's; data_size is a power of two in
 * [HVLINK_RING_MIN_SIZE, HVLINK_RING_MAX_SIZE]; max_msg <= data_size / 2 - 16 (so that
 * a full message always fits once the ring drains).
 */
struct hvlink_ring_desc {
	uint64_t idx_offset;  /* struct hvlink_ring_idx */
	uint64_t data_offset; /* data area */
	uint32_t data_size;   /* bytes in the data area, a power of two */
	uint32_t max_msg;     /* largest payload (hvlink_msg.len) allowed on this ring */
};

/* One channel (64 bytes). */
struct hvlink_channel_desc {
	uint16_t type;   /* enum hvlink_channel_type; 0 = unused entry */
	uint16_t vector; /* doorbell vector for this channel, both directions, < nr_vectors */
	uint32_t flags;  /* reserved, 0 */
	struct hvlink_ring_desc ring[2]; /* indexed by enum hvlink_dir */
	uint8_t reserved[8];
};

/*
 * The header at offset 0. Lines are split by writer so that no cache line has two writers.
 * The host writes the identity line and the channel table once (state INITIALISING, then
 * READY, magic last); the guest only reads them, after copying the whole header privately.
 */
struct hvlink_header {
	/* Identity line: host-written at set-up, read-only afterwards. */
	char magic[HVLINK_MAGIC_LEN]; /* HVLINK_MAGIC */
	uint16_t version_major;       /* HVLINK_VERSION_MAJOR of the host */
	uint16_t version_minor;       /* HVLINK_VERSION_MINOR of the host */
	uint32_t header_size;         /* sizeof(struct hvlink_header) for this major */
	uint64_t shm_size;            /* bytes of shared memory the layout covers */
	uint32_t generation;          /* bumped each time the host re-initialises the memory */
	uint16_t host_peer_id;        /* ivshmem peer id dom0 rings to notify the host */
	uint16_t nr_vectors;          /* doorbell vectors per side, <= HVLINK_MAX_VECTORS */
	uint32_t nr_channels;         /* used entries at the start of channels[] */
	uint32_t reserved0[7];

	/* Host line: written by the host only. */
	uint32_t host_state; /* enum hvlink_state */
	uint32_t host_fault; /* enum hvlink_fault when host_state is FAULT/REFUSED */
	uint32_t reserved1[14];

	/* Guest line: written by dom0 only. */
	uint32_t guest_state;         /* enum hvlink_state */
	uint32_t guest_fault;         /* enum hvlink_fault when guest_state is FAULT/REFUSED */
	uint16_t guest_version_major; /* what dom0 speaks */
	uint16_t guest_version_minor;
	uint32_t guest_peer_id; /* dom0's ivshmem id (IVPosition), for the host's information */
	uint32_t reserved2[12];

	struct hvlink_channel_desc channels[HVLINK_MAX_CHANNELS];
};

/* One ring's indices (128 bytes): a line the producer writes and a line the consumer writes. */
struct hvlink_ring_idx {
	/* Producer line. */
	uint32_t prod;       /* bytes published, free-running, multiple of HVLINK_MSG_ALIGN */
	uint32_t cons_event; /* producer asks: notify me once cons passes this (it wants space) */
	uint8_t pad0[HVLINK_CACHELINE - 8];
	/* Consumer line. */
	uint32_t cons;       /* bytes consumed, free-running */
	uint32_t prod_event; /* consumer asks: notify me once prod passes this (it wants data) */
	uint8_t pad1[HVLINK_CACHELINE - 8];
};

/* Message kinds (low bits of hvlink_msg.flags). */
#define HVLINK_MSG_REQUEST   0x0u /* expects exactly one response with the same id */
#define HVLINK_MSG_RESPONSE  0x1u /* answers the request with the same id */
#define HVLINK_MSG_EVENT     0x2u /* unsolicited, id 0, no response */
#define HVLINK_MSG_NOREPLY   0x3u /* request that is answered only on failure (bulk data) */
#define HVLINK_MSG_KIND_MASK 0x3u

/*
 * Record header (16 bytes). The channel is implicit: each channel has its own rings.
 * len:    payload bytes that follow (0 allowed); the record occupies
 *         HVLINK_RECORD_SIZE(len) bytes of the ring.
 * type:   the operation, in the namespace of the channel's type (link_ctl.h).
 * flags:  HVLINK_MSG_* kind in the low 2 bits; other bits reserved, 0.
 * id:     chosen by the requester, unique among its outstanding requests, echoed in the
 *         response; 0 for events.
 * status: responses: 0 or a negative HVLINK_E* code; when negative the payload may hold a
 *         NUL-terminated message for a person (at most HVLINK_ERRMSG_MAX bytes). Otherwise 0.
 */
struct hvlink_msg {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t id;
	int32_t status;
};

#define HVLINK_MSG_HDR_SIZE 16u
#define HVLINK_ERRMSG_MAX   256u
#define HVLINK_RECORD_SIZE(len)                                                                    \
	((((uint64_t)(len) + HVLINK_MSG_HDR_SIZE) + (HVLINK_MSG_ALIGN - 1)) &                      \
	 ~(uint64_t)(HVLINK_MSG_ALIGN - 1))

/*
 * Status codes carried in hvlink_msg.status (negated). The numbers are Linux's errno values,
 * which hv's hypercalls also return, so dom0 passes a hypercall's result through unchanged.
 */
#define HVLINK_EPERM      1
#define HVLINK_ENOENT     2
#define HVLINK_ESRCH      3
#define HVLINK_EIO        5
#define HVLINK_E2BIG      7
#define HVLINK_EAGAIN     11
#define HVLINK_ENOMEM     12
#define HVLINK_EACCES     13
#define HVLINK_EFAULT     14
#define HVLINK_EBUSY      16
#define HVLINK_EEXIST     17
#define HVLINK_EINVAL     22
#define HVLINK_EROFS      30
#define HVLINK_ENOSPC     28
#define HVLINK_ERANGE     34
#define HVLINK_ENOSYS     38
#define HVLINK_EPROTO     71
#define HVLINK_EMSGSIZE   90
#define HVLINK_EOPNOTSUPP 95
#define HVLINK_ETIMEDOUT  110

/* Layout checks that cost nothing at run time. */
_Static_assert(sizeof(struct hvlink_ring_desc) == 24, "ring desc size");
_Static_assert(sizeof(struct hvlink_channel_desc) == 64, "channel desc size");
_Static_assert(sizeof(struct hvlink_ring_idx) == 128, "ring idx size");
_Static_assert(sizeof(struct hvlink_msg) == HVLINK_MSG_HDR_SIZE, "msg header size");
_Static_assert(sizeof(struct hvlink_header) == 192 + 64 * HVLINK_MAX_CHANNELS, "header size");
_Static_assert(sizeof(struct hvlink_header) <= HVLINK_PAGE_SIZE, "header fits its page");

#endif
