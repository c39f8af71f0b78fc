/*
 * A small client of QEMU's machine protocol (QMP, docs/interop/qmp-spec.rst) over a UNIX
 * socket, for the machine starter (machine.c): connect, negotiate capabilities, run a command
 * and wait for its reply with a deadline.
 *
 * QMP sends one JSON object per line: the greeting ({"QMP": ...}), replies ({"return": ...} or
 * {"error": {"class", "desc"}}) and asynchronous events ({"event": ...}) at any time. A reply
 * answers the oldest command; this client runs one command at a time (callers serialise), so
 * the first reply after a command is its own. Events met while waiting are counted and the
 * last one's name kept (SHUTDOWN, STOP, ...), never mistaken for a reply.
 *
 * Not thread-safe: callers hold a lock around every call.
 */
#ifndef HVCTL_QMP_H
#define HVCTL_QMP_H

#include <json-c/json.h>

#include "hvctl.h"

struct qmp {
	int fd;
	char *buf; /* bytes received, not yet parsed into lines */
	size_t have, cap;
	unsigned long events; /* asynchronous events seen */
	char last_event[64];  /* the last one's name */
	int shutdown_seen;    /* a SHUTDOWN event arrived */
};

/*
 * Connects to QEMU's QMP socket at path, retrying until timeout_ms passes (QEMU creates the
 * socket a little after it starts), reads the greeting and sends qmp_capabilities.
 * alive(opaque) is asked between retries and ends the wait early when it returns 0 (QEMU
 * died). Returns 0 or a negative enum hvctl_status with err filled.
 */
int qmp_open(struct qmp *q, const char *path, unsigned timeout_ms, int (*alive)(void *),
             void *opaque, hvctl_error *err);

/*
 * Runs command with args (a JSON object or NULL; not consumed) and waits up to timeout_ms for
 * its reply. On success *ret (if not NULL) gets the "return" value (a new reference, the
 * caller puts it). A QMP error comes back as HVCTL_ERR_REMOTE with QEMU's class and text.
 */
int qmp_command(struct qmp *q, const char *command, json_object *args, unsigned timeout_ms,
                json_object **ret, hvctl_error *err);

/* Waits up to timeout_ms for an event named name (or any event when name is NULL); returns
 * 1 when it came (or had come: SHUTDOWN is remembered), 0 on timeout or a closed socket. */
int qmp_wait_event(struct qmp *q, const char *name, unsigned timeout_ms);

void qmp_close(struct qmp *q);

#endif
