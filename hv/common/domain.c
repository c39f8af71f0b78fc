/*
 * Domains: the domain table (ids, names, UUIDs for the control plane), creation, placement of
 * vCPUs on physical CPUs, pause/unpause, shutdown (on the guest's request, on dom0's, or a
 * crash when hv finds it cannot continue), and destruction, which gives back every frame,
 * event channel and hv structure the domain held. A crash concerns only that domain: hv prints
 * why and carries on. dom0's end is special: with `on_dom0_exit=exit` on hv's command line it
 * ends the run through QEMU's debug-exit device: poweroff -> 0, crash -> 1, reboot -> 3, other
 * reasons -> 2 + reason.
 *
 * Placement until hv's scheduler multiplexes vCPUs: a domU's vCPU 0 gets a physical CPU of its
 * own (never CPU 0, which runs dom0); when none is free, unpause answers -EBUSY. The placed
 * CPU picks the vCPU up from its idle loop (domain_cpu_check), and the same function, called
 * from that CPU's tick and from blocking, holds the vCPU while its domain is paused and makes
 * it leave the CPU when the domain is shut down or dying. Other CPUs never touch a running
 * vCPU's state: they set a flag and wait for the vCPU to leave (at most one tick).
 *
 * Invariants: a slot of the table holds a domain from creation until the end of destroy, and
 * lookups find it there, dying or not (its own vCPU may be inside a hypercall when destroy
 * starts); its frames are given back only after its vCPUs have left their CPUs; the table
 * entry is cleared under both the event and the PV lock, so nobody holding either sees it
 * vanish, and its structures are freed only after that.
 * Domain ids are not reused until the id space wraps, so a frame still referenced from
 * elsewhere never names a newer domain by mistake.
 */
#include <hv/cmdline.h>
#include <hv/event.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/sched-if.h>
#include <hv/arch.h>
#include <hv/smp.h>
#include <hv/spinlock.h>
#include <hv/time.h>
#include <asm/apic.h>
#include <asm/paging.h>
#include <asm/processor.h>
#include <asm/traps.h>

#include "../arch/x86/pv/mm.h"
#include "../arch/x86/pv/pv.h"

/* public/vcpu.h clashes with asm/regs.h (see sched-pv.c): its runstate numbers only. */
#define RUNSTATE_running 0
#define RUNSTATE_offline 3

/* Event-channel ports of a domU (dom0 has all 4096): enough for a guest's devices and
 * vCPUs, and a bound on what one domain can make hv scan. */
#define DOMU_EVTCHN_PORTS 1024

#define FIRST_DOMU_ID 1
#define LAST_DOMU_ID  0x7fef

static struct domain *domains[HV_MAX_DOMAINS];
static DEFINE_SPINLOCK(domtab_lock);
static DEFINE_SPINLOCK(evtchn_big_lock);
static uint16_t next_domid = FIRST_DOMU_ID;
/* The vCPU placed on each physical CPU (NULL: free); written under domtab_lock. */
static struct vcpu *placed[NR_CPUS];

struct domain *domain_lookup(uint16_t domid)
{
	for (unsigned int i = 0; i < HV_MAX_DOMAINS; i++) {
		struct domain *d = READ_ONCE(domains[i]);

		if (d && d->domain_id == domid)
			return d;
	}
	return NULL;
}

/*
 * Also finds a dying domain: until destroy clears its slot, its vCPU may still be finishing a
 * hypercall, and its frames still name it as their owner.
 */
struct domain *pv_find_domain(uint16_t domid)
{
	return domain_lookup(domid);
}

struct domain *domain_next(uint16_t first)
{
	struct domain *best = NULL;

	for (unsigned int i = 0; i < HV_MAX_DOMAINS; i++) {
		struct domain *d = READ_ONCE(domains[i]);

		if (d && d->domain_id >= first && (!best || d->domain_id < best->domain_id))
			best = d;
	}
	return best;
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

/*
 * Events for a vCPU. With the scheduler on, schedule.c wakes it or interrupts its pCPU.
 * Without it, the vCPU has a pCPU of its own, which gets an interrupt on KICK_VECTOR when the
 * vCPU runs or waits there: a halted vCPU wakes and looks at its bitmaps again, a running one
 * takes its upcall on the way back to the guest.
 */
#define KICK_VECTOR 0xf2 /* after the scheduler's 0xf1 (asm/apic.h) */

static void kick_interrupt(struct cpu_user_regs *regs)
{
	apic_eoi();
	if (guest_mode(regs))
		pv_exit_to_guest(regs);
}

void vcpu_kick(struct vcpu *v)
{
	int cpu = READ_ONCE(v->on_cpu);

	if (sched_active()) {
		sched_vcpu_kick(v); /* wake it, or IPI its pCPU */
		return;
	}
	if (cpu >= 0 && (unsigned int)cpu != smp_processor_id() && percpu_of[cpu])
		apic_send_ipi_vector(percpu_of[cpu]->apic_id, KICK_VECTOR);
}

/* Free what domain_create allocated (frames excepted: see give_back_frames). */
static void free_structures(struct domain *d)
{
	for (unsigned int i = 0; i < HV_MAX_VCPUS; i++) {
		struct vcpu *v = d->vcpu[i];

		if (!v)
			continue;
		if (v->arch)
			free_pages_virt(v->arch, order_of(sizeof(struct pv_vcpu)));
		free_pages_virt(v, order_of(sizeof(*v)));
	}
	if (d->arch) {
		if (pvd(d)->frames)
			free_pages_virt(pvd(d)->frames,
			                order_of(pvd(d)->nr_frames * sizeof(uint64_t)));
		free_pages_virt(d->arch, order_of(sizeof(struct pv_domain)));
	}
	free_pages_virt(d, order_of(sizeof(*d)));
}

/* A free domain id (id 0 is dom0's, given at boot), or -1; domtab_lock held. */
static int pick_domid(void)
{
	for (unsigned int tries = 0; tries <= LAST_DOMU_ID; tries++) {
		uint16_t id = next_domid;

		next_domid = next_domid >= LAST_DOMU_ID ? FIRST_DOMU_ID : next_domid + 1;
		if (!domain_lookup(id))
			return id;
	}
	return -1;
}

/*
 * A new, empty domain (no memory, not built, paused). id 0 creates dom0; any other id is
 * taken as asked if free, and DOMID_INVALID asks hv to pick one. NULL when out of memory, out
 * of slots or the id is taken.
 */
struct domain *domain_create(uint16_t id, bool privileged, unsigned int max_vcpus)
{
	struct domain *d;
	struct page_info *si;
	unsigned int i, slot;
	int newid;

	if (max_vcpus == 0 || max_vcpus > XEN_LEGACY_MAX_VCPUS)
		return NULL;
	d = alloc_pages_virt(order_of(sizeof(*d)));
	if (!d)
		return NULL;
	d->arch = alloc_pages_virt(order_of(sizeof(struct pv_domain)));
	if (!d->arch || evtchn_domain_init(d)) {
		free_structures(d);
		return NULL;
	}
	d->is_privileged = privileged;
	d->max_vcpus = max_vcpus;
	d->home_cpu = -1;
	d->max_evtchn_ports = id == 0 ? 0 : DOMU_EVTCHN_PORTS;
	d->state = id == 0 ? DOMSTATE_RUNNING : DOMSTATE_CREATED; /* dom0 runs at once */
	d->built = id == 0;
	for (i = 0; i < max_vcpus; i++) {
		struct vcpu *v = alloc_pages_virt(order_of(sizeof(*v)));

		if (v)
			v->arch = alloc_pages_virt(order_of(sizeof(struct pv_vcpu)));
		d->vcpu[i] = v;
		if (!v || !v->arch) {
			evtchn_domain_destroy(d);
			free_structures(d);
			return NULL;
		}
		v->domain = d;
		v->vcpu_id = i;
		v->on_cpu = id == 0 && i == 0 ? 0 : -1; /* dom0's vCPU 0 starts on the boot CPU */
	}

	spin_lock(&domtab_lock);
	for (slot = 0; slot < HV_MAX_DOMAINS && domains[slot]; slot++)
		;
	newid = id == DOMID_INVALID ? pick_domid() : (domain_lookup(id) ? -1 : id);
	si = slot < HV_MAX_DOMAINS && newid >= 0 ? alloc_frames(0) : NULL;
	if (!si) {
		spin_unlock(&domtab_lock);
		evtchn_domain_destroy(d);
		free_structures(d);
		return NULL;
	}
	d->domain_id = (uint16_t)newid;
	d->shared_info_mfn = page_to_mfn(si);
	d->shared_info = page_to_virt(si);
	memset(d->shared_info, 0, PAGE_SIZE);
	pv_lock();
	pv_assign_frame(d, d->shared_info_mfn, true);
	pv_unlock();
	for (i = 0; i < max_vcpus; i++) {
		struct vcpu *v = d->vcpu[i];

		v->vcpu_info = &d->shared_info->vcpu_info[i];
		v->vcpu_info->evtchn_upcall_mask = 1;
		pv(v)->kernel_mode = true;
		pv(v)->periodic_period = 10000000; /* 10 ms until the guest stops it */
		pv(v)->periodic_next = pv_system_time() + 10000000;
	}
	pv_set_wallclock(d);
	domains[slot] = d;
	spin_unlock(&domtab_lock);
	return d;
}

/* --- running vCPUs on physical CPUs -------------------------------------------------------- */

static bool should_leave(const struct domain *d)
{
	return d->is_dying || d->state == DOMSTATE_SHUTDOWN || d->state == DOMSTATE_CRASHED;
}

/* This CPU stops running v: hv's own tables, no guest breakpoints, back to the idle loop. */
static void __noreturn vcpu_leave_cpu(struct vcpu *v)
{
	struct pv_vcpu *p = pv(v);
	uint64_t now = pv_system_time();

	if (sched_active())
		sched_leave_dead_vcpu(v->domain, v);
	if (p->runstate.state == RUNSTATE_running)
		p->runstate.time[RUNSTATE_running] += now - p->runstate.state_entry_time;
	p->runstate.state = RUNSTATE_offline;
	p->runstate.state_entry_time = now;
	pv(v)->online = false;
	__asm__ __volatile__("mov %0, %%dr7" ::"r"(0x400UL));
	write_cr3(virt_to_maddr(idle_pg_table));
	this_cpu()->curr_vcpu = NULL;
	__atomic_store_n(&v->on_cpu, -1, __ATOMIC_SEQ_CST);
	__asm__ __volatile__("mov %0, %%rsp; jmp idle_loop" ::"r"(this_cpu()->stack_top));
	__builtin_unreachable();
}

/*
 * Start v on this CPU from the frame the builder left (never returns). The frame is built
 * outside the stack: pv_enter_frame copies it to the top of this stack, which the idle loop's
 * own frames may overlap.
 */
static struct cpu_user_regs start_frame[NR_CPUS];

static void __noreturn vcpu_start_here(struct vcpu *v)
{
	struct domain *d = v->domain;
	struct cpu_user_regs *regs = &start_frame[smp_processor_id()];

	local_irq_disable();
	memset(regs, 0, sizeof(*regs));
	regs->rip = d->boot_rip;
	regs->rsp = d->boot_rsp;
	regs->rsi = d->boot_rsi;
	regs->cs = FLAT_KERNEL_CS;
	regs->ss = FLAT_KERNEL_SS;
	regs->rflags = 0x202;

	pv_cpu_init();
	this_cpu()->curr_vcpu = v;
	v->on_cpu = (int)smp_processor_id();
	set_trap_handler(KICK_VECTOR, kick_interrupt); /* the same on every CPU: harmless */
	pv(v)->online = true;
	pv(v)->runstate.state = RUNSTATE_running;
	pv(v)->runstate.state_entry_time = pv_system_time();
	write_cr3(pv_current_cr3(v));
	wrmsr(MSR_FS_BASE, 0);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	pv_update_vcpu_time(v);
	pv_install_gdt(v);
	pv_enter_frame(regs);
}

void domain_cpu_check(void)
{
	struct vcpu *v = current_vcpu();
	struct domain *d;

	if (sched_active())
		return; /* the scheduler starts, holds and stops vCPUs (hv/common/schedule.c) */
	if (!v) {
		v = READ_ONCE(placed[smp_processor_id()]);
		if (v && v->on_cpu < 0 && v->domain->state == DOMSTATE_RUNNING &&
		    !v->domain->pause_count && !v->domain->is_dying && v->domain->built)
			vcpu_start_here(v);
		return;
	}
	d = v->domain;
	if (v->parked || d->domain_id == 0)
		return;
	if (d->pause_count && !should_leave(d)) {
		/* Paused: hold the vCPU here, its frame on this CPU's stack, until unpaused. */
		v->parked = true;
		while (d->pause_count && !should_leave(d)) {
			safe_halt();
			local_irq_disable();
		}
		v->parked = false;
	}
	if (should_leave(d))
		vcpu_leave_cpu(v);
}

/* Is v's frame on some pCPU's stack (the scheduler's view when it has v)? */
static bool vcpu_on_a_cpu(struct vcpu *v)
{
	return v->sched ? READ_ONCE(v->sched->running) : READ_ONCE(v->on_cpu) >= 0;
}

/* Wait (at most about a second) until no vCPU of d is on a CPU, or held paused if `parked`. */
static bool wait_vcpus(struct domain *d, bool parked_is_enough)
{
	uint64_t start = rdtsc();

	for (unsigned int i = 0; i < d->max_vcpus; i++) {
		struct vcpu *v = d->vcpu[i];

		while (vcpu_on_a_cpu(v) && !(parked_is_enough && READ_ONCE(v->parked))) {
			if (tsc_elapsed_us(start) > 1000000)
				return false;
			cpu_relax();
		}
	}
	return true;
}

/* A free physical CPU for v (domtab_lock held), or -1. CPU 0 runs dom0. */
static int place_vcpu(struct vcpu *v)
{
	for (unsigned int cpu = 1; cpu < NR_CPUS; cpu++) {
		if (!percpu_of[cpu] || !percpu_of[cpu]->online || placed[cpu])
			continue;
		placed[cpu] = v;
		return (int)cpu;
	}
	return -1;
}

int domain_unpause(struct domain *d)
{
	int rc = 0;

	spin_lock(&domtab_lock);
	if (d->is_dying || d->state == DOMSTATE_SHUTDOWN || d->state == DOMSTATE_CRASHED) {
		rc = -EINVAL;
	} else if (d->state == DOMSTATE_CREATED) {
		if (!d->built) {
			rc = -EINVAL;
		} else if (sched_active()) {
			char msg[160];

			/* Running before it can run: it may shut down at once on another pCPU,
			 * and that state must not be overwritten here. */
			d->pause_count = 0;
			d->state = DOMSTATE_RUNNING;
			rc = sched_domain_start(d, msg, sizeof(msg)); /* admission may refuse */
			if (rc) {
				d->state = DOMSTATE_CREATED;
				printk("domain %u: %s\n", d->domain_id, msg);
			}
		} else if (d->home_cpu < 0 && (d->home_cpu = place_vcpu(d->vcpu[0])) < 0) {
			rc = -EBUSY; /* no physical CPU free (no scheduler to share one yet) */
		} else {
			d->pause_count = 0;
			d->state = DOMSTATE_RUNNING;
		}
	} else if (d->pause_count) {
		if (--d->pause_count == 0) {
			d->state = DOMSTATE_RUNNING;
			if (sched_active())
				sched_domain_unpause(d);
		}
	}
	spin_unlock(&domtab_lock);
	return rc;
}

int domain_pause(struct domain *d)
{
	spin_lock(&domtab_lock);
	if (d->is_dying || d->state == DOMSTATE_SHUTDOWN || d->state == DOMSTATE_CRASHED) {
		spin_unlock(&domtab_lock);
		return -EINVAL;
	}
	d->pause_count++;
	if (d->state == DOMSTATE_RUNNING)
		d->state = DOMSTATE_PAUSED;
	if (sched_active())
		sched_domain_pause(d); /* its vCPUs leave their pCPUs */
	spin_unlock(&domtab_lock);
	return wait_vcpus(d, true) ? 0 : -EBUSY;
}

uint64_t domain_cpu_time_ns(struct domain *d)
{
	uint64_t total = 0, now = pv_system_time();

	if (sched_active())
		return sched_domain_cpu_time_ns(d);
	for (unsigned int i = 0; i < d->max_vcpus; i++) {
		struct pv_vcpu *p = pv(d->vcpu[i]);

		total += p->runstate.time[RUNSTATE_running];
		if (d->vcpu[i]->on_cpu >= 0 && p->runstate.state == RUNSTATE_running &&
		    now > p->runstate.state_entry_time)
			total += now - p->runstate.state_entry_time;
	}
	return total;
}

/* --- the end of a domain ------------------------------------------------------------------- */

static const char *const reason_names[] = {"poweroff", "reboot",   "suspend",
                                           "crash",    "watchdog", "soft_reset"};

static void tell_dom0(void)
{
	struct domain *dom0 = pv_find_domain(0);

	if (dom0)
		send_guest_global_virq(dom0, VIRQ_DOM_EXC);
}

/* The domain stopped on this CPU: end the run (dom0) or leave the CPU to idle. */
static void __noreturn domain_dead(struct domain *d, int exit_value, bool crashed,
                                   unsigned int code)
{
	struct vcpu *v = current_vcpu();

	if (d->domain_id == 0) {
		d->is_dying = true;
		if (cmdline_is("on_dom0_exit", "exit")) {
			printk("hv: exit %d\n", exit_value);
			machine_exit(exit_value);
		}
		printk("hv: alive after domain %u exit\n", d->domain_id);
	} else {
		d->shutdown_code = code;
		d->state = crashed ? DOMSTATE_CRASHED : DOMSTATE_SHUTDOWN;
		pvd(d)->shutdown_reason = code;
		tell_dom0();
	}
	vcpu_leave_cpu(v);
}

void domain_shutdown(struct domain *d, unsigned int reason)
{
	const char *name = reason < 6 ? reason_names[reason] : "unknown";
	int value = reason == SHUTDOWN_poweroff ? 0
	            : reason == SHUTDOWN_crash  ? 1
	                                        : 2 + (int)reason;

	printk("domain %u shutdown: %s (code %u)\n", d->domain_id, name, reason);
	domain_dead(d, value, reason == SHUTDOWN_crash, reason);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("domain %u crashed: %s\n", d->domain_id, msg);
	domain_dead(d, 1, true, SHUTDOWN_crash);
}

/* dom0 asks a domU to stop (its vCPU leaves its CPU at the next check); the reason is kept. */
void domain_request_shutdown(struct domain *d, unsigned int reason)
{
	spin_lock(&domtab_lock);
	if (!d->is_dying && d->state != DOMSTATE_SHUTDOWN && d->state != DOMSTATE_CRASHED) {
		d->shutdown_code = reason;
		pvd(d)->shutdown_reason = reason;
		d->state = reason == SHUTDOWN_crash ? DOMSTATE_CRASHED : DOMSTATE_SHUTDOWN;
		printk("domain %u shutdown by dom0: %s\n", d->domain_id,
		       reason < 6 ? reason_names[reason] : "unknown");
		if (sched_active())
			sched_domain_pause(d); /* its vCPUs leave their pCPUs for good */
	}
	spin_unlock(&domtab_lock);
	if (wait_vcpus(d, false))
		for (unsigned int i = 0; i < d->max_vcpus; i++)
			pv(d->vcpu[i])->online = false; /* down for good (the scheduler's too) */
	tell_dom0();
}

/* Every frame d owns goes back: pins first (so all type counts fall to 0), then allocations.
 * A frame someone else still references (a grant mapping) stays until that reference goes. */
static void give_back_frames(struct domain *d)
{
	pv_lock();
	for (unsigned int i = 0; i < d->max_vcpus; i++)
		pv_relinquish_vcpu(d->vcpu[i]);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned long mfn = 0; mfn < max_frame; mfn++) {
			struct pv_frame *f = pv_frame(mfn); /* NULL: I/O memory, not RAM */

			if (!f || f->owner != d->domain_id || !(f->flags & PGF_allocated))
				continue;
			if (pass == 1 && !(f->flags & PGF_hv_heap))
				pv_m2p_set(mfn, ~0ULL);
			pv_relinquish_frame(d, mfn, pass == 1);
		}
	pv_unlock();
}

int domain_destroy(struct domain *d)
{
	unsigned int slot;

	spin_lock(&domtab_lock);
	d->is_dying = true;
	d->state = DOMSTATE_DYING;
	if (sched_active())
		sched_domain_pause(d);
	spin_unlock(&domtab_lock);
	if (!wait_vcpus(d, false)) {
		printk("domain %u: a vCPU did not leave its pCPU; destroy again later\n",
		       d->domain_id);
		return -EBUSY; /* stays dying; a later destroy tries again */
	}
	if (sched_active()) {
		/* The policy lets a vCPU go once its last pCPU has switched away: retry. */
		uint64_t start = rdtsc();

		while (sched_domain_destroy(d)) {
			if (tsc_elapsed_us(start) > 1000000) {
				printk("domain %u: the scheduler still holds a vCPU; destroy again "
				       "later\n",
				       d->domain_id);
				return -EBUSY;
			}
			cpu_relax();
		}
	}

	evtchn_domain_destroy(d);
	give_back_frames(d);
	if (d->tot_pages)
		printk(KERN_WARN "domain %u: %lu frames still referenced at destroy\n",
		       d->domain_id, (unsigned long)d->tot_pages);

	spin_lock(&domtab_lock);
	for (slot = 0; slot < HV_MAX_DOMAINS && domains[slot] != d; slot++)
		;
	/* Anyone who found d under either lock is done with it once we hold that lock. */
	evtchn_lock();
	pv_lock();
	if (slot < HV_MAX_DOMAINS)
		domains[slot] = NULL;
	pv_unlock();
	evtchn_unlock();
	if (d->home_cpu >= 0)
		placed[d->home_cpu] = NULL;
	spin_unlock(&domtab_lock);
	tell_dom0();
	free_structures(d);
	return 0;
}

/*
 * SCHEDOP_block / SCHEDOP_poll: wait, with interrupts on, until an event is deliverable (block)
 * or one of the ports is pending or the timeout passes (poll). hv's tick keeps time and timers
 * going meanwhile, and an event from another CPU interrupts the halt (vcpu_kick). The vCPU
 * has its CPU to itself, so it first watches its bitmaps for a short while (the answer of a
 * busy peer then costs no interrupt), then halts until the next interrupt.
 */
#define BLOCK_SPIN_US 20

void pv_vcpu_block(struct vcpu *v, bool poll, const uint32_t *ports, unsigned int nr,
                   uint64_t timeout)
{
	struct vcpu_info *vi = v->vcpu_info;
	uint64_t spin_start = rdtsc();

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
		domain_cpu_check();
		v->polling = poll;
		if (tsc_elapsed_us(spin_start) < BLOCK_SPIN_US) {
			local_irq_enable();
			cpu_relax();
		} else {
			safe_halt();
		}
		local_irq_disable();
	}
	v->polling = false;
}
