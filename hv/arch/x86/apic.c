/*
 * Local APIC, xAPIC mode (memory-mapped registers). Each CPU programs its own APIC; the
 * registers are at the same physical address on every CPU and always refer to the CPU that
 * accesses them, so one uncached mapping serves all.
 *
 * The timer runs in periodic mode at HV_TICK_HZ on every CPU. Its input clock is calibrated
 * once, on the boot CPU, against the (already calibrated) TSC.
 */
#include <hv/lib.h>
#include <hv/acpi.h>
#include <hv/percpu.h>
#include <hv/time.h>
#include <asm/apic.h>
#include <asm/paging.h>
#include <hv/spinlock.h>
#include <asm/processor.h>
#include <asm/traps.h>

#define APIC_ID            0x020
#define APIC_VERSION       0x030
#define APIC_TPR           0x080
#define APIC_EOI           0x0b0
#define APIC_SVR           0x0f0
#define APIC_ESR           0x280
#define APIC_ICR_LO        0x300
#define APIC_ICR_HI        0x310
#define APIC_LVT_TIMER     0x320
#define APIC_LVT_LINT0     0x350
#define APIC_LVT_LINT1     0x360
#define APIC_LVT_ERROR     0x370
#define APIC_TIMER_INIT    0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE  0x3e0

#define SVR_ENABLE        (1u << 8)
#define LVT_MASKED        (1u << 16)
#define LVT_PERIODIC      (1u << 17)
#define ICR_PENDING       (1u << 12)
#define ICR_INIT          (5u << 8)
#define ICR_STARTUP       (6u << 8)
#define ICR_NMI           (4u << 8)
#define ICR_ALL_BUT_SELF  (3u << 18)
#define ICR_LEVEL_ASSERT  (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define DIVIDE_BY_16      0x3

#define APIC_BASE_ENABLE (1UL << 11)
#define APIC_BASE_X2APIC (1UL << 10)

static volatile uint8_t *apic_regs;
/* Timer input ticks per HV_TICK_HZ period (divide-by-16 input), from calibration. */
static uint32_t timer_period;

static uint32_t apic_read(unsigned int reg)
{
	return *(volatile uint32_t *)(apic_regs + reg);
}

static void apic_write(unsigned int reg, uint32_t v)
{
	*(volatile uint32_t *)(apic_regs + reg) = v;
}

uint32_t apic_id(void)
{
	return apic_read(APIC_ID) >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

static void apic_timer_interrupt(struct cpu_user_regs *regs)
{
	this_cpu()->ticks++;
	apic_eoi();
}

static void apic_error_interrupt(struct cpu_user_regs *regs)
{
	apic_write(APIC_ESR, 0);
	printk(KERN_WARN "apic: error interrupt on cpu %u, esr %#x\n", smp_processor_id(),
	       apic_read(APIC_ESR));
	apic_eoi();
}

void apic_setup_local(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	/* Globally enabled, xAPIC mode. Firmware may have left x2APIC mode on; the only legal way
	 * back to xAPIC mode goes through "disabled". */
	if (base & APIC_BASE_X2APIC)
		wrmsr(MSR_APIC_BASE, base & ~(APIC_BASE_X2APIC | APIC_BASE_ENABLE));
	wrmsr(MSR_APIC_BASE, (base & ~APIC_BASE_X2APIC) | APIC_BASE_ENABLE);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_TIMER, LVT_MASKED | APIC_TIMER_VECTOR);
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, LVT_MASKED);
	apic_write(APIC_LVT_ERROR, APIC_ERROR_VECTOR);
	apic_write(APIC_ESR, 0);
	apic_write(APIC_SVR, SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	apic_eoi();
	this_cpu()->apic_id = apic_id();
}

/* The legacy 8259 PICs stay fully masked: every interrupt hv takes comes through the local
 * APIC (LINT0, where the PIC's ExtINT output arrives, is masked too). */
static void pic_mask_all(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void apic_init(void)
{
	paddr_t base = rdmsr(MSR_APIC_BASE) & PADDR_MASK;

	pic_mask_all();
	if (acpi_lapic_base && acpi_lapic_base != base)
		printk(KERN_WARN "apic: MADT says %#lx, MSR says %#lx; using the MSR\n",
		       (unsigned long)acpi_lapic_base, (unsigned long)base);
	apic_regs = ioremap(base, PAGE_SIZE);
	set_trap_handler(APIC_TIMER_VECTOR, apic_timer_interrupt);
	set_trap_handler(APIC_ERROR_VECTOR, apic_error_interrupt);
	apic_setup_local();
}

void apic_timer_calibrate(void)
{
	const uint64_t window_us = 2000;
	uint64_t start;
	uint32_t elapsed;

	apic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_16);
	apic_write(APIC_LVT_TIMER, LVT_MASKED | APIC_TIMER_VECTOR);
	apic_write(APIC_TIMER_INIT, 0xffffffff);
	start = rdtsc();
	while (tsc_elapsed_us(start) < window_us)
		cpu_relax();
	elapsed = 0xffffffff - apic_read(APIC_TIMER_CURRENT);
	apic_write(APIC_TIMER_INIT, 0);
	timer_period = (uint32_t)((uint64_t)elapsed * 1000000 / window_us / HV_TICK_HZ);
	if (timer_period == 0)
		timer_period = 1;
	printk(KERN_DEBUG "apic: timer %u.%03u MHz input, %u per tick\n",
	       (unsigned)(elapsed / window_us), (unsigned)(elapsed % window_us * 1000 / window_us),
	       timer_period);
}

void apic_timer_start(void)
{
	apic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_16);
	apic_write(APIC_LVT_TIMER, LVT_PERIODIC | APIC_TIMER_VECTOR);
	apic_write(APIC_TIMER_INIT, timer_period);
	this_cpu()->apic_timer_initial = timer_period;
}

/*
 * One-shot mode (the scheduler's timer): one interrupt after @ns nanoseconds, replacing any
 * armed count or the periodic tick. Beyond what 32 bits hold it fires early, which is safe.
 */
void apic_timer_oneshot_ns(uint64_t ns)
{
	uint64_t count = ns * timer_period / (1000000000ull / HV_TICK_HZ);

	if (count == 0)
		count = 1;
	if (count > 0xffffffffull)
		count = 0xffffffffull;
	apic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_16);
	apic_write(APIC_LVT_TIMER, APIC_TIMER_VECTOR);
	apic_write(APIC_TIMER_INIT, (uint32_t)count);
}

static bool apic_send_ipi(uint32_t dest, uint32_t icr)
{
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr);
	for (unsigned int i = 0; i < 100000; i++) {
		if (!(apic_read(APIC_ICR_LO) & ICR_PENDING))
			return true;
		cpu_relax();
	}
	return false;
}

/* A fixed-vector interrupt to one CPU; the caller has interrupts off (one ICR per CPU). */
void apic_send_ipi_vector(uint32_t dest, uint8_t vector)
{
	while (apic_read(APIC_ICR_LO) & ICR_PENDING)
		cpu_relax();
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, vector);
}

void apic_nmi_all_but_self(void)
{
	if (!apic_regs)
		return; /* before apic_init(): no other CPU runs yet */
	apic_write(APIC_ICR_HI, 0);
	apic_write(APIC_ICR_LO, ICR_ALL_BUT_SELF | ICR_NMI);
}

bool apic_wakeup_cpu(uint32_t dest, unsigned int start_page)
{
	/* INIT assert, then the two STARTUPs of the MP specification. Its 10 ms wait after INIT
	 * is for old CPUs only; since family 6 (Intel) and 0xf (AMD) CPUs are ready at once. */
	if (!apic_send_ipi(dest, ICR_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL))
		return false;
	if (cpu_features.family < 6)
		udelay(10000);
	for (int i = 0; i < 2; i++) {
		if (!apic_send_ipi(dest, ICR_STARTUP | (start_page & 0xff)))
			return false;
		udelay(200);
	}
	return true;
}
