/*
 * The management link's single-producer single-consumer byte ring (see ring.h, link_proto.h).
 *
 * Invariants kept by every function here, whatever the peer writes into shared memory:
 *  - producer: peer_seen <= published <= pvt and pvt - peer_seen <= size (mod 2^32 distances);
 *  - consumer: pvt <= peer_seen and peer_seen - pvt <= size, peer_seen a multiple of 8;
 *  - every access to the data area goes through copy_in/copy_out, which mask the position and
 *    split at the end of the area, and is made only for a length already checked against the
 *    published (consumer) or free (producer) bytes;
 *  - a value from the peer that breaks these is latched as a fault before it is stored
 *    anywhere, so the private state is the last consistent one.
 * Freestanding-safe: only link_env.h (memcpy, memset, compiler atomics).
 */
#include "ring.h"

static int ring_fault(struct hvlink_ring *r, enum hvlink_fault f, uint32_t value, uint32_t ref)
{
	r->fault = f;
	r->fault_value = value;
	r->fault_ref = ref;
	r->have_cur = false;
	return -(HVLINK_RING_FAULT_BASE + (int)f);
}

static int ring_faulted(const struct hvlink_ring *r)
{
	return -(HVLINK_RING_FAULT_BASE + (int)r->fault);
}

static void copy_in(struct hvlink_ring *r, uint32_t pos, const void *src, uint32_t n)
{
	uint32_t off = pos & (r->size - 1);
	uint32_t first = r->size - off < n ? r->size - off : n;

	if (n == 0)
		return;
	link_memcpy(r->data + off, src, first);
	if (n > first)
		link_memcpy(r->data, (const uint8_t *)src + first, n - first);
}

static void copy_out(const struct hvlink_ring *r, uint32_t pos, void *dst, uint32_t n)
{
	uint32_t off = pos & (r->size - 1);
	uint32_t first = r->size - off < n ? r->size - off : n;

	if (n == 0)
		return;
	link_memcpy(dst, r->data + off, first);
	if (n > first)
		link_memcpy((uint8_t *)dst + first, r->data, n - first);
}

void hvlink_ring_idx_init(struct hvlink_ring_idx *idx)
{
	link_memset(idx, 0, sizeof(*idx));
	/* As Xen initialises req_event: the consumer wants to hear of the first record. */
	idx->prod_event = 1;
}

int hvlink_ring_attach(struct hvlink_ring *r, struct hvlink_ring_idx *idx, void *data,
                       uint32_t size, uint32_t max_msg, bool producer)
{
	link_memset(r, 0, sizeof(*r));
	if (size < HVLINK_RING_MIN_SIZE || size > HVLINK_RING_MAX_SIZE || (size & (size - 1)))
		return -HVLINK_EINVAL;
	if (max_msg > size / 2 - HVLINK_MSG_HDR_SIZE)
		return -HVLINK_EINVAL;
	r->idx = idx;
	r->data = data;
	r->size = size;
	r->max_msg = max_msg;
	r->producer = producer;
	/*
	 * Start from the shared indices as they are (0 on a fresh link). A consumer that attaches
	 * to garbage finds out at its first peek, when the producer index is checked against this.
	 */
	r->pvt = link_load_acquire(producer ? &idx->prod : &idx->cons);
	r->published = r->pvt;
	r->peer_seen = r->pvt;
	return 0;
}

/* Producer: accepts a new consumer index if it moved forward within what we published. */
static int refresh_cons(struct hvlink_ring *r)
{
	uint32_t c = link_load_acquire(&r->idx->cons);

	if (c == r->peer_seen)
		return 0;
	if ((uint32_t)(c - r->peer_seen) <= (uint32_t)(r->published - r->peer_seen)) {
		r->peer_seen = c;
		return 0;
	}
	if ((uint32_t)(r->peer_seen - c) <= r->size)
		return ring_fault(r, HVLINK_FAULT_BACKWARDS, c, r->peer_seen);
	return ring_fault(r, HVLINK_FAULT_CONS, c, r->published);
}

/* Consumer: accepts a new producer index if it moved forward, aligned, within one ring. */
static int refresh_prod(struct hvlink_ring *r)
{
	uint32_t p = link_load_acquire(&r->idx->prod);

	if (p == r->peer_seen)
		return 0;
	if ((p & (HVLINK_MSG_ALIGN - 1)) == 0 &&
	    (uint32_t)(p - r->pvt) >= (uint32_t)(r->peer_seen - r->pvt) &&
	    (uint32_t)(p - r->pvt) <= r->size) {
		r->peer_seen = p;
		return 0;
	}
	if ((uint32_t)(r->peer_seen - p) <= r->size)
		return ring_fault(r, HVLINK_FAULT_BACKWARDS, p, r->peer_seen);
	return ring_fault(r, HVLINK_FAULT_PROD, p, r->pvt);
}

int64_t hvlink_ring_space(struct hvlink_ring *r)
{
	int rc;

	if (r->fault)
		return ring_faulted(r);
	if (!r->producer)
		return -HVLINK_EINVAL;
	rc = refresh_cons(r);
	if (rc)
		return rc;
	return r->size - (r->pvt - r->peer_seen);
}

int hvlink_ring_write2(struct hvlink_ring *r, const struct hvlink_msg *hdr, const void *head,
                       uint32_t head_len, const void *data)
{
	struct hvlink_msg h;
	int64_t space;
	uint32_t need;

	if (r->fault)
		return ring_faulted(r);
	if (!r->producer)
		return -HVLINK_EINVAL;
	if (hdr->len > r->max_msg || head_len > hdr->len)
		return -HVLINK_EMSGSIZE;
	need = (uint32_t)HVLINK_RECORD_SIZE(hdr->len);
	space = hvlink_ring_space(r);
	if (space < 0)
		return (int)space;
	if (need > space)
		return -HVLINK_EAGAIN;

	h = *hdr;
	copy_in(r, r->pvt, &h, HVLINK_MSG_HDR_SIZE);
	copy_in(r, r->pvt + HVLINK_MSG_HDR_SIZE, head, head_len);
	copy_in(r, r->pvt + HVLINK_MSG_HDR_SIZE + head_len, data, h.len - head_len);
	r->pvt += need;
	return 0;
}

int hvlink_ring_write(struct hvlink_ring *r, const struct hvlink_msg *hdr, const void *payload)
{
	return hvlink_ring_write2(r, hdr, payload, hdr->len, NULL);
}

int hvlink_ring_publish(struct hvlink_ring *r)
{
	uint32_t old = r->published, ev;

	if (r->fault)
		return ring_faulted(r);
	if (!r->producer)
		return -HVLINK_EINVAL;
	if (r->pvt == old)
		return 0;
	link_store_release(&r->idx->prod, r->pvt);
	r->published = r->pvt;
	link_mb();
	ev = link_load_relaxed(&r->idx->prod_event);
	if ((uint32_t)(r->pvt - ev) < (uint32_t)(r->pvt - old)) {
		r->notifies++;
		return 1;
	}
	r->suppressed++;
	return 0;
}

int hvlink_ring_want_space(struct hvlink_ring *r, uint32_t len)
{
	uint32_t need;
	int64_t space;

	if (r->fault)
		return ring_faulted(r);
	if (!r->producer)
		return -HVLINK_EINVAL;
	if (len > r->max_msg)
		return -HVLINK_EMSGSIZE;
	need = (uint32_t)HVLINK_RECORD_SIZE(len);
	/* Enough room exists once cons reaches pvt + need - size: ask to hear of that point. */
	link_store_release(&r->idx->cons_event, r->pvt + need - r->size);
	link_mb();
	space = hvlink_ring_space(r);
	if (space < 0)
		return (int)space;
	return space >= need;
}

int hvlink_ring_peek(struct hvlink_ring *r, struct hvlink_msg *hdr)
{
	struct hvlink_msg h;
	uint32_t avail;
	int rc;

	if (r->fault)
		return ring_faulted(r);
	if (r->producer)
		return -HVLINK_EINVAL;
	if (r->have_cur) {
		*hdr = r->cur;
		return 1;
	}
	rc = refresh_prod(r);
	if (rc)
		return rc;
	avail = r->peer_seen - r->pvt;
	if (avail == 0)
		return 0;
	if (avail < HVLINK_MSG_HDR_SIZE)
		return ring_fault(r, HVLINK_FAULT_PROD, r->peer_seen, r->pvt);
	/* Copy the header once; only the private copy is checked and used afterwards. */
	copy_out(r, r->pvt, &h, HVLINK_MSG_HDR_SIZE);
	if (h.len > r->max_msg)
		return ring_fault(r, HVLINK_FAULT_LENGTH, h.len, r->max_msg);
	if (HVLINK_RECORD_SIZE(h.len) > avail)
		return ring_fault(r, HVLINK_FAULT_LENGTH, h.len, avail - HVLINK_MSG_HDR_SIZE);
	r->cur = h;
	r->have_cur = true;
	*hdr = h;
	return 1;
}

int hvlink_ring_copy_payload(struct hvlink_ring *r, uint32_t off, void *buf, uint32_t len)
{
	if (r->fault)
		return ring_faulted(r);
	if (!r->have_cur || off > r->cur.len || len > r->cur.len - off)
		return -HVLINK_EINVAL;
	copy_out(r, r->pvt + HVLINK_MSG_HDR_SIZE + off, buf, len);
	return 0;
}

int hvlink_ring_payload_spans(struct hvlink_ring *r, uint32_t off, uint32_t len, const uint8_t **p1,
                              uint32_t *n1, const uint8_t **p2, uint32_t *n2)
{
	uint32_t pos, first;

	if (r->fault)
		return ring_faulted(r);
	if (!r->have_cur || off > r->cur.len || len > r->cur.len - off)
		return -HVLINK_EINVAL;
	pos = (r->pvt + HVLINK_MSG_HDR_SIZE + off) & (r->size - 1);
	first = r->size - pos < len ? r->size - pos : len;
	*p1 = r->data + pos;
	*n1 = first;
	*p2 = r->data;
	*n2 = len - first;
	return 0;
}

int hvlink_ring_consume(struct hvlink_ring *r)
{
	uint32_t old = r->pvt, ev;

	if (r->fault)
		return ring_faulted(r);
	if (!r->have_cur)
		return -HVLINK_EINVAL;
	r->pvt += (uint32_t)HVLINK_RECORD_SIZE(r->cur.len);
	r->have_cur = false;
	link_store_release(&r->idx->cons, r->pvt);
	link_mb();
	ev = link_load_relaxed(&r->idx->cons_event);
	if ((uint32_t)(r->pvt - ev) < (uint32_t)(r->pvt - old)) {
		r->notifies++;
		return 1;
	}
	r->suppressed++;
	return 0;
}

int hvlink_ring_prepare_wait(struct hvlink_ring *r)
{
	int rc;

	if (r->fault)
		return ring_faulted(r);
	if (r->producer)
		return -HVLINK_EINVAL;
	if (r->have_cur)
		return 1;
	link_store_release(&r->idx->prod_event, r->pvt + 1);
	link_mb();
	rc = refresh_prod(r);
	if (rc)
		return rc;
	return r->peer_seen != r->pvt;
}

enum hvlink_fault hvlink_ring_fault(const struct hvlink_ring *r, uint32_t *value, uint32_t *ref)
{
	if (value)
		*value = r->fault_value;
	if (ref)
		*ref = r->fault_ref;
	return r->fault;
}

const char *hvlink_fault_str(enum hvlink_fault f)
{
	switch (f) {
	case HVLINK_FAULT_NONE:
		return "no fault";
	case HVLINK_FAULT_MAGIC:
		return "bad magic in the link header";
	case HVLINK_FAULT_VERSION:
		return "link protocol major version mismatch";
	case HVLINK_FAULT_LAYOUT:
		return "link layout out of range";
	case HVLINK_FAULT_PROD:
		return "producer index out of range";
	case HVLINK_FAULT_CONS:
		return "consumer index out of range";
	case HVLINK_FAULT_BACKWARDS:
		return "ring index moved backwards";
	case HVLINK_FAULT_LENGTH:
		return "message length out of range";
	default:
		return "unknown link fault";
	}
}
