/*
 * Exceptions and interrupts of PV guests: what hv does with every entry from ring 3, the
 * bounce frames that deliver exceptions and events to the guest kernel, and the exit check.
 *
 * A guest exception is, in order: handled by hv (writable page tables, forced-emulation CPUID,
 * privileged instructions, software interrupts confirmed from the instruction bytes), or
 * bounced to the handler the guest registered with set_trap_table, or - when there is none,
 * or the bounce frame cannot be written - the end of the domain (domain_crash). Nothing a
 * guest does makes hv panic. Exceptions in hv itself panic, except a fault on the guest-copy
 * instruction, which returns -EFAULT to the hypercall (the fixup below).
 *
 * Bounce frame (Xen ABI, lowest address first): RCX, R11, [error code], RIP, CS (RPL 0 for an
 * interrupted guest kernel, saved upcall mask in bits 32-39), RFLAGS (IF = !saved mask), RSP,
 * SS; built at the guest RSP (or the kernel stack from stack_switch when coming from user
 * mode), rounded down to 16 bytes.
 */
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <asm/desc.h>
#include <asm/processor.h>
#include <asm/traps.h>
#include <asm/apic.h>
#include <hv/sched-if.h>

#include "guest-access.h"
#include "mm.h"
#include "pv.h"

#define RFLAGS_TF   (1UL << 8)
#define RFLAGS_IF   (1UL << 9)
#define RFLAGS_IOPL (3UL << 12)
#define RFLAGS_NT   (1UL << 14)
#define RFLAGS_RF   (1UL << 16)
#define RFLAGS_VM   (1UL << 17)
#define RFLAGS_AC   (1UL << 18)

#define PFEC_PRESENT (1u << 0)
#define PFEC_WRITE   (1u << 1)
#define PFEC_USER    (1u << 2)
#define PFEC_RSVD    (1u << 3)
#define PFEC_INSN    (1u << 4)

static bool vector_has_error(unsigned int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

/* Switch the vCPU between guest kernel and guest user: page tables and GS bases follow. */
void pv_toggle_mode(struct vcpu *v, bool kernel)
{
	struct pv_vcpu *p = pv(v);

	if (p->kernel_mode == kernel)
		return;
	if (kernel) {
		p->gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
		wrmsr(MSR_KERNEL_GS_BASE, p->gs_base_kernel);
	} else {
		p->gs_base_kernel = rdmsr(MSR_KERNEL_GS_BASE);
		wrmsr(MSR_KERNEL_GS_BASE, p->gs_base_user);
	}
	p->kernel_mode = kernel;
	write_cr3(pv_current_cr3(v));
}

bool pv_bounce(struct vcpu *v, struct cpu_user_regs *regs, uint64_t handler, bool mask_events,
               bool has_error, uint32_t error, const char *what)
{
	struct pv_vcpu *p = pv(v);
	struct vcpu_info *vi = v->vcpu_info;
	uint8_t saved_mask = vi->evtchn_upcall_mask;
	bool from_user = !p->kernel_mode;
	uint64_t frame[8], sp, cs;
	unsigned int n = 0;

	if (handler == 0)
		domain_crash(v->domain, "no handler for %s", what);
	if (from_user) {
		if (p->kernel_sp == 0)
			domain_crash(v->domain, "%s from user mode without a kernel stack", what);
		pv_toggle_mode(v, true);
		sp = p->kernel_sp;
		cs = regs->cs | 3;
	} else {
		sp = regs->rsp;
		cs = regs->cs & ~3UL;
	}
	sp &= ~15UL;
	frame[n++] = regs->rcx;
	frame[n++] = regs->r11;
	if (has_error)
		frame[n++] = error;
	frame[n++] = regs->rip;
	frame[n++] = cs | ((uint64_t)saved_mask << 32);
	frame[n++] = (regs->rflags & ~(RFLAGS_IF | RFLAGS_IOPL)) | (saved_mask ? 0 : RFLAGS_IF) |
	             ((v->domain->vm_assist & (1UL << VMASST_TYPE_architectural_iopl))
	                  ? (uint64_t)p->iopl << 12
	                  : 0);
	frame[n++] = regs->rsp;
	frame[n++] = regs->ss;
	sp -= n * 8;
	if (copy_to_guest(sp, frame, n * 8))
		domain_crash(v->domain, "cannot write the bounce frame for %s at %#lx", what,
		             (unsigned long)sp);
	regs->rsp = sp;
	regs->rip = handler;
	regs->cs = FLAT_KERNEL_CS;
	regs->ss = FLAT_KERNEL_SS;
	regs->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM | RFLAGS_AC | RFLAGS_IOPL);
	regs->rflags |= RFLAGS_IF | 2;
	regs->rcx = regs->rip; /* saved in the frame: the exit may use SYSRET */
	regs->r11 = regs->rflags;
	if (mask_events)
		vi->evtchn_upcall_mask = 1;
	return true;
}

void pv_inject_trap(struct vcpu *v, struct cpu_user_regs *regs, unsigned int vector, bool has_error,
                    uint32_t error)
{
	const struct trap_info *ti = &pv(v)->trap_ctxt[vector];

	if (!ti->address)
		domain_crash(v->domain,
		             "unhandled %s (vector %u, error %#x, cr2 %#lx) at rip %#lx, no guest "
		             "handler",
		             exception_mnemonic(vector), vector, has_error ? error : 0,
		             vector == X86_EXC_PF ? (unsigned long)pv(v)->cr2 : 0UL,
		             (unsigned long)regs->rip);
	pv_bounce(v, regs, ti->address, ti->flags & 4, has_error, error,
	          exception_mnemonic(vector));
}

/*
 * Can IRET load this selector for the guest (CS: a present DPL-3 code segment; SS: a present
 * DPL-3 writable data segment)? LAR looks it up in the live GDT/LDT without faulting; an IRET
 * that faulted in hv would take hv down, so the exit path checks first.
 */
static bool selector_usable(uint16_t sel, bool code)
{
	uint32_t ar = 0;
	bool ok;

	if ((sel & 3) != 3)
		return false;
	__asm__("lar %2, %0; setz %1" : "=r"(ar), "=qm"(ok) : "r"((uint32_t)sel) : "cc");
	if (!ok || !(ar & (1u << 15)) || !(ar & (1u << 12)) || ((ar >> 13) & 3) != 3)
		return false;
	return code ? (ar & (1u << 11)) != 0 : !(ar & (1u << 11)) && (ar & (1u << 9));
}

/* The frame's CS and SS: hv's own flat ring-3 selectors (reserved GDT entries no guest can
 * change) always are, which is nearly every exit; LAR (a GDT read) is for the others. */
static bool frame_selectors_usable(const struct cpu_user_regs *regs)
{
	if (regs->cs == FLAT_RING3_CS64 && regs->ss == FLAT_RING3_DS)
		return true;
	return selector_usable(regs->cs, true) && selector_usable(regs->ss, false);
}

/*
 * Every return to the guest: a frame IRET can take (selectors, no NT: IRET with NT set faults
 * in long mode), timers, then an event upcall if one is pending and unmasked.
 */
void pv_exit_to_guest(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();
	struct vcpu_info *vi;

	if (!v)
		return;
	sched_softirq(regs); /* a scheduling decision may switch to another vCPU here */
	regs->rflags &= ~RFLAGS_NT;
	if (!frame_selectors_usable(regs))
		domain_crash(v->domain, "return to an unusable CS %#x / SS %#x", regs->cs,
		             regs->ss);
	/* A non-canonical RIP (a SYSCALL at the very end of the lower half, an emulated
	 * instruction there) would fault on hv's IRET: the guest gets the #GP instead. */
	if (((int64_t)regs->rip >> 47) != 0 && ((int64_t)regs->rip >> 47) != -1)
		pv_inject_trap(v, regs, X86_EXC_GP, true, 0);
	pv_timers_check(v);
	vi = v->vcpu_info;
	if (vi->evtchn_upcall_pending && !vi->evtchn_upcall_mask)
		pv_bounce(v, regs, pv(v)->callback[CALLBACKTYPE_event], true, false, 0,
		          "event upcall");
}

/* A fault in hv: the guest-copy instructions get their fixups, anything else is fatal. */
static void hv_fault(struct cpu_user_regs *regs, const char *why)
{
	if (regs->rip == (uint64_t)pv_copy_insn) {
		regs->rip = (uint64_t)pv_copy_fixup;
		return;
	}
	if (regs->rip == (uint64_t)pv_copy_tail_insn) {
		regs->rip = (uint64_t)pv_copy_tail_fixup;
		return;
	}
	fatal_trap(regs, why);
}

/*
 * QEMU's TCG pops the frame of an IRETQ with supervisor accesses, so with SMAP on, a guest's
 * IRETQ at CPL 3 (Linux's sync_core() returns to itself that way) faults on its own stack;
 * hardware reads that stack as a user access. Such a fault (a read of a present page, from the
 * guest, at an IRETQ whose frame hv can read) is completed here as the CPU would: a
 * same-privilege return (CS RPL 3) whose IF and IOPL stay as they are. The exit path checks
 * the selectors. False (the guest gets its #PF) for anything else.
 */
static bool emulate_tcg_iretq(struct vcpu *v, struct cpu_user_regs *regs, uint32_t ec)
{
	uint64_t frame[5], keep = RFLAGS_IF | RFLAGS_IOPL;
	uint8_t insn[2];

	if ((ec & (PFEC_PRESENT | PFEC_WRITE | PFEC_RSVD | PFEC_INSN)) != PFEC_PRESENT ||
	    !(read_cr4() & X86_CR4_SMAP) || copy_from_guest(insn, regs->rip, 2) ||
	    insn[0] != 0x48 || insn[1] != 0xcf || copy_from_guest(frame, regs->rsp, sizeof(frame)))
		return false;
	if ((frame[1] & 3) != 3 || (frame[4] & 3) != 3)
		return false;
	regs->rip = frame[0];
	regs->cs = (uint16_t)frame[1];
	regs->rflags = (frame[2] & ~(keep | RFLAGS_VM | RFLAGS_NT)) | (regs->rflags & keep) | 2;
	regs->rsp = frame[3];
	regs->ss = (uint16_t)frame[4];
	return true;
}

static void pv_page_fault(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();
	uint64_t cr2 = read_cr2();
	uint32_t ec = regs->error_code;

	if (!guest_mode(regs) || !v)
		return hv_fault(regs, "in hv");
	if (pv(v)->kernel_mode &&
	    (ec & (PFEC_PRESENT | PFEC_WRITE)) == (PFEC_PRESENT | PFEC_WRITE) &&
	    !(ec & (PFEC_RSVD | PFEC_INSN)) &&
	    (v->domain->vm_assist & (1UL << VMASST_TYPE_writable_pagetables)) &&
	    pv_ptwr_fault(v, regs, cr2))
		goto out;
	if (emulate_tcg_iretq(v, regs, ec))
		goto out;
	/* The guest learns whether *it* was in user mode, not that the CPU was at CPL 3. */
	if (pv(v)->kernel_mode)
		ec &= ~PFEC_USER;
	pv(v)->cr2 = cr2;
	v->vcpu_info->arch.cr2 = cr2;
	pv_inject_trap(v, regs, X86_EXC_PF, true, ec);
out:
	pv_exit_to_guest(regs);
}

static void pv_general_protection(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();

	if (!guest_mode(regs) || !v)
		return hv_fault(regs, "in hv");
	if (!pv_emulate_gp(v, regs))
		pv_inject_trap(v, regs, X86_EXC_GP, true, regs->error_code);
	pv_exit_to_guest(regs);
}

static void pv_invalid_op(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();

	if (!guest_mode(regs) || !v)
		return fatal_trap(regs, "in hv");
	if (!pv_emulate_ud(v, regs))
		pv_inject_trap(v, regs, X86_EXC_UD, false, 0);
	pv_exit_to_guest(regs);
}

/* Everything else a guest can raise goes to its own handler. */
static void pv_other_exception(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();
	unsigned int vec = regs->entry_vector;

	if (!guest_mode(regs) || !v)
		return fatal_trap(regs, "in hv");
	if (vec == X86_EXC_NM)
		pv(v)->fpu_ts = false, write_cr0(read_cr0() & ~8UL);
	pv_inject_trap(v, regs, vec, vector_has_error(vec), regs->error_code);
	pv_exit_to_guest(regs);
}

/*
 * #BP through its DPL-3 gate (as Xen has it): `int3` or `int $3` from the guest, kernel or user,
 * with RIP past the instruction. As for any software interrupt (emulate.c), the guest's own DPL
 * for vector 3 decides: allowed, the bounce; not, #GP(vector 3) at the instruction. (With a
 * DPL-0 gate every int3 came as #GP and was fetched and decoded: 130 instructions more.)
 */
static void pv_breakpoint(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();
	const struct trap_info *ti;
	uint8_t last = 0;

	if (!guest_mode(regs) || !v)
		return fatal_trap(regs, "in hv");
	ti = &pv(v)->trap_ctxt[X86_EXC_BP];
	if (ti->address && (ti->flags & 3) >= (pv(v)->kernel_mode ? 1u : 3u)) {
		pv_bounce(v, regs, ti->address, ti->flags & 4, false, 0, "int3");
	} else {
		/* Back to the instruction: 0xcc, or 0xcd 0x03. */
		regs->rip -= copy_from_guest(&last, regs->rip - 1, 1) == 0 && last == 0x03 ? 2 : 1;
		pv_inject_trap(v, regs, X86_EXC_GP, true, (X86_EXC_BP << 3) | 2);
	}
	pv_exit_to_guest(regs);
}

/*
 * #DB: from the guest, its own handler. In hv it is a single-step the guest armed before
 * SYSCALL (or a breakpoint hv does not use): nothing to do but clear DR6.
 */
static void pv_debug(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();

	uint64_t dr6;

	__asm__ __volatile__("mov %%dr6, %0" : "=r"(dr6));
	__asm__ __volatile__("mov %0, %%dr6" ::"r"(0xffff0ff0UL));
	if (!guest_mode(regs) || !v)
		return;
	pv(v)->dr[6] = dr6;
	pv_inject_trap(v, regs, X86_EXC_DB, false, 0);
	pv_exit_to_guest(regs);
}

#define PV_IST_DB 4 /* IST slot for #DB (hv uses 1-3 for NMI, #DF, #MC) */

void pv_traps_init(void)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		uint8_t *stack;

		if (!percpu_of[cpu])
			continue;
		stack = alloc_pages_virt(0);
		if (!stack)
			panic("pv: no memory for #DB stacks");
		percpu_of[cpu]->tss.ist[PV_IST_DB - 1] = (uint64_t)stack + PAGE_SIZE;
	}
	idt_set_gate(X86_EXC_DB, pv_db_entry, 0, PV_IST_DB);
	set_trap_handler(X86_EXC_DB, pv_debug);

	for (unsigned int vec = 0; vec < 32; vec++) {
		if (vec == X86_EXC_NMI || vec == X86_EXC_DF || vec == X86_EXC_MC)
			continue;
		set_trap_handler(vec, pv_other_exception);
	}
	set_trap_handler(X86_EXC_PF, pv_page_fault);
	set_trap_handler(X86_EXC_GP, pv_general_protection);
	set_trap_handler(X86_EXC_UD, pv_invalid_op);
	set_trap_handler(X86_EXC_BP, pv_breakpoint);
	idt_set_gate(X86_EXC_BP, entry_stubs[X86_EXC_BP], 3, 0);
	set_trap_handler(APIC_TIMER_VECTOR, pv_tick);
}

/* This CPU can run PV guests: SYSCALL goes to pv_syscall_entry, SSE state is usable. */
void pv_cpu_init(void)
{
	wrmsr(MSR_STAR, ((uint64_t)FLAT_RING3_CS32 << 48) | ((uint64_t)HV_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)pv_syscall_entry);
	wrmsr(MSR_CSTAR, (uint64_t)pv_syscall_entry);
	wrmsr(MSR_FMASK, RFLAGS_TF | RFLAGS_IF | (1UL << 10) | RFLAGS_IOPL | RFLAGS_NT | RFLAGS_AC);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	write_cr4(read_cr4() | (1UL << 9) | (1UL << 10)); /* OSFXSR, OSXMMEXCPT */
	write_cr0(read_cr0() & ~(1UL << 2) & ~8UL);       /* no EM, no TS */
}
