/*
 * Domains: creation (the structures, the shared_info page, event channels and vCPUs), the
 * domain table, and the ends of a domain's life: shutdown on the guest's request and crash
 * when hv finds it cannot continue (unhandleable fault, bad stack, ...). A crash concerns
 * only that domain: hv prints why and carries on.
 *
 * The domain table is written at creation only (dom0 at boot); lookups need no lock.
 * With `on_dom0_exit=exit` on hv's command line, the end of dom0 ends the run through QEMU's
 * debug-exit device: poweroff -> 0, crash -> 1, reboot -> 3, other reasons -> 2 + reason.
 */
#include <hv/cmdline.h>
#include <hv/event.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/arch.h>
#include <hv/smp.h>
#include <hv/spinlock.h>
#include <asm/paging.h>
#include <asm/processor.h>

#include "../arch/x86/pv/mm.h"
#include "../arch/x86/pv/pv.h"

#define MAX_DOMAINS 16

static struct domain *domains[MAX_DOMAINS];
static DEFINE_SPINLOCK(evtchn_big_lock);

struct domain *pv_find_domain(uint16_t domid)
{
	for (unsigned int i = 0; i < MAX_DOMAINS; i++)
		if (domains[i] && domains[i]->domain_id == domid && !domains[i]->is_dying)
			return domains[i];
	return NULL;
}

void evtchn_lock(void)
{
	spin_lock(&evtchn_big_lock);
}

void evtchn_unlock(void)
{
	spin_unlock(&evtchn_big_lock);
}

static unsigned int order_of(unsigned long bytes)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

void *evtchn_alloc_zeroed(unsigned long bytes)
{
	return alloc_pages_virt(order_of(bytes));
}

void evtchn_free(void *p, unsigned long bytes)
{
	free_pages_virt(p, order_of(bytes));
}

/* Events for a vCPU: with one vCPU per CPU, a blocked vCPU wakes on the next interrupt. */
void vcpu_kick(struct vcpu *v)
{
}

struct domain *domain_create(uint16_t id, bool privileged, unsigned int max_vcpus)
{
	struct domain *d = alloc_pages_virt(order_of(sizeof(*d)));
	struct page_info *si;
	unsigned int i, slot;

	for (slot = 0; slot < MAX_DOMAINS && domains[slot]; slot++)
		;
	if (!d || slot == MAX_DOMAINS || max_vcpus == 0 || max_vcpus > XEN_LEGACY_MAX_VCPUS)
		return NULL;
	d->domain_id = id;
	d->is_privileged = privileged;
	d->max_vcpus = max_vcpus;
	d->arch = alloc_pages_virt(order_of(sizeof(struct pv_domain)));
	si = alloc_frames(0);
	if (!d->arch || !si)
		return NULL;
	d->shared_info_mfn = page_to_mfn(si);
	d->shared_info = page_to_virt(si);
	memset(d->shared_info, 0, PAGE_SIZE);
	pv_assign_frame(d, d->shared_info_mfn, true);
	if (evtchn_domain_init(d))
		return NULL;
	for (i = 0; i < max_vcpus; i++) {
		struct vcpu *v = alloc_pages_virt(order_of(sizeof(*v)));

		if (!v)
			return NULL;
		v->domain = d;
		v->vcpu_id = i;
		v->arch = alloc_pages_virt(order_of(sizeof(struct pv_vcpu)));
		if (!v->arch)
			return NULL;
		v->vcpu_info = &d->shared_info->vcpu_info[i];
		v->vcpu_info->evtchn_upcall_mask = 1;
		pv(v)->kernel_mode = true;
		pv(v)->periodic_period = 10000000; /* 10 ms until the guest stops it */
		pv(v)->periodic_next = pv_system_time() + 10000000;
		d->vcpu[i] = v;
	}
	pv_set_wallclock(d);
	domains[slot] = d;
	return d;
}

static const char *const reason_names[] = {"poweroff", "reboot",   "suspend",
                                           "crash",    "watchdog", "soft_reset"};

/* The domain is gone from this CPU: end the run or keep hv idling. */
static void __noreturn domain_dead(struct domain *d, int exit_value)
{
	d->is_dying = true;
	this_cpu()->curr_vcpu = NULL;
	__asm__ __volatile__("mov %0, %%dr7" ::"r"(0x400UL)); /* no guest breakpoints left */
	write_cr3(virt_to_maddr(idle_pg_table));
	if (d->domain_id == 0 && cmdline_is("on_dom0_exit", "exit")) {
		printk("hv: exit %d\n", exit_value);
		machine_exit(exit_value);
	}
	printk("hv: alive after domain %u exit\n", d->domain_id);
	__asm__ __volatile__("mov %0, %%rsp; jmp idle_loop" ::"r"(this_cpu()->stack_top));
	__builtin_unreachable();
}

void domain_shutdown(struct domain *d, unsigned int reason)
{
	const char *name = reason < 6 ? reason_names[reason] : "unknown";
	int value = reason == SHUTDOWN_poweroff ? 0
	            : reason == SHUTDOWN_crash  ? 1
	                                        : 2 + (int)reason;

	printk("domain %u shutdown: %s (code %u)\n", d->domain_id, name, reason);
	domain_dead(d, value);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("domain %u crashed: %s\n", d->domain_id, msg);
	domain_dead(d, 1);
}

/*
 * SCHEDOP_block / SCHEDOP_poll: wait, with interrupts on, until an event is deliverable (block)
 * or one of the ports is pending or the timeout passes (poll). hv's tick keeps time and timers
 * going meanwhile.
 */
void pv_vcpu_block(struct vcpu *v, bool poll, const uint32_t *ports, unsigned int nr,
                   uint64_t timeout)
{
	struct vcpu_info *vi = v->vcpu_info;

	for (;;) {
		pv_timers_check(v);
		if (vi->evtchn_upcall_pending && !vi->evtchn_upcall_mask)
			break;
		if (!poll && vi->evtchn_upcall_pending)
			break;
		if (poll) {
			bool hit = false;

			for (unsigned int i = 0; i < nr && !hit; i++)
				hit = ports[i] < EVTCHN_2L_NR_CHANNELS &&
				      evtchn_2l_is_pending(v->domain, ports[i]);
			if (hit || (timeout && pv_system_time() >= timeout))
				break;
		}
		v->polling = poll;
		safe_halt();
		local_irq_disable();
	}
	v->polling = false;
}
