/*
 * The frame allocator: a binary buddy allocator over machine frames (see hv/mm.h for the
 * states a frame can be in).
 *
 * A free block of order k is 2^k frames starting at a frame number aligned to 2^k. Its buddy is
 * the block of the same size next to it (frame number XOR 2^k). Freeing merges a block with its
 * buddy while the buddy is also a free block of the same order, so free memory always sits in
 * the largest aligned blocks possible; allocation takes the smallest free block that is large
 * enough and splits off the unused halves.
 *
 * Locking: heap_lock guards free_lists[], nr_free and the PGC_free/order fields of every frame.
 * Not taken from interrupt handlers (see hv/mm.h).
 */
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/spinlock.h>

struct page_info *frame_table;
unsigned long max_frame;

static DEFINE_SPINLOCK(heap_lock);
static struct list_head free_lists[MAX_ORDER + 1];
static unsigned long nr_free;

static bool is_free_head(const struct page_info *pg, unsigned int order)
{
	return (pg->count_info & PGC_free) && pg->order == order;
}

static void push_free(unsigned long mfn, unsigned int order)
{
	struct page_info *pg = mfn_to_page(mfn);

	pg->count_info = PGC_free;
	pg->order = order;
	list_add(&pg->list, &free_lists[order]);
}

static void pop_free(struct page_info *pg)
{
	list_del(&pg->list);
	pg->count_info &= ~PGC_free;
}

/* Frees [mfn, mfn + 2^order) with buddy merging. heap_lock held. */
static void free_block(unsigned long mfn, unsigned int order)
{
	nr_free += 1UL << order;
	while (order < MAX_ORDER) {
		unsigned long buddy = mfn ^ (1UL << order);
		struct page_info *bpg;

		if (buddy + (1UL << order) > max_frame)
			break;
		bpg = mfn_to_page(buddy);
		if (!is_free_head(bpg, order) || (bpg->count_info & PGC_reserved))
			break;
		pop_free(bpg);
		mfn &= ~(1UL << order);
		order++;
	}
	push_free(mfn, order);
}

void frame_alloc_init(struct page_info *table, unsigned long nr_frames)
{
	frame_table = table;
	max_frame = nr_frames;
	nr_free = 0;
	for (unsigned int i = 0; i <= MAX_ORDER; i++)
		list_init(&free_lists[i]);
	for (unsigned long i = 0; i < nr_frames; i++) {
		struct page_info *pg = &table[i];

		list_init(&pg->list);
		pg->count_info = PGC_reserved;
		pg->type_info = 0;
		pg->owner = NULL;
		pg->order = 0;
		pg->pad = 0;
	}
}

/* Adds the free frames [start, end) as the largest aligned blocks that fit. */
static unsigned long add_free_range(unsigned long start, unsigned long end)
{
	unsigned long added = 0;

	if (end > max_frame)
		end = max_frame;
	while (start < end) {
		unsigned int order = 0;

		while (order < MAX_ORDER && !(start & (1UL << order)) &&
		       start + (2UL << order) <= end)
			order++;
		for (unsigned long i = 0; i < (1UL << order); i++)
			mfn_to_page(start + i)->count_info = 0;
		free_block(start, order);
		added += 1UL << order;
		start += 1UL << order;
	}
	return added;
}

/* Adds the frames of [start, end) that are still reserved: a firmware map may list a range
 * twice. heap_lock held. */
static unsigned long add_unadded(unsigned long start, unsigned long end)
{
	unsigned long added = 0;

	if (end > max_frame)
		end = max_frame;
	while (start < end) {
		unsigned long run;

		if (!(mfn_to_page(start)->count_info & PGC_reserved)) {
			start++;
			continue;
		}
		for (run = start; run < end && (mfn_to_page(run)->count_info & PGC_reserved); run++)
			;
		added += add_free_range(start, run);
		start = run;
	}
	return added;
}

unsigned long frame_alloc_add_ram(const struct mem_range *ram, unsigned int nr_ram,
                                  const struct mem_range *reserved, unsigned int nr_reserved)
{
	unsigned long added = 0;

	spin_lock(&heap_lock);
	for (unsigned int r = 0; r < nr_ram; r++) {
		unsigned long f = PFN_UP(ram[r].start), end = PFN_DOWN(ram[r].end);

		/* Each step either jumps past a reserved range that covers f, or adds the frames
		 * from f up to the next reserved range; f grows every time. */
		while (f < end) {
			unsigned long stop = end;
			bool skipped = false;

			for (unsigned int i = 0; i < nr_reserved; i++) {
				unsigned long rs = PFN_DOWN(reserved[i].start);
				unsigned long re = PFN_UP(reserved[i].end);

				if (reserved[i].end <= reserved[i].start)
					continue;
				if (rs <= f && f < re) {
					f = re;
					skipped = true;
				} else if (rs > f && rs < stop) {
					stop = rs;
				}
			}
			if (skipped)
				continue;
			added += add_unadded(f, stop);
			f = stop;
		}
	}
	spin_unlock(&heap_lock);
	return added;
}

struct page_info *alloc_frames(unsigned int order)
{
	struct page_info *pg = NULL;
	unsigned int k;

	if (order > MAX_ORDER)
		return NULL;
	spin_lock(&heap_lock);
	for (k = order; k <= MAX_ORDER; k++)
		if (!list_empty(&free_lists[k]))
			break;
	if (k <= MAX_ORDER) {
		unsigned long mfn;

		pg = list_first_entry(&free_lists[k], struct page_info, list);
		pop_free(pg);
		mfn = page_to_mfn(pg);
		/* Split: give back the upper halves until the block is the size asked for. */
		while (k > order) {
			k--;
			push_free(mfn + (1UL << k), k);
		}
		nr_free -= 1UL << order;
	}
	spin_unlock(&heap_lock);
	if (pg) {
		for (unsigned long i = 0; i < (1UL << order); i++) {
			struct page_info *p = pg + i;
			p->count_info = 0;
			p->type_info = 0;
			p->owner = NULL;
			list_init(&p->list);
		}
	}
	return pg;
}

void free_frames(struct page_info *pg, unsigned int order)
{
	unsigned long mfn = page_to_mfn(pg);

	ASSERT(order <= MAX_ORDER);
	ASSERT(mfn + (1UL << order) <= max_frame && !(mfn & ((1UL << order) - 1)));
	spin_lock(&heap_lock);
	for (unsigned long i = 0; i < (1UL << order); i++) {
		const struct page_info *p = pg + i;
		if (p->count_info & (PGC_free | PGC_reserved))
			panic("free_frames: frame %#lx is %s", mfn + i,
			      (p->count_info & PGC_free) ? "already free" : "reserved");
	}
	/* A frame inside a larger free block has no flag: find such a block around us. */
	for (unsigned int k = order + 1; k <= MAX_ORDER; k++) {
		unsigned long head = mfn & ~((1UL << k) - 1);
		if (is_free_head(mfn_to_page(head), k))
			panic("free_frames: frame %#lx is inside a free block", mfn);
	}
	free_block(mfn, order);
	spin_unlock(&heap_lock);
}

unsigned long frames_free(void)
{
	return READ_ONCE(nr_free);
}

void *alloc_pages_virt(unsigned int order)
{
	struct page_info *pg = alloc_frames(order);
	void *va;

	if (!pg)
		return NULL;
	va = page_to_virt(pg);
	memset(va, 0, PAGE_SIZE << order);
	return va;
}

void free_pages_virt(void *va, unsigned int order)
{
	/* Poisoned, so a stale user fails loudly. */
	memset(va, 0xa5, PAGE_SIZE << order);
	free_frames(virt_to_page(va), order);
}
