/*
 * QMP client (see qmp.h). Every read is bounded by a deadline; a line that is not a JSON
 * object, or a reply that is neither "return" nor "error", is a protocol error, not a crash.
 * Lines longer than QMP_MAX_LINE end the connection: QEMU never sends one that long for the
 * commands we run, so it is not QEMU talking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "qmp.h"

#define QMP_MAX_LINE (4u << 20)

static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ns();

	if (left <= 0)
		return 0;
	return (int)((left + 999999) / 1000000);
}

/* Reads more bytes, waiting until deadline. 1: got some; 0: timeout; -1: closed/error. */
static int fill(struct qmp *q, int64_t deadline)
{
	struct pollfd p = {.fd = q->fd, .events = POLLIN};
	ssize_t n;
	int r;

	if (q->have + 4096 > q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 65536;
		char *nb;

		if (cap > QMP_MAX_LINE)
			return -1;
		nb = realloc(q->buf, cap);
		if (!nb)
			return -1;
		q->buf = nb;
		q->cap = cap;
	}
	do
		r = poll(&p, 1, remaining_ms(deadline));
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0)
		return -1;
	n = read(q->fd, q->buf + q->have, q->cap - q->have);
	if (n <= 0)
		return -1;
	q->have += (size_t)n;
	return 1;
}

/*
 * Returns the next JSON object QEMU sent, waiting until deadline; NULL on timeout, on a
 * closed socket or a garbled line (*why says which).
 */
static json_object *next_object(struct qmp *q, int64_t deadline, const char **why)
{
	for (;;) {
		char *nl = q->have ? memchr(q->buf, '\n', q->have) : NULL;
		int r;

		if (nl) {
			size_t len = (size_t)(nl - q->buf) + 1;
			json_object *o;

			*nl = '\0';
			o = json_tokener_parse(q->buf);
			memmove(q->buf, q->buf + len, q->have - len);
			q->have -= len;
			if (!o || !json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				*why = "QEMU sent a line that is not a JSON object";
				return NULL;
			}
			return o;
		}
		r = fill(q, deadline);
		if (r == 0) {
			*why = "no answer from QEMU in time";
			return NULL;
		}
		if (r < 0) {
			*why = "QEMU closed its QMP socket";
			return NULL;
		}
	}
}

/* Notes an event; returns 1 if o was one. */
static int note_event(struct qmp *q, json_object *o)
{
	json_object *ev;

	if (!json_object_object_get_ex(o, "event", &ev))
		return 0;
	q->events++;
	snprintf(q->last_event, sizeof(q->last_event), "%s", json_object_get_string(ev));
	if (strcmp(q->last_event, "SHUTDOWN") == 0)
		q->shutdown_seen = 1;
	return 1;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int qmp_open(struct qmp *q, const char *path, unsigned timeout_ms, int (*alive)(void *),
             void *opaque, hvctl_error *err)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	const char *why = NULL;
	json_object *greeting;
	int last_errno = 0, rc;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	for (;;) {
		q->fd = connect_unix(path);
		if (q->fd >= 0)
			break;
		last_errno = errno;
		if (last_errno == ENAMETOOLONG)
			return err_set(err, HVCTL_ERR_INVALID, "QMP socket path too long: %s",
			               path);
		if (alive && !alive(opaque))
			return err_set(err, HVCTL_ERR_LINK_DOWN,
			               "QEMU exited before its QMP socket %s answered", path);
		if (now_ns() >= deadline)
			return err_set(err, HVCTL_ERR_TIMEOUT,
			               "cannot connect to QEMU's QMP socket %s within %u ms: %s",
			               path, timeout_ms, strerror(last_errno));
		usleep(20000);
	}
	greeting = next_object(q, deadline, &why);
	if (!greeting || !json_object_object_get_ex(greeting, "QMP", NULL)) {
		json_object_put(greeting);
		qmp_close(q);
		return err_set(err, HVCTL_ERR_PROTOCOL, "no QMP greeting on %s: %s", path,
		               why ? why : "the first line is not one");
	}
	json_object_put(greeting);
	rc = qmp_command(q, "qmp_capabilities", NULL, remaining_ms(deadline) + 1, NULL, err);
	if (rc)
		qmp_close(q);
	return rc;
}

int qmp_command(struct qmp *q, const char *command, json_object *args, unsigned timeout_ms,
                json_object **ret, hvctl_error *err)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	json_object *cmd, *o, *val, *e;
	const char *text;
	size_t len, off = 0;

	if (ret)
		*ret = NULL;
	if (q->fd < 0)
		return err_set(err, HVCTL_ERR_LINK_DOWN, "QMP is not connected");
	cmd = json_object_new_object();
	json_object_object_add(cmd, "execute", json_object_new_string(command));
	if (args)
		json_object_object_add(cmd, "arguments", json_object_get(args));
	text = json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	while (off < len) {
		ssize_t n = send(q->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;

			json_object_put(cmd);
			/* QEMU already gone: what quit asks for is done. */
			if (strcmp(command, "quit") == 0 && (e == EPIPE || e == ECONNRESET))
				return HVCTL_OK;
			return err_set(err, HVCTL_ERR_LINK_DOWN, "cannot send '%s' to QEMU: %s",
			               command, strerror(e));
		}
		off += (size_t)n;
	}
	json_object_put(cmd);
	if (send(q->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return err_set(err, HVCTL_ERR_LINK_DOWN, "cannot send '%s' to QEMU", command);

	for (;;) {
		const char *why = NULL;

		o = next_object(q, deadline, &why);
		/* QEMU may exit before its reply to quit gets out: the close is the answer. */
		if (!o && strcmp(command, "quit") == 0 && strstr(why, "closed"))
			return HVCTL_OK;
		if (!o)
			return err_set(err,
			               strstr(why, "in time")       ? HVCTL_ERR_TIMEOUT
			               : strstr(why, "JSON object") ? HVCTL_ERR_PROTOCOL
			                                            : HVCTL_ERR_LINK_DOWN,
			               "QMP '%s': %s", command, why);
		if (note_event(q, o)) {
			json_object_put(o);
			continue;
		}
		break;
	}
	if (json_object_object_get_ex(o, "return", &val)) {
		if (ret)
			*ret = json_object_get(val);
		json_object_put(o);
		return HVCTL_OK;
	}
	if (json_object_object_get_ex(o, "error", &e)) {
		json_object *cls = NULL, *desc = NULL;

		json_object_object_get_ex(e, "class", &cls);
		json_object_object_get_ex(e, "desc", &desc);
		err_set(err, HVCTL_ERR_REMOTE, "QMP '%s' failed: %s: %s", command,
		        cls ? json_object_get_string(cls) : "?",
		        desc ? json_object_get_string(desc) : "(no description)");
		json_object_put(o);
		return HVCTL_ERR_REMOTE;
	}
	json_object_put(o);
	return err_set(err, HVCTL_ERR_PROTOCOL, "QMP '%s': a reply with neither return nor error",
	               command);
}

int qmp_wait_event(struct qmp *q, const char *name, unsigned timeout_ms)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;

	if (name && strcmp(name, "SHUTDOWN") == 0 && q->shutdown_seen)
		return 1;
	while (q->fd >= 0) {
		const char *why = NULL;
		json_object *o = next_object(q, deadline, &why);
		int match;

		if (!o)
			return 0;
		match = note_event(q, o) && (!name || strcmp(q->last_event, name) == 0);
		json_object_put(o);
		if (match)
			return 1;
	}
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	free(q->buf);
	q->buf = NULL;
	q->have = q->cap = 0;
}
