/*
 * The ivshmem server (libhvctl/ivshmem_server.c) against our own client of the protocol
 * (ivshmem_client.c): handshake contents, shared memory really shared, doorbells in both
 * directions, one machine at a time, disconnect noticed, reconnect, bad parameters refused.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ivshmem_client.h"
#include "ivshmem_server.h"

static char sock_path[108];

struct connector {
	struct ivs_client c;
	int rc;
};

static void *connect_main(void *arg)
{
	struct connector *k = arg;

	k->rc = ivs_client_connect(&k->c, sock_path, 2, 5000);
	return NULL;
}

static int readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, timeout_ms) == 1;
}

/* Starts a client in a thread and lets the server accept it; returns accept's result. */
static int connect_one(struct ivs_server *s, struct connector *k)
{
	pthread_t t;
	hvctl_error err = {0};
	int rc;

	pthread_create(&t, NULL, connect_main, k);
	REQUIRE(readable(s->listen_fd, 5000));
	rc = ivs_server_accept(s, &err);
	if (rc < 0)
		fprintf(stderr, "accept: %s\n", err.message);
	pthread_join(t, NULL);
	return rc;
}

int main(void)
{
	char dir[] = "/tmp/hvctl-ivs-XXXXXX";
	struct ivs_server s;
	struct connector a, b, c;
	hvctl_error err = {0};
	struct stat st;

	alarm(60);
	REQUIRE(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/link.sock", dir);

	/* Parameters a PCI BAR and the doorbell cannot take are refused with a message. */
	CHECK_EQ(ivs_server_open(&s, sock_path, 3 << 20, 2, &err), -EINVAL);
	CHECK(strstr(err.message, "power of two") != NULL);
	CHECK_EQ(ivs_server_open(&s, sock_path, 1 << 20, 0, &err), -EINVAL);
	CHECK_EQ(ivs_server_open(&s, sock_path, 1 << 20, 17, &err), -EINVAL);
	CHECK(stat(sock_path, &st) != 0);

	REQUIRE(ivs_server_open(&s, sock_path, 1 << 20, 2, &err) == 0);
	CHECK(stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode));

	/* Handshake: version 0, an id that is not the host's, the memory, 2+2 eventfds. */
	CHECK_EQ(connect_one(&s, &a), 1);
	REQUIRE(a.rc == 0);
	CHECK_EQ(a.c.version, 0);
	CHECK_EQ(a.c.id, s.client_id);
	CHECK(a.c.id != IVS_HOST_PEER_ID);
	CHECK_EQ(a.c.peer_id, IVS_HOST_PEER_ID);
	CHECK_EQ(a.c.npeer, 2);
	CHECK_EQ(a.c.nown, 2);
	CHECK_EQ(a.c.shm_size, 1 << 20);

	/* The memory is the same memory on both sides. */
	memcpy((char *)s.shm + 4096, "from the host", 14);
	CHECK(memcmp((char *)a.c.shm + 4096, "from the host", 14) == 0);
	memcpy((char *)a.c.shm + (1 << 20) - 16, "from the guest", 15);
	CHECK(memcmp((char *)s.shm + (1 << 20) - 16, "from the guest", 15) == 0);

	/* Doorbells: machine → host on vector 1 only; host → machine on vector 0 only. */
	CHECK(!readable(s.host_efd[1], 0));
	CHECK_EQ(ivs_client_ring(&a.c, 1), 0);
	CHECK(readable(s.host_efd[1], 1000));
	CHECK(!readable(s.host_efd[0], 0));
	CHECK_EQ(ivs_server_ack(&s, 1), 1);
	CHECK(!readable(s.host_efd[1], 0));
	CHECK_EQ(ivs_server_notify(&s, 0), 0);
	CHECK_EQ(ivs_client_wait(&a.c, 0, 1000), 1);
	CHECK_EQ(ivs_client_wait(&a.c, 1, 0), 0);
	CHECK_EQ(ivs_server_notify(&s, 2), -EINVAL);

	/* One machine at a time: a second connection is closed without a handshake. */
	CHECK_EQ(connect_one(&s, &b), 0);
	CHECK_EQ(b.rc, -ECONNRESET);
	CHECK_EQ(s.refused, 1);
	CHECK(!readable(s.client_fd, 0)); /* the first client is untouched */
	CHECK_EQ(ivs_server_check_client(&s), 0);

	/* The machine goes away: noticed, the host can no longer ring it. */
	ivs_client_close(&a.c);
	CHECK(readable(s.client_fd, 1000));
	CHECK_EQ(ivs_server_check_client(&s), 1);
	CHECK_EQ(s.client_fd, -1);
	CHECK_EQ(ivs_server_notify(&s, 0), -ENOTCONN);

	/* A new machine gets a fresh id and working doorbells. */
	CHECK_EQ(connect_one(&s, &c), 1);
	REQUIRE(c.rc == 0);
	CHECK(c.c.id != a.c.id);
	CHECK_EQ(ivs_server_notify(&s, 1), 0);
	CHECK_EQ(ivs_client_wait(&c.c, 1, 1000), 1);
	CHECK_EQ(ivs_client_ring(&c.c, 0), 0);
	CHECK(readable(s.host_efd[0], 1000));
	CHECK(memcmp((char *)c.c.shm + 4096, "from the host", 14) == 0);
	ivs_client_close(&c.c);

	ivs_server_close(&s);
	CHECK(stat(sock_path, &st) != 0); /* socket file removed */
	rmdir(dir);
	CHECK_DONE();
}
