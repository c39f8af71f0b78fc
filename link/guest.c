/*
 * The machine's side of attaching to the management link (see guest.h). The header is
 * copied once and only the checked copy is used; the shared header is read again only for
 * the host's state word and written only in the guest's own line.
 */
#include "guest.h"

static bool magic_ok(const char *m)
{
	unsigned i;

	for (i = 0; i < HVLINK_MAGIC_LEN; i++)
		if (link_load_relaxed(&m[i]) != HVLINK_MAGIC[i])
			return false;
	return true;
}

bool hvlink_guest_host_ready(const void *shm)
{
	const struct hvlink_header *h = shm;

	/* state first (acquire), then magic: the host writes magic before READY. */
	return link_load_acquire(&h->host_state) == HVLINK_STATE_READY && magic_ok(h->magic);
}

enum hvlink_fault hvlink_guest_attach(struct hvlink_guest *g, void *shm, uint64_t shm_size,
                                      uint32_t peer_id)
{
	struct hvlink_header *shared = shm;
	enum hvlink_fault f;
	unsigned i;

	link_memset(g, 0, sizeof(*g));
	g->shared = shared;
	g->shm_size = shm_size;
	link_memcpy(&g->hdr, shm, sizeof(g->hdr));
	f = hvlink_header_check(&g->hdr, shm_size);
	for (i = 0; f == HVLINK_FAULT_NONE && i < g->hdr.nr_channels; i++) {
		g->chans[i].type = g->hdr.channels[i].type;
		g->chans[i].vector = g->hdr.channels[i].vector;
		if (g->chans[i].type != HVLINK_CHAN_NONE &&
		    hvlink_channel_attach(shm, &g->hdr, i, false, &g->chans[i].tx,
		                          &g->chans[i].rx) != 0)
			f = HVLINK_FAULT_LAYOUT;
	}
	if (f != HVLINK_FAULT_NONE) {
		g->nr_chans = 0;
		hvlink_guest_stop(g, HVLINK_STATE_REFUSED, f);
		return f;
	}
	g->nr_chans = g->hdr.nr_channels;
	link_store_relaxed(&shared->guest_version_major, (uint16_t)HVLINK_VERSION_MAJOR);
	link_store_relaxed(&shared->guest_version_minor, (uint16_t)HVLINK_VERSION_MINOR);
	link_store_relaxed(&shared->guest_peer_id, peer_id);
	link_store_relaxed(&shared->guest_fault, (uint32_t)HVLINK_FAULT_NONE);
	link_store_release(&shared->guest_state, (uint32_t)HVLINK_STATE_READY);
	return HVLINK_FAULT_NONE;
}

struct hvlink_guest_chan *hvlink_guest_chan(struct hvlink_guest *g, uint16_t type)
{
	unsigned i;

	for (i = 0; i < g->nr_chans; i++)
		if (g->chans[i].type == type)
			return &g->chans[i];
	return NULL;
}

void hvlink_guest_stop(struct hvlink_guest *g, enum hvlink_state state, enum hvlink_fault f)
{
	link_store_relaxed(&g->shared->guest_fault, (uint32_t)f);
	link_store_release(&g->shared->guest_state, (uint32_t)state);
}

uint32_t hvlink_guest_host_state(const struct hvlink_guest *g)
{
	return link_load_acquire(&g->shared->host_state);
}
