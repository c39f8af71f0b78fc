/*
 * Laying out and checking the management link's shared memory (see layout.h, link_proto.h).
 *
 * The host's layout: the header page at 0, then one page (or more) of ring index blocks
 * (128 bytes each, in channel order, H2G then G2H), then the data areas in the same order,
 * each aligned to its own size up to a page. The checker does not assume this order: it accepts
 * any layout whose pieces are aligned, inside the memory, after the header page, and disjoint.
 * All arithmetic on offsets from the peer is written so that it cannot overflow.
 */
#include "layout.h"

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static uint32_t default_max_msg(uint32_t size)
{
	return size / 2 - HVLINK_MSG_HDR_SIZE;
}

int hvlink_layout_init(void *shm, uint64_t shm_size, const struct hvlink_chan_spec *specs,
                       unsigned n, uint16_t nr_vectors, uint16_t host_peer_id, uint32_t generation,
                       struct hvlink_header *copy)
{
	struct hvlink_header *shared = shm;
	struct hvlink_header h;
	uint64_t idx_off, data_off;
	unsigned c, d;

	if (n > HVLINK_MAX_CHANNELS || nr_vectors == 0 || nr_vectors > HVLINK_MAX_VECTORS)
		return -HVLINK_EINVAL;
	link_memset(&h, 0, sizeof(h));
	link_memcpy(h.magic, HVLINK_MAGIC, HVLINK_MAGIC_LEN);
	h.version_major = HVLINK_VERSION_MAJOR;
	h.version_minor = HVLINK_VERSION_MINOR;
	h.header_size = sizeof(h);
	h.shm_size = shm_size;
	h.generation = generation;
	h.host_peer_id = host_peer_id;
	h.nr_vectors = nr_vectors;
	h.nr_channels = n;
	h.host_state = HVLINK_STATE_INITIALISING;

	idx_off = HVLINK_PAGE_SIZE;
	data_off =
	    align_up(idx_off + (uint64_t)n * 2 * sizeof(struct hvlink_ring_idx), HVLINK_PAGE_SIZE);
	for (c = 0; c < n; c++) {
		struct hvlink_channel_desc *cd = &h.channels[c];

		if (specs[c].type == HVLINK_CHAN_NONE || specs[c].vector >= nr_vectors)
			return -HVLINK_EINVAL;
		cd->type = specs[c].type;
		cd->vector = specs[c].vector;
		for (d = 0; d < 2; d++) {
			uint32_t size = specs[c].size[d];
			uint32_t max =
			    specs[c].max_msg[d] ? specs[c].max_msg[d] : default_max_msg(size);

			if (!is_pow2(size) || size < HVLINK_RING_MIN_SIZE ||
			    size > HVLINK_RING_MAX_SIZE || max > default_max_msg(size))
				return -HVLINK_EINVAL;
			data_off =
			    align_up(data_off, size < HVLINK_PAGE_SIZE ? size : HVLINK_PAGE_SIZE);
			cd->ring[d].idx_offset = idx_off;
			cd->ring[d].data_offset = data_off;
			cd->ring[d].data_size = size;
			cd->ring[d].max_msg = max;
			idx_off += sizeof(struct hvlink_ring_idx);
			data_off += size;
		}
	}
	if (data_off > shm_size)
		return -HVLINK_EINVAL;

	/* Tell a guest that may be looking that the layout is in flux, then write it. */
	link_store_release(&shared->host_state, (uint32_t)HVLINK_STATE_INITIALISING);
	link_memset(shared->magic, 0, HVLINK_MAGIC_LEN);
	link_mb();
	link_memset((uint8_t *)shm + HVLINK_MAGIC_LEN, 0, HVLINK_PAGE_SIZE - HVLINK_MAGIC_LEN);
	link_memset((uint8_t *)shm + HVLINK_PAGE_SIZE, 0, idx_off - HVLINK_PAGE_SIZE);
	for (c = 0; c < n; c++)
		for (d = 0; d < 2; d++)
			hvlink_ring_idx_init(
			    (struct hvlink_ring_idx *)((uint8_t *)shm +
			                               h.channels[c].ring[d].idx_offset));
	link_memcpy((uint8_t *)shm + HVLINK_MAGIC_LEN, (uint8_t *)&h + HVLINK_MAGIC_LEN,
	            sizeof(h) - HVLINK_MAGIC_LEN);
	link_mb();
	link_memcpy(shared->magic, h.magic, HVLINK_MAGIC_LEN);
	link_store_release(&shared->host_state, (uint32_t)HVLINK_STATE_READY);
	h.host_state = HVLINK_STATE_READY;
	if (copy)
		*copy = h;
	return 0;
}

struct region {
	uint64_t off, len;
};

static bool region_inside(uint64_t off, uint64_t len, uint64_t shm_size)
{
	return off >= HVLINK_PAGE_SIZE && off <= shm_size && len <= shm_size - off;
}

static bool regions_overlap(const struct region *a, const struct region *b)
{
	return a->off < b->off + b->len && b->off < a->off + a->len;
}

enum hvlink_fault hvlink_header_check(const struct hvlink_header *h, uint64_t shm_size)
{
	struct region regions[HVLINK_MAX_CHANNELS * 4];
	unsigned nr = 0, c, d, i, j;

	for (i = 0; i < HVLINK_MAGIC_LEN; i++)
		if (h->magic[i] != HVLINK_MAGIC[i])
			return HVLINK_FAULT_MAGIC;
	if (h->version_major != HVLINK_VERSION_MAJOR)
		return HVLINK_FAULT_VERSION;
	if (h->header_size != sizeof(*h) || h->shm_size > shm_size ||
	    h->shm_size < HVLINK_PAGE_SIZE || h->nr_channels > HVLINK_MAX_CHANNELS ||
	    h->nr_vectors == 0 || h->nr_vectors > HVLINK_MAX_VECTORS)
		return HVLINK_FAULT_LAYOUT;

	for (c = 0; c < h->nr_channels; c++) {
		const struct hvlink_channel_desc *cd = &h->channels[c];

		if (cd->type == HVLINK_CHAN_NONE)
			continue;
		if (cd->vector >= h->nr_vectors)
			return HVLINK_FAULT_LAYOUT;
		for (d = 0; d < 2; d++) {
			const struct hvlink_ring_desc *rd = &cd->ring[d];

			if (!is_pow2(rd->data_size) || rd->data_size < HVLINK_RING_MIN_SIZE ||
			    rd->data_size > HVLINK_RING_MAX_SIZE ||
			    rd->max_msg > default_max_msg(rd->data_size))
				return HVLINK_FAULT_LAYOUT;
			if (rd->idx_offset % HVLINK_CACHELINE || rd->data_offset % HVLINK_CACHELINE)
				return HVLINK_FAULT_LAYOUT;
			if (!region_inside(rd->idx_offset, sizeof(struct hvlink_ring_idx),
			                   h->shm_size) ||
			    !region_inside(rd->data_offset, rd->data_size, h->shm_size))
				return HVLINK_FAULT_LAYOUT;
			regions[nr].off = rd->idx_offset;
			regions[nr++].len = sizeof(struct hvlink_ring_idx);
			regions[nr].off = rd->data_offset;
			regions[nr++].len = rd->data_size;
		}
	}
	for (i = 0; i < nr; i++)
		for (j = i + 1; j < nr; j++)
			if (regions_overlap(&regions[i], &regions[j]))
				return HVLINK_FAULT_LAYOUT;
	return HVLINK_FAULT_NONE;
}

int hvlink_channel_find(const struct hvlink_header *h, uint16_t type)
{
	unsigned c;

	for (c = 0; c < h->nr_channels && c < HVLINK_MAX_CHANNELS; c++)
		if (h->channels[c].type == type)
			return (int)c;
	return -1;
}

int hvlink_channel_attach(void *shm, const struct hvlink_header *h, unsigned chan, bool host,
                          struct hvlink_ring *tx, struct hvlink_ring *rx)
{
	const struct hvlink_channel_desc *cd;
	const struct hvlink_ring_desc *t, *r;
	uint8_t *base = shm;
	int rc;

	if (chan >= h->nr_channels || chan >= HVLINK_MAX_CHANNELS)
		return -HVLINK_EINVAL;
	cd = &h->channels[chan];
	if (cd->type == HVLINK_CHAN_NONE)
		return -HVLINK_EINVAL;
	t = &cd->ring[host ? HVLINK_DIR_H2G : HVLINK_DIR_G2H];
	r = &cd->ring[host ? HVLINK_DIR_G2H : HVLINK_DIR_H2G];
	rc = hvlink_ring_attach(tx, (struct hvlink_ring_idx *)(base + t->idx_offset),
	                        base + t->data_offset, t->data_size, t->max_msg, true);
	if (rc)
		return rc;
	return hvlink_ring_attach(rx, (struct hvlink_ring_idx *)(base + r->idx_offset),
	                          base + r->data_offset, r->data_size, r->max_msg, false);
}
