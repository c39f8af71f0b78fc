/*
 * Test client of the ivshmem server protocol (see ivshmem_client.h and QEMU's
 * docs/specs/ivshmem-spec.rst): reads int64 messages with optional SCM_RIGHTS descriptors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ivshmem_client.h"

static int recv_msg(int sock, int64_t *value, int *fd, int timeout_ms)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};
	struct iovec iov = {.iov_base = value, .iov_len = sizeof(*value)};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = control.buf,
	                     .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c;
	ssize_t n;
	int rc;

	*fd = -1;
	rc = poll(&p, 1, timeout_ms);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	if (n != sizeof(*value))
		return -EPROTO;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

int ivs_client_connect(struct ivs_client *c, const char *path, unsigned nvectors, int timeout_ms)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int64_t v;
	int fd, rc;
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->shm_fd = -1;
	c->shm = MAP_FAILED;
	c->peer_id = -1;
	for (i = 0; i < IVS_CLIENT_MAX_VECTORS; i++)
		c->peer_efd[i] = c->own_efd[i] = -1;
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		return -errno;
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	if (connect(c->sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		goto out;
	}
	/* 1. version, 2. our id, 3. -1 with the shared memory. */
	if ((rc = recv_msg(c->sock, &c->version, &fd, timeout_ms)) != 0)
		goto out;
	if (fd >= 0 || c->version != 0) {
		rc = -EPROTO;
		goto out;
	}
	if ((rc = recv_msg(c->sock, &c->id, &fd, timeout_ms)) != 0)
		goto out;
	if (fd >= 0 || c->id < 0 || c->id > 65535) {
		rc = -EPROTO;
		goto out;
	}
	if ((rc = recv_msg(c->sock, &v, &c->shm_fd, timeout_ms)) != 0)
		goto out;
	if (v != -1 || c->shm_fd < 0 || fstat(c->shm_fd, &st) < 0) {
		rc = -EPROTO;
		goto out;
	}
	c->shm_size = (uint64_t)st.st_size;
	c->shm = mmap(NULL, c->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->shm_fd, 0);
	if (c->shm == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	/* 4. other peers' vectors, 5. our own vectors (last). */
	while (c->nown < nvectors) {
		if ((rc = recv_msg(c->sock, &v, &fd, timeout_ms)) != 0)
			goto out;
		if (fd < 0) {
			rc = -EPROTO; /* a disconnect notice during set-up: not expected here */
			goto out;
		}
		if (v == c->id) {
			c->own_efd[c->nown++] = fd;
		} else if (c->npeer < IVS_CLIENT_MAX_VECTORS &&
		           (c->peer_id < 0 || v == c->peer_id)) {
			c->peer_id = v;
			c->peer_efd[c->npeer++] = fd;
		} else {
			close(fd);
		}
	}
	return 0;
out:
	ivs_client_close(c);
	return rc;
}

int ivs_client_ring(struct ivs_client *c, unsigned v)
{
	uint64_t one = 1;

	if (v >= c->npeer)
		return -EINVAL;
	return write(c->peer_efd[v], &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

int ivs_client_wait(struct ivs_client *c, unsigned v, int timeout_ms)
{
	struct pollfd p;
	uint64_t count;
	int rc;

	if (v >= c->nown)
		return -EINVAL;
	p.fd = c->own_efd[v];
	p.events = POLLIN;
	rc = poll(&p, 1, timeout_ms);
	if (rc <= 0)
		return rc < 0 ? -errno : 0;
	if (read(c->own_efd[v], &count, sizeof(count)) != sizeof(count))
		return -errno;
	return 1;
}

void ivs_client_close(struct ivs_client *c)
{
	unsigned i;

	if (c->shm != MAP_FAILED && c->shm)
		munmap(c->shm, c->shm_size);
	c->shm = MAP_FAILED;
	if (c->shm_fd >= 0)
		close(c->shm_fd);
	c->shm_fd = -1;
	for (i = 0; i < IVS_CLIENT_MAX_VECTORS; i++) {
		if (c->peer_efd[i] >= 0)
			close(c->peer_efd[i]);
		if (c->own_efd[i] >= 0)
			close(c->own_efd[i]);
		c->peer_efd[i] = c->own_efd[i] = -1;
	}
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
}
