/*
 * The PV rows of the micro-benchmarks (include/microbench.h), run as a guest of the hypervisor
 * with events masked:
 *
 *   null_hypercall     xen_version(XENVER_version): SYSCALL into the hypervisor and back
 *   mmu_update         one checked PTE write with mmu_update (no flush)
 *   update_va_mapping  one PTE write by virtual address with UVMF_INVLPG
 *   ptwr               one plain store to a PTE of a live L1, emulated by the writable-page-table
 *                      assist (a write fault into the hypervisor; no flush)
 *   exception          int3 bounced to a guest handler that returns with HYPERVISOR_iret
 *   user_syscall       syscall from guest user mode: bounced to the guest's syscall callback,
 *                      which returns with HYPERVISOR_iret + VGCF_in_syscall (timed in user mode)
 *
 * The PTE rows alternate one entry of the self-test scratch L1 between two pages of ours. The
 * exception and user rows install minimal handlers (microbench-pv-entry.S) and put the kernel's own
 * trap table and syscall callback back afterwards.
 */
#include <kernel.h>
#include <microbench.h>
#include <mm.h>
#include <public/callback.h>
#include <public/version.h>
#include "pv.h"

extern char mb_pv_syscall_cb[], mb_pv_int3[];
void mb_pv_user_run(uint64_t rip, uint64_t rsp, uint64_t arg);

#define SCRATCH_SLOT 32 /* scratch L1 entries 0..15 belong to the self-tests */

static uint64_t samples[MB_MAX_ITERS];

static uint64_t user_va(const char *sym)
{
	return MB_USER_CODE_VA + (uint64_t)(sym - mb_user_code_start);
}

static void check(const char *what, long rc)
{
	if (rc)
		panic("microbench: %s failed: %ld", what, rc);
}

static void bench_pte_rows(unsigned int iters)
{
	uint64_t *e = &pv_scratch_l1[SCRATCH_SLOT];
	const unsigned long va = PV_SCRATCH_BASE + SCRATCH_SLOT * PAGE_SIZE;
	void *a = alloc_page(), *b = alloc_page();
	long rc = 0;

	if (!a || !b)
		panic("microbench: out of memory");
	uint64_t pte[2] = {pv_virt_to_maddr(a) | L1_PROT, pv_virt_to_maddr(b) | L1_PROT};
	struct mmu_update u[2] = {
	    {.ptr = pv_virt_to_maddr(e) | MMU_NORMAL_PT_UPDATE, .val = pte[0]},
	    {.ptr = pv_virt_to_maddr(e) | MMU_NORMAL_PT_UPDATE, .val = pte[1]},
	};

	MB_TIME(samples, iters, i, rc |= HYPERVISOR_mmu_update(&u[i & 1], 1, NULL, DOMID_SELF));
	check("mmu_update", rc);
	mb_report("mmu_update", samples, iters);

	MB_TIME(samples, iters, i, rc |= HYPERVISOR_update_va_mapping(va, pte[i & 1], UVMF_INVLPG));
	check("update_va_mapping", rc);
	mb_report("update_va_mapping", samples, iters);

	uint64_t traps = pv_last_trap.count;
	MB_TIME(samples, iters, i, WRITE_ONCE(*e, pte[i & 1]));
	if (pv_last_trap.count != traps || (*e & XEN_PTE_ADDR_MASK) != (pte[1] & XEN_PTE_ADDR_MASK))
		panic("microbench: the writable-page-table assist did not take the stores");
	mb_report("ptwr", samples, iters);

	check("clearing the scratch entry", HYPERVISOR_update_va_mapping(va, 0, UVMF_INVLPG));
	free_page(a);
	free_page(b);
}

static void bench_exception(unsigned int iters)
{
	struct trap_info table[2] = {
	    {.vector = 3, .flags = 4 | 3, .cs = FLAT_KERNEL_CS, .address = (uint64_t)mb_pv_int3},
	    {.address = 0},
	};

	check("set_trap_table", HYPERVISOR_set_trap_table(table));
	MB_TIME(samples, iters, i, __asm__ __volatile__("int3" ::: "memory"));
	pv_trap_table_install();
	mb_report("exception", samples, iters);
}

static void set_syscall_callback(void *entry)
{
	struct callback_register cb = {.type = CALLBACKTYPE_syscall,
	                               .flags = CALLBACKF_mask_events,
	                               .address = (uint64_t)entry};
	check("callback_op", HYPERVISOR_callback_op(CALLBACKOP_register, &cb));
}

static void bench_user_syscall(unsigned int iters)
{
	unsigned int warm = iters / 8;
	struct addr_space as;

	if (mb_user_space_create(&as))
		panic("microbench: no memory for the user address space");
	platform->as_switch(&as);
	set_syscall_callback(mb_pv_syscall_cb);
	mb_user_count = 0;
	mb_pv_user_run(user_va(mb_user_syscall_loop), MB_USER_STACK_TOP, warm + iters + 1);
	set_syscall_callback(pv_syscall_entry);
	platform->as_switch(NULL);
	mb_user_space_destroy(&as);
	if (mb_user_count != warm + iters)
		panic("microbench: user loop handed in %u samples, expected %u", mb_user_count,
		      warm + iters);
	/* Batch b hands in the sample of batch b - 1: skip the warm-up. */
	mb_report("user_syscall", &mb_user_samples[warm], iters);
}

void microbench_pv(unsigned int iters)
{
	MB_TIME(samples, iters, i, HYPERVISOR_xen_version(XENVER_version, NULL));
	mb_report("null_hypercall", samples, iters);
	bench_pte_rows(iters);
	bench_exception(iters);
	bench_user_syscall(iters);
}
