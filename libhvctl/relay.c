/*
 * The control relay's server side (see relay.h).
 *
 * Threads: the relay thread accepts clients and reads their frames (one whole frame at a time,
 * with a deadline, so a client that stops mid-frame is dropped rather than stalling the
 * others) and forwards them to the link; the link's own thread calls the sink below, which
 * routes responses and fans out events and state. Both hold r->lock while they touch the client
 * list or the routes, and while writing to a client (writes have a deadline too: a client that
 * does not read is dropped).
 *
 * Invariants (under r->lock): each route maps one relay id, unique among routes, to the client
 * (by serial number) and the id that client chose; a route is removed when its response
 * passes, when its client goes, or when it is older than ROUTE_MAX_AGE (NOREPLY messages get a
 * response only on failure). A client is freed by the relay thread only.
 *
 * Split I/O (hostio.h): records dom0 sends on the BLOCK and NET channels go to the relay's
 * hostio (under r->lock, which hostio_deliver never holds for long: it queues or writes to a
 * non-blocking TAP); host operations (RELAY_CHAN_HOST) are answered by the relay thread; a
 * route remembers a DOMAIN_DESTROY or DEVICE_REMOVE so that its success detaches the backing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hostio.h"
#include "internal.h"
#include "relay.h"

#define ROUTE_MAX_AGE_NS (120ll * 1000000000)
#define MAX_CLIENTS      64
#define WRITE_DEADLINE   (2ll * 1000000000)

struct route {
	struct route *next;
	uint32_t relay_id, client_id;
	unsigned client;
	int64_t born;
	uint16_t watch; /* HVLINK_CTL_DOMAIN_DESTROY / DEVICE_REMOVE: detach on success */
	uint16_t kind, devid;
	uint32_t domid;
};

struct client {
	struct client *next;
	int fd;
	unsigned serial;
	int dead; /* a write failed: the relay thread closes it */
	struct {
		uint32_t client_xfer, relay_xfer;
	} xfers[16]; /* recent image transfers: ids are per client, the agent's are global */
	unsigned next_xfer_slot;
};

struct relay {
	struct hvctl_transport *link;
	struct hostio *io;
	int listen_fd;
	char path[108];
	int kick[2]; /* wakes the relay thread to stop */
	pthread_t thread;
	int thread_started;

	pthread_mutex_t lock;
	struct client *clients;
	unsigned nclients, next_serial;
	struct route *routes;
	uint32_t next_id, next_xfer;
	int up, code;
	char msg[256];
	void *frame_buf; /* relay thread: the payload of the frame being relayed */
	size_t frame_cap;
};

int relay_read_full(int fd, void *buf, size_t n, int64_t deadline_ns)
{
	char *p = buf;

	if (!deadline_ns)
		deadline_ns = now_ns() + 5ll * 1000000000;
	while (n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int64_t left = deadline_ns - now_ns();
		ssize_t got;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, left > 1000000000 ? 1000 : (int)(left / 1000000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!(pf.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		got = read(fd, p, n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return got == 0 ? -ECONNRESET : -errno;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int relay_write_full(int fd, const void *buf, size_t n, int64_t deadline_ns)
{
	const char *p = buf;

	if (!deadline_ns)
		deadline_ns = now_ns() + 5ll * 1000000000;
	while (n) {
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		int64_t left = deadline_ns - now_ns();
		ssize_t put;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, left > 1000000000 ? 1000 : (int)(left / 1000000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pf.revents & (POLLHUP | POLLERR))
			return -EPIPE;
		if (!(pf.revents & POLLOUT))
			continue;
		put = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (put < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (put < 0)
			return -errno;
		p += put;
		n -= (size_t)put;
	}
	return 0;
}

/* Writes one frame to c; marks it dead on failure. Lock held. */
static void client_write(struct client *c, const struct relay_frame *f, const void *a, size_t alen,
                         const void *b, size_t blen)
{
	int64_t deadline = now_ns() + WRITE_DEADLINE;

	if (c->dead)
		return;
	if (relay_write_full(c->fd, f, sizeof(*f), deadline) ||
	    (alen && relay_write_full(c->fd, a, alen, deadline)) ||
	    (blen && relay_write_full(c->fd, b, blen, deadline)))
		c->dead = 1;
}

static void client_send_state(struct relay *r, struct client *c)
{
	struct relay_frame f = {.magic = RELAY_MAGIC,
	                        .what = RELAY_STATE,
	                        .len = (uint32_t)strlen(r->msg),
	                        .code = r->code,
	                        .up = (uint32_t)r->up};

	client_write(c, &f, r->msg, f.len, NULL, 0);
}

static void client_send_msg(struct client *c, uint16_t chan, const struct hvlink_msg *hdr,
                            const void *payload)
{
	struct relay_frame f = {.magic = RELAY_MAGIC,
	                        .what = RELAY_MSG,
	                        .chan = chan,
	                        .len = HVLINK_MSG_HDR_SIZE + hdr->len};

	client_write(c, &f, hdr, sizeof(*hdr), payload, hdr->len);
}

static struct client *find_client(struct relay *r, unsigned serial)
{
	struct client *c;

	for (c = r->clients; c && c->serial != serial; c = c->next)
		;
	return c;
}

/* Link thread: a message from the machine. */
static void sink_deliver(void *core, uint16_t chan, const struct hvlink_msg *hdr,
                         const void *payload)
{
	struct relay *r = core;
	unsigned kind = hdr->flags & HVLINK_MSG_KIND_MASK;
	struct route **pp, *rt;
	struct client *c;

	pthread_mutex_lock(&r->lock);
	if (chan == HVLINK_CHAN_BLOCK || chan == HVLINK_CHAN_NET) {
		/* dom0's requests and frames: the host backs them, no client is involved. */
		if (r->io)
			hostio_deliver(r->io, chan, hdr, payload);
	} else if (kind == HVLINK_MSG_RESPONSE) {
		for (pp = &r->routes; *pp && (*pp)->relay_id != hdr->id; pp = &(*pp)->next)
			;
		rt = *pp;
		if (rt) {
			struct hvlink_msg back = *hdr;

			*pp = rt->next;
			back.id = rt->client_id;
			/* Detached before the client hears of it: its next attach may reuse a name.
			 */
			if (rt->watch && hdr->status == 0 && r->io)
				hostio_detach(r->io, rt->domid,
				              rt->watch == HVLINK_CTL_DEVICE_REMOVE ? rt->kind : 0,
				              rt->devid);
			c = find_client(r, rt->client);
			if (c)
				client_send_msg(c, chan, &back, payload);
			free(rt);
		}
	} else if (kind == HVLINK_MSG_EVENT) {
		for (c = r->clients; c; c = c->next)
			client_send_msg(c, chan, hdr, payload);
		if (chan == HVLINK_CHAN_CONTROL && hdr->type == HVLINK_CTL_EV_DOMAIN_STATE &&
		    hdr->len >= sizeof(struct hvlink_ctl_ev_state) && r->io) {
			struct hvlink_ctl_ev_state st;

			memcpy(&st, payload, sizeof(st));
			if (st.state == HVLINK_DOM_GONE)
				hostio_detach(r->io, st.domid, 0, 0);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* Link thread: the agent came or went. */
static void sink_state(void *core, int up, int code, const char *message)
{
	struct relay *r = core;
	struct client *c;

	pthread_mutex_lock(&r->lock);
	r->up = up;
	r->code = up ? HVCTL_OK : (code ? code : HVCTL_ERR_LINK_DOWN);
	snprintf(r->msg, sizeof(r->msg), "%s", message ? message : "");
	for (c = r->clients; c; c = c->next)
		client_send_state(r, c);
	pthread_mutex_unlock(&r->lock);
}

/* Answers a client's request from here (a failure to forward it, or a local operation). */
static void answer(struct relay *r, struct client *c, uint16_t chan, const struct hvlink_msg *req,
                   int32_t status, const char *text)
{
	struct hvlink_msg rsp = {
	    .type = req->type, .flags = HVLINK_MSG_RESPONSE, .id = req->id, .status = status};

	rsp.len = text ? (uint32_t)strlen(text) + 1 : 0;
	pthread_mutex_lock(&r->lock);
	client_send_msg(c, chan, &rsp, text);
	pthread_mutex_unlock(&r->lock);
}

/* Relay thread: a host operation (RELAY_CHAN_HOST), answered here. */
static void host_op(struct relay *r, struct client *c, const struct hvlink_msg *req,
                    const void *payload)
{
	static uint8_t rsp[sizeof(struct relay_host_list_rsp) +
	                   RELAY_HOST_LIST_MAX * sizeof(struct relay_host_entry)];
	char text[HVLINK_ERRMSG_MAX] = "";
	uint32_t len = 0;
	int rc;

	if ((req->flags & HVLINK_MSG_KIND_MASK) != HVLINK_MSG_REQUEST)
		return;
	rc = hostio_op(r->io, req->type, payload, req->len, rsp, sizeof(rsp), &len, text,
	               sizeof(text));
	if (rc) {
		answer(r, c, RELAY_CHAN_HOST, req, rc, text[0] ? text : NULL);
	} else {
		struct hvlink_msg m = {
		    .len = len, .type = req->type, .flags = HVLINK_MSG_RESPONSE, .id = req->id};

		pthread_mutex_lock(&r->lock);
		client_send_msg(c, RELAY_CHAN_HOST, &m, rsp);
		pthread_mutex_unlock(&r->lock);
	}
}

/*
 * Image transfer ids (bulk channel, and the build request that names them) are chosen by each
 * client from 1 up; the agent knows one set of transfers. The relay gives each transfer an id
 * of its own at BEGIN and translates the client's id in every later message. Relay thread.
 */
static uint32_t xfer_map(struct relay *r, struct client *c, uint32_t x, int begin)
{
	unsigned i;

	if (x == 0)
		return 0;
	if (begin) {
		i = c->next_xfer_slot++ % 16;
		c->xfers[i].client_xfer = x;
		c->xfers[i].relay_xfer = r->next_xfer++;
		if (r->next_xfer == 0)
			r->next_xfer = 1;
		return c->xfers[i].relay_xfer;
	}
	for (i = 0; i < 16; i++)
		if (c->xfers[i].client_xfer == x)
			return c->xfers[i].relay_xfer;
	return 0xffffffffu; /* unknown here: the agent says so */
}

static void translate_xfers(struct relay *r, struct client *c, uint16_t chan,
                            const struct hvlink_msg *hdr, void *payload)
{
	if (chan == HVLINK_CHAN_BULK && hdr->len >= 4) {
		uint32_t x;

		memcpy(&x, payload, 4);
		x = xfer_map(r, c, x, hdr->type == HVLINK_BULK_BEGIN);
		memcpy(payload, &x, 4);
	} else if (chan == HVLINK_CHAN_CONTROL && hdr->type == HVLINK_CTL_DOMAIN_BUILD &&
	           hdr->len >= sizeof(struct hvlink_ctl_build)) {
		struct hvlink_ctl_build *b = payload;

		b->kernel_xfer = xfer_map(r, c, b->kernel_xfer, 0);
		b->ramdisk_xfer = xfer_map(r, c, b->ramdisk_xfer, 0);
	}
}

/*
 * Relay thread: room for one frame's payload, kept from frame to frame. Image pieces are 1 MiB:
 * a fresh allocation each time would be a new mapping, faulted in page by page, per piece.
 */
static void *frame_buffer(struct relay *r, size_t len)
{
	if (len > r->frame_cap) {
		void *p = realloc(r->frame_buf, len);

		if (!p)
			return NULL;
		r->frame_buf = p;
		r->frame_cap = len;
	}
	return r->frame_buf;
}

/* Relay thread: one frame from client c. Returns 0, or -1 to drop the client. */
static int client_frame(struct relay *r, struct client *c)
{
	struct relay_frame f;
	struct hvlink_msg hdr;
	void *payload = NULL;
	hvctl_error err = {0};
	struct route *rt, **pp;
	unsigned kind;
	int64_t now = now_ns();

	if (relay_read_full(c->fd, &f, sizeof(f), now + WRITE_DEADLINE))
		return -1;
	if (f.magic != RELAY_MAGIC || f.what != RELAY_MSG || f.len < HVLINK_MSG_HDR_SIZE ||
	    f.len > RELAY_MAX_FRAME)
		return -1;
	if (relay_read_full(c->fd, &hdr, sizeof(hdr), now + WRITE_DEADLINE) ||
	    hdr.len != f.len - HVLINK_MSG_HDR_SIZE)
		return -1;
	if (hdr.len) {
		payload = frame_buffer(r, hdr.len);
		if (!payload || relay_read_full(c->fd, payload, hdr.len, now + WRITE_DEADLINE))
			return -1;
	}
	kind = hdr.flags & HVLINK_MSG_KIND_MASK;
	if (kind != HVLINK_MSG_REQUEST && kind != HVLINK_MSG_NOREPLY)
		return -1;
	if (f.chan == RELAY_CHAN_HOST) {
		host_op(r, c, &hdr, payload);
		return 0;
	}
	translate_xfers(r, c, f.chan, &hdr, payload);
	/* Turning events off for one client must not turn them off for the others. */
	if (f.chan == HVLINK_CHAN_CONTROL && hdr.type == HVLINK_CTL_SUBSCRIBE &&
	    hdr.len >= sizeof(struct hvlink_ctl_subscribe)) {
		struct hvlink_ctl_subscribe s;

		memcpy(&s, payload, sizeof(s));
		if (!s.enable) {
			answer(r, c, f.chan, &hdr, 0, NULL);
			return 0;
		}
	}

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -1;
	pthread_mutex_lock(&r->lock);
	for (pp = &r->routes; *pp;) /* forget old NOREPLY routes */
		if (now - (*pp)->born > ROUTE_MAX_AGE_NS) {
			struct route *old = *pp;

			*pp = old->next;
			free(old);
		} else
			pp = &(*pp)->next;
	rt->relay_id = r->next_id++;
	if (r->next_id == 0)
		r->next_id = 1;
	rt->client_id = hdr.id;
	rt->client = c->serial;
	rt->born = now;
	if (f.chan == HVLINK_CHAN_CONTROL && hdr.type == HVLINK_CTL_DOMAIN_DESTROY &&
	    hdr.len >= sizeof(struct hvlink_ctl_head)) {
		struct hvlink_ctl_head h;

		memcpy(&h, payload, sizeof(h));
		rt->watch = HVLINK_CTL_DOMAIN_DESTROY;
		rt->domid = h.domid;
	} else if (f.chan == HVLINK_CHAN_CONTROL && hdr.type == HVLINK_CTL_DEVICE_REMOVE &&
	           hdr.len >= sizeof(struct hvlink_ctl_device)) {
		struct hvlink_ctl_device d;

		memcpy(&d, payload, sizeof(d));
		rt->watch = HVLINK_CTL_DEVICE_REMOVE;
		rt->domid = d.head.domid;
		rt->kind = d.kind;
		rt->devid = d.devid;
	}
	rt->next = r->routes;
	r->routes = rt;
	hdr.id = rt->relay_id;
	pthread_mutex_unlock(&r->lock);

	if (r->link->ops->send(r->link, f.chan, &hdr, payload, now + 10ll * 1000000000, &err)) {
		char text[HVLINK_ERRMSG_MAX];
		uint32_t client_id = 0;

		pthread_mutex_lock(&r->lock);
		for (pp = &r->routes; *pp && *pp != rt; pp = &(*pp)->next)
			;
		if (*pp) { /* still ours: no response can come for it now */
			client_id = rt->client_id;
			*pp = rt->next;
			free(rt);
		}
		pthread_mutex_unlock(&r->lock);
		if (client_id && kind == HVLINK_MSG_REQUEST) {
			snprintf(text, sizeof(text), "the machine's link: %s", err.message);
			hdr.id = client_id;
			answer(r, c, f.chan, &hdr, -HVLINK_EIO, text);
		}
	}
	return 0;
}

/* Relay thread: closes client c and forgets its routes. */
static void drop_client(struct relay *r, struct client *c)
{
	struct client **cp;
	struct route **pp;

	pthread_mutex_lock(&r->lock);
	for (cp = &r->clients; *cp && *cp != c; cp = &(*cp)->next)
		;
	if (*cp)
		*cp = c->next;
	for (pp = &r->routes; *pp;)
		if ((*pp)->client == c->serial) {
			struct route *old = *pp;

			*pp = old->next;
			free(old);
		} else
			pp = &(*pp)->next;
	r->nclients--;
	pthread_mutex_unlock(&r->lock);
	close(c->fd);
	free(c);
}

static void accept_client(struct relay *r)
{
	uint32_t limits[HVLINK_MAX_CHANNELS][2] = {{0}};
	struct relay_frame f = {.magic = RELAY_MAGIC, .what = RELAY_LIMITS, .len = sizeof(limits)};
	struct client *c;
	unsigned type;
	int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || r->nclients >= MAX_CLIENTS) {
		free(c);
		close(fd);
		return;
	}
	for (type = 1; type < HVLINK_MAX_CHANNELS; type++) {
		limits[type][0] = r->link->ops->max_payload(r->link, (uint16_t)type, 1);
		limits[type][1] = r->link->ops->max_payload(r->link, (uint16_t)type, 0);
	}
	c->fd = fd;
	pthread_mutex_lock(&r->lock);
	c->serial = ++r->next_serial;
	client_write(c, &f, limits, sizeof(limits), NULL, 0);
	client_send_state(r, c);
	c->next = r->clients;
	r->clients = c;
	r->nclients++;
	pthread_mutex_unlock(&r->lock);
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	struct pollfd pf[MAX_CLIENTS + 2];
	struct client *who[MAX_CLIENTS + 2];

	for (;;) {
		struct client *c, *next;
		unsigned n = 0, i;

		/* Clients whose writes failed go first (only this thread frees clients). */
		pthread_mutex_lock(&r->lock);
		for (c = r->clients; c; c = next) {
			next = c->next;
			if (c->dead) {
				pthread_mutex_unlock(&r->lock);
				drop_client(r, c);
				pthread_mutex_lock(&r->lock);
				next = r->clients; /* the list changed: start over */
			}
		}
		pf[n++] = (struct pollfd){.fd = r->kick[0], .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
		for (c = r->clients; c && n < MAX_CLIENTS + 2; c = c->next) {
			who[n] = c;
			pf[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
		}
		pthread_mutex_unlock(&r->lock);

		if (poll(pf, n, 1000) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		if (pf[1].revents & POLLIN)
			accept_client(r);
		for (i = 2; i < n; i++)
			if (pf[i].revents && client_frame(r, who[i]) != 0)
				drop_client(r, who[i]);
	}
	return NULL;
}

int relay_start(struct hvctl_transport *link, const char *path, struct relay **out,
                hvctl_error *err)
{
	struct hvctl_transport_sink sink = {.deliver = sink_deliver, .state = sink_state};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct relay *r;
	int rc;

	*out = NULL;
	if (strlen(path) >= sizeof(a.sun_path)) {
		link->ops->close(link);
		return err_set(err, HVCTL_ERR_INVALID, "relay socket path too long: %s", path);
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		link->ops->close(link);
		return err_set(err, HVCTL_ERR_SYSTEM, "out of memory");
	}
	r->link = link;
	r->kick[0] = r->kick[1] = -1;
	r->next_id = 1;
	r->next_xfer = 1;
	r->code = HVCTL_ERR_LINK_DOWN;
	snprintf(r->msg, sizeof(r->msg), "the machine's agent has not attached to the link yet");
	snprintf(r->path, sizeof(r->path), "%s", path);
	pthread_mutex_init(&r->lock, NULL);
	strcpy(a.sun_path, path);
	unlink(path);
	r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(r->listen_fd, 16) != 0 || pipe2(r->kick, O_CLOEXEC) != 0) {
		rc = err_set(err, HVCTL_ERR_SYSTEM, "cannot listen on %s: %s", path,
		             strerror(errno));
		goto fail;
	}
	rc = hostio_new(link, &r->io, err);
	if (rc)
		goto fail;
	sink.core = r;
	rc = link->ops->start(link, &sink, err);
	if (rc)
		goto fail;
	if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
		rc = err_set(err, HVCTL_ERR_SYSTEM, "cannot start the relay thread");
		goto fail;
	}
	r->thread_started = 1;
	*out = r;
	return HVCTL_OK;
fail:
	relay_stop(r);
	return rc;
}

struct hvctl_transport *relay_link(struct relay *r)
{
	return r->link;
}

void relay_stop(struct relay *r)
{
	if (!r)
		return;
	if (r->thread_started) {
		if (write(r->kick[1], "x", 1) < 0) /* our own empty pipe: cannot fill up */
			perror("relay: kick");
		pthread_join(r->thread, NULL);
	}
	/* The host's I/O threads stop sending, then the link closes (after its close the sink
	 * is never called again), then the files and TAPs go. */
	hostio_stop(r->io);
	if (r->link)
		r->link->ops->close(r->link);
	hostio_free(r->io);
	while (r->clients)
		drop_client(r, r->clients);
	while (r->routes) {
		struct route *rt = r->routes;

		r->routes = rt->next;
		free(rt);
	}
	if (r->listen_fd >= 0) {
		close(r->listen_fd);
		unlink(r->path);
	}
	if (r->kick[0] >= 0)
		close(r->kick[0]);
	if (r->kick[1] >= 0)
		close(r->kick[1]);
	pthread_mutex_destroy(&r->lock);
	free(r->frame_buf);
	free(r);
}
