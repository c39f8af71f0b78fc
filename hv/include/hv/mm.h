/*
 * Machine memory: frame numbers, the frame table and the frame allocator.
 *
 * Every machine frame below max_frame has a struct page_info in the frame table, which is mapped
 * at FRAMETABLE_VIRT_START (frame_table[mfn]). All machine memory is also mapped at
 * DIRECTMAP_VIRT_START (maddr_to_virt/virt_to_maddr), so hv reaches any frame without mapping it.
 *
 * The frame allocator (hv/common/page_alloc.c) is a binary buddy allocator over every usable RAM
 * frame: blocks of 2^order frames, naturally aligned. A frame is in exactly one of three states:
 *   - reserved: not RAM, or RAM hv must never hand out (low 1 MiB, hv image, multiboot data,
 *     boot modules, the frame table itself); PGC_reserved is set and the allocator never
 *     touches it;
 *   - free: part of a free block; the first frame of the block has PGC_free set and `order`
 *     holds the block's order, and is linked on the free list of that order through `list`;
 *   - allocated: neither flag; it belongs to whoever allocated it (owner/count_info/type_info
 *     are theirs, e.g. the PV memory manager's reference counts).
 * Locking: one spinlock (heap_lock, in page_alloc.c) guards the free lists and the PGC_free and
 * order fields of every frame. It is not taken from interrupt handlers: do not allocate there.
 */
#ifndef HV_MM_H
#define HV_MM_H

#include <klib/compiler.h>
#include <klib/list.h>
#include <hv/layout.h>

struct domain;

struct page_info {
	/* Free: link on the buddy free list. Allocated: the owner's list (e.g. a domain's pages).
	 */
	struct list_head list;
	/* Bits 63..56: allocator state (PGC_*); the rest belongs to the frame's user (the PV
	 * memory manager keeps its general reference count and flags there). */
	unsigned long count_info;
	/* Type and type reference count of the PV memory manager (PGT_*, defined by it). */
	unsigned long type_info;
	/* The domain that owns this frame, NULL for hv's own or free frames. */
	struct domain *owner;
	/* Free block heads: the block's order. */
	uint32_t order;
	uint32_t pad;
};

/* The frame is the first frame of a free buddy block. */
#define PGC_free (1UL << 63)
/* The frame is not available to the allocator (hole, firmware, hv image, boot module, ...). */
#define PGC_reserved   (1UL << 62)
#define PGC_alloc_mask (0xffUL << 56)

/* Largest block the allocator hands out: 2^MAX_ORDER frames (1 GiB). */
#define MAX_ORDER 18

typedef uint64_t paddr_t;

extern struct page_info *frame_table;
/* Number of frames covered by the frame table (one past the highest RAM frame). */
extern unsigned long max_frame;

#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)
#define PFN_UP(x)   (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)

static inline struct page_info *mfn_to_page(unsigned long mfn)
{
	return frame_table + mfn;
}

static inline unsigned long page_to_mfn(const struct page_info *pg)
{
	return (unsigned long)(pg - frame_table);
}

static inline void *maddr_to_virt(paddr_t ma)
{
	return (void *)(DIRECTMAP_VIRT_START + ma);
}

static inline paddr_t virt_to_maddr(const void *va)
{
	unsigned long v = (unsigned long)va;

	/* Image addresses are translated too, so static data can be handed to hardware. */
	if (v >= HV_VIRT_START && v < HV_VIRT_END)
		return v - HV_VIRT_START;
	return v - DIRECTMAP_VIRT_START;
}

static inline void *mfn_to_virt(unsigned long mfn)
{
	return maddr_to_virt((paddr_t)mfn << PAGE_SHIFT);
}

static inline void *page_to_virt(const struct page_info *pg)
{
	return mfn_to_virt(page_to_mfn(pg));
}

static inline struct page_info *virt_to_page(const void *va)
{
	return mfn_to_page(virt_to_maddr(va) >> PAGE_SHIFT);
}

/* A physical address range [start, end). */
struct mem_range {
	paddr_t start, end;
};

/*
 * Allocator set-up, on the boot CPU before any other CPU runs.
 * frame_alloc_init: @table has @nr_frames entries; every frame starts reserved.
 * frame_alloc_add_ram: frees every whole frame inside one of the @ram ranges that does not touch
 *   any of the @reserved ranges (RAM is rounded inwards to frames, reserved ranges outwards).
 *   Returns the number of frames added.
 */
void frame_alloc_init(struct page_info *table, unsigned long nr_frames);
unsigned long frame_alloc_add_ram(const struct mem_range *ram, unsigned int nr_ram,
                                  const struct mem_range *reserved, unsigned int nr_reserved);

/*
 * 2^order contiguous frames, aligned to their size; NULL when no block that large is free.
 * The frames' page_info is reset (count_info, type_info 0, owner NULL). Any CPU, any time
 * after mm_init(), except from interrupt handlers.
 */
struct page_info *alloc_frames(unsigned int order);
/* Returns a block obtained from alloc_frames with the same order. Double frees panic. */
void free_frames(struct page_info *pg, unsigned int order);
/* Number of free frames now. */
unsigned long frames_free(void);

/* Same through the direct map, zero-filled: for hv's own data (stacks, page tables). */
void *alloc_pages_virt(unsigned int order);
void free_pages_virt(void *va, unsigned int order);

/*
 * Boot: builds the frame table and the allocator from the boot memory map (honouring mem=),
 * reserving the low 1 MiB, hv's image, the multiboot data and every boot module; prints `mem:`.
 */
void mm_init(void);

#endif
