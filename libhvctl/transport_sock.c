/*
 * A transport through a machine's control relay (relay.h): what hvctl_open_machine() uses
 * from a process other than the one that started the machine. The relay matches ids and
 * fans out events, so this side only frames messages onto a UNIX socket and reads them back.
 *
 * Threads: the reader thread reads frames and calls the sink (so, as the transport rules want,
 * sink calls come from one thread, in order); senders write whole frames under wlock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvctl-machine.h"
#include "internal.h"
#include "relay.h"

struct sock_transport {
	struct hvctl_transport base;
	int fd;
	char path[108];
	uint32_t limits[HVLINK_MAX_CHANNELS][2];
	pthread_mutex_t wlock;
	struct hvctl_transport_sink sink;
	pthread_t reader;
	int started;
};

static void *reader_main(void *arg)
{
	struct sock_transport *st = arg;
	char why[160];
	void *buf = NULL;

	for (;;) {
		struct relay_frame f;
		int rc = relay_read_full(st->fd, &f, sizeof(f), INT64_MAX);

		if (rc) {
			snprintf(why, sizeof(why), "the machine's relay at %s closed (%s)",
			         st->path, strerror(-rc));
			break;
		}
		if (f.magic != RELAY_MAGIC || f.len > RELAY_MAX_FRAME ||
		    (f.what == RELAY_MSG && f.len < HVLINK_MSG_HDR_SIZE)) {
			snprintf(why, sizeof(why), "garbled frame from the machine's relay at %s",
			         st->path);
			break;
		}
		free(buf);
		buf = malloc(f.len + 1);
		if (!buf || relay_read_full(st->fd, buf, f.len, 0)) {
			snprintf(why, sizeof(why), "the machine's relay at %s closed mid-frame",
			         st->path);
			break;
		}
		if (f.what == RELAY_MSG) {
			struct hvlink_msg hdr;

			memcpy(&hdr, buf, sizeof(hdr));
			if (hdr.len != f.len - HVLINK_MSG_HDR_SIZE) {
				snprintf(why, sizeof(why), "garbled message from the relay at %s",
				         st->path);
				break;
			}
			st->sink.deliver(st->sink.core, f.chan, &hdr,
			                 (char *)buf + HVLINK_MSG_HDR_SIZE);
		} else if (f.what == RELAY_STATE) {
			((char *)buf)[f.len] = '\0';
			st->sink.state(st->sink.core, f.up != 0, f.code, buf);
		}
	}
	free(buf);
	st->sink.state(st->sink.core, 0, HVCTL_ERR_LINK_DOWN, why);
	return NULL;
}

static int st_start(struct hvctl_transport *t, const struct hvctl_transport_sink *sink,
                    hvctl_error *err)
{
	struct sock_transport *st = (struct sock_transport *)t;

	st->sink = *sink;
	if (pthread_create(&st->reader, NULL, reader_main, st) != 0)
		return err_set(err, HVCTL_ERR_SYSTEM, "cannot start the relay reader thread");
	st->started = 1;
	return HVCTL_OK;
}

static int st_send(struct hvctl_transport *t, uint16_t chan, const struct hvlink_msg *hdr,
                   const void *payload, int64_t deadline_ns, hvctl_error *err)
{
	struct sock_transport *st = (struct sock_transport *)t;
	struct relay_frame f = {.magic = RELAY_MAGIC,
	                        .what = RELAY_MSG,
	                        .chan = chan,
	                        .len = HVLINK_MSG_HDR_SIZE + hdr->len};
	int rc;

	if (hdr->len > RELAY_MAX_FRAME - HVLINK_MSG_HDR_SIZE)
		return err_set(err, HVCTL_ERR_INVALID, "message of %u bytes is too large",
		               hdr->len);
	pthread_mutex_lock(&st->wlock);
	rc = relay_write_full(st->fd, &f, sizeof(f), deadline_ns);
	if (!rc)
		rc = relay_write_full(st->fd, hdr, sizeof(*hdr), deadline_ns);
	if (!rc && hdr->len)
		rc = relay_write_full(st->fd, payload, hdr->len, deadline_ns);
	if (rc) /* a frame cut in half cannot be resumed: the relay drops us, so do we */
		shutdown(st->fd, SHUT_RDWR);
	pthread_mutex_unlock(&st->wlock);
	if (rc == -ETIMEDOUT)
		return err_set(err, HVCTL_ERR_TIMEOUT,
		               "the machine's relay did not take the message");
	if (rc)
		return err_set(err, HVCTL_ERR_LINK_DOWN, "cannot write to the machine's relay: %s",
		               strerror(-rc));
	return HVCTL_OK;
}

static uint32_t st_max_payload(struct hvctl_transport *t, uint16_t chan, int to_machine)
{
	struct sock_transport *st = (struct sock_transport *)t;

	if (chan >= HVLINK_MAX_CHANNELS)
		return 0;
	return st->limits[chan][to_machine ? 0 : 1];
}

static void st_close(struct hvctl_transport *t)
{
	struct sock_transport *st = (struct sock_transport *)t;

	shutdown(st->fd, SHUT_RDWR);
	if (st->started)
		pthread_join(st->reader, NULL);
	close(st->fd);
	pthread_mutex_destroy(&st->wlock);
	free(st);
}

static const struct hvctl_transport_ops sock_ops = {
    .name = "relay",
    .start = st_start,
    .send = st_send,
    .max_payload = st_max_payload,
    .close = st_close,
};

int sock_transport_new(const char *path, struct hvctl_transport **out, hvctl_error *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct sock_transport *st;
	struct relay_frame f;

	*out = NULL;
	if (strlen(path) >= sizeof(a.sun_path))
		return err_set(err, HVCTL_ERR_INVALID, "socket path too long: %s", path);
	strcpy(a.sun_path, path);
	st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(err, HVCTL_ERR_SYSTEM, "out of memory");
	st->base.ops = &sock_ops;
	snprintf(st->path, sizeof(st->path), "%s", path);
	pthread_mutex_init(&st->wlock, NULL);
	st->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (st->fd < 0 || connect(st->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;

		if (st->fd >= 0)
			close(st->fd);
		free(st);
		return err_set(err, HVCTL_ERR_LINK_DOWN,
		               "no machine answers at %s: %s (is hv-machine running?)", path,
		               strerror(e));
	}
	if (relay_read_full(st->fd, &f, sizeof(f), 0) || f.magic != RELAY_MAGIC ||
	    f.what != RELAY_LIMITS || f.len != sizeof(st->limits) ||
	    relay_read_full(st->fd, st->limits, sizeof(st->limits), 0)) {
		close(st->fd);
		free(st);
		return err_set(err, HVCTL_ERR_PROTOCOL, "%s is not a machine's control relay",
		               path);
	}
	*out = &st->base;
	return HVCTL_OK;
}

int hvctl_open_machine(const char *state_dir, hvctl **out)
{
	struct hvctl_transport *t;
	hvctl_error err = {0};
	char path[4096];

	*out = NULL;
	if (!state_dir)
		return err_publish(&(hvctl_error){.code = HVCTL_ERR_INVALID,
		                                  .message = "no machine state directory given"},
		                   "opening the machine");
	snprintf(path, sizeof(path), "%s/hvctl.sock", state_dir);
	if (sock_transport_new(path, &t, &err) != 0)
		return err_publish(&err, "opening the machine");
	return hvctl_open_transport(t, out);
}
