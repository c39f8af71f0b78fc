/*
 * libhvctl's core: a handle, request/response matching, timeouts, link state and events.
 *
 * Threads: any number of callers; the transport's thread, which delivers responses, events
 * and state changes through the sink; and the handle's event thread, which runs the
 * subscriber's callback (so that a callback may itself make calls, whose responses the
 * transport's thread must remain free to deliver).
 *
 * Invariants (under h->lock): every caller waiting for a response has exactly one entry in
 * h->pending, removed by that caller alone; an entry is completed (done) at most once, by a
 * response, by the link going down, or by close; a response whose id has no entry (its caller
 * timed out) is dropped and counted. h->users counts callers inside the library, so that
 * hvctl_close() frees nothing while one is still running.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct pending {
	struct pending *next;
	uint32_t id;
	int done;
	int code;       /* HVCTL_OK or the failure */
	int32_t status; /* the response's status */
	void *buf;
	uint32_t cap, len;
	char msg[HVLINK_ERRMSG_MAX];
};

struct event_item {
	struct event_item *next;
	hvctl_event ev;
};

struct hvctl {
	struct hvctl_transport *t;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* completions, link state, users */
	struct pending *pending;
	uint32_t next_id;
	unsigned timeout_ms;
	int up;
	int down_code;
	char down_msg[256];
	int closing;
	unsigned users;
	uint64_t late_responses;

	/* Events: queued by the transport's thread, run by ev_thread. */
	pthread_t ev_thread;
	pthread_cond_t ev_cond;
	struct event_item *ev_head, *ev_tail;
	hvctl_event_cb cb;
	void *opaque;
	int ev_stop;

	pthread_mutex_t bulk_lock;
	uint32_t next_xfer;
};

static void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

/* Waits on c until deadline_ns (CLOCK_MONOTONIC); returns ETIMEDOUT once it has passed. */
static int cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, int64_t deadline_ns)
{
	struct timespec ts = {.tv_sec = deadline_ns / 1000000000,
	                      .tv_nsec = deadline_ns % 1000000000};

	if (now_ns() >= deadline_ns)
		return ETIMEDOUT;
	return pthread_cond_timedwait(c, m, &ts);
}

/* Called with h->lock held. */
static void queue_event(hvctl *h, const hvctl_event *ev)
{
	struct event_item *it;

	if (!h->cb)
		return; /* nobody listens: nothing to keep */
	it = calloc(1, sizeof(*it));
	if (!it)
		return;
	it->ev = *ev;
	if (h->ev_tail)
		h->ev_tail->next = it;
	else
		h->ev_head = it;
	h->ev_tail = it;
	pthread_cond_signal(&h->ev_cond);
}

static void *event_main(void *arg)
{
	hvctl *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct event_item *it;
		hvctl_event_cb cb;
		void *opaque;

		while (!h->ev_head && !h->ev_stop)
			pthread_cond_wait(&h->ev_cond, &h->lock);
		if (h->ev_stop)
			break;
		it = h->ev_head;
		h->ev_head = it->next;
		if (!h->ev_head)
			h->ev_tail = NULL;
		cb = h->cb;
		opaque = h->opaque;
		pthread_mutex_unlock(&h->lock);
		if (cb)
			cb(&it->ev, opaque);
		free(it);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Completes every pending call with code/message (link down, close). Lock held. */
static void fail_pending(hvctl *h, int code, const char *message)
{
	struct pending *p;

	for (p = h->pending; p; p = p->next) {
		if (p->done)
			continue;
		p->done = 1;
		p->code = code;
		snprintf(p->msg, sizeof(p->msg), "%s", message);
	}
	pthread_cond_broadcast(&h->cond);
}

/* The machine's message is shown to people: keep it to one line of printable ASCII. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static void sink_deliver(void *core, uint16_t chan, const struct hvlink_msg *hdr,
                         const void *payload)
{
	hvctl *h = core;
	unsigned kind = hdr->flags & HVLINK_MSG_KIND_MASK;
	struct pending *p;

	pthread_mutex_lock(&h->lock);
	if (kind == HVLINK_MSG_RESPONSE) {
		for (p = h->pending; p && p->id != hdr->id; p = p->next)
			;
		if (!p || p->done) {
			h->late_responses++;
		} else if (hdr->status < 0) {
			uint32_t n = hdr->len < sizeof(p->msg) - 1 ? hdr->len : sizeof(p->msg) - 1;

			p->code = err_from_remote(hdr->status);
			p->status = hdr->status;
			memcpy(p->msg, payload, n);
			p->msg[n] = '\0';
			sanitize(p->msg);
			p->done = 1;
		} else if (hdr->len > p->cap) {
			p->code = HVCTL_ERR_PROTOCOL;
			snprintf(p->msg, sizeof(p->msg),
			         "response of %u bytes where at most %u were expected", hdr->len,
			         p->cap);
			p->done = 1;
		} else {
			if (hdr->len)
				memcpy(p->buf, payload, hdr->len);
			p->len = hdr->len;
			p->code = HVCTL_OK;
			p->done = 1;
		}
		pthread_cond_broadcast(&h->cond);
	} else if (kind == HVLINK_MSG_EVENT && chan == HVLINK_CHAN_CONTROL &&
	           hdr->type == HVLINK_CTL_EV_DOMAIN_STATE &&
	           hdr->len >= sizeof(struct hvlink_ctl_ev_state)) {
		struct hvlink_ctl_ev_state st;
		hvctl_event ev = {.kind = HVCTL_EVENT_DOMAIN_STATE};

		memcpy(&st, payload, sizeof(st));
		ev.domid = st.domid;
		ev.state = (hvctl_domain_state)st.state;
		ev.shutdown_reason = (hvctl_shutdown_reason)st.shutdown_reason;
		queue_event(h, &ev);
	}
	/* Anything else (unknown events, requests from the machine) is ignored for now. */
	pthread_mutex_unlock(&h->lock);
}

static void sink_state(void *core, int up, int code, const char *message)
{
	hvctl *h = core;
	hvctl_event ev = {.kind = up ? HVCTL_EVENT_LINK_UP : HVCTL_EVENT_LINK_DOWN};

	pthread_mutex_lock(&h->lock);
	if (!up && !h->up && code == HVCTL_ERR_LINK_DOWN) {
		/* Still down, for a new reason (a machine came or went): no event. */
		snprintf(h->down_msg, sizeof(h->down_msg), "%s",
		         message ? message : "management link is down");
		h->down_code = code;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	h->up = up;
	if (!up) {
		h->down_code = code ? code : HVCTL_ERR_LINK_DOWN;
		snprintf(h->down_msg, sizeof(h->down_msg), "%s",
		         message ? message : "management link is down");
		fail_pending(h, h->down_code, h->down_msg);
		ev.error = h->down_code;
		snprintf(ev.message, sizeof(ev.message), "%s", h->down_msg);
	}
	queue_event(h, &ev);
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

int hvctl_open_transport(struct hvctl_transport *t, hvctl **out)
{
	struct hvctl_transport_sink sink = {.deliver = sink_deliver, .state = sink_state};
	hvctl_error err = {0};
	hvctl *h;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		t->ops->close(t);
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_SYSTEM, .message = "out of memory"},
		    "opening hvctl handle");
	}
	h->t = t;
	h->timeout_ms = HVCTL_DEFAULT_TIMEOUT_MS;
	h->next_id = 1;
	h->next_xfer = 1;
	h->down_code = HVCTL_ERR_LINK_DOWN;
	snprintf(h->down_msg, sizeof(h->down_msg),
	         "the machine's agent has not attached to the management link yet");
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->bulk_lock, NULL);
	cond_init_monotonic(&h->cond);
	pthread_cond_init(&h->ev_cond, NULL);
	if (pthread_create(&h->ev_thread, NULL, event_main, h) != 0) {
		t->ops->close(t);
		free(h);
		return err_publish(&(hvctl_error){.code = HVCTL_ERR_SYSTEM,
		                                  .message = "cannot start the event thread"},
		                   "opening hvctl handle");
	}
	sink.core = h;
	if (t->ops->start(t, &sink, &err) != 0) {
		h->t = NULL;
		t->ops->close(t);
		hvctl_close(h);
		return err_publish(&err, "opening hvctl handle");
	}
	*out = h;
	return HVCTL_OK;
}

int hvctl_open_link(const hvctl_link_config *cfg, hvctl **out)
{
	struct hvctl_transport *t;
	hvctl_error err = {0};

	*out = NULL;
	if (!cfg || !cfg->socket_path)
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_INVALID, .message = "no socket path given"},
		    "opening the management link");
	if (link_transport_new(cfg, &t, &err) != 0)
		return err_publish(&err, "opening the management link");
	return hvctl_open_transport(t, out);
}

void hvctl_close(hvctl *h)
{
	struct event_item *it;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->closing = 1;
	fail_pending(h, HVCTL_ERR_CLOSED, "the handle was closed");
	while (h->users)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);

	if (h->t)
		h->t->ops->close(h->t); /* no sink calls after this */
	pthread_mutex_lock(&h->lock);
	h->ev_stop = 1;
	pthread_cond_signal(&h->ev_cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->ev_thread, NULL);
	while ((it = h->ev_head)) {
		h->ev_head = it->next;
		free(it);
	}
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->bulk_lock);
	pthread_cond_destroy(&h->cond);
	pthread_cond_destroy(&h->ev_cond);
	free(h);
}

void hvctl_set_timeout(hvctl *h, unsigned timeout_ms)
{
	pthread_mutex_lock(&h->lock);
	h->timeout_ms = timeout_ms ? timeout_ms : HVCTL_DEFAULT_TIMEOUT_MS;
	pthread_mutex_unlock(&h->lock);
}

int64_t core_timeout_ns(hvctl *h)
{
	int64_t t;

	pthread_mutex_lock(&h->lock);
	t = (int64_t)h->timeout_ms * 1000000;
	pthread_mutex_unlock(&h->lock);
	return t;
}

uint32_t core_max_payload(hvctl *h, uint16_t chan, int to_machine)
{
	return h->t->ops->max_payload(h->t, chan, to_machine);
}

/* Enters the library for one call: fails if closing or the link is down. Lock held. */
static int enter(hvctl *h, hvctl_error *err)
{
	if (h->closing)
		return err_set(err, HVCTL_ERR_CLOSED, "the handle is being closed");
	if (!h->up)
		return err_set(err, h->down_code, "%s", h->down_msg);
	h->users++;
	return HVCTL_OK;
}

static void leave(hvctl *h)
{
	if (--h->users == 0)
		pthread_cond_broadcast(&h->cond);
}

int core_send(hvctl *h, uint16_t chan, uint16_t type, uint16_t kind, const void *payload,
              uint32_t len, int64_t deadline_ns, hvctl_error *err)
{
	struct hvlink_msg hdr = {.len = len, .type = type, .flags = kind};
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = enter(h, err);
	if (rc) {
		pthread_mutex_unlock(&h->lock);
		return rc;
	}
	hdr.id = h->next_id++;
	if (h->next_id == 0)
		h->next_id = 1;
	pthread_mutex_unlock(&h->lock);
	rc = h->t->ops->send(h->t, chan, &hdr, payload, deadline_ns, err);
	pthread_mutex_lock(&h->lock);
	leave(h);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

int core_call(hvctl *h, uint16_t chan, uint16_t type, const void *req, uint32_t req_len, void *rsp,
              uint32_t cap, uint32_t *rsp_len, hvctl_error *err)
{
	struct hvlink_msg hdr = {.len = req_len, .type = type, .flags = HVLINK_MSG_REQUEST};
	struct pending p = {.buf = rsp, .cap = cap}, **pp;
	int64_t deadline;
	unsigned timeout_ms;
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = enter(h, err);
	if (rc) {
		pthread_mutex_unlock(&h->lock);
		return rc;
	}
	timeout_ms = h->timeout_ms;
	deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	p.id = hdr.id = h->next_id++;
	if (h->next_id == 0)
		h->next_id = 1;
	p.next = h->pending;
	/* On our stack: unlinked below, under the lock, before this function returns. */
	// cppcheck-suppress autoVariables
	h->pending = &p;
	pthread_mutex_unlock(&h->lock);

	rc = h->t->ops->send(h->t, chan, &hdr, req, deadline, err);

	pthread_mutex_lock(&h->lock);
	if (rc == HVCTL_OK) {
		while (!p.done)
			if (cond_wait_until(&h->cond, &h->lock, deadline) == ETIMEDOUT)
				break;
		if (!p.done)
			rc = err_set(err, HVCTL_ERR_TIMEOUT,
			             "no response from the machine within %u ms", timeout_ms);
		else if (p.code == HVCTL_OK && rsp_len)
			*rsp_len = p.len;
		else if (p.code != HVCTL_OK && p.status < 0) {
			const char *name = err_remote_name(p.status);

			if (p.msg[0])
				rc = err_set(err, p.code, "%s", p.msg);
			else if (name)
				rc = err_set(err, p.code, "%s (%s)", hvctl_strerror(p.code), name);
			else
				rc = err_set(err, p.code, "%s (errno %d)", hvctl_strerror(p.code),
				             -p.status);
			if (err)
				err->remote_errno = -p.status;
		} else if (p.code != HVCTL_OK)
			rc = err_set(err, p.code, "%s", p.msg);
	}
	for (pp = &h->pending; *pp; pp = &(*pp)->next)
		if (*pp == &p) {
			*pp = p.next;
			break;
		}
	leave(h);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

uint32_t core_bulk_begin(hvctl *h)
{
	uint32_t x;

	pthread_mutex_lock(&h->bulk_lock);
	pthread_mutex_lock(&h->lock);
	x = h->next_xfer++;
	if (h->next_xfer == 0)
		h->next_xfer = 1;
	pthread_mutex_unlock(&h->lock);
	return x;
}

void core_bulk_end(hvctl *h)
{
	pthread_mutex_unlock(&h->bulk_lock);
}

void core_set_subscriber(hvctl *h, hvctl_event_cb cb, void *opaque)
{
	pthread_mutex_lock(&h->lock);
	h->cb = cb;
	h->opaque = opaque;
	pthread_mutex_unlock(&h->lock);
}

int hvctl_wait_ready(hvctl *h, unsigned timeout_ms)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	hvctl_error err = {0};
	hvctl_version v;
	int up;

	pthread_mutex_lock(&h->lock);
	/* Wait for the agent; a refusal or a fault of the current machine ends the wait. */
	while (!h->up && !h->closing && h->down_code == HVCTL_ERR_LINK_DOWN)
		if (cond_wait_until(&h->cond, &h->lock, deadline) == ETIMEDOUT)
			break;
	up = h->up;
	if (!up && !h->closing && h->down_code != HVCTL_ERR_LINK_DOWN)
		err_set(&err, h->down_code, "%s", h->down_msg);
	else if (!up)
		err_set(&err, h->closing ? HVCTL_ERR_CLOSED : HVCTL_ERR_TIMEOUT,
		        "the machine's agent did not attach within %u ms (%s)", timeout_ms,
		        h->down_msg);
	pthread_mutex_unlock(&h->lock);
	if (!up)
		return err_publish(&err, "waiting for the management link");
	return hvctl_hello(h, &v);
}
