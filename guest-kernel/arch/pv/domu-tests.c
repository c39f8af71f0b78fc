/*
 * What a domU does when its command line says `domu=<mode>` (the guests of dom0's multi-domain
 * scenarios, kernel/domtest.c). Each mode prints its result on the console (hv prefixes the
 * domain id) and ends by powering off, except `spin` and `idle`, which run until destroyed.
 *
 *   exit            say hello, power off
 *   crash           shut down with reason crash (dom0 must see the reason)
 *   spin            run in a loop without hypercalls (destroy must stop it from outside)
 *   idle            block forever (destroy must stop a blocked vCPU)
 *   domctl          call the control interface: hv must answer -EPERM
 *   pong port=P count=N        answer N events on port P (an unbound port dom0 gave us)
 *   ping peer=D port=P count=N bind to D's port P and send N events, each answered
 *   balloon pages=N            give N pages back to hv (decrease_reservation), one at a
 *                              time, until done or refused (dom0's guarantee), then take
 *                              them back (populate_physmap) and check they work
 *   ports           allocate unbound ports until hv refuses (the per-domain limit)
 *   grant gref=R               grant one page (text "granted by this domU") to dom0 as
 *                              reference R, then block forever (dom0 maps it, destroys us)
 *
 * Event channels here are polled (SCHEDOP_poll), not delivered as upcalls: the ports stay
 * masked, so the measured round trip is hv's send plus wake-up, nothing of ours.
 */
#include <domctl.h>
#include <kernel.h>
#include <mm.h>
#include <klib/string.h>
#include <public/grant_table.h>
#include <public/memory.h>
#include "pv.h"

static uint64_t arg_num(const char *key, uint64_t def)
{
	char buf[32];

	if (cmdline_get(platform->cmdline, key, buf, sizeof(buf)) != 0)
		return def;
	return strtoull(buf, NULL, 0);
}

static bool port_pending(evtchn_port_t port)
{
	return (READ_ONCE(pv_shared_info->evtchn_pending[port / 64]) >> (port % 64)) & 1;
}

static void port_clear(evtchn_port_t port)
{
	__atomic_fetch_and(&pv_shared_info->evtchn_pending[port / 64], ~(1ULL << (port % 64)),
	                   __ATOMIC_SEQ_CST);
}

/* Wait until port is pending (events masked: SCHEDOP_poll returns on pending alone). */
static void wait_port(evtchn_port_t port)
{
	evtchn_port_t ports[1] = {port};
	struct sched_poll p = {.ports = (uint64_t)(uintptr_t)ports, .nr_ports = 1};

	while (!port_pending(port))
		HYPERVISOR_sched_op(SCHEDOP_poll, &p);
	port_clear(port);
}

static long send(evtchn_port_t port)
{
	struct evtchn_send s = {.port = port};

	return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

static void pong(void)
{
	evtchn_port_t port = (evtchn_port_t)arg_num("port", 0);
	uint64_t n = arg_num("count", 1000), i;

	printk("domu: pong on port %u for %llu events\n", port, (unsigned long long)n);
	for (i = 0; i < n; i++) {
		wait_port(port);
		if (send(port) != 0)
			break;
	}
	printk("domu: pong done: %llu answered\n", (unsigned long long)i);
}

static void ping(void)
{
	struct evtchn_bind_interdomain b = {.remote_dom = (domid_t)arg_num("peer", 0),
	                                    .remote_port = (evtchn_port_t)arg_num("port", 0)};
	uint64_t n = arg_num("count", 1000), i, t0;
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b);

	if (rc) {
		printk("domu: ping: bind_interdomain to d%u port %u: %ld\n", b.remote_dom,
		       b.remote_port, rc);
		return;
	}
	port_clear(b.local_port); /* a new interdomain port starts pending */
	printk("domu: ping bound port %u to d%u port %u\n", b.local_port, b.remote_dom,
	       b.remote_port);
	t0 = platform->time_ns();
	for (i = 0; i < n; i++) {
		if (send(b.local_port) != 0)
			break;
		wait_port(b.local_port);
	}
	t0 = platform->time_ns() - t0;
	printk("domu: ping done: %llu round trips in %llu us (%llu ns each)\n",
	       (unsigned long long)i, (unsigned long long)(t0 / 1000),
	       (unsigned long long)(i ? t0 / i : 0));
}

/* Where our grant table's first frame is mapped (the scratch area of pv.h, away from the
 * self-tests' slots). */
#define GRANT_TABLE_VA (PV_SCRATCH_BASE + 400 * PAGE_SIZE)

static bool grant_page(void)
{
	uint64_t frame = 0;
	struct gnttab_setup_table st = {
	    .dom = DOMID_SELF, .nr_frames = 1, .frame_list = (uint64_t)&frame};
	grant_ref_t ref = (grant_ref_t)arg_num("gref", 8);
	char *page = alloc_page();
	long rc;

	rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
	if (rc || st.status != GNTST_okay || !page) {
		printk("domu: grant: setup_table %ld status %d\n", rc, st.status);
		return false;
	}
	rc = HYPERVISOR_update_va_mapping(GRANT_TABLE_VA, (frame << PAGE_SHIFT) | L1_PROT,
	                                  UVMF_INVLPG);
	if (rc) {
		printk("domu: grant: mapping the table: %ld\n", rc);
		return false;
	}
	memset(page, 0, PAGE_SIZE);
	strlcpy(page, "granted by this domU", PAGE_SIZE);
	volatile struct grant_entry_v1 *gt = (void *)GRANT_TABLE_VA;
	gt[ref].domid = 0;
	gt[ref].frame = (uint32_t)pv_virt_to_mfn(page);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	gt[ref].flags = GTF_permit_access;
	printk("domu: grant: page mfn %#llx granted to d0 as ref %u\n",
	       (unsigned long long)pv_virt_to_mfn(page), ref);
	return true;
}

#define BALLOON_MAX 2048

static long memop_one(unsigned int cmd, uint64_t *frame)
{
	struct xen_memory_reservation r = {
	    .extent_start = (uint64_t)(uintptr_t)frame, .nr_extents = 1, .domid = DOMID_SELF};

	return HYPERVISOR_memory_op(cmd, &r);
}

static void balloon(void)
{
	static char *va[BALLOON_MAX];
	static uint64_t pfn[BALLOON_MAX];
	uint64_t want = arg_num("pages", 256), n, back = 0;

	if (want > BALLOON_MAX)
		want = BALLOON_MAX;
	for (n = 0; n < want; n++) {
		char *p = alloc_page();
		uint64_t mfn;

		if (!p)
			break;
		mfn = pv_virt_to_mfn(p);
		pfn[n] = pv_m2p()[mfn]; /* before hv forgets it */
		if (HYPERVISOR_update_va_mapping((unsigned long)p, 0, UVMF_INVLPG) != 0) {
			free_page(p);
			break;
		}
		if (memop_one(XENMEM_decrease_reservation, &mfn) != 1) { /* refused: keep it */
			HYPERVISOR_update_va_mapping((unsigned long)p,
			                             (mfn << PAGE_SHIFT) | L1_PROT, UVMF_INVLPG);
			free_page(p);
			break;
		}
		va[n] = p;
		pv_p2m[pfn[n]] = ~0ULL;
	}
	printk("domu: balloon: gave back %llu pages (asked %llu)\n", (unsigned long long)n,
	       (unsigned long long)want);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t frame = pfn[i];

		if (memop_one(XENMEM_populate_physmap, &frame) != 1)
			break;
		pv_p2m[pfn[i]] = frame;
		if (HYPERVISOR_update_va_mapping((unsigned long)va[i],
		                                 (frame << PAGE_SHIFT) | L1_PROT, UVMF_INVLPG) != 0)
			break;
		memset(va[i], 0x5a, PAGE_SIZE); /* a fresh frame, zeroed by hv, now ours again */
		free_page(va[i]);
		back++;
	}
	printk("domu: balloon: took back %llu pages\n", (unsigned long long)back);
}

static void ports(void)
{
	unsigned int n = 0, last = 0;
	long rc;

	for (;;) {
		struct evtchn_alloc_unbound a = {.dom = DOMID_SELF, .remote_dom = 0};

		rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
		if (rc)
			break;
		n++;
		last = a.port > last ? a.port : last;
		if (a.port >= EVTCHN_2L_NR_CHANNELS)
			break;
	}
	printk("domu: ports: %u more ports, the highest %u, then %ld\n", n, last, rc);
}

static void try_domctl(void)
{
	struct hv_domctl_physinfo pi;
	long rc = dom_physinfo(&pi);

	printk("domu: domctl physinfo: %ld\n", rc);
	rc = dom_destroy(0);
	printk("domu: domctl destroy d0: %ld\n", rc);
}

__noreturn void domu_run(const char *mode)
{
	printk("domu: mode %s\n", mode);
	if (strcmp(mode, "crash") == 0)
		platform->shutdown(PLATFORM_CRASH);
	if (strcmp(mode, "spin") == 0)
		for (;;)
			__asm__ __volatile__("pause");
	if (strcmp(mode, "idle") == 0 || (strcmp(mode, "grant") == 0 && grant_page())) {
		platform->irq_save();
		for (;;)
			platform->idle();
	}
	if (strcmp(mode, "domctl") == 0)
		try_domctl();
	else if (strcmp(mode, "pong") == 0)
		pong();
	else if (strcmp(mode, "ping") == 0)
		ping();
	else if (strcmp(mode, "balloon") == 0)
		balloon();
	else if (strcmp(mode, "ports") == 0)
		ports();
	else if (strcmp(mode, "exit") != 0)
		printk("domu: unknown mode '%s'\n", mode);
	platform->shutdown(PLATFORM_POWEROFF);
}
