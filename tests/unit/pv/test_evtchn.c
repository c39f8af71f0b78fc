/*
 * Host unit test of event channels (hv/common/event_channel.c, event_2l.c): the hypercall
 * entry point with arguments in host memory (a "guest pointer" is a host pointer here; pointers
 * below 4096 fault), two domains with real shared_info pages, and the 2-level bitmaps.
 */
#include "fake-frames.h"
#include "pv-errno.h"

#include <hv/event.h>
#include <public/event_channel.h>
#include <public/xen.h>

static struct shared_info si0, si1;
static struct domain dom0, domu;
static struct vcpu d0v[2], duv[1];
static int kicks[3], lock_depth;

int copy_from_guest(void *dst, uint64_t gva, size_t len)
{
	if (gva < 4096)
		return -EFAULT;
	memcpy(dst, (void *)gva, len);
	return 0;
}

int copy_to_guest(uint64_t gva, const void *src, size_t len)
{
	if (gva < 4096)
		return -EFAULT;
	memcpy((void *)gva, src, len);
	return 0;
}

void *evtchn_alloc_zeroed(unsigned long bytes)
{
	return calloc(1, bytes);
}

void evtchn_free(void *p, unsigned long bytes)
{
	free(p);
}

void vcpu_kick(struct vcpu *v)
{
	kicks[v == &d0v[0] ? 0 : v == &d0v[1] ? 1 : 2]++;
}

void evtchn_lock(void)
{
	CHECK_EQ(lock_depth, 0);
	lock_depth++;
}

void evtchn_unlock(void)
{
	lock_depth--;
}

static void setup(void)
{
	memset(&si0, 0, sizeof(si0));
	memset(&si1, 0, sizeof(si1));
	memset(kicks, 0, sizeof(kicks));
	dom0 = (struct domain){
	    .domain_id = 0, .is_privileged = true, .shared_info = &si0, .max_vcpus = 2};
	domu = (struct domain){.domain_id = 7, .shared_info = &si1, .max_vcpus = 1};
	for (int i = 0; i < 2; i++) {
		d0v[i] =
		    (struct vcpu){.domain = &dom0, .vcpu_id = i, .vcpu_info = &si0.vcpu_info[i]};
		dom0.vcpu[i] = &d0v[i];
	}
	duv[0] = (struct vcpu){.domain = &domu, .vcpu_info = &si1.vcpu_info[0]};
	domu.vcpu[0] = &duv[0];
	fake_domains[0] = &dom0;
	fake_domains[1] = &domu;
	CHECK_EQ(evtchn_domain_init(&dom0), 0);
	CHECK_EQ(evtchn_domain_init(&domu), 0);
}

static void teardown(void)
{
	evtchn_domain_destroy(&dom0);
	evtchn_domain_destroy(&domu);
	CHECK_EQ(lock_depth, 0);
}

static long op(struct vcpu *v, unsigned int cmd, void *arg)
{
	return do_event_channel_op(v, cmd, (uint64_t)arg);
}

static bool pending(struct shared_info *s, unsigned int p)
{
	return (s->evtchn_pending[p / 64] >> (p % 64)) & 1;
}

/* Loopback in one domain: alloc_unbound(self,self) + bind_interdomain; both ends see sends. */
static void loopback(void)
{
	struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
	struct evtchn_bind_interdomain bi = {.remote_dom = DOMID_SELF};
	struct evtchn_status st = {.dom = DOMID_SELF};

	setup();
	CHECK_EQ(op(&d0v[0], EVTCHNOP_alloc_unbound, &au), 0);
	CHECK_EQ(au.port, 1);
	bi.remote_port = au.port;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_interdomain, &bi), 0);
	CHECK_EQ(bi.local_port, 2);
	CHECK(pending(&si0, 2)); /* the new port starts pending */
	CHECK_EQ(si0.vcpu_info[0].evtchn_upcall_pending, 1);
	CHECK_EQ(si0.vcpu_info[0].evtchn_pending_sel, 1);
	struct evtchn_send s = {.port = 2};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_send, &s), 0);
	CHECK(pending(&si0, 1));
	st.port = 1;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_status, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
	CHECK_EQ(st.u.interdomain.dom, 0);
	CHECK_EQ(st.u.interdomain.port, 2);
	teardown();
}

/* A masked port stays pending without an upcall; unmask raises the upcall then. */
static void mask_unmask(void)
{
	struct evtchn_bind_ipi ipi = {.vcpu = 1};
	struct evtchn_unmask um;
	struct evtchn_send s;

	setup();
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_ipi, &ipi), 0);
	si0.evtchn_mask[0] = ~0ull;
	s.port = ipi.port;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_send, &s), 0);
	CHECK(pending(&si0, ipi.port));
	CHECK_EQ(si0.vcpu_info[1].evtchn_upcall_pending, 0);
	CHECK_EQ(kicks[1], 0);
	um.port = ipi.port;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_unmask, &um), 0);
	CHECK_EQ(si0.vcpu_info[1].evtchn_upcall_pending, 1);
	CHECK_EQ(si0.vcpu_info[1].evtchn_pending_sel, 1);
	CHECK_EQ(kicks[1], 1);
	CHECK_EQ(si0.vcpu_info[0].evtchn_upcall_pending, 0); /* vCPU 0 not bothered */
	/* Sending again while pending neither re-kicks nor touches the selector. */
	CHECK_EQ(op(&d0v[0], EVTCHNOP_send, &s), 0);
	CHECK_EQ(kicks[1], 1);
	um.port = 0;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_unmask, &um), -EINVAL);
	teardown();
}

/* A polling vCPU is woken by a masked port too. */
static void poll_wakes(void)
{
	struct evtchn_bind_ipi ipi = {.vcpu = 0};
	struct evtchn_send s;

	setup();
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_ipi, &ipi), 0);
	si0.evtchn_mask[0] = ~0ull;
	d0v[0].polling = true;
	s.port = ipi.port;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_send, &s), 0);
	CHECK_EQ(kicks[0], 1);
	CHECK_EQ(si0.vcpu_info[0].evtchn_upcall_pending, 0);
	teardown();
}

/* VIRQs: per-vCPU ones on any vCPU, global ones on vCPU 0 only, once each. */
static void virqs(void)
{
	struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 1};

	setup();
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_virq, &bv), 0);
	CHECK_EQ(d0v[1].virq_to_evtchn[VIRQ_TIMER], bv.port);
	send_guest_vcpu_virq(&d0v[1], VIRQ_TIMER);
	CHECK(pending(&si0, bv.port));
	CHECK_EQ(kicks[1], 1);
	send_guest_vcpu_virq(&d0v[0], VIRQ_TIMER); /* unbound on vCPU 0: nothing */
	CHECK_EQ(kicks[0], 0);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_virq, &bv), -EEXIST);
	bv = (struct evtchn_bind_virq){.virq = VIRQ_CONSOLE, .vcpu = 1};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_virq, &bv), -EINVAL);
	bv = (struct evtchn_bind_virq){.virq = NR_VIRQS, .vcpu = 0};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_virq, &bv), -EINVAL);
	bv = (struct evtchn_bind_virq){.virq = VIRQ_TIMER, .vcpu = 5};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_virq, &bv), -ENOENT);
	bv = (struct evtchn_bind_virq){.virq = VIRQ_DOM_EXC, .vcpu = 0};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_virq, &bv), 0);
	send_guest_global_virq(&dom0, VIRQ_DOM_EXC);
	CHECK(pending(&si0, bv.port));
	struct evtchn_send s = {.port = bv.port};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_send, &s), -EINVAL); /* guests cannot send a VIRQ */
	struct evtchn_close c = {.port = bv.port};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_close, &c), 0);
	CHECK_EQ(d0v[0].virq_to_evtchn[VIRQ_DOM_EXC], 0);
	CHECK(!pending(&si0, bv.port));
	teardown();
}

/* bind_vcpu: moves interdomain and global VIRQ ports, not IPIs or per-vCPU VIRQs. */
static void bind_vcpu(void)
{
	struct evtchn_bind_ipi ipi = {.vcpu = 0};
	struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = 7};
	struct evtchn_bind_vcpu bvc;
	struct evtchn_status st = {.dom = DOMID_SELF};

	setup();
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_ipi, &ipi), 0);
	bvc = (struct evtchn_bind_vcpu){.port = ipi.port, .vcpu = 1};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_vcpu, &bvc), -EINVAL);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_alloc_unbound, &au), 0);
	bvc = (struct evtchn_bind_vcpu){.port = au.port, .vcpu = 1};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_vcpu, &bvc), 0);
	st.port = au.port;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_status, &st), 0);
	CHECK_EQ(st.vcpu, 1);
	CHECK_EQ(st.status, EVTCHNSTAT_unbound);
	CHECK_EQ(st.u.unbound.dom, 7);
	bvc.vcpu = 2;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_vcpu, &bvc), -ENOENT);
	teardown();
}

/* Two domains: domU offers a port to dom0, dom0 binds, sends reach the other side; close unbinds.
 */
static void interdomain(void)
{
	struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = 0};
	struct evtchn_bind_interdomain bi = {.remote_dom = 7};
	struct evtchn_status st = {.dom = DOMID_SELF};
	struct evtchn_send s;
	struct evtchn_close c;

	setup();
	CHECK_EQ(op(&duv[0], EVTCHNOP_alloc_unbound, &au), 0);
	bi.remote_port = au.port;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_interdomain, &bi), 0);
	s.port = bi.local_port;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_send, &s), 0);
	CHECK(pending(&si1, au.port));
	CHECK_EQ(si1.vcpu_info[0].evtchn_upcall_pending, 1);
	/* A second bind to the same (now connected) port fails. */
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_interdomain, &bi), -EINVAL);
	/* domU closes: dom0's end becomes unbound, accepting domU again. */
	c.port = au.port;
	CHECK_EQ(op(&duv[0], EVTCHNOP_close, &c), 0);
	st.port = bi.local_port;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_status, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_unbound);
	CHECK_EQ(st.u.unbound.dom, 7);
	CHECK_EQ(op(&duv[0], EVTCHNOP_close, &c), -EINVAL); /* already closed */
	/* domU may not bind a dom0 port that does not accept it, nor look at dom0's ports. */
	struct evtchn_alloc_unbound au0 = {.dom = DOMID_SELF, .remote_dom = 0};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_alloc_unbound, &au0), 0);
	struct evtchn_bind_interdomain bad = {.remote_dom = 0, .remote_port = au0.port};
	CHECK_EQ(op(&duv[0], EVTCHNOP_bind_interdomain, &bad), -EINVAL);
	st = (struct evtchn_status){.dom = 0, .port = 1};
	CHECK_EQ(op(&duv[0], EVTCHNOP_status, &st), -EPERM);
	au = (struct evtchn_alloc_unbound){.dom = 0, .remote_dom = 7};
	CHECK_EQ(op(&duv[0], EVTCHNOP_alloc_unbound, &au), -EPERM);
	bad.remote_dom = 99;
	CHECK_EQ(op(&duv[0], EVTCHNOP_bind_interdomain, &bad), -ESRCH);
	teardown();
}

/* Hostile arguments: bad pointers, unknown commands, out-of-range ports, a full table. */
static void hostile(void)
{
	struct evtchn_send s = {.port = 4096};
	struct evtchn_close c = {.port = 0};
	struct evtchn_status st = {.dom = DOMID_SELF, .port = 0xffffffff};
	struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};

	setup();
	CHECK_EQ(do_event_channel_op(&d0v[0], EVTCHNOP_send, 16), -EFAULT);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_init_control, &s), -ENOSYS);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_bind_pirq, &s), -ENOSYS);
	CHECK_EQ(op(&d0v[0], 99, &s), -ENOSYS);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_send, &s), -EINVAL);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_close, &c), -EINVAL);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_status, &st), -EINVAL);
	st.port = 9;
	CHECK_EQ(op(&d0v[0], EVTCHNOP_status, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_closed);
	for (int i = 1; i < 4096; i++)
		CHECK_EQ(op(&d0v[0], EVTCHNOP_alloc_unbound, &au), 0);
	CHECK_EQ(au.port, 4095);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_alloc_unbound, &au), -ENOSPC);
	struct evtchn_reset r = {.dom = DOMID_SELF};
	CHECK_EQ(op(&d0v[0], EVTCHNOP_reset, &r), 0);
	CHECK_EQ(op(&d0v[0], EVTCHNOP_alloc_unbound, &au), 0);
	CHECK_EQ(au.port, 1);
	teardown();
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"loopback", loopback}, {"mask_unmask", mask_unmask}, {"poll_wakes", poll_wakes},
	    {"virqs", virqs},       {"bind_vcpu", bind_vcpu},     {"interdomain", interdomain},
	    {"hostile", hostile},
	};
	return run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
