/*
 * What processes need from the PV platform: page-table operations as validated hypercalls,
 * address-space switches, and the way into user mode.
 *
 * Batching: pt_write/pt_seal/pt_unseal/tlb_flush/as_create/as_destroy only queue work; one
 * pt_commit() submits it as a single multicall whose entries are, in order, mmu_update runs
 * (up to 2048 requests in all, as the paper batched), update_va_mapping calls (sealing makes a
 * page read-only in the direct map) and mmuext_op runs (pin, unpin, flush). A full queue is
 * submitted on its own. Any failure is a kernel bug (the kernel only asks for what it owns) and
 * panics with the failing call.
 *
 * Address spaces: 64-bit PV kernels and user space both run in ring 3, so each process has two
 * roots (as Linux has): the kernel root (our kernel L4 slots plus the user slot 0) loaded with
 * NEW_BASEPTR, and the user root (slot 0 only) loaded with NEW_USER_BASEPTR, which the
 * hypervisor switches to on every return to user mode. Both share the process's L3.
 */
#include <kernel.h>
#include <mm.h>
#include <klib/string.h>
#include "pv.h"

#define BATCH_CALLS 64
#define BATCH_REQS  2048
#define BATCH_EXT   128
#define BATCH_FREE  64

enum { K_NONE, K_MMU, K_EXT, K_UVA };

static multicall_entry_t calls[BATCH_CALLS];
static unsigned int ncalls, last_kind;
static mmu_update_t reqs[BATCH_REQS];
static unsigned int nreqs;
static struct mmuext_op exts[BATCH_EXT];
static unsigned int nexts;
static void *to_free[BATCH_FREE];
static unsigned int nfree;

static const char *call_name(uint64_t op)
{
	switch (op) {
	case __HYPERVISOR_mmu_update:
		return "mmu_update";
	case __HYPERVISOR_mmuext_op:
		return "mmuext_op";
	case __HYPERVISOR_update_va_mapping:
		return "update_va_mapping";
	}
	return "?";
}

static void pv_pt_commit(void)
{
	long rc;

	if (ncalls == 0)
		return;
	if (ncalls == 1 && calls[0].op == __HYPERVISOR_mmu_update)
		calls[0].result = (uint64_t)HYPERVISOR_mmu_update(
		    reqs, (unsigned int)calls[0].args[1], NULL, DOMID_SELF);
	else if (ncalls == 1 && calls[0].op == __HYPERVISOR_mmuext_op)
		calls[0].result = (uint64_t)HYPERVISOR_mmuext_op(
		    (void *)calls[0].args[0], (unsigned int)calls[0].args[1], NULL, DOMID_SELF);
	else if ((rc = HYPERVISOR_multicall(calls, ncalls)))
		panic("pv: multicall of %u calls failed: %ld", ncalls, rc);
	for (unsigned int i = 0; i < ncalls; i++)
		if (calls[i].result)
			panic("pv: batched %s (entry %u of %u, arg0 %#llx arg1 %#llx) failed: %ld",
			      call_name(calls[i].op), i, ncalls,
			      (unsigned long long)calls[i].args[0],
			      (unsigned long long)calls[i].args[1], (long)calls[i].result);
	ncalls = nreqs = nexts = 0;
	last_kind = K_NONE;
	while (nfree)
		free_page(to_free[--nfree]);
}

static multicall_entry_t *new_call(unsigned int kind)
{
	if (ncalls == BATCH_CALLS)
		pv_pt_commit();
	multicall_entry_t *m = &calls[ncalls++];
	memset(m, 0, sizeof(*m));
	m->result = 0;
	last_kind = kind;
	return m;
}

static void pv_pt_write(uint64_t *entry, uint64_t value)
{
	if (nreqs == BATCH_REQS)
		pv_pt_commit();
	if (last_kind != K_MMU) {
		multicall_entry_t *m = new_call(K_MMU);
		m->op = __HYPERVISOR_mmu_update;
		m->args[0] = (uint64_t)&reqs[nreqs];
		m->args[1] = 0;
		m->args[2] = 0;
		m->args[3] = DOMID_SELF;
	}
	reqs[nreqs].ptr = pv_virt_to_maddr(entry) | MMU_NORMAL_PT_UPDATE;
	reqs[nreqs].val = value;
	nreqs++;
	calls[ncalls - 1].args[1]++;
}

static void pv_pte_set_current(uint64_t va, uint64_t *entry, uint64_t value)
{
	long rc;

	pv_pt_commit();
	if ((rc = HYPERVISOR_update_va_mapping(va, value, UVMF_INVLPG)))
		panic("pv: update_va_mapping(%#llx, %#llx) failed: %ld", (unsigned long long)va,
		      (unsigned long long)value, rc);
}

static void queue_ext(unsigned int cmd, uint64_t arg1)
{
	if (nexts == BATCH_EXT)
		pv_pt_commit();
	if (last_kind != K_EXT) {
		multicall_entry_t *m = new_call(K_EXT);
		m->op = __HYPERVISOR_mmuext_op;
		m->args[0] = (uint64_t)&exts[nexts];
		m->args[1] = 0;
		m->args[2] = 0;
		m->args[3] = DOMID_SELF;
	}
	memset(&exts[nexts], 0, sizeof(exts[nexts]));
	exts[nexts].cmd = cmd;
	exts[nexts].arg1.mfn = arg1;
	nexts++;
	calls[ncalls - 1].args[1]++;
}

static void queue_uva(void *va, uint64_t pte, uint64_t flags)
{
	multicall_entry_t *m = new_call(K_UVA);
	m->op = __HYPERVISOR_update_va_mapping;
	m->args[0] = (uint64_t)va;
	m->args[1] = pte;
	m->args[2] = flags;
}

static void pv_pt_seal(void *table)
{
	queue_uva(table, (pv_virt_to_mfn(table) << PAGE_SHIFT) | L1_PROT_RO, UVMF_NONE);
}

static void pv_pt_unseal(void *table)
{
	/* INVLPG: the kernel writes the page (free_page poisons it) right after. */
	queue_uva(table, (pv_virt_to_mfn(table) << PAGE_SHIFT) | L1_PROT, UVMF_INVLPG);
}

static uint64_t pv_pte_make(uint64_t pfn, uint64_t flags)
{
	return (pv_p2m[pfn] << PAGE_SHIFT) | flags;
}

static uint64_t pv_pte_pfn(uint64_t pte)
{
	return pv_m2p()[(pte & XEN_PTE_ADDR_MASK) >> PAGE_SHIFT];
}

/* The kernel's own L4 slots: the direct map (511) and the self-test scratch area (510). */
#define KERNEL_SLOT  511
#define SCRATCH_SLOT 510

static int pv_as_create(struct addr_space *as)
{
	uint64_t *l4 = alloc_page(), *l4u = alloc_page();

	if (!l4 || !l4u) {
		if (l4)
			free_page(l4);
		if (l4u)
			free_page(l4u);
		return -1;
	}
	l4[KERNEL_SLOT] = pv_kernel_l4[KERNEL_SLOT];
	l4[SCRATCH_SLOT] = pv_kernel_l4[SCRATCH_SLOT];
	l4[0] = l4u[0] = pv_pte_make(virt_to_pfn(as->l3), TABLE_PROT);
	pv_pt_seal(l4);
	pv_pt_seal(l4u);
	queue_ext(MMUEXT_PIN_L4_TABLE, pv_virt_to_mfn(l4));
	queue_ext(MMUEXT_PIN_L4_TABLE, pv_virt_to_mfn(l4u));
	as->l4 = l4;
	as->l4_user = l4u;
	return 0;
}

static void pv_as_destroy(struct addr_space *as)
{
	queue_ext(MMUEXT_UNPIN_TABLE, pv_virt_to_mfn(as->l4));
	queue_ext(MMUEXT_UNPIN_TABLE, pv_virt_to_mfn(as->l4_user));
	pv_pt_unseal(as->l4);
	pv_pt_unseal(as->l4_user);
	if (nfree + 2 > BATCH_FREE)
		pv_pt_commit();
	to_free[nfree++] = as->l4;
	to_free[nfree++] = as->l4_user;
	as->l4 = as->l4_user = NULL;
}

static void pv_as_switch(struct addr_space *as)
{
	struct mmuext_op ops[2] = {
	    {.cmd = MMUEXT_NEW_BASEPTR, .arg1.mfn = pv_virt_to_mfn(as ? as->l4 : pv_kernel_l4)},
	    {.cmd = MMUEXT_NEW_USER_BASEPTR,
	     .arg1.mfn = pv_virt_to_mfn(as ? as->l4_user : pv_user_l4)},
	};
	long rc;

	pv_pt_commit();
	if ((rc = HYPERVISOR_mmuext_op(ops, 2, NULL, DOMID_SELF)))
		panic("pv: address-space switch failed: %ld", rc);
}

static void pv_tlb_flush(void)
{
	queue_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
}

static void pv_tlb_flush_page(uint64_t va)
{
	if (nexts == BATCH_EXT)
		pv_pt_commit();
	queue_ext(MMUEXT_INVLPG_LOCAL, 0);
	exts[nexts - 1].arg1.linear_addr = va;
}

static void pv_user_frame_init(struct trap_frame *f, uint64_t rip, uint64_t rsp)
{
	f->rip = rip;
	f->rsp = rsp;
	f->cs = FLAT_USER_CS;
	f->ss = FLAT_USER_SS;
	f->rflags = 0x202; /* IF: events enabled in user mode */
	f->iret_flags = 0;
}

extern __noreturn void pv_return_with_frame(struct trap_frame *f);

static __noreturn void pv_user_enter(const struct trap_frame *f)
{
	uintptr_t stack_top = (uintptr_t)pv_kernel_stack_top;
	struct trap_frame *top = (struct trap_frame *)(stack_top - sizeof(struct trap_frame));

	*top = *f;
	top->iret_flags = 0;
	pv_return_with_frame(top);
}

void pv_proc_ops_init(struct platform_ops *ops)
{
	ops->console_read = pv_console_read;
	ops->pte_make = pv_pte_make;
	ops->pte_pfn = pv_pte_pfn;
	ops->pt_seal = pv_pt_seal;
	ops->pt_unseal = pv_pt_unseal;
	ops->pt_write = pv_pt_write;
	ops->pt_commit = pv_pt_commit;
	ops->pte_set_current = pv_pte_set_current;
	ops->as_create = pv_as_create;
	ops->as_destroy = pv_as_destroy;
	ops->as_switch = pv_as_switch;
	ops->tlb_flush = pv_tlb_flush;
	ops->tlb_flush_page = pv_tlb_flush_page;
	ops->user_frame_init = pv_user_frame_init;
	ops->user_enter = pv_user_enter;
}
