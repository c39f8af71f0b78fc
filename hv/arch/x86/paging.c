/*
 * hv's own page tables (see asm/paging.h): the generic 4 KiB mapper, the boot page reserve used
 * before the frame allocator exists, paging_init() (final image and direct-map layout) and
 * ioremap().
 *
 * Every table hv creates in its own range hangs below the L3 tables of slots 261..271, which are
 * shared by all address spaces; so a mapping added later (ioremap) is visible everywhere at once,
 * and hv never frees these tables.
 */
#include <hv/lib.h>
#include <hv/arch.h>
#include <hv/bootinfo.h>
#include <hv/mm.h>
#include <hv/spinlock.h>
#include <asm/paging.h>
#include <asm/processor.h>

extern uint64_t boot_l3_image[512];
extern uint64_t boot_l2[4 * 512];
extern uint8_t __image_start[], __text_end[], __rodata_end[], __image_end[];

/* Boot reserve: [boot_next, boot_end), below 4 GiB (reachable through the boot direct map). */
static paddr_t boot_next, boot_end;
static bool allocator_ready;

static DEFINE_SPINLOCK(ioremap_lock);
static unsigned long ioremap_next = IOREMAP_VIRT_START;

void paging_boot_alloc_range(paddr_t start, paddr_t end)
{
	boot_next = start;
	boot_end = end;
}

void *boot_alloc_page(void)
{
	void *va;

	if (boot_next + PAGE_SIZE > boot_end)
		panic("paging: boot page reserve exhausted");
	va = maddr_to_virt(boot_next);
	boot_next += PAGE_SIZE;
	memset(va, 0, PAGE_SIZE);
	return va;
}

static uint64_t *alloc_table(void)
{
	void *t = allocator_ready ? alloc_pages_virt(0) : boot_alloc_page();

	if (!t)
		panic("paging: out of memory for a page table");
	return t;
}

/* The table that @entry points to, creating it if @entry is empty. */
static uint64_t *next_table(uint64_t *entry)
{
	if (!(*entry & _PAGE_PRESENT)) {
		uint64_t *t = alloc_table();
		*entry = virt_to_maddr(t) | PAGE_TABLE;
	} else if (*entry & _PAGE_PSE) {
		panic("paging: a large page is in the way (entry %#lx)", (unsigned long)*entry);
	}
	return maddr_to_virt(*entry & PADDR_MASK);
}

static uint64_t leaf_flags(uint64_t flags)
{
	return cpu_features.nx ? flags : flags & ~_PAGE_NX;
}

void map_pages(uint64_t *l4, unsigned long va, paddr_t pa, unsigned long nr, uint64_t flags)
{
	flags = leaf_flags(flags);
	for (unsigned long i = 0; i < nr; i++, va += PAGE_SIZE, pa += PAGE_SIZE) {
		uint64_t *l3 = next_table(&l4[l4_index(va)]);
		uint64_t *l2 = next_table(&l3[l3_index(va)]);
		uint64_t *l1 = next_table(&l2[l2_index(va)]);
		l1[l1_index(va)] = pa | flags;
		invlpg((void *)va);
	}
}

uint64_t *lookup_pte(uint64_t *l4, unsigned long va)
{
	uint64_t *t = l4, e;
	unsigned int idx[3] = {l4_index(va), l3_index(va), l2_index(va)};

	for (int level = 0; level < 3; level++) {
		e = t[idx[level]];
		if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
			return NULL;
		t = maddr_to_virt(e & PADDR_MASK);
	}
	return &t[l1_index(va)];
}

void *ioremap(paddr_t pa, size_t size)
{
	paddr_t base = pa & PAGE_MASK;
	unsigned long nr = PFN_UP(pa + size) - PFN_DOWN(pa), va;

	spin_lock(&ioremap_lock);
	va = ioremap_next;
	ioremap_next += nr * PAGE_SIZE;
	if (ioremap_next > IOREMAP_VIRT_END)
		panic("ioremap: area exhausted");
	map_pages(idle_pg_table, va, base, nr, PAGE_HV_UC);
	spin_unlock(&ioremap_lock);
	return (void *)(va + (pa & ~PAGE_MASK));
}

/* Maps RAM above 4 GiB in the direct map (the boot tables cover 0..4 GiB), with 1 GiB pages
 * when the CPU has them, else 2 MiB pages. Tables come from the boot reserve, which mm_init
 * sized for this. */
static void directmap_high_ram(void)
{
	const uint64_t four_gib = 1ULL << 32;
	uint64_t large = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL |
	                 _PAGE_PSE | _PAGE_NX;
	large = leaf_flags(large);

	for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
		const struct mem_region *m = &boot_info.mem[i];
		uint64_t step = cpu_features.pdpe1gb ? L3_PAGE_SIZE : L2_PAGE_SIZE;
		uint64_t pa, end = ALIGN_UP(m->end, step);

		if (m->type != MEM_RAM || m->end <= four_gib)
			continue;
		for (pa = ALIGN_DOWN(MAX(m->start, four_gib), step); pa < end; pa += step) {
			unsigned long va = DIRECTMAP_VIRT_START + pa;
			uint64_t *l3 = next_table(&idle_pg_table[l4_index(va)]);

			if (pa + step > DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START)
				break;
			if (step == L3_PAGE_SIZE) {
				l3[l3_index(va)] = pa | large;
			} else {
				uint64_t *l2 = next_table(&l3[l3_index(va)]);
				l2[l2_index(va)] = pa | large;
			}
		}
	}
}

/* Replaces the boot mapping of the image slot (all of physical 0..1 GiB, writable and
 * executable) by one that maps the image alone, 4 KiB pages, text RX, rodata R, data RW NX. */
static void remap_image(void)
{
	unsigned int slot = l3_index(HV_VIRT_START);
	uint64_t *l2 = alloc_table();

	/* Build the new tree off to the side, then switch the one L3 entry: the code doing this
	 * runs from the image, so the image must be mapped at every moment. */
	for (uint8_t *p = __image_start; p < __image_end; p += PAGE_SIZE) {
		uint64_t flags = p < __text_end     ? PAGE_HV_RX
		                 : p < __rodata_end ? PAGE_HV_RO
		                                    : PAGE_HV_RW;
		/* next_table() on the fresh L2 allocates L1 tables as needed. */
		uint64_t *l1 = next_table(&l2[l2_index((unsigned long)p)]);
		l1[l1_index((unsigned long)p)] = virt_to_maddr(p) | leaf_flags(flags);
	}
	boot_l3_image[slot] = virt_to_maddr(l2) | PAGE_TABLE;
	flush_tlb_all_local();
}

/* The boot direct map of 0..4 GiB: make it global and, with NX, not executable. The low
 * identity slot shares these tables until paging_init() removes it. */
static void directmap_low_protect(void)
{
	for (unsigned int i = 0; i < 4 * 512; i++)
		boot_l2[i] |= leaf_flags(_PAGE_GLOBAL | _PAGE_NX);
}

void paging_init(void)
{
	/* No low identity map from now on: NULL and low addresses fault in hv. */
	idle_pg_table[0] = 0;
	directmap_low_protect();
	directmap_high_ram();
	allocator_ready = true; /* all RAM is in the direct map now */
	remap_image();
	flush_tlb_all_local();
}
