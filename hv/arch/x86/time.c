/*
 * TSC calibration against the PIT. Channel 2 of the 8254 can be gated and its output read back
 * through port 0x61 without any interrupt: program it in mode 0 (interrupt on terminal count)
 * with the count for a known interval, then count TSC ticks until its output goes high. The PIT
 * is used for nothing else.
 */
#include <hv/lib.h>
#include <hv/time.h>
#include <hv/spinlock.h>
#include <asm/processor.h>

#define PIT_HZ        1193182
#define PIT_CH2       0x42
#define PIT_MODE      0x43
#define PIT_GATE_PORT 0x61
#define GATE2         0x01
#define SPEAKER       0x02
#define OUT2          0x20
#define CALIBRATE_MS  10

uint64_t tsc_khz;

/* TSC ticks during @ms milliseconds of PIT time; 0 if the PIT never counted down. */
static uint64_t pit_measure_tsc(unsigned int ms)
{
	uint32_t count = PIT_HZ * ms / 1000;
	uint64_t start, end;
	unsigned long spins = 0;

	outb(PIT_GATE_PORT, (inb(PIT_GATE_PORT) & ~SPEAKER) | GATE2);
	outb(PIT_MODE, 0xb0); /* channel 2, low then high byte, mode 0, binary */
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	start = rdtsc();
	while (!(inb(PIT_GATE_PORT) & OUT2))
		if (++spins > 100000000UL)
			return 0;
	end = rdtsc();
	return end - start;
}

void time_init(void)
{
	uint64_t ticks = pit_measure_tsc(CALIBRATE_MS);

	if (ticks == 0)
		panic("time: the PIT did not count; cannot calibrate the TSC");
	tsc_khz = ticks / CALIBRATE_MS;
	printk("tsc: %lu.%03lu MHz\n", (unsigned long)(tsc_khz / 1000),
	       (unsigned long)(tsc_khz % 1000));
}

uint64_t tsc_elapsed_us(uint64_t tsc_start)
{
	uint64_t ticks = rdtsc() - tsc_start;

	/* Split so that ticks * 1000 cannot overflow, however long hv has been up. */
	return ticks / tsc_khz * 1000 + ticks % tsc_khz * 1000 / tsc_khz;
}

void udelay(uint64_t us)
{
	uint64_t start = rdtsc();

	while (tsc_elapsed_us(start) < us)
		cpu_relax();
}
