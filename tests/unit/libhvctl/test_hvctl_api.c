/*
 * libhvctl's API against a loopback transport and a fake agent (no machine): encodings of
 * every call, error codes and messages, timeouts (silent and slow agent, late responses),
 * link down while calls wait, version mismatch, malformed responses, events (with a callback
 * that itself calls the library), and several threads calling at once.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fake_agent.h"
#include "hvctl.h"
#include "loopback.h"

static struct fake_agent agent;

/* Sets one of the agent's knobs while its thread may be running. */
#define KNOB(field, value)                                                                         \
	do {                                                                                       \
		pthread_mutex_lock(&agent.lock);                                                   \
		agent.field = (value);                                                             \
		pthread_mutex_unlock(&agent.lock);                                                 \
	} while (0)

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int has(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", haystack, needle);
		return 0;
	}
	return 1;
}

static hvctl *open_loopback(struct hvctl_transport **tp, uint32_t max_payload)
{
	struct hvctl_transport *t = loopback_new(&agent, max_payload);
	hvctl *h;

	REQUIRE(hvctl_open_transport(t, &h) == HVCTL_OK);
	REQUIRE(hvctl_wait_ready(h, 2000) == HVCTL_OK);
	if (tp)
		*tp = t;
	return h;
}

static uint32_t create(hvctl *h, unsigned vcpus, unsigned reservation)
{
	hvctl_domain_create_args a = {.max_vcpus = vcpus,
	                              .max_mem_kib = 262144,
	                              .current_mem_kib = 131072,
	                              .reservation = reservation};
	uint32_t id = 0;

	a.uuid[0] = 0xab;
	REQUIRE(hvctl_domain_create(h, &a, &id) == HVCTL_OK);
	return id;
}

static void test_lifecycle(void)
{
	static uint8_t kernel[3 << 20];
	hvctl_domain_info info, list[16];
	hvctl_build_args b = {.kernel = kernel, .kernel_len = sizeof(kernel), .cmdline = "quiet"};
	hvctl_version v;
	hvctl_physinfo pi;
	unsigned count, i;
	char longline[1100];
	unsigned long before;
	uint32_t d, ids[6];
	hvctl *h;

	fake_agent_init(&agent, 2);
	/* A small payload limit makes the image go in many pieces. */
	h = open_loopback(NULL, 4096);

	CHECK_EQ(hvctl_hello(h, &v), HVCTL_OK);
	CHECK(strcmp(v.hv_version, "fake-agent 0.1") == 0);
	CHECK_EQ(v.link_major, HVLINK_VERSION_MAJOR);
	CHECK_EQ(hvctl_physinfo_get(h, &pi), HVCTL_OK);
	CHECK_EQ(pi.nr_cpus, 2);
	CHECK_EQ(pi.reservation_free_pct, 200);

	d = create(h, 2, 10);
	CHECK_EQ(d, 1);
	CHECK_EQ(hvctl_domain_info_get(h, d, &info), HVCTL_OK);
	CHECK_EQ(info.domid, d);
	CHECK_EQ(info.state, HVCTL_DOMAIN_CREATED);
	CHECK_EQ(info.max_vcpus, 2);
	CHECK_EQ(info.max_mem_kib, 262144);
	CHECK_EQ(info.current_mem_kib, 131072);
	CHECK_EQ(info.uuid[0], 0xab);

	/* Build: the image is streamed and checked by CRC at the far end. */
	for (i = 0; i < sizeof(kernel); i++)
		kernel[i] = (uint8_t)(i * 2654435761u >> 13);
	memcpy(kernel, "\177ELF", 4);
	CHECK_EQ(hvctl_domain_build(h, d, &b), HVCTL_OK);
	CHECK_EQ(agent.last_kernel_len, sizeof(kernel));
	CHECK_EQ(agent.last_kernel_crc, fake_crc32(kernel, sizeof(kernel)));
	CHECK_EQ(agent.last_kernel_summed, 1); /* a 1.1 agent: checked by the 64-bit sums */
	CHECK(strcmp(agent.doms[0].cmdline, "quiet") == 0);
	/* An odd length (the sums' padded last word), then a 1.0 agent, which gets the CRC-32. */
	b.kernel_len = sizeof(kernel) - 5;
	CHECK_EQ(hvctl_domain_build(h, d, &b), HVCTL_OK);
	CHECK_EQ(agent.last_kernel_summed, 1);
	CHECK_EQ(agent.last_kernel_len, sizeof(kernel) - 5);
	CHECK_EQ(agent.last_kernel_crc, fake_crc32(kernel, sizeof(kernel) - 5));
	KNOB(agent_minor, 0);
	CHECK_EQ(hvctl_domain_build(h, d, &b), HVCTL_OK);
	CHECK_EQ(agent.last_kernel_summed, 0);
	CHECK_EQ(agent.last_kernel_crc, fake_crc32(kernel, sizeof(kernel) - 5));
	KNOB(agent_minor, HVLINK_VERSION_MINOR);
	b.kernel_len = sizeof(kernel);
	/* Not an ELF: refused by the far end with its reason. */
	kernel[0] = 0;
	CHECK_EQ(hvctl_domain_build(h, d, &b), HVCTL_ERR_INVALID);
	CHECK(
	    has(hvctl_last_error()->message, "cannot build domain 1: kernel image is not an ELF"));
	kernel[0] = 0x7f;
	/* A command line too long never crosses the link. */
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	b.cmdline = longline;
	before = agent.requests;
	CHECK_EQ(hvctl_domain_build(h, d, &b), HVCTL_ERR_INVALID);
	CHECK(has(hvctl_last_error()->message, "command line of 1099 bytes (at most 1023)"));
	CHECK_EQ(agent.requests, before);

	CHECK_EQ(hvctl_domain_unpause(h, d), HVCTL_OK);
	CHECK_EQ(hvctl_domain_info_get(h, d, &info), HVCTL_OK);
	CHECK_EQ(info.state, HVCTL_DOMAIN_RUNNING);
	CHECK_EQ(hvctl_domain_pause(h, d), HVCTL_OK);
	CHECK_EQ(hvctl_domain_info_get(h, d, &info), HVCTL_OK);
	CHECK_EQ(info.state, HVCTL_DOMAIN_PAUSED);
	CHECK_EQ(hvctl_domain_shutdown(h, d, HVCTL_SHUTDOWN_REBOOT), HVCTL_OK);
	CHECK_EQ(hvctl_domain_info_get(h, d, &info), HVCTL_OK);
	CHECK_EQ(info.state, HVCTL_DOMAIN_SHUTDOWN);
	CHECK_EQ(info.shutdown_reason, HVCTL_SHUTDOWN_REBOOT);

	/* Memory and vcpus. */
	CHECK_EQ(hvctl_domain_set_current_mem(h, d, 200000), HVCTL_OK);
	CHECK_EQ(hvctl_domain_set_current_mem(h, d, 300000), HVCTL_ERR_INVALID);
	CHECK(has(hvctl_last_error()->message,
	          "cannot set the memory of domain 1: 300000 KiB is above the maximum 262144 KiB"));
	CHECK_EQ(hvctl_last_error()->remote_errno, HVLINK_EINVAL);
	CHECK_EQ(hvctl_domain_set_max_mem(h, d, 524288), HVCTL_OK);
	CHECK_EQ(hvctl_domain_set_mem_guarantee(h, d, 65536), HVCTL_OK);
	CHECK_EQ(hvctl_domain_set_vcpus(h, d, 1), HVCTL_OK);
	CHECK_EQ(hvctl_domain_info_get(h, d, &info), HVCTL_OK);
	CHECK_EQ(info.max_mem_kib, 524288);
	CHECK_EQ(info.current_mem_kib, 200000);
	CHECK_EQ(info.guarantee_kib, 65536);
	CHECK_EQ(info.nr_vcpus, 1);
	CHECK_EQ(hvctl_domain_set_vcpus(h, d, 0), HVCTL_ERR_INVALID);

	/* Listing pages through responses of two entries each (a second handle on the same
	 * agent whose transport carries no more than that). */
	for (i = 0; i < 6; i++)
		ids[i] = create(h, 1, 0);
	CHECK_EQ(hvctl_domain_destroy(h, ids[2]), HVCTL_OK);
	hvctl_close(h);
	h = open_loopback(NULL, 8 + 2 * sizeof(struct hvlink_ctl_dominfo));
	CHECK_EQ(hvctl_domain_list(h, 0, list, 16, &count), HVCTL_OK);
	CHECK_EQ(count, 6);
	CHECK_EQ(list[0].domid, d);
	CHECK_EQ(list[3].domid, ids[3]);
	CHECK_EQ(list[5].domid, ids[5]);
	CHECK_EQ(hvctl_domain_list(h, ids[4], list, 16, &count), HVCTL_OK);
	CHECK_EQ(count, 2);
	CHECK_EQ(hvctl_domain_list(h, 0, list, 3, &count), HVCTL_OK);
	CHECK_EQ(count, 3);

	/* No such domain: code, errno, and a message naming the operation and the domain. */
	CHECK_EQ(hvctl_domain_info_get(h, ids[2], &info), HVCTL_ERR_NO_DOMAIN);
	CHECK_EQ(hvctl_last_error()->code, HVCTL_ERR_NO_DOMAIN);
	CHECK_EQ(hvctl_last_error()->remote_errno, HVLINK_ESRCH);
	CHECK(has(hvctl_last_error()->message, "cannot get information on domain 4: no domain 4"));
	CHECK_EQ(hvctl_domain_destroy(h, 999), HVCTL_ERR_NO_DOMAIN);
	CHECK(has(hvctl_last_error()->message, "cannot destroy domain 999"));
	hvctl_close(h);
	fake_agent_destroy(&agent);
}

static void test_sched_bandwidth_console(void)
{
	hvctl_sched_params sp = {.weight = 512, .cap = 80, .reservation = 50}, got;
	hvctl_bandwidth bw = {
	    .kind = HVCTL_BW_NET_IN, .average = 1000, .peak = 2000, .burst = 64, .floor = 100};
	unsigned long before;
	char buf[64];
	size_t n;
	uint32_t a, b;
	hvctl *h;

	fake_agent_init(&agent, 1);
	h = open_loopback(NULL, 65536);
	a = create(h, 1, 0);
	b = create(h, 1, 0);

	CHECK_EQ(hvctl_sched_set(h, a, &sp), HVCTL_OK);
	CHECK_EQ(hvctl_sched_get(h, a, &got), HVCTL_OK);
	CHECK_EQ(got.weight, 512);
	CHECK_EQ(got.cap, 80);
	CHECK_EQ(got.reservation, 50);
	/* Admission: 50% + 60% does not fit on one CPU; the machine says why. */
	sp.reservation = 60;
	sp.cap = 0;
	CHECK_EQ(hvctl_sched_set(h, b, &sp), HVCTL_ERR_NO_RESOURCES);
	CHECK(has(hvctl_last_error()->message,
	          "reservation of 60% x 1 vcpus does not fit (50% left)"));
	CHECK_EQ(hvctl_sched_get(h, b, &got), HVCTL_OK);
	CHECK_EQ(got.reservation, 0);
	/* Checked here, never sent: weight 0, reservation above 100%, cap below reservation. */
	before = agent.requests;
	sp.weight = 0;
	CHECK_EQ(hvctl_sched_set(h, b, &sp), HVCTL_ERR_INVALID);
	CHECK(has(hvctl_last_error()->message, "weight 0 out of range"));
	sp.weight = 1;
	sp.reservation = 101;
	CHECK_EQ(hvctl_sched_set(h, b, &sp), HVCTL_ERR_INVALID);
	sp.reservation = 50;
	sp.cap = 20;
	CHECK_EQ(hvctl_sched_set(h, b, &sp), HVCTL_ERR_INVALID);
	CHECK(has(hvctl_last_error()->message, "cap 20% is below the reservation 50%"));
	CHECK_EQ(agent.requests, before);

	CHECK_EQ(hvctl_bandwidth_set(h, a, &bw), HVCTL_OK);
	memset(&bw, 0, sizeof(bw));
	bw.kind = HVCTL_BW_NET_IN;
	CHECK_EQ(hvctl_bandwidth_get(h, a, &bw), HVCTL_OK);
	CHECK_EQ(bw.average, 1000);
	CHECK_EQ(bw.peak, 2000);
	CHECK_EQ(bw.burst, 64);
	CHECK_EQ(bw.floor, 100);
	bw.kind = HVCTL_BW_BLOCK;
	CHECK_EQ(hvctl_bandwidth_set(h, a, &bw), HVCTL_ERR_INVALID); /* floor is net-in only */
	bw.floor = 0;
	bw.index = 3;
	CHECK_EQ(hvctl_bandwidth_set(h, a, &bw), HVCTL_ERR_INVALID);
	CHECK_EQ(hvctl_last_error()->remote_errno, HVLINK_ENOENT);
	CHECK(has(hvctl_last_error()->message, "has no such device"));

	CHECK_EQ(hvctl_console_write(h, a, "echo hi\n", 8, &n), HVCTL_OK);
	CHECK_EQ(n, 8);
	CHECK_EQ(hvctl_console_read(h, a, buf, 5, &n), HVCTL_OK);
	CHECK_EQ(n, 5);
	CHECK(memcmp(buf, "echo ", 5) == 0);
	CHECK_EQ(hvctl_console_read(h, a, buf, sizeof(buf), &n), HVCTL_OK);
	CHECK_EQ(n, 3);
	CHECK(memcmp(buf, "hi\n", 3) == 0);
	CHECK_EQ(hvctl_console_read(h, a, buf, sizeof(buf), &n), HVCTL_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(hvctl_console_read(h, 77, buf, sizeof(buf), &n), HVCTL_ERR_NO_DOMAIN);
	hvctl_close(h);
	fake_agent_destroy(&agent);
}

struct waiter {
	hvctl *h;
	int rc;
	int64_t ms;
	char msg[256];
};

static void *pause_in_thread(void *arg)
{
	struct waiter *w = arg;
	int64_t t0 = ms_now();

	w->rc = hvctl_domain_pause(w->h, 1);
	w->ms = ms_now() - t0;
	snprintf(w->msg, sizeof(w->msg), "%s", hvctl_last_error()->message);
	return NULL;
}

static void test_timeouts_and_link(void)
{
	struct hvctl_transport *t;
	hvctl_domain_info info;
	struct waiter w;
	pthread_t th;
	int64_t t0, ms;
	hvctl *h;

	fake_agent_init(&agent, 2);
	h = open_loopback(&t, 65536);
	create(h, 1, 0);
	hvctl_set_timeout(h, 200);

	/* A silent agent: the call ends at its timeout with a clear error. */
	KNOB(hang_op, HVLINK_CTL_DOMAIN_PAUSE);
	t0 = ms_now();
	CHECK_EQ(hvctl_domain_pause(h, 1), HVCTL_ERR_TIMEOUT);
	ms = ms_now() - t0;
	CHECK(ms >= 190 && ms < 2000);
	CHECK(has(hvctl_last_error()->message,
	          "cannot pause domain 1: no response from the machine within 200 ms"));
	KNOB(hang_op, 0);
	CHECK_EQ(hvctl_domain_pause(h, 1), HVCTL_OK);

	/* A slow agent: the late response is dropped, and does not answer a later call. */
	KNOB(delay_ms, 400);
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_ERR_TIMEOUT);
	KNOB(delay_ms, 0);
	hvctl_set_timeout(h, 2000);
	CHECK_EQ(hvctl_domain_unpause(h, 1), HVCTL_ERR_INVALID); /* not built: its own answer */
	CHECK(has(hvctl_last_error()->message, "has not been built"));
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_OK);
	CHECK_EQ(info.domid, 1);

	/* The machine's message reaches people as one line of printable text. */
	KNOB(ugly_errors, 1);
	CHECK_EQ(hvctl_domain_info_get(h, 42, &info), HVCTL_ERR_NO_DOMAIN);
	CHECK(has(hvctl_last_error()->message, "domain 42: ?[2Jugly?message?"));
	KNOB(ugly_errors, 0);

	/* A malformed (short) response is a protocol error, not garbage in the result. */
	KNOB(short_reply_op, HVLINK_CTL_DOMAIN_INFO);
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_ERR_PROTOCOL);
	CHECK(has(hvctl_last_error()->message, "answered with 71 bytes where 72 were expected"));
	KNOB(short_reply_op, 0);

	/* The link goes down while a call waits: the call ends at once, with the reason. */
	hvctl_set_timeout(h, 10000);
	KNOB(hang_op, HVLINK_CTL_DOMAIN_PAUSE);
	w.h = h;
	pthread_create(&th, NULL, pause_in_thread, &w);
	usleep(100000);
	loopback_set_state(t, 0, HVCTL_ERR_LINK_DOWN, "the machine disconnected");
	pthread_join(th, NULL);
	CHECK_EQ(w.rc, HVCTL_ERR_LINK_DOWN);
	CHECK(w.ms < 2000);
	CHECK(has(w.msg, "cannot pause domain 1: the machine disconnected"));
	/* While down, calls fail at once; when it is back, they work. */
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_ERR_LINK_DOWN);
	KNOB(hang_op, 0);
	loopback_set_state(t, 1, 0, NULL);
	CHECK_EQ(hvctl_wait_ready(h, 2000), HVCTL_OK);
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_OK);

	/* Close while a call waits: it ends with HVCTL_ERR_CLOSED. */
	KNOB(hang_op, HVLINK_CTL_DOMAIN_PAUSE);
	pthread_create(&th, NULL, pause_in_thread, &w);
	usleep(100000);
	hvctl_close(h);
	pthread_join(th, NULL);
	CHECK_EQ(w.rc, HVCTL_ERR_CLOSED);
	fake_agent_destroy(&agent);

	/* An agent of another major version is refused by wait_ready. */
	fake_agent_init(&agent, 2);
	KNOB(agent_major, HVLINK_VERSION_MAJOR + 1);
	KNOB(agent_minor, 0);
	t = loopback_new(&agent, 65536);
	REQUIRE(hvctl_open_transport(t, &h) == HVCTL_OK);
	CHECK_EQ(hvctl_wait_ready(h, 2000), HVCTL_ERR_VERSION);
	CHECK(has(hvctl_last_error()->message, "speaks link protocol 2.0"));
	hvctl_close(h);
	fake_agent_destroy(&agent);
}

/* Events: delivered on the library's event thread; the callback may call the library. */
struct events {
	pthread_mutex_t lock;
	hvctl *h;
	int n, seen_running, seen_down, nested_ok;
	char down_msg[256];
};

static void on_event(const hvctl_event *ev, void *opaque)
{
	struct events *e = opaque;
	hvctl_domain_info info;
	int nested = 0;

	if (ev->kind == HVCTL_EVENT_DOMAIN_STATE && ev->state == HVCTL_DOMAIN_RUNNING)
		nested = hvctl_domain_info_get(e->h, ev->domid, &info) == HVCTL_OK &&
		         info.state == HVCTL_DOMAIN_RUNNING;
	pthread_mutex_lock(&e->lock);
	e->n++;
	if (ev->kind == HVCTL_EVENT_DOMAIN_STATE && ev->state == HVCTL_DOMAIN_RUNNING) {
		e->seen_running = (int)ev->domid;
		e->nested_ok = nested;
	}
	if (ev->kind == HVCTL_EVENT_LINK_DOWN) {
		e->seen_down = ev->error;
		snprintf(e->down_msg, sizeof(e->down_msg), "%s", ev->message);
	}
	pthread_mutex_unlock(&e->lock);
}

static void test_events(void)
{
	struct events e = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct hvctl_transport *t;
	hvctl_build_args b = {.kernel = "\177ELF....", .kernel_len = 8};
	uint32_t d;
	int i, done = 0;

	fake_agent_init(&agent, 2);
	e.h = open_loopback(&t, 65536);
	CHECK_EQ(hvctl_subscribe(e.h, on_event, &e), HVCTL_OK);
	CHECK_EQ(agent.subscribed, 1);
	d = create(e.h, 1, 0);
	CHECK_EQ(hvctl_domain_build(e.h, d, &b), HVCTL_OK);
	CHECK_EQ(hvctl_domain_unpause(e.h, d), HVCTL_OK);
	for (i = 0; i < 200 && !done; i++) {
		usleep(10000);
		pthread_mutex_lock(&e.lock);
		done = e.seen_running;
		pthread_mutex_unlock(&e.lock);
	}
	done = 0;
	loopback_set_state(t, 0, HVCTL_ERR_LINK_FAULT, "management link fault (test)");
	for (i = 0; i < 200 && !done; i++) {
		usleep(10000);
		pthread_mutex_lock(&e.lock);
		done = e.seen_running && e.seen_down;
		pthread_mutex_unlock(&e.lock);
	}
	CHECK_EQ(e.seen_running, (int)d);
	CHECK(e.nested_ok);
	CHECK_EQ(e.seen_down, HVCTL_ERR_LINK_FAULT);
	CHECK(has(e.down_msg, "management link fault (test)"));
	CHECK(e.n >= 3); /* created, running, link down */
	loopback_set_state(t, 1, 0, NULL);
	CHECK_EQ(hvctl_wait_ready(e.h, 2000), HVCTL_OK);
	CHECK_EQ(hvctl_unsubscribe(e.h), HVCTL_OK);
	CHECK_EQ(agent.subscribed, 0);
	hvctl_close(e.h);
	fake_agent_destroy(&agent);
}

/* Several threads at once, each on its own domain, each checking its own results. */
#define THREADS 8
#define CALLS   400

struct worker {
	hvctl *h;
	uint32_t domid;
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < CALLS; i++) {
		hvctl_sched_params sp = {.weight = 1 + (w->domid * 1000 + (unsigned)i) % 65535},
		                   got;
		hvctl_domain_info info;
		char text[16], back[16];
		size_t n;

		if (hvctl_sched_set(w->h, w->domid, &sp) != HVCTL_OK ||
		    hvctl_sched_get(w->h, w->domid, &got) != HVCTL_OK || got.weight != sp.weight)
			w->errors++;
		if (hvctl_domain_info_get(w->h, w->domid, &info) != HVCTL_OK ||
		    info.domid != w->domid)
			w->errors++;
		snprintf(text, sizeof(text), "%u:%d;", w->domid, i % 10);
		if (hvctl_console_write(w->h, w->domid, text, strlen(text), &n) != HVCTL_OK ||
		    hvctl_console_read(w->h, w->domid, back, sizeof(back), &n) != HVCTL_OK ||
		    n != strlen(text) || memcmp(back, text, n) != 0)
			w->errors++;
		/* A call that fails must leave its own message, not another thread's. */
		if (hvctl_domain_set_vcpus(w->h, w->domid, 99) != HVCTL_ERR_INVALID ||
		    !strstr(hvctl_last_error()->message, "99 vcpus is above the maximum"))
			w->errors++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct worker w[THREADS];
	pthread_t th[THREADS];
	int i, errors = 0;
	hvctl *h;

	fake_agent_init(&agent, 64);
	h = open_loopback(NULL, 65536);
	for (i = 0; i < THREADS; i++) {
		w[i].h = h;
		w[i].domid = create(h, 1, 0);
		w[i].errors = 0;
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += w[i].errors;
	}
	CHECK_EQ(errors, 0);
	printf("threads: %d x %d call groups, %lu requests answered\n", THREADS, CALLS,
	       agent.requests);
	hvctl_close(h);
	fake_agent_destroy(&agent);
}

int main(void)
{
	alarm(120);
	CHECK(strcmp(hvctl_strerror(HVCTL_ERR_TIMEOUT), "timed out waiting for the machine") == 0);
	test_lifecycle();
	test_sched_bandwidth_console();
	test_timeouts_and_link();
	test_events();
	test_threads();
	CHECK_DONE();
}
