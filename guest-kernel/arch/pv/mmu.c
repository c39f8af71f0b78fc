/*
 * Memory management on the PV MMU.
 *
 * The builder maps the kernel, the P2M list, start_info, its bootstrap page tables and a boot
 * stack at VIRT_BASE, padded to a 4 MiB boundary with at least 512 KiB spare. We build our own
 * address space from that spare room: a direct map of every pseudo-physical page at
 * KERNEL_VIRT_BASE + pfn * 4 KiB (so the image keeps its addresses) plus an empty scratch area
 * for self-tests, then switch to it.
 *
 * Rules of the PV MMU we keep (the hypervisor enforces them):
 *  - a page that is a page table is mapped read-only everywhere (a writable mapping would
 *    let us bypass validation), so every table is filled while writable, then remapped
 *    read-only, then pinned or hooked in;
 *  - entries of live tables change only through mmu_update / update_va_mapping (or the
 *    writable-page-table assist for L1s), never by plain stores;
 *  - frames are named by machine frame numbers; pv_p2m converts PFN -> MFN and the read-only
 *    M2P at MACH2PHYS_VIRT_START converts back.
 */
#include <kernel.h>
#include <mm.h>
#include <klib/string.h>
#include "pv.h"

uint64_t *pv_p2m;
uint64_t pv_nr_pages;
uint64_t *pv_kernel_l4;
uint64_t pv_mapped_end_pfn;
uint64_t *pv_scratch_l3, *pv_scratch_l2, *pv_scratch_l1;

/* The direct map covers at most one L2 (1 GiB). */
#define DIRECT_MAP_MAX_PAGES (512UL * 512UL)

static uint64_t early_next_pfn, early_end_pfn;
static uint64_t direct_pages;

static void *early_alloc(void)
{
	if (early_next_pfn >= early_end_pfn)
		panic("mmu: bootstrap area exhausted");
	void *p = pfn_to_virt(early_next_pfn++);
	memset(p, 0, PAGE_SIZE);
	return p;
}

uint64_t pv_virt_to_mfn(const void *va)
{
	uint64_t pfn = virt_to_pfn(va);

	if ((uintptr_t)va < KERNEL_VIRT_BASE || pfn >= pv_nr_pages)
		panic("pv_virt_to_mfn: %p is not in the direct map", va);
	return pv_p2m[pfn];
}

uint64_t pv_virt_to_maddr(const void *va)
{
	return (pv_virt_to_mfn(va) << PAGE_SHIFT) | ((uintptr_t)va & (PAGE_SIZE - 1));
}

long pv_set_page_ro(void *va)
{
	return HYPERVISOR_update_va_mapping(
	    (unsigned long)va, (pv_virt_to_mfn(va) << PAGE_SHIFT) | L1_PROT_RO, UVMF_INVLPG);
}

long pv_set_page_rw(void *va)
{
	return HYPERVISOR_update_va_mapping(
	    (unsigned long)va, (pv_virt_to_mfn(va) << PAGE_SHIFT) | L1_PROT, UVMF_INVLPG);
}

static long mmuext1(unsigned int cmd, uint64_t arg1)
{
	struct mmuext_op op = {.cmd = cmd, .arg1.mfn = arg1};
	return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

long pv_pin(int level, void *va)
{
	static const unsigned int cmd[] = {0, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE,
	                                   MMUEXT_PIN_L3_TABLE, MMUEXT_PIN_L4_TABLE};
	return mmuext1(cmd[level], pv_virt_to_mfn(va));
}

long pv_unpin(void *va)
{
	return mmuext1(MMUEXT_UNPIN_TABLE, pv_virt_to_mfn(va));
}

long pv_flush_tlb(void)
{
	return mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0);
}

long pv_invlpg(unsigned long va)
{
	struct mmuext_op op = {.cmd = MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va};
	return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

void *pv_alloc_pinned_table(int level, long *rc)
{
	void *p = alloc_page();

	if (!p) {
		*rc = -XEN_ENOMEM;
		return NULL;
	}
	*rc = pv_set_page_ro(p);
	if (*rc == 0)
		*rc = pv_pin(level, p);
	if (*rc) {
		pv_set_page_rw(p);
		free_page(p);
		return NULL;
	}
	return p;
}

void pv_free_pinned_table(void *va)
{
	long rc = pv_unpin(va);
	if (rc == 0)
		rc = pv_set_page_rw(va);
	if (rc)
		panic("mmu: cannot release table %p: %ld", va, rc);
	free_page(va);
}

/* The table a present entry points to, through the M2P (NULL if not present). */
static uint64_t *next_table(uint64_t entry)
{
	if (!(entry & XEN_PTE_PRESENT))
		return NULL;
	uint64_t pfn = pv_m2p()[(entry & XEN_PTE_ADDR_MASK) >> PAGE_SHIFT];
	if (pfn >= pv_nr_pages)
		return NULL;
	return pfn_to_virt(pfn);
}

uint64_t *pv_l1e_of(unsigned long va)
{
	return pv_l1e_in(pv_kernel_l4, va);
}

uint64_t *pv_l1e_in(uint64_t *l4, unsigned long va)
{
	uint64_t *l3 = next_table(l4[(va >> 39) & 511]);
	uint64_t *l2 = l3 ? next_table(l3[(va >> 30) & 511]) : NULL;
	uint64_t *l1 = l2 ? next_table(l2[(va >> 21) & 511]) : NULL;
	return l1 ? &l1[(va >> 12) & 511] : NULL;
}

void pv_mmu_init(void)
{
	start_info_t *si = pv_start_info;
	uint64_t old_l4_pfn = virt_to_pfn((void *)si->pt_base);
	uint64_t pt_end_pfn = old_l4_pfn + si->nr_pt_frames;
	uint64_t stack_end = (pt_end_pfn + 1) << PAGE_SHIFT; /* boot stack follows the tables */
	uint64_t mapped_end = ALIGN_UP(stack_end, 4UL << 20);
	long rc;

	if (mapped_end - stack_end < (512UL << 10))
		mapped_end += 4UL << 20;
	pv_p2m = (uint64_t *)si->mfn_list;
	pv_nr_pages = si->nr_pages;
	pv_mapped_end_pfn = mapped_end >> PAGE_SHIFT;
	direct_pages = MIN(pv_nr_pages, DIRECT_MAP_MAX_PAGES);
	if (pv_mapped_end_pfn > direct_pages)
		panic("mmu: builder mapped %llu pages of %llu",
		      (unsigned long long)pv_mapped_end_pfn, (unsigned long long)direct_pages);

	/* The padding must really be mapped: touch its last page (a fault here panics). */
	(void)READ_ONCE(*(volatile uint64_t *)pfn_to_virt(pv_mapped_end_pfn - 1));

	early_next_pfn = pt_end_pfn + 1;
	early_end_pfn = pv_mapped_end_pfn;

	/* Fill the new tables while they are ordinary writable memory. */
	uint64_t nr_l1 = (direct_pages + 511) / 512;
	uint64_t first_new = early_next_pfn;
	uint64_t *l4 = early_alloc(), *l3 = early_alloc(), *l2 = early_alloc();
	uint64_t *l1 = early_alloc();
	for (uint64_t i = 1; i < nr_l1; i++)
		early_alloc(); /* consecutive pages: l1 + i * 512 entries */
	pv_scratch_l3 = early_alloc();
	pv_scratch_l2 = early_alloc();
	pv_scratch_l1 = early_alloc();
	uint64_t last_new = early_next_pfn;

	for (uint64_t pfn = 0; pfn < direct_pages; pfn++) {
		bool is_table =
		    (pfn >= old_l4_pfn && pfn < pt_end_pfn) || (pfn >= first_new && pfn < last_new);
		if (pv_p2m[pfn] == INVALID_M2P_ENTRY)
			continue;
		l1[pfn] = (pv_p2m[pfn] << PAGE_SHIFT) | (is_table ? L1_PROT_RO : L1_PROT);
	}
	for (uint64_t i = 0; i < nr_l1; i++)
		l2[i] = pv_virt_to_maddr(&l1[i * 512]) | TABLE_PROT;
	l3[(KERNEL_VIRT_BASE >> 30) & 511] = pv_virt_to_maddr(l2) | TABLE_PROT;
	l4[(KERNEL_VIRT_BASE >> 39) & 511] = pv_virt_to_maddr(l3) | TABLE_PROT;
	pv_scratch_l3[0] = pv_virt_to_maddr(pv_scratch_l2) | TABLE_PROT;
	pv_scratch_l2[0] = pv_virt_to_maddr(pv_scratch_l1) | TABLE_PROT;
	l4[(PV_SCRATCH_BASE >> 39) & 511] = pv_virt_to_maddr(pv_scratch_l3) | TABLE_PROT;

	/* Make every new table read-only in the builder's tables, batched in multicalls. */
	for (uint64_t pfn = first_new; pfn < last_new;) {
		multicall_entry_t mc[16];
		unsigned int n = 0;
		for (; n < ARRAY_SIZE(mc) && pfn < last_new; n++, pfn++) {
			mc[n].op = __HYPERVISOR_update_va_mapping;
			mc[n].result = 1;
			mc[n].args[0] = (uint64_t)pfn_to_virt(pfn);
			mc[n].args[1] = (pv_p2m[pfn] << PAGE_SHIFT) | L1_PROT_RO;
			mc[n].args[2] = UVMF_NONE;
		}
		rc = HYPERVISOR_multicall(mc, n);
		if (rc)
			panic("mmu: multicall failed: %ld", rc);
		for (unsigned int i = 0; i < n; i++)
			if (mc[i].result)
				panic("mmu: making table %#llx read-only failed: %ld",
				      (unsigned long long)mc[i].args[0], (long)mc[i].result);
	}
	if ((rc = pv_flush_tlb()))
		panic("mmu: TLB flush failed: %ld", rc);

	/* Pin (validates the whole tree), switch, drop the builder's pinned L4. */
	if ((rc = pv_pin(4, l4)))
		panic("mmu: pinning the new L4 failed: %ld", rc);
	if ((rc = mmuext1(MMUEXT_NEW_BASEPTR, pv_virt_to_mfn(l4))))
		panic("mmu: NEW_BASEPTR failed: %ld", rc);
	pv_kernel_l4 = l4;
	if ((rc = mmuext1(MMUEXT_UNPIN_TABLE, pv_p2m[old_l4_pfn])))
		panic("mmu: unpinning the builder's L4 failed: %ld", rc);

	/* Everything after our tables is free: the rest of the padding and the unmapped RAM. */
	page_alloc_add_range(early_next_pfn, direct_pages);
	printk("pv: mmu: %llu pages, builder mapped %llu, new tables at pfn %llu..%llu, L4 mfn "
	       "%#llx\n",
	       (unsigned long long)pv_nr_pages, (unsigned long long)pv_mapped_end_pfn,
	       (unsigned long long)first_new, (unsigned long long)last_new - 1,
	       (unsigned long long)pv_virt_to_mfn(l4));
}
