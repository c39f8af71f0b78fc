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
 *
 * Host operations. RELAY_MSG frames on the pseudo-channel RELAY_CHAN_HOST (never a link
 * channel type: those are below HVLINK_MAX_CHANNELS) are answered by the relay itself, as
 * request/response pairs with the client's id, status 0 or -HVLINK_E* with a message: they
 * attach and detach what backs a domain's devices in the holder process (hostio.h: the file of
 * a disk, the TAP of a network interface). A client attaches the backing before it adds the
 * device on the control channel (HVLINK_CTL_DEVICE_ADD). The relay also watches the control
 * channel pass by: when a DOMAIN_DESTROY or DEVICE_REMOVE succeeds, or a domain's GONE event
 * arrives, it detaches what backed that domain or device.
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

#define RELAY_CHAN_HOST 0x100

enum relay_host_op {
	RELAY_HOST_DISK_ATTACH = 1,   /* relay_host_disk -> relay_host_disk_rsp */
	RELAY_HOST_NIC_ATTACH = 2,    /* relay_host_nic -> relay_host_nic_rsp */
	RELAY_HOST_DETACH = 3,        /* relay_host_dev -> (none) */
	RELAY_HOST_DETACH_DOMAIN = 4, /* relay_host_dev (domid only) -> (none) */
	RELAY_HOST_LIST = 5,          /* (none) -> relay_host_list_rsp + relay_host_entry[] */
};

#define RELAY_HOST_RO 0x1u /* disk: the guest may only read */

struct relay_host_disk {
	uint32_t domid;
	uint16_t devid;  /* Xen virtual device number (51712 = xvda) */
	uint16_t flags;  /* RELAY_HOST_RO */
	char path[4096]; /* absolute, NUL-terminated */
};

struct relay_host_disk_rsp {
	uint64_t sectors; /* 512-byte sectors in the file */
};

struct relay_host_nic {
	uint32_t domid;
	uint16_t devid; /* the VIF's number in the domain: 0, 1, ... */
	uint8_t prefix; /* ipv4's prefix length, with ipv4 */
	uint8_t reserved;
	uint32_t ipv4; /* network byte order; 0: the TAP gets no address */
	char tap[16];  /* "": hv<domid>.<devid> */
};

struct relay_host_nic_rsp {
	char tap[16]; /* the TAP's name */
};

struct relay_host_dev {
	uint32_t domid;
	uint16_t kind; /* HVLINK_DEV_VBD or HVLINK_DEV_VIF */
	uint16_t devid;
};

struct relay_host_list_rsp {
	uint32_t count; /* entries that follow */
	uint32_t reserved;
};

struct relay_host_entry {
	uint32_t domid;
	uint16_t kind, devid;
	uint32_t flags, reserved;
	uint64_t sectors;
	uint64_t ops[4];   /* VBD: reads, writes, flushes, discards answered with success;
	                    * VIF: frames to the TAP, from the TAP, dropped each way */
	uint64_t bytes[2]; /* VBD: read, written; VIF: to the TAP, from the TAP */
	uint64_t errors;   /* requests answered with an error, frames dropped */
	char name[256];    /* the file (possibly cut) or the TAP */
};

#define RELAY_HOST_LIST_MAX 256

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
