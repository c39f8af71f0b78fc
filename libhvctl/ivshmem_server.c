/*
 * The ivshmem server for the management link (see ivshmem_server.h for the protocol).
 *
 * Invariants: host_efd[] and the shared memory live as long as the server; client_fd and
 * client_efd[] are all valid (client connected) or all -1; a failed handshake leaves no
 * client behind. Sockets are blocking with a send timeout so that a stuck peer cannot hang the
 * link thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ivshmem_server.h"

static int fail(hvctl_error *err, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills err (if any) with "<what>: <strerror>" and returns -e. */
static int fail(hvctl_error *err, int e, const char *fmt, ...)
{
	if (err) {
		char detail[200];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
		err->code = HVCTL_ERR_SYSTEM;
		err->remote_errno = 0;
		snprintf(err->message, sizeof(err->message), "%s: %s", detail, strerror(e));
	}
	return -e;
}

static void close_fds(int *fds, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int ivs_server_open(struct ivs_server *s, const char *path, uint64_t shm_size, unsigned nvectors,
                    hvctl_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	unsigned i;
	int e;

	memset(s, 0, sizeof(*s));
	s->listen_fd = s->shm_fd = s->client_fd = -1;
	s->shm = MAP_FAILED;
	for (i = 0; i < IVS_MAX_VECTORS; i++)
		s->host_efd[i] = s->client_efd[i] = -1;
	if (nvectors == 0 || nvectors > IVS_MAX_VECTORS)
		return fail(err, EINVAL, "invalid number of vectors %u (1 to 16 allowed)",
		            nvectors);
	if (shm_size < 65536 || (shm_size & (shm_size - 1)))
		return fail(err, EINVAL,
		            "invalid shared memory size %llu (a power of two of at least 64 KiB)",
		            (unsigned long long)shm_size);
	if (strlen(path) >= sizeof(addr.sun_path))
		return fail(err, ENAMETOOLONG, "socket path %s", path);
	s->nvectors = nvectors;
	s->shm_size = shm_size;
	s->next_id = IVS_HOST_PEER_ID + 1;
	snprintf(s->path, sizeof(s->path), "%s", path);

	s->shm_fd = memfd_create("hv-management-link", MFD_CLOEXEC);
	if (s->shm_fd < 0)
		return fail(err, errno, "memfd_create");
	if (ftruncate(s->shm_fd, (off_t)shm_size) < 0) {
		e = errno;
		ivs_server_close(s);
		return fail(err, e, "sizing the shared memory");
	}
	s->shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, s->shm_fd, 0);
	if (s->shm == MAP_FAILED) {
		e = errno;
		ivs_server_close(s);
		return fail(err, e, "mapping the shared memory");
	}
	for (i = 0; i < nvectors; i++) {
		s->host_efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->host_efd[i] < 0) {
			e = errno;
			ivs_server_close(s);
			return fail(err, e, "eventfd");
		}
	}

	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		e = errno;
		ivs_server_close(s);
		return fail(err, e, "socket");
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	{
		struct stat st;
		/* Replace a stale socket from an earlier run, never any other kind of file. */
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
	}
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s->listen_fd, 4) < 0) {
		e = errno;
		s->path[0] = '\0'; /* not ours to unlink */
		ivs_server_close(s);
		return fail(err, e, "cannot listen on %s", path);
	}
	return 0;
}

/* One protocol message: an int64 (little endian, as x86 is) and optionally one fd. */
static int send_msg(int sock, int64_t value, int fd)
{
	struct iovec iov = {.iov_base = &value, .iov_len = sizeof(value)};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(value) ? 0 : -EIO;
}

int ivs_server_accept(struct ivs_server *s, hvctl_error *err)
{
	struct timeval tv = {.tv_sec = 5};
	int efd[IVS_MAX_VECTORS];
	unsigned i;
	int fd, rc;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return fail(err, errno, "accept");
	if (s->client_fd >= 0) {
		/* One machine per link: the newcomer learns nothing and is closed. */
		close(fd);
		s->refused++;
		return 0;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (i = 0; i < IVS_MAX_VECTORS; i++)
		efd[i] = -1;
	for (i = 0; i < s->nvectors; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd[i] < 0) {
			rc = -errno;
			goto out_fail;
		}
	}
	if (s->next_id == IVS_HOST_PEER_ID)
		s->next_id++;

	rc = send_msg(fd, IVS_PROTOCOL_VERSION, -1);
	if (!rc)
		rc = send_msg(fd, s->next_id, -1);
	if (!rc)
		rc = send_msg(fd, -1, s->shm_fd);
	for (i = 0; !rc && i < s->nvectors; i++)
		rc = send_msg(fd, IVS_HOST_PEER_ID, s->host_efd[i]);
	for (i = 0; !rc && i < s->nvectors; i++)
		rc = send_msg(fd, s->next_id, efd[i]);
	if (rc)
		goto out_fail;

	s->client_fd = fd;
	s->client_id = s->next_id++;
	memcpy(s->client_efd, efd, sizeof(efd));
	s->accepted++;
	return 1;

out_fail:
	close_fds(efd, IVS_MAX_VECTORS);
	close(fd);
	return fail(err, -rc, "handshake with the machine (ivshmem client) failed");
}

int ivs_server_check_client(struct ivs_server *s)
{
	char buf[64];
	ssize_t n;

	if (s->client_fd < 0)
		return 0;
	n = recv(s->client_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return 0; /* a client that talks is ignored (QEMU never does) */
	ivs_server_drop_client(s);
	return 1;
}

void ivs_server_drop_client(struct ivs_server *s)
{
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
	close_fds(s->client_efd, IVS_MAX_VECTORS);
}

int ivs_server_notify(struct ivs_server *s, unsigned v)
{
	uint64_t one = 1;

	if (v >= s->nvectors)
		return -EINVAL;
	if (s->client_efd[v] < 0)
		return -ENOTCONN;
	/* EAGAIN means the counter is saturated: the machine has been rung already. */
	if (write(s->client_efd[v], &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

uint64_t ivs_server_ack(struct ivs_server *s, unsigned v)
{
	uint64_t count = 0;

	if (v >= s->nvectors || read(s->host_efd[v], &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}

void ivs_server_close(struct ivs_server *s)
{
	ivs_server_drop_client(s);
	close_fds(s->host_efd, IVS_MAX_VECTORS);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->path[0])
			unlink(s->path);
	}
	s->listen_fd = -1;
	if (s->shm != MAP_FAILED && s->shm)
		munmap(s->shm, s->shm_size);
	s->shm = MAP_FAILED;
	if (s->shm_fd >= 0)
		close(s->shm_fd);
	s->shm_fd = -1;
}
