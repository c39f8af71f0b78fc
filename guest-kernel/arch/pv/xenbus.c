/*
 * XenStore client of a domU (include/xenbus.h): the store ring page of start_info
 * (store_mfn, store_evtchn, struct xenstore_domain_interface), one request at a time, and the
 * boot-time probe of split-driver front ends (pv_devices_init).
 *
 * A request is written into req[] (waiting for room), then messages are read from rsp[] until
 * the reply with its req_id comes; watch events read meanwhile are kept in a small queue that
 * xenbus_wait_watch() consumes. Waiting blocks the vCPU (events unmasked) with a short timer,
 * so nothing spins; every wait has a deadline (-XEN_ETIMEDOUT), so a dead store never hangs
 * the kernel.
 *
 * A store is used only when the ring says a server serves it (server_features != 0: dom0's
 * xenstored and Xen's both set it before the domain runs); otherwise every call answers
 * -XEN_ENODEV at once (domUs that dom0's built-in tests start have no store).
 *
 * Invariant: at most one request is outstanding (callers run in the kernel, on one vCPU at a
 * time, at boot); rx[] holds the part of one message read so far.
 */
#include <kernel.h>
#include <mm.h>
#include <xenbus.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <public/io/xs_wire.h>

#include "pv.h"

#define REPLY_TIMEOUT_NS (10ULL * 1000000000ULL)
#define WAIT_SLICE_NS    (10ULL * 1000000ULL)
#define MAX_EVENTS       16
#define EVENT_MAX        256

static struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static int state; /* 0: not tried, 1: ready, -errno: none */
static uint32_t next_req_id = 1;

static uint8_t rx[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 1];
static unsigned int rx_have;
static bool rx_whole; /* rx[] holds a whole reply nobody has taken yet */

static struct {
	char path[EVENT_MAX];
	char token[32];
} events[MAX_EVENTS];
static unsigned int ev_head, ev_tail;
static uint64_t events_dropped;

static void store_event(evtchn_port_t p)
{
	(void)p; /* waiters look at the ring after every wake-up */
}

int xenbus_init(void)
{
	const start_info_t *si = pv_start_info;
	uint64_t pfn;

	if (state)
		return state > 0 ? 0 : state;
	state = -XEN_ENODEV;
	if ((si->flags & SIF_INITDOMAIN) || !si->store_mfn || !si->store_evtchn)
		return state;
	pfn = pv_m2p()[si->store_mfn];
	if (pfn >= pv_nr_pages || pv_p2m[pfn] != si->store_mfn) {
		printk("xenbus: store page mfn %#llx is not ours\n",
		       (unsigned long long)si->store_mfn);
		return state;
	}
	ring = pfn_to_virt(pfn);
	if (!READ_ONCE(ring->server_features))
		return state; /* nobody serves it */
	port = si->store_evtchn;
	pv_evtchn_bind(port, store_event);
	pv_evtchn_unmask(port);
	state = 1;
	return 0;
}

static void notify(void)
{
	struct evtchn_send send = {.port = port};

	HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

/* Sleeps until an event or a short while passed (events masked on entry and exit). */
static void nap(void)
{
	platform->timer_set(platform->time_ns() + WAIT_SLICE_NS);
	platform->idle();
}

static const struct {
	const char *name;
	int err;
} errnames[] = {
    {"EINVAL", XEN_EINVAL}, {"EACCES", XEN_EACCES},   {"EEXIST", XEN_EEXIST},
    {"EISDIR", XEN_EISDIR}, {"ENOENT", XEN_ENOENT},   {"ENOMEM", XEN_ENOMEM},
    {"ENOSPC", XEN_ENOSPC}, {"EIO", XEN_EIO},         {"ENOTEMPTY", XEN_ENOTEMPTY},
    {"ENOSYS", XEN_ENOSYS}, {"EROFS", XEN_EROFS},     {"EBUSY", XEN_EBUSY},
    {"EAGAIN", XEN_EAGAIN}, {"EISCONN", XEN_EISCONN}, {"E2BIG", XEN_E2BIG},
    {"EPERM", XEN_EPERM},
};

static int error_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
		if (strcmp(errnames[i].name, name) == 0)
			return -errnames[i].err;
	return -XEN_EIO;
}

static void keep_event(const char *payload, unsigned int len)
{
	size_t plen = strnlen(payload, len);
	const char *token = payload + plen + 1;
	unsigned int next = (ev_head + 1) % MAX_EVENTS;

	if (plen >= len || plen >= EVENT_MAX || strnlen(token, len - plen - 1) >= 32 ||
	    next == ev_tail) {
		events_dropped++;
		return;
	}
	memcpy(events[ev_head].path, payload, plen + 1);
	strlcpy(events[ev_head].token, token, sizeof(events[ev_head].token));
	ev_head = next;
}

/*
 * Reads what rsp[] holds; returns a whole reply (in rx[], kept until taken_message()) or
 * NULL. Watch events are queued and not returned. A server that lies about lengths or indices
 * sets *bad.
 */
static struct xsd_sockmsg *read_message(bool *bad)
{
	struct xsd_sockmsg *h = (struct xsd_sockmsg *)rx;

	if (rx_whole)
		return h;
	for (;;) {
		uint32_t cons = ring->rsp_cons, prod = READ_ONCE(ring->rsp_prod);
		unsigned int want = rx_have < sizeof(*h) ? sizeof(*h) : sizeof(*h) + h->len;

		if (prod - cons > XENSTORE_RING_SIZE) {
			*bad = true;
			return NULL;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		while (rx_have < want && cons != prod)
			rx[rx_have++] = (uint8_t)ring->rsp[MASK_XENSTORE_IDX(cons++)];
		__atomic_thread_fence(__ATOMIC_RELEASE);
		if (cons != ring->rsp_cons) {
			WRITE_ONCE(ring->rsp_cons, cons);
			notify(); /* room for more */
		}
		if (rx_have == sizeof(*h) && h->len > XENSTORE_PAYLOAD_MAX) {
			*bad = true;
			return NULL;
		}
		if (rx_have < sizeof(*h) || rx_have < sizeof(*h) + h->len)
			return NULL;
		rx_have = 0;
		rx[sizeof(*h) + h->len] = '\0';
		if (h->type != XS_WATCH_EVENT) {
			rx_whole = true;
			return h;
		}
		keep_event((const char *)rx + sizeof(*h), h->len);
	}
}

static void taken_message(void)
{
	rx_whole = false;
}

/* Copies len bytes into req[], waiting for room; false at the deadline. */
static bool write_bytes(const void *data, unsigned int len, uint64_t deadline)
{
	const char *p = data;

	while (len) {
		uint32_t cons = READ_ONCE(ring->req_cons), prod = ring->req_prod;

		if (prod - cons >= XENSTORE_RING_SIZE) {
			bool bad = false;

			notify();
			read_message(&bad); /* events flow; an early reply (an error) is kept */
			if (bad || platform->time_ns() > deadline)
				return false;
			nap();
			continue;
		}
		while (len && prod - cons < XENSTORE_RING_SIZE) {
			ring->req[MASK_XENSTORE_IDX(prod++)] = *p++;
			len--;
		}
		__atomic_thread_fence(__ATOMIC_RELEASE);
		WRITE_ONCE(ring->req_prod, prod);
	}
	notify();
	return true;
}

/*
 * One request of type with the payload parts (each sent as given: include the NULs you
 * want); the reply's payload goes to out (NUL-terminated, truncated to size-1 bytes).
 * Returns the reply's length, or a negative errno (the store's XS_ERROR, -ETIMEDOUT, -EIO).
 */
int xenbus_request(uint32_t type, uint32_t tx_id, const void *const *parts,
                   const unsigned int *lens, unsigned int nparts, char *out, unsigned int size)
{
	struct xsd_sockmsg h = {.type = type, .req_id = next_req_id++, .tx_id = tx_id};
	uint64_t deadline = platform->time_ns() + REPLY_TIMEOUT_NS;
	unsigned long flags;
	int rc = -XEN_ETIMEDOUT;

	if (xenbus_init())
		return -XEN_ENODEV;
	for (unsigned int i = 0; i < nparts; i++)
		h.len += lens[i];
	flags = platform->irq_save();
	if (!write_bytes(&h, sizeof(h), deadline))
		goto out;
	for (unsigned int i = 0; i < nparts; i++)
		if (!write_bytes(parts[i], lens[i], deadline))
			goto out;
	for (;;) {
		bool bad = false;
		struct xsd_sockmsg *m = read_message(&bad);

		if (bad) {
			rc = -XEN_EIO;
			break;
		}
		if (m && m->req_id == h.req_id) {
			const char *payload = (const char *)rx + sizeof(*m);

			if (m->type == XS_ERROR) {
				rc = error_of(payload);
			} else {
				unsigned int n = m->len < size ? m->len : size ? size - 1 : 0;

				if (size) {
					memcpy(out, payload, n);
					out[n] = '\0';
				}
				rc = (int)m->len;
			}
			taken_message();
			break;
		}
		if (m) {
			taken_message(); /* a stale reply (an earlier request that timed out) */
			continue;
		}
		if (platform->time_ns() > deadline)
			break;
		nap();
	}
out:
	platform->irq_restore(flags);
	return rc;
}

/* A request whose payload is the strings a (and b), each with its NUL. */
static int request2(uint32_t type, const char *a, const char *b, char *out, unsigned int size)
{
	const void *parts[2] = {a, b};
	unsigned int lens[2] = {(unsigned int)strlen(a) + 1, b ? (unsigned int)strlen(b) + 1 : 0};

	return xenbus_request(type, 0, parts, lens, b ? 2 : 1, out, size);
}

int xenbus_read(const char *path, char *buf, unsigned int size)
{
	return request2(XS_READ, path, NULL, buf, size);
}

int xenbus_read_u64(const char *path, uint64_t *v)
{
	char buf[24], *end;
	int rc = xenbus_read(path, buf, sizeof(buf));

	if (rc < 0)
		return rc;
	if (rc == 0 || rc >= (int)sizeof(buf) || !isdigit(buf[0]))
		return -XEN_EINVAL;
	*v = strtoull(buf, &end, 10);
	return *end ? -XEN_EINVAL : 0;
}

int xenbus_write(const char *path, const char *value)
{
	const void *parts[2] = {path, value};
	unsigned int lens[2] = {(unsigned int)strlen(path) + 1, (unsigned int)strlen(value)};
	char ok[4];
	int rc = xenbus_request(XS_WRITE, 0, parts, lens, 2, ok, sizeof(ok));

	return rc < 0 ? rc : 0;
}

int xenbus_printf(const char *path, const char *fmt, ...)
{
	char value[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(value))
		return -XEN_E2BIG;
	return xenbus_write(path, value);
}

int xenbus_directory(const char *dir, char *buf, unsigned int size)
{
	int rc = request2(XS_DIRECTORY, dir, NULL, buf, size);

	if (rc >= 0 && (unsigned int)rc >= size)
		return -XEN_E2BIG; /* truncated: the names would be cut */
	return rc;
}

int xenbus_rm(const char *path)
{
	char ok[4];
	int rc = request2(XS_RM, path, NULL, ok, sizeof(ok));

	return rc < 0 ? rc : 0;
}

int xenbus_switch_state(const char *dir, enum xenbus_state st)
{
	char path[128];

	if ((size_t)snprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
		return -XEN_E2BIG;
	return xenbus_printf(path, "%d", (int)st);
}

int xenbus_watch(const char *path, const char *token)
{
	char ok[4];
	int rc = request2(XS_WATCH, path, token, ok, sizeof(ok));

	return rc < 0 ? rc : 0;
}

int xenbus_unwatch(const char *path, const char *token)
{
	char ok[4];
	int rc = request2(XS_UNWATCH, path, token, ok, sizeof(ok));

	/* Events of it that were queued are of no use any more. */
	for (unsigned int i = ev_tail; i != ev_head; i = (i + 1) % MAX_EVENTS)
		if (strcmp(events[i].token, token) == 0)
			events[i].token[0] = '\0';
	return rc < 0 ? rc : 0;
}

int xenbus_wait_watch(const char *token, char *path, unsigned int size, uint64_t timeout_ns)
{
	uint64_t deadline = platform->time_ns() + timeout_ns;
	unsigned long flags;
	int rc = -XEN_ETIMEDOUT;

	if (xenbus_init())
		return -XEN_ENODEV;
	flags = platform->irq_save();
	for (;;) {
		bool bad = false;
		struct xsd_sockmsg *m;

		while (ev_tail != ev_head) {
			unsigned int i = ev_tail;

			ev_tail = (ev_tail + 1) % MAX_EVENTS;
			if (strcmp(events[i].token, token) == 0) {
				if (size)
					strlcpy(path, events[i].path, size);
				rc = 0;
				goto out;
			}
		}
		m = read_message(&bad); /* queues events; a stray reply is dropped */
		if (bad) {
			rc = -XEN_EIO;
			break;
		}
		if (m)
			taken_message();
		if (m || ev_tail != ev_head)
			continue;
		if (platform->time_ns() > deadline)
			break;
		nap();
	}
out:
	platform->irq_restore(flags);
	return rc;
}

int xenbus_wait_state(const char *path, unsigned int mask, uint64_t timeout_ns,
                      enum xenbus_state *now)
{
	static unsigned int seq;
	uint64_t deadline = platform->time_ns() + timeout_ns, v = 0;
	char token[16];
	int rc;

	snprintf(token, sizeof(token), "ws%u", seq++);
	if ((rc = xenbus_watch(path, token)))
		return rc;
	for (;;) {
		uint64_t t = platform->time_ns();

		rc = xenbus_read_u64(path, &v);
		if (rc == 0 && v < 32 && (mask & (1u << v)))
			break;
		if (rc && rc != -XEN_ENOENT && rc != -XEN_EINVAL)
			break;
		if (t >= deadline) {
			rc = -XEN_ETIMEDOUT;
			break;
		}
		rc = xenbus_wait_watch(token, NULL, 0, deadline - t);
		if (rc && rc != -XEN_ETIMEDOUT)
			break;
	}
	if (now)
		*now = rc == 0 || v < 32 ? (enum xenbus_state)v : XenbusStateUnknown;
	xenbus_unwatch(path, token);
	return rc;
}

/* ---- boot-time probe of the front ends ---- */

__attribute__((weak)) int blkfront_probe(unsigned int devid)
{
	(void)devid;
	return -XEN_ENODEV;
}

__attribute__((weak)) int netfront_probe(unsigned int devid)
{
	(void)devid;
	return -XEN_ENODEV;
}

static void probe_class(const char *cls, int (*probe)(unsigned int devid))
{
	char dir[32], names[512];
	int n;

	snprintf(dir, sizeof(dir), "device/%s", cls);
	n = xenbus_directory(dir, names, sizeof(names));
	if (n < 0) {
		if (n != -XEN_ENOENT)
			printk("xenbus: listing %s failed (%d)\n", dir, n);
		return;
	}
	for (int off = 0; off < n; off += (int)strlen(names + off) + 1) {
		const char *name = names + off;
		char *end;
		unsigned long devid = strtoul(name, &end, 10);
		int rc;

		if (!isdigit(name[0]) || *end || devid > 0xffffffffUL) {
			printk("xenbus: %s/%s is not a device number; skipped\n", dir, name);
			continue;
		}
		rc = probe((unsigned int)devid);
		printk("xenbus: %s %lu: %s (%d)\n", cls, devid, rc ? "not connected" : "connected",
		       rc);
	}
}

/*
 * `xshostile` on the command line: this domU misbehaves on purpose (tests/system/
 * test_xenstore.py). A header promising a payload that never comes, then ring indices that
 * cannot be: dom0 must cut the ring off (error = XENSTORE_ERROR_RINGIDX) and keep serving the
 * others; the store is unusable for this domain afterwards.
 */
static void hostile(void)
{
	struct xsd_sockmsg h = {.type = XS_READ, .req_id = 0xbad, .len = 100};
	uint64_t deadline = platform->time_ns() + 5000000000ULL;
	unsigned long flags = platform->irq_save();

	write_bytes(&h, sizeof(h), deadline);
	write_bytes("data", 4, deadline); /* 96 bytes short */
	ring->req_prod += 3 * XENSTORE_RING_SIZE;
	notify();
	while (!READ_ONCE(ring->error) && platform->time_ns() < deadline)
		nap();
	platform->irq_restore(flags);
	printk("xshostile: %s (error %u)\n", ring->error ? "cut off" : "still served", ring->error);
	state = -XEN_EIO; /* nothing more from this store */
}

void pv_devices_init(void)
{
	int rc = xenbus_init();

	if (rc) {
		if (!(pv_start_info->flags & SIF_INITDOMAIN))
			printk("xenbus: no store (%d); no devices\n", rc);
		return;
	}
	printk("xenbus: store at mfn %#llx, port %u\n",
	       (unsigned long long)pv_start_info->store_mfn, port);
	if (cmdline_get(platform->cmdline, "xstest", NULL, 0) == 0)
		xenbus_selftest();
	if (cmdline_get(platform->cmdline, "xshostile", NULL, 0) == 0) {
		hostile();
		return;
	}
	probe_class("vbd", blkfront_probe);
	probe_class("vif", netfront_probe);
}
