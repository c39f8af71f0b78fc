/*
 * libhvctl over the real management link, on the host alone: hvctl_open_link runs the ivshmem
 * server; a "machine" thread connects as QEMU would (ivshmem_client.c), maps the memory,
 * checks the header, attaches as dom0's agent does, and answers through the fake agent over
 * the shared rings with eventfd doorbells. Then the machine misbehaves: garbage indices
 * (the host reports a link fault naming the ring and stays down until a new machine), a wrong
 * version, a refusal, a disconnect; and a new machine brings the link back.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fake_agent.h"
#include "guest.h"
#include "hvctl.h"
#include "ivshmem_client.h"
#include "layout.h"
#include "ring.h"

static char sock_path[108];
static struct fake_agent agent;

enum machine_mode { MACHINE_GOOD, MACHINE_WRONG_MAJOR, MACHINE_REFUSE };

struct machine {
	enum machine_mode mode;
	struct ivs_client c;
	struct hvlink_guest g; /* the machine's side, as dom0's agent holds it */
	pthread_t thread;
	int stop_fd;
	int connect_rc, attach_fault;
	int reuse_connection; /* a new agent on the same machine (dom0 rebooted) */
	uint8_t *buf;
	unsigned long msgs_in, doorbells_in; /* messages read, host doorbells received */
};

static int doorbell_wait(struct machine *m, int timeout_ms)
{
	struct pollfd p[IVS_CLIENT_MAX_VECTORS + 1];
	unsigned v, n = 0;
	int rc;

	p[n++] = (struct pollfd){.fd = m->stop_fd, .events = POLLIN};
	for (v = 0; v < m->c.nown; v++)
		p[n++] = (struct pollfd){.fd = m->c.own_efd[v], .events = POLLIN};
	rc = poll(p, n, timeout_ms);
	if (rc <= 0)
		return 0;
	if (p[0].revents)
		return -1;
	for (v = 0; v < m->c.nown; v++) {
		uint64_t count;

		if ((p[1 + v].revents & POLLIN) &&
		    read(m->c.own_efd[v], &count, sizeof(count)) == sizeof(count))
			m->doorbells_in += count;
	}
	return 1;
}

/* The agent's answers go on the tx ring of the channel they belong to. */
static void machine_reply(void *ctx, uint16_t chan, const struct hvlink_msg *hdr,
                          const void *payload)
{
	struct machine *m = ctx;
	struct hvlink_guest_chan *ch = hvlink_guest_chan(&m->g, chan);
	int rc;

	if (!ch)
		return;
	while ((rc = hvlink_ring_write(&ch->tx, hdr, payload)) == -HVLINK_EAGAIN) {
		if (hvlink_ring_publish(&ch->tx) == 1)
			ivs_client_ring(&m->c, ch->vector);
		if (hvlink_ring_want_space(&ch->tx, hdr->len) == 0 && doorbell_wait(m, 5000) < 0)
			return;
	}
	if (rc == 0 && hvlink_ring_publish(&ch->tx) == 1)
		ivs_client_ring(&m->c, ch->vector);
}

static void *machine_main(void *arg)
{
	struct machine *m = arg;
	struct hvlink_header *shared;
	unsigned i;
	int busy;

	if (!m->reuse_connection) {
		m->connect_rc = ivs_client_connect(&m->c, sock_path, 2, 5000);
		if (m->connect_rc)
			return NULL;
	}
	shared = m->c.shm;
	REQUIRE(hvlink_guest_host_ready(shared));
	if (m->mode == MACHINE_REFUSE) {
		/* An agent that does not like what it sees writes REFUSED and rings. */
		m->g.shared = shared;
		hvlink_guest_stop(&m->g, HVLINK_STATE_REFUSED, HVLINK_FAULT_VERSION);
		ivs_client_ring(&m->c, 0);
		return NULL;
	}
	m->attach_fault = hvlink_guest_attach(&m->g, shared, m->c.shm_size, (uint32_t)m->c.id);
	if (m->mode == MACHINE_WRONG_MAJOR) /* as an agent of a later major would write it */
		shared->guest_version_major = HVLINK_VERSION_MAJOR + 1;
	ivs_client_ring(&m->c, 0);
	if (m->attach_fault)
		return NULL;
	m->buf = malloc(m->c.shm_size);

	for (;;) {
		busy = 0;
		for (i = 0; i < m->g.nr_chans; i++) {
			struct hvlink_guest_chan *ch = &m->g.chans[i];
			struct hvlink_msg msg;
			int rc;

			while ((rc = hvlink_ring_peek(&ch->rx, &msg)) == 1) {
				hvlink_ring_copy_payload(&ch->rx, 0, m->buf, msg.len);
				if (hvlink_ring_consume(&ch->rx) == 1)
					ivs_client_ring(&m->c, ch->vector);
				m->msgs_in++;
				fake_agent_handle(&agent, ch->type, &msg, m->buf, machine_reply, m);
			}
			if (rc == 0 && hvlink_ring_prepare_wait(&ch->rx) == 1)
				busy = 1;
		}
		if (!busy && doorbell_wait(m, -1) < 0)
			break;
	}
	return NULL;
}

static void machine_start(struct machine *m, enum machine_mode mode)
{
	memset(m, 0, sizeof(*m));
	m->mode = mode;
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	pthread_create(&m->thread, NULL, machine_main, m);
}

/* A new agent on the same machine (same connection), as after dom0 rebooted. */
static void machine_restart(struct machine *m)
{
	struct ivs_client c = m->c;

	memset(m, 0, sizeof(*m));
	m->c = c;
	m->reuse_connection = 1;
	m->mode = MACHINE_GOOD;
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	pthread_create(&m->thread, NULL, machine_main, m);
}

/* Stops the machine's thread; disconnect (QEMU exits) if asked. */
static void machine_stop(struct machine *m, int disconnect)
{
	uint64_t one = 1;

	if (write(m->stop_fd, &one, sizeof(one)) < 0)
		perror("stop");
	pthread_join(m->thread, NULL);
	if (disconnect)
		ivs_client_close(&m->c);
	close(m->stop_fd);
	free(m->buf);
	m->buf = NULL;
}

/* After a disconnect: waits until the library has seen it (wait_ready reports on the
 * current machine, so a test must not start the next one before). */
static void wait_disconnected(hvctl *h)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (hvctl_hello(h, NULL) == HVCTL_ERR_LINK_DOWN &&
		    strstr(hvctl_last_error()->message, "disconnected"))
			return;
		usleep(10000);
	}
	fprintf(stderr, "disconnect not noticed: %s\n", hvctl_last_error()->message);
	check_failures++;
}

static int has(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", haystack, needle);
		return 0;
	}
	return 1;
}

struct seen {
	pthread_mutex_t lock;
	int running, down_code;
	char down_msg[256];
};

static void on_event(const hvctl_event *ev, void *opaque)
{
	struct seen *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (ev->kind == HVCTL_EVENT_DOMAIN_STATE && ev->state == HVCTL_DOMAIN_RUNNING)
		s->running = (int)ev->domid;
	if (ev->kind == HVCTL_EVENT_LINK_DOWN) {
		s->down_code = ev->error;
		snprintf(s->down_msg, sizeof(s->down_msg), "%s", ev->message);
	}
	pthread_mutex_unlock(&s->lock);
}

struct worker {
	hvctl *h;
	uint32_t domid;
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < 300; i++) {
		hvctl_sched_params sp = {.weight = 1 + (unsigned)i + w->domid * 7}, got;

		if (hvctl_sched_set(w->h, w->domid, &sp) != HVCTL_OK ||
		    hvctl_sched_get(w->h, w->domid, &got) != HVCTL_OK || got.weight != sp.weight)
			w->errors++;
	}
	return NULL;
}

static void test_good_machine(hvctl *h, struct machine *m, struct seen *seen)
{
	static uint8_t kernel[600000];
	hvctl_build_args b = {.kernel = kernel, .kernel_len = sizeof(kernel), .cmdline = "a=b"};
	hvctl_domain_create_args ca = {.max_vcpus = 1, .max_mem_kib = 65536};
	hvctl_domain_info info;
	struct worker w[4];
	pthread_t th[4];
	char buf[32];
	uint32_t d;
	size_t n;
	unsigned i;
	int i2;

	CHECK_EQ(hvctl_wait_ready(h, 5000), HVCTL_OK);
	CHECK_EQ(m->connect_rc, 0);
	CHECK_EQ(m->attach_fault, HVLINK_FAULT_NONE);
	CHECK_EQ(m->g.hdr.host_peer_id, 0);
	CHECK_EQ(m->g.shared->guest_peer_id, m->c.id);
	CHECK_EQ(hvlink_guest_host_state(&m->g), HVLINK_STATE_READY);
	CHECK(m->c.id != 0);
	CHECK_EQ(hvctl_subscribe(h, on_event, seen), HVCTL_OK);

	REQUIRE(hvctl_domain_create(h, &ca, &d) == HVCTL_OK);
	for (i = 0; i < sizeof(kernel); i++)
		kernel[i] = (uint8_t)(i * 7 + (i >> 9));
	memcpy(kernel, "\177ELF", 4);
	/* 600 kB through a 256 KiB bulk ring: the host waits for space, the machine rings. */
	CHECK_EQ(hvctl_domain_build(h, d, &b), HVCTL_OK);
	CHECK_EQ(agent.last_kernel_len, sizeof(kernel));
	CHECK_EQ(agent.last_kernel_crc, fake_crc32(kernel, sizeof(kernel)));
	CHECK_EQ(hvctl_domain_unpause(h, d), HVCTL_OK);
	CHECK_EQ(hvctl_domain_info_get(h, d, &info), HVCTL_OK);
	CHECK_EQ(info.state, HVCTL_DOMAIN_RUNNING);
	CHECK_EQ(hvctl_console_write(h, d, "ls\n", 3, &n), HVCTL_OK);
	CHECK_EQ(hvctl_console_read(h, d, buf, sizeof(buf), &n), HVCTL_OK);
	CHECK_EQ(n, 3);
	/* Backing devices is the holder's business: a handle on the bare link says so. */
	CHECK_EQ(hvctl_disk_attach(h, d, 51712, "/dev/null", 1, NULL), HVCTL_ERR_UNSUPPORTED);
	CHECK(strstr(hvctl_last_error()->message, "hvctl_open_machine") != NULL);

	for (i2 = 0; i2 < 4; i2++) {
		w[i2].h = h;
		REQUIRE(hvctl_domain_create(h, &ca, &w[i2].domid) == HVCTL_OK);
		w[i2].errors = 0;
		pthread_create(&th[i2], NULL, work, &w[i2]);
	}
	for (i2 = 0; i2 < 4; i2++) {
		pthread_join(th[i2], NULL);
		CHECK_EQ(w[i2].errors, 0);
	}
	for (i = 0; i < 100; i++) {
		pthread_mutex_lock(&seen->lock);
		n = seen->running;
		pthread_mutex_unlock(&seen->lock);
		if (n)
			break;
		usleep(10000);
	}
	CHECK_EQ(n, d);
	/* Doorbells are rung only when the machine asked: never more than messages sent. */
	printf("machine: %lu messages in, %lu doorbells from the host\n", m->msgs_in,
	       m->doorbells_in);
	CHECK(m->doorbells_in <= m->msgs_in);
	CHECK(m->msgs_in > 2400);
}

int main(void)
{
	char dir[] = "/tmp/hvctl-link-XXXXXX";
	hvctl_link_config cfg = {.shm_size = 1 << 20, .vectors = 2};
	struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct hvlink_header *shared;
	hvctl_domain_info info;
	struct machine m;
	struct stat st;
	uint32_t gen;
	hvctl *h;
	int i, rc;

	alarm(120);
	REQUIRE(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/link.sock", dir);
	cfg.socket_path = sock_path;
	fake_agent_init(&agent, 4);

	/* Bad configurations are refused with a message. */
	cfg.shm_size = 3 << 20;
	CHECK_EQ(hvctl_open_link(&cfg, &h), HVCTL_ERR_SYSTEM);
	CHECK(has(hvctl_last_error()->message, "power of two"));
	cfg.shm_size = 1 << 20;

	REQUIRE(hvctl_open_link(&cfg, &h) == HVCTL_OK);
	/* No machine yet: calls fail at once, saying so. */
	CHECK_EQ(hvctl_domain_pause(h, 1), HVCTL_ERR_LINK_DOWN);
	CHECK(has(hvctl_last_error()->message, "has not attached"));
	CHECK_EQ(hvctl_wait_ready(h, 100), HVCTL_ERR_TIMEOUT);

	/* A well-behaved machine. */
	machine_start(&m, MACHINE_GOOD);
	test_good_machine(h, &m, &seen);

	/* The machine writes a garbage producer index on its control ring and rings us. */
	machine_stop(&m, 0);
	shared = m.c.shm;
	gen = m.g.hdr.generation;
	m.g.chans[0].tx.idx->prod = m.g.chans[0].tx.pvt + m.g.chans[0].tx.size * 4;
	ivs_client_ring(&m.c, 0);
	for (i = 0; i < 200; i++) {
		rc = hvctl_domain_info_get(h, 1, &info);
		if (rc != HVCTL_OK)
			break;
		usleep(10000);
	}
	CHECK_EQ(rc, HVCTL_ERR_LINK_FAULT);
	CHECK(has(hvctl_last_error()->message,
	          "management link fault on the control channel (machine-to-host ring): producer "
	          "index out of range"));
	/* The host's line says FAULT with the code (written just after callers were told). */
	for (i = 0; i < 200 && hvlink_guest_host_state(&m.g) != HVLINK_STATE_FAULT; i++)
		usleep(10000);
	CHECK_EQ(hvlink_guest_host_state(&m.g), HVLINK_STATE_FAULT);
	CHECK_EQ(shared->host_fault, HVLINK_FAULT_PROD);
	usleep(50000);
	pthread_mutex_lock(&seen.lock);
	CHECK_EQ(seen.down_code, HVCTL_ERR_LINK_FAULT);
	CHECK(has(seen.down_msg, "producer index out of range"));
	pthread_mutex_unlock(&seen.lock);
	/* Stays down: even a READY machine re-ringing does not revive this link. */
	ivs_client_ring(&m.c, 0);
	usleep(50000);
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_ERR_LINK_FAULT);
	ivs_client_close(&m.c);
	wait_disconnected(h);

	/* A new machine gets a fresh layout and the link works again. */
	machine_start(&m, MACHINE_GOOD);
	CHECK_EQ(hvctl_wait_ready(h, 5000), HVCTL_OK);
	CHECK(m.g.hdr.generation > gen);
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_OK);
	CHECK_EQ(info.state, HVCTL_DOMAIN_RUNNING);

	/* dom0's agent closes the link in order (say its kernel reboots): the host lays the
	 * memory out afresh, rings, and a new agent on the same machine attaches again. */
	machine_stop(&m, 0);
	gen = m.g.hdr.generation;
	while (ivs_client_wait(&m.c, 0, 0) == 1) /* doorbells left from before */
		;
	hvlink_guest_stop(&m.g, HVLINK_STATE_CLOSED, HVLINK_FAULT_NONE);
	ivs_client_ring(&m.c, 0);
	/* As guest.h says: attach again once the host rang and the generation moved on. */
	CHECK_EQ(ivs_client_wait(&m.c, 0, 5000), 1);
	CHECK(hvlink_guest_host_ready(m.c.shm));
	CHECK(__atomic_load_n(&((struct hvlink_header *)m.c.shm)->generation, __ATOMIC_ACQUIRE) !=
	      gen);
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_ERR_LINK_DOWN);
	CHECK(has(hvctl_last_error()->message, "agent closed the management link"));
	machine_restart(&m);
	CHECK_EQ(hvctl_wait_ready(h, 5000), HVCTL_OK);
	CHECK(m.g.hdr.generation > gen);
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_OK);

	/* QEMU exits: calls fail with "disconnected". */
	machine_stop(&m, 1);
	for (i = 0; i < 200; i++) {
		rc = hvctl_domain_info_get(h, 1, &info);
		if (rc != HVCTL_OK)
			break;
		usleep(10000);
	}
	CHECK_EQ(rc, HVCTL_ERR_LINK_DOWN);
	CHECK(has(hvctl_last_error()->message, "the machine disconnected"));

	/* A machine whose agent speaks another major version. */
	wait_disconnected(h);
	machine_start(&m, MACHINE_WRONG_MAJOR);
	CHECK_EQ(hvctl_wait_ready(h, 5000), HVCTL_ERR_VERSION);
	CHECK(has(hvctl_last_error()->message, "speaks management link protocol 2."));
	CHECK_EQ(__atomic_load_n(&((struct hvlink_header *)m.c.shm)->host_state, __ATOMIC_ACQUIRE),
	         HVLINK_STATE_REFUSED);
	machine_stop(&m, 1);
	wait_disconnected(h);

	/* A machine that refuses our layout. */
	machine_start(&m, MACHINE_REFUSE);
	CHECK_EQ(hvctl_wait_ready(h, 5000), HVCTL_ERR_VERSION);
	CHECK(has(hvctl_last_error()->message, "refused the management link"));
	machine_stop(&m, 1);
	wait_disconnected(h);

	/* And a good one again, which then claims to have consumed more than we sent. */
	machine_start(&m, MACHINE_GOOD);
	CHECK_EQ(hvctl_wait_ready(h, 5000), HVCTL_OK);
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_OK);
	machine_stop(&m, 0);
	m.g.chans[0].rx.idx->cons = m.g.chans[0].rx.pvt + 4096;
	CHECK_EQ(hvctl_domain_info_get(h, 1, &info), HVCTL_ERR_LINK_FAULT);
	CHECK(has(hvctl_last_error()->message, "control channel (host-to-machine ring): consumer "
	                                       "index out of range"));
	for (i = 0; i < 200 && hvlink_guest_host_state(&m.g) != HVLINK_STATE_FAULT; i++)
		usleep(10000);
	CHECK_EQ(hvlink_guest_host_state(&m.g), HVLINK_STATE_FAULT);
	CHECK_EQ(m.g.shared->host_fault, HVLINK_FAULT_CONS);
	CHECK_EQ(hvctl_hello(h, NULL), HVCTL_ERR_LINK_FAULT);
	ivs_client_close(&m.c);

	hvctl_close(h);
	CHECK(stat(sock_path, &st) != 0);
	rmdir(dir);
	fake_agent_destroy(&agent);
	CHECK_DONE();
}
