/*
 * Start of the Xen-PV platform: from the builder's hand-over to kernel_main().
 *
 * Order matters: the console works from the first instruction (console_io needs nothing);
 * traps come next so that any mistake after them is reported; then our own page tables and the
 * page allocator, shared_info (events and time live there), the GDT, event channels, time,
 * the writable-page-table assist and user space. Events are enabled last.
 */
#include <kernel.h>
#include <mm.h>
#include <public/sched.h>
#include <xenbus.h>
#include <klib/string.h>
#include "pv.h"

start_info_t *pv_start_info;
shared_info_t *pv_shared_info;
static char pv_cmdline[MAX_GUEST_CMDLINE];

/* A page of the image whose mapping is replaced by the shared_info frame. */
static char shared_info_page[4096] __aligned(4096);

static __noreturn void pv_shutdown(int reason)
{
	struct sched_shutdown arg = {.reason = (uint32_t)reason};

	for (;;)
		HYPERVISOR_sched_op(SCHEDOP_shutdown, &arg);
}

/* The platform operations; the test tables (sizes known only at link time) are added at boot. */
static struct platform_ops pv_platform = {
    .name = "xen-pv",
    .console_write = pv_console_write,
    .time_ns = pv_time_ns,
    .wallclock_ns = pv_wallclock_ns,
    .timer_set = pv_timer_set,
    .irq_save = pv_irq_save,
    .irq_restore = pv_irq_restore,
    .idle = pv_idle,
    .shutdown = pv_shutdown,
    .cmdline = pv_cmdline,
    .devices_init = pv_devices_init,
};

static void map_shared_info(void)
{
	long rc = HYPERVISOR_update_va_mapping((unsigned long)shared_info_page,
	                                       pv_start_info->shared_info | L1_PROT, UVMF_INVLPG);
	if (rc)
		panic("mapping shared_info failed: %ld", rc);
	pv_shared_info = (shared_info_t *)shared_info_page;
}

static void setup_gdt(void)
{
	uint64_t *gdt = alloc_page();
	long rc;

	if (!gdt)
		panic("no page for the GDT");
	/* Entry 1: flat 64-bit data, DPL 3 (the hypervisor's own selectors follow entry 7167). */
	gdt[1] = 0x00cff3000000ffffULL;
	if ((rc = pv_set_page_ro(gdt)))
		panic("making the GDT read-only failed: %ld", rc);
	uint64_t frames[1] = {pv_virt_to_mfn(gdt)};
	if ((rc = HYPERVISOR_set_gdt(frames, 512)))
		panic("set_gdt failed: %ld", rc);
}

__noreturn void pv_start(start_info_t *si);

__noreturn void pv_start(start_info_t *si)
{
	long rc;

	pv_start_info = si;
	pv_platform.selftests = pv_selftests;
	pv_platform.nr_selftests = pv_nr_selftests;
	pv_platform.fatal_cases = pv_fatal_cases;
	pv_platform.nr_fatal_cases = pv_nr_fatal_cases;
	pv_proc_ops_init(&pv_platform);
	platform = &pv_platform;
	strlcpy(pv_cmdline, si->cmd_line, sizeof(pv_cmdline));

	printk("pv: %s, start_info %p, %llu pages, flags %#x\n", si->magic, (void *)si,
	       (unsigned long long)si->nr_pages, si->flags);
	if (strncmp(si->magic, "xen-3.0-x86_64", 14) != 0)
		panic("start_info magic '%.32s' is not xen-3.0-x86_64", si->magic);

	pv_traps_init();
	pv_mmu_init();
	map_shared_info();
	setup_gdt();
	pv_events_init();
	pv_console_init();
	pv_time_init();
	if ((rc = HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables)))
		panic("vm_assist(writable_pagetables) failed: %ld", rc);
	if ((rc = pv_user_init()))
		panic("user space setup failed: %ld", rc);
	pv_irq_enable();
	kernel_main();
}
