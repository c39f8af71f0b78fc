/*
 * Trap dispatch and the x86 half of the panic report (see asm/traps.h).
 */
#include <hv/lib.h>
#include <hv/arch.h>
#include <hv/percpu.h>
#include <asm/traps.h>
#include <asm/apic.h>
#include <asm/processor.h>

/* Written at boot only (set_trap_handler), read by every CPU on every entry. */
static trap_handler_t trap_handlers[256];

static const char *const mnemonics[32] = {
    "#DE",  "#DB",  "NMI",  "#BP",  "#OF",  "#BR",  "#UD", "#NM", "#DF", "#CSO", "#TS",
    "#NP",  "#SS",  "#GP",  "#PF",  "#SPV", "#MF",  "#AC", "#MC", "#XM", "#VE",  "#CP",
    "#R22", "#R23", "#R24", "#R25", "#R26", "#R27", "#HV", "#VC", "#SX", "#R31",
};

const char *exception_mnemonic(unsigned int vector)
{
	return vector < 32 ? mnemonics[vector] : "IRQ";
}

void set_trap_handler(unsigned int vector, trap_handler_t fn)
{
	ASSERT(vector < 256);
	trap_handlers[vector] = fn;
}

void do_trap(struct cpu_user_regs *regs)
{
	unsigned int vector = regs->entry_vector;
	trap_handler_t fn = trap_handlers[vector];

	if (fn) {
		fn(regs);
		return;
	}
	if (vector < 32)
		fatal_trap(regs, guest_mode(regs) ? "exception from a guest, no handler"
		                                  : "exception in hv");
	if (vector == APIC_SPURIOUS_VECTOR)
		return; /* no EOI for spurious interrupts */
	printk(KERN_WARN "traps: unexpected interrupt vector %u on cpu %u\n", vector,
	       smp_processor_id());
	apic_eoi();
}

void fatal_trap(const struct cpu_user_regs *regs, const char *why)
{
	panic_regs(regs, "%s %s at rip 0x%016lx", exception_mnemonic(regs->entry_vector), why,
	           regs->rip);
}

/* True when [addr, addr + 16) lies on one of this CPU's stacks. */
static bool on_cpu_stack(unsigned long addr)
{
	struct percpu *pc = this_cpu();

	if (addr >= pc->stack_top - STACK_SIZE && addr + 16 <= pc->stack_top)
		return true;
	return addr >= pc->ist_stacks_base &&
	       addr + 16 <= pc->ist_stacks_base + NR_IST * IST_STACK_SIZE;
}

/* Follows the frame-pointer chain from @rbp: each frame is [saved rbp][return address]. */
static void show_backtrace(unsigned long rip, unsigned long rbp)
{
	printk(KERN_ERR "  backtrace:\n");
	if (rip)
		printk(KERN_ERR "    0x%016lx\n", rip);
	for (unsigned int depth = 0; depth < 32; depth++) {
		const unsigned long *frame = (const unsigned long *)rbp;
		if (!rbp || (rbp & 7) || !on_cpu_stack(rbp))
			break;
		if (frame[1] == 0)
			break;
		printk(KERN_ERR "    0x%016lx\n", frame[1]);
		if (frame[0] <= rbp) /* stacks grow down: callers' frames are higher */
			break;
		rbp = frame[0];
	}
}

void arch_show_state(const struct cpu_user_regs *regs)
{
	if (regs) {
		unsigned int v = regs->entry_vector;

		printk(KERN_ERR "  vector %u (%s) error 0x%04x\n", v, exception_mnemonic(v),
		       regs->error_code);
		printk(KERN_ERR "  rip 0x%016lx cs 0x%04x rflags 0x%016lx\n", regs->rip, regs->cs,
		       regs->rflags);
		printk(KERN_ERR "  rsp 0x%016lx ss 0x%04x\n", regs->rsp, regs->ss);
		if (v == X86_EXC_PF)
			printk(KERN_ERR "  cr2 0x%016lx\n", read_cr2());
		printk(KERN_ERR "  rax 0x%016lx rbx 0x%016lx rcx 0x%016lx\n", regs->rax, regs->rbx,
		       regs->rcx);
		printk(KERN_ERR "  rdx 0x%016lx rsi 0x%016lx rdi 0x%016lx\n", regs->rdx, regs->rsi,
		       regs->rdi);
		printk(KERN_ERR "  rbp 0x%016lx r8  0x%016lx r9  0x%016lx\n", regs->rbp, regs->r8,
		       regs->r9);
		printk(KERN_ERR "  r10 0x%016lx r11 0x%016lx r12 0x%016lx\n", regs->r10, regs->r11,
		       regs->r12);
		printk(KERN_ERR "  r13 0x%016lx r14 0x%016lx r15 0x%016lx\n", regs->r13, regs->r14,
		       regs->r15);
	}
	printk(KERN_ERR "  cr0 0x%016lx cr3 0x%016lx cr4 0x%016lx\n", read_cr0(), read_cr3(),
	       read_cr4());
	if (regs && !guest_mode(regs))
		show_backtrace(regs->rip, regs->rbp);
	else if (!regs)
		show_backtrace(0, (unsigned long)__builtin_frame_address(0));
	else
		printk(KERN_ERR "  backtrace: (guest context)\n");
}
