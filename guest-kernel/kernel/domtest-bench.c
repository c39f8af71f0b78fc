/*
 * dom0's domain benchmarks, scenarios of `domtest=` (kernel/domtest.c) run by bench/domains/run.
 * Each prints machine-readable lines
 *
 *     bench: <row> median_ns=<n> min_ns=<n> max_ns=<n> n=<samples> [more key=value]
 *
 * besides the usual `domtest:` lines, and fails (FAIL line, no figures trusted) when an
 * operation on the way fails or a frame is lost. Times are platform->time_ns() (hv's clock).
 *
 *   bench-start:N   N times (after one unrecorded warm-up): create a 4 MiB domU, build it from
 *                   boot module 1 with `domu=exit`, unpause it, and poll getinfo until it has
 *                   shut down. `domu=exit` prints its console lines (the kernel's boot lines,
 *                   then `domu: mode exit`) and powers off at once, so the row `domain_start`
 *                   (create to shutdown seen by dom0) is an upper bound of the time to its
 *                   first console line. `domain_create`, `domain_build`, `domain_unpause`
 *                   (the call) and `domain_run` (its return to the shutdown) split it.
 *                   Destroy is not timed. Needs a free pCPU for the domU (hv without
 *                   sched=resv, 2 pCPUs) so dom0's polling does not delay it.
 *   bench-evtchn:N  the null hypercall (xen_version, batches of 64) in dom0, then two 4 MiB
 *                   domUs bounce an interdomain event N times (`domu=ping` / `domu=pong`).
 *                   The round trip is the ping domU's own figure (its console line `domu: ping
 *                   done: ... (<ns> ns each)`); dom0 prints `evtchn_pair` with the wall time it
 *                   saw. dom0 sleeps (timer + block) meanwhile, so on one pCPU (sched=resv)
 *                   the pair has it to itself.
 *   bench-gnttab    a 4 MiB domU grants dom0 a page (`domu=grant gref=8`); dom0 times
 *                   GNTTABOP_copy of that page into its own pages, in batches of 1 op (4 KiB)
 *                   and 16 ops (64 KiB, the same granted page 16 times), against memcpy of the
 *                   same sizes between its own buffers. Rows carry `MBps=` from the median.
 */
#include <domctl.h>
#include <kernel.h>
#include <platform.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <public/errno.h>

#define DOMU_MODULE    1
#define BENCH_MEM_KIB  (4 * 1024)
#define MAX_SAMPLES    1000
#define PAGE_BYTES     4096
#define COPY_MAX_PAGES 16
#define GRANT_REF      8
#define GRANT_TEXT     "granted by this domU"

/* Platform hooks (arch/pv/domtest-bench-pv.c) and those of the tests (arch/pv/domctl-pv.c). */
void arch_bench_null_hypercall(void);
long arch_bench_grant_copy(uint32_t dom, uint32_t ref, void *dst, unsigned int nops);

unsigned int domtest_bench(const char *name, unsigned long n);

static unsigned int failed;
static uint64_t samples[MAX_SAMPLES];

static void bench_fail(const char *what, long rc)
{
	printk("domtest: bench: FAILED CHECK: %s: %ld\n", what, rc);
	failed++;
}

static uint64_t free_frames(void)
{
	struct hv_domctl_physinfo pi;

	return dom_physinfo(&pi) == 0 ? pi.free_frames : 0;
}

static void sort(uint64_t *v, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		uint64_t x = v[i];
		unsigned int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Sorts v; prints the row (with extra "key=value" text, may be empty); returns the median. */
static uint64_t report(const char *row, uint64_t *v, unsigned int n, const char *extra)
{
	if (n == 0)
		return 0;
	sort(v, n);
	printk("bench: %s median_ns=%llu min_ns=%llu max_ns=%llu n=%u%s%s\n", row,
	       (unsigned long long)v[n / 2], (unsigned long long)v[0], (unsigned long long)v[n - 1],
	       n, *extra ? " " : "", extra);
	return v[n / 2];
}

/* Poll getinfo until domid has shut down (0), or -1 after timeout_ns. */
static int spin_until_shutdown(uint32_t domid, uint64_t timeout_ns)
{
	struct hv_domctl_dominfo info;
	uint64_t end = platform->time_ns() + timeout_ns;

	while (dom_info(domid, &info) == 0) {
		if (info.state == HV_DOMSTATE_SHUTDOWN)
			return info.shutdown_reason == 0 ? 0 : -1;
		if (info.state == HV_DOMSTATE_CRASHED || platform->time_ns() > end)
			return -1;
	}
	return -1;
}

/* Sleep (timer + block, so another vCPU may have this pCPU) until domid has shut down. */
static int sleep_until_shutdown(uint32_t domid, uint64_t timeout_ns)
{
	struct hv_domctl_dominfo info;
	uint64_t end = platform->time_ns() + timeout_ns;
	int rc = -1;

	for (;;) {
		if (dom_info(domid, &info) != 0 || info.state == HV_DOMSTATE_CRASHED)
			break;
		if (info.state == HV_DOMSTATE_SHUTDOWN) {
			rc = 0;
			break;
		}
		if (platform->time_ns() > end)
			break;
		unsigned long f = platform->irq_save();
		platform->timer_set(platform->time_ns() + 5000000);
		platform->idle();
		platform->irq_restore(f);
	}
	return rc;
}

static void bench_start(unsigned long n)
{
	static uint64_t create[MAX_SAMPLES], build[MAX_SAMPLES], unpause[MAX_SAMPLES],
	    run[MAX_SAMPLES];
	uint64_t before = free_frames();
	unsigned int done = 0;
	char extra[64];

	if (n == 0 || n + 1 > MAX_SAMPLES)
		n = 100;
	for (unsigned long i = 0; i <= n; i++) {
		uint64_t t0, t1, t2, t3, t4;
		uint32_t id;
		long rc;

		t0 = platform->time_ns();
		rc = dom_create("bench-start", BENCH_MEM_KIB, 1, &id);
		t1 = platform->time_ns();
		if (rc) {
			bench_fail("create", rc);
			break;
		}
		rc = dom_build_module(id, DOMU_MODULE, "domu=exit");
		t2 = platform->time_ns();
		if (rc == 0)
			rc = dom_unpause(id);
		t3 = platform->time_ns();
		if (rc == 0)
			rc = spin_until_shutdown(id, 20000000000ULL);
		t4 = platform->time_ns();
		dom_destroy(id);
		if (rc) {
			bench_fail("build, unpause, run to poweroff", rc);
			break;
		}
		if (i == 0)
			continue; /* warm-up: TCG translates the code paths on the first round */
		samples[done] = t4 - t0;
		create[done] = t1 - t0;
		build[done] = t2 - t1;
		unpause[done] = t3 - t2;
		run[done] = t4 - t3;
		done++;
	}
	snprintf(extra, sizeof(extra), "mem_kib=%u", BENCH_MEM_KIB);
	report("domain_start", samples, done, extra);
	report("domain_create", create, done, "");
	report("domain_build", build, done, "");
	report("domain_unpause", unpause, done, "");
	report("domain_run", run, done, "");
	if (free_frames() != before)
		bench_fail("frames leaked over the rounds", (long)(before - free_frames()));
}

static uint64_t null_hypercall(void)
{
	const unsigned int batch = 64, count = 400;

	for (unsigned int i = 0; i < 1000; i++) /* warm-up */
		arch_bench_null_hypercall();
	for (unsigned int s = 0; s < count; s++) {
		uint64_t t0 = platform->time_ns();

		for (unsigned int i = 0; i < batch; i++)
			arch_bench_null_hypercall();
		samples[s] = (platform->time_ns() - t0) / batch;
	}
	return report("null_hypercall", samples, count, "batch=64");
}

static void bench_evtchn(unsigned long n)
{
	uint64_t before, t0, t1;
	uint32_t a, b, port;
	char cmd[128];
	long rc;

	if (n == 0)
		n = 10000;
	null_hypercall();
	before = free_frames();
	rc = dom_create("bench-pong", BENCH_MEM_KIB, 1, &a);
	if (rc == 0)
		rc = dom_create("bench-ping", BENCH_MEM_KIB, 1, &b);
	if (rc == 0)
		rc = arch_evtchn_alloc_unbound(a, b, &port);
	if (rc) {
		bench_fail("set-up", rc);
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
		bench_fail("build/unpause", rc);
	else if (sleep_until_shutdown(b, 600000000000ULL) ||
	         sleep_until_shutdown(a, 10000000000ULL))
		bench_fail("the pair did not finish", -1);
	t1 = platform->time_ns();
	if (rc == 0)
		printk("bench: evtchn_pair round_trips=%lu wall_ns=%llu ping=d%u pong=d%u\n", n,
		       (unsigned long long)(t1 - t0), b, a);
	dom_destroy(a);
	dom_destroy(b);
	if (free_frames() != before)
		bench_fail("frames leaked", (long)(before - free_frames()));
}

static uint64_t mbps(uint64_t bytes, uint64_t ns)
{
	return ns ? bytes * 1000 / ns : 0; /* bytes per ns * 1000 = MB/s (10^6) */
}

static void bench_gnttab(void)
{
	static char dst[COPY_MAX_PAGES * PAGE_BYTES] __aligned(PAGE_BYTES);
	static char src[COPY_MAX_PAGES * PAGE_BYTES] __aligned(PAGE_BYTES);
	static const unsigned int pages[2] = {1, COPY_MAX_PAGES};
	const unsigned int count = 200;
	uint64_t before = free_frames(), end;
	uint32_t id;
	char row[32], extra[64];
	long rc;

	rc = dom_create("bench-granter", BENCH_MEM_KIB, 1, &id);
	if (rc == 0)
		rc = dom_build_module(id, DOMU_MODULE, "domu=grant gref=8");
	if (rc == 0)
		rc = dom_unpause(id);
	if (rc) {
		bench_fail("granter set-up", rc);
		return;
	}
	end = platform->time_ns() + 20000000000ULL;
	do /* until the domU has written its grant entry */
		rc = arch_bench_grant_copy(id, GRANT_REF, dst, 1);
	while (rc != 0 && platform->time_ns() < end);
	if (rc != 0 || strcmp(dst, GRANT_TEXT) != 0) {
		bench_fail("first grant copy", rc);
		dom_destroy(id);
		return;
	}
	memset(src, 0x5a, sizeof(src));
	for (unsigned int p = 0; p < 2 && failed == 0; p++) {
		unsigned int bytes = pages[p] * PAGE_BYTES;
		uint64_t med;

		memset(dst, 0, sizeof(dst));
		for (unsigned int s = 0; s < count + 20 && rc == 0; s++) {
			uint64_t t0 = platform->time_ns();

			rc = arch_bench_grant_copy(id, GRANT_REF, dst, pages[p]);
			if (s >= 20) /* the first 20 warm up */
				samples[s - 20] = platform->time_ns() - t0;
		}
		if (rc || strcmp(dst + bytes - PAGE_BYTES, GRANT_TEXT) != 0) {
			bench_fail("grant copy batch", rc);
			break;
		}
		snprintf(row, sizeof(row), "gnttab_copy_%uk", bytes / 1024);
		sort(samples, count);
		med = samples[count / 2];
		snprintf(extra, sizeof(extra), "bytes=%u ops=%u MBps=%llu", bytes, pages[p],
		         (unsigned long long)mbps(bytes, med));
		report(row, samples, count, extra);

		for (unsigned int s = 0; s < count + 20; s++) {
			uint64_t t0 = platform->time_ns();

			memcpy(dst, src, bytes);
			__asm__ __volatile__("" ::: "memory");
			if (s >= 20)
				samples[s - 20] = platform->time_ns() - t0;
		}
		if ((unsigned char)dst[bytes - 1] != 0x5a)
			bench_fail("memcpy", -1);
		snprintf(row, sizeof(row), "memcpy_%uk", bytes / 1024);
		sort(samples, count);
		med = samples[count / 2];
		snprintf(extra, sizeof(extra), "bytes=%u MBps=%llu", bytes,
		         (unsigned long long)mbps(bytes, med));
		report(row, samples, count, extra);
	}
	dom_destroy(id);
	if (free_frames() != before)
		bench_fail("frames leaked", (long)(before - free_frames()));
}

/* The scenario `name` (bench-start, bench-evtchn, bench-gnttab); the number of failed checks. */
unsigned int domtest_bench(const char *name, unsigned long n)
{
	failed = 0;
	if (strcmp(name, "bench-start") == 0)
		bench_start(n);
	else if (strcmp(name, "bench-evtchn") == 0)
		bench_evtchn(n);
	else if (strcmp(name, "bench-gnttab") == 0)
		bench_gnttab();
	else
		bench_fail("unknown bench scenario", -1);
	printk("bench: done\n");
	return failed;
}
