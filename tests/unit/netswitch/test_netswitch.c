/*
 * Host unit tests of dom0's switch (guest-kernel/dom0/switch.c), compiled as is against libc:
 * learning and flooding, ageing, filtering, bounded queues, token buckets (average, peak,
 * burst) in both directions and floors under contention, all on a simulated clock. Outputs are
 * callbacks that count what each port sent; frames are malloc'ed and every one is accounted
 * for at the end of each case (none leaked, none freed twice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switch.h"

#include <public/errno.h>

static int failures;
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: %s: ", __func__, __LINE__, #cond);                     \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- the harness: frame memory and outputs ---- */

static long live_frames;
static int alloc_limit = -1; /* allocations left before alloc fails; -1 = never */
static uint64_t sent_frames[SW_MAX_PORTS], sent_bytes[SW_MAX_PORTS];
static int busy_port = -1; /* this port's output answers BUSY */
static int capacity = -1;  /* frames the outputs take per service call; -1 = any number */
static int drop_port = -1; /* this port's output answers DROP */

static struct sw_frame *t_alloc(void *arg)
{
	(void)arg;
	if (alloc_limit == 0)
		return NULL;
	if (alloc_limit > 0)
		alloc_limit--;
	live_frames++;
	return calloc(1, sizeof(struct sw_frame));
}

static void t_free(void *arg, struct sw_frame *f)
{
	(void)arg;
	live_frames--;
	free(f);
}

static int t_output(void *arg, int port, struct sw_frame *f)
{
	(void)arg;
	if (port == busy_port || capacity == 0)
		return SW_OUT_BUSY;
	if (capacity > 0)
		capacity--;
	if (port == drop_port)
		return SW_OUT_DROP;
	sent_frames[port]++;
	sent_bytes[port] += f->len;
	t_free(NULL, f);
	return SW_OUT_TAKEN;
}

static const struct sw_ops ops = {.alloc = t_alloc, .free = t_free, .output = t_output};
static struct netswitch sw;

static void reset(uint64_t link_kbps)
{
	memset(sent_frames, 0, sizeof(sent_frames));
	memset(sent_bytes, 0, sizeof(sent_bytes));
	busy_port = drop_port = -1;
	alloc_limit = -1;
	capacity = -1;
	sw_init(&sw, &ops, NULL, link_kbps, 0);
}

static void mac_of(uint8_t mac[6], int n)
{
	uint8_t m[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, (uint8_t)n};

	memcpy(mac, m, 6);
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* A frame of len bytes from MAC src (host n) to dst, entering on port in. */
static void send(int in, const uint8_t dst[6], int src, unsigned int len, uint64_t now)
{
	struct sw_frame *f = t_alloc(NULL);

	if (!f) {
		printf("FAIL: no memory for a test frame\n");
		failures++;
		return;
	}
	memcpy(f->data, dst, 6);
	mac_of(f->data + 6, src);
	f->data[12] = 0x08;
	f->len = len;
	sw_input(&sw, in, f, now);
}

static void send_to(int in, int dst, int src, unsigned int len, uint64_t now)
{
	uint8_t m[6];

	mac_of(m, dst);
	send(in, m, src, len, now);
}

static long queued_frames(void)
{
	long n = 0;

	for (int i = 0; i < SW_MAX_PORTS; i++)
		n += sw.ports[i].queued;
	return n;
}

static void check_accounting(const char *what)
{
	CHECK(live_frames == queued_frames(), "%s: %ld frames alive, %ld queued", what, live_frames,
	      queued_frames());
}

static void remove_all(void)
{
	for (int i = 0; i < SW_MAX_PORTS; i++)
		if (sw.ports[i].kind != SW_PORT_NONE)
			sw_port_remove(&sw, i);
	CHECK(live_frames == 0, "%ld frames leaked", live_frames);
}

/* ---- cases ---- */

static void test_ports(void)
{
	int a, b;

	reset(0);
	a = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	b = sw_port_add(&sw, SW_PORT_TAP, 1, 0, 0);
	CHECK(a >= 0 && b >= 0 && a != b, "ports %d %d", a, b);
	CHECK(sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0) == -XEN_EEXIST, "duplicate VIF accepted");
	CHECK(sw_port_add(&sw, SW_PORT_NONE, 1, 1, 0) == -XEN_EINVAL, "kind none accepted");
	CHECK(sw_port_find(&sw, SW_PORT_TAP, 1, 0) == b, "find TAP");
	CHECK(sw_port_find(&sw, SW_PORT_TAP, 2, 0) == -1, "find missing");
	for (int i = 2; i < SW_MAX_PORTS; i++)
		CHECK(sw_port_add(&sw, SW_PORT_VIF, 7, (uint16_t)i, 0) >= 0, "port %d", i);
	CHECK(sw_port_add(&sw, SW_PORT_VIF, 8, 0, 0) == -XEN_ENOSPC, "65th port accepted");
	sw_port_remove(&sw, a);
	CHECK(sw_port_add(&sw, SW_PORT_VIF, 8, 0, 0) == a, "freed slot not reused");
	sw_port_remove(&sw, -1);
	sw_port_remove(&sw, 999);
	remove_all();
}

static void test_learning_and_flooding(void)
{
	int a, b, c;

	reset(0);
	a = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	b = sw_port_add(&sw, SW_PORT_VIF, 2, 0, 0);
	c = sw_port_add(&sw, SW_PORT_TAP, 1, 0, 0);

	/* unknown destination: flooded to every port but the input */
	send_to(a, 2, 1, 100, 10);
	sw_service(&sw, 10);
	CHECK(sent_frames[a] == 0 && sent_frames[b] == 1 && sent_frames[c] == 1,
	      "unknown unicast: %lu %lu %lu", (unsigned long)sent_frames[a],
	      (unsigned long)sent_frames[b], (unsigned long)sent_frames[c]);
	CHECK(sw_fdb_lookup(&sw, (uint8_t[]){0x00, 0x16, 0x3e, 0, 0, 1}, 10) == a,
	      "source not learnt");

	/* the answer goes to the learnt port only, and teaches b's MAC */
	send_to(b, 1, 2, 200, 20);
	sw_service(&sw, 20);
	CHECK(sent_frames[a] == 1 && sent_bytes[a] == 200 && sent_frames[c] == 1,
	      "known unicast leaked: a %lu c %lu", (unsigned long)sent_frames[a],
	      (unsigned long)sent_frames[c]);
	send_to(a, 2, 1, 60, 30);
	sw_service(&sw, 30);
	CHECK(sent_frames[b] == 2 && sent_frames[c] == 1, "second unicast flooded");

	/* broadcast and multicast: everyone else */
	send(c, bcast, 9, 42, 40);
	sw_service(&sw, 40);
	CHECK(sent_frames[a] == 2 && sent_frames[b] == 3 && sent_frames[c] == 1, "broadcast");
	uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	send(a, mcast, 1, 42, 50);
	sw_service(&sw, 50);
	CHECK(sent_frames[b] == 4 && sent_frames[c] == 2, "multicast");

	/* a host that moves to another port is learnt there */
	send_to(c, 9, 1, 60, 60); /* MAC 1 now speaks from the TAP */
	sw_service(&sw, 60);
	CHECK(sw_fdb_lookup(&sw, (uint8_t[]){0x00, 0x16, 0x3e, 0, 0, 1}, 60) == c, "move");

	/* destination on the input port: filtered (the frame of the move above was the first:
	 * MAC 9 was learnt on the TAP from its broadcast) */
	uint64_t before = sent_frames[a] + sent_frames[b] + sent_frames[c];
	send_to(c, 1, 9, 60, 70);
	sw_service(&sw, 70);
	CHECK(sent_frames[a] + sent_frames[b] + sent_frames[c] == before && sw.filtered == 2,
	      "frame to its own port was sent (filtered %lu)", (unsigned long)sw.filtered);

	/* a group source MAC is never learnt */
	struct sw_frame *f = t_alloc(NULL);
	if (!f)
		return;
	memset(f->data, 0xff, 12);
	f->len = 60;
	sw_input(&sw, a, f, 80);
	sw_service(&sw, 80);
	CHECK(sw_fdb_lookup(&sw, bcast, 80) == -1, "broadcast source learnt");

	/* removing a port forgets what was learnt on it */
	sw_port_remove(&sw, b);
	CHECK(sw_fdb_lookup(&sw, (uint8_t[]){0x00, 0x16, 0x3e, 0, 0, 2}, 90) == -1,
	      "removed port still in the table");
	check_accounting("learning");
	remove_all();
}

static void test_ageing(void)
{
	int a, b, c;
	uint8_t m1[6];

	reset(0);
	mac_of(m1, 1);
	a = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	b = sw_port_add(&sw, SW_PORT_VIF, 2, 0, 0);
	c = sw_port_add(&sw, SW_PORT_TAP, 1, 0, 0);
	send_to(a, 5, 1, 60, 1000);
	sw_service(&sw, 1000);
	CHECK(sw_fdb_lookup(&sw, m1, 1000 + SW_AGEING_NS - 1) == a, "aged too early");
	CHECK(sw_fdb_lookup(&sw, m1, 1000 + SW_AGEING_NS) == -1, "never aged");
	memset(sent_frames, 0, sizeof(sent_frames));
	send_to(b, 1, 2, 60, 1000 + SW_AGEING_NS);
	sw_service(&sw, 1000 + SW_AGEING_NS);
	CHECK(sent_frames[a] == 1 && sent_frames[c] == 1, "aged destination not flooded");
	/* traffic from the MAC keeps its entry alive */
	send_to(a, 2, 1, 60, 2000 + SW_AGEING_NS);
	CHECK(sw_fdb_lookup(&sw, m1, 1000 + 2 * SW_AGEING_NS) == a, "refresh lost");
	sw_service(&sw, 3000 + SW_AGEING_NS);

	/* a full set: more MACs than ways land somewhere without harm, the newest is known */
	for (int n = 0; n < 1000; n++)
		send_to(c, 1, 100 + n, 60, 5000 + SW_AGEING_NS + (uint64_t)n);
	sw_service(&sw, 7000 + SW_AGEING_NS);
	uint8_t last[6];
	mac_of(last, 100 + 999);
	CHECK(sw_fdb_lookup(&sw, last, 7000 + SW_AGEING_NS) == c, "newest MAC not learnt");
	check_accounting("ageing");
	remove_all();
}

static void test_bad_frames_and_queues(void)
{
	int a, b, c;

	reset(0);
	a = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	b = sw_port_add(&sw, SW_PORT_VIF, 2, 0, 0);
	c = sw_port_add(&sw, SW_PORT_TAP, 2, 0, 0);
	send_to(a, 2, 1, 13, 1);
	send_to(a, 2, 1, SW_FRAME_MAX + 1, 1);
	sw_service(&sw, 1);
	CHECK(sw.ports[a].dropped_bad == 2 && sent_frames[b] == 0, "bad sizes forwarded");
	send_to(a, 2, 1, SW_FRAME_MIN, 1);
	send_to(a, 2, 1, SW_FRAME_MAX, 1);
	sw_service(&sw, 1);
	CHECK(sent_frames[b] == 2, "edge sizes dropped");
	/* a frame into a port that does not exist is freed */
	send_to(40, 2, 1, 100, 1);
	check_accounting("bad");

	/* b answers BUSY (no receive buffers): its queue fills, then frames are dropped */
	send_to(b, 1, 2, 60, 2); /* learn 2 on b */
	sw_service(&sw, 2);
	busy_port = b;
	for (int n = 0; n < SW_QUEUE_FRAMES + 36; n++)
		send_to(a, 2, 1, 100, 3);
	sw_service(&sw, 3);
	CHECK(sw.ports[b].queued == SW_QUEUE_FRAMES && sw.ports[b].dropped_queue == 36,
	      "queue %u dropped %lu", sw.ports[b].queued, (unsigned long)sw.ports[b].dropped_queue);
	check_accounting("busy");
	/* buffers posted: everything queued goes, in order */
	busy_port = -1;
	sw_service(&sw, 4);
	CHECK(sw.ports[b].queued == 0 && sent_frames[b] == 2 + SW_QUEUE_FRAMES, "drain: %lu",
	      (unsigned long)sent_frames[b]);
	/* an output that refuses frames gets them counted, not queued */
	drop_port = b;
	send_to(a, 2, 1, 100, 5);
	sw_service(&sw, 5);
	CHECK(sw.ports[b].dropped_output == 1 && sw.ports[b].queued == 0, "output drop");
	/* no memory for flood copies: counted, no crash */
	drop_port = -1;
	alloc_limit = 1; /* the frame itself, no copy */
	send(a, bcast, 1, 60, 6);
	sw_service(&sw, 6);
	CHECK(sw.alloc_failed == 1, "alloc failure not counted");
	(void)c;
	check_accounting("queues");
	remove_all();
}

/* Floods frames from `from` to the VIF whose MAC is `to_mac`, keeping its queue full, for
 * `ns` of simulated time in steps of `step`; returns the bytes the VIF received. */
static void flood(int nports, const int *from, const int *to_mac, uint64_t *t, uint64_t ns,
                  uint64_t step, unsigned int len)
{
	for (uint64_t end = *t + ns; *t < end; *t += step) {
		for (int k = 0; k < nports; k++)
			for (int n = 0; n < 8; n++)
				send_to(from[k], to_mac[k], 200 + k, len, *t);
		sw_service(&sw, *t);
	}
}

static void test_inbound_limits(void)
{
	int v, tap;
	uint64_t t = 0;
	struct sw_limits l = {.average = 1000, .burst = 0}, got;

	reset(0);
	v = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	tap = sw_port_add(&sw, SW_PORT_TAP, 1, 0, 0);
	CHECK(sw_limits_set(&sw, v, true, &l, 0) == 0, "set");
	CHECK(sw_limits_get(&sw, v, true, &got) == 0 && got.average == 1000, "get");
	CHECK(sw_limits_set(&sw, tap, true, &l, 0) == -XEN_EINVAL, "limits on a TAP");
	send_to(v, 9, 1, 60, 0); /* learn the VIF's MAC */
	sw_service(&sw, 0);
	memset(sent_bytes, 0, sizeof(sent_bytes));
	int from[] = {tap}, to[] = {1};
	flood(1, from, to, &t, 10ULL * 1000000000ULL, 100000, 1000);
	double rate = (double)sent_bytes[v] / 1024 / 10; /* KiB/s */
	CHECK(rate > 1000 * 0.99 && rate < 1000 * 1.05, "average 1000 KiB/s: got %.1f", rate);
	CHECK(sw.ports[v].dropped_queue > 0, "a flood beyond the limit dropped nothing");
	check_accounting("inbound");

	/* burst then average; peak bounds the burst's speed */
	l = (struct sw_limits){.average = 100, .peak = 1000, .burst = 500};
	sw_limits_set(&sw, v, true, &l, t);
	while (sw.ports[v].head) { /* empty the queue of the previous flood */
		struct sw_frame *f = sw.ports[v].head;

		sw.ports[v].head = f->next;
		t_free(NULL, f);
	}
	sw.ports[v].tail = NULL;
	sw.ports[v].queued = 0;
	memset(sent_bytes, 0, sizeof(sent_bytes));
	flood(1, from, to, &t, 250000000ULL, 100000, 1000); /* 0.25 s: at most peak */
	double first = (double)sent_bytes[v] / 1024;
	CHECK(first > 1000 * 0.25 * 0.9 && first <= 1000 * 0.25 * 1.05 + 10,
	      "peak 1000 KiB/s for 0.25 s: %.1f KiB", first);
	memset(sent_bytes, 0, sizeof(sent_bytes));
	flood(1, from, to, &t, 10ULL * 1000000000ULL, 100000, 1000);
	rate = (double)sent_bytes[v] / 1024 / 10;
	CHECK(rate < 100 * 1.05 + 500.0 / 10 && rate > 100 * 0.95, "after the burst: %.1f KiB/s",
	      rate);
	CHECK(sw_next_deadline(&sw, t) > t, "a queue waits on tokens without a deadline");
	remove_all();
}

/* A slow clock-step (2 ms) must not lose precision: ticks refill fractional bytes. */
static void test_outbound_limits(void)
{
	int v;
	struct sw_limits l = {.average = 10240}; /* 10 MiB/s */
	uint64_t sent = 0, t = 0;

	reset(0);
	v = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	CHECK(sw_out_admit(&sw, v, 1514, 0), "unlimited refused");
	CHECK(sw_limits_set(&sw, v, false, &(struct sw_limits){.floor = 5}, 0) == -XEN_EINVAL,
	      "floor on outbound accepted");
	CHECK(sw_limits_set(&sw, v, false, &(struct sw_limits){.average = 1ULL << 40}, 0) ==
	          -XEN_EINVAL,
	      "absurd rate accepted");
	CHECK(sw_limits_set(&sw, v, false, &l, 0) == 0, "set");
	for (; t < 5ULL * 1000000000ULL; t += 1000) { /* every microsecond */
		while (sw_out_admit(&sw, v, 1514, t))
			sent += 1514;
	}
	double rate = (double)sent / 1024 / 5;
	CHECK(rate > 10240 * 0.99 && rate < 10240 * 1.02, "outbound 10 MiB/s: %.1f KiB/s", rate);
	uint64_t w = sw_out_wait(&sw, v, 1514, t);
	CHECK(w > 0 && w < 200000, "wait %lu ns", (unsigned long)w);
	CHECK(sw_out_admit(&sw, v, 1514, t + w), "not admitted after the wait");
	remove_all();
}

static void test_floors(void)
{
	int a, b, c, tap;
	uint64_t t = 0;

	reset(10000); /* a 10000 KiB/s link */
	a = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	b = sw_port_add(&sw, SW_PORT_VIF, 2, 0, 0);
	c = sw_port_add(&sw, SW_PORT_VIF, 3, 0, 0);
	tap = sw_port_add(&sw, SW_PORT_TAP, 1, 0, 0);
	CHECK(sw_limits_set(&sw, a, true, &(struct sw_limits){.floor = 3000}, 0) == 0, "floor a");
	CHECK(sw_limits_set(&sw, b, true, &(struct sw_limits){.floor = 6000}, 0) == 0, "floor b");
	CHECK(sw_limits_set(&sw, c, true, &(struct sw_limits){.floor = 1001}, 0) == -XEN_ENOSPC,
	      "floors beyond the link accepted");
	CHECK(sw_limits_set(&sw, b, true, &(struct sw_limits){.floor = 7000}, 0) == 0,
	      "raising b to the link's rest refused");
	CHECK(sw_limits_set(&sw, b, true, &(struct sw_limits){.floor = 6000}, 0) == 0, "b back");
	for (int k = 1; k <= 3; k++) {
		send_to(k == 1 ? a : k == 2 ? b : c, 9, k, 60, 0);
	}
	sw_service(&sw, 0);

	/* a and b flood: each gets at least its floor, the link is full */
	int from2[] = {tap, tap}, to2[] = {1, 2};
	memset(sent_bytes, 0, sizeof(sent_bytes));
	flood(2, from2, to2, &t, 10ULL * 1000000000ULL, 200000, 1500);
	double ra = (double)sent_bytes[a] / 1024 / 10, rb = (double)sent_bytes[b] / 1024 / 10;
	CHECK(ra >= 3000 * 0.98 && rb >= 6000 * 0.98, "floors 3000/6000: a %.0f b %.0f", ra, rb);
	CHECK(ra + rb > 10000 * 0.95 && ra + rb < 10000 * 1.03, "link 10000: %.0f", ra + rb);

	/* three flood, c has no floor: a and b keep theirs, c gets some of the rest */
	int from3[] = {tap, tap, tap}, to3[] = {1, 2, 3};
	memset(sent_bytes, 0, sizeof(sent_bytes));
	flood(3, from3, to3, &t, 10ULL * 1000000000ULL, 200000, 1500);
	ra = (double)sent_bytes[a] / 1024 / 10, rb = (double)sent_bytes[b] / 1024 / 10;
	double rc = (double)sent_bytes[c] / 1024 / 10;
	CHECK(ra >= 3000 * 0.98 && rb >= 6000 * 0.98 && rc > 100,
	      "with a third: a %.0f b %.0f c %.0f", ra, rb, rc);
	CHECK(ra + rb + rc < 10000 * 1.03, "link exceeded: %.0f", ra + rb + rc);

	/* alone, a VIF with a small floor may use the whole link */
	int from1[] = {tap}, to1[] = {1};
	memset(sent_bytes, 0, sizeof(sent_bytes));
	flood(1, from1, to1, &t, 5ULL * 1000000000ULL, 200000, 1500);
	ra = (double)sent_bytes[a] / 1024 / 5;
	CHECK(ra > 10000 * 0.95, "alone on the link: %.0f", ra);
	check_accounting("floors");
	remove_all();
}

/* Without floors the link is shared fairly in bytes, whatever the frame sizes; a VIF that
 * starts late gets no credit for the time it was idle. */
static void test_fair_share(void)
{
	int a, b, tap;
	uint64_t t = 0;

	reset(1000);
	a = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	b = sw_port_add(&sw, SW_PORT_VIF, 2, 0, 0);
	tap = sw_port_add(&sw, SW_PORT_TAP, 1, 0, 0);
	send_to(a, 9, 1, 60, 0);
	send_to(b, 9, 2, 60, 0);
	sw_service(&sw, 0);

	/* a alone for 2 s: it may use the whole link */
	memset(sent_bytes, 0, sizeof(sent_bytes));
	for (uint64_t end = t + 2000000000ULL; t < end; t += 200000) {
		for (int n = 0; n < 4; n++)
			send_to(tap, 1, 100, 1500, t);
		sw_service(&sw, t);
	}
	CHECK(sent_bytes[a] > 1000 * 1024 * 2 * 0.95, "alone: %lu", (unsigned long)sent_bytes[a]);

	/* then both, a with 1500-byte frames, b with 500-byte ones: about half each */
	memset(sent_bytes, 0, sizeof(sent_bytes));
	for (uint64_t end = t + 10000000000ULL; t < end; t += 200000) {
		for (int n = 0; n < 4; n++)
			send_to(tap, 1, 100, 1500, t);
		for (int n = 0; n < 12; n++)
			send_to(tap, 2, 100, 500, t);
		sw_service(&sw, t);
	}
	double ra = (double)sent_bytes[a] / 1024 / 10, rb = (double)sent_bytes[b] / 1024 / 10;
	CHECK(ra > 450 && ra < 550 && rb > 450 && rb < 550, "byte-fair: a %.0f b %.0f KiB/s", ra,
	      rb);
	check_accounting("fair");
	remove_all();
}

/* When dom0 cannot even move the link's rate (the outputs take only so much), the floors are
 * still shares: what there is goes in proportion to them. */
static void test_floors_short_capacity(void)
{
	int a, b, tap;
	uint64_t t = 0;

	reset(10000);
	a = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	b = sw_port_add(&sw, SW_PORT_VIF, 2, 0, 0);
	tap = sw_port_add(&sw, SW_PORT_TAP, 1, 0, 0);
	sw_limits_set(&sw, a, true, &(struct sw_limits){.floor = 3000}, 0);
	sw_limits_set(&sw, b, true, &(struct sw_limits){.floor = 6000}, 0);
	send_to(a, 9, 1, 60, 0);
	send_to(b, 9, 2, 60, 0);
	sw_service(&sw, 0);
	memset(sent_bytes, 0, sizeof(sent_bytes));
	for (uint64_t end = t + 10000000000ULL; t < end; t += 1000000) {
		for (int n = 0; n < 4; n++) {
			send_to(tap, 1, 100, 1500, t);
			send_to(tap, 2, 100, 1500, t);
		}
		capacity = 2; /* 3000 bytes a millisecond: under a third of the link */
		sw_service(&sw, t);
	}
	capacity = -1;
	double ra = (double)sent_bytes[a] / 1024 / 10, rb = (double)sent_bytes[b] / 1024 / 10;
	CHECK(rb > 1.7 * ra && rb < 2.3 * ra && ra + rb > 2800,
	      "floors 3000/6000 on ~2930 KiB/s: a %.0f b %.0f", ra, rb);
	check_accounting("short capacity");
	remove_all();
}

/* Frames to the host share one channel: when it takes only so much, every TAP gets its turn. */
static void test_taps_share_the_channel(void)
{
	int a, b, ta, tb;
	uint64_t t = 0;

	reset(0);
	a = sw_port_add(&sw, SW_PORT_VIF, 1, 0, 0);
	b = sw_port_add(&sw, SW_PORT_VIF, 2, 0, 0);
	ta = sw_port_add(&sw, SW_PORT_TAP, 1, 0, 0);
	tb = sw_port_add(&sw, SW_PORT_TAP, 2, 0, 0);
	send_to(ta, 9, 50, 60, 0); /* the host's MACs, learnt on their TAPs */
	send_to(tb, 9, 51, 60, 0);
	sw_service(&sw, 0);
	memset(sent_frames, 0, sizeof(sent_frames));
	for (int step = 0; step < 1000; step++, t += 1000000) {
		for (int n = 0; n < 4; n++) {
			send_to(a, 50, 1, 1000, t);
			send_to(b, 51, 2, 1000, t);
		}
		capacity = 3;
		sw_service(&sw, t);
	}
	capacity = -1;
	CHECK(sent_frames[ta] + sent_frames[tb] == 3000 && sent_frames[ta] >= 1450 &&
	          sent_frames[tb] >= 1450,
	      "TAP shares: %lu %lu", (unsigned long)sent_frames[ta],
	      (unsigned long)sent_frames[tb]);
	check_accounting("taps");
	remove_all();
}

int main(void)
{
	test_ports();
	test_learning_and_flooding();
	test_ageing();
	test_bad_frames_and_queues();
	test_inbound_limits();
	test_outbound_limits();
	test_floors();
	test_fair_share();
	test_floors_short_capacity();
	test_taps_share_the_channel();
	if (failures) {
		printf("netswitch: %d failures\n", failures);
		return 1;
	}
	printf("netswitch: all cases passed\n");
	return 0;
}
