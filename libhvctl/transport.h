/*
 * The seam between libhvctl's calls and a way of reaching the machine.
 *
 * A transport moves framed messages (struct hvlink_msg + payload, link_proto.h) on logical
 * channels named by their type (HVLINK_CHAN_CONTROL, _CONSOLE, _BULK, ...) in both directions,
 * and says when the far end (dom0's agent) is there. It knows nothing of the control
 * operations: the core (core.c) matches responses to requests, keeps timeouts and errors.
 *
 * The first transport is the management link (transport_link.c: shared memory rings and
 * ivshmem doorbells). A second one, a privileged device in a Linux dom0, would implement the
 * same three operations over read/write on that device. Tests use an in-process loopback.
 *
 * Rules for implementations:
 *  - send() may be called from several threads at once; it either queues the whole message
 *    or fails (err filled, negative enum hvctl_status), waiting no later than deadline_ns
 *    (CLOCK_MONOTONIC) for room;
 *  - incoming messages and state changes are reported through the sink, from a thread of the
 *    transport's own, in order, one at a time; deliver's payload is valid during the call only;
 *  - after close() returns, the sink is never called again.
 */
#ifndef HVCTL_TRANSPORT_H
#define HVCTL_TRANSPORT_H

#include <stdint.h>

#include "hvctl.h"
#include "link_proto.h"

struct hvctl_transport;

struct hvctl_transport_sink {
	void *core;
	void (*deliver)(void *core, uint16_t chan, const struct hvlink_msg *hdr,
	                const void *payload);
	/* up: the agent is attached; !up: it is gone, code/message say why. */
	void (*state)(void *core, int up, int code, const char *message);
};

struct hvctl_transport_ops {
	const char *name;
	int (*start)(struct hvctl_transport *t, const struct hvctl_transport_sink *sink,
	             hvctl_error *err);
	int (*send)(struct hvctl_transport *t, uint16_t chan, const struct hvlink_msg *hdr,
	            const void *payload, int64_t deadline_ns, hvctl_error *err);
	/* Largest payload a message on chan may carry towards the machine (to_machine) or
	 * from it; 0 if the channel does not exist. */
	uint32_t (*max_payload)(struct hvctl_transport *t, uint16_t chan, int to_machine);
	void (*close)(struct hvctl_transport *t); /* also frees t */
};

struct hvctl_transport {
	const struct hvctl_transport_ops *ops;
};

/*
 * Opens a handle over any transport (the handle owns t from then on, also on failure).
 * Used by hvctl_open_link, by tests, and later by other transports.
 */
int hvctl_open_transport(struct hvctl_transport *t, hvctl **out);

/* The management link transport (transport_link.c). */
int link_transport_new(const hvctl_link_config *cfg, struct hvctl_transport **out,
                       hvctl_error *err);

/* 1 while a machine (QEMU's ivshmem device) is connected to a link transport's server;
 * *accepted (if not NULL) gets how many machines it has accepted so far. */
int link_transport_machine(struct hvctl_transport *t, unsigned long *accepted);

#endif
