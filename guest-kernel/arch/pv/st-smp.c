/*
 * SMP self-test: the secondary vCPUs of this domain (VCPUOP_initialise / up / is_up), work on
 * every vCPU (more vCPUs than pCPUs included), runstate times, an event-channel IPI ping-pong
 * between vCPUs, a TLB flush reaching another vCPU (update_va_mapping with UVMF_ALL), and, with
 * `smp_shares` on the kernel command line (and hv's `sched_debug`), CPU shares under weights,
 * caps and reservations set per vCPU through hv's test operations.
 *
 * I/O privilege: the IOPL in the eflags of a VCPUOP_initialise context is the new vCPU's
 * virtual IOPL, as in Xen. Linux starts its secondary vCPUs with IOPL 1 and uses port I/O on
 * them at once (dom0's VGA cursor in the first printk); hv once dropped it, the port access
 * raised #GP on Linux's CPU1, and its boot hung with both vCPUs idle. vCPU 1 here is started
 * with IOPL 1 and must be able to execute `cli`, the others with IOPL 0 must get #GP.
 *
 * The secondary vCPUs keep events masked and never print: they spin on a counter or wait in
 * SCHEDOP_poll on their own IPI port (poll wakes on a masked port), driven by commands vCPU 0
 * writes into their slot. vCPU 0 does all the checking and printing, and blocks (poll with a
 * timeout) while the others are measured, so that it takes no CPU time from them.
 * With one vCPU the case only checks that vCPU 1 does not exist.
 */
#include <klib/printf.h>
#include <public/vcpu.h>
#include "st.h"

#define SMP_MAX 16

/* hv's test operations (hv/include/hv/sched-if.h), accepted with hv's `sched_debug`. */
#define VCPUOP_hv_sched_params   0x7f00
#define VCPUOP_hv_sched_affinity 0x7f01

enum { CMD_WAIT = 0, CMD_SPIN = 1, CMD_PONG = 2, CMD_READ = 3, CMD_CLI = 4 };

struct smp_slot {
	volatile uint64_t counter;
	volatile uint32_t cmd;
	volatile uint32_t alive;
	volatile uint32_t ack; /* the command the vCPU last started */
	volatile uint64_t pongs;
	volatile uint64_t seen;       /* CMD_READ: the last value read at the test address */
	volatile uint32_t cli_traps;  /* CMD_CLI: 0 = cli ran, else the vector it raised + 1 */
	evtchn_port_t port;           /* IPI port that notifies this vCPU */
	struct vcpu_runstate_info rs; /* its registered runstate area */
};

static struct smp_slot slots[SMP_MAX];
static unsigned int nr_vcpus;
static volatile uint64_t *read_va;

static void clear_pending(evtchn_port_t port)
{
	__atomic_fetch_and(&pv_shared_info->evtchn_pending[port / 64], ~(1ULL << (port % 64)),
	                   __ATOMIC_SEQ_CST);
}

static void send(evtchn_port_t port)
{
	struct evtchn_send s = {.port = port};

	HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

/* Waits for port (masked) until timeout (absolute ns, 0 = none); clears it. */
static void wait_port(evtchn_port_t port, uint64_t timeout)
{
	static evtchn_port_t ports[SMP_MAX];
	evtchn_port_t *p = &ports[0];
	struct sched_poll poll = {.nr_ports = 1, .timeout = timeout};

	for (unsigned int i = 0; i < SMP_MAX; i++)
		if (slots[i].port == port)
			p = &ports[i];
	*p = port;
	poll.ports = (uint64_t)p;
	HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
	clear_pending(port);
}

/*
 * `cli` needs the virtual IOPL to cover the guest kernel (hv emulates it as a no-op; events
 * stay masked anyway); without it the vCPU gets #GP, which the fixup turns into a record.
 */
static void try_cli(struct smp_slot *s)
{
	uint64_t count = pv_last_trap.count;

	__asm__ __volatile__("1: cli\n\t"
	                     "2:\n\t" EXTABLE(1b, 2b)::
	                         : "memory");
	s->cli_traps = pv_last_trap.count != count ? (uint32_t)pv_last_trap.vector + 1 : 0;
}

/* The loop of a secondary vCPU: events masked, commands from vCPU 0. */
static __noreturn void smp_secondary(unsigned long id)
{
	struct smp_slot *s = &slots[id];
	struct vcpu_register_runstate_memory_area area = {.addr.v = (uint64_t)&s->rs};

	HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, (unsigned int)id, &area);
	__atomic_store_n(&s->alive, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t cmd = s->cmd;

		if (s->ack != cmd)
			__atomic_store_n(&s->ack, cmd, __ATOMIC_SEQ_CST);
		switch (cmd) {
		case CMD_SPIN:
			s->counter++;
			break;
		case CMD_PONG:
			wait_port(s->port, 0);
			if (s->cmd == CMD_PONG) {
				s->pongs++;
				send(slots[0].port);
			}
			break;
		case CMD_READ:
			s->seen = *read_va;
			break;
		case CMD_CLI:
			try_cli(s);
			break;
		default:
			wait_port(s->port, 0);
			break;
		}
	}
}

/* Gives vCPU i a command and waits (at most a second) until it has started it. */
static void command(unsigned int i, uint32_t cmd)
{
	uint64_t end = pv_time_ns() + 1000000000ULL;

	__atomic_store_n(&slots[i].cmd, cmd, __ATOMIC_SEQ_CST);
	send(slots[i].port);
	while (__atomic_load_n(&slots[i].ack, __ATOMIC_SEQ_CST) != cmd && pv_time_ns() < end)
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

static void sleep_ns(uint64_t ns)
{
	wait_port(slots[0].port, pv_time_ns() + ns);
}

static long runstate(unsigned int i, struct vcpu_runstate_info *ri)
{
	return HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, i, ri);
}

/* vCPU i's context: IOPL 1 (as Linux gives its secondary vCPUs) for vCPU 1, 0 for others. */
static long bring_up(unsigned int i)
{
	static struct vcpu_guest_context ctx; /* 5 KiB: not on the stack */
	uint8_t *stack = alloc_page();

	if (!stack)
		return -XEN_ENOMEM;
	memset(&ctx, 0, sizeof(ctx));
	ctx.flags = VGCF_in_kernel;
	ctx.user_regs.rip = (uint64_t)smp_secondary;
	ctx.user_regs.rsp = (uint64_t)stack + PAGE_SIZE - 8;
	ctx.user_regs.rdi = i;
	ctx.user_regs.cs = FLAT_KERNEL_CS;
	ctx.user_regs.ss = FLAT_KERNEL_SS;
	ctx.user_regs.rflags = i == 1 ? 0x1202 : 0x202;
	for (unsigned int v = 0; v < 32; v++) {
		ctx.trap_ctxt[v].vector = (uint8_t)v;
		ctx.trap_ctxt[v].flags = 4;
		ctx.trap_ctxt[v].cs = FLAT_KERNEL_CS;
		ctx.trap_ctxt[v].address = pv_exception_entries[v];
	}
	ctx.kernel_ss = FLAT_KERNEL_SS;
	ctx.kernel_sp = (uint64_t)stack + PAGE_SIZE;
	ctx.ctrlreg[3] = pv_virt_to_mfn(pv_kernel_l4) << 12;
	ctx.event_callback_eip = (uint64_t)pv_event_entry;
	ctx.failsafe_callback_eip = (uint64_t)pv_failsafe_entry;
	ctx.syscall_callback_eip = (uint64_t)pv_syscall_entry;
	return HYPERVISOR_vcpu_op(VCPUOP_initialise, i, &ctx);
}

static bool wait_alive(unsigned int i)
{
	uint64_t end = pv_time_ns() + 2000000000ULL;

	while (!__atomic_load_n(&slots[i].alive, __ATOMIC_SEQ_CST) && pv_time_ns() < end)
		sleep_ns(1000000);
	return slots[i].alive;
}

/* Running time of each vCPU in [lo, hi) over window_ns, in hundredths of a percent. */
static void measure(unsigned int lo, unsigned int hi, uint64_t window_ns, uint64_t share[])
{
	struct vcpu_runstate_info a[SMP_MAX], b[SMP_MAX];
	uint64_t t0, t1;

	for (unsigned int i = lo; i < hi; i++)
		runstate(i, &a[i]);
	t0 = pv_time_ns();
	sleep_ns(window_ns);
	t1 = pv_time_ns();
	for (unsigned int i = lo; i < hi; i++) {
		uint64_t ra, rb;

		runstate(i, &b[i]);
		/* Running time up to "now", the current run included. */
		ra = a[i].time[0] + (a[i].state == 0 ? t0 - a[i].state_entry_time : 0);
		rb = b[i].time[0] + (b[i].state == 0 ? t1 - b[i].state_entry_time : 0);
		share[i] = (rb - ra) * 10000 / (t1 - t0);
	}
}

static void pct(char *buf, size_t len, uint64_t hundredths)
{
	snprintf(buf, len, "%llu.%02llu", (unsigned long long)(hundredths / 100),
	         (unsigned long long)(hundredths % 100));
}

static bool near(uint64_t got, uint64_t want, uint64_t tol)
{
	return got + tol >= want && got <= want + tol;
}

static long params(unsigned int i, uint32_t weight, uint32_t cap, uint32_t resv)
{
	struct {
		uint32_t weight, cap, reservation, pad;
	} p = {weight, cap, resv, 0};

	return HYPERVISOR_vcpu_op(VCPUOP_hv_sched_params, i, &p);
}

static long pin(unsigned int i, uint64_t mask)
{
	return HYPERVISOR_vcpu_op(VCPUOP_hv_sched_affinity, i, &mask);
}

/* Runs spinners [1, n) pinned to pCPU 0 for a window; prints and checks their shares. */
static void shares_case(const char *name, unsigned int n, const uint64_t want[], uint64_t tol)
{
	uint64_t share[SMP_MAX];
	char line[200], num[16];
	size_t off;

	for (unsigned int i = 1; i < n; i++)
		command(i, CMD_SPIN);
	sleep_ns(200000000ULL); /* settle */
	measure(1, n, 3000000000ULL, share);
	for (unsigned int i = 1; i < n; i++)
		command(i, CMD_WAIT);
	off = (size_t)snprintf(line, sizeof(line), "smp: shares %s:", name);
	for (unsigned int i = 1; i < n && off < sizeof(line); i++) {
		pct(num, sizeof(num), share[i]);
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %s", num);
	}
	printk("%s\n", line);
	for (unsigned int i = 1; i < n; i++)
		if (want[i] != ~0ULL && !near(share[i], want[i], tol))
			st_fail("%s: vcpu %u got %llu.%02llu%%, expected %llu.%02llu%%", name, i,
			        (unsigned long long)(share[i] / 100),
			        (unsigned long long)(share[i] % 100),
			        (unsigned long long)(want[i] / 100),
			        (unsigned long long)(want[i] % 100));
}

static void reset_params(void)
{
	for (unsigned int i = 0; i < nr_vcpus; i++)
		params(i, 256, 0, 0);
}

/* weights 1:2:4, cap 20, reservation 50 against 7 x weight 10, over-commit refused. */
static void smp_shares(void)
{
	uint64_t want[SMP_MAX];

	if (nr_vcpus < 9) {
		st_fail("smp_shares needs 9 vCPUs, dom0 has %u", nr_vcpus);
		return;
	}
	st_check_rc(pin(0, 2), 0); /* vCPU 0 on pCPU 1, the measured ones on pCPU 0 */
	for (unsigned int i = 1; i < nr_vcpus; i++)
		st_check_rc(pin(i, 1), 0);
	if (st_failures())
		return;

	st_check_rc(params(1, 256, 0, 0), 0);
	st_check_rc(params(2, 512, 0, 0), 0);
	st_check_rc(params(3, 1024, 0, 0), 0);
	want[1] = 1429, want[2] = 2857, want[3] = 5714;
	shares_case("weights 256:512:1024", 4, want, 200);

	st_check_rc(params(1, 256, 20, 0), 0);
	want[1] = 2000;
	shares_case("cap 20 alone", 2, want, 200);
	want[1] = 2000, want[2] = 8000;
	shares_case("cap 20 against one uncapped", 3, want, 200);
	reset_params();

	st_check_rc(params(1, 256, 0, 50), 0);
	for (unsigned int i = 2; i < 9; i++)
		st_check_rc(params(i, 2560, 0, 0), 0);
	want[1] = 5000;
	for (unsigned int i = 2; i < 9; i++)
		want[i] = 714;
	shares_case("reservation 50 against 7 x weight 2560", 9, want, 200);

	/* 50 more on pCPU 0, which has 45 left: refused, and nothing changes. */
	st_check_rc(params(2, 256, 0, 50), -XEN_ENOSPC);
	st_check_rc(params(1, 256, 0, 46), 0);
	st_check_rc(params(2, 256, 0, 50), -XEN_ENOSPC);
	st_check_rc(params(2, 256, 0, 49), 0);
	st_check_rc(params(3, 256, 0, 1), -XEN_ENOSPC);
	st_check_rc(params(1, 256, 30, 50), -XEN_EINVAL); /* cap below the reservation */
	reset_params();
	for (unsigned int i = 0; i < nr_vcpus; i++)
		pin(i, ~0ULL);
}

void st_smp(void)
{
	struct evtchn_bind_ipi ipi = {.vcpu = 0};
	struct vcpu_runstate_info ri[SMP_MAX];
	uint64_t share[SMP_MAX], start, now;
	unsigned int i;

	for (nr_vcpus = 1; nr_vcpus < SMP_MAX; nr_vcpus++)
		if (HYPERVISOR_vcpu_op(VCPUOP_is_up, nr_vcpus, NULL) == -XEN_ENOENT)
			break;
	if (nr_vcpus == 1) {
		st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_ENOENT);
		return;
	}
	printk("smp: %u vCPUs\n", nr_vcpus);

	/* Bring-up: one masked IPI port per vCPU, a context, up. */
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi), 0);
	slots[0].port = ipi.port;
	pv_evtchn_mask(ipi.port);
	for (i = 1; i < nr_vcpus && !st_failures(); i++) {
		struct evtchn_bind_ipi b = {.vcpu = i};

		st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_is_up, i, NULL), 0);
		st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_up, i, NULL), -XEN_EINVAL); /* no context */
		st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b), 0);
		slots[i].port = b.port;
		pv_evtchn_mask(b.port);
		st_check_rc(bring_up(i), 0);
		st_check_rc(bring_up(i), -XEN_EEXIST);
		st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_up, i, NULL), 0);
		if (!wait_alive(i))
			st_fail("vcpu %u did not start", i);
		st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_is_up, i, NULL), 1);
	}
	if (st_failures())
		return;

	/* I/O privilege from the context: vCPU 1 (IOPL 1) may cli, vCPU 2 (IOPL 0) may not. */
	for (i = 1; i < nr_vcpus && i < 3; i++) {
		slots[i].cli_traps = ~0u;
		command(i, CMD_CLI);
		for (start = pv_time_ns();
		     slots[i].cli_traps == ~0u && pv_time_ns() < start + 1000000000ULL;)
			sleep_ns(1000000);
		command(i, CMD_WAIT);
		printk("smp: vcpu %u (IOPL %u in its context): cli %s\n", i, i == 1 ? 1 : 0,
		       slots[i].cli_traps == 0 ? "ran" : "raised a trap");
		if (slots[i].cli_traps != (i == 1 ? 0 : 13 + 1))
			st_fail("vcpu %u: cli gave %d (0 = ran, else trap vector + 1), expected %d",
			        i, (int)slots[i].cli_traps, i == 1 ? 0 : 13 + 1);
	}

	/* Every vCPU spins while vCPU 0 sleeps: all make progress, whatever the pCPU count. */
	for (i = 1; i < nr_vcpus; i++)
		command(i, CMD_SPIN);
	sleep_ns(100000000ULL);
	measure(1, nr_vcpus, 2000000000ULL, share);
	for (i = 1; i < nr_vcpus; i++)
		command(i, CMD_WAIT);
	for (i = 1; i < nr_vcpus; i++) {
		char num[16];

		pct(num, sizeof(num), share[i]);
		printk("smp: vcpu %u: %llu kloops, %s%% of a pCPU\n", i,
		       (unsigned long long)(slots[i].counter / 1000), num);
		if (slots[i].counter == 0 || share[i] == 0)
			st_fail("vcpu %u made no progress", i);
	}

	/* Runstate: all vCPUs were created together, so their accounted times agree. */
	sleep_ns(100000000ULL); /* every secondary sees CMD_WAIT and blocks */
	now = pv_time_ns();
	for (i = 0; i < nr_vcpus; i++)
		st_check_rc(runstate(i, &ri[i]), 0);
	for (i = 0; i < nr_vcpus; i++) {
		uint64_t sum = ri[i].time[0] + ri[i].time[1] + ri[i].time[2] + ri[i].time[3];
		uint64_t sum0 = ri[0].time[0] + ri[0].time[1] + ri[0].time[2] + ri[0].time[3];

		sum += now - ri[i].state_entry_time;
		sum0 += now - ri[0].state_entry_time;
		if (sum > sum0 + 1000000 || sum + 1000000 < sum0)
			st_fail("vcpu %u: runstate sums to %llu ns, vcpu 0 to %llu ns", i,
			        (unsigned long long)sum, (unsigned long long)sum0);
		if (i > 0 && (ri[i].state != 2 || slots[i].rs.state_entry_time == 0 ||
		              slots[i].rs.time[0] > ri[i].time[0]))
			st_fail("vcpu %u: waiting vCPU state %d, area entry %llu", i, ri[i].state,
			        (unsigned long long)slots[i].rs.state_entry_time);
	}
	printk("smp: runstate vcpu 1: running %llu ms, runnable %llu ms, blocked %llu ms, "
	       "offline %llu ms\n",
	       (unsigned long long)(ri[1].time[0] / 1000000),
	       (unsigned long long)(ri[1].time[1] / 1000000),
	       (unsigned long long)(ri[1].time[2] / 1000000),
	       (unsigned long long)(ri[1].time[3] / 1000000));

	/* IPI ping-pong with vCPU 1 through event channels. */
	command(1, CMD_PONG);
	start = pv_time_ns();
	for (i = 0; i < 1000; i++) {
		send(slots[1].port);
		wait_port(slots[0].port, pv_time_ns() + 1000000000ULL);
	}
	now = pv_time_ns();
	command(1, CMD_WAIT);
	printk("smp: ipi ping-pong: %llu round trips in %llu us\n",
	       (unsigned long long)slots[1].pongs, (unsigned long long)((now - start) / 1000));
	if (slots[1].pongs != 1000)
		st_fail("ping-pong: %llu pongs of 1000", (unsigned long long)slots[1].pongs);

	/* TLB: vCPU 1 keeps reading a page vCPU 0 remaps; UVMF_ALL must reach it. */
	{
		uint64_t *a = alloc_page(), *b = alloc_page(), end;
		unsigned long va = ST_SCRATCH_VA(7);

		a[0] = 0xaaaa;
		b[0] = 0xbbbb;
		st_check_rc(HYPERVISOR_update_va_mapping(va, pv_virt_to_maddr(a) | L1_PROT_RO,
		                                         UVMF_INVLPG | UVMF_ALL),
		            0);
		read_va = (volatile uint64_t *)va;
		command(1, CMD_READ);
		for (end = pv_time_ns() + 1000000000ULL;
		     slots[1].seen != 0xaaaa && pv_time_ns() < end;)
			;
		st_check_rc(HYPERVISOR_update_va_mapping(va, pv_virt_to_maddr(b) | L1_PROT_RO,
		                                         UVMF_INVLPG | UVMF_ALL),
		            0);
		for (end = pv_time_ns() + 200000000ULL;
		     slots[1].seen != 0xbbbb && pv_time_ns() < end;)
			;
		if (slots[1].seen != 0xbbbb)
			st_fail("vcpu 1 still reads %#llx after a remap with UVMF_ALL",
			        (unsigned long long)slots[1].seen);
		command(1, CMD_WAIT);
		sleep_ns(10000000ULL);
		HYPERVISOR_update_va_mapping(va, 0, UVMF_INVLPG | UVMF_ALL);
		free_page(a);
		free_page(b);
	}

	if (strstr(platform->cmdline, "smp_shares"))
		smp_shares();

	/* Down: the secondaries go offline and say so. */
	for (i = 1; i < nr_vcpus; i++) {
		st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_down, i, NULL), 0);
		st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_is_up, i, NULL), 0);
	}
}
