/*
 * libhvctl's console operations, on the link's console channel: read a domain's console
 * output, write to its console input. Requests are bounded by the channel's largest message;
 * a longer write is split and a read returns at most one message's worth.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int hvctl_console_read(hvctl *h, uint32_t domid, void *buf, size_t cap, size_t *got)
{
	struct hvlink_con_read req;
	hvctl_error err = {0};
	uint32_t max, n = 0;
	int rc;

	if (!buf || !got)
		return ctl_invalid("read the console of", domid, "no buffer given");
	*got = 0;
	if (!h)
		return ctl_invalid("read the console of", domid, "no handle");
	max = core_max_payload(h, HVLINK_CHAN_CONSOLE, 0);
	if (max == 0)
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_UNSUPPORTED,
		                   .message = "the machine offers no console channel"},
		    "cannot read the console");
	memset(&req, 0, sizeof(req));
	ctl_head(&req.head, domid);
	req.max = cap < max ? (uint32_t)cap : max;
	rc = core_call(h, HVLINK_CHAN_CONSOLE, HVLINK_CON_READ, &req, sizeof(req), buf, req.max, &n,
	               &err);
	if (rc != HVCTL_OK)
		return err_publish(&err, "cannot read the console");
	*got = n;
	return HVCTL_OK;
}

int hvctl_console_write(hvctl *h, uint32_t domid, const void *buf, size_t len, size_t *written)
{
	struct hvlink_con_write head;
	hvctl_error err = {0};
	uint32_t max, chunk;
	size_t done = 0;
	uint8_t *msg;
	int rc = HVCTL_OK;

	if ((!buf && len) || !written)
		return ctl_invalid("write to the console of", domid, "no buffer given");
	*written = 0;
	if (!h)
		return ctl_invalid("write to the console of", domid, "no handle");
	max = core_max_payload(h, HVLINK_CHAN_CONSOLE, 1);
	if (max <= sizeof(head))
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_UNSUPPORTED,
		                   .message = "the machine offers no console channel"},
		    "cannot write to the console");
	msg = malloc(max);
	if (!msg)
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_SYSTEM, .message = "out of memory"},
		    "cannot write to the console");
	ctl_head(&head.head, domid);
	memcpy(msg, &head, sizeof(head));
	while (done < len) {
		struct hvlink_con_written rsp;
		uint32_t n = 0;

		chunk = len - done < max - sizeof(head) ? (uint32_t)(len - done)
		                                        : (uint32_t)(max - sizeof(head));
		memcpy(msg + sizeof(head), (const uint8_t *)buf + done, chunk);
		rc = core_call(h, HVLINK_CHAN_CONSOLE, HVLINK_CON_WRITE, msg, sizeof(head) + chunk,
		               &rsp, sizeof(rsp), &n, &err);
		if (rc == HVCTL_OK && (n != sizeof(rsp) || rsp.written > chunk))
			rc = err_set(&err, HVCTL_ERR_PROTOCOL, "malformed console write response");
		if (rc != HVCTL_OK)
			break;
		done += rsp.written;
		if (rsp.written < chunk)
			break; /* the console's input buffer is full: report what went */
	}
	free(msg);
	*written = done;
	if (rc != HVCTL_OK)
		return err_publish(&err, "cannot write to the console");
	return HVCTL_OK;
}
