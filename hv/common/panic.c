/*
 * panic(): the one way hv stops on an internal error. The first CPU to panic prints the report
 * ("PANIC on cpu N: message", then the architecture's register dump and backtrace) and ends the
 * run: with on_panic=exit through machine_exit(1), otherwise by halting. The other CPUs are
 * stopped first (an NMI, which finds a panic in progress); a CPU that panics while another
 * already is just stops; a panic inside the report (say, a fault while walking a
 * corrupt stack) prints one line and stops, instead of recursing.
 */
#include <hv/lib.h>
#include <hv/arch.h>
#include <hv/cmdline.h>
#include <hv/percpu.h>
#include <hv/spinlock.h>

static int panicking_cpu = -1;

static void __noreturn vpanic_regs(const struct cpu_user_regs *regs, const char *fmt, va_list ap)
{
	char msg[256];
	int cpu, expected = -1;

	irq_save();
	cpu = (int)smp_processor_id();
	if (!__atomic_compare_exchange_n(&panicking_cpu, &expected, cpu, false, __ATOMIC_SEQ_CST,
	                                 __ATOMIC_SEQ_CST)) {
		if (expected == cpu)
			console_puts_raw("PANIC: nested panic, stopping\n");
		machine_halt();
	}
	arch_stop_other_cpus();
	console_force_unlock();
	vsnprintf(msg, sizeof(msg), fmt, ap);
	printk(KERN_ERR "PANIC on cpu %d: %s\n", cpu, msg);
	arch_show_state(regs);
	if (cmdline_is("on_panic", "exit")) {
		printk(KERN_ERR "hv: exit 1\n");
		machine_exit(1);
	}
	printk(KERN_ERR "hv: halted\n");
	machine_halt();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpanic_regs(NULL, fmt, ap);
}

void panic_regs(const struct cpu_user_regs *regs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpanic_regs(regs, fmt, ap);
}
