/*
 * Shared helpers of the PV self-test cases (st-*.c).
 */
#ifndef GK_PV_ST_H
#define GK_PV_ST_H

#include <kernel.h>
#include <mm.h>
#include <selftest.h>
#include <klib/string.h>
#include "pv.h"

/* An address inside the hypervisor's reserved range (L4 slot 262, Xen's direct map). */
#define ST_HV_PTR ((void *)0xffff830000000000UL)
/* A canonical kernel address that is never mapped (scratch L1 slot 511). */
#define ST_UNMAPPED_PTR ((void *)(PV_SCRATCH_BASE + 511 * PAGE_SIZE))
/* Scratch virtual pages 0..15 for cases that map something; each case unmaps what it maps. */
#define ST_SCRATCH_VA(i) (PV_SCRATCH_BASE + (unsigned long)(i)*PAGE_SIZE)

/*
 * The error a checked L1 update returns when the target frame cannot be taken with the type
 * the entry asks for: not ours, or a page table / hypervisor page mapped writable. Xen 4.17
 * returns -EBUSY on that path (get_page_from_l1e's "could not pin"), not -EINVAL; other
 * refusals (bad flags, frames beyond memory, superpages, reserved L4 slots) are -EINVAL.
 */
#define ST_EL1_REFUSED (-XEN_EBUSY)

/* Read a byte at `va`, recovering from a fault: returns 0 and the byte, or the vector + 1. */
static inline int st_probe_read(unsigned long va, uint8_t *value)
{
	uint64_t before = pv_last_trap.count;
	uint8_t v = 0;

	__asm__ __volatile__("1: movb (%1), %0\n\t"
	                     "2:\n\t" EXTABLE(1b, 2b)
	                     : "+q"(v)
	                     : "r"(va)
	                     : "memory");
	if (pv_last_trap.count != before)
		return (int)pv_last_trap.vector + 1;
	*value = v;
	return 0;
}

/* Machine address of a page-table entry (tables are in the direct map). */
static inline uint64_t st_pte_maddr(const uint64_t *entry)
{
	return pv_virt_to_maddr(entry);
}

/* One mmu_update of one entry. */
static inline long st_mmu_update(const uint64_t *entry, uint64_t val)
{
	struct mmu_update u = {.ptr = st_pte_maddr(entry) | MMU_NORMAL_PT_UPDATE, .val = val};
	return HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
}

static inline long st_mmuext(unsigned int cmd, uint64_t arg1, uint64_t arg2)
{
	struct mmuext_op op = {.cmd = cmd, .arg1.mfn = arg1, .arg2.src_mfn = arg2};
	return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/* Forced-emulation CPUID (ud2a; .ascii "xen"; cpuid). */
static inline void st_fep_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("ud2a; .ascii \"xen\"; cpuid"
	                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                     : "a"(leaf), "c"(sub));
}

#endif
