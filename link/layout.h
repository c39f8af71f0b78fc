/*
 * Setting up and checking the management link's shared-memory layout (link_proto.h).
 *
 * The host lays the memory out once with hvlink_layout_init() and keeps the private copy of the
 * header it gets back: the shared header can be overwritten by the peer, so neither side reads
 * the layout from shared memory again after taking its copy. The guest copies the header,
 * checks the copy with hvlink_header_check(), and attaches to the rings it describes.
 * Freestanding-safe: uses only link_env.h.
 */
#ifndef HVLINK_LAYOUT_H
#define HVLINK_LAYOUT_H

#include "link_env.h"
#include "link_proto.h"
#include "ring.h"

/* What the host wants for one channel. */
struct hvlink_chan_spec {
	uint16_t type;       /* enum hvlink_channel_type */
	uint16_t vector;     /* doorbell vector */
	uint32_t size[2];    /* data bytes per direction (power of two), by enum hvlink_dir */
	uint32_t max_msg[2]; /* 0 = the largest the size allows (size / 2 - 16) */
};

/*
 * Host: zeroes the header page and ring indices of shm (shm_size bytes), writes the header and
 * the channel table for specs[0..n), and finally the magic and host_state READY (so a guest
 * that sees the magic sees a complete layout). *copy receives the header as written.
 * Returns 0, or -HVLINK_EINVAL if the specs are invalid or do not fit in shm_size.
 */
int hvlink_layout_init(void *shm, uint64_t shm_size, const struct hvlink_chan_spec *specs,
                       unsigned n, uint16_t nr_vectors, uint16_t host_peer_id, uint32_t generation,
                       struct hvlink_header *copy);

/*
 * Checks a private copy of a header against the size of the shared memory as we map it.
 * Returns HVLINK_FAULT_NONE, HVLINK_FAULT_MAGIC, HVLINK_FAULT_VERSION (major differs) or
 * HVLINK_FAULT_LAYOUT (anything out of range, misaligned or overlapping).
 */
enum hvlink_fault hvlink_header_check(const struct hvlink_header *copy, uint64_t shm_size);

/* Index of the first channel of type in a checked header, or -1. */
int hvlink_channel_find(const struct hvlink_header *copy, uint16_t type);

/*
 * Attaches to channel chan of a checked header: *tx is the ring this side produces on, *rx the
 * one it consumes (host: tx = H2G, rx = G2H; guest the other way round). 0 or -HVLINK_EINVAL.
 */
int hvlink_channel_attach(void *shm, const struct hvlink_header *copy, unsigned chan, bool host,
                          struct hvlink_ring *tx, struct hvlink_ring *rx);

#endif
