/*
 * x86-64 4-level paging as hv uses it: PTE bits, table indexes, and hv's own mappings.
 *
 * idle_pg_table is the L4 hv runs on when no guest runs. Its slots 256..271 (hv's range) are the
 * template for every guest L4: the PV layer copies them into each L4 it validates, so the tables
 * below those slots are shared by all address spaces and must never be freed. Slot 256 (the
 * read-only M2P) is left empty here for the PV layer to fill. Low memory is not mapped in it:
 * NULL and other low addresses fault in hv.
 */
#ifndef ASM_PAGING_H
#define ASM_PAGING_H

#include <hv/layout.h>

#define _PAGE_PRESENT  _AC(0x001, UL)
#define _PAGE_RW       _AC(0x002, UL)
#define _PAGE_USER     _AC(0x004, UL)
#define _PAGE_PWT      _AC(0x008, UL)
#define _PAGE_PCD      _AC(0x010, UL)
#define _PAGE_ACCESSED _AC(0x020, UL)
#define _PAGE_DIRTY    _AC(0x040, UL)
#define _PAGE_PSE      _AC(0x080, UL) /* 2 MiB page in an L2 entry, 1 GiB page in an L3 entry */
#define _PAGE_GLOBAL   _AC(0x100, UL)
#define _PAGE_NX       (_AC(1, UL) << 63)

#define PADDR_MASK _AC(0x000ffffffffff000, UL)

/* Common flag sets for hv's own mappings. */
#define PAGE_HV_RW                                                                                 \
	(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL | _PAGE_NX)
#define PAGE_HV_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL | _PAGE_NX)
#define PAGE_HV_RX (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL)
#define PAGE_HV_UC (PAGE_HV_RW | _PAGE_PCD | _PAGE_PWT)
/* Intermediate tables: permissive, the leaf decides. */
#define PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)

#define L1_SHIFT     12
#define L2_SHIFT     21
#define L3_SHIFT     30
#define L4_SHIFT     39
#define L2_PAGE_SIZE (_AC(1, UL) << L2_SHIFT)
#define L3_PAGE_SIZE (_AC(1, UL) << L3_SHIFT)

#ifndef __ASSEMBLER__
#include <klib/compiler.h>
#include <hv/mm.h>

static inline unsigned int l4_index(unsigned long va)
{
	return (va >> L4_SHIFT) & 511;
}
static inline unsigned int l3_index(unsigned long va)
{
	return (va >> L3_SHIFT) & 511;
}
static inline unsigned int l2_index(unsigned long va)
{
	return (va >> L2_SHIFT) & 511;
}
static inline unsigned int l1_index(unsigned long va)
{
	return (va >> L1_SHIFT) & 511;
}

extern uint64_t idle_pg_table[512];

/*
 * Maps @nr 4 KiB pages at @va to machine address @pa with leaf @flags in @l4, allocating
 * intermediate tables as needed (from the frame allocator once it is up, from a boot reserve
 * before). Existing leaf entries are overwritten; large pages in the way are not split (panic).
 * Boot CPU during boot, or under the caller's lock for the range.
 */
void map_pages(uint64_t *l4, unsigned long va, paddr_t pa, unsigned long nr, uint64_t flags);

/* The leaf entry mapping @va in @l4 (a pointer into the table), NULL when unmapped or when a
 * large page maps it. */
uint64_t *lookup_pte(uint64_t *l4, unsigned long va);

/* Maps @size bytes of MMIO at @pa uncached in the ioremap area; returns the address of @pa.
 * Mappings are never removed. Any CPU after paging_init(). */
void *ioremap(paddr_t pa, size_t size);

/* Boot: takes a page for early page tables before the allocator exists (mm_init only). */
void *boot_alloc_page(void);
void paging_boot_alloc_range(paddr_t start, paddr_t end);
#endif

#endif
