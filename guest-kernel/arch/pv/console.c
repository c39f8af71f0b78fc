/*
 * Console of the PV platform.
 *
 * The initial domain writes to the hypervisor console through console_io(CONSOLEIO_write) and
 * reads its input through CONSOLEIO_read. A domU has, besides, the console ring page its
 * builder gave it (start_info.console.domU, struct xencons_interface) served by dom0's console
 * back end: output goes to out[] and the console port is notified; input is read from in[].
 * A domU keeps writing to console_io too (hv prefixes it "(dN)" on its own console, where
 * people and tests look for boot messages); a hypervisor that refuses it loses that copy only.
 *
 * Input of the initial domain: hv (like Xen) queues what is typed on its console and raises
 * VIRQ_CONSOLE; the handler runs the kernel's console_poll(), which reads it with
 * CONSOLEIO_read, so a waiting shell wakes at once. The scheduler's periodic poll while a
 * process waits for input stays as the fallback (a hypervisor that never raises the VIRQ).
 *
 * The ring never blocks the kernel for long: a full out[] is waited for (yielding) only once
 * a back end has shown it drains the ring, and only for a while; otherwise (no back end, as
 * under dom0's built-in domain tests, or one that stopped) the bytes that do not fit are
 * dropped, since a domU must not hang at a printk because nobody serves its console.
 */
#include <kernel.h>
#include <mm.h>
#include <klib/string.h>
#include <public/io/console.h>
#include "pv.h"

static struct xencons_interface *ring;
static evtchn_port_t ring_port;
static bool ring_stalled; /* out[] stayed full: skip it until the back end drains */
static bool ring_served;  /* a back end has consumed output: worth waiting for */

void console_poll(void); /* kernel/syscall.c (proc.h clashes with pv.h) */

/* The back end wrote input (or made room for output): a waiting shell wakes at once. */
static void ring_event(evtchn_port_t port)
{
	(void)port;
	console_poll();
}

int console_has_readers(void); /* kernel/syscall.c */

/* Input is taken only while a process reads the console (the scheduler's poll takes it once
 * one waits): what is typed before the prompt stays queued in the hypervisor, not echoed. */
static void virq_console_event(evtchn_port_t port)
{
	(void)port;
	if (console_has_readers())
		console_poll();
}

/* dom0: ask for VIRQ_CONSOLE; without it input is still found by the scheduler's poll. */
static void bind_virq_console(void)
{
	struct evtchn_bind_virq b = {.virq = VIRQ_CONSOLE, .vcpu = 0};
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);

	if (rc) {
		printk("pv: VIRQ_CONSOLE not bound (%ld); console input is polled\n", rc);
		return;
	}
	pv_evtchn_bind(b.port, virq_console_event);
	pv_evtchn_unmask(b.port);
}

void pv_console_init(void)
{
	const start_info_t *si = pv_start_info;
	uint64_t mfn, pfn;

	if (si->flags & SIF_INITDOMAIN) {
		bind_virq_console();
		return;
	}
	if (!si->console.domU.mfn)
		return;
	mfn = si->console.domU.mfn;
	pfn = pv_m2p()[mfn];
	if (pfn >= pv_nr_pages || pv_p2m[pfn] != mfn) {
		printk("pv: console page mfn %#llx is not ours; console_io only\n",
		       (unsigned long long)mfn);
		return;
	}
	ring = pfn_to_virt(pfn);
	ring_port = si->console.domU.evtchn;
	pv_evtchn_bind(ring_port, ring_event);
	pv_evtchn_unmask(ring_port);
}

static void ring_notify(void)
{
	struct evtchn_send send = {.port = ring_port};

	HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

static void ring_write(const char *s, size_t len)
{
	unsigned int spins = 0;

	while (len) {
		uint32_t cons = READ_ONCE(ring->out_cons), prod = ring->out_prod;

		if (cons)
			ring_served = true;
		if (prod - cons >= sizeof(ring->out)) {
			if (!ring_served || ring_stalled || ++spins > 1000) {
				ring_stalled = true;
				return; /* nobody drains: drop the rest */
			}
			ring_notify();
			HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
			continue;
		}
		ring_stalled = false;
		while (len && prod - cons < sizeof(ring->out)) {
			ring->out[MASK_XENCONS_IDX(prod, ring->out)] = *s++;
			prod++;
			len--;
		}
		__atomic_thread_fence(__ATOMIC_RELEASE);
		WRITE_ONCE(ring->out_prod, prod);
		ring_notify();
	}
}

void pv_console_write(const char *s, size_t len)
{
	if (ring)
		ring_write(s, len);
	while (len) {
		unsigned int chunk = len > 1024 ? 1024 : (unsigned int)len;
		long rc = HYPERVISOR_console_io(CONSOLEIO_write, chunk, s);
		if (rc < 0)
			return;
		s += chunk;
		len -= chunk;
	}
}

size_t pv_console_read(char *buf, size_t len)
{
	size_t n = 0;
	long rc;

	if (ring) {
		uint32_t cons = ring->in_cons, prod = READ_ONCE(ring->in_prod);

		if (prod - cons > sizeof(ring->in))
			cons = prod - sizeof(ring->in); /* a confused back end: resync */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		while (n < len && cons != prod)
			buf[n++] = ring->in[MASK_XENCONS_IDX(cons++, ring->in)];
		__atomic_thread_fence(__ATOMIC_RELEASE);
		WRITE_ONCE(ring->in_cons, cons);
		if (n) {
			ring_notify();
			return n;
		}
	}
	rc = HYPERVISOR_console_io(CONSOLEIO_read, (unsigned int)len, buf);
	return rc > 0 ? (size_t)rc : 0;
}
