/*
 * XenStore from a domU of guest-kernel (arch/pv/xenbus.c): the store ring of start_info
 * (store_mfn, store_evtchn), the xs_wire protocol (public/io/xs_wire.h), one request at a time.
 * Paths not starting with '/' are relative to /local/domain/<our domid>. Functions return 0
 * (or a length) or a negative Xen errno; -XEN_ENODEV when the domain has no store.
 */
#ifndef GK_XENBUS_H
#define GK_XENBUS_H

#include <klib/compiler.h>

/* XenBus device states (the values of the "state" nodes). */
enum xenbus_state {
	XenbusStateUnknown = 0,
	XenbusStateInitialising = 1,
	XenbusStateInitWait = 2,
	XenbusStateInitialised = 3,
	XenbusStateConnected = 4,
	XenbusStateClosing = 5,
	XenbusStateClosed = 6,
	XenbusStateReconfiguring = 7,
	XenbusStateReconfigured = 8,
};

int xenbus_init(void);
int xenbus_read(const char *path, char *buf, unsigned int size); /* length, NUL-terminated */
int xenbus_read_u64(const char *path, uint64_t *v);
int xenbus_write(const char *path, const char *value);
int xenbus_printf(const char *path, const char *fmt, ...) __printf(2, 3);
/* Names of dir's children, each NUL-terminated, one after the other; returns bytes used. */
int xenbus_directory(const char *dir, char *buf, unsigned int size);
/* Writes dir/state. */
int xenbus_switch_state(const char *dir, enum xenbus_state state);
/* Waits (watch on path, sleeping between events) until the integer at path is one of the
 * states in mask (bit 1 << state), or timeout_ns passes (-XEN_ETIMEDOUT). *now gets the state. */
int xenbus_wait_state(const char *path, unsigned int mask, uint64_t timeout_ns,
                      enum xenbus_state *now);

/*
 * Front-end drivers found under device/<class>/<devid> at boot (xenbus.c calls these for each
 * device it finds, from pv_devices_init()). Return 0 when the device is connected.
 */
int blkfront_probe(unsigned int devid); /* class "vbd" (arch/pv/blkfront.c) */
int netfront_probe(unsigned int devid); /* class "vif" (arch/pv/netfront.c) */

/* Finds the store's devices and probes their drivers; domUs only, before the shell starts.
 * With `xstest` on the command line it first runs xenbus_selftest(). */
void pv_devices_init(void);

/* ---- more of the client (arch/pv/xenbus.c) ---- */
int xenbus_rm(const char *path);
/* Sets a watch; the store fires it once at once, then on every change at or below path. */
int xenbus_watch(const char *path, const char *token);
int xenbus_unwatch(const char *path, const char *token);
/* Waits for an event of token (its path into path, if size); -XEN_ETIMEDOUT. */
int xenbus_wait_watch(const char *token, char *path, unsigned int size, uint64_t timeout_ns);
/* One raw request (xs_wire.h type, transaction id, payload parts sent back to back); the
 * reply's payload into out (NUL-terminated, cut to size-1). Returns its length or -errno. */
int xenbus_request(uint32_t type, uint32_t tx_id, const void *const *parts,
                   const unsigned int *lens, unsigned int nparts, char *out, unsigned int size);
/* The store seen from a domU, checked (arch/pv/xenbus-test.c): `xstest: ...` lines. */
void xenbus_selftest(void);

#endif
