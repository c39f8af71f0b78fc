/*
 * Console input: bytes typed on COM1 reach dom0 through console_io(CONSOLEIO_read).
 *
 * hv does not route the UART's IRQ 4 (it has no IOAPIC driver; every interrupt it takes is the
 * local APIC timer, IPIs or MSI-X). Instead CPU 0 looks at the UART's line status on each of its
 * timer interrupts (console_input_poll, called from both timer handlers: the periodic tick
 * without the scheduler, the scheduler's one-shot timer with it, which fires at least every
 * 10 ms). One inb per tick is cheap, and the latency is below what a person or a test notices.
 * The UART's 16-byte FIFO holds the bytes between two looks; QEMU's back end waits for room.
 *
 * Bytes go into a ring, and VIRQ_CONSOLE is raised to dom0 when new ones arrive (a dom0 that
 * did not bind it still gets them by polling CONSOLEIO_read). When the ring is full, newer bytes
 * are dropped: dom0 is not reading, and old input is what a reader expects first.
 *
 * Invariants: only CPU 0's timer interrupt produces (writes ring[] and `prod`); consumers
 * (dom0's vCPUs in CONSOLEIO_read) serialize on read_lock and are the only writers of `cons`.
 * The producer takes no lock, so an interrupt that arrives while a consumer holds read_lock on
 * the same CPU cannot deadlock.
 */
#include <hv/console_input.h>
#include <hv/event.h>
#include <hv/percpu.h>
#include <hv/spinlock.h>
#include <asm/processor.h>
#include "../arch/x86/pv/xen-public.h"

#define COM1       0x3f8
#define UART_RBR   0 /* receive buffer (DLAB=0) */
#define UART_LSR   5
#define LSR_DR     0x01 /* data ready */
#define RING_BYTES 1024 /* a power of two */

static char ring[RING_BYTES];
static uint32_t prod, cons; /* free-running; prod - cons <= RING_BYTES */
static DEFINE_SPINLOCK(read_lock);

void console_input_poll(void)
{
	uint32_t p, c;
	unsigned int n = 0;
	struct domain *dom0;

	if (smp_processor_id() != 0)
		return;
	p = prod;
	c = __atomic_load_n(&cons, __ATOMIC_ACQUIRE);
	/* Bounded: a UART that always says "data ready" (none there: 0xff) must not hold us. */
	for (unsigned int i = 0; i < 64 && (inb(COM1 + UART_LSR) & LSR_DR); i++) {
		uint8_t b = inb(COM1 + UART_RBR);

		if (p - c >= RING_BYTES)
			continue; /* full: drop */
		ring[p % RING_BYTES] = (char)b;
		p++;
		n++;
	}
	if (!n)
		return;
	__atomic_store_n(&prod, p, __ATOMIC_RELEASE);
	dom0 = domain_lookup(0);
	if (dom0)
		send_guest_global_virq(dom0, VIRQ_CONSOLE);
}

size_t console_input_read(char *buf, size_t len)
{
	size_t n = 0;
	uint32_t p, c;

	spin_lock(&read_lock);
	p = __atomic_load_n(&prod, __ATOMIC_ACQUIRE);
	c = cons;
	while (n < len && c != p)
		buf[n++] = ring[c++ % RING_BYTES];
	__atomic_store_n(&cons, c, __ATOMIC_RELEASE);
	spin_unlock(&read_lock);
	return n;
}
