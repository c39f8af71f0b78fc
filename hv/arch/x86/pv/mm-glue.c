/*
 * What mm.c needs from the rest of hv (see the hooks in mm.h), and the machine-to-phys table.
 *
 * Frame metadata (struct pv_frame) is a separate array indexed by MFN, beside the allocator's
 * frame table, so that the reference model does not depend on the allocator's layout. Frames
 * hv keeps for itself or that are free are owned by nobody a guest can name, so no get_page on
 * them succeeds. MFNs above the highest RAM frame are I/O memory (privileged domains only).
 *
 * The M2P (one unsigned long per machine frame: the PFN its owner gave it) is mapped twice:
 * read-write for hv at RDWR_MPT_VIRT_START and read-only, guest-readable (US on every level)
 * at RO_MPT_VIRT_START, L4 slot 256, which every guest L4 gets with hv's other slots.
 */
#include <hv/bootinfo.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/spinlock.h>
#include <asm/paging.h>
#include <asm/processor.h>

#include "mm.h"
#include "pv.h"

static struct pv_frame *pv_frames;
static uint64_t *rw_m2p;
static uint64_t m2p_first_mfn;
static unsigned int phys_addr_bits = 36;
static DEFINE_SPINLOCK(pv_big_lock);
/* One bit per frame below max_frame: set where the frame is I/O memory, not RAM (see pv_frame). */
static uint8_t *io_frames;

void pv_lock(void)
{
	spin_lock(&pv_big_lock);
}

void pv_unlock(void)
{
	spin_unlock(&pv_big_lock);
}

static unsigned int order_for(unsigned long bytes)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

/* A zeroed page-table page for the RO M2P's own tables. */
static uint64_t *new_table(void)
{
	uint64_t *t = alloc_pages_virt(0);

	if (!t)
		panic("pv: out of memory for the M2P tables");
	return t;
}

/* Map the M2P frames read-only and user-accessible at RO_MPT_VIRT_START (slot 256). */
static void map_ro_m2p(paddr_t base, unsigned long nr)
{
	const uint64_t table = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
	const uint64_t leaf = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
	uint64_t *l3 = new_table(), *l2 = NULL, *l1 = NULL;
	unsigned long i;

	for (i = 0; i < nr; i++) {
		unsigned long va = RO_MPT_VIRT_START + i * PAGE_SIZE;

		if (!l2 || (l2_index(va) == 0 && l1_index(va) == 0)) {
			l2 = new_table();
			l3[l3_index(va)] = virt_to_maddr(l2) | table;
		}
		if (!l1 || l1_index(va) == 0) {
			l1 = new_table();
			l2[l2_index(va)] = virt_to_maddr(l1) | table;
		}
		l1[l1_index(va)] = (base + i * PAGE_SIZE) | leaf;
	}
	idle_pg_table[l4_index(RO_MPT_VIRT_START)] = virt_to_maddr(l3) | table;
}

/*
 * Frames below max_frame that are I/O memory for the reference model: the first MiB (ISA
 * memory, BIOS and VGA; Xen gives it to dom_io, so dom0 maps DMI and the BIOS data area
 * there) and every hole of the firmware's memory map (MMIO windows). hv never allocates them.
 */
static void mark_io_frames(void)
{
	unsigned long i;

	io_frames = alloc_pages_virt(order_for(max_frame / 8 + 1));
	if (!io_frames)
		panic("pv: no memory for the I/O frame map");
	for (i = 0; i < max_frame; i++)
		io_frames[i / 8] |= 1u << (i % 8);
	for (unsigned int r = 0; r < boot_info.nr_mem; r++) {
		const struct mem_region *m = &boot_info.mem[r];

		if (m->type != 1)
			continue;
		for (i = PFN_UP(m->start); i < PFN_DOWN(m->end) && i < max_frame; i++)
			if (i >= 0x100)
				io_frames[i / 8] &= ~(1u << (i % 8));
	}
}

void pv_mm_init(void)
{
	unsigned long bytes = max_frame * sizeof(struct pv_frame), m2p_pages, i;
	unsigned int order = order_for(bytes);
	struct page_info *pg;

	pv_frames = alloc_pages_virt(order);
	if (!pv_frames)
		panic("pv: no memory for %lu frames' metadata", max_frame);
	for (i = 0; i < max_frame; i++)
		pv_frames[i] = (struct pv_frame){.owner = DOMID_INVALID};

	m2p_pages = PFN_UP(max_frame * sizeof(uint64_t));
	order = order_for(m2p_pages * PAGE_SIZE);
	pg = alloc_frames(order);
	if (!pg)
		panic("pv: no memory for the M2P");
	map_pages(idle_pg_table, RDWR_MPT_VIRT_START, page_to_mfn(pg) << PAGE_SHIFT, 1UL << order,
	          PAGE_HV_RW);
	rw_m2p = (uint64_t *)RDWR_MPT_VIRT_START;
	for (i = 0; i < (PAGE_SIZE << order) / 8; i++)
		rw_m2p[i] = ~0UL;
	map_ro_m2p(page_to_mfn(pg) << PAGE_SHIFT, 1UL << order);
	m2p_first_mfn = page_to_mfn(pg);
	{
		uint32_t a, b, c, d;

		cpuid(0x80000000, &a, &b, &c, &d);
		if (a >= 0x80000008) {
			cpuid(0x80000008, &a, &b, &c, &d);
			phys_addr_bits = a & 0xff;
		}
	}
	mark_io_frames();
	pv_gdt_init();
	printk("pv: M2P for %lu frames at %#lx (read-only for guests)\n", max_frame,
	       (unsigned long)RO_MPT_VIRT_START);
}

struct pv_frame *pv_frame(uint64_t mfn)
{
	if (mfn >= max_frame || (io_frames[mfn / 8] & (1u << (mfn % 8))))
		return NULL;
	return &pv_frames[mfn];
}

uint64_t *pv_frame_map(uint64_t mfn)
{
	return mfn_to_virt(mfn);
}

/* I/O memory: privileged domains, up to the CPU's physical address width. */
bool pv_iomem_ok(const struct domain *d, uint64_t mfn)
{
	return d->is_privileged && mfn < (1ULL << (phys_addr_bits - PAGE_SHIFT));
}

/* The first MFN of the M2P (one contiguous block). */
uint64_t pv_m2p_mfn(void)
{
	return m2p_first_mfn;
}

void pv_frame_free(uint64_t mfn, bool hv_heap)
{
	free_frames(mfn_to_page(mfn), 0);
}

void pv_init_hv_l4_slots(uint64_t *l4, uint64_t l4_mfn, const struct domain *d)
{
	for (unsigned int i = HV_L4_FIRST_SLOT; i <= HV_L4_LAST_SLOT; i++)
		l4[i] = idle_pg_table[i];
}

void pv_m2p_set(uint64_t mfn, uint64_t pfn)
{
	if (mfn < max_frame)
		rw_m2p[mfn] = pfn;
}

uint64_t pv_current_cr3(struct vcpu *v)
{
	uint64_t mfn = pv(v)->kernel_mode ? v->guest_table : v->guest_table_user;

	return mfn << PAGE_SHIFT;
}
