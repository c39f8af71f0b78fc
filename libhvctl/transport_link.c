/*
 * The management link transport: libhvctl's messages on the shared-memory rings of
 * link_proto.h, with the ivshmem server (ivshmem_server.c) handing the memory and doorbells
 * to QEMU.
 *
 * One link thread owns the server, the receive rings and every sink call: it accepts the
 * machine, re-initialises the layout for each new machine, notices the agent attaching (guest
 * state READY, then a doorbell), drains the machine-to-host rings, and reports faults. Callers
 * write the host-to-machine rings themselves, one channel's tx_lock at a time, and sleep on the
 * channel's space condition when a ring is full (the link thread wakes them on every doorbell).
 *
 * Faults: a bad index or length from the machine, on any ring, stops the whole link: our
 * header line says FAULT with the code, the machine is rung, callers fail with
 * HVCTL_ERR_LINK_FAULT and a message naming the channel, ring and values; nothing on the link
 * is used again until a new machine connects (a fresh layout). Lock order: a channel's
 * tx_lock, then lt->lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "ivshmem_server.h"
#include "layout.h"
#include "relay.h"
#include "ring.h"

struct link_chan {
	uint16_t type, vector;
	unsigned index;
	struct hvlink_ring tx, rx; /* tx: under tx_lock; rx: link thread only */
	pthread_mutex_t tx_lock;
	pthread_cond_t space;
	int usable; /* under tx_lock: the agent is attached and nothing faulted */
};

struct link_transport {
	struct hvctl_transport base;
	struct ivs_server srv;
	struct hvlink_chan_spec specs[HVLINK_MAX_CHANNELS];
	unsigned nchans;
	struct hvlink_header layout; /* private copy of what we wrote (link thread, once started) */
	uint32_t max_msg[HVLINK_MAX_CHANNELS]
	                [2]; /* by channel index and direction: the same in
	                      * every layout (fixed specs), read by any thread */
	struct link_chan chans[HVLINK_MAX_CHANNELS];
	uint32_t generation;

	pthread_mutex_t lock; /* srv client fds (notify vs. accept/drop), the fields below */
	int attached;
	int tx_fault_pending; /* a sender saw a fault: the link thread reports it */
	enum hvlink_fault tx_fault;
	char tx_fault_msg[256];
	int dead; /* link thread only: faulted or refused, until a new machine connects */
	int stop;

	struct hvctl_transport_sink sink;
	pthread_t thread;
	int started;
	int kick_fd;
	uint8_t *rxbuf;
	uint32_t rxbuf_size;
};

static const char *chan_name(uint16_t type)
{
	switch (type) {
	case HVLINK_CHAN_CONTROL:
		return "control";
	case HVLINK_CHAN_CONSOLE:
		return "console";
	case HVLINK_CHAN_BULK:
		return "bulk";
	case HVLINK_CHAN_BLOCK:
		return "block";
	case HVLINK_CHAN_NET:
		return "net";
	default:
		return "unknown";
	}
}

static struct link_chan *find_chan(struct link_transport *lt, uint16_t type)
{
	unsigned i;

	for (i = 0; i < lt->nchans; i++)
		if (lt->chans[i].type == type)
			return &lt->chans[i];
	return NULL;
}

static void fault_message(char *buf, size_t size, const struct link_chan *c, int tx,
                          const struct hvlink_ring *r)
{
	uint32_t value, ref;
	enum hvlink_fault f = hvlink_ring_fault(r, &value, &ref);

	snprintf(buf, size,
	         "management link fault on the %s channel (%s ring): %s (value 0x%x, limit 0x%x, "
	         "ring size 0x%x); the link is stopped until the machine reconnects",
	         chan_name(c->type), tx ? "host-to-machine" : "machine-to-host",
	         hvlink_fault_str(f), value, ref, r->size);
}

static void kick(struct link_transport *lt)
{
	uint64_t one = 1;

	if (write(lt->kick_fd, &one, sizeof(one)) < 0) {
		/* A saturated counter means the thread is being kicked already. */
	}
}

/* Marks every channel (un)usable. Link thread only; takes each tx_lock. */
static void set_usable(struct link_transport *lt, int usable)
{
	unsigned i;

	for (i = 0; i < lt->nchans; i++) {
		pthread_mutex_lock(&lt->chans[i].tx_lock);
		lt->chans[i].usable = usable;
		pthread_cond_broadcast(&lt->chans[i].space);
		pthread_mutex_unlock(&lt->chans[i].tx_lock);
	}
}

/* Our line of the shared header. */
static void set_host_state(struct link_transport *lt, uint32_t state, uint32_t fault)
{
	struct hvlink_header *shared = lt->srv.shm;

	__atomic_store_n(&shared->host_fault, fault, __ATOMIC_RELAXED);
	__atomic_store_n(&shared->host_state, state, __ATOMIC_RELEASE);
}

static void notify_all_vectors(struct link_transport *lt)
{
	unsigned v;

	pthread_mutex_lock(&lt->lock);
	for (v = 0; v < lt->srv.nvectors; v++)
		ivs_server_notify(&lt->srv, v);
	pthread_mutex_unlock(&lt->lock);
}

/* Link thread: the link stops (or stays stopped) with code/message. */
static void link_down(struct link_transport *lt, int code, const char *message)
{
	set_usable(lt, 0);
	pthread_mutex_lock(&lt->lock);
	lt->attached = 0;
	pthread_mutex_unlock(&lt->lock);
	/* Reported even when not attached: the core tells a new reason from a new outage. */
	lt->sink.state(lt->sink.core, 0, code, message);
}

static void link_fault(struct link_transport *lt, enum hvlink_fault f, const char *message)
{
	lt->dead = 1;
	link_down(lt, HVCTL_ERR_LINK_FAULT, message);
	/* Then tell the machine, which sees FAULT only after our callers have been told. */
	set_host_state(lt, HVLINK_STATE_FAULT, f);
	notify_all_vectors(lt);
}

/* Link thread: lays the memory out afresh for a new machine and attaches our sides. */
static int reinit_layout(struct link_transport *lt)
{
	unsigned i;
	int rc;

	set_usable(lt, 0);
	lt->dead = 0;
	for (i = 0; i < lt->nchans; i++)
		pthread_mutex_lock(&lt->chans[i].tx_lock);
	rc = hvlink_layout_init(lt->srv.shm, lt->srv.shm_size, lt->specs, lt->nchans,
	                        (uint16_t)lt->srv.nvectors, IVS_HOST_PEER_ID, ++lt->generation,
	                        &lt->layout);
	for (i = 0; rc == 0 && i < lt->nchans; i++)
		rc = hvlink_channel_attach(lt->srv.shm, &lt->layout, i, true, &lt->chans[i].tx,
		                           &lt->chans[i].rx);
	for (i = 0; i < lt->nchans; i++)
		pthread_mutex_unlock(&lt->chans[i].tx_lock);
	return rc;
}

/* Link thread: has the agent attached (or refused, or stopped)? */
static void check_guest(struct link_transport *lt)
{
	struct hvlink_header *shared = lt->srv.shm;
	uint32_t state = __atomic_load_n(&shared->guest_state, __ATOMIC_ACQUIRE);
	uint32_t fault = __atomic_load_n(&shared->guest_fault, __ATOMIC_RELAXED);
	uint16_t major = __atomic_load_n(&shared->guest_version_major, __ATOMIC_RELAXED);
	uint16_t minor = __atomic_load_n(&shared->guest_version_minor, __ATOMIC_RELAXED);
	char msg[256];
	int attached;

	if (lt->dead)
		return;
	pthread_mutex_lock(&lt->lock);
	attached = lt->attached;
	pthread_mutex_unlock(&lt->lock);

	if (!attached && state == HVLINK_STATE_READY) {
		if (major != HVLINK_VERSION_MAJOR) {
			snprintf(msg, sizeof(msg),
			         "the machine's agent speaks management link protocol %u.%u, this "
			         "library %u.%u",
			         major, minor, (unsigned)HVLINK_VERSION_MAJOR,
			         (unsigned)HVLINK_VERSION_MINOR);
			lt->dead = 1;
			set_host_state(lt, HVLINK_STATE_REFUSED, HVLINK_FAULT_VERSION);
			notify_all_vectors(lt);
			link_down(lt, HVCTL_ERR_VERSION, msg);
			return;
		}
		pthread_mutex_lock(&lt->lock);
		lt->attached = 1;
		pthread_mutex_unlock(&lt->lock);
		set_usable(lt, 1);
		lt->sink.state(lt->sink.core, 1, HVCTL_OK, NULL);
	} else if (attached && state == HVLINK_STATE_CLOSED) {
		/* An orderly close (dom0's agent stops or its kernel reboots): lay the memory
		 * out afresh so that the next agent of this machine can attach. */
		link_down(lt, HVCTL_ERR_LINK_DOWN,
		          "the machine's agent closed the management link");
		reinit_layout(lt);
		notify_all_vectors(lt);
	} else if (attached && state != HVLINK_STATE_READY) {
		lt->dead = 1;
		snprintf(msg, sizeof(msg), "the machine's agent stopped the management link: %s",
		         hvlink_fault_str((enum hvlink_fault)fault));
		link_down(lt, HVCTL_ERR_LINK_FAULT, msg);
	} else if (!attached && state == HVLINK_STATE_REFUSED) {
		snprintf(msg, sizeof(msg), "the machine's agent refused the management link: %s",
		         hvlink_fault_str((enum hvlink_fault)fault));
		/* Report once: the link stays refused until a new machine. */
		lt->dead = 1;
		set_host_state(lt, HVLINK_STATE_CLOSED, HVLINK_FAULT_NONE);
		lt->sink.state(
		    lt->sink.core, 0,
		    fault == HVLINK_FAULT_VERSION ? HVCTL_ERR_VERSION : HVCTL_ERR_LINK_FAULT, msg);
	}
}

/* Link thread: delivers everything the machine published; returns 0, or -1 after a fault. */
static int drain(struct link_transport *lt)
{
	unsigned i;
	int again = 1;

	while (again) {
		again = 0;
		for (i = 0; i < lt->nchans; i++) {
			struct link_chan *c = &lt->chans[i];
			struct hvlink_msg m;
			int rc;

			while ((rc = hvlink_ring_peek(&c->rx, &m)) == 1) {
				hvlink_ring_copy_payload(&c->rx, 0, lt->rxbuf, m.len);
				rc = hvlink_ring_consume(&c->rx);
				if (rc == 1) {
					pthread_mutex_lock(&lt->lock);
					ivs_server_notify(&lt->srv, c->vector);
					pthread_mutex_unlock(&lt->lock);
				}
				lt->sink.deliver(lt->sink.core, c->type, &m, lt->rxbuf);
			}
			if (rc == 0)
				rc = hvlink_ring_prepare_wait(&c->rx);
			if (rc < 0) {
				char msg[256];

				fault_message(msg, sizeof(msg), c, 0, &c->rx);
				link_fault(lt, hvlink_ring_fault(&c->rx, NULL, NULL), msg);
				return -1;
			}
			if (rc == 1)
				again = 1;
		}
	}
	return 0;
}

static void wake_senders(struct link_transport *lt)
{
	unsigned i;

	for (i = 0; i < lt->nchans; i++) {
		pthread_mutex_lock(&lt->chans[i].tx_lock);
		pthread_cond_broadcast(&lt->chans[i].space);
		pthread_mutex_unlock(&lt->chans[i].tx_lock);
	}
}

static void *link_main(void *arg)
{
	struct link_transport *lt = arg;
	struct pollfd fds[3 + IVS_MAX_VECTORS];
	hvctl_error err;

	for (;;) {
		unsigned n = 0, v, first_efd;
		int attached, fault_pending, rc;
		enum hvlink_fault fault;
		char msg[256];

		fds[n++] = (struct pollfd){.fd = lt->kick_fd, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = lt->srv.listen_fd, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = lt->srv.client_fd, .events = POLLIN};
		first_efd = n;
		for (v = 0; v < lt->srv.nvectors; v++)
			fds[n++] = (struct pollfd){.fd = lt->srv.host_efd[v], .events = POLLIN};
		if (poll(fds, n, -1) < 0 && errno != EINTR)
			break;

		if (fds[0].revents & POLLIN) {
			uint64_t k;

			if (read(lt->kick_fd, &k, sizeof(k)) < 0) {
				/* nothing pending: fine */
			}
		}
		pthread_mutex_lock(&lt->lock);
		if (lt->stop) {
			pthread_mutex_unlock(&lt->lock);
			break;
		}
		fault_pending = lt->tx_fault_pending;
		fault = lt->tx_fault;
		lt->tx_fault_pending = 0;
		snprintf(msg, sizeof(msg), "%s", lt->tx_fault_msg);
		pthread_mutex_unlock(&lt->lock);
		if (fault_pending)
			link_fault(lt, fault, msg);

		if (fds[2].fd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			int gone;

			pthread_mutex_lock(&lt->lock);
			gone = ivs_server_check_client(&lt->srv);
			pthread_mutex_unlock(&lt->lock);
			if (gone) {
				set_host_state(lt, HVLINK_STATE_CLOSED, HVLINK_FAULT_NONE);
				link_down(lt, HVCTL_ERR_LINK_DOWN,
				          "the machine disconnected from the management link");
			}
		}
		if (fds[1].revents & POLLIN) {
			/* A new machine gets a fresh layout before it gets the memory: whatever
			 * the old one left there is void. With a machine still connected the
			 * newcomer is refused and the layout left alone. */
			if (lt->srv.client_fd < 0)
				reinit_layout(lt);
			pthread_mutex_lock(&lt->lock);
			rc = ivs_server_accept(&lt->srv, &err);
			pthread_mutex_unlock(&lt->lock);
			if (rc == 1)
				lt->sink.state(
				    lt->sink.core, 0, HVCTL_ERR_LINK_DOWN,
				    "a machine connected; its agent has not attached yet");
		}
		for (v = 0; v < lt->srv.nvectors; v++)
			if (fds[first_efd + v].revents & POLLIN)
				ivs_server_ack(&lt->srv, v);

		if (lt->srv.client_fd < 0)
			continue;
		check_guest(lt);
		pthread_mutex_lock(&lt->lock);
		attached = lt->attached;
		pthread_mutex_unlock(&lt->lock);
		if (attached && drain(lt) == 0)
			wake_senders(lt);
	}
	return NULL;
}

static int lt_start(struct hvctl_transport *t, const struct hvctl_transport_sink *sink,
                    hvctl_error *err)
{
	struct link_transport *lt = (struct link_transport *)t;

	lt->sink = *sink;
	if (pthread_create(&lt->thread, NULL, link_main, lt) != 0)
		return err_set(err, HVCTL_ERR_SYSTEM, "cannot start the management link thread");
	lt->started = 1;
	return HVCTL_OK;
}

static int lt_send(struct hvctl_transport *t, uint16_t chan, const struct hvlink_msg *hdr,
                   const void *payload, int64_t deadline_ns, hvctl_error *err)
{
	struct link_transport *lt = (struct link_transport *)t;
	struct link_chan *c = find_chan(lt, chan);
	int rc, notify = 0;

	if (!c && chan == RELAY_CHAN_HOST)
		return err_set(err, HVCTL_ERR_UNSUPPORTED,
		               "devices are backed by the process that holds the machine: open the "
		               "handle with hvctl_open_machine() to attach them");
	if (!c)
		return err_set(err, HVCTL_ERR_UNSUPPORTED, "the management link has no %s channel",
		               chan_name(chan));
	pthread_mutex_lock(&c->tx_lock);
	for (;;) {
		if (!c->usable) {
			rc = err_set(err, HVCTL_ERR_LINK_DOWN,
			             "the machine's agent is not attached to the management link");
			goto out;
		}
		rc = hvlink_ring_write(&c->tx, hdr, payload);
		if (rc == 0)
			break;
		if (rc == -HVLINK_EMSGSIZE) {
			rc = err_set(err, HVCTL_ERR_INVALID,
			             "a message of %u bytes exceeds the %s channel's limit of %u",
			             hdr->len, chan_name(chan), c->tx.max_msg);
			goto out;
		}
		if (rc == -HVLINK_EAGAIN)
			rc = hvlink_ring_want_space(&c->tx, hdr->len);
		if (hvlink_is_fault(rc)) {
			char msg[256];

			fault_message(msg, sizeof(msg), c, 1, &c->tx);
			c->usable = 0;
			pthread_mutex_lock(&lt->lock);
			lt->tx_fault_pending = 1;
			lt->tx_fault = hvlink_ring_fault(&c->tx, NULL, NULL);
			snprintf(lt->tx_fault_msg, sizeof(lt->tx_fault_msg), "%s", msg);
			pthread_mutex_unlock(&lt->lock);
			kick(lt);
			rc = err_set(err, HVCTL_ERR_LINK_FAULT, "%s", msg);
			goto out;
		}
		if (rc == 0) {
			/* Full: the machine will ring when it has drained enough. */
			struct timespec ts = {.tv_sec = deadline_ns / 1000000000,
			                      .tv_nsec = deadline_ns % 1000000000};

			if (now_ns() >= deadline_ns ||
			    pthread_cond_timedwait(&c->space, &c->tx_lock, &ts) == ETIMEDOUT) {
				rc = err_set(err, HVCTL_ERR_TIMEOUT,
				             "the machine did not drain the %s ring in time",
				             chan_name(chan));
				goto out;
			}
		}
	}
	notify = hvlink_ring_publish(&c->tx) == 1;
	if (notify) {
		pthread_mutex_lock(&lt->lock);
		ivs_server_notify(&lt->srv, c->vector);
		pthread_mutex_unlock(&lt->lock);
	}
	rc = HVCTL_OK;
out:
	pthread_mutex_unlock(&c->tx_lock);
	return rc;
}

static uint32_t lt_max_payload(struct hvctl_transport *t, uint16_t chan, int to_machine)
{
	struct link_transport *lt = (struct link_transport *)t;
	struct link_chan *c = find_chan(lt, chan);

	/* Not from lt->layout: the link thread lays the memory out again for a new machine. */
	if (!c)
		return 0;
	return lt->max_msg[c->index][to_machine ? HVLINK_DIR_H2G : HVLINK_DIR_G2H];
}

static void lt_close(struct hvctl_transport *t)
{
	struct link_transport *lt = (struct link_transport *)t;
	unsigned i;

	if (lt->started) {
		pthread_mutex_lock(&lt->lock);
		lt->stop = 1;
		pthread_mutex_unlock(&lt->lock);
		kick(lt);
		pthread_join(lt->thread, NULL);
	}
	if (lt->srv.shm != NULL && lt->srv.listen_fd >= 0) {
		set_host_state(lt, HVLINK_STATE_CLOSED, HVLINK_FAULT_NONE);
		notify_all_vectors(lt);
	}
	ivs_server_close(&lt->srv);
	for (i = 0; i < HVLINK_MAX_CHANNELS; i++) {
		pthread_mutex_destroy(&lt->chans[i].tx_lock);
		pthread_cond_destroy(&lt->chans[i].space);
	}
	pthread_mutex_destroy(&lt->lock);
	if (lt->kick_fd >= 0)
		close(lt->kick_fd);
	free(lt->rxbuf);
	free(lt);
}

static const struct hvctl_transport_ops link_ops = {
    .name = "management link",
    .start = lt_start,
    .send = lt_send,
    .max_payload = lt_max_payload,
    .close = lt_close,
};

/*
 * The channels of the default layout, scaled to the shared memory size. The bulk channel's H2G
 * ring gets half of the memory (4 MiB of the default 8 MiB, up to 64 MiB): images stream
 * through it with several pieces in flight, so the machine copies while the host writes.
 * The block channel gets 1 MiB each way from 8 MiB of memory on (a 64 KiB guest request and
 * its data fit many times over; dom0 asks on G2H, the host answers on H2G), the net channel
 * 256 KiB each way (about 170 full frames in flight); smaller memories get a sixteenth and a
 * thirty-second of it per ring. Both share the bulk channel's doorbell vector.
 */
static unsigned default_specs(struct hvlink_chan_spec *s, uint64_t shm_size, unsigned vectors)
{
	uint32_t bulk = shm_size / 2 < (64u << 20) ? (uint32_t)(shm_size / 2) : (64u << 20);
	uint32_t bulk_msg = (1u << 20) + sizeof(struct hvlink_bulk_data);
	uint32_t block = shm_size >= (8u << 20) ? (1u << 20) : (uint32_t)(shm_size / 16);
	uint32_t net = shm_size >= (8u << 20) ? (256u << 10) : (uint32_t)(shm_size / 32);
	uint16_t data_vector = vectors > 1 ? 1 : 0;

	if (bulk_msg > bulk / 2 - HVLINK_MSG_HDR_SIZE)
		bulk_msg = bulk / 2 - HVLINK_MSG_HDR_SIZE;
	s[0] = (struct hvlink_chan_spec){
	    .type = HVLINK_CHAN_CONTROL, .vector = 0, .size = {65536, 65536}};
	s[1] = (struct hvlink_chan_spec){
	    .type = HVLINK_CHAN_CONSOLE, .vector = 0, .size = {16384, 16384}};
	s[2] = (struct hvlink_chan_spec){.type = HVLINK_CHAN_BULK,
	                                 .vector = vectors > 1 ? 1 : 0,
	                                 .size = {bulk, 4096},
	                                 .max_msg = {bulk_msg, 0}};
	s[3] = (struct hvlink_chan_spec){
	    .type = HVLINK_CHAN_BLOCK, .vector = data_vector, .size = {block, block}};
	s[4] = (struct hvlink_chan_spec){
	    .type = HVLINK_CHAN_NET, .vector = data_vector, .size = {net, net}};
	return 5;
}

int link_transport_new(const hvctl_link_config *cfg, struct hvctl_transport **out, hvctl_error *err)
{
	uint64_t shm_size = cfg->shm_size ? cfg->shm_size : HVCTL_LINK_DEFAULT_SHM;
	unsigned vectors = cfg->vectors ? cfg->vectors : 2, i;
	struct link_transport *lt;
	int rc;

	*out = NULL;
	if (shm_size < (1u << 20))
		return err_set(err, HVCTL_ERR_INVALID,
		               "shared memory of %llu bytes is too small (at least 1 MiB)",
		               (unsigned long long)shm_size);
	lt = calloc(1, sizeof(*lt));
	if (!lt)
		return err_set(err, HVCTL_ERR_SYSTEM, "out of memory");
	lt->base.ops = &link_ops;
	lt->kick_fd = -1;
	pthread_mutex_init(&lt->lock, NULL);
	for (i = 0; i < HVLINK_MAX_CHANNELS; i++) {
		pthread_condattr_t a;

		pthread_mutex_init(&lt->chans[i].tx_lock, NULL);
		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&lt->chans[i].space, &a);
		pthread_condattr_destroy(&a);
	}
	rc = ivs_server_open(&lt->srv, cfg->socket_path, shm_size, vectors, err);
	if (rc) {
		lt->srv.listen_fd = -1;
		lt_close(&lt->base);
		return err ? err->code : HVCTL_ERR_SYSTEM;
	}
	lt->nchans = default_specs(lt->specs, shm_size, vectors);
	for (i = 0; i < lt->nchans; i++) {
		lt->chans[i].type = lt->specs[i].type;
		lt->chans[i].vector = lt->specs[i].vector;
		lt->chans[i].index = i;
	}
	if (reinit_layout(lt) != 0) {
		lt_close(&lt->base);
		return err_set(err, HVCTL_ERR_INVALID,
		               "the link's channels do not fit in %llu bytes of shared memory",
		               (unsigned long long)shm_size);
	}
	for (i = 0; i < lt->nchans; i++) {
		uint32_t m = lt->layout.channels[i].ring[HVLINK_DIR_G2H].max_msg;

		lt->max_msg[i][HVLINK_DIR_H2G] =
		    lt->layout.channels[i].ring[HVLINK_DIR_H2G].max_msg;
		lt->max_msg[i][HVLINK_DIR_G2H] = m;
		if (m > lt->rxbuf_size)
			lt->rxbuf_size = m;
	}
	lt->rxbuf = malloc(lt->rxbuf_size);
	lt->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!lt->rxbuf || lt->kick_fd < 0) {
		lt_close(&lt->base);
		return err_set(err, HVCTL_ERR_SYSTEM, "out of memory or file descriptors");
	}
	*out = &lt->base;
	return HVCTL_OK;
}

int link_transport_machine(struct hvctl_transport *t, unsigned long *accepted)
{
	struct link_transport *lt = (struct link_transport *)t;
	int connected;

	pthread_mutex_lock(&lt->lock);
	connected = lt->srv.client_fd >= 0;
	if (accepted)
		*accepted = lt->srv.accepted;
	pthread_mutex_unlock(&lt->lock);
	return connected;
}
