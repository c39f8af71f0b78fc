/*
 * Platform-independent start of the kernel. The command line picks the mode:
 *   selftest        run the platform's self-tests, print the summary, power off
 *   microbench      time the paravirtual core's operations (kernel/microbench.c), power off
 *   fatal=<case>    do one deliberately fatal thing (the hypervisor must kill us)
 *   agent           dom0: serve the management link (dom0/agent.c; Xen-PV platform only)
 *   shell           start the shell (/bin/sh, pid 1) on the console
 *   -- CMDS         start the shell running CMDS (the rest of the line: `cmd; cmd`) then exit
 *   (nothing)       print a banner, wait for a few timer ticks, power off
 */
#include <domctl.h>
#include <kernel.h>
#include <microbench.h>
#include <platform.h>
#include <selftest.h>
#include <mm.h>
#include <proc.h>
#include <klib/string.h>

const struct platform_ops *platform;
__noreturn void dom0_agent_main(void); /* dom0/agent.c */
volatile uint64_t kernel_ticks;
uint64_t kernel_total_pages;

int cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (p && *p) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		size_t wlen = (size_t)(p - word);
		if (wlen >= klen && strncmp(word, key, klen) == 0 &&
		    (wlen == klen || word[klen] == '=')) {
			const char *val = wlen == klen ? word + klen : word + klen + 1;
			size_t vlen = (size_t)(p - val);
			if (size) {
				size_t n = vlen < size - 1 ? vlen : size - 1;
				memcpy(buf, val, n);
				buf[n] = '\0';
			}
			return 0;
		}
	}
	return -1;
}

/* Wait for `n` timer ticks of `period_ns` each. */
static void wait_ticks(unsigned int n, uint64_t period_ns)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned long flags = platform->irq_save();
		uint64_t target = kernel_ticks + 1;
		platform->timer_set(platform->time_ns() + period_ns);
		while (kernel_ticks < target)
			platform->idle();
		platform->irq_restore(flags);
		printk("tick %u at %llu ns\n", i + 1, (unsigned long long)platform->time_ns());
	}
}

static __noreturn void run_fatal(const char *name)
{
	for (size_t i = 0; i < platform->nr_fatal_cases; i++) {
		const struct fatal_case *c = &platform->fatal_cases[i];
		if (strcmp(c->name, name) == 0) {
			printk("fatal: %s: %s\n", c->name, c->what);
			c->run();
			printk("fatal: %s: still alive, the hypervisor did not stop us\n", c->name);
			platform->shutdown(PLATFORM_CRASH);
		}
	}
	printk("fatal: unknown case '%s'\n", name);
	platform->shutdown(PLATFORM_CRASH);
}

__noreturn void kernel_main(void)
{
	char arg[64];
	uint64_t wc = platform->wallclock_ns();

	printk("%s %s on %s: %llu pages free, wallclock %llu.%09llu s\n", KERNEL_NAME,
	       KERNEL_VERSION, platform->name, (unsigned long long)pages_free(),
	       (unsigned long long)(wc / 1000000000ULL), (unsigned long long)(wc % 1000000000ULL));
	printk("command line: %s\n", platform->cmdline);

	if (cmdline_get(platform->cmdline, "fatal", arg, sizeof(arg)) == 0)
		run_fatal(arg);

	if (cmdline_get(platform->cmdline, "domtest", arg, sizeof(arg)) == 0)
		domtest_run(arg); /* dom0's multi-domain scenarios (kernel/domtest.c) */
	if (cmdline_get(platform->cmdline, "domu", arg, sizeof(arg)) == 0)
		domu_run(arg); /* a domU of those scenarios (arch/pv/domu-tests.c) */

	if (cmdline_get(platform->cmdline, "selftest", NULL, 0) == 0) {
		unsigned int failed = selftest_run_all();
		printk("%s: self-tests done, %s\n", KERNEL_NAME,
		       failed ? "FAILURES" : "all passed");
		platform->shutdown(PLATFORM_POWEROFF);
	}

	if (cmdline_get(platform->cmdline, "microbench", NULL, 0) == 0)
		microbench_run();

	if (cmdline_get(platform->cmdline, "agent", NULL, 0) == 0)
		dom0_agent_main();

	const char *script = strstr(platform->cmdline, "--");
	if (script && (script == platform->cmdline || script[-1] == ' ')) {
		script += 2;
		while (*script == ' ')
			script++;
	} else {
		script = NULL;
	}
	if (script || cmdline_get(platform->cmdline, "shell", NULL, 0) == 0) {
		if (platform->devices_init)
			platform->devices_init();
		kernel_total_pages = pages_free();
		vm_init(kernel_total_pages + 4096);
		printk("%s: starting /bin/sh%s%s\n", KERNEL_NAME, script ? " -c " : "",
		       script ? script : "");
		proc_start_init(script);
	}

	wait_ticks(3, 10 * 1000 * 1000);
	printk("%s: idle test done, powering off\n", KERNEL_NAME);
	platform->shutdown(PLATFORM_POWEROFF);
}
