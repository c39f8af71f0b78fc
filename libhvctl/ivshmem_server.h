/*
 * The host's side of QEMU's ivshmem-doorbell device: an ivshmem server (QEMU's
 * docs/specs/ivshmem-spec.rst, "The ivshmem Client-Server Protocol") serving one machine.
 *
 * The server owns the shared memory (a memfd, mapped here too) and is itself a peer of the
 * device: the host peer (id IVS_HOST_PEER_ID) never connects over the socket, but the server
 * announces it to the machine with one eventfd per vector, which the machine's Doorbell
 * register writes (peer id = host, vector v) signal and the host waits on. For the machine
 * (QEMU) the server creates one eventfd per vector for receiving; the host keeps copies and
 * rings the machine by writing to them (an MSI-X interrupt in the guest).
 *
 * Handshake sent to each accepted client, every message one little-endian int64, some with one
 * file descriptor (SCM_RIGHTS): protocol version 0; the client's id; -1 with the shared-memory
 * fd; the host peer's id nvectors times with the host's eventfds (vector 0..n-1); the client's
 * own id nvectors times with its eventfds. One machine at a time: while a client is connected
 * a second connection is closed at once (the spec's "close on error").
 *
 * Not thread-safe: one thread drives a server (libhvctl's link thread). Errors come back as a
 * negative errno with a message in err (hvctl_error).
 */
#ifndef HVCTL_IVSHMEM_SERVER_H
#define HVCTL_IVSHMEM_SERVER_H

#include <stdint.h>

#include "hvctl.h"

#define IVS_PROTOCOL_VERSION 0
#define IVS_MAX_VECTORS      16
#define IVS_HOST_PEER_ID     0

struct ivs_server {
	int listen_fd;
	char path[108];
	int shm_fd;
	void *shm; /* the host's mapping of the whole shared memory */
	uint64_t shm_size;
	unsigned nvectors;
	int host_efd[IVS_MAX_VECTORS]; /* the machine rings these; the host waits on them */

	int client_fd;                   /* the connected machine, or -1 */
	uint16_t client_id;              /* its ivshmem id (IVPosition) */
	int client_efd[IVS_MAX_VECTORS]; /* the host rings the machine through these */
	uint16_t next_id;
	unsigned long accepted, refused; /* counters, for tests and logs */
};

/*
 * Creates the shared memory (shm_size bytes, a power of two, as a PCI BAR must be), the
 * host's eventfds, and the listening socket at path (an existing socket file there is
 * replaced). Returns 0 or a negative errno with err filled.
 */
int ivs_server_open(struct ivs_server *s, const char *path, uint64_t shm_size, unsigned nvectors,
                    hvctl_error *err);

/*
 * Accepts one connection on the listening socket (call when it is readable). If no machine is
 * connected, runs the handshake and makes it the client: returns 1. If one is connected, the
 * newcomer is closed at once: returns 0. Negative errno on failure (err filled; the
 * newcomer is dropped, any existing client is kept).
 */
int ivs_server_accept(struct ivs_server *s, hvctl_error *err);

/* Call when client_fd is readable: returns 1 if the machine went away (the client is then
 * dropped), 0 if not. QEMU never sends anything, so readable means closed. */
int ivs_server_check_client(struct ivs_server *s);

/* Forgets the client: closes its socket and eventfds. */
void ivs_server_drop_client(struct ivs_server *s);

/* Rings the machine on vector v. 0, or -ENOTCONN without a client, or -errno. */
int ivs_server_notify(struct ivs_server *s, unsigned v);

/* Clears the host eventfd of vector v (after poll said readable). Returns the count read. */
uint64_t ivs_server_ack(struct ivs_server *s, unsigned v);

/* Closes everything, unlinks the socket file, unmaps the memory. */
void ivs_server_close(struct ivs_server *s);

#endif
