/*
 * Self-tests of event channels (loopback interdomain, IPI, VIRQ_TIMER, masking, hostile
 * ports), time (pvclock, wall clock, both timer interfaces) and the grant table.
 */
#include <public/vcpu.h>
#include <public/grant_table.h>
#include "st.h"

static volatile unsigned int event_hits;
static volatile evtchn_port_t last_port;

static void count_event(evtchn_port_t port)
{
	last_port = port;
	event_hits++;
}

static long evtchn_close(evtchn_port_t port)
{
	struct evtchn_close c = {.port = port};
	pv_evtchn_unbind(port);
	return HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
}

/* Wait (blocking) until `cond` holds or ~100 ms of system time passed; returns cond. */
#define WAIT_FOR(cond)                                                                             \
	({                                                                                         \
		uint64_t end_ = pv_time_ns() + 100000000ULL;                                       \
		unsigned long f_ = pv_irq_save();                                                  \
		while (!(cond) && pv_time_ns() < end_) {                                           \
			pv_timer_set(pv_time_ns() + 1000000ULL);                                   \
			pv_idle();                                                                 \
		}                                                                                  \
		pv_irq_restore(f_);                                                                \
		(cond);                                                                            \
	})

/*
 * Probes: an interdomain channel looped back to ourselves: alloc_unbound(self, self), then
 * bind_interdomain to it, then send on the bound end.
 * Expected: the unbound end's handler runs through the event upcall; status reports both
 * ends as interdomain to each other; closing works and a closed port reads as closed.
 */
void st_evtchn_loopback(void)
{
	struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
	struct evtchn_bind_interdomain bi = {.remote_dom = DOMID_SELF};
	struct evtchn_status st = {.dom = DOMID_SELF};

	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), 0);
	bi.remote_port = au.port;
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi), 0);
	if (st_failures())
		return;
	pv_evtchn_bind(au.port, count_event);
	pv_evtchn_bind(bi.local_port, count_event);
	event_hits = 0;
	st_check_rc(pv_evtchn_unmask(au.port), 0);
	event_hits = 0;
	struct evtchn_send s = {.port = bi.local_port};
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), 0);
	st_check(WAIT_FOR(event_hits == 1));
	st_check_rc(last_port, au.port);

	st.port = bi.local_port;
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
	st_check_rc(st.status, EVTCHNSTAT_interdomain);
	st_check_rc(st.u.interdomain.port, au.port);

	st_check_rc(evtchn_close(bi.local_port), 0);
	st_check_rc(evtchn_close(au.port), 0);
	st.port = au.port;
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
	st_check_rc(st.status, EVTCHNSTAT_closed);
}

/*
 * Probes: an IPI channel to our own vCPU, and masking: a send while masked leaves the port
 * pending without an upcall; EVTCHNOP_unmask then delivers it.
 * Expected: delivered exactly once, and only after the unmask.
 */
void st_evtchn_ipi_mask(void)
{
	struct evtchn_bind_ipi ipi = {.vcpu = 0};

	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi), 0);
	if (st_failures())
		return;
	pv_evtchn_bind(ipi.port, count_event);
	event_hits = 0;
	struct evtchn_send s = {.port = ipi.port};
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), 0); /* still masked */
	WAIT_FOR(event_hits != 0);
	st_check_rc(event_hits, 0);
	st_check(pv_shared_info->evtchn_pending[ipi.port / 64] & (1ULL << (ipi.port % 64)));
	st_check_rc(pv_evtchn_unmask(ipi.port), 0);
	st_check(WAIT_FOR(event_hits == 1));
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), 0);
	st_check(WAIT_FOR(event_hits == 2));
	st_check_rc(evtchn_close(ipi.port), 0);
}

/*
 * Probes: event-channel operations on ports and values that do not exist or do not fit.
 * Expected: send/close/unmask/status of port 4096 and 2^32-1: -EINVAL; bind_virq of VIRQ 99:
 * -EINVAL; binding VIRQ_TIMER a second time: -EEXIST; bind_ipi to a vCPU we lack: -ENOENT;
 * bind_interdomain to a port that is not unbound: -EINVAL; send on a VIRQ port: -EINVAL;
 * an unknown command: -ENOSYS. The timer keeps working (later cases).
 */
void st_evtchn_bad(void)
{
	static const evtchn_port_t bad_ports[] = {4096, 0xffffffffU};

	for (size_t i = 0; i < ARRAY_SIZE(bad_ports); i++) {
		struct evtchn_send s = {.port = bad_ports[i]};
		struct evtchn_close c = {.port = bad_ports[i]};
		struct evtchn_unmask u = {.port = bad_ports[i]};
		struct evtchn_status st = {.dom = DOMID_SELF, .port = bad_ports[i]};
		st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), -XEN_EINVAL);
		st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_close, &c), -XEN_EINVAL);
		st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u), -XEN_EINVAL);
		st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), -XEN_EINVAL);
	}
	struct evtchn_bind_virq bv = {.virq = 99, .vcpu = 0};
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv), -XEN_EINVAL);
	bv.virq = VIRQ_TIMER;
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv), -XEN_EEXIST);
	struct evtchn_bind_ipi ipi = {.vcpu = 4000};
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi), -XEN_ENOENT);
	struct evtchn_bind_interdomain bi = {.remote_dom = DOMID_SELF,
	                                     .remote_port = pv_timer_port};
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi), -XEN_EINVAL);
	struct evtchn_send s = {.port = pv_timer_port};
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_event_channel_op(99, &s), -XEN_ENOSYS);
	struct evtchn_status st = {.dom = DOMID_SELF, .port = pv_timer_port};
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
	st_check_rc(st.status, EVTCHNSTAT_virq);
	st_check_rc(st.u.virq, VIRQ_TIMER);
}

/*
 * Probes: the single-shot vCPU timer raises VIRQ_TIMER through the upcall, not before its
 * deadline; and the older set_timer_op does the same.
 * Expected: one timer event per arming, each observed at or after its deadline.
 */
void st_timer_singleshot(void)
{
	for (int api = 0; api < 2; api++) {
		uint64_t before = pv_timer_events;
		uint64_t deadline = pv_time_ns() + 3000000ULL;
		unsigned long f = pv_irq_save();
		if (api == 0) {
			struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = deadline};
			st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t), 0);
		} else {
			st_check_rc(HYPERVISOR_set_timer_op(deadline), 0);
		}
		uint64_t give_up = deadline + 1000000000ULL;
		while (pv_timer_events == before && pv_time_ns() < give_up)
			pv_idle();
		uint64_t now = pv_time_ns();
		pv_irq_restore(f);
		if (pv_timer_events == before)
			st_fail("%s: no VIRQ_TIMER", api ? "set_timer_op" : "singleshot");
		else if (now < deadline)
			st_fail("%s: fired %llu ns early", api ? "set_timer_op" : "singleshot",
			        (unsigned long long)(deadline - now));
	}
}

/*
 * Probes: pvclock system time is monotonic across many reads and across a block, and the wall
 * clock is plausible (after 2020-01-01).
 * Expected: never decreasing; advances across SCHEDOP_block; wall clock > 1577836800 s.
 */
void st_pvclock(void)
{
	uint64_t prev = pv_time_ns();

	for (int i = 0; i < 20000; i++) {
		uint64_t now = pv_time_ns();
		if (now < prev) {
			st_fail("time went back %llu ns", (unsigned long long)(prev - now));
			break;
		}
		prev = now;
	}
	uint64_t before = pv_time_ns();
	unsigned long f = pv_irq_save();
	pv_timer_set(before + 2000000ULL);
	pv_idle();
	pv_irq_restore(f);
	st_check(pv_time_ns() > before);
	st_check(pv_wallclock_ns() / 1000000000ULL > 1577836800ULL);
	st_check(pv_vcpu()->time.tsc_to_system_mul != 0);
}

/*
 * Probes: grant table v1 set-up as a domain's own: query_size, setup_table for one frame, then
 * mapping that frame writable and reading its entries; an unknown grant command.
 * Expected: rc 0 and status GNTST_okay; at least one frame; the frame maps (it is shared with
 * us) and reads; the unknown command is -ENOSYS.
 */
void st_grant_table(void)
{
	struct gnttab_query_size q = {.dom = DOMID_SELF};
	uint64_t frame = 0;
	struct gnttab_setup_table s = {
	    .dom = DOMID_SELF, .nr_frames = 1, .frame_list = (uint64_t)&frame};
	uint8_t v;

	st_check_rc(HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1), 0);
	st_check_rc(q.status, GNTST_okay);
	st_check(q.max_nr_frames >= 1);
	st_check_rc(HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &s, 1), 0);
	st_check_rc(s.status, GNTST_okay);
	st_check(frame != 0);
	if (st_failures())
		return;
	st_check_rc(HYPERVISOR_update_va_mapping(ST_SCRATCH_VA(8), (frame << PAGE_SHIFT) | L1_PROT,
	                                         UVMF_INVLPG),
	            0);
	st_check_rc(st_probe_read(ST_SCRATCH_VA(8), &v), 0);
	st_check_rc(HYPERVISOR_update_va_mapping(ST_SCRATCH_VA(8), 0, UVMF_INVLPG), 0);
	st_check_rc(HYPERVISOR_grant_table_op(99, &q, 1), -XEN_ENOSYS);
}

/*
 * Probes: a grant of one of our pages to ourselves, mapped through GNTTABOP_map_grant_ref
 * (host mapping at a scratch address) and unmapped again; then a map of a grant reference that
 * is not granted.
 * Expected: status okay and a handle; the mapping shows the page; unmap okay; the ungranted
 * reference is refused with a GNTST error in status (the hypercall itself returns 0).
 * map_grant_ref needs the granting domain's real id (DOMID_SELF is GNTST_bad_domain on Xen),
 * which only the initial domain knows without XenStore (0): other domains skip the mapping.
 */
void st_grant_map_self(void)
{
	uint64_t frame = 0;
	struct gnttab_setup_table s = {
	    .dom = DOMID_SELF, .nr_frames = 1, .frame_list = (uint64_t)&frame};
	uint8_t *page, v = 0;
	const grant_ref_t ref = 10;
	const domid_t self = 0;

	if (!(pv_start_info->flags & SIF_INITDOMAIN))
		return;
	page = alloc_page();

	st_check_rc(HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &s, 1), 0);
	st_check_rc(HYPERVISOR_update_va_mapping(ST_SCRATCH_VA(8), (frame << PAGE_SHIFT) | L1_PROT,
	                                         UVMF_INVLPG),
	            0);
	if (st_failures()) {
		free_page(page);
		return;
	}
	page[0] = 0x66;
	volatile struct grant_entry_v1 *gt = (void *)ST_SCRATCH_VA(8);
	gt[ref].domid = self;
	gt[ref].frame = (uint32_t)pv_virt_to_mfn(page);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	gt[ref].flags = GTF_permit_access;

	struct gnttab_map_grant_ref map = {
	    .host_addr = ST_SCRATCH_VA(12), .flags = GNTMAP_host_map, .ref = ref, .dom = self};
	st_check_rc(HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &map, 1), 0);
	st_check_rc(map.status, GNTST_okay);
	if (map.status == GNTST_okay) {
		st_check_rc(st_probe_read(ST_SCRATCH_VA(12), &v), 0);
		st_check_rc(v, 0x66);
		struct gnttab_unmap_grant_ref unmap = {.host_addr = ST_SCRATCH_VA(12),
		                                       .handle = map.handle};
		st_check_rc(HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &unmap, 1), 0);
		st_check_rc(unmap.status, GNTST_okay);
		st_check(!(gt[ref].flags & (GTF_reading | GTF_writing)));
	}
	struct gnttab_map_grant_ref bad = {
	    .host_addr = ST_SCRATCH_VA(12), .flags = GNTMAP_host_map, .ref = ref + 1, .dom = self};
	st_check_rc(HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &bad, 1), 0);
	st_check(bad.status < 0);
	gt[ref].flags = 0;
	st_check_rc(HYPERVISOR_update_va_mapping(ST_SCRATCH_VA(8), 0, UVMF_INVLPG), 0);
	free_page(page);
}
