/*
 * The host's side of split I/O (DESIGN.md decision 8, issue #9), in the process that holds the
 * management link (machine.c; the relay creates it): what backs the devices of the machine's
 * domains.
 *
 *  - Block: dom0's block back end sends requests on the link's BLOCK channel (link_io.h);
 *    hostio_blk.c answers them with real I/O on the file attached to (domid, devid): pread,
 *    pwrite, fdatasync for FLUSH, a punched hole (or zeroes) for DISCARD; EROFS for a write
 *    to a read-only disk, EINVAL for a range beyond its end, ENOENT for no such disk.
 *  - Net: each network interface (domid, devid) has a TAP device here (hostio_net.c); frames
 *    from dom0's switch (NET channel, G2H) are written to it, frames the host's stack sends
 *    into it go to dom0 (H2G).
 *
 * Threads. The link thread hands records over (hostio_deliver) and never waits for I/O: block
 * requests are queued for the block worker, frames are written to a non-blocking TAP. The
 * block worker and the TAP reader are threads of their own; each sends on the link itself.
 * Attach and detach come from the relay thread. One lock (struct hostio.lock) guards the
 * table of attachments; no I/O is done while holding it (the worker works on a dup of the
 * file descriptor).
 */
#ifndef HVCTL_HOSTIO_H
#define HVCTL_HOSTIO_H

#include <stdint.h>

#include "relay.h"
#include "transport.h"

struct hostio;

/* Starts the block worker and the TAP reader; link is used to send (not owned). */
int hostio_new(struct hvctl_transport *link, struct hostio **out, hvctl_error *err);
/* Stops both threads: nothing is sent on the link afterwards, records are dropped. */
void hostio_stop(struct hostio *io);
/* Stops (if not yet), closes every file and TAP, frees io. */
void hostio_free(struct hostio *io);

/* Link thread: a record from the machine on the BLOCK or NET channel. */
void hostio_deliver(struct hostio *io, uint16_t chan, const struct hvlink_msg *hdr,
                    const void *payload);

/*
 * A host operation (relay.h, RELAY_CHAN_HOST) of len payload bytes. Returns 0 or -HVLINK_E*
 * with a message in msg; on success *rsp_len bytes of rsp (at most cap) are the answer.
 */
int hostio_op(struct hostio *io, uint16_t op, const void *req, uint32_t len, void *rsp,
              uint32_t cap, uint32_t *rsp_len, char *msg, size_t msg_size);

/* Forgets what backed one device, or every device of a domain (kind 0). Does not wait: a
 * detached TAP disappears once the TAP reader has closed it, a moment later. */
void hostio_detach(struct hostio *io, uint32_t domid, uint16_t kind, uint16_t devid);

/* ---- between hostio.c and its two halves ---- */

/* hostio_tap.c: opens the TAP (name may be ""; the name used is written back), brings it up
 * with ipv4/prefix if ipv4 != 0. Returns the fd or -errno with a message. */
int hostio_tap_open(char name[16], uint32_t domid, uint16_t devid, uint32_t ipv4, unsigned prefix,
                    char *msg, size_t msg_size);

#endif
