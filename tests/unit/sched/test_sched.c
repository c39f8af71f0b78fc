/*
 * Host simulation tests of hv's scheduler (hv/common/sched/, policy "resv"): the real
 * sources, compiled against tests/unit/sched/stub/, driven by the simulator of sim.h for 10
 * simulated seconds per case. Each measured share is printed; the tolerances are stricter
 * than the 2 points the issue asks of the real machine, because here the clock is exact.
 *
 * Shares are percent of one pCPU over the measured window, from the simulator's own
 * accounting (not the scheduler's).
 *
 * Usage: test_sched [-v]      (-v prints every vCPU's share, not only the checked ones)
 *        SCHED_TEST_SEED=n test_sched   runs the create/destroy churn with another seed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include <public/errno.h>

static int failures;
static int verbose;
static uint64_t churn_seed = 99; /* SCHED_TEST_SEED overrides, to shake out rare paths */

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			printf("    FAIL %s:%d: ", __FILE__, __LINE__);                            \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

static double pct(uint64_t part, uint64_t whole)
{
	return 100.0 * (double)part / (double)whole;
}

static void expect_share(const char *what, double got, double want, double tol)
{
	double err = got > want ? got - want : want - got;

	printf("    %-44s %7.3f%%  (expected %7.3f%% +- %.*f)\n", what, got, want,
	       tol < 0.1 ? 2 : 1, tol);
	CHECK(err <= tol, "%s: %.3f%% is %.3f points from %.3f%%", what, got, err, want);
}

/* A domain of one vCPU in the simulator, with its params. */
struct one {
	struct sched_dom dom;
	struct sim_vcpu v;
};

static void one_add(struct sim *s, struct one *o, uint16_t domid, uint64_t aff, uint32_t weight,
                    uint32_t cap, uint32_t resv)
{
	struct sched_params p = {.weight = weight, .cap = cap, .reservation = resv};
	char msg[200];
	int rc;

	sched_dom_init(&o->dom, domid);
	rc = sched_dom_set_params(&o->dom, &p, s->now, msg, sizeof(msg));
	CHECK(rc == 0, "set_params dom %u: %d %s", domid, rc, msg);
	rc = sim_add(s, &o->v, &o->dom, 0, aff, true, msg, sizeof(msg));
	CHECK(rc == 0, "insert dom %u: %d %s", domid, rc, msg);
}

/* ---- (1) weights 1:2:4 on one pCPU ---- */

static void test_weights(void)
{
	static const uint32_t sets[2][3] = {{256, 512, 1024}, {1, 2, 4}};

	for (int k = 0; k < 2; k++) {
		struct sim s;
		struct one d[3];
		char what[64];

		memset(d, 0, sizeof(d));
		sim_init(&s, 1, 1);
		printf("  weights %u:%u:%u, 3 spinning domains on pCPU 0, 10 s:\n", sets[k][0],
		       sets[k][1], sets[k][2]);
		for (int i = 0; i < 3; i++)
			one_add(&s, &d[i], i + 1, 1, sets[k][i], 0, 0);
		sim_run_until(&s, 10 * SEC);
		sim_sync(&s);
		for (int i = 0; i < 3; i++) {
			snprintf(what, sizeof(what), "domain %d (weight %u)", i + 1, sets[k][i]);
			expect_share(what, pct(d[i].v.ran_ns, s.now), 100.0 * (1 << i) / 7, 0.5);
		}
	}
}

/* ---- (2) a cap of 20% ---- */

static void test_cap(void)
{
	struct sim s;
	struct one d[3];

	memset(d, 0, sizeof(d));
	sim_init(&s, 1, 2);
	printf("  cap 20%%, spinning alone on pCPU 0, 10 s:\n");
	one_add(&s, &d[0], 1, 1, 256, 20, 0);
	sim_run_until(&s, 10 * SEC);
	sim_sync(&s);
	expect_share("capped domain", pct(d[0].v.ran_ns, s.now), 20.0, 0.5);
	expect_share("pCPU 0 idle", pct(s.pcpu[0].idle_ns, s.now), 80.0, 0.5);

	memset(d, 0, sizeof(d));
	sim_init(&s, 1, 3);
	printf("  cap 20%% at weight 256 against two spinners of weight 256, 10 s:\n");
	one_add(&s, &d[0], 1, 1, 256, 20, 0);
	one_add(&s, &d[1], 2, 1, 256, 0, 0);
	one_add(&s, &d[2], 3, 1, 256, 0, 0);
	sim_run_until(&s, 10 * SEC);
	sim_sync(&s);
	expect_share("capped domain (fair share 33%)", pct(d[0].v.ran_ns, s.now), 20.0, 0.5);
	expect_share("uncapped domain 2", pct(d[1].v.ran_ns, s.now), 40.0, 0.5);
	expect_share("uncapped domain 3", pct(d[2].v.ran_ns, s.now), 40.0, 0.5);

	memset(d, 0, sizeof(d));
	sim_init(&s, 1, 4);
	printf("  cap 20%% at weight 1024 against one spinner of weight 256, 10 s:\n");
	one_add(&s, &d[0], 1, 1, 1024, 20, 0);
	one_add(&s, &d[1], 2, 1, 256, 0, 0);
	sim_run_until(&s, 10 * SEC);
	sim_sync(&s);
	expect_share("capped domain (fair share 80%)", pct(d[0].v.ran_ns, s.now), 20.0, 0.5);
	expect_share("uncapped domain", pct(d[1].v.ran_ns, s.now), 80.0, 0.5);
}

/* ---- (3) a reservation of 50% against 7 domains of 10x weight ---- */

static void test_reservation(void)
{
	struct sim s;
	struct one d[8];
	uint64_t others = 0;

	memset(d, 0, sizeof(d));
	sim_init(&s, 1, 5);
	printf("  reservation 50%% at weight 256, 7 spinners of weight 2560, 10 s:\n");
	one_add(&s, &d[0], 1, 1, 256, 0, 50);
	for (int i = 1; i < 8; i++)
		one_add(&s, &d[i], i + 1, 1, 2560, 0, 0);
	sim_run_until(&s, 10 * SEC);
	sim_sync(&s);
	expect_share("reserved domain (fair share 3.5%)", pct(d[0].v.ran_ns, s.now), 50.0, 0.5);
	for (int i = 1; i < 8; i++) {
		char what[64];

		others += d[i].v.ran_ns;
		snprintf(what, sizeof(what), "weight-2560 domain %d", i + 1);
		if (verbose || i == 1)
			expect_share(what, pct(d[i].v.ran_ns, s.now), 50.0 / 7, 0.5);
		else
			CHECK(pct(d[i].v.ran_ns, s.now) > 50.0 / 7 - 0.5 &&
			          pct(d[i].v.ran_ns, s.now) < 50.0 / 7 + 0.5,
			      "%s got %.3f%%", what, pct(d[i].v.ran_ns, s.now));
	}
	expect_share("the 7 together", pct(others, s.now), 50.0, 0.5);
}

/* ---- (4) admission: an over-committed reservation is refused and changes nothing ---- */

static void expect_params(const char *who, const struct sched_params *p, uint32_t w, uint32_t c,
                          uint32_t r)
{
	CHECK(p->weight == w && p->cap == c && p->reservation == r,
	      "%s params are %u/%u/%u, expected %u/%u/%u", who, p->weight, p->cap, p->reservation,
	      w, c, r);
}

static void test_admission(void)
{
	struct sim s;
	struct sched_dom a, b, c;
	struct sim_vcpu av[2], bv, cv[3];
	struct sched_params p;
	char msg[256];
	int rc;

	memset(av, 0, sizeof(av));
	memset(&bv, 0, sizeof(bv));
	memset(cv, 0, sizeof(cv));
	sim_init(&s, 2, 6);
	sched_dom_init(&a, 1);
	sched_dom_init(&b, 2);
	sched_dom_init(&c, 3);
	CHECK(sim_add(&s, &av[0], &a, 0, 1, false, msg, sizeof(msg)) == 0, "insert a0");
	CHECK(sim_add(&s, &bv, &b, 0, 1, false, msg, sizeof(msg)) == 0, "insert b0");
	for (unsigned int i = 0; i < 3; i++)
		CHECK(sim_add(&s, &cv[i], &c, i, 3, false, msg, sizeof(msg)) == 0, "insert c");

	p = (struct sched_params){256, 0, 60};
	rc = sched_dom_set_params(&a, &p, s.now, msg, sizeof(msg));
	CHECK(rc == 0, "60%% on an empty pCPU 0: %d %s", rc, msg);
	printf("    domain 1: reservation 60%% on pCPU 0 admitted\n");

	p = (struct sched_params){512, 0, 40};
	msg[0] = 0;
	rc = sched_dom_set_params(&b, &p, s.now, msg, sizeof(msg));
	printf("    domain 2: reservation 40%% on pCPU 0 -> %d \"%s\"\n", rc, msg);
	CHECK(rc == -XEN_ENOSPC, "over-commit gave %d", rc);
	CHECK(strstr(msg, "reservation 40% on pCPU 0 exceeds the 35% still free") != NULL,
	      "message: %s", msg);
	expect_params("refused domain 2", &b.params, 256, 0, 0);
	expect_params("refused domain 2 vcpu", &bv.sv.params, 256, 0, 0);
	CHECK(sched_pcpu(0)->resv_sum == 60, "pCPU 0 reserved %u%%", sched_pcpu(0)->resv_sum);

	p.reservation = 35;
	rc = sched_dom_set_params(&b, &p, s.now, msg, sizeof(msg));
	CHECK(rc == 0, "35%% should fit exactly (95%% limit): %d %s", rc, msg);
	CHECK(sched_pcpu(0)->resv_sum == 95, "pCPU 0 reserved %u%%", sched_pcpu(0)->resv_sum);

	/* Three vCPUs of 50% on two pCPUs, one of which is full: all or nothing. */
	p = (struct sched_params){256, 0, 50};
	rc = sched_dom_set_params(&c, &p, s.now, msg, sizeof(msg));
	printf("    domain 3: 3 vcpus x 50%% on pCPUs 0-1 -> %d \"%s\"\n", rc, msg);
	CHECK(rc == -XEN_ENOSPC, "3 x 50%% gave %d", rc);
	CHECK(strstr(msg, "fits on none of its 2 pCPUs") != NULL, "message: %s", msg);
	for (unsigned int i = 0; i < 3; i++)
		expect_params("refused domain 3 vcpu", &cv[i].sv.params, 256, 0, 0);
	CHECK(sched_pcpu(0)->resv_sum == 95 && sched_pcpu(1)->resv_sum == 0,
	      "sums changed on refusal: %u %u", sched_pcpu(0)->resv_sum, sched_pcpu(1)->resv_sum);

	p.reservation = 30;
	rc = sched_dom_set_params(&c, &p, s.now, msg, sizeof(msg));
	CHECK(rc == 0, "3 x 30%% on pCPU 1: %d %s", rc, msg);
	CHECK(sched_pcpu(1)->resv_sum == 90, "pCPU 1 reserved %u%%", sched_pcpu(1)->resv_sum);

	/* Malformed params: -EINVAL, nothing changes. */
	{
		static const struct sched_params bad[] = {
		    {0, 0, 0},     /* weight 0 */
		    {65536, 0, 0}, /* weight above the maximum */
		    {256, 101, 0}, /* cap above 100% */
		    {256, 0, 101}, /* reservation above 100% */
		    {256, 20, 30}, /* cap below the reservation */
		};
		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			rc = sched_dom_set_params(&c, &bad[i], s.now, msg, sizeof(msg));
			CHECK(rc == -XEN_EINVAL, "bad params %u gave %d", i, rc);
			expect_params("domain 3 after bad params", &c.params, 256, 0, 30);
		}
		printf("    %zu malformed parameter sets refused with -EINVAL\n",
		       sizeof(bad) / sizeof(bad[0]));
	}

	/* A new vCPU for the 60% domain does not fit on pCPU 0 any more. */
	rc = sim_add(&s, &av[1], &a, 1, 1, false, msg, sizeof(msg));
	printf("    domain 1: a second vcpu -> %d \"%s\"\n", rc, msg);
	CHECK(rc == -XEN_ENOSPC && a.nr_vcpus == 1, "second vcpu gave %d, %u vcpus", rc,
	      a.nr_vcpus);

	/* Moving domain 2's 35% to pCPU 1 (90% used) is refused, the pinning unchanged. */
	rc = sched_vcpu_set_affinity(&bv.sv, 2, s.now, msg, sizeof(msg));
	printf("    domain 2: pin to pCPU 1 -> %d \"%s\"\n", rc, msg);
	CHECK(rc == -XEN_ENOSPC && bv.sv.affinity == 1 && bv.sv.pcpu == 0,
	      "re-pin gave %d, affinity %#llx", rc, (unsigned long long)bv.sv.affinity);
	CHECK(sched_pcpu(0)->resv_sum == 95 && sched_pcpu(1)->resv_sum == 90, "sums %u %u",
	      sched_pcpu(0)->resv_sum, sched_pcpu(1)->resv_sum);

	/* What was admitted holds: run everything for 10 s. */
	sim_unpause(&s, &av[0]);
	sim_unpause(&s, &bv);
	for (unsigned int i = 0; i < 3; i++)
		sim_unpause(&s, &cv[i]);
	sim_run_until(&s, 10 * SEC);
	sim_sync(&s);
	printf("  the admitted reservations, all spinning, 10 s:\n");
	expect_share("domain 1 (60% on pCPU 0)", pct(av[0].ran_ns, s.now), 60.0, 0.5);
	expect_share("domain 2 (35% + the spare 5% on pCPU 0)", pct(bv.ran_ns, s.now), 40.0, 0.5);
	for (unsigned int i = 0; i < 3; i++)
		expect_share("domain 3 vcpu (30% + spare/3 on pCPU 1)", pct(cv[i].ran_ns, s.now),
		             100.0 / 3, 0.5);
}

/* ---- (5) an interactive vCPU with a reservation gets low latency ---- */

static void run_interactive(uint32_t resv, struct sim_vcpu *out, uint64_t *hogs_ns)
{
	struct sim s;
	struct sched_dom d[5];
	struct sim_vcpu v[5];
	struct sched_params p;
	char msg[200];

	memset(v, 0, sizeof(v));
	sim_init(&s, 1, 7);
	for (int i = 0; i < 5; i++) {
		sched_dom_init(&d[i], i + 1);
		p = (struct sched_params){i == 0 ? 256 : 2560, 0, i == 0 ? resv : 0};
		CHECK(sched_dom_set_params(&d[i], &p, 0, msg, sizeof(msg)) == 0, "%s", msg);
		v[i].kind = i == 0 ? SIM_BURSTY : SIM_SPIN;
		v[i].burst_min = 300000; /* 0.3 .. 0.7 ms of CPU, then 5 .. 10 ms asleep */
		v[i].burst_max = 700000;
		v[i].sleep_min = 5 * MS;
		v[i].sleep_max = 10 * MS;
		CHECK(sim_add(&s, &v[i], &d[i], 0, 1, true, msg, sizeof(msg)) == 0, "%s", msg);
	}
	sim_run_until(&s, 10 * SEC);
	sim_sync(&s);
	*out = v[0];
	*hogs_ns = 0;
	for (int i = 1; i < 5; i++)
		*hogs_ns += v[i].ran_ns;
}

static void test_latency(void)
{
	struct sim_vcpu with, without;
	uint64_t hogs;

	printf("  interactive vcpu (0.3-0.7 ms bursts, 5-10 ms sleeps) against 4 spinners of "
	       "10x weight, 10 s:\n");
	run_interactive(10, &with, &hogs);
	printf("    with reservation 10%%:    %5llu wake-ups, latency mean %7.1f us, max %7.1f "
	       "us\n",
	       (unsigned long long)with.lat_n, with.lat_sum / 1000.0 / with.lat_n,
	       with.lat_max / 1000.0);
	run_interactive(0, &without, &hogs);
	printf("    without a reservation: %5llu wake-ups, latency mean %7.1f us, max %7.1f us\n",
	       (unsigned long long)without.lat_n, without.lat_sum / 1000.0 / without.lat_n,
	       without.lat_max / 1000.0);
	CHECK(with.lat_n > 1000, "only %llu wake-ups", (unsigned long long)with.lat_n);
	CHECK(with.lat_max <= 1 * MS, "reserved max latency %llu ns",
	      (unsigned long long)with.lat_max);
	CHECK(with.lat_sum / with.lat_n <= 50000, "reserved mean latency %llu ns",
	      (unsigned long long)(with.lat_sum / with.lat_n));
	CHECK(with.lat_n > without.lat_n, "the reservation should let it wake more often");
	CHECK(without.lat_max > with.lat_max, "the test should need the reservation");
}

/* ---- (5b) a vCPU that slept cannot hoard credit ---- */

static void test_sleeper_bound(void)
{
	struct sim s;
	struct one d[2];
	uint64_t a0, b0;

	memset(d, 0, sizeof(d));
	sim_init(&s, 1, 11);
	printf("  domain 2 paused while domain 1 spins alone for 5 s, then both spin "
	       "(equal weights):\n");
	one_add(&s, &d[0], 1, 1, 256, 0, 0);
	one_add(&s, &d[1], 2, 1, 256, 0, 0);
	sim_pause(&s, &d[1].v);
	sim_run_until(&s, 5 * SEC);
	sim_sync(&s);
	a0 = d[0].v.ran_ns;
	b0 = d[1].v.ran_ns;
	sim_unpause(&s, &d[1].v);
	sim_run_until(&s, 5 * SEC + 100 * MS);
	sim_sync(&s);
	/* Without the bound it would run the whole 100 ms (it is 5 s behind in virtual time). */
	printf("    first 100 ms after the wake: woken %.1f ms, other %.1f ms (at most one slice "
	       "more than half)\n",
	       (d[1].v.ran_ns - b0) / 1e6, (d[0].v.ran_ns - a0) / 1e6);
	CHECK(d[1].v.ran_ns - b0 <= 50 * MS + SCHED_SLICE_NS, "the woken vcpu hoarded: %llu ns",
	      (unsigned long long)(d[1].v.ran_ns - b0));
	a0 = d[0].v.ran_ns;
	b0 = d[1].v.ran_ns;
	sim_run_until(&s, 15 * SEC + 100 * MS);
	sim_sync(&s);
	expect_share("woken domain, next 10 s", pct(d[1].v.ran_ns - b0, 10 * SEC), 50.0, 0.5);
	expect_share("other domain, next 10 s", pct(d[0].v.ran_ns - a0, 10 * SEC), 50.0, 0.5);
}

/* ---- (6) several pCPUs: balance, shares, work conservation ---- */

/*
 * n spinners, started pinned to pCPU 0 and unpinned after 1 s, so that only the periodic
 * balancing can spread them. Each should get nr_pcpus/n of a pCPU: when n is a multiple of
 * the pCPUs by balancing the counts, otherwise also by swapping the most served vCPU onto the
 * more crowded pCPU in turn (see sched_resv.c). No pCPU may idle.
 */
static void test_multi_shares(unsigned int nr_pcpus, int n)
{
	struct sim s;
	struct one d[8];
	uint64_t all = (1ull << nr_pcpus) - 1, start[8], total = 0;
	double want = 100.0 * nr_pcpus / n;
	char msg[200];

	memset(d, 0, sizeof(d));
	sim_init(&s, nr_pcpus, 8 + nr_pcpus);
	printf("  %d spinners started pinned to pCPU 0, unpinned after 1 s, %u pCPUs, "
	       "measured over the next 10 s:\n",
	       n, nr_pcpus);
	for (int i = 0; i < n; i++)
		one_add(&s, &d[i], i + 1, 1, 256, 0, 0);
	sim_run_until(&s, 1 * SEC);
	sim_sync(&s);
	for (int i = 0; i < n; i++) {
		start[i] = d[i].v.ran_ns;
		CHECK(sched_vcpu_set_affinity(&d[i].v.sv, all, s.now, msg, sizeof(msg)) == 0, "%s",
		      msg);
	}
	sim_run_until(&s, 11 * SEC);
	sim_sync(&s);
	for (int i = 0; i < n; i++) {
		double got = pct(d[i].v.ran_ns - start[i], 10 * SEC);
		char what[64];

		total += d[i].v.ran_ns - start[i];
		snprintf(what, sizeof(what), "spinner %d", i + 1);
		expect_share(what, got, want, 0.5);
	}
	/* After the unpinning, each idle pCPU pulls work at its next tick: <= 1 ms idle each. */
	expect_share("all together (no pCPU idles)", pct(total, 10 * SEC), 100.0 * nr_pcpus,
	             pct(nr_pcpus * s.tick_ns, 10 * SEC));
}

/* A spinner paused for 3 s may not claim the less crowded pCPU to catch up afterwards. */
static void test_shares_resume(void)
{
	struct sim s;
	struct one d[5];
	uint64_t start[5];

	memset(d, 0, sizeof(d));
	sim_init(&s, 2, 13);
	printf("  5 spinners on 2 pCPUs; spinner 5 paused from 1 s to 4 s; measured from 4 s "
	       "for 10 s:\n");
	for (int i = 0; i < 5; i++)
		one_add(&s, &d[i], i + 1, 3, 256, 0, 0);
	sim_run_until(&s, 1 * SEC);
	sim_pause(&s, &d[4].v);
	sim_run_until(&s, 4 * SEC);
	sim_unpause(&s, &d[4].v);
	sim_sync(&s);
	for (int i = 0; i < 5; i++)
		start[i] = d[i].v.ran_ns;
	sim_run_until(&s, 14 * SEC);
	sim_sync(&s);
	for (int i = 0; i < 5; i++) {
		char what[64];

		snprintf(what, sizeof(what), i == 4 ? "spinner %d (was paused)" : "spinner %d",
		         i + 1);
		expect_share(what, pct(d[i].v.ran_ns - start[i], 10 * SEC), 40.0, 0.5);
	}
}

static void test_shares_2x8(void)
{
	test_multi_shares(2, 8);
}

static void test_shares_4x8(void)
{
	test_multi_shares(4, 8);
}

static void test_shares_2x5(void)
{
	test_multi_shares(2, 5);
}

static void test_shares_4x7(void)
{
	test_multi_shares(4, 7);
}

static void test_work_conservation(void)
{
	struct sim s;
	struct sched_dom d[12];
	struct sim_vcpu v[12];
	struct sched_params p;
	uint64_t busy = 0;
	char msg[200];

	memset(v, 0, sizeof(v));
	sim_init(&s, 4, 42);
	printf("  4 pCPUs, 12 vcpus blocking and waking (0.1-4 ms bursts, 0.5-8 ms sleeps), "
	       "4 of them pinned, 10 s:\n");
	for (int i = 0; i < 12; i++) {
		sched_dom_init(&d[i], i + 1);
		p = (struct sched_params){256u << (i % 3), 0, 0};
		CHECK(sched_dom_set_params(&d[i], &p, 0, msg, sizeof(msg)) == 0, "%s", msg);
		v[i].kind = SIM_BURSTY;
		v[i].burst_min = 100000;
		v[i].burst_max = 4 * MS;
		v[i].sleep_min = 500000;
		v[i].sleep_max = 8 * MS;
		CHECK(sim_add(&s, &v[i], &d[i], 0, i < 4 ? 1ull << i : 0xf, true, msg,
		              sizeof(msg)) == 0,
		      "%s", msg);
	}
	sim_run_until(&s, 10 * SEC);
	sim_sync(&s);
	for (int i = 0; i < 12; i++)
		busy += v[i].ran_ns;
	printf("    machine busy %.2f%% of 4 pCPUs; %llu decisions\n", pct(busy, 4 * s.now),
	       (unsigned long long)s.nr_decisions);
	printf("    a pCPU idled while a vcpu it could run waited: %.3f ms in all, longest "
	       "%.3f ms\n",
	       s.wc_total / 1e6, s.wc_max / 1e6);
	CHECK(s.wc_max <= s.tick_ns, "idle while work waited for %llu ns (bound: one tick)",
	      (unsigned long long)s.wc_max);
	CHECK(s.wc_total <= s.now / 1000, "idle while work waited %llu ns in all",
	      (unsigned long long)s.wc_total);
}

/* ---- (7) runstate accounting sums to elapsed time exactly ---- */

static void test_runstate(void)
{
	struct sim s;
	struct sched_dom d[7];
	struct sim_vcpu v[7];
	struct sched_params p;
	struct sched_runstate_info info;
	char msg[200];
	static const char *names[] = {"running", "runnable", "blocked", "offline"};

	memset(v, 0, sizeof(v));
	sim_init(&s, 2, 77);
	s.now = 123457; /* not a tick boundary: nothing may assume time starts at 0 */
	for (int i = 0; i < 7; i++) {
		sched_dom_init(&d[i], i + 1);
		p = (struct sched_params){256, i == 1 ? 30 : 0, i == 2 ? 20 : 0};
		CHECK(sched_dom_set_params(&d[i], &p, s.now, msg, sizeof(msg)) == 0, "%s", msg);
		v[i].kind = i < 2 ? SIM_SPIN : SIM_BURSTY;
		v[i].burst_min = 50000;
		v[i].burst_max = 3 * MS;
		v[i].sleep_min = 10000;
		v[i].sleep_max = 6 * MS;
		CHECK(sim_add(&s, &v[i], &d[i], 0, i == 2 ? 1 : 3, i != 6, msg, sizeof(msg)) == 0,
		      "%s", msg);
		s.now += 777; /* staggered inserts */
	}
	sim_run_until(&s, 3 * SEC + 1);
	sim_pause(&s, &v[0]);
	sim_pause(&s, &v[3]);
	sim_unpause(&s, &v[6]);
	sim_run_until(&s, 4 * SEC + 3);
	sim_unpause(&s, &v[0]);
	sim_unpause(&s, &v[3]);
	sim_run_until(&s, 10 * SEC + 5);
	sim_sync(&s);

	printf("  2 pCPUs, 7 vcpus (spinning, capped, reserved, bursty, paused for 1 s), 10 s:\n");
	for (int i = 0; i < 7; i++) {
		uint64_t sum = 0, running;

		sched_vcpu_runstate(&v[i].sv, &info);
		for (int k = 0; k < SCHED_NR_RUNSTATES; k++)
			sum += info.time[k];
		sum += s.now - info.state_entry_time;
		running = info.time[SCHED_RUNNING] +
		          (info.state == SCHED_RUNNING ? s.now - info.state_entry_time : 0);
		CHECK(sum == s.now - v[i].insert_ns, "vcpu %d: states sum to %llu, elapsed %llu", i,
		      (unsigned long long)sum, (unsigned long long)(s.now - v[i].insert_ns));
		CHECK(running == v[i].ran_ns, "vcpu %d: runstate says %llu ns running, sim %llu", i,
		      (unsigned long long)running, (unsigned long long)v[i].ran_ns);
		if (verbose || i == 3) {
			printf("    vcpu of domain %d:", i + 1);
			for (int k = 0; k < SCHED_NR_RUNSTATES; k++)
				printf(" %s %.6f s", names[k], info.time[k] / 1e9);
			printf(" + %.6f s %s\n", (s.now - info.state_entry_time) / 1e9,
			       names[info.state]);
		}
	}
	printf("    every vcpu: states sum to elapsed time to the ns; running time equals the "
	       "simulator's\n");

	/* Blocks and is woken again before its pCPU switched away: it just keeps running. */
	{
		struct sim_vcpu *r = s.pcpu[0].curr;

		CHECK(r != NULL, "pCPU 0 idle");
		if (r) {
			sched_vcpu_sleep(&r->sv, SCHED_BLOCKED, s.now);
			CHECK(r->sv.state == SCHED_BLOCKED, "not blocked");
			sched_vcpu_wake(&r->sv, s.now + 10);
			CHECK(r->sv.state == SCHED_RUNNING && sched_pcpu(0)->curr == &r->sv,
			      "woken before the switch: state %d", r->sv.state);
			CHECK(sched_vcpu_remove(&r->sv) == -XEN_EBUSY, "removed a running vcpu");
			CHECK(r->sv.time[SCHED_BLOCKED] >= 10, "10 ns blocked not counted");
		}
	}
	printf("    capped 30%% spinner got %.3f%% (its cap is an upper bound; 7 vcpus share 2 "
	       "pCPUs)\n",
	       pct(v[1].ran_ns, s.now - v[1].insert_ns));
	CHECK(pct(v[1].ran_ns, s.now - v[1].insert_ns) <= 30.0 + 0.5, "cap exceeded");
}

/* ---- (8) 1000 create / destroy cycles leave nothing behind ---- */

struct simdom {
	struct sched_dom dom;
	unsigned int n;
	struct sim_vcpu v[4];
};

static void check_resv_sums(struct sim *s, struct simdom **live, unsigned int nr_live)
{
	unsigned int sums[SCHED_MAX_PCPUS] = {0};

	for (unsigned int i = 0; i < nr_live; i++)
		for (unsigned int k = 0; k < live[i]->n; k++) {
			struct sched_vcpu *sv = &live[i]->v[k].sv;

			sums[sv->migrate_to != SCHED_NO_PCPU ? sv->migrate_to : sv->pcpu] +=
			    sv->params.reservation;
		}
	for (unsigned int c = 0; c < s->nr_pcpus; c++)
		CHECK(sums[c] == sched_pcpu(c)->resv_sum && sums[c] <= SCHED_RESV_LIMIT_PCT,
		      "pCPU %u: vcpus reserve %u%%, the pCPU records %u%%", c, sums[c],
		      sched_pcpu(c)->resv_sum);
}

/* The run-queue invariants of sched_core.c, checked from outside. */
static void check_queues(struct sim *s, struct simdom **live, unsigned int nr_live)
{
	unsigned int queued[SCHED_MAX_PCPUS] = {0};

	for (unsigned int i = 0; i < nr_live; i++)
		for (unsigned int k = 0; k < live[i]->n; k++) {
			struct sched_vcpu *sv = &live[i]->v[k].sv;
			struct sched_pcpu *pc = sched_pcpu(sv->pcpu);
			bool linked = sched_queued(sv);

			queued[sv->pcpu] += linked;
			CHECK(sched_vcpu_allowed(sv, sv->pcpu) || sv->migrate_to != SCHED_NO_PCPU,
			      "vcpu outside its affinity and not moving");
			CHECK(sv->migrate_to == SCHED_NO_PCPU ||
			          sched_vcpu_allowed(sv, sv->migrate_to),
			      "vcpu moving outside its affinity");
			if (sv->state == SCHED_RUNNING)
				CHECK(pc->curr == sv && !linked,
				      "running vcpu not its pCPU's curr");
			else if (sv->state == SCHED_RUNNABLE)
				CHECK(linked != (sv->migrate_to != SCHED_NO_PCPU) && pc->curr != sv,
				      "runnable vcpu neither queued nor moving");
			else
				CHECK(!linked, "sleeping vcpu on a run queue");
		}
	for (unsigned int c = 0; c < s->nr_pcpus; c++)
		CHECK(queued[c] == sched_pcpu(c)->nr_queued, "pCPU %u counts %u queued, has %u", c,
		      sched_pcpu(c)->nr_queued, queued[c]);
}

static void destroy(struct sim *s, struct simdom *sd)
{
	for (unsigned int k = 0; k < sd->n; k++)
		sim_remove(s, &sd->v[k]);
	CHECK(sd->dom.nr_vcpus == 0 && list_empty(&sd->dom.vcpus), "domain not empty");
	memset(sd, 0x5a, sizeof(*sd)); /* stale use by the scheduler now fails loudly */
	free(sd);
}

static void test_churn(void)
{
	struct simdom *live[8];
	unsigned int nr_live = 0, refused = 0, created = 0, repins = 0, yields = 0;
	struct sim s;
	char msg[256];

	sim_init(&s, 4, churn_seed);
	for (int cycle = 0; cycle < 1000; cycle++) {
		struct simdom *sd = calloc(1, sizeof(*sd));
		struct sched_params p;
		int rc;

		ASSERT(sd);
		sched_dom_init(&sd->dom, (uint16_t)(cycle + 1));
		p.weight = (uint32_t)sim_rand(&s, 1, 4096);
		p.reservation = sim_rand(&s, 0, 1) ? (uint32_t)sim_rand(&s, 5, 40) : 0;
		p.cap =
		    sim_rand(&s, 0, 2) == 0 ? (uint32_t)sim_rand(&s, p.reservation + 1, 100) : 0;
		sd->n = (unsigned int)sim_rand(&s, 1, 4);
		for (unsigned int k = 0; k < sd->n; k++) {
			sd->v[k].kind = sim_rand(&s, 0, 1) ? SIM_SPIN : SIM_BURSTY;
			sd->v[k].burst_min = 10000;
			sd->v[k].burst_max = 2 * MS;
			sd->v[k].sleep_min = 10000;
			sd->v[k].sleep_max = 3 * MS;
			rc = sim_add(&s, &sd->v[k], &sd->dom, k, sim_rand(&s, 1, 15), false, msg,
			             sizeof(msg));
			CHECK(rc == 0, "insert: %s", msg);
		}
		rc = sched_dom_set_params(&sd->dom, &p, s.now, msg, sizeof(msg));
		CHECK(rc == 0 || rc == -XEN_ENOSPC, "set_params gave %d", rc);
		refused += rc != 0;
		for (unsigned int k = 0; k < sd->n; k++)
			sim_unpause(&s, &sd->v[k]);
		live[nr_live++] = sd;
		created++;
		check_resv_sums(&s, live, nr_live);

		sim_run_until(&s, s.now + sim_rand(&s, 0, 20 * MS));

		/* Change a running domain: params, pinning, or a yield. */
		{
			struct simdom *o = live[sim_rand(&s, 0, nr_live - 1)];
			struct sim_vcpu *v = &o->v[sim_rand(&s, 0, o->n - 1)];

			switch (sim_rand(&s, 0, 3)) {
			case 0:
				p.weight = (uint32_t)sim_rand(&s, 1, 4096);
				p.reservation = (uint32_t)sim_rand(&s, 0, 50);
				p.cap = sim_rand(&s, 0, 1)
				            ? (uint32_t)sim_rand(&s, p.reservation, 100)
				            : 0;
				rc = sched_dom_set_params(&o->dom, &p, s.now, msg, sizeof(msg));
				CHECK(rc == 0 || rc == -XEN_ENOSPC, "re-params gave %d", rc);
				refused += rc != 0;
				break;
			case 1:
				rc = sched_vcpu_set_affinity(&v->sv, sim_rand(&s, 0, 15), s.now,
				                             msg, sizeof(msg));
				CHECK(rc == 0 || rc == -XEN_ENOSPC || rc == -XEN_EINVAL,
				      "re-pin gave %d", rc);
				refused += rc != 0;
				repins += rc == 0;
				break;
			case 2:
				if (v->on_pcpu >= 0) {
					sched_vcpu_yield(&v->sv, s.now);
					yields++;
				}
				break;
			default:
				break;
			}
			check_queues(&s, live, nr_live);
			sim_run_until(&s, s.now + sim_rand(&s, 0, 2 * MS));
			check_queues(&s, live, nr_live);
			check_resv_sums(&s, live, nr_live);
		}

		if (nr_live == 8 || sim_rand(&s, 0, 1)) {
			unsigned int i = (unsigned int)sim_rand(&s, 0, nr_live - 1);

			destroy(&s, live[i]);
			live[i] = live[--nr_live];
			check_resv_sums(&s, live, nr_live);
		}
	}
	while (nr_live)
		destroy(&s, live[--nr_live]);
	sim_run_until(&s, s.now + 10 * MS);

	for (unsigned int c = 0; c < s.nr_pcpus; c++) {
		struct sched_pcpu *pc = sched_pcpu(c);

		CHECK(list_empty(&pc->runq) && pc->nr_queued == 0 && pc->curr == NULL &&
		          pc->resv_sum == 0,
		      "pCPU %u left with queue %u, curr %p, reserved %u%%", c, pc->nr_queued,
		      (void *)pc->curr, pc->resv_sum);
	}
	CHECK(s.nr_vcpus == 0, "%u vcpus left in the simulator", s.nr_vcpus);
	printf("  %u domains created and destroyed on 4 pCPUs, %u re-pinned, %u yields, %u "
	       "requests refused, %.3f s simulated;\n  every queue empty, no reservation left\n",
	       created, repins, yields, refused, s.now / 1e9);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
    {"weights 1:2:4 share one pCPU 1/7:2/7:4/7", test_weights},
    {"a cap of 20% holds with and without competition", test_cap},
    {"a reservation of 50% holds against 7 domains of 10x weight", test_reservation},
    {"an over-committed reservation is refused and changes nothing", test_admission},
    {"a reserved interactive vcpu gets low latency", test_latency},
    {"a vcpu that slept cannot hoard credit (sleeper bound)", test_sleeper_bound},
    {"2 pCPUs: 8 spinners balanced to equal shares", test_shares_2x8},
    {"4 pCPUs: 8 spinners balanced to equal shares", test_shares_4x8},
    {"2 pCPUs: 5 spinners share equally (the odd one rotates)", test_shares_2x5},
    {"4 pCPUs: 7 spinners share equally (the odd one rotates)", test_shares_4x7},
    {"2 pCPUs: a spinner back from a pause does not catch up", test_shares_resume},
    {"work conservation with blocking vcpus on 4 pCPUs", test_work_conservation},
    {"runstate accounting sums to elapsed time exactly", test_runstate},
    {"1000 create/destroy cycles leave no vcpu in any queue", test_churn},
};

int main(int argc, char **argv)
{
	int failed_tests = 0;

	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	if (getenv("SCHED_TEST_SEED"))
		churn_seed = strtoull(getenv("SCHED_TEST_SEED"), NULL, 0);
	setvbuf(stdout, NULL, _IONBF, 0);
	for (unsigned int i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failures;

		printf("test %u: %s\n", i + 1, tests[i].name);
		tests[i].fn();
		printf("%s %u - %s\n", failures == before ? "ok" : "not ok", i + 1, tests[i].name);
		failed_tests += failures != before;
	}
	printf("%d of %zu tests failed\n", failed_tests, sizeof(tests) / sizeof(tests[0]));
	return failed_tests ? 1 : 0;
}
