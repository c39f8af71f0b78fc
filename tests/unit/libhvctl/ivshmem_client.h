/*
 * A host-side client of the ivshmem server protocol, for tests: it plays the part QEMU's
 * ivshmem-doorbell device plays (receives the version, its id, the shared memory and the
 * eventfds), so that a test can act as the machine without starting QEMU.
 */
#ifndef HV_TESTS_IVSHMEM_CLIENT_H
#define HV_TESTS_IVSHMEM_CLIENT_H

#include <stdint.h>

#define IVS_CLIENT_MAX_VECTORS 16

struct ivs_client {
	int sock;
	int64_t version, id;
	int shm_fd;
	void *shm;
	uint64_t shm_size;
	int64_t peer_id;                      /* the other peer announced (the host) */
	int peer_efd[IVS_CLIENT_MAX_VECTORS]; /* write to ring the host on vector v */
	unsigned npeer;
	int own_efd[IVS_CLIENT_MAX_VECTORS]; /* readable when the host rang us on v */
	unsigned nown;
};

/*
 * Connects and reads the whole handshake (nvectors own eventfds expected). Returns 0;
 * -ECONNRESET if the server closed the connection; -ETIMEDOUT; -EPROTO for an unexpected
 * message; -errno otherwise.
 */
int ivs_client_connect(struct ivs_client *c, const char *path, unsigned nvectors, int timeout_ms);

/* Rings the host on vector v (the Doorbell register write of a guest). */
int ivs_client_ring(struct ivs_client *c, unsigned v);

/* Waits up to timeout_ms for the host to ring vector v; returns 1 (rung, cleared), 0, -errno. */
int ivs_client_wait(struct ivs_client *c, unsigned v, int timeout_ms);

void ivs_client_close(struct ivs_client *c);

#endif
