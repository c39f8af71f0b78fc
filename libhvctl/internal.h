/*
 * libhvctl's internals shared between its files (not installed).
 *
 * Error flow: internal functions fill a caller-provided hvctl_error and return its code; the
 * public entry points publish the final error to the thread's last error (error.c) once,
 * prefixed with what the call was doing.
 */
#ifndef HVCTL_INTERNAL_H
#define HVCTL_INTERNAL_H

#include <stdint.h>

#include "hvctl.h"
#include "link_ctl.h"
#include "link_proto.h"
#include "transport.h"

#define HVCTL_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t now_ns(void);

/* Sets err to code with a printf-style message; returns code. err may be NULL. */
int err_set(hvctl_error *err, int code, const char *fmt, ...) HVCTL_PRINTF(3, 4);

/* Maps a negative errno from the machine (hvlink_msg.status) to an enum hvctl_status. */
int err_from_remote(int32_t status);

/* The errno's symbolic name ("ESRCH") for messages, or NULL if unknown. */
const char *err_remote_name(int32_t status);

/*
 * Publishes err as this thread's last error, its message prefixed with "what: " (what may be
 * NULL). Returns err->code.
 */
int err_publish(const hvctl_error *err, const char *what);

/*
 * One request/response exchange on a channel (core.c). Sends hdr type/kind with payload,
 * waits up to the handle's timeout for the response with the same id, copies its payload to
 * rsp (at most cap bytes, *rsp_len gets the length). Remote failures (status < 0) come back
 * as their mapped code with the machine's message (or the errno name) in err.
 */
int core_call(hvctl *h, uint16_t chan, uint16_t type, const void *req, uint32_t req_len, void *rsp,
              uint32_t cap, uint32_t *rsp_len, hvctl_error *err);

/* Sends a message that expects no response (events, bulk data). */
int core_send(hvctl *h, uint16_t chan, uint16_t type, uint16_t kind, const void *payload,
              uint32_t len, int64_t deadline_ns, hvctl_error *err);

/* The handle's per-call timeout in ns, and the transport's largest payload on chan. */
int64_t core_timeout_ns(hvctl *h);
uint32_t core_max_payload(hvctl *h, uint16_t chan, int to_machine);

/* Serialises image uploads on the bulk channel; returns a fresh transfer id. */
uint32_t core_bulk_begin(hvctl *h);
void core_bulk_end(hvctl *h);

/* Registers the event callback locally (NULL to remove). */
void core_set_subscriber(hvctl *h, hvctl_event_cb cb, void *opaque);

/*
 * One control-channel call with a response of exactly rsp_len bytes (domain.c). On failure
 * publishes the error as "cannot <action>[ domain <domid>]: <reason>" and returns its code.
 * domid < 0: the operation names no domain.
 */
int ctl_call(hvctl *h, uint16_t chan, uint16_t op, const void *req, uint32_t req_len, void *rsp,
             uint32_t rsp_len, const char *action, int64_t domid);

/* Fills a request head for domid with the current control interface version. */
void ctl_head(struct hvlink_ctl_head *head, uint32_t domid);

/* Publishes an argument error found before anything was sent. */
int ctl_invalid(const char *action, int64_t domid, const char *fmt, ...) HVCTL_PRINTF(3, 4);

/* bulk.c: streams an image on the bulk channel; returns its transfer id in *xfer. */
int bulk_upload(hvctl *h, uint32_t kind, const void *data, size_t len, uint32_t *xfer,
                hvctl_error *err);
uint32_t bulk_crc32(const void *data, size_t len);

#endif
