/*
 * Loopback transport for tests (see loopback.h). One queue, one thread: messages and state
 * changes are handled strictly in the order they were queued.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loopback.h"

struct item {
	struct item *next;
	int is_state, up, code;
	char message[256];
	uint16_t chan;
	struct hvlink_msg hdr;
	uint8_t payload[];
};

struct loopback {
	struct hvctl_transport base;
	struct fake_agent *agent;
	uint32_t max_payload;
	struct hvctl_transport_sink sink;
	pthread_t thread;
	int started, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *head, *tail;
	unsigned long queued_states, done_states;
};

static void push(struct loopback *lb, struct item *it)
{
	pthread_mutex_lock(&lb->lock);
	if (lb->tail)
		lb->tail->next = it;
	else
		lb->head = it;
	lb->tail = it;
	pthread_cond_broadcast(&lb->cond);
	pthread_mutex_unlock(&lb->lock);
}

static void reply(void *ctx, uint16_t chan, const struct hvlink_msg *hdr, const void *payload)
{
	struct loopback *lb = ctx;

	lb->sink.deliver(lb->sink.core, chan, hdr, payload);
}

static void *lb_main(void *arg)
{
	struct loopback *lb = arg;

	for (;;) {
		struct item *it;

		pthread_mutex_lock(&lb->lock);
		while (!lb->head && !lb->stop)
			pthread_cond_wait(&lb->cond, &lb->lock);
		/* (cond is shared with set_state's waiters: spurious wake-ups are fine) */
		if (lb->stop) {
			pthread_mutex_unlock(&lb->lock);
			break;
		}
		it = lb->head;
		lb->head = it->next;
		if (!lb->head)
			lb->tail = NULL;
		pthread_mutex_unlock(&lb->lock);
		if (it->is_state) {
			lb->sink.state(lb->sink.core, it->up, it->code, it->message);
			pthread_mutex_lock(&lb->lock);
			lb->done_states++;
			pthread_cond_broadcast(&lb->cond);
			pthread_mutex_unlock(&lb->lock);
		} else
			fake_agent_handle(lb->agent, it->chan, &it->hdr, it->payload, reply, lb);
		free(it);
	}
	return NULL;
}

static int lb_start(struct hvctl_transport *t, const struct hvctl_transport_sink *sink,
                    hvctl_error *err)
{
	struct loopback *lb = (struct loopback *)t;

	lb->sink = *sink;
	if (pthread_create(&lb->thread, NULL, lb_main, lb) != 0) {
		err->code = HVCTL_ERR_SYSTEM;
		snprintf(err->message, sizeof(err->message), "cannot start the loopback thread");
		return err->code;
	}
	lb->started = 1;
	loopback_set_state(t, 1, 0, NULL);
	return HVCTL_OK;
}

static int lb_send(struct hvctl_transport *t, uint16_t chan, const struct hvlink_msg *hdr,
                   const void *payload, int64_t deadline_ns, hvctl_error *err)
{
	struct loopback *lb = (struct loopback *)t;
	struct item *it;

	if (hdr->len > lb->max_payload) {
		err->code = HVCTL_ERR_INVALID;
		snprintf(err->message, sizeof(err->message), "message too long");
		return err->code;
	}
	it = calloc(1, sizeof(*it) + hdr->len);
	it->chan = chan;
	it->hdr = *hdr;
	memcpy(it->payload, payload, hdr->len);
	push(lb, it);
	return HVCTL_OK;
}

static uint32_t lb_max_payload(struct hvctl_transport *t, uint16_t chan, int to_machine)
{
	return ((struct loopback *)t)->max_payload;
}

static void lb_close(struct hvctl_transport *t)
{
	struct loopback *lb = (struct loopback *)t;
	struct item *it;

	if (lb->started) {
		pthread_mutex_lock(&lb->lock);
		lb->stop = 1;
		pthread_cond_signal(&lb->cond);
		pthread_mutex_unlock(&lb->lock);
		pthread_join(lb->thread, NULL);
	}
	while ((it = lb->head)) {
		lb->head = it->next;
		free(it);
	}
	pthread_mutex_destroy(&lb->lock);
	pthread_cond_destroy(&lb->cond);
	free(lb);
}

static const struct hvctl_transport_ops loopback_ops = {
    .name = "loopback",
    .start = lb_start,
    .send = lb_send,
    .max_payload = lb_max_payload,
    .close = lb_close,
};

struct hvctl_transport *loopback_new(struct fake_agent *a, uint32_t max_payload)
{
	struct loopback *lb = calloc(1, sizeof(*lb));

	lb->base.ops = &loopback_ops;
	lb->agent = a;
	lb->max_payload = max_payload;
	pthread_mutex_init(&lb->lock, NULL);
	pthread_cond_init(&lb->cond, NULL);
	return &lb->base;
}

void loopback_set_state(struct hvctl_transport *t, int up, int code, const char *message)
{
	struct loopback *lb = (struct loopback *)t;
	struct item *it = calloc(1, sizeof(*it));
	unsigned long ticket;

	it->is_state = 1;
	it->up = up;
	it->code = code;
	snprintf(it->message, sizeof(it->message), "%s", message ? message : "");
	pthread_mutex_lock(&lb->lock);
	ticket = ++lb->queued_states;
	pthread_mutex_unlock(&lb->lock);
	push(lb, it);
	/* Synchronous: returns once the library has been told. */
	pthread_mutex_lock(&lb->lock);
	while (lb->done_states < ticket)
		pthread_cond_wait(&lb->cond, &lb->lock);
	pthread_mutex_unlock(&lb->lock);
}
