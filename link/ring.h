/*
 * One side's view of one management-link ring (see link_proto.h for the shared layout).
 *
 * A struct hvlink_ring is private to its side: it holds our own index (never read back from
 * shared memory, where the peer could change it), the last index of the peer's that we
 * accepted, and a latched fault. Once a ring has faulted every operation returns the fault
 * and touches no shared memory: the state stays what it was before the bad value was seen.
 *
 * Producer side:  hvlink_ring_write() (copies a record, not yet visible), then
 *                 hvlink_ring_publish() (makes everything written visible; says whether to
 *                 ring the peer's doorbell). When write() says -HVLINK_EAGAIN, call
 *                 hvlink_ring_want_space() before sleeping on the doorbell.
 * Consumer side:  hvlink_ring_peek() (validates and copies the next record's header),
 *                 hvlink_ring_copy_payload(), hvlink_ring_consume() (says whether to ring the
 *                 peer). Before sleeping, hvlink_ring_prepare_wait().
 *
 * Functions return 0 or a positive count/flag on success and a negative value on failure:
 * -HVLINK_E* for local conditions (no space, misuse) and -(HVLINK_RING_FAULT_BASE + fault) for a
 * fault of the peer's (hvlink_ring_fault() gives the code and the offending values).
 * Not thread-safe: one thread per side of a ring at a time (callers serialise).
 * Freestanding-safe: uses only link_env.h.
 */
#ifndef HVLINK_RING_H
#define HVLINK_RING_H

#include "link_env.h"
#include "link_proto.h"

#define HVLINK_RING_FAULT_BASE 1000

struct hvlink_ring {
	struct hvlink_ring_idx *idx; /* shared */
	uint8_t *data;               /* shared, size bytes */
	uint32_t size;               /* power of two */
	uint32_t max_msg;            /* largest payload allowed */
	bool producer;               /* which side of the ring we are */

	uint32_t pvt;       /* our index: prod (producer) or cons (consumer), private copy */
	uint32_t published; /* producer: the prod value last made visible */
	uint32_t peer_seen; /* last accepted value of the peer's index */

	/* Consumer: the record returned by the last peek, until consumed. */
	bool have_cur;
	struct hvlink_msg cur;

	/* Latched fault and what was seen, for the report. */
	enum hvlink_fault fault;
	uint32_t fault_value; /* the bad index or length the peer wrote */
	uint32_t fault_ref;   /* what it was checked against (our index, or the limit) */

	/* Counters (for tests and statistics). */
	uint64_t notifies;   /* publish/consume calls that asked the caller to notify */
	uint64_t suppressed; /* publish/consume calls that made progress but needed no notify */
};

/*
 * Attaches to a ring whose shared indices and data area the caller has already checked
 * (hvlink_layout_check). The producer/consumer starts from the current shared indices: both
 * are 0 on a freshly initialised link. Returns 0, or -HVLINK_EINVAL if size is not a power of
 * two or max_msg is too large for it.
 */
int hvlink_ring_attach(struct hvlink_ring *r, struct hvlink_ring_idx *idx, void *data,
                       uint32_t size, uint32_t max_msg, bool producer);

/* Initialises shared indices of a new ring (host, at set-up): everything 0, prod_event 1. */
void hvlink_ring_idx_init(struct hvlink_ring_idx *idx);

/*
 * Producer: appends one record (hdr->len payload bytes from payload). Returns 0;
 * -HVLINK_EMSGSIZE if hdr->len > max_msg; -HVLINK_EAGAIN if the ring has no room now; a fault.
 */
int hvlink_ring_write(struct hvlink_ring *r, const struct hvlink_msg *hdr, const void *payload);
/* As hvlink_ring_write, the payload in two parts: head_len bytes of head, then the remaining
 * hdr->len - head_len bytes of data (a data channel's struct and its block or frame). */
int hvlink_ring_write2(struct hvlink_ring *r, const struct hvlink_msg *hdr, const void *head,
                       uint32_t head_len, const void *data);

/* Producer: free bytes now (refreshing the consumer index), or a fault (< 0). */
int64_t hvlink_ring_space(struct hvlink_ring *r);

/* Producer: makes written records visible. Returns 1 if the peer must be notified, 0 if not. */
int hvlink_ring_publish(struct hvlink_ring *r);

/*
 * Producer, before sleeping after -HVLINK_EAGAIN: asks the consumer to notify once a record
 * of payload len fits. Returns 1 if it fits already (do not sleep), 0 (sleep), or a fault.
 */
int hvlink_ring_want_space(struct hvlink_ring *r, uint32_t len);

/*
 * Consumer: validates the next record and copies its header to *hdr. Returns 1 (a record is
 * there), 0 (ring empty), or a fault. Calling it again before consume returns the same record.
 */
int hvlink_ring_peek(struct hvlink_ring *r, struct hvlink_msg *hdr);

/* Consumer: copies len bytes of the current record's payload from offset off. 0 or -EINVAL. */
int hvlink_ring_copy_payload(struct hvlink_ring *r, uint32_t off, void *buf, uint32_t len);

/*
 * Consumer: where len bytes of the current record's payload from offset off lie in the data
 * area, for a consumer that processes them as it copies them (dom0's image check): n1 bytes at
 * p1, then n2 (0 unless they wrap around the end) at p2. The memory is shared and the peer may
 * scribble on it: read each byte once and use only what was read. 0 or -EINVAL or a fault.
 */
int hvlink_ring_payload_spans(struct hvlink_ring *r, uint32_t off, uint32_t len, const uint8_t **p1,
                              uint32_t *n1, const uint8_t **p2, uint32_t *n2);

/* Consumer: releases the current record. Returns 1 if the peer must be notified, 0 if not. */
int hvlink_ring_consume(struct hvlink_ring *r);

/*
 * Consumer, before sleeping after peek returned 0: asks the producer to notify on the next
 * record. Returns 1 if data arrived meanwhile (do not sleep), 0 (sleep), or a fault.
 */
int hvlink_ring_prepare_wait(struct hvlink_ring *r);

/* The latched fault (HVLINK_FAULT_NONE if none) and the values that caused it. */
enum hvlink_fault hvlink_ring_fault(const struct hvlink_ring *r, uint32_t *value, uint32_t *ref);

/* A short fixed description of a fault code ("producer index out of range", ...). */
const char *hvlink_fault_str(enum hvlink_fault f);

/* True if rc (a return value of the functions above) is a fault of the peer's. */
static inline bool hvlink_is_fault(int64_t rc)
{
	return rc <= -HVLINK_RING_FAULT_BASE;
}

#endif
