/*
 * Switching a pCPU from one PV vCPU to another (or to idle), and giving a secondary vCPU its
 * first context (VCPUOP_initialise). The policy is elsewhere (hv/common/schedule.c); this file
 * only saves and loads.
 *
 * What a vCPU owns in the CPU while it runs, and where it goes while it does not:
 *   general registers, RIP, RSP, RFLAGS  the frame at the top of the pCPU's stack -> vs->regs
 *   FPU/SSE state                        FXSAVE image vs->fpu (eagerly, on every switch)
 *   virtual CR0.TS (fpu_taskswitch)      CR0.TS, from pv->fpu_ts
 *   DS, ES, FS, GS selectors             vs->ds ... (kept as loaded; checked with VERR on load)
 *   FS base, active GS base              MSR_FS_BASE, MSR_KERNEL_GS_BASE (while hv runs)
 *   page tables                          CR3 = kernel or user L4 by pv->kernel_mode
 *   GDT                                  this pCPU's GDT window (pv_install_gdt)
 *   debug registers                      DR0-3, DR7 from pv->dr[]
 * The TSS rsp0 is the pCPU's stack top for every vCPU, so nothing changes there.
 *
 * Invariant: vs->running is true exactly while the vCPU's state is in some pCPU (from load to
 * the end of save). A pCPU that picks a vCPU whose previous pCPU is still saving it waits for
 * running to drop: that pCPU is on its way out with interrupts off, so the wait is short.
 * Dropping running is save()'s last write to the vCPU: a destroy waits for it before freeing.
 *
 * Every switch flushes the whole TLB (CR4.PGE toggled): guest user mappings are global, and a
 * vCPU that missed a TLB-flush IPI while it was not running starts clean.
 */
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/sched-if.h>
#include <asm/paging.h>
#include <asm/processor.h>

#include "guest-access.h"
#include "mm.h"
#include "pv.h"

#define cpu_user_regs guest_cpu_user_regs
#include <public/vcpu.h>
#undef cpu_user_regs

#define CR0_TS        (1UL << 3)
#define MXCSR_DEFAULT 0x1f80
#define MXCSR_VALID   0xffbfu /* everything but DAZ, which not every CPU has */

static void fxsave(uint8_t *buf)
{
	__asm__ __volatile__("fxsaveq %0" : "=m"(*(uint8_t(*)[512])buf));
}

static void fxrstor(const uint8_t *buf)
{
	__asm__ __volatile__("fxrstorq %0" ::"m"(*(const uint8_t(*)[512])buf));
}

static void clts(void)
{
	__asm__ __volatile__("clts");
}

#define READ_SEG(seg, var) __asm__ __volatile__("mov %%" #seg ", %0" : "=r"(var))

/* Is sel loadable into a data segment register now (null, or readable at its RPL)? */
static bool data_sel_ok(uint16_t sel)
{
	bool ok;

	if ((sel & ~3) == 0)
		return true;
	__asm__ __volatile__("verr %1; setz %0" : "=qm"(ok) : "r"(sel) : "cc");
	return ok;
}

static void write_dr(unsigned int n, uint64_t val)
{
	switch (n) {
	case 0:
		__asm__ __volatile__("mov %0, %%dr0" ::"r"(val));
		break;
	case 1:
		__asm__ __volatile__("mov %0, %%dr1" ::"r"(val));
		break;
	case 2:
		__asm__ __volatile__("mov %0, %%dr2" ::"r"(val));
		break;
	case 3:
		__asm__ __volatile__("mov %0, %%dr3" ::"r"(val));
		break;
	case 7:
		__asm__ __volatile__("mov %0, %%dr7" ::"r"(val));
		break;
	}
}

void arch_vcpu_init_context(struct vcpu *v)
{
	struct vcpu_sched *vs = v->sched;

	memset(vs->fpu, 0, sizeof(vs->fpu));
	*(uint16_t *)&vs->fpu[0] = 0x37f; /* FCW after FNINIT */
	*(uint32_t *)&vs->fpu[24] = MXCSR_DEFAULT;
	vs->ds = vs->es = vs->fs = vs->gs = 0;
	vs->fs_base = vs->gs_base_active = 0;
}

/* Copies v's runstate into its registered area; v's kernel page tables must be loadable. */
static void write_runstate_area(struct vcpu *v)
{
	struct pv_vcpu *p = pv(v);
	struct {
		int32_t state;
		uint32_t pad;
		uint64_t entry;
		uint64_t time[4];
	} ri;
	bool flag = v->domain->vm_assist & (1UL << VMASST_TYPE_runstate_update_flag);
	uint64_t marked;

	if (!p->runstate_gva || !v->guest_table)
		return;
	memset(&ri, 0, sizeof(ri));
	sched_vcpu_runstate_info(v, &ri.state, &ri.entry, ri.time);
	write_cr3(v->guest_table << PAGE_SHIFT);
	if (flag) { /* XEN_RUNSTATE_UPDATE: the guest sees an update in progress */
		marked = ri.entry | (1ULL << 63);
		if (copy_to_guest(p->runstate_gva + 8, &marked, 8))
			return;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (copy_to_guest(p->runstate_gva, &ri, sizeof(ri)))
		return; /* a bad area is the guest's loss */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void arch_update_runstate_area(struct vcpu *v)
{
	write_runstate_area(v);
	write_cr3(pv_current_cr3(v));
}

static void save(struct vcpu *prev, const struct cpu_user_regs *regs)
{
	struct vcpu_sched *vs = prev->sched;
	struct pv_vcpu *p = pv(prev);

	if (regs)
		vs->regs = *regs;
	clts();
	fxsave(vs->fpu);
	READ_SEG(ds, vs->ds);
	READ_SEG(es, vs->es);
	READ_SEG(fs, vs->fs);
	READ_SEG(gs, vs->gs);
	vs->fs_base = rdmsr(MSR_FS_BASE);
	vs->gs_base_active = rdmsr(MSR_KERNEL_GS_BASE);
	p->fs_base = vs->fs_base;
	if (p->dr[7] & 0xff)
		write_dr(7, 0x400);
	write_runstate_area(prev);
	__atomic_store_n(&prev->on_cpu, -1, __ATOMIC_SEQ_CST);
	/* The last touch of prev: once running drops, a destroy may free it (schedule.c). */
	__atomic_store_n(&vs->running, false, __ATOMIC_RELEASE);
}

static void load_segments(struct vcpu_sched *vs)
{
	uint64_t hv_gs = rdmsr(MSR_GS_BASE);
	uint16_t ds = data_sel_ok(vs->ds) ? vs->ds : 0, es = data_sel_ok(vs->es) ? vs->es : 0;
	uint16_t fs = data_sel_ok(vs->fs) ? vs->fs : 0, gs = data_sel_ok(vs->gs) ? vs->gs : 0;

	__asm__ __volatile__("mov %0, %%ds" ::"r"(ds));
	__asm__ __volatile__("mov %0, %%es" ::"r"(es));
	__asm__ __volatile__("mov %0, %%fs" ::"r"(fs));
	__asm__ __volatile__("mov %0, %%gs" ::"r"(gs));
	wrmsr(MSR_GS_BASE, hv_gs); /* loading GS replaced hv's per-CPU base */
	wrmsr(MSR_FS_BASE, vs->fs_base);
	wrmsr(MSR_KERNEL_GS_BASE, vs->gs_base_active);
}

static void __noreturn load(struct vcpu *next)
{
	struct vcpu_sched *vs = next->sched;
	struct pv_vcpu *p = pv(next);

	while (__atomic_load_n(&vs->running, __ATOMIC_ACQUIRE))
		cpu_relax(); /* its last pCPU is still saving it */
	vs->running = true;
	vs->cpu = smp_processor_id();
	next->on_cpu = (int)smp_processor_id();
	vs->polling = false;
	next->polling = false;

	pv_install_gdt(next);
	load_segments(vs);
	clts();
	fxrstor(vs->fpu);
	if (p->fpu_ts)
		write_cr0(read_cr0() | CR0_TS);
	if (p->dr[7] & 0xff) {
		for (unsigned int i = 0; i < 4; i++)
			write_dr(i, p->dr[i]);
		write_dr(7, p->dr[7]);
	}
	pv_update_vcpu_time(next);
	write_runstate_area(next);
	write_cr3(pv_current_cr3(next));
	flush_tlb_all_local();
	pv_enter_frame(&vs->regs);
}

/* The idle vCPU of this pCPU: halt with interrupts on until the scheduler has work here. */
void sched_idle_body(void) __attribute__((noreturn, used));
void sched_idle_body(void)
{
	for (;;) {
		local_irq_disable();
		sched_softirq(NULL);
		safe_halt();
	}
}

void arch_idle(void)
{
	write_dr(7, 0x400);
	write_cr3(virt_to_maddr(idle_pg_table));
	__asm__ __volatile__("mov %0, %%rsp; call sched_idle_body" ::"r"(this_cpu()->stack_top));
	__builtin_unreachable();
}

void arch_context_switch(struct vcpu *prev, struct vcpu *next, struct cpu_user_regs *regs)
{
	if (prev)
		save(prev, regs);
	if (!next)
		arch_idle();
	load(next);
}

/* ---- VCPUOP_initialise ----------------------------------------------------------------------- */

static bool canonical(uint64_t a)
{
	return ((int64_t)a >> 47) == 0 || ((int64_t)a >> 47) == -1;
}

long arch_vcpu_initialise(struct vcpu *caller, struct vcpu *target, uint64_t arg)
{
	struct vcpu_sched *vs = target->sched;
	struct pv_vcpu *p = pv(target);
	struct vcpu_guest_context *c;
	struct domain *d = target->domain;
	unsigned int nr_gdt;
	long rc = 0;

	if (vs->initialised)
		return -EEXIST;
	c = alloc_pages_virt(1);
	if (!c)
		return -ENOMEM;
	if (copy_from_guest(c, arg, sizeof(*c))) {
		rc = -EFAULT;
		goto out;
	}
	nr_gdt = (unsigned int)((c->gdt_ents + 511) / 512);
	if (!canonical(c->user_regs.rip) || !canonical(c->user_regs.rsp) ||
	    !canonical(c->event_callback_eip) || !canonical(c->failsafe_callback_eip) ||
	    !canonical(c->syscall_callback_eip) || !canonical(c->fs_base) ||
	    !canonical(c->gs_base_kernel) || !canonical(c->gs_base_user) ||
	    c->gdt_ents > FIRST_RESERVED_GDT_ENTRY || nr_gdt > 14 || c->ldt_ents > 8192 ||
	    (c->ctrlreg[3] >> PAGE_SHIFT) == 0) {
		rc = -EINVAL;
		goto out;
	}
	for (unsigned int i = 0; i < 256; i++)
		if (c->trap_ctxt[i].address && !canonical(c->trap_ctxt[i].address)) {
			rc = -EINVAL;
			goto out;
		}

	pv_lock();
	rc = pv_new_baseptr(target, c->ctrlreg[3] >> PAGE_SHIFT, false);
	if (rc == 0 && (c->ctrlreg[1] >> PAGE_SHIFT)) {
		rc = pv_new_baseptr(target, c->ctrlreg[1] >> PAGE_SHIFT, true);
		if (rc)
			pv_relinquish_vcpu(target);
	}
	if (rc == 0 && c->gdt_ents) {
		rc = pv_set_gdt(target, c->gdt_frames, (unsigned int)c->gdt_ents);
		if (rc)
			pv_relinquish_vcpu(target);
	}
	if (rc == 0)
		rc = pv_set_ldt(target, c->ldt_base, (unsigned int)c->ldt_ents);
	pv_unlock();
	if (rc)
		goto out;

	for (unsigned int i = 0; i < 256; i++) {
		p->trap_ctxt[i] = c->trap_ctxt[i];
		p->trap_ctxt[i].cs |= 3;
	}
	p->callback[CALLBACKTYPE_event] = c->event_callback_eip;
	p->callback[CALLBACKTYPE_failsafe] = c->failsafe_callback_eip;
	p->callback[CALLBACKTYPE_syscall] = c->syscall_callback_eip;
	p->callback_masks[CALLBACKTYPE_failsafe] = c->flags & VGCF_failsafe_disables_events;
	p->callback_masks[CALLBACKTYPE_syscall] = c->flags & VGCF_syscall_disables_events;
	p->kernel_ss = c->kernel_ss | 3;
	p->kernel_sp = c->kernel_sp;
	p->kernel_mode = (c->flags & VGCF_in_kernel) != 0;
	p->fs_base = c->fs_base;
	p->gs_base_kernel = c->gs_base_kernel;
	p->gs_base_user = c->gs_base_user;
	p->fpu_ts = false;
	/* The context's IOPL is the vCPU's virtual IOPL, which the frame never carries (Xen's
	 * arch_set_info_guest): Linux starts its secondary vCPUs with IOPL 1 in eflags and relies
	 * on it for port I/O (VGA cursor, PCI configuration space) from their first printk. */
	p->iopl = (unsigned int)(c->user_regs.rflags >> 12) & 3;
	if (!p->kernel_mode && !target->guest_table_user)
		p->kernel_mode = true;

	memset(&vs->regs, 0, sizeof(vs->regs));
	vs->regs.r15 = c->user_regs.r15;
	vs->regs.r14 = c->user_regs.r14;
	vs->regs.r13 = c->user_regs.r13;
	vs->regs.r12 = c->user_regs.r12;
	vs->regs.rbp = c->user_regs.rbp;
	vs->regs.rbx = c->user_regs.rbx;
	vs->regs.r11 = c->user_regs.r11;
	vs->regs.r10 = c->user_regs.r10;
	vs->regs.r9 = c->user_regs.r9;
	vs->regs.r8 = c->user_regs.r8;
	vs->regs.rax = c->user_regs.rax;
	vs->regs.rcx = c->user_regs.rcx;
	vs->regs.rdx = c->user_regs.rdx;
	vs->regs.rsi = c->user_regs.rsi;
	vs->regs.rdi = c->user_regs.rdi;
	vs->regs.rip = c->user_regs.rip;
	vs->regs.cs = c->user_regs.cs | 3;
	vs->regs.rflags =
	    (c->user_regs.rflags & ~((3UL << 12) | (1UL << 14) | (1UL << 17))) | (1UL << 9) | 2;
	vs->regs.rsp = c->user_regs.rsp;
	vs->regs.ss = c->user_regs.ss | 3;
	vs->ds = c->user_regs.ds;
	vs->es = c->user_regs.es;
	vs->fs = c->user_regs.fs;
	vs->gs = c->user_regs.gs;
	vs->fs_base = c->fs_base;
	vs->gs_base_active = p->kernel_mode ? c->gs_base_kernel : c->gs_base_user;
	if (c->flags & VGCF_i387_valid) {
		memcpy(vs->fpu, c->fpu_ctxt, sizeof(vs->fpu));
		*(uint32_t *)&vs->fpu[24] &= MXCSR_VALID; /* FXRSTOR faults on reserved bits */
		*(uint32_t *)&vs->fpu[28] = 0;            /* MXCSR_MASK is read-only */
	} else {
		arch_vcpu_init_context(target);
		vs->ds = c->user_regs.ds;
		vs->es = c->user_regs.es;
		vs->fs = c->user_regs.fs;
		vs->gs = c->user_regs.gs;
		vs->fs_base = c->fs_base;
		vs->gs_base_active = p->kernel_mode ? c->gs_base_kernel : c->gs_base_user;
	}
	vs->initialised = true;
	(void)caller;
	(void)d;
out:
	free_pages_virt(c, 1);
	return rc;
}
