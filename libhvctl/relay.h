/*
 * The control relay: how several processes share one machine's management link.
 *
 * The process that starts the machine (machine.c) owns the link (transport_link.c). The relay
 * (relay.c) listens on a UNIX socket; each connection is a client whose framed messages it
 * forwards to the link under a fresh request id, and whose responses it routes back with the
 * client's own id restored. Domain events and link state go to every client. On the client's
 * side the relay is one more transport (transport_sock.c), so hvctl's calls work unchanged.
 *
 * Wire format (both directions, host byte order: both ends are on one host): struct
 * relay_frame, then len bytes: RELAY_MSG: struct hvlink_msg + its payload (len = 16 + msg.len);
 * RELAY_STATE: the link's state (up, code) with a message of len bytes (no NUL); RELAY_LIMITS:
 * uint32_t max_payload[HVLINK_MAX_CHANNELS][2] indexed by channel type and direction (0: to
 * the machine), sent once, first, to every new client.
 *
 * Image transfer ids (bulk channel) are per client too: the relay renames them (relay.c).
 */
#ifndef HVCTL_RELAY_H
#define HVCTL_RELAY_H

#include <stdint.h>

#include "hvctl.h"
#include "transport.h"

#define RELAY_MAGIC     0x594c5248u /* "HRLY" */
#define RELAY_MSG       1
#define RELAY_STATE     2
#define RELAY_LIMITS    3
#define RELAY_MAX_FRAME (16u << 20)

struct relay_frame {
	uint32_t magic;
	uint32_t len; /* bytes after this header */
	uint16_t chan;
	uint16_t what; /* RELAY_* */
	int32_t code;  /* RELAY_STATE: enum hvctl_status when down */
	uint32_t up;   /* RELAY_STATE */
	uint32_t reserved;
};

_Static_assert(sizeof(struct relay_frame) == 24, "relay frame");

struct relay;

/*
 * Starts relaying link (which the relay owns from then on, also on failure: it starts the
 * transport with its own sink) on a socket at path. Returns 0 or a negative hvctl status.
 */
int relay_start(struct hvctl_transport *link, const char *path, struct relay **out,
                hvctl_error *err);
/* The link transport the relay serves (for link_transport_machines()). */
struct hvctl_transport *relay_link(struct relay *r);
/* Stops the relay: clients see the link go down; closes the link; frees r. */
void relay_stop(struct relay *r);

/* Client side (transport_sock.c): a transport through the relay at path. */
int sock_transport_new(const char *path, struct hvctl_transport **out, hvctl_error *err);

/* Reads or writes exactly n bytes, waiting no later than deadline_ns (0: 5 s from now). */
int relay_read_full(int fd, void *buf, size_t n, int64_t deadline_ns);
int relay_write_full(int fd, const void *buf, size_t n, int64_t deadline_ns);

#endif
