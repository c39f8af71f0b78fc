/*
 * The machine's side of attaching to the management link, for dom0's agent (guest-kernel)
 * and for host tests that play the machine. Freestanding-safe: uses only link_env.h.
 *
 * Use: when the ivshmem device is found (BAR2 mapped, IVPosition read), and again on each
 * doorbell until attached: if hvlink_guest_host_ready(), call hvlink_guest_attach(); in every
 * case where it wrote a state (attached or refused) ring the host on vector 0. Afterwards serve
 * each channel's rx ring and answer on its tx ring; on a ring fault call hvlink_guest_stop()
 * with FAULT and the code, and ring the host. To stop in order (shutdown, reboot) write
 * CLOSED and ring: the host lays the memory out afresh (generation + 1) and rings back; an
 * agent attaches again only once hvlink_guest_host_ready() and the header's generation
 * differs from the one it attached to.
 */
#ifndef HVLINK_GUEST_H
#define HVLINK_GUEST_H

#include "layout.h"
#include "link_env.h"
#include "link_proto.h"
#include "ring.h"

struct hvlink_guest_chan {
	uint16_t type, vector;
	struct hvlink_ring tx; /* guest to host */
	struct hvlink_ring rx; /* host to guest */
};

struct hvlink_guest {
	struct hvlink_header *shared;
	uint64_t shm_size;
	struct hvlink_header hdr; /* private copy, checked */
	unsigned nr_chans;
	struct hvlink_guest_chan chans[HVLINK_MAX_CHANNELS];
};

/* True once the host has written a complete layout (magic present, host_state READY). */
bool hvlink_guest_host_ready(const void *shm);

/*
 * Copies and checks the header, attaches to every channel, and writes our line: versions,
 * peer_id and guest_state READY (returns HVLINK_FAULT_NONE), or guest_fault and guest_state
 * REFUSED (returns the fault: MAGIC, VERSION or LAYOUT). Nothing else is written either way.
 */
enum hvlink_fault hvlink_guest_attach(struct hvlink_guest *g, void *shm, uint64_t shm_size,
                                      uint32_t peer_id);

/* The attached channel of the given type, or NULL. */
struct hvlink_guest_chan *hvlink_guest_chan(struct hvlink_guest *g, uint16_t type);

/* Writes our state (FAULT with a code, or CLOSED). */
void hvlink_guest_stop(struct hvlink_guest *g, enum hvlink_state state, enum hvlink_fault f);

/* The host's current state (enum hvlink_state), as it wrote it. */
uint32_t hvlink_guest_host_state(const struct hvlink_guest *g);

#endif
