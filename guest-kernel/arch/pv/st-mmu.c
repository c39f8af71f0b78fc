/*
 * Self-tests of the PV MMU: pinning, checked updates through mmu_update and
 * update_va_mapping, the writable-page-table assist, descriptor tables and the hostile cases
 * (mapping memory we do not own, page tables made writable, the hypervisor's L4 slots,
 * superpages, bad machine addresses). Each case leaves the scratch area unmapped again.
 */
#include <public/memory.h>
#include "st.h"

/* A data page with a recognisable first byte, for mapping tests. */
static uint8_t *marked_page(uint8_t mark)
{
	uint8_t *p = alloc_page();
	if (!p)
		panic("selftest: out of memory");
	p[0] = mark;
	return p;
}

static void scratch_clear(unsigned int slot)
{
	if (st_mmu_update(&pv_scratch_l1[slot], 0) != 0)
		st_fail("clearing scratch slot %u failed", slot);
	pv_invlpg(ST_SCRATCH_VA(slot));
}

/*
 * Probes: MMUEXT pin/unpin state machine on a fresh read-only page.
 * Expected: pin L1 = 0; pin again = -EINVAL; unpin = 0; unpin again = -EINVAL; the page can be
 * made writable again afterwards.
 */
void st_pin_unpin(void)
{
	void *p = alloc_page();

	st_check_rc(pv_set_page_ro(p), 0);
	st_check_rc(pv_pin(1, p), 0);
	st_check_rc(pv_pin(1, p), -XEN_EINVAL);
	st_check_rc(pv_unpin(p), 0);
	st_check_rc(pv_unpin(p), -XEN_EINVAL);
	st_check_rc(pv_set_page_rw(p), 0);
	free_page(p);
}

/*
 * Probes: pinning a page that is still mapped writable (a page table must never be writable).
 * Expected: -EINVAL, and the page stays an ordinary writable page.
 */
void st_pin_writable(void)
{
	uint8_t *p = alloc_page();

	st_check_rc(pv_pin(1, p), -XEN_EINVAL);
	p[0] = 1; /* still writable */
	st_check_rc(st_mmuext(MMUEXT_NEW_BASEPTR, pv_virt_to_mfn(p), 0), -XEN_EINVAL);
	free_page(p);
}

/*
 * Probes: mmu_update of an entry in our live scratch L1 (validated as part of our pinned L4),
 * then a read through the new mapping, then update_va_mapping on the same area.
 * Expected: 0 each; the mapping shows the page's contents; unmapping works.
 */
void st_mmu_update_map(void)
{
	uint8_t *page = marked_page(0xa5);
	uint8_t v = 0;

	st_check_rc(st_mmu_update(&pv_scratch_l1[0], pv_virt_to_maddr(page) | L1_PROT), 0);
	st_check_rc(st_probe_read(ST_SCRATCH_VA(0), &v), 0);
	st_check_rc(v, 0xa5);
	scratch_clear(0);
	st_check_rc(st_probe_read(ST_SCRATCH_VA(0), &v), 15); /* #PF + 1 */

	st_check_rc(HYPERVISOR_update_va_mapping(ST_SCRATCH_VA(1),
	                                         pv_virt_to_maddr(page) | L1_PROT_RO, UVMF_INVLPG),
	            0);
	st_check_rc(st_probe_read(ST_SCRATCH_VA(1), &v), 0);
	st_check_rc(v, 0xa5);
	st_check_rc(HYPERVISOR_update_va_mapping(ST_SCRATCH_VA(1), 0, UVMF_INVLPG), 0);
	free_page(page);
}

/*
 * Probes: update_va_mapping where no L1 maps the address (user half, empty L4 slot) and in the
 * hypervisor's range. Expected: -EINVAL both.
 */
void st_uvm_no_l1(void)
{
	uint8_t *page = marked_page(1);

	st_check_rc(HYPERVISOR_update_va_mapping(0x1000, pv_virt_to_maddr(page) | L1_PROT, 0),
	            -XEN_EINVAL);
	st_check_rc(HYPERVISOR_update_va_mapping((unsigned long)ST_HV_PTR,
	                                         pv_virt_to_maddr(page) | L1_PROT, 0),
	            -XEN_EINVAL);
	free_page(page);
}

/*
 * Probes: making a pinned page table writable through update_va_mapping, for an L1 and for our
 * live L4. Expected: refused (ST_EL1_REFUSED); both stay read-only and in use.
 */
void st_pinned_table_writable(void)
{
	st_check_rc(HYPERVISOR_update_va_mapping((unsigned long)pv_scratch_l1,
	                                         pv_virt_to_maddr(pv_scratch_l1) | L1_PROT,
	                                         UVMF_INVLPG),
	            ST_EL1_REFUSED);
	st_check_rc(HYPERVISOR_update_va_mapping((unsigned long)pv_kernel_l4,
	                                         pv_virt_to_maddr(pv_kernel_l4) | L1_PROT,
	                                         UVMF_INVLPG),
	            ST_EL1_REFUSED);
}

/*
 * Probes: an L1 entry that maps its own L1 writable (would let the guest write its page table
 * directly). Expected: refused (ST_EL1_REFUSED), the entry stays empty.
 */
void st_table_maps_itself_writable(void)
{
	st_check_rc(st_mmu_update(&pv_scratch_l1[2], pv_virt_to_maddr(pv_scratch_l1) | L1_PROT),
	            ST_EL1_REFUSED);
	st_check(pv_scratch_l1[2] == 0);
}

/*
 * Probes: writing the hypervisor's L4 slots (256 and 271) of our live L4.
 * Expected: -EINVAL, the slots keep the hypervisor's values.
 */
void st_l4_hypervisor_slots(void)
{
	uint64_t before256 = pv_kernel_l4[256], before271 = pv_kernel_l4[271];
	uint64_t l3 = pv_virt_to_maddr(pv_scratch_l3) | TABLE_PROT;

	st_check_rc(st_mmu_update(&pv_kernel_l4[256], l3), -XEN_EINVAL);
	st_check_rc(st_mmu_update(&pv_kernel_l4[271], 0), -XEN_EINVAL);
	st_check(pv_kernel_l4[256] == before256);
	st_check(pv_kernel_l4[271] == before271);
}

/*
 * Probes: a superpage (PSE) entry in an L2. Expected: -EINVAL (no superpages for PV).
 */
void st_pse_in_l2(void)
{
	st_check_rc(st_mmu_update(&pv_scratch_l2[1], (pv_p2m[0] << PAGE_SHIFT) | XEN_PTE_PRESENT |
	                                                 XEN_PTE_RW | XEN_PTE_PSE),
	            -XEN_EINVAL);
	st_check(pv_scratch_l2[1] == 0);
}

/*
 * Probes: mmu_update with a misaligned entry address (ptr + 4: the low bits are the command,
 * so this is an undefined command or a misaligned entry) and with a machine address beyond
 * all memory. Expected: an error (-ENOSYS for an undefined command on Xen, -EINVAL for a
 * misaligned entry) and -EINVAL; the entry is unchanged.
 */
void st_mmu_update_bad_ptr(void)
{
	uint8_t *page = marked_page(2);
	struct mmu_update u = {.ptr = st_pte_maddr(&pv_scratch_l1[3]) + 4,
	                       .val = pv_virt_to_maddr(page) | L1_PROT};
	long rc = HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);

	if (rc != -XEN_ENOSYS && rc != -XEN_EINVAL)
		st_fail("misaligned ptr: rc %ld, expected -ENOSYS or -EINVAL", rc);
	st_check(pv_scratch_l1[3] == 0);
	u.ptr = 0x000ffffffffff000ULL; /* highest 52-bit machine address */
	st_check_rc(HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF), -XEN_EINVAL);
	free_page(page);
}

/*
 * Probes: mapping machine frames we do not own: a frame number beyond any memory, and a frame
 * of the hypervisor's read-only M2P table mapped writable.
 * Expected: -EINVAL for the frame beyond memory, ST_EL1_REFUSED for the M2P frame; nothing
 * mapped.
 */
void st_map_foreign_frames(void)
{
	uint64_t m2p_mfn = 0;
	struct xen_machphys_mfn_list list = {.max_extents = 1, .extent_start = (uint64_t)&m2p_mfn};

	st_check_rc(st_mmu_update(&pv_scratch_l1[4], 0x000ffffffffff000ULL | L1_PROT), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_memory_op(XENMEM_machphys_mfn_list, &list), 0);
	st_check(list.nr_extents == 1 && m2p_mfn != 0);
	st_check_rc(st_mmu_update(&pv_scratch_l1[4], (m2p_mfn << PAGE_SHIFT) | L1_PROT),
	            ST_EL1_REFUSED);
	st_check(pv_scratch_l1[4] == 0);
}

/*
 * Probes: a frame given back with decrease_reservation is no longer ours: mapping it fails.
 * Then a new frame from increase_reservation replaces it (M2P via MMU_MACHPHYS_UPDATE, our
 * P2M, our direct map), which must all succeed.
 * Expected: decrease 1, map refused (ST_EL1_REFUSED), increase 1, machphys update 0, remap 0, M2P
 * consistent.
 */
void st_map_released_frame(void)
{
	uint8_t *page = alloc_page();
	uint64_t pfn = virt_to_pfn(page), old_mfn = pv_p2m[pfn], new_mfn = 0;
	struct xen_memory_reservation r = {
	    .extent_start = (uint64_t)&old_mfn, .nr_extents = 1, .domid = DOMID_SELF};

	if (HYPERVISOR_update_va_mapping((unsigned long)page, 0, UVMF_INVLPG) != 0) {
		st_fail("cannot unmap the page");
		return;
	}
	st_check_rc(HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 1);
	pv_p2m[pfn] = INVALID_M2P_ENTRY;
	st_check_rc(st_mmu_update(&pv_scratch_l1[5], (old_mfn << PAGE_SHIFT) | L1_PROT),
	            ST_EL1_REFUSED);
	st_check(pv_scratch_l1[5] == 0);

	r.extent_start = (uint64_t)&new_mfn;
	if (HYPERVISOR_memory_op(XENMEM_increase_reservation, &r) != 1) {
		panic("selftest: cannot get a frame back (lost pfn %#llx)",
		      (unsigned long long)pfn);
	}
	struct mmu_update m2p = {.ptr = (new_mfn << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, .val = pfn};
	st_check_rc(HYPERVISOR_mmu_update(&m2p, 1, NULL, DOMID_SELF), 0);
	pv_p2m[pfn] = new_mfn;
	if (HYPERVISOR_update_va_mapping((unsigned long)page, (new_mfn << PAGE_SHIFT) | L1_PROT,
	                                 UVMF_INVLPG) != 0)
		panic("selftest: cannot remap pfn %#llx", (unsigned long long)pfn);
	st_check(pv_m2p()[new_mfn] == pfn);
	free_page(page);
}

/* Write one L1 entry through the writable-page-table assist with a plain store. */
static void ptwr_store(uint64_t *entry, uint64_t val)
{
	__asm__ __volatile__("1: movq %1, (%0)\n\t2:\n\t" EXTABLE(1b, 2b)
	                     :
	                     : "r"(entry), "r"(val)
	                     : "memory");
}

/*
 * Probes: the writable-page-table assist (enabled at boot) on our pinned scratch L1, with a
 * plain mov, xchg, lock cmpxchg (succeeding and failing) and lock bts/btr. Each write is a
 * kernel-mode write fault on a read-only page table that the hypervisor emulates.
 * Expected: no fault reaches us; each new entry takes effect (after our invlpg); cmpxchg with a
 * stale expected value changes nothing and returns the current entry.
 */
void st_ptwr_assist(void)
{
	uint8_t *a = marked_page(0x11), *b = marked_page(0x22);
	uint64_t count = pv_last_trap.count;
	uint64_t *e = &pv_scratch_l1[6];
	uint64_t ea = pv_virt_to_maddr(a) | L1_PROT, eb = pv_virt_to_maddr(b) | L1_PROT;
	uint8_t v = 0;

	ptwr_store(e, ea);
	pv_invlpg(ST_SCRATCH_VA(6));
	st_check_rc(st_probe_read(ST_SCRATCH_VA(6), &v), 0);
	st_check_rc(v, 0x11);

	uint64_t old = eb;
	__asm__ __volatile__("xchg %0, (%1)" : "+r"(old) : "r"(e) : "memory");
	st_check((old & XEN_PTE_ADDR_MASK) == (ea & XEN_PTE_ADDR_MASK));
	pv_invlpg(ST_SCRATCH_VA(6));
	st_check_rc(st_probe_read(ST_SCRATCH_VA(6), &v), 0);
	st_check_rc(v, 0x22);

	uint64_t expected = *e, newval = ea;
	bool ok;
	__asm__ __volatile__("lock cmpxchg %3, (%2)"
	                     : "+a"(expected), "=@ccz"(ok)
	                     : "r"(e), "r"(newval)
	                     : "memory");
	st_check(ok);
	pv_invlpg(ST_SCRATCH_VA(6));
	st_check_rc(st_probe_read(ST_SCRATCH_VA(6), &v), 0);
	st_check_rc(v, 0x11);

	expected = eb; /* stale */
	__asm__ __volatile__("lock cmpxchg %3, (%2)"
	                     : "+a"(expected), "=@ccz"(ok)
	                     : "r"(e), "r"(newval)
	                     : "memory");
	st_check(!ok);
	st_check((expected & XEN_PTE_ADDR_MASK) == (ea & XEN_PTE_ADDR_MASK));

	__asm__ __volatile__("lock btsq $9, (%0)" : : "r"(e) : "memory");
	st_check(*e & (1ULL << 9));
	__asm__ __volatile__("lock btrq $9, (%0)" : : "r"(e) : "memory");
	st_check(!(*e & (1ULL << 9)));

	st_check(pv_last_trap.count == count);
	scratch_clear(6);
	free_page(a);
	free_page(b);
}

/*
 * Probes: a write through the assist that fails validation (an entry mapping the L1 itself
 * writable), and a write with the assist disabled.
 * Expected: both deliver the original #PF (vector 14, CR2 = the entry) to us; nothing written.
 * Exception: Xen 4.17 emulates such writes for the hardware domain even with the assist off
 * (its read-only-MMIO path reaches the same emulator), so for the initial domain the second
 * write may succeed; then we only check that it was validated and undo it.
 */
void st_ptwr_rejected(void)
{
	uint64_t *e = &pv_scratch_l1[7];
	uint64_t count = pv_last_trap.count;

	ptwr_store(e, pv_virt_to_maddr(pv_scratch_l1) | L1_PROT);
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 14);
	st_check(pv_last_trap.cr2 == (uint64_t)e);
	st_check(*e == 0);

	st_check_rc(HYPERVISOR_vm_assist(VMASST_CMD_disable, VMASST_TYPE_writable_pagetables), 0);
	uint8_t *page = marked_page(3);
	ptwr_store(e, pv_virt_to_maddr(page) | L1_PROT);
	if (pv_last_trap.count == count + 2) {
		st_check_rc(pv_last_trap.vector, 14);
		st_check(*e == 0);
	} else if (pv_start_info->flags & SIF_INITDOMAIN) {
		st_check((*e & XEN_PTE_ADDR_MASK) == (pv_virt_to_maddr(page) & XEN_PTE_ADDR_MASK));
		scratch_clear(7);
	} else {
		st_fail("write with the assist disabled did not fault");
		scratch_clear(7);
	}
	st_check_rc(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
	free_page(page);
}

/*
 * Probes: a new L1 built from scratch: filled while writable, made read-only, pinned, hooked
 * into our scratch L2 with mmu_update, used, then unhooked, unpinned and made writable again.
 * Expected: every step 0; the mapping works while hooked; the page is writable afterwards.
 */
void st_new_l1_lifecycle(void)
{
	uint64_t *l1 = alloc_page();
	uint8_t *page = marked_page(0x33);
	uint8_t v = 0;

	l1[0] = pv_virt_to_maddr(page) | L1_PROT;
	st_check_rc(pv_set_page_ro(l1), 0);
	st_check_rc(pv_pin(1, l1), 0);
	st_check_rc(st_mmu_update(&pv_scratch_l2[2], pv_virt_to_maddr(l1) | TABLE_PROT), 0);
	st_check_rc(st_probe_read(PV_SCRATCH_BASE + (2UL << 21), &v), 0);
	st_check_rc(v, 0x33);
	st_check_rc(st_mmu_update(&pv_scratch_l2[2], 0), 0);
	st_check_rc(pv_unpin(l1), 0);
	st_check_rc(pv_set_page_rw(l1), 0);
	l1[0] = 0;
	free_page(l1);
	free_page(page);
}

/*
 * Probes: mmuext operations that need no state: TLB flushes and invlpg (local, all, multi with
 * a vCPU mask), an undefined command and the superpage commands.
 * Expected: 0 for the flushes; -ENOSYS for command 14 and 99; -EOPNOTSUPP for superpages.
 */
void st_mmuext_misc(void)
{
	static uint64_t mask = 1;
	struct mmuext_op multi = {.cmd = MMUEXT_TLB_FLUSH_MULTI, .arg2.vcpumask = (uint64_t)&mask};

	st_check_rc(st_mmuext(MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0);
	st_check_rc(st_mmuext(MMUEXT_TLB_FLUSH_ALL, 0, 0), 0);
	st_check_rc(st_mmuext(MMUEXT_INVLPG_LOCAL, ST_SCRATCH_VA(0), 0), 0);
	st_check_rc(st_mmuext(MMUEXT_INVLPG_ALL, ST_SCRATCH_VA(0), 0), 0);
	st_check_rc(HYPERVISOR_mmuext_op(&multi, 1, NULL, DOMID_SELF), 0);
	st_check_rc(st_mmuext(14, 0, 0), -XEN_ENOSYS);
	st_check_rc(st_mmuext(99, 0, 0), -XEN_ENOSYS);
	st_check_rc(st_mmuext(MMUEXT_MARK_SUPER, pv_p2m[0], 0), -XEN_EOPNOTSUPP);
	st_check_rc(st_mmuext(MMUEXT_UNMARK_SUPER, pv_p2m[0], 0), -XEN_EOPNOTSUPP);
}

/*
 * Probes: MMUEXT_COPY_PAGE and MMUEXT_CLEAR_PAGE on our own frames.
 * Expected: 0; the destination holds the source's bytes, then zeros.
 */
void st_copy_clear_page(void)
{
	uint8_t *src = marked_page(0x77), *dst = alloc_page();

	src[4095] = 0x88;
	st_check_rc(st_mmuext(MMUEXT_COPY_PAGE, pv_virt_to_mfn(dst), pv_virt_to_mfn(src)), 0);
	st_check(dst[0] == 0x77 && dst[4095] == 0x88);
	st_check_rc(st_mmuext(MMUEXT_CLEAR_PAGE, pv_virt_to_mfn(dst), 0), 0);
	st_check(dst[0] == 0 && dst[4095] == 0);
	free_page(src);
	free_page(dst);
}

/*
 * Probes: set_gdt with too many entries and with a frame that is mapped writable; then
 * update_descriptor with a data descriptor and with a system (TSS) descriptor on a GDT page.
 * Expected: -EINVAL, -EINVAL (our GDT stays installed), then 0 and -EINVAL.
 */
void st_descriptor_tables(void)
{
	uint64_t *gdt = alloc_page();
	uint64_t frame = pv_virt_to_mfn(gdt);

	st_check_rc(HYPERVISOR_set_gdt(&frame, 7169), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_set_gdt(&frame, 512), -XEN_EINVAL); /* still writable */
	st_check_rc(pv_set_page_ro(gdt), 0);
	/* A read-only frame that is not installed: update_descriptor validates the descriptor. */
	st_check_rc(hypercall2(__HYPERVISOR_update_descriptor, pv_virt_to_maddr(&gdt[3]),
	                       0x00cff3000000ffffULL),
	            0);
	st_check(gdt[3] == 0x00cff3000000ffffULL);
	st_check_rc(hypercall2(__HYPERVISOR_update_descriptor, pv_virt_to_maddr(&gdt[4]),
	                       0x0000890000000067ULL),
	            -XEN_EINVAL);
	st_check(gdt[4] == 0);
	st_check_rc(pv_set_page_rw(gdt), 0);
	gdt[3] = 0;
	free_page(gdt);
}

/*
 * Probes: update_va_mapping_otherdomain and mmu_update naming the frame owner explicitly:
 * DOMID_SELF works like the plain call; a domain that does not exist is -ESRCH.
 * Expected: 0 (and the mapping works), -ESRCH, -ESRCH; nothing left mapped.
 */
void st_foreign_owner_ids(void)
{
	uint8_t *page = marked_page(0x44);
	uint8_t v = 0;
	uint64_t pte = pv_virt_to_maddr(page) | L1_PROT;

	st_check_rc(hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, ST_SCRATCH_VA(11), pte,
	                       UVMF_INVLPG, DOMID_SELF),
	            0);
	st_check_rc(st_probe_read(ST_SCRATCH_VA(11), &v), 0);
	st_check_rc(v, 0x44);
	st_check_rc(HYPERVISOR_update_va_mapping(ST_SCRATCH_VA(11), 0, UVMF_INVLPG), 0);
	st_check_rc(hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, ST_SCRATCH_VA(11), pte,
	                       UVMF_INVLPG, 1234),
	            -XEN_ESRCH);
	struct mmu_update u = {.ptr = st_pte_maddr(&pv_scratch_l1[11]), .val = pte};
	st_check_rc(HYPERVISOR_mmu_update(&u, 1, NULL, 1234), -XEN_ESRCH);
	st_check(pv_scratch_l1[11] == 0);
	free_page(page);
}

/*
 * Probes: the adjustments the hypervisor makes to L1 entries it validates (the guest reads its
 * own tables): a kernel entry the guest wrote without US gets US and the guest-kernel marker
 * (bit 52) and no G; a user entry the guest wrote with US gets G (it survives the CR3 switch
 * between the guest's kernel and user L4s) and no marker.
 * Expected: exactly that, for a kernel data page and for the user code page.
 */
void st_l1_entry_adjustments(void)
{
	const uint64_t *k = pv_l1e_of((unsigned long)&pv_last_trap);
	const uint64_t *u = pv_l1e_in(pv_user_l4, USER_CODE_VA);

	if (!k || !u) {
		st_fail("no L1 entry found (kernel %p, user %p)", (const void *)k, (const void *)u);
		return;
	}
	st_check(*k & XEN_PTE_PRESENT);
	st_check(*k & XEN_PTE_USER);
	st_check(*k & XEN_PTE_GUEST_KERNEL);
	st_check(!(*k & XEN_PTE_GLOBAL));
	st_check(*u & XEN_PTE_USER);
	st_check(*u & XEN_PTE_GLOBAL);
	st_check(!(*u & XEN_PTE_GUEST_KERNEL));
}
