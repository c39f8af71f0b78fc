/*
 * dom0's scheduler scenario (`domtest=sched`, see kernel/domtest.c): CPU shares of domUs that
 * spin (`domu=spin`), with weights, a cap and a reservation set through the control interface
 * (HV_DOMCTL_sched_set), measured from the CPU time hv reports for each domain (getinfo's
 * cpu_time_ns, hv's runstate accounting) over 4-second windows while dom0 sleeps. Meant for
 * one pCPU, where every share is exact; each is printed as `domtest: sched: <case>: <shares>`
 * and must be within 2 points of:
 *   weights 256:512:1024            14.29 28.57 57.14
 *   cap 20, alone                   20
 *   reservation 50 (weight 256) against 7 domUs of weight 2560: 50 (the 7 share the rest)
 * and a second reservation of 50 on the same pCPU is refused with -ENOSPC.
 */
#include <domctl.h>
#include <kernel.h>
#include <platform.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <public/errno.h>

#define DOMU_MODULE  1
#define DOMU_MEM_KIB (8 * 1024)
#define MAX_SPIN     8

unsigned int domtest_sched(unsigned long n);

static unsigned int failed;

static void check(bool ok, const char *what, long got, long want)
{
	if (!ok) {
		printk("domtest: sched: FAILED CHECK: %s: %ld (expected %ld)\n", what, got, want);
		failed++;
	}
}

static void sleep_ns(uint64_t ns)
{
	uint64_t end = platform->time_ns() + ns;
	unsigned long f = platform->irq_save();

	while (platform->time_ns() < end) {
		platform->timer_set(end);
		platform->idle();
	}
	platform->irq_restore(f);
}

static long spinner(uint32_t weight, uint32_t cap, uint32_t resv, uint32_t *id)
{
	struct hv_domctl_sched s = {.weight = weight, .cap = cap, .reservation = resv};
	static unsigned int serial;
	char name[16];
	long rc;

	snprintf(name, sizeof(name), "spin-%u", serial++); /* names are unique */
	rc = dom_create(name, DOMU_MEM_KIB, 1, id);

	if (rc)
		return rc;
	rc = dom_build_module(*id, DOMU_MODULE, "domu=spin");
	if (rc == 0)
		rc = dom_sched_set(*id, &s);
	if (rc == 0)
		rc = dom_unpause(*id);
	if (rc)
		dom_destroy(*id);
	return rc;
}

/* Shares of ids[0..n) in hundredths of a percent of one pCPU over a window. */
static void measure(const uint32_t *ids, unsigned int n, uint64_t share[])
{
	struct hv_domctl_dominfo a[MAX_SPIN], b[MAX_SPIN];
	uint64_t t0, t1;

	sleep_ns(500000000ULL); /* settle */
	t0 = platform->time_ns();
	for (unsigned int i = 0; i < n; i++)
		dom_info(ids[i], &a[i]);
	sleep_ns(4000000000ULL);
	for (unsigned int i = 0; i < n; i++)
		dom_info(ids[i], &b[i]);
	t1 = platform->time_ns();
	for (unsigned int i = 0; i < n; i++)
		share[i] = (b[i].cpu_time_ns - a[i].cpu_time_ns) * 10000 / (t1 - t0);
}

static void report(const char *name, const uint64_t *share, unsigned int n, const uint64_t *want)
{
	char line[200];
	size_t off = (size_t)snprintf(line, sizeof(line), "domtest: sched: %s:", name);

	for (unsigned int i = 0; i < n && off < sizeof(line); i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %llu.%02llu",
		                        (unsigned long long)(share[i] / 100),
		                        (unsigned long long)(share[i] % 100));
	printk("%s\n", line);
	for (unsigned int i = 0; i < n; i++)
		if (want[i] != ~0ULL)
			check(share[i] + 200 >= want[i] && share[i] <= want[i] + 200, name,
			      (long)share[i], (long)want[i]);
}

static void destroy_all(uint32_t *ids, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		check(dom_destroy(ids[i]) == 0, "destroy", 0, 0);
}

unsigned int domtest_sched(unsigned long n)
{
	uint32_t ids[MAX_SPIN], extra;
	uint64_t share[MAX_SPIN], want[MAX_SPIN];
	struct hv_domctl_sched s;
	long rc;

	(void)n;
	failed = 0;

	/*
	 * dom0 sleeps while shares are measured, but between windows it creates and destroys
	 * domains next to 8 spinners; at the default weight it would get under 1% of the pCPU
	 * then. The highest weight lets it do that work at once (it still sleeps in windows).
	 */
	s = (struct hv_domctl_sched){.weight = 65535, .cap = 0, .reservation = 0};
	rc = dom_sched_set(0, &s);
	check(rc == 0, "dom0's weight", rc, 0);

	/* Weights 1:2:4. */
	static const uint32_t weights[3] = {256, 512, 1024};
	for (unsigned int i = 0; i < 3; i++) {
		rc = spinner(weights[i], 0, 0, &ids[i]);
		check(rc == 0, "create weighted spinner", rc, 0);
		if (rc)
			return failed;
	}
	rc = dom_sched_get(ids[2], &s);
	check(rc == 0 && s.weight == 1024 && s.cap == 0 && s.reservation == 0, "sched_get", rc, 0);
	measure(ids, 3, share);
	want[0] = 1429, want[1] = 2857, want[2] = 5714;
	report("weights 256:512:1024", share, 3, want);
	destroy_all(ids, 3);

	/* Cap 20, alone on the pCPU. */
	rc = spinner(256, 20, 0, &ids[0]);
	check(rc == 0, "create capped spinner", rc, 0);
	if (rc)
		return failed;
	measure(ids, 1, share);
	want[0] = 2000;
	report("cap 20 alone", share, 1, want);
	destroy_all(ids, 1);

	/* Reservation 50 against 7 domains of 10x the weight. */
	rc = spinner(256, 0, 50, &ids[0]);
	check(rc == 0, "create reserved spinner", rc, 0);
	for (unsigned int i = 1; i < 8 && rc == 0; i++) {
		rc = spinner(2560, 0, 0, &ids[i]);
		check(rc == 0, "create heavy spinner", rc, 0);
	}
	if (rc)
		return failed;
	measure(ids, 8, share);
	want[0] = 5000;
	for (unsigned int i = 1; i < 8; i++)
		want[i] = ~0ULL;
	report("reservation 50 against 7 x weight 2560", share, 8, want);

	/* A second reservation of 50 does not fit next to the first (95% at most). */
	rc = dom_create("over", DOMU_MEM_KIB, 1, &extra);
	check(rc == 0, "create", rc, 0);
	if (rc == 0) {
		s = (struct hv_domctl_sched){.weight = 256, .cap = 0, .reservation = 50};
		rc = dom_sched_set(extra, &s);
		printk("domtest: sched: second reservation of 50: %ld\n", rc);
		check(rc == -XEN_ENOSPC, "over-committed reservation", rc, -XEN_ENOSPC);
		s.reservation = 40;
		rc = dom_sched_set(extra, &s);
		check(rc == 0, "a reservation that fits", rc, 0);
		s.reservation = 0;
		s.weight = 0;
		check(dom_sched_set(extra, &s) == -XEN_EINVAL, "weight 0", 0, -XEN_EINVAL);
		dom_destroy(extra);
	}
	destroy_all(ids, 8);
	s = (struct hv_domctl_sched){.weight = 256, .cap = 0, .reservation = 0};
	check(dom_sched_set(0, &s) == 0, "dom0's weight back", 0, 0);
	return failed;
}
