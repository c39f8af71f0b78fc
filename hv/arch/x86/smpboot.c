/*
 * Starting the other CPUs (INIT-SIPI-SIPI through the boot CPU's local APIC) and the idle loop
 * every CPU ends in.
 *
 * CPUs are started one at a time: the trampoline page and its data block are shared, so the
 * boot CPU waits until a CPU reports online (it no longer needs the trampoline by then) before
 * starting the next. A CPU that does not come up within a second is reported and skipped.
 */
#include <hv/lib.h>
#include <hv/acpi.h>
#include <hv/domain.h>
#include <hv/arch.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/smp.h>
#include <hv/time.h>
#include <asm/apic.h>
#include <asm/paging.h>
#include <hv/spinlock.h>
#include <asm/processor.h>

/* Must match the data block at the end of trampoline.S. */
struct trampoline_data {
	uint32_t cr3;
	uint32_t efer;
	uint64_t stack;
	uint64_t percpu;
	uint64_t entry;
} __packed;

extern uint8_t trampoline_start[], trampoline_data[], trampoline_end[];

volatile unsigned int nr_cpus_online;

/* hv's page table plus an executable identity map of the first 2 MiB (the trampoline page),
 * which the trampoline needs while it turns paging on. In the image, so below 4 GiB as the
 * 32-bit CR3 load requires. */
static uint64_t trampoline_l4[512] __aligned(PAGE_SIZE);
static uint64_t trampoline_l3[512] __aligned(PAGE_SIZE);
static uint64_t trampoline_l2[512] __aligned(PAGE_SIZE);

static void __noreturn start_secondary(struct percpu *pc);

static unsigned int order_for(size_t bytes)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

static void announce_online(void)
{
	struct percpu *pc = this_cpu();

	printk("smp: cpu %u online (apic id %u)\n", pc->cpu_id, pc->apic_id);
	__atomic_add_fetch(&nr_cpus_online, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&pc->online, true, __ATOMIC_RELEASE);
}

/* Starts the CPU with @apic_id as hv cpu @cpu; returns whether it came online. */
static bool start_cpu(unsigned int cpu, uint32_t apic_id)
{
	struct trampoline_data *data =
	    maddr_to_virt(TRAMPOLINE_PHYS + (trampoline_data - trampoline_start));
	struct percpu *pc = alloc_pages_virt(order_for(sizeof(struct percpu)));
	uint8_t *stack = alloc_pages_virt(STACK_ORDER);
	uint8_t *ist = alloc_pages_virt(order_for(NR_IST * IST_STACK_SIZE));
	uint64_t start;

	if (!pc || !stack || !ist) {
		printk(KERN_WARN "smp: no memory to start apic id %u\n", apic_id);
		return false;
	}
	percpu_setup(pc, cpu, (uint64_t)stack + STACK_SIZE, (uint64_t)ist);
	data->cr3 = (uint32_t)virt_to_maddr(trampoline_l4);
	data->efer = (uint32_t)(rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE));
	data->stack = pc->stack_top;
	data->percpu = (uint64_t)pc;
	data->entry = (uint64_t)start_secondary;

	if (!apic_wakeup_cpu(apic_id, TRAMPOLINE_PHYS >> PAGE_SHIFT)) {
		printk(KERN_WARN "smp: apic id %u did not accept the start-up IPIs\n", apic_id);
		return false;
	}
	start = rdtsc();
	while (!__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE)) {
		if (tsc_elapsed_us(start) > 1000000) {
			printk(KERN_WARN "smp: apic id %u did not come online\n", apic_id);
			return false;
		}
		cpu_relax();
	}
	return true;
}

void smp_boot_cpus(void)
{
	uint32_t bsp_apic = this_cpu()->apic_id;
	unsigned int next_cpu = 1, expected = 0;

	ASSERT(trampoline_end - trampoline_start <= (long)PAGE_SIZE);
	memcpy(maddr_to_virt(TRAMPOLINE_PHYS), trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	memcpy(trampoline_l4, idle_pg_table, sizeof(trampoline_l4));
	trampoline_l2[0] = 0 | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_PSE;
	trampoline_l3[0] = virt_to_maddr(trampoline_l2) | PAGE_TABLE;
	trampoline_l4[0] = virt_to_maddr(trampoline_l3) | PAGE_TABLE;

	announce_online();
	for (unsigned int i = 0; i < acpi_nr_cpus; i++) {
		const struct acpi_cpu *c = &acpi_cpus[i];

		if (!c->enabled)
			continue;
		expected++;
		if (c->apic_id == bsp_apic)
			continue;
		if (next_cpu == NR_CPUS) {
			printk(KERN_WARN "smp: hv supports %d CPUs; apic id %u left off\n", NR_CPUS,
			       c->apic_id);
			continue;
		}
		if (start_cpu(next_cpu, c->apic_id))
			next_cpu++;
	}
	if (expected == 0)
		expected = 1;
	printk("smp: %u of %u CPUs online\n", nr_cpus_online, expected);
}

static void __noreturn start_secondary(struct percpu *pc)
{
	wrmsr(MSR_GS_BASE, percpu_gs_base(pc));
	write_cr3(virt_to_maddr(idle_pg_table));
	cpu_features_apply();
	load_cpu_tables(pc);
	apic_setup_local();
	apic_timer_start();
	announce_online();
	idle_loop();
}

void smp_wait_for_ticks(void)
{
	uint64_t start = rdtsc();

	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct percpu *pc = percpu_of[cpu];

		if (!pc || !pc->online)
			continue;
		while (READ_ONCE(pc->ticks) == 0) {
			if (tsc_elapsed_us(start) > 500000) {
				printk(KERN_WARN "smp: cpu %u took no timer tick\n", cpu);
				break;
			}
			safe_halt(); /* our own tick wakes us */
		}
	}
	printk(KERN_DEBUG "smp: every online CPU took timer ticks\n");
}

void idle_loop(void)
{
	for (;;) {
		domain_cpu_check(); /* start a vCPU placed on this CPU (hv/common/domain.c) */
		safe_halt();
	}
}
