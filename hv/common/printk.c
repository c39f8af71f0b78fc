/*
 * printk: formatted console output, one whole message at a time.
 *
 * Locking: console_lock serialises writers so that lines from different CPUs never mix. It is
 * taken with interrupts off, because interrupt and exception handlers print too. If a CPU
 * re-enters printk while it already holds the lock (an exception in the middle of a printk), it
 * writes without the lock rather than deadlock on itself; the panic path calls
 * console_force_unlock() so that a lock held by a stopped CPU does not silence the report.
 */
#include <hv/lib.h>
#include <hv/arch.h>
#include <hv/cmdline.h>
#include <hv/percpu.h>
#include <hv/spinlock.h>

static DEFINE_SPINLOCK(console_lock);
static volatile int console_owner = -1; /* cpu holding console_lock, -1 when free */
static volatile bool console_forced;    /* panic: ignore the lock */
static bool console_enabled;
static bool console_disabled; /* console=none */
static int console_loglevel = LOG_INFO;

void console_init(void)
{
	const char *console = cmdline_get("console");
	const char *level = cmdline_get("loglvl");
	static const char *const names[] = {"error", "warn", "info", "debug"};

	if (level) {
		for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
			if (strcmp(level, names[i]) == 0)
				console_loglevel = (int)i;
	}
	if (console && strcmp(console, "none") == 0) {
		console_disabled = true;
		return;
	}
	arch_console_init();
	console_enabled = true;
	/* Firmware leaves the cursor mid-line ("Booting from ROM.."): start hv's first line on a
	 * line of its own. */
	arch_console_write("\n", 1);
	if (console && strcmp(console, "com1") != 0)
		printk(KERN_WARN "console: unknown console '%s', using com1\n", console);
}

void console_force_unlock(void)
{
	console_forced = true;
	/* A panic before console_init() must still be seen. */
	if (!console_enabled && !console_disabled) {
		arch_console_init();
		console_enabled = true;
	}
}

void console_puts_raw(const char *s)
{
	if (console_enabled)
		arch_console_write(s, strlen(s));
}

int vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int level = LOG_INFO, len, cpu;
	unsigned long flags;

	if (fmt[0] == '\001' && fmt[1] >= '0' && fmt[1] <= '9') {
		level = fmt[1] - '0';
		fmt += 2;
	}
	if (level > console_loglevel)
		return 0;
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (!console_enabled)
		return len;

	flags = irq_save();
	cpu = (int)smp_processor_id();
	if (console_forced || console_owner == cpu) {
		arch_console_write(buf, strnlen(buf, sizeof(buf)));
	} else {
		spin_lock(&console_lock);
		console_owner = cpu;
		arch_console_write(buf, strnlen(buf, sizeof(buf)));
		console_owner = -1;
		spin_unlock(&console_lock);
	}
	irq_restore(flags);
	return len;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}
