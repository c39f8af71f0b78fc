/*
 * Host unit test of the PV memory model (hv/arch/x86/pv/mm.c): the real source against fake
 * machine memory (fake-frames.c). Each case builds page tables by hand the way a guest does
 * (fill as ordinary memory, map read-only, pin) and checks results and reference counts.
 */
#include "fake-frames.h"
#include "pv-errno.h"

static struct domain dom0, domu;
static struct vcpu v0, vu;

/* Frames 1..31 belong to domU, 32..47 to dom0, 48..63 are free RAM, 64.. are I/O memory. */
enum { L4 = 1, L3 = 2, L2 = 3, L1 = 4, DATA = 5, DATA2 = 6, SPARE = 7, L1B = 8, GDT = 9 };
#define DOM0_FRAME 32
#define FREE_FRAME 48
#define IO_FRAME   70

#define PT  (PTF_P | PTF_RW | PTF_US | PTF_A | PTF_D) /* a table entry as builders write it */
#define RO  (PTF_P | PTF_A)
#define RWE (PTF_P | PTF_RW | PTF_A)

static uint64_t ent(uint64_t mfn, uint64_t flags)
{
	return (mfn << 12) | flags;
}

static void setup(void)
{
	dom0 = (struct domain){.domain_id = 0, .is_privileged = true};
	domu = (struct domain){.domain_id = 1};
	v0 = (struct vcpu){.domain = &dom0};
	vu = (struct vcpu){.domain = &domu};
	fake_domains[0] = &dom0;
	fake_domains[1] = &domu;
	for (int i = 1; i < 32; i++)
		pv_assign_frame(&domu, i, false);
	for (int i = 32; i < 48; i++)
		pv_assign_frame(&dom0, i, false);
}

/* L4[0] -> L3[0] -> L2[2] -> L1: VA 0x400000 maps DATA RW, 0x401000 maps the L1 RO. */
static void build_tree(void)
{
	fake_mem[L4][0] = ent(L3, PT);
	fake_mem[L3][0] = ent(L2, PT);
	fake_mem[L2][2] = ent(L1, PT);
	fake_mem[L1][0] = ent(DATA, RWE);
	fake_mem[L1][1] = ent(L1, RO);
}

static int refs(uint64_t mfn)
{
	return fake_frames[mfn].refs;
}
static int tcount(uint64_t mfn)
{
	return fake_frames[mfn].type_count;
}
static int type(uint64_t mfn)
{
	return fake_frames[mfn].type;
}

/* Pinning a well-formed 4-level tree validates every level and takes the expected refs. */
static void pin_tree(void)
{
	setup();
	build_tree();
	CHECK_EQ(pv_pin_table(&domu, L4, 4), 0);
	CHECK_EQ(type(L4), PGT_l4);
	CHECK_EQ(type(L3), PGT_l3);
	CHECK_EQ(type(L2), PGT_l2);
	CHECK_EQ(type(L1), PGT_l1);
	CHECK_EQ(type(DATA), PGT_writable);
	CHECK_EQ(tcount(L4), 1);
	CHECK_EQ(refs(L4), 2); /* allocation + pin */
	CHECK_EQ(refs(L1), 3); /* allocation + L2 entry + its own RO self-mapping */
	CHECK_EQ(refs(DATA), 2);
	CHECK_EQ(fake_mem[L4][256], HV_SLOT_MARK);
	CHECK_EQ(fake_mem[L4][271], HV_SLOT_MARK);
}

/* Validation adjusts entries: L1 kernel entries get US+bit 52, L4 entries get A and US. */
static void pin_adjusts_entries(void)
{
	setup();
	build_tree();
	fake_mem[L4][0] = ent(L3, PTF_P | PTF_RW);
	fake_mem[L1][2] = ent(DATA2, PTF_P | PTF_US); /* a user mapping */
	fake_mem[L1][3] = ent(SPARE, PTF_P | PTF_G);  /* kernel mapping asking for G */
	CHECK_EQ(pv_pin_table(&domu, L4, 4), 0);
	CHECK_EQ(fake_mem[L4][0], ent(L3, PTF_P | PTF_RW | PTF_US | PTF_A));
	CHECK_EQ(fake_mem[L1][0], ent(DATA, RWE | PTF_US | PTF_GUEST_KERNEL));
	CHECK_EQ(fake_mem[L1][2], ent(DATA2, PTF_P | PTF_US | PTF_G));
	CHECK_EQ(fake_mem[L1][3], ent(SPARE, PTF_P | PTF_US | PTF_GUEST_KERNEL));
}

/* Unpinning releases every reference the validation took; counts return to the start. */
static void unpin_releases(void)
{
	setup();
	build_tree();
	CHECK_EQ(pv_pin_table(&domu, L4, 4), 0);
	CHECK_EQ(pv_unpin_table(&domu, L4), 0);
	for (int m = 1; m < 32; m++) {
		CHECK_EQ(refs(m), 1);
		CHECK_EQ(tcount(m), 0);
		CHECK_EQ(type(m), PGT_none);
	}
}

/* Pinning an already pinned table fails and leaves the counts as they were. */
static void pin_twice(void)
{
	setup();
	build_tree();
	CHECK_EQ(pv_pin_table(&domu, L1, 1), 0);
	CHECK_EQ(pv_pin_table(&domu, L1, 1), -EINVAL);
	CHECK_EQ(refs(L1), 3);
	CHECK_EQ(tcount(L1), 1);
}

/* Unpinning a frame that is not pinned, or not ours, fails. */
static void unpin_not_pinned(void)
{
	setup();
	CHECK_EQ(pv_unpin_table(&domu, L1), -EINVAL);
	CHECK_EQ(pv_unpin_table(&domu, DOM0_FRAME), -EINVAL);
	CHECK_EQ(pv_unpin_table(&domu, IO_FRAME), -EINVAL);
}

/* Pin an L4 referencing an L3 that is writable-mapped elsewhere -> -EINVAL, nothing held. */
static void pin_l4_with_writable_l3(void)
{
	setup();
	build_tree();
	fake_mem[L1B][0] = ent(L3, RWE);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), 0);
	CHECK_EQ(type(L3), PGT_writable);
	CHECK_EQ(pv_pin_table(&domu, L4, 4), -EINVAL);
	CHECK_EQ(type(L4), PGT_none);
	CHECK_EQ(type(L1), PGT_none);
	CHECK_EQ(refs(L4), 1);
	CHECK_EQ(refs(L2), 1);
	CHECK_EQ(refs(DATA), 1);
	CHECK_EQ(tcount(L3), 1); /* only L1B's writable mapping */
}

/* An L1 mapping a page table RW cannot be validated. */
static void map_table_rw(void)
{
	setup();
	build_tree();
	CHECK_EQ(pv_pin_table(&domu, L1, 1), 0);
	fake_mem[L1B][5] = ent(L1, RWE);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), -EINVAL);
	fake_mem[L1B][5] = ent(L1, RO);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), 0);
}

/* An L1 that maps itself RW is refused; mapping itself RO is fine. */
static void l1_maps_itself_rw(void)
{
	setup();
	fake_mem[L1B][0] = ent(L1B, RWE);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), -EINVAL);
	CHECK_EQ(refs(L1B), 1);
	CHECK_EQ(tcount(L1B), 0);
}

/* Flags: PSE and G in L2, cache bits in a domU L1, bit 62 in L1 are refused. */
static void forbidden_flags(void)
{
	setup();
	fake_mem[L2][0] = ent(L1, PT | PTF_PSE);
	CHECK_EQ(pv_pin_table(&domu, L2, 2), -EINVAL);
	fake_mem[L2][0] = ent(L1, PT | PTF_G);
	CHECK_EQ(pv_pin_table(&domu, L2, 2), -EINVAL);
	fake_mem[L2][0] = ent(L1, PT | PTF_PCD);
	CHECK_EQ(pv_pin_table(&domu, L2, 2), -EINVAL);
	fake_mem[L1B][0] = ent(DATA, RWE | PTF_PCD);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), -EINVAL);
	fake_mem[L1B][0] = ent(DATA, RWE | PTF_GNTTAB);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), -EINVAL);
	fake_mem[L1B][0] = ent(DATA, RWE | PTF_NX | PTF_AVAIL | (1ull << 55));
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), 0);
	for (int m = 1; m < 32; m++)
		if (m != L1B && m != DATA)
			CHECK_EQ(refs(m), 1);
}

/* dom0 (I/O privilege) may use cache bits and map I/O memory; a domU may not. */
static void io_memory(void)
{
	setup();
	fake_mem[L1B][0] = ent(IO_FRAME, RWE | PTF_PCD | PTF_PWT);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), -EINVAL);
	fake_mem[DOM0_FRAME][0] = ent(IO_FRAME, RWE | PTF_PCD | PTF_PWT);
	CHECK_EQ(pv_pin_table(&dom0, DOM0_FRAME, 1), 0);
	fake_mem[DOM0_FRAME + 1][0] = ent(0xffffffffffull, RO); /* beyond any address */
	CHECK_EQ(pv_pin_table(&dom0, DOM0_FRAME + 1, 1), -EINVAL);
}

/* A domU cannot map another domain's frame or a free frame; dom0 may map a domU's frame. */
static void ownership(void)
{
	setup();
	fake_mem[L1B][0] = ent(DOM0_FRAME + 1, RO);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), -EINVAL);
	fake_mem[L1B][0] = ent(FREE_FRAME, RO);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), -EINVAL);
	fake_mem[DOM0_FRAME][0] = ent(DATA, RWE);
	CHECK_EQ(pv_pin_table(&dom0, DOM0_FRAME, 1), 0);
	CHECK_EQ(refs(DATA), 2);
	CHECK_EQ(type(DATA), PGT_writable);
	/* ... but not a domU's page table as L1 of its own L2 (tables must be the owner's). */
	fake_mem[DOM0_FRAME + 1][0] = ent(L1, PT);
	CHECK_EQ(pv_pin_table(&dom0, DOM0_FRAME + 1, 2), -EINVAL);
}

/* Linear page tables: an L4 may map itself read-only, not read-write, not another L4. */
static void linear_tables(void)
{
	setup();
	build_tree();
	fake_mem[L4][5] = ent(L4, PTF_P | PTF_US | PTF_A);
	CHECK_EQ(pv_pin_table(&domu, L4, 4), 0);
	CHECK_EQ(refs(L4), 3); /* allocation, pin, self-map */
	CHECK_EQ(pv_unpin_table(&domu, L4), 0);
	CHECK_EQ(refs(L4), 1);
	fake_mem[L4][5] = ent(L4, PT);
	CHECK_EQ(pv_pin_table(&domu, L4, 4), -EINVAL);
	CHECK_EQ(refs(L4), 1);
	fake_mem[L4][5] = 0;
	fake_mem[SPARE][0] = 0;
	CHECK_EQ(pv_pin_table(&domu, SPARE, 4), 0);
	fake_mem[L4][5] = ent(SPARE, PTF_P | PTF_US | PTF_A);
	CHECK_EQ(pv_pin_table(&domu, L4, 4), -EINVAL);
}

/* mmu_update: a checked L1 write takes the new references and drops the old ones. */
static void mmu_update_l1(void)
{
	bool flush = false;

	setup();
	build_tree();
	CHECK_EQ(pv_pin_table(&domu, L4, 4), 0);
	uint64_t ptr = ((uint64_t)L1 << 12) + 0 * 8;
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, ptr, ent(DATA2, RWE), false, &flush), 0);
	CHECK(!flush);
	CHECK_EQ(refs(DATA), 1);
	CHECK_EQ(type(DATA), PGT_none);
	CHECK_EQ(type(DATA2), PGT_writable);
	CHECK_EQ(fake_mem[L1][0], ent(DATA2, RWE | PTF_US | PTF_GUEST_KERNEL));
	/* Mapping the L2 (a table) writable through the L1 is refused, entry unchanged. */
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, ptr, ent(L2, RWE), false, &flush), -EBUSY);
	/* So are a frame of another domain and a frame beyond memory (-EINVAL: no such frame). */
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, ptr, ent(DOM0_FRAME, RO), false, &flush),
	         -EBUSY);
	CHECK_EQ(pv_mmu_normal_update(&dom0, &dom0, ((uint64_t)DOM0_FRAME << 12),
	                              ent(0xffffffffffull, RO), false, &flush),
	         0); /* a plain write: DOM0_FRAME is no table */
	CHECK_EQ(pte_mfn(fake_mem[L1][0]), DATA2);
	/* Clearing the entry drops the reference. */
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, ptr, 0, false, &flush), 0);
	CHECK_EQ(refs(DATA2), 1);
	CHECK_EQ(tcount(DATA2), 0);
}

/* mmu_update on an L2 entry asks for a TLB flush; hv's L4 slots cannot be written. */
static void mmu_update_upper(void)
{
	bool flush = false;

	setup();
	build_tree();
	CHECK_EQ(pv_pin_table(&domu, L4, 4), 0);
	fake_mem[L1B][0] = ent(DATA2, RWE);
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, ((uint64_t)L2 << 12) + 3 * 8, ent(L1B, PT),
	                              false, &flush),
	         0);
	CHECK(flush);
	CHECK_EQ(type(L1B), PGT_l1);
	CHECK_EQ(type(DATA2), PGT_writable);
	CHECK_EQ(
	    pv_mmu_normal_update(&domu, &domu, ((uint64_t)L4 << 12) + 256 * 8, 0, false, &flush),
	    -EINVAL);
	CHECK_EQ(fake_mem[L4][256], HV_SLOT_MARK);
	/* L2 entry pointing to an L3-typed frame (wrong level) is refused. */
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, ((uint64_t)L2 << 12) + 4 * 8, ent(L3, PT),
	                              false, &flush),
	         -EINVAL);
}

/* mmu_update on an ordinary frame is a plain write; on a GDT frame or a foreign frame it fails. */
static void mmu_update_plain(void)
{
	bool flush = false;

	setup();
	CHECK_EQ(
	    pv_mmu_normal_update(&domu, &domu, ((uint64_t)SPARE << 12) + 16, 0x1234, false, &flush),
	    0);
	CHECK_EQ(fake_mem[SPARE][2], 0x1234);
	CHECK_EQ(tcount(SPARE), 0);
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, (uint64_t)DOM0_FRAME << 12, 1, false, &flush),
	         -EINVAL);
	uint64_t f = GDT;
	CHECK_EQ(pv_set_gdt(&vu, &f, 16), 0);
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, (uint64_t)GDT << 12, 1, false, &flush),
	         -EINVAL);
}

/* MMU_PT_UPDATE_PRESERVE_AD keeps the A/D bits hardware set in the old entry. */
static void preserve_ad(void)
{
	bool flush = false;

	setup();
	build_tree();
	CHECK_EQ(pv_pin_table(&domu, L1, 1), 0);
	fake_mem[L1][0] |= PTF_D; /* the CPU dirtied it */
	CHECK_EQ(pv_mmu_normal_update(&domu, &domu, (uint64_t)L1 << 12, ent(DATA, PTF_P | PTF_RW),
	                              true, &flush),
	         0);
	CHECK(fake_mem[L1][0] & PTF_D);
	CHECK(fake_mem[L1][0] & PTF_A);
	CHECK_EQ(refs(DATA), 2);
}

/* MMU_MACHPHYS_UPDATE writes the M2P for own frames only. */
static void machphys(void)
{
	setup();
	CHECK_EQ(pv_mmu_machphys_update(&domu, DATA, 77), 0);
	CHECK_EQ(fake_m2p[DATA], 77);
	CHECK_EQ(pv_mmu_machphys_update(&domu, DOM0_FRAME, 1), -EINVAL);
	CHECK_EQ(pv_mmu_machphys_update(&domu, IO_FRAME, 1), -EINVAL);
}

/* NEW_BASEPTR validates an unpinned L4, replacing it releases the old one. */
static void baseptr(void)
{
	setup();
	build_tree();
	CHECK_EQ(pv_new_baseptr(&vu, L4, false), 0);
	CHECK_EQ(vu.guest_table, L4);
	CHECK_EQ(type(L4), PGT_l4);
	CHECK_EQ(pv_new_baseptr(&vu, L4, true), 0);
	CHECK_EQ(tcount(L4), 2);
	CHECK_EQ(pv_new_baseptr(&vu, 0, true), 0);
	CHECK_EQ(tcount(L4), 1);
	CHECK_EQ(pv_new_baseptr(&vu, DATA, false), -EINVAL); /* writable-mapped by the L1 */
	CHECK_EQ(pv_new_baseptr(&vu, SPARE, false), 0);      /* an empty page is a valid L4 */
	CHECK_EQ(type(L4), PGT_none);
	CHECK_EQ(refs(SPARE), 2);
	CHECK_EQ(pv_new_baseptr(&vu, DOM0_FRAME, false), -EINVAL);
	CHECK_EQ(pv_new_baseptr(&vu, 0, false), -EINVAL);
	CHECK_EQ(vu.guest_table, SPARE);
}

/* update_va_mapping walks the current L4 to the L1 entry; hv's range and holes fail. */
static void update_va(void)
{
	setup();
	build_tree();
	CHECK_EQ(pv_update_va_mapping(&vu, &domu, 0x400000, ent(DATA2, RWE)), -EINVAL);
	CHECK_EQ(pv_new_baseptr(&vu, L4, false), 0);
	CHECK_EQ(pv_update_va_mapping(&vu, &domu, 0x400000, ent(DATA2, RWE)), 0);
	CHECK_EQ(pte_mfn(fake_mem[L1][0]), DATA2);
	CHECK_EQ(type(DATA), PGT_none);
	CHECK_EQ(pv_update_va_mapping(&vu, &domu, 0x402000, ent(SPARE, RO)), 0);
	CHECK_EQ(refs(SPARE), 2);
	CHECK_EQ(pv_update_va_mapping(&vu, &domu, 0x800000, ent(SPARE, RO)), -EINVAL);
	CHECK_EQ(pv_update_va_mapping(&vu, &domu, 0xffff800000000000ull, 0), -EINVAL);
	CHECK_EQ(pv_update_va_mapping(&vu, &domu, 0x0000800000000000ull, 0), -EINVAL);
	/* Unmapping the L1's own RO mapping then mapping it RW is refused (it is a table). */
	CHECK_EQ(pv_update_va_mapping(&vu, &domu, 0x401000, ent(L1, RWE)), -EBUSY);
}

/* Descriptor checks: code/data DPL raised to 3, TSS/LDT/interrupt gates refused. */
static void descriptors(void)
{
	uint64_t code0 = 0x00af9b000000ffffull; /* DPL 0 64-bit code */
	uint64_t tss = 0x00008900000000ffull;
	uint64_t notpresent = 0x00af1b000000ffffull;
	uint64_t intgate = 0x00008e0000100000ull;

	CHECK(pv_check_descriptor(&code0));
	CHECK_EQ(code0, 0x00affb000000ffffull);
	CHECK(!pv_check_descriptor(&tss));
	CHECK(pv_check_descriptor(&notpresent));
	CHECK(!pv_check_descriptor(&intgate));
}

/* set_gdt takes seg_desc references; a writable-mapped or bad frame is refused. */
static void set_gdt(void)
{
	uint64_t f[2] = {GDT, SPARE};

	setup();
	fake_mem[GDT][1] = 0x00af9b000000ffffull;
	CHECK_EQ(pv_set_gdt(&vu, f, 600), 0);
	CHECK_EQ(type(GDT), PGT_seg_desc);
	CHECK_EQ(fake_mem[GDT][1], 0x00affb000000ffffull);
	CHECK_EQ(pv_set_gdt(&vu, f, 7169), -EINVAL);
	CHECK_EQ(pv_set_gdt(&vu, f, 16), 0);
	CHECK_EQ(type(SPARE), PGT_none);
	CHECK_EQ(refs(SPARE), 1);
	fake_mem[DATA][0] = 0x00008900000000ffull; /* a TSS */
	f[0] = DATA;
	CHECK_EQ(pv_set_gdt(&vu, f, 16), -EINVAL);
	fake_mem[L1B][0] = ent(DATA2, RWE);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), 0);
	f[0] = DATA2;
	CHECK_EQ(pv_set_gdt(&vu, f, 16), -EINVAL);
	CHECK_EQ(vu.gdt_frames[0], GDT);
	/* update_descriptor: aligned, checked, into seg_desc or ordinary frames. */
	CHECK_EQ(pv_update_descriptor(&domu, ((uint64_t)GDT << 12) + 4, 0), -EINVAL);
	CHECK_EQ(pv_update_descriptor(&domu, ((uint64_t)GDT << 12) + 8, 0x00008900000000ffull),
	         -EINVAL);
	CHECK_EQ(pv_update_descriptor(&domu, ((uint64_t)GDT << 12) + 16, 0x00cf93000000ffffull), 0);
	CHECK_EQ(fake_mem[GDT][2], 0x00cff3000000ffffull);
	CHECK_EQ(pv_update_descriptor(&domu, ((uint64_t)DATA2 << 12), 0), 0);     /* writable */
	CHECK_EQ(pv_update_descriptor(&domu, ((uint64_t)L1B << 12), 0), -EINVAL); /* a table */
}

/* Tearing a domain down returns every frame to the allocator, whatever it was used as. */
static void teardown(void)
{
	uint64_t f = GDT;

	setup();
	build_tree();
	fake_mem[L4][7] = ent(L4, PTF_P | PTF_US);
	CHECK_EQ(pv_pin_table(&domu, L4, 4), 0);
	CHECK_EQ(pv_new_baseptr(&vu, L4, false), 0);
	CHECK_EQ(pv_new_baseptr(&vu, L4, true), 0);
	CHECK_EQ(pv_set_gdt(&vu, &f, 1), 0);
	fake_mem[L1B][0] = ent(SPARE, RWE);
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), 0);
	pv_relinquish_vcpu(&vu);
	for (int m = 1; m < 32; m++)
		pv_relinquish_frame(&domu, m, false);
	for (int m = 1; m < 32; m++)
		CHECK_EQ(tcount(m), 0);
	for (int m = 1; m < 32; m++)
		pv_relinquish_frame(&domu, m, true);
	CHECK_EQ(fake_frees, 31);
	CHECK_EQ(domu.tot_pages, 0);
	for (int m = 1; m < 32; m++)
		CHECK_EQ(refs(m), 0);
}

/* A frame given back while still mapped is freed only when the mapping goes away. */
static void release_mapped(void)
{
	setup();
	build_tree();
	CHECK_EQ(pv_pin_table(&domu, L1, 1), 0);
	CHECK_EQ(pv_release_frame(&domu, DATA), 0);
	CHECK_EQ(fake_frees, 0);
	CHECK_EQ(pv_release_frame(&domu, DATA), -EINVAL);
	CHECK_EQ(get_page(DATA, &domu), -EINVAL); /* no new references to a released frame */
	CHECK_EQ(pv_release_frame(&domu, L1), 0); /* pinned: the pin goes too */
	CHECK_EQ(fake_frees, 2);
}

/* Grant mappings: a domU frame mapped into dom0's L1 (refs on the granter's frame), never
 * replaced by an ordinary update, unmapped only by frame; a pinned frame cannot be granted RW. */
static void grant_mappings(void)
{
	bool flush = false;
	uint64_t l1 = DOM0_FRAME;

	setup();
	CHECK_EQ(pv_pin_table(&dom0, l1, 1), 0);
	CHECK_EQ(pv_grant_map_l1e(&dom0, l1, 3, DATA, true, false, &domu), 0);
	CHECK_EQ(refs(DATA), 2);
	CHECK_EQ(type(DATA), PGT_writable);
	CHECK(fake_mem[l1][3] & PTF_GNTTAB);
	CHECK_EQ(pv_grant_map_l1e(&dom0, l1, 3, DATA2, false, false, &domu), -EINVAL); /* a grant */
	CHECK_EQ(pv_mmu_normal_update(&dom0, &dom0, (l1 << 12) + 3 * 8, 0, false, &flush), -EINVAL);
	CHECK_EQ(pv_grant_unmap_l1e(&dom0, l1, 3, DATA2), -EINVAL); /* not that frame */
	CHECK_EQ(pv_grant_unmap_l1e(&dom0, l1, 3, DATA), 0);
	CHECK_EQ(refs(DATA), 1);
	CHECK_EQ(tcount(DATA), 0);
	CHECK_EQ(fake_mem[l1][3], 0);
	CHECK_EQ(pv_grant_unmap_l1e(&dom0, l1, 3, DATA), -EINVAL);
	/* A table of the granter cannot be mapped writable; read-only is fine. */
	CHECK_EQ(pv_pin_table(&domu, L1B, 1), 0);
	CHECK_EQ(pv_grant_map_l1e(&dom0, l1, 4, L1B, true, false, &domu), -EBUSY);
	CHECK_EQ(pv_grant_map_l1e(&dom0, l1, 4, L1B, false, false, &domu), 0);
	/* An ordinary mapping in the way is replaced, its references dropped. */
	CHECK_EQ(pv_mmu_normal_update(&dom0, &dom0, (l1 << 12) + 5 * 8, ent(DOM0_FRAME + 2, RWE),
	                              false, &flush),
	         0);
	CHECK_EQ(refs(DOM0_FRAME + 2), 2);
	CHECK_EQ(pv_grant_map_l1e(&dom0, l1, 5, DATA2, false, false, &domu), 0);
	CHECK_EQ(refs(DOM0_FRAME + 2), 1);
	CHECK_EQ(type(DOM0_FRAME + 2), PGT_none);
	/* unmap_and_replace: entry 5's grant is replaced by entry 6's mapping, which moves
	 * with its references; the grant's go. */
	CHECK_EQ(pv_mmu_normal_update(&dom0, &dom0, (l1 << 12) + 6 * 8, ent(DOM0_FRAME + 2, RWE),
	                              false, &flush),
	         0);
	CHECK_EQ(pv_grant_replace_l1e(&dom0, l1, 5, DATA, l1, 6), -EINVAL);  /* not that frame */
	CHECK_EQ(pv_grant_replace_l1e(&dom0, l1, 5, DATA2, l1, 5), -EINVAL); /* itself */
	CHECK_EQ(pv_grant_replace_l1e(&dom0, l1, 5, DATA2, l1, 6), 0);
	CHECK_EQ(pte_mfn(fake_mem[l1][5]), DOM0_FRAME + 2);
	CHECK_EQ(fake_mem[l1][6], 0);
	CHECK_EQ(refs(DOM0_FRAME + 2), 2);
	CHECK_EQ(type(DOM0_FRAME + 2), PGT_writable);
	CHECK_EQ(refs(DATA2), 1);
	CHECK_EQ(pv_grant_map_l1e(&dom0, l1, 6, DATA2, false, false, &domu), 0);
	/* Not an L1 of the mapping domain: refused. */
	CHECK_EQ(pv_grant_map_l1e(&dom0, DOM0_FRAME + 1, 0, DATA, false, false, &domu), -EINVAL);
	/* Teardown of the mapper's table releases the grant's references too. */
	CHECK_EQ(pv_unpin_table(&dom0, l1), 0);
	CHECK_EQ(refs(L1B), 2); /* allocation + its pin */
	CHECK_EQ(refs(DATA2), 1);
	CHECK_EQ(refs(DOM0_FRAME + 2), 1);
}

/*
 * Random operation sequences (pin/unpin at every level, checked updates of random entries
 * with random flags and targets, base pointers, releases), then teardown. Whatever the
 * sequence did or refused, every frame must go back to the allocator with zero counts, and
 * at every step a frame's type count never exceeds its general count.
 */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
}

static uint64_t random_entry(void)
{
	static const uint64_t flag_sets[] = {
	    0,           PTF_P,        PTF_P | PTF_RW,   PT,         RO, RWE, RWE | PTF_PSE,
	    RWE | PTF_G, RO | PTF_PCD, RWE | PTF_GNTTAB, PT | PTF_NX};
	uint64_t mfn = rnd(10) == 0 ? 32 + rnd(32) : 1 + rnd(31); /* mostly own frames */

	return ent(mfn, flag_sets[rnd(sizeof(flag_sets) / sizeof(flag_sets[0]))]);
}

static void random_sequences(void)
{
	unsigned long pins_ok = 0, table_updates_ok = 0;

	for (int run = 0; run < 300; run++) {
		bool flush;

		fake_reset();
		setup();
		for (int step = 0; step < 400; step++) {
			uint64_t mfn = 1 + rnd(31);

			switch (rnd(8)) {
			case 0:
				if (pv_pin_table(&domu, mfn, 1 + (int)rnd(4)) == 0)
					pins_ok++;
				break;
			case 1:
				pv_unpin_table(&domu, mfn);
				break;
			case 2:
			case 3:
			case 4:
				if (pv_mmu_normal_update(&domu, &domu,
				                         (mfn << 12) | (rnd(512) << 3),
				                         random_entry(), rnd(2), &flush) == 0 &&
				    fake_frames[mfn].type_count)
					table_updates_ok++;
				break;
			case 5:
				pv_new_baseptr(&vu, rnd(4) ? mfn : 0, rnd(2));
				break;
			case 6:
				pv_update_va_mapping(&vu, &domu, rnd(1ull << 32) & ~0xfffull,
				                     random_entry());
				break;
			case 7:
				if (rnd(20) == 0)
					pv_release_frame(&domu, mfn);
				break;
			}
			for (int m = 0; m < 32; m++)
				if (fake_frames[m].type_count > fake_frames[m].refs) {
					CHECK(fake_frames[m].type_count <= fake_frames[m].refs);
					return;
				}
		}
		pv_relinquish_vcpu(&vu);
		for (int m = 1; m < 32; m++)
			pv_relinquish_frame(&domu, m, false);
		for (int m = 1; m < 32; m++)
			pv_relinquish_frame(&domu, m, true);
		for (int m = 1; m < 32; m++) {
			if (fake_frames[m].refs || fake_frames[m].type_count) {
				fprintf(stderr, "run %d: frame %d refs %u type_count %u type %u\n",
				        run, m, fake_frames[m].refs, fake_frames[m].type_count,
				        fake_frames[m].type);
				CHECK(0);
				return;
			}
		}
		CHECK_EQ(fake_frees, 31);
		CHECK_EQ(domu.tot_pages, 0);
		for (int m = 32; m < 48; m++) /* dom0's frames were never touched by domU */
			CHECK_EQ(fake_frames[m].refs, 1);
		if (test_failures)
			return;
	}
	/* The sequences must have built real tables, or they prove nothing. */
	CHECK(pins_ok > 1000);
	CHECK(table_updates_ok > 1000);
	printf("(%lu pins, %lu checked table updates)\n", pins_ok, table_updates_ok);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"pin_tree", pin_tree},
	    {"pin_adjusts_entries", pin_adjusts_entries},
	    {"unpin_releases", unpin_releases},
	    {"pin_twice", pin_twice},
	    {"unpin_not_pinned", unpin_not_pinned},
	    {"pin_l4_with_writable_l3", pin_l4_with_writable_l3},
	    {"map_table_rw", map_table_rw},
	    {"l1_maps_itself_rw", l1_maps_itself_rw},
	    {"forbidden_flags", forbidden_flags},
	    {"io_memory", io_memory},
	    {"ownership", ownership},
	    {"linear_tables", linear_tables},
	    {"mmu_update_l1", mmu_update_l1},
	    {"mmu_update_upper", mmu_update_upper},
	    {"mmu_update_plain", mmu_update_plain},
	    {"preserve_ad", preserve_ad},
	    {"machphys", machphys},
	    {"baseptr", baseptr},
	    {"update_va", update_va},
	    {"descriptors", descriptors},
	    {"set_gdt", set_gdt},
	    {"teardown", teardown},
	    {"release_mapped", release_mapped},
	    {"grant_mappings", grant_mappings},
	    {"random_sequences", random_sequences},
	};
	return run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
