/*
 * dom0's built-in multi-domain scenarios, picked with `domtest=<name>[:<n>]` on dom0's command
 * line (the domU image is hv's boot module 1, which dom0 also receives as its initrd). Each
 * prints what it saw, one `domtest:` line per fact, and a final `domtest: <name>: PASS` or
 * `FAIL (<why>)`, then powers dom0 off. Until the management link exists, these and the
 * system tests that read their output are how many domains are driven.
 *
 *   loop:N       create, build, run and destroy a domU N times (odd rounds are destroyed while
 *                running, even ones shut themselves down first); hv's free frames must be
 *                the same after every destroy as before the first create
 *   many:N       N domUs at once (blocked), listed, one paused and unpaused, all destroyed
 *   pingpong:N   two domUs bounce an interdomain event N times
 *   lifecycle    names and UUIDs, memory settings before build, populate, shutdown by dom0
 *                with its reason kept, destroy
 *   privilege    dom0's refused operations on itself, a domU's refused domctl, bad versions
 *   crash        a domU that crashes: state and reason kept for dom0, VIRQ_DOM_EXC raised
 *   buffer       a domU built from an image in dom0's memory (its initrd)
 *   balloon      a domU with 8 MiB and a 6 MiB guarantee gives pages back until hv refuses
 *                (at the guarantee), then takes them back; dom0 watches its memory
 *   ports        a domU allocates event channels until its limit (hv's console shows it)
 *   grant        a domU grants dom0 a page; dom0 copies it (GNTTABOP_copy) and maps it,
 *                destroys the domU while the page is mapped, still reads it, unmaps it:
 *                the page is hv's to free only then, and no frame is lost
 */
#include <domctl.h>
#include <kernel.h>
#include <platform.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <public/errno.h>

#define DOMU_MODULE  1
#define DOMU_MEM_KIB (8 * 1024)

/* Platform hooks used only here (arch/pv/domctl-pv.c). */
long arch_dom_exc_bind(void);
unsigned long arch_dom_exc_count(void);
const void *arch_initrd(uint64_t *len);
long arch_grant_map(uint32_t dom, uint32_t ref, const void **va, uint32_t *handle);
long arch_grant_unmap(uint32_t handle);
long arch_grant_copy(uint32_t dom, uint32_t ref, void *dst, uint16_t len);

unsigned int domtest_sched(unsigned long n); /* weights, cap, reservation of spinning domUs */
unsigned int domtest_bench(const char *name, unsigned long n); /* kernel/domtest-bench.c */

static const char *test_name;
static unsigned int failures;

static void fail(const char *fmt, ...) __printf(1, 2);
static void fail(const char *fmt, ...)
{
	va_list ap;

	printk("domtest: %s: FAILED CHECK: ", test_name);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	failures++;
}

static uint64_t free_frames(void)
{
	struct hv_domctl_physinfo pi;
	long rc = dom_physinfo(&pi);

	if (rc)
		fail("physinfo: %ld", rc);
	return rc ? 0 : pi.free_frames;
}

/* Wait until domid is in one of the states of mask (1 << HV_DOMSTATE_*); 0 or -1 on timeout. */
static int wait_state(uint32_t domid, uint32_t mask, uint64_t timeout_ms,
                      struct hv_domctl_dominfo *info)
{
	uint64_t end = platform->time_ns() + timeout_ms * 1000000ULL;

	for (;;) {
		long rc = dom_info(domid, info);

		if (rc)
			return -1;
		if ((1U << info->state) & mask)
			return 0;
		if (platform->time_ns() > end)
			return -1;
		for (int i = 0; i < 1000; i++)
			__asm__ __volatile__("pause");
	}
}

/* Create and build one domU from the boot module with cmdline; its id, or -errno. */
static long new_domu(const char *name, const char *cmdline, uint32_t *domid)
{
	long rc = dom_create(name, DOMU_MEM_KIB, 1, domid);

	if (rc)
		return rc;
	rc = dom_build_module(*domid, DOMU_MODULE, cmdline);
	if (rc)
		dom_destroy(*domid);
	return rc;
}

static void print_info(const struct hv_domctl_dominfo *i)
{
	printk("domtest: d%u \"%s\" %s reason %u vcpus %u/%u mem %llu/%llu KiB cpu %llu ns\n",
	       i->domid, i->name, dom_state_name(i->state), i->shutdown_reason, i->nr_vcpus,
	       i->max_vcpus, (unsigned long long)i->current_mem_kib,
	       (unsigned long long)i->max_mem_kib, (unsigned long long)i->cpu_time_ns);
}

static void test_loop(unsigned long n)
{
	uint64_t before = free_frames(), now;
	unsigned long i, leaks = 0;
	struct hv_domctl_dominfo info;

	printk("domtest: loop: %lu rounds, free frames before %llu\n", n,
	       (unsigned long long)before);
	for (i = 0; i < n && failures == 0; i++) {
		bool run_out = (i % 2) == 0;
		uint32_t id;
		long rc = new_domu("loop", run_out ? "domu=exit" : "domu=spin", &id);

		if (rc == 0)
			rc = dom_unpause(id);
		if (rc) {
			fail("round %lu: create/build/unpause: %ld", i, rc);
			break;
		}
		if (run_out) {
			if (wait_state(id, 1U << HV_DOMSTATE_SHUTDOWN, 20000, &info))
				fail("round %lu: d%u did not shut down (state %s)", i, id,
				     dom_state_name(info.state));
			else if (info.shutdown_reason != 0)
				fail("round %lu: d%u reason %u, not poweroff", i, id,
				     info.shutdown_reason);
		} else {
			/* Running for real: it must have used CPU time before we kill it. */
			uint64_t end = platform->time_ns() + 20000000000ULL;

			while (dom_info(id, &info) == 0 && info.cpu_time_ns == 0 &&
			       platform->time_ns() < end)
				;
			if (info.state != HV_DOMSTATE_RUNNING || info.cpu_time_ns == 0)
				fail("round %lu: d%u not running (state %s, cpu %llu ns)", i, id,
				     dom_state_name(info.state),
				     (unsigned long long)info.cpu_time_ns);
		}
		rc = dom_destroy(id);
		if (rc)
			fail("round %lu: destroy d%u: %ld", i, id, rc);
		if (dom_info(id, &info) != -XEN_ESRCH)
			fail("round %lu: d%u still exists after destroy", i, id);
		now = free_frames();
		if (now != before) {
			leaks++;
			fail("round %lu: free frames %llu after destroy, %llu before", i,
			     (unsigned long long)now, (unsigned long long)before);
		}
		if ((i + 1) % 50 == 0)
			printk("domtest: loop: %lu rounds done, free frames %llu\n", i + 1,
			       (unsigned long long)now);
	}
	now = free_frames();
	printk(
	    "domtest: loop: %lu rounds, free frames before %llu after %llu, dom_exc events %lu\n",
	    i, (unsigned long long)before, (unsigned long long)now, arch_dom_exc_count());
	if (now != before || leaks)
		fail("frames leaked");
}

#define MAX_MANY 32

static void test_many(unsigned long n)
{
	uint32_t ids[MAX_MANY], count = 0;
	struct hv_domctl_dominfo list[MAX_MANY + 1], info;
	uint64_t before = free_frames();
	unsigned long i;
	long rc;

	if (n > MAX_MANY)
		n = MAX_MANY;
	for (i = 0; i < n; i++) {
		char name[16] = "many-";

		name[5] = (char)('a' + i);
		rc = new_domu(name, "domu=idle", &ids[i]);
		if (rc == 0)
			rc = dom_unpause(ids[i]);
		if (rc) {
			fail("domU %lu of %lu: %ld%s", i + 1, n, rc,
			     rc == -XEN_EBUSY ? " (no free pCPU: needs the scheduler)" : "");
			n = i + (rc == -XEN_EBUSY); /* destroy what exists */
			break;
		}
	}
	for (i = 0; i < n && failures == 0; i++) {
		uint64_t end = platform->time_ns() + 20000000000ULL;

		if (wait_state(ids[i], 1U << HV_DOMSTATE_RUNNING, 10000, &info))
			fail("d%u not running", ids[i]);
		/* On its pCPU at the next tick; hv counts the vCPU online and charges its first
		 * run time at different moments, so wait for both. */
		while (dom_info(ids[i], &info) == 0 &&
		       (info.cpu_time_ns == 0 || info.nr_vcpus != 1) && platform->time_ns() < end)
			;
		if (info.cpu_time_ns == 0 || info.nr_vcpus != 1)
			fail("d%u has not run (%u vCPUs online)", ids[i], info.nr_vcpus);
	}
	rc = dom_list(0, list, MAX_MANY + 1, &count);
	printk("domtest: many: list: %ld, %u domains\n", rc, count);
	for (i = 0; i < count; i++)
		print_info(&list[i]);
	if (rc || count != n + 1)
		fail("list shows %u domains, expected %lu", count, n + 1);
	if (n && failures == 0) {
		rc = dom_pause(ids[0]);
		dom_info(ids[0], &info);
		printk("domtest: many: pause d%u: %ld, state %s\n", ids[0], rc,
		       dom_state_name(info.state));
		if (rc || info.state != HV_DOMSTATE_PAUSED)
			fail("pause");
		rc = dom_unpause(ids[0]);
		dom_info(ids[0], &info);
		printk("domtest: many: unpause d%u: %ld, state %s\n", ids[0], rc,
		       dom_state_name(info.state));
		if (rc || info.state != HV_DOMSTATE_RUNNING)
			fail("unpause");
	}
	for (i = 0; i < n; i++)
		if ((rc = dom_destroy(ids[i])) != 0)
			fail("destroy d%u: %ld", ids[i], rc);
	printk("domtest: many: %lu domUs, free frames before %llu after %llu\n", n,
	       (unsigned long long)before, (unsigned long long)free_frames());
	if (free_frames() != before)
		fail("frames leaked");
}

static void test_pingpong(unsigned long n)
{
	uint32_t a, b, port;
	char cmd[128];
	struct hv_domctl_dominfo ia, ib;
	uint64_t before = free_frames(), t0;
	long rc;

	rc = dom_create("pong", DOMU_MEM_KIB, 1, &a);
	if (rc == 0)
		rc = dom_create("ping", DOMU_MEM_KIB, 1, &b);
	if (rc == 0)
		rc = arch_evtchn_alloc_unbound(a, b, &port);
	if (rc) {
		fail("set-up: %ld", rc);
		return;
	}
	snprintf(cmd, sizeof(cmd), "domu=pong port=%u count=%lu", port, n);
	rc = dom_build_module(a, DOMU_MODULE, cmd);
	snprintf(cmd, sizeof(cmd), "domu=ping peer=%u port=%u count=%lu", a, port, n);
	if (rc == 0)
		rc = dom_build_module(b, DOMU_MODULE, cmd);
	if (rc == 0)
		rc = dom_unpause(a);
	if (rc == 0)
		rc = dom_unpause(b);
	t0 = platform->time_ns();
	if (rc)
		fail("build/unpause: %ld", rc);
	else if (wait_state(b, 1U << HV_DOMSTATE_SHUTDOWN, 600000, &ib) ||
	         wait_state(a, 1U << HV_DOMSTATE_SHUTDOWN, 10000, &ia))
		fail("the pair did not finish");
	printk("domtest: pingpong: %lu round trips, %llu ms seen from dom0\n", n,
	       (unsigned long long)((platform->time_ns() - t0) / 1000000));
	dom_destroy(a);
	dom_destroy(b);
	if (free_frames() != before)
		fail("frames leaked");
}

static void expect(const char *what, long rc, long want)
{
	printk("domtest: %s: %s: %ld (expected %ld)\n", test_name, what, rc, want);
	if (rc != want)
		fail("%s", what);
}

static void test_privilege(void)
{
	struct hv_domctl op;
	struct hv_domctl_dominfo info;
	uint32_t id;
	long rc;

	expect("destroy d0", dom_destroy(0), -XEN_EPERM);
	expect("pause d0", dom_pause(0), -XEN_EPERM);
	expect("shutdown d0", dom_shutdown(0, 0), -XEN_EPERM);
	expect("build d0", dom_build_module(0, DOMU_MODULE, ""), -XEN_EPERM);
	expect("info d0", dom_info(0, &info), 0);
	expect("destroy d31000", dom_destroy(31000), -XEN_ESRCH);
	memset(&op, 0, sizeof(op));
	op.interface_version = HV_DOMCTL_INTERFACE_VERSION + 1;
	op.cmd = HV_DOMCTL_physinfo;
	expect("wrong interface version", domctl_forward(&op), -XEN_EACCES);
	op.interface_version = HV_DOMCTL_INTERFACE_VERSION;
	op.cmd = 999;
	op.domain = 0;
	expect("unknown operation", domctl_forward(&op), -XEN_EPERM); /* on d0 itself */
	expect("build from module 0 (dom0's kernel)",
	       dom_create("x", DOMU_MEM_KIB, 1, &id) ?: dom_build_module(id, 0, ""), -XEN_ENOENT);
	expect("build from missing module 9", dom_build_module(id, 9, ""), -XEN_ENOENT);
	expect("unpause unbuilt", dom_unpause(id), -XEN_EINVAL);
	expect("destroy unbuilt", dom_destroy(id), 0);
	rc = new_domu("eperm", "domu=domctl", &id);
	if (rc == 0)
		rc = dom_unpause(id);
	if (rc || wait_state(id, 1U << HV_DOMSTATE_SHUTDOWN, 20000, &info))
		fail("domU calling domctl did not run to its end (%ld)", rc);
	dom_destroy(id);
}

static void test_lifecycle(void)
{
	struct hv_domctl op;
	struct hv_domctl_dominfo info;
	uint64_t before = free_frames();
	uint32_t id, other;

	memset(&op, 0, sizeof(op));
	op.interface_version = HV_DOMCTL_INTERFACE_VERSION;
	op.cmd = HV_DOMCTL_create;
	strlcpy(op.u.create.name, "web", sizeof(op.u.create.name));
	for (int i = 0; i < 16; i++)
		op.u.create.uuid[i] = (uint8_t)(0xa0 + i);
	op.u.create.max_vcpus = 1;
	op.u.create.max_mem_kib = 16 * 1024;
	op.u.create.current_mem_kib = 12 * 1024;
	op.u.create.guarantee_kib = 4 * 1024;
	expect("create \"web\"", domctl_forward(&op), 0);
	id = op.u.create.domid;
	expect("create a second \"web\"", dom_create("web", DOMU_MEM_KIB, 1, &other), -XEN_EEXIST);
	expect(
	    "create with current > max",
	    (op.u.create.current_mem_kib = 32 * 1024, op.u.create.domid = 0, domctl_forward(&op)),
	    -XEN_EINVAL);
	expect("info", dom_info(id, &info), 0);
	print_info(&info);
	if (strcmp(info.name, "web") != 0 || info.uuid[0] != 0xa0 || info.uuid[15] != 0xaf ||
	    info.max_mem_kib != 16 * 1024 || info.guarantee_kib != 4 * 1024 ||
	    info.current_mem_kib != 0 || info.state != HV_DOMSTATE_CREATED)
		fail("info does not show what create set");
	expect("set_max_mem below the guarantee", dom_set_mem(id, HV_DOMCTL_set_max_mem, 2048),
	       -XEN_EINVAL);
	expect("set_max_mem 20 MiB", dom_set_mem(id, HV_DOMCTL_set_max_mem, 20 * 1024), 0);
	expect("set_current_mem 10 MiB", dom_set_mem(id, HV_DOMCTL_set_current_mem, 10 * 1024), 0);
	memset(&op, 0, sizeof(op));
	op.interface_version = HV_DOMCTL_INTERFACE_VERSION;
	op.cmd = HV_DOMCTL_populate;
	op.domain = id;
	expect("populate", domctl_forward(&op), 0);
	dom_info(id, &info);
	if (info.current_mem_kib != 10 * 1024)
		fail("populated %llu KiB, not 10240", (unsigned long long)info.current_mem_kib);
	expect("set_current_mem after populate, before build",
	       dom_set_mem(id, HV_DOMCTL_set_current_mem, 8 * 1024), -XEN_EBUSY);
	expect("build", dom_build_module(id, DOMU_MODULE, "domu=idle"), 0);
	expect("build twice", dom_build_module(id, DOMU_MODULE, "domu=idle"), -XEN_EEXIST);
	expect("unpause", dom_unpause(id), 0);
	if (wait_state(id, 1U << HV_DOMSTATE_RUNNING, 10000, &info))
		fail("not running");
	for (uint64_t end = platform->time_ns() + 20000000000ULL;
	     dom_info(id, &info) == 0 && info.cpu_time_ns == 0 && platform->time_ns() < end;)
		; /* really on a pCPU before we stop it */
	expect("shutdown with reason reboot", dom_shutdown(id, 1), 0);
	expect("info", dom_info(id, &info), 0);
	print_info(&info);
	if (info.state != HV_DOMSTATE_SHUTDOWN || info.shutdown_reason != 1 || info.nr_vcpus != 0)
		fail("shutdown by dom0 not kept as reboot");
	expect("unpause after shutdown", dom_unpause(id), -XEN_EINVAL);
	expect("shutdown with reason 9", dom_shutdown(id, 9), -XEN_EINVAL);
	expect("destroy", dom_destroy(id), 0);
	expect("info after destroy", dom_info(id, &info), -XEN_ESRCH);
	if (free_frames() != before)
		fail("frames leaked");
}

static void test_crash(void)
{
	struct hv_domctl_dominfo info;
	unsigned long exc = arch_dom_exc_count();
	uint32_t id;
	long rc = new_domu("crasher", "domu=crash", &id);

	if (rc == 0)
		rc = dom_unpause(id);
	if (rc || wait_state(id, 1U << HV_DOMSTATE_CRASHED, 20000, &info)) {
		fail("no crash seen (%ld)", rc);
	} else {
		print_info(&info);
		if (info.shutdown_reason != 3)
			fail("reason %u, not crash (3)", info.shutdown_reason);
	}
	for (uint64_t end = platform->time_ns() + 1000000000ULL;
	     arch_dom_exc_count() == exc && platform->time_ns() < end;)
		;
	printk("domtest: crash: VIRQ_DOM_EXC events %lu\n", arch_dom_exc_count() - exc);
	if (arch_dom_exc_count() == exc)
		fail("no VIRQ_DOM_EXC");
	dom_destroy(id);
}

static void test_buffer(void)
{
	uint64_t len, before = free_frames();
	const void *image = arch_initrd(&len);
	struct hv_domctl_dominfo info;
	uint32_t id;
	long rc;

	if (!image) {
		fail("dom0 has no initrd to build from");
		return;
	}
	rc = dom_create("from-buffer", DOMU_MEM_KIB, 1, &id);
	if (rc == 0)
		rc = dom_build_buffer(id, image, len, "domu=exit");
	if (rc == 0)
		rc = dom_unpause(id);
	printk("domtest: buffer: %llu-byte image, build and unpause: %ld\n",
	       (unsigned long long)len, rc);
	if (rc || wait_state(id, 1U << HV_DOMSTATE_SHUTDOWN, 20000, &info))
		fail("domU from buffer did not run to its end");
	dom_destroy(id);
	if (free_frames() != before)
		fail("frames leaked");
}

static void test_balloon(void)
{
	struct hv_domctl_dominfo info;
	uint64_t before = free_frames(), low = ~0ULL, end;
	uint32_t id;
	long rc = dom_create("balloon", DOMU_MEM_KIB, 1, &id);

	if (rc == 0)
		rc = dom_set_mem(id, HV_DOMCTL_set_mem_guarantee, 6 * 1024);
	if (rc == 0)
		rc = dom_build_module(id, DOMU_MODULE, "domu=balloon pages=1000");
	if (rc == 0)
		rc = dom_unpause(id);
	if (rc) {
		fail("set-up: %ld", rc);
		return;
	}
	end = platform->time_ns() + 60000000000ULL;
	while (dom_info(id, &info) == 0 && info.state != HV_DOMSTATE_SHUTDOWN &&
	       platform->time_ns() < end)
		if (info.current_mem_kib < low)
			low = info.current_mem_kib;
	printk("domtest: balloon: guarantee %llu KiB, lowest current memory seen %llu KiB, "
	       "state %s\n",
	       (unsigned long long)info.guarantee_kib, (unsigned long long)low,
	       dom_state_name(info.state));
	if (info.state != HV_DOMSTATE_SHUTDOWN)
		fail("the balloon domU did not finish");
	if (low < info.guarantee_kib)
		fail("went below the guarantee");
	dom_destroy(id);
	if (free_frames() != before)
		fail("frames leaked");
}

/* Run one domU in `mode` to its own end; destroy it; no frame lost. */
static void run_one(const char *name, const char *cmdline)
{
	struct hv_domctl_dominfo info;
	uint64_t before = free_frames();
	uint32_t id;
	long rc = new_domu(name, cmdline, &id);

	if (rc == 0)
		rc = dom_unpause(id);
	if (rc || wait_state(id, 1U << HV_DOMSTATE_SHUTDOWN, 60000, &info))
		fail("%s did not run to its end (%ld)", cmdline, rc);
	dom_destroy(id);
	if (free_frames() != before)
		fail("frames leaked");
}

#define GRANT_REF  8
#define GRANT_TEXT "granted by this domU"

static void test_grant(void)
{
	static char copy[64] __aligned(64);
	uint64_t before, mapped_alive, mapped_dead, after;
	const void *va = NULL;
	uint32_t id, handle = 0;
	long rc, st = -1;

	/* A first map and unmap of our own: whatever hv sets up for dom0's mappings once
	 * (its maptrack) is then not counted below. */
	before = free_frames();
	rc = new_domu("granter", "domu=grant gref=8", &id);
	if (rc == 0)
		rc = dom_unpause(id);
	if (rc) {
		fail("granter: %ld", rc);
		return;
	}
	for (uint64_t end = platform->time_ns() + 20000000000ULL; platform->time_ns() < end;) {
		st = arch_grant_map(id, GRANT_REF, &va, &handle);
		if (st == 0)
			break;
	}
	if (st != 0) {
		fail("map_grant_ref of d%u ref %u: %ld", id, GRANT_REF, st);
		dom_destroy(id);
		return;
	}
	mapped_alive = free_frames();
	printk("domtest: grant: mapped d%u ref %u: \"%s\"\n", id, GRANT_REF, (const char *)va);
	if (strcmp(va, GRANT_TEXT) != 0)
		fail("mapped page does not hold the granted text");
	rc = arch_grant_copy(id, GRANT_REF, copy, sizeof(copy));
	printk("domtest: grant: copy (2 batched ops): %ld \"%s\"\n", rc, copy);
	if (rc || strcmp(copy, GRANT_TEXT) != 0)
		fail("grant copy");

	rc = dom_destroy(id);
	mapped_dead = free_frames();
	printk("domtest: grant: destroyed d%u while mapped: %ld; still reads \"%s\"\n", id, rc,
	       (const char *)va);
	if (rc || strcmp(va, GRANT_TEXT) != 0)
		fail("the mapping did not survive its owner");
	rc = arch_grant_unmap(handle);
	after = free_frames();
	printk("domtest: grant: unmap %ld; free frames before %llu, mapped %llu, owner gone %llu, "
	       "unmapped %llu\n",
	       rc, (unsigned long long)before, (unsigned long long)mapped_alive,
	       (unsigned long long)mapped_dead, (unsigned long long)after);
	if (rc)
		fail("unmap after the owner died");
	if (after != mapped_dead + 1)
		fail("unmap freed %lld frames, expected the granted one",
		     (long long)(after - mapped_dead));
	if (after != before)
		fail("frames leaked: %lld", (long long)(before - after));
}

__noreturn void domtest_run(const char *spec)
{
	char name[32];
	const char *colon = strchr(spec, ':');
	unsigned long n = colon ? strtoul(colon + 1, NULL, 0) : 0;
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memcpy(name, spec, len);
	name[len] = 0;
	test_name = name;
	long rc = arch_dom_exc_bind();
	if (rc)
		fail("bind VIRQ_DOM_EXC: %ld", rc);
	if (strcmp(name, "loop") == 0)
		test_loop(n ? n : 10);
	else if (strcmp(name, "many") == 0)
		test_many(n ? n : 8);
	else if (strcmp(name, "pingpong") == 0)
		test_pingpong(n ? n : 1000);
	else if (strcmp(name, "privilege") == 0)
		test_privilege();
	else if (strcmp(name, "crash") == 0)
		test_crash();
	else if (strcmp(name, "lifecycle") == 0)
		test_lifecycle();
	else if (strcmp(name, "buffer") == 0)
		test_buffer();
	else if (strcmp(name, "grant") == 0)
		test_grant();
	else if (strcmp(name, "balloon") == 0)
		test_balloon();
	else if (strcmp(name, "ports") == 0)
		run_one("ports", "domu=ports");
	else if (strncmp(name, "bench-", 6) == 0)
		failures += domtest_bench(name, n); /* kernel/domtest-bench.c */
	else if (strcmp(name, "sched") == 0)
		failures += domtest_sched(n); /* kernel/domtest-sched.c */
	else
		fail("unknown scenario");
	if (failures)
		printk("domtest: %s: FAIL (%u failed checks)\n", name, failures);
	else
		printk("domtest: %s: PASS\n", name);
	platform->shutdown(PLATFORM_POWEROFF);
}
