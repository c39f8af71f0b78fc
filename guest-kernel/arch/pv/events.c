/*
 * Event channels, 2-level ABI: the upcall handler, per-port handlers and the virtual interrupt
 * flag (vcpu_info.evtchn_upcall_mask).
 *
 * Invariants: a port has a handler only while it is bound; every port is masked unless it has a
 * handler. The upcall clears upcall_pending before scanning and loops while it was set again,
 * so an event raised during the scan is not lost. Masking is a plain store to our own
 * vcpu_info; unmasking re-checks upcall_pending and, if set, enters the hypervisor so that the
 * pending upcall is delivered (it is only delivered on a return to the guest).
 */
#include <kernel.h>
#include <klib/string.h>
#include "pv.h"

static evtchn_handler_t handlers[EVTCHN_2L_NR_CHANNELS];
volatile uint64_t pv_stray_events;

void pv_events_init(void)
{
	for (unsigned int w = 0; w < 64; w++)
		__atomic_store_n(&pv_shared_info->evtchn_mask[w], ~0ULL, __ATOMIC_SEQ_CST);
}

int pv_evtchn_bind(evtchn_port_t port, evtchn_handler_t handler)
{
	if (port == 0 || port >= EVTCHN_2L_NR_CHANNELS)
		return -1;
	handlers[port] = handler;
	return 0;
}

void pv_evtchn_unbind(evtchn_port_t port)
{
	if (port < EVTCHN_2L_NR_CHANNELS) {
		pv_evtchn_mask(port);
		handlers[port] = NULL;
	}
}

long pv_evtchn_unmask(evtchn_port_t port)
{
	struct evtchn_unmask op = {.port = port};
	return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

void pv_evtchn_mask(evtchn_port_t port)
{
	__atomic_fetch_or(&pv_shared_info->evtchn_mask[port / 64], 1ULL << (port % 64),
	                  __ATOMIC_SEQ_CST);
}

void pv_evtchn_do_upcall(void)
{
	struct vcpu_info *v = pv_vcpu();

	do {
		WRITE_ONCE(v->evtchn_upcall_pending, 0);
		uint64_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		while (sel) {
			unsigned int w = (unsigned int)__builtin_ctzll(sel);
			sel &= sel - 1;
			uint64_t bits = READ_ONCE(pv_shared_info->evtchn_pending[w]) &
			                ~READ_ONCE(pv_shared_info->evtchn_mask[w]);
			while (bits) {
				unsigned int b = (unsigned int)__builtin_ctzll(bits);
				bits &= bits - 1;
				evtchn_port_t port = w * 64 + b;
				__atomic_fetch_and(&pv_shared_info->evtchn_pending[w], ~(1ULL << b),
				                   __ATOMIC_SEQ_CST);
				if (handlers[port])
					handlers[port](port);
				else
					pv_stray_events++;
			}
		}
	} while (READ_ONCE(v->evtchn_upcall_pending));
}

unsigned long pv_irq_save(void)
{
	struct vcpu_info *v = pv_vcpu();
	unsigned long old = READ_ONCE(v->evtchn_upcall_mask);

	WRITE_ONCE(v->evtchn_upcall_mask, 1);
	barrier();
	return old;
}

void pv_irq_restore(unsigned long flags)
{
	struct vcpu_info *v = pv_vcpu();

	barrier();
	WRITE_ONCE(v->evtchn_upcall_mask, (uint8_t)flags);
	barrier();
	/* Any hypercall returns through the event check: xen_version is the cheapest. */
	if (!flags && READ_ONCE(v->evtchn_upcall_pending))
		HYPERVISOR_xen_version(0, NULL);
}

void pv_irq_enable(void)
{
	pv_irq_restore(0);
}

/* Called with events masked: sleep until an event was handled, return masked again. */
void pv_idle(void)
{
	long rc = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
	WRITE_ONCE(pv_vcpu()->evtchn_upcall_mask, 1);
	barrier();
	if (rc)
		panic("SCHEDOP_block returned %ld", rc);
}
