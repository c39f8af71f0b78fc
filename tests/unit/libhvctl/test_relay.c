/*
 * The control relay (libhvctl/relay.c, transport_sock.c): several processes' handles on one
 * machine's link. The machine is tests/unit/libhvctl/fake-machine (the real link and relay,
 * the fake agent) run as a child process; this test opens handles with hvctl_open_machine():
 *
 *  - many threads on two handles at once: every call gets its own answer (ids are renamed
 *    by the relay and restored on the way back);
 *  - images uploaded by two handles at the same moment, both starting their transfer ids
 *    at 1: both builds succeed (transfer ids are renamed too);
 *  - one handle turning its events off does not turn them off for another;
 *  - a client that writes garbage, or leaves in the middle of a request, is dropped alone;
 *  - when the machine goes, every handle hears LINK_DOWN at once, not after a timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hvctl-machine.h"
#include "hvctl.h"

static pid_t fm_pid;
static char dir[64];

static void cleanup(void)
{
	if (fm_pid > 0)
		kill(fm_pid, SIGKILL);
}

static void on_alarm(int sig)
{
	(void)sig;
	cleanup();
	_exit(1);
}

static void start_fake_machine(void)
{
	char ready[128];
	int i;

	fm_pid = fork();
	REQUIRE(fm_pid >= 0);
	if (fm_pid == 0) {
		execl("tests/unit/libhvctl/fake-machine", "fake-machine", dir, (char *)NULL);
		_exit(127);
	}
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	for (i = 0; i < 400 && access(ready, F_OK) != 0; i++)
		usleep(25000);
	REQUIRE(access(ready, F_OK) == 0);
}

static hvctl *open_ready(void)
{
	hvctl *h = NULL;

	REQUIRE(hvctl_open_machine(dir, &h) == HVCTL_OK);
	REQUIRE(hvctl_wait_ready(h, 5000) == HVCTL_OK);
	return h;
}

/* ---- many callers ---- */

struct worker {
	hvctl *h;
	int n, failures;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < w->n; i++) {
		hvctl_domain_create_args a = {.max_vcpus = 1 + (unsigned)(i % 3),
		                              .max_mem_kib = 1024 * (uint64_t)(i + 1),
		                              .current_mem_kib = 1024 * (uint64_t)(i + 1)};
		hvctl_domain_info info;
		uint32_t domid;

		if (hvctl_domain_create(w->h, &a, &domid) != HVCTL_OK ||
		    hvctl_domain_info_get(w->h, domid, &info) != HVCTL_OK || info.domid != domid ||
		    info.max_vcpus != a.max_vcpus || info.max_mem_kib != a.max_mem_kib ||
		    hvctl_domain_destroy(w->h, domid) != HVCTL_OK) {
			fprintf(stderr, "worker: %s\n", hvctl_last_error()->message);
			w->failures++;
		}
	}
	return NULL;
}

static void test_many_callers(hvctl *h1, hvctl *h2)
{
	struct worker w[6];
	pthread_t t[6];
	int i;

	for (i = 0; i < 6; i++) {
		w[i] = (struct worker){.h = i % 2 ? h2 : h1, .n = 40};
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(w[i].failures, 0);
	}
}

/* ---- images at the same moment ---- */

struct builder {
	hvctl *h;
	size_t len;
	int rc;
	char msg[256];
};

static void *builder_main(void *arg)
{
	struct builder *b = arg;
	hvctl_domain_create_args a = {
	    .max_vcpus = 1, .max_mem_kib = 65536, .current_mem_kib = 65536};
	hvctl_build_args ba = {0};
	uint8_t *img = malloc(b->len);
	uint32_t domid;
	size_t i;

	memcpy(img, "\177ELF", 4);
	for (i = 4; i < b->len; i++)
		img[i] = (uint8_t)(i * 7 + b->len);
	ba.kernel = img;
	ba.kernel_len = b->len;
	b->rc = hvctl_domain_create(b->h, &a, &domid);
	if (b->rc == HVCTL_OK)
		b->rc = hvctl_domain_build(b->h, domid, &ba);
	if (b->rc == HVCTL_OK)
		b->rc = hvctl_domain_destroy(b->h, domid);
	if (b->rc)
		snprintf(b->msg, sizeof(b->msg), "%s", hvctl_last_error()->message);
	free(img);
	return NULL;
}

static void test_parallel_images(hvctl *h1, hvctl *h2)
{
	struct builder b[2] = {{.h = h1, .len = 300000}, {.h = h2, .len = 500000}};
	pthread_t t[2];
	int round, i;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, builder_main, &b[i]);
		for (i = 0; i < 2; i++) {
			pthread_join(t[i], NULL);
			CHECK_EQ(b[i].rc, HVCTL_OK);
			if (b[i].rc)
				fprintf(stderr, "builder %d: %s\n", i, b[i].msg);
		}
	}
}

/* ---- events ---- */

static int events_seen;
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;

static void count_event(const hvctl_event *ev, void *opaque)
{
	(void)opaque;
	if (ev->kind == HVCTL_EVENT_DOMAIN_STATE) {
		pthread_mutex_lock(&ev_lock);
		events_seen++;
		pthread_mutex_unlock(&ev_lock);
	}
}

static void test_events(hvctl *h1, hvctl *h2)
{
	hvctl_domain_create_args a = {.max_vcpus = 1, .max_mem_kib = 1024, .current_mem_kib = 1024};
	uint32_t domid;
	int i, n = 0;

	CHECK_EQ(hvctl_subscribe(h1, count_event, NULL), HVCTL_OK);
	CHECK_EQ(hvctl_subscribe(h2, count_event, NULL), HVCTL_OK);
	CHECK_EQ(hvctl_unsubscribe(h2), HVCTL_OK); /* h2 only */
	CHECK_EQ(hvctl_domain_create(h2, &a, &domid), HVCTL_OK);
	for (i = 0; i < 200 && n == 0; i++) {
		usleep(10000);
		pthread_mutex_lock(&ev_lock);
		n = events_seen;
		pthread_mutex_unlock(&ev_lock);
	}
	CHECK(n >= 1); /* h1 still hears of the new domain */
	CHECK_EQ(hvctl_domain_destroy(h1, domid), HVCTL_OK);
	hvctl_unsubscribe(h1);
}

/* ---- misbehaving clients ---- */

static int raw_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/hvctl.sock", dir);
	REQUIRE(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	return fd;
}

static void test_bad_clients(hvctl *h1)
{
	static const char garbage[64] = "GET / HTTP/1.0\r\n\r\nthis is not a relay frame at all...";
	hvctl_physinfo p;
	char buf[4096];
	int fd, i;
	ssize_t n;

	/* Garbage: the relay hangs up on that client. */
	fd = raw_connect();
	CHECK(write(fd, garbage, sizeof(garbage)) == (ssize_t)sizeof(garbage));
	for (i = 0; i < 100; i++) {
		n = read(fd, buf, sizeof(buf)); /* limits and state first, then EOF */
		if (n <= 0)
			break;
	}
	CHECK(n == 0 || (n < 0 && errno == ECONNRESET));
	close(fd);

	/* A request, then gone before its answer; and a frame cut in half. */
	fd = raw_connect();
	{
		struct {
			uint32_t magic, len;
			uint16_t chan, what;
			int32_t code;
			uint32_t up, reserved;
			uint32_t mlen;
			uint16_t type, flags;
			uint32_t id;
			int32_t status;
			uint32_t iv, domid;
		} req = {0x594c5248u, 24, 1, 1, 0, 0, 0, 8, 2, 0, 77, 0, 1, 0};

		CHECK(write(fd, &req, sizeof(req)) == (ssize_t)sizeof(req));
		CHECK(write(fd, &req, 10) == 10);
	}
	close(fd);

	CHECK_EQ(hvctl_physinfo_get(h1, &p), HVCTL_OK);
	CHECK_EQ(p.nr_cpus, 4);
}

static void test_machine_goes(hvctl *h1, hvctl *h2)
{
	struct timespec t0, t1;
	int st, i, rc = HVCTL_OK;

	kill(fm_pid, SIGTERM);
	CHECK(waitpid(fm_pid, &st, 0) == fm_pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fm_pid = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200; i++) {
		rc = hvctl_physinfo_get(h1, &(hvctl_physinfo){0});
		if (rc == HVCTL_ERR_LINK_DOWN)
			break;
		usleep(10000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ(rc, HVCTL_ERR_LINK_DOWN);
	CHECK(strstr(hvctl_last_error()->message, "relay") != NULL);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	CHECK_EQ(hvctl_hello(h2, NULL), HVCTL_ERR_LINK_DOWN);
}

int main(void)
{
	hvctl *h1, *h2;

	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	alarm(90);
	atexit(cleanup);
	snprintf(dir, sizeof(dir), "/tmp/test-relay.XXXXXX");
	REQUIRE(mkdtemp(dir));
	start_fake_machine();
	h1 = open_ready();
	h2 = open_ready();

	test_many_callers(h1, h2);
	test_parallel_images(h1, h2);
	test_events(h1, h2);
	test_bad_clients(h1);
	test_machine_goes(h1, h2);

	hvctl_close(h1);
	hvctl_close(h2);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	CHECK_DONE();
}
