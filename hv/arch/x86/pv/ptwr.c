/*
 * Writable page tables, hv side: a guest-kernel write fault on a read-only mapping of one of
 * its own L1 tables is emulated (the instruction by ptwr-emul.c, the new entry checked by
 * mm.c exactly as mmu_update would). Anything that does not fit - not an L1, an instruction
 * we do not emulate, an entry that does not validate - leaves the fault to the guest.
 */
#include <asm/processor.h>

#include "guest-access.h"
#include "mm.h"
#include "ptwr.h"
#include "pv.h"
#include "regs-util.h"

bool pv_ptwr_fault(struct vcpu *v, struct cpu_user_regs *regs, uint64_t cr2)
{
	struct domain *d = v->domain;
	struct ptwr_regs pr;
	struct ptwr_insn in;
	struct pv_frame *pg;
	uint8_t insn[16];
	size_t len;
	uint64_t l1, e, target, old, new_entry;
	unsigned int idx, i;
	bool store, flush = false;
	int rc;

	pv_lock();
	if (pv_linear_to_l1e(v, cr2, &l1, &idx))
		goto no;
	e = pv_frame_map(l1)[idx];
	if (!(e & PTF_P) || (e & PTF_RW))
		goto no;
	target = pte_mfn(e);
	pg = pv_frame(target);
	if (!pg || pg->type != PGT_l1 || !(pg->flags & PGF_validated) || pg->owner != d->domain_id)
		goto no;
	pv_unlock();

	if (!pv_fetch_insn(regs, insn, &len))
		return false;
	for (i = 0; i < 16; i++)
		pr.gpr[i] = *gpr_slot(regs, i);
	pr.rip = regs->rip;
	pr.rflags = regs->rflags;
	pr.fs_base = rdmsr(MSR_FS_BASE);
	pr.gs_base = rdmsr(MSR_KERNEL_GS_BASE); /* the guest's active GS while hv runs */
	if (!ptwr_decode(insn, len, &pr, cr2, &in))
		return false;

	pv_lock();
	old = pv_frame_map(target)[(cr2 & 0xfff) >> 3];
	ptwr_execute(&in, &pr, old, &new_entry, &store);
	if (store) {
		rc = pv_mmu_normal_update(d, d, (target << 12) | (cr2 & 0xff8), new_entry, false,
		                          &flush);
		if (rc)
			goto no;
	}
	pv_unlock();
	for (i = 0; i < 16; i++)
		*gpr_slot(regs, i) = pr.gpr[i];
	regs->rip = pr.rip;
	regs->rflags = pr.rflags;
	return true;
no:
	pv_unlock();
	return false;
}
