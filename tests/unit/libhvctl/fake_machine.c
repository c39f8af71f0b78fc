/*
 * fake-machine DIR: a stand-in for a machine started by hv-machine, for the tests of hvctl
 * and of the control relay: it serves the management link and the relay in DIR exactly as
 * hvctl_machine_start() does (DIR/ivshmem.sock, DIR/hvctl.sock), but the "machine" is a
 * thread that connects as QEMU's ivshmem device would and answers through the fake agent
 * (fake_agent.c) over the real rings. It writes DIR/ready once the agent has attached, and
 * runs until SIGTERM/SIGINT or for at most 120 s. NOT the machine: no hv, no QEMU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_agent.h"
#include "guest.h"
#include "hvctl-machine.h"
#include "hvctl.h"
#include "internal.h"
#include "ivshmem_client.h"
#include "layout.h"
#include "relay.h"
#include "ring.h"

static struct fake_agent agent;
static struct ivs_client client;
static struct hvlink_guest guest;
static int stop_fd;
static char ivs_path[4200];

static int doorbell_wait(int timeout_ms)
{
	struct pollfd p[IVS_CLIENT_MAX_VECTORS + 1];
	unsigned v, n = 0;

	p[n++] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
	for (v = 0; v < client.nown; v++)
		p[n++] = (struct pollfd){.fd = client.own_efd[v], .events = POLLIN};
	if (poll(p, n, timeout_ms) <= 0)
		return 0;
	if (p[0].revents)
		return -1;
	for (v = 0; v < client.nown; v++) {
		uint64_t count;

		if ((p[1 + v].revents & POLLIN) &&
		    read(client.own_efd[v], &count, sizeof(count)) != sizeof(count))
			return -1;
	}
	return 1;
}

static void reply(void *ctx, uint16_t chan, const struct hvlink_msg *hdr, const void *payload)
{
	struct hvlink_guest_chan *ch = hvlink_guest_chan(&guest, chan);
	int rc;

	(void)ctx;
	if (!ch)
		return;
	while ((rc = hvlink_ring_write(&ch->tx, hdr, payload)) == -HVLINK_EAGAIN) {
		if (hvlink_ring_publish(&ch->tx) == 1)
			ivs_client_ring(&client, ch->vector);
		if (hvlink_ring_want_space(&ch->tx, hdr->len) == 0 && doorbell_wait(5000) < 0)
			return;
	}
	if (rc == 0 && hvlink_ring_publish(&ch->tx) == 1)
		ivs_client_ring(&client, ch->vector);
}

static void *machine_main(void *arg)
{
	uint8_t *buf;
	unsigned i;

	(void)arg;
	if (ivs_client_connect(&client, ivs_path, 2, 5000) != 0 ||
	    !hvlink_guest_host_ready(client.shm) ||
	    hvlink_guest_attach(&guest, client.shm, client.shm_size, (uint32_t)client.id) != 0) {
		fprintf(stderr, "fake-machine: cannot attach to the link\n");
		exit(1);
	}
	ivs_client_ring(&client, 0);
	buf = malloc(client.shm_size);
	for (;;) {
		int busy = 0;

		for (i = 0; i < guest.nr_chans; i++) {
			struct hvlink_guest_chan *ch = &guest.chans[i];
			struct hvlink_msg msg;
			int rc;

			while ((rc = hvlink_ring_peek(&ch->rx, &msg)) == 1) {
				hvlink_ring_copy_payload(&ch->rx, 0, buf, msg.len);
				if (hvlink_ring_consume(&ch->rx) == 1)
					ivs_client_ring(&client, ch->vector);
				fake_agent_handle(&agent, ch->type, &msg, buf, reply, NULL);
			}
			if (rc == 0 && hvlink_ring_prepare_wait(&ch->rx) == 1)
				busy = 1;
		}
		if (!busy && doorbell_wait(-1) < 0)
			break;
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	hvctl_link_config cfg = {.vectors = 2};
	struct hvctl_transport *lt;
	struct relay *relay;
	hvctl_error err = {0};
	char relay_path[4200], ready[4200];
	pthread_t thread;
	sigset_t set;
	hvctl *h;
	FILE *f;
	int sig;
	uint64_t one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: fake-machine DIR\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	alarm(120);
	mkdir(argv[1], 0755);
	snprintf(ivs_path, sizeof(ivs_path), "%s/ivshmem.sock", argv[1]);
	snprintf(relay_path, sizeof(relay_path), "%s/hvctl.sock", argv[1]);
	snprintf(ready, sizeof(ready), "%s/ready", argv[1]);
	unlink(ready);
	fake_agent_init(&agent, 4);
	cfg.socket_path = ivs_path;
	if (link_transport_new(&cfg, &lt, &err) || relay_start(lt, relay_path, &relay, &err)) {
		fprintf(stderr, "fake-machine: %s\n", err.message);
		return 1;
	}
	stop_fd = eventfd(0, EFD_CLOEXEC);
	pthread_create(&thread, NULL, machine_main, NULL);
	/* Ready once a client of the relay sees the agent answer. */
	if (hvctl_open_machine(argv[1], &h) != HVCTL_OK || hvctl_wait_ready(h, 10000) != HVCTL_OK) {
		fprintf(stderr, "fake-machine: %s\n", hvctl_last_error()->message);
		return 1;
	}
	hvctl_close(h);
	f = fopen(ready, "w");
	if (f)
		fclose(f);
	printf("fake-machine: ready in %s\n", argv[1]);
	fflush(stdout);
	sigwait(&set, &sig);
	if (write(stop_fd, &one, sizeof(one)) < 0)
		perror("fake-machine");
	pthread_join(thread, NULL);
	relay_stop(relay);
	ivs_client_close(&client);
	unlink(ready);
	fake_agent_destroy(&agent);
	return sig == SIGALRM ? 1 : 0;
}
