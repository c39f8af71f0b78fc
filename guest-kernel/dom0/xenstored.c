/*
 * dom0's XenStore daemon: the store (xs_tree.c) served to each domU through its ring page
 * (start_info.store_mfn, struct xenstore_domain_interface of public/io/xs_wire.h) and its
 * store event channel, as Xen's xenstored does, plus dom0's own access (backends.h).
 *
 * Attach (after a domU's build, before it runs): hv tells the page and the domU's unbound port
 * (HV_DOMCTL_store_info); we map the page as a foreign frame, bind the port with
 * bind_interdomain, mark the page served (server_features != 0: our own domUs skip the store
 * at once when nobody serves it), and make /local/domain/<id> (owned by the domain) with
 * name, domid and cpu/<n>/availability (dom0's, readable by it), device/ and control/.
 *
 * Serving: requests are read from req[] into a per-connection buffer (a request may arrive in
 * pieces), handled one at a time against the tree, and the reply is put in the connection's
 * output queue, which is copied into rsp[] as the domU makes room. A request is taken only
 * while the queue has room for the biggest reply, so replies are never lost; watch events that
 * find the queue full are dropped (counted), never blocking dom0. A domU that corrupts its
 * ring indices is cut off (error = XENSTORE_ERROR_RINGIDX) until it is detached. Malformed
 * requests get XS_ERROR with an errno name. Transactions are applied at once (start gives an
 * id, every operation in it takes effect immediately, end answers OK and never EAGAIN; an
 * abort does not undo).
 *
 * dom0's watches (xs_watch) are callbacks, run after the domU request that caused them (from
 * xenstored_poll()) or at the end of the dom0 call that did, never inside a tree change and
 * never nested in each other; like a guest's watch, a new one fires once at once (before
 * xs_watch returns).
 */
#include <kernel.h>
#include <mm.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <public/io/xs_wire.h>

#include "../arch/pv/pv.h"
#include "backends.h"
#include "dom0.h"
#include "xs_tree.h"

#include <domctl.h>

/* ---- memory for the tree: size classes of 32 .. 4096 bytes carved from pages ---- */

#define NR_CLASSES 8 /* 32, 64, ..., 4096 */
static void *free_lists[NR_CLASSES];
static uint64_t alloc_failures;

static int size_class(size_t size)
{
	int c = 0;

	while ((32UL << c) < size)
		c++;
	return c;
}

void *xs_tree_alloc(size_t size)
{
	int c = size_class(size ? size : 1);
	void *p;

	if (c >= NR_CLASSES) {
		alloc_failures++;
		return NULL;
	}
	if (!free_lists[c]) {
		char *page = alloc_page();
		size_t obj = 32UL << c;

		if (!page) {
			alloc_failures++;
			return NULL;
		}
		for (size_t off = 0; off + obj <= PAGE_SIZE; off += obj) {
			*(void **)(page + off) = free_lists[c];
			free_lists[c] = page + off;
		}
	}
	p = free_lists[c];
	free_lists[c] = *(void **)p;
	return p;
}

void xs_tree_free(void *p, size_t size)
{
	int c = size_class(size ? size : 1);

	*(void **)p = free_lists[c];
	free_lists[c] = p;
}

/* ---- connections ---- */

#define MAX_CONNS    128 /* hv runs at most 128 domains */
#define OUT_PAGES    8
#define OUT_BYTES    (OUT_PAGES * PAGE_SIZE)
#define REPLY_MAX    (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)
#define MAX_TX       8
#define OWNER_DOMU   1
#define OWNER_DOM0CB 2
#define PREFIX_MAX   24

struct conn {
	int kind; /* OWNER_DOMU: first, as in struct dom0_watch */
	bool used, broken;
	uint16_t domid;
	struct xenstore_domain_interface *ring;
	evtchn_port_t port;
	char prefix[PREFIX_MAX]; /* "/local/domain/<id>/" */
	unsigned int prefix_len;
	/* The request being read: in_have bytes of header, then payload (a page of ours; the
	 * payload is never read past hdr.len: every string in it is found by split()). */
	struct xsd_sockmsg hdr;
	uint8_t *payload;
	unsigned int in_have;
	uint32_t discard; /* payload bytes of an oversized request still to skip */
	/* Output queue: bytes [out_tail, out_head) (free-running) in out[] pages. */
	char *out[OUT_PAGES];
	uint64_t out_head, out_tail;
	uint32_t tx[MAX_TX]; /* open transaction ids, 0 = free slot */
	uint64_t requests, dropped_events;
};

static struct conn conns[MAX_CONNS];
static uint32_t next_tx_id = 1;
volatile uint64_t xenstored_events;

struct dom0_watch {
	int kind; /* OWNER_DOM0CB */
	bool used;
	xs_watch_fn cb;
	void *arg;
	char token[12];
	char *path; /* a tree allocation */
	size_t path_size;
};

#define MAX_DOM0_WATCHES 256 /* one per device a back end serves */
#define MAX_DOM0_EVENTS  128
static struct dom0_watch dom0_watches[MAX_DOM0_WATCHES];
static struct {
	struct dom0_watch *w;
	char *path;
	size_t size;
} dom0_events[MAX_DOM0_EVENTS];
static unsigned int dom0_ev_head, dom0_ev_tail;
static uint64_t dom0_events_dropped;

static void store_event(evtchn_port_t port)
{
	(void)port; /* the agent's loop serves every ring after each wake-up */
	xenstored_events++;
}

static struct conn *find_conn(uint16_t domid)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].domid == domid)
			return &conns[i];
	return NULL;
}

static void notify(struct conn *c)
{
	struct evtchn_send send = {.port = c->port};

	HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

static unsigned int out_free(const struct conn *c)
{
	return (unsigned int)(OUT_BYTES - (c->out_head - c->out_tail));
}

static void out_put(struct conn *c, const void *data, unsigned int len)
{
	const char *p = data;

	for (unsigned int i = 0; i < len; i++, c->out_head++)
		c->out[(c->out_head % OUT_BYTES) / PAGE_SIZE][c->out_head % PAGE_SIZE] = p[i];
}

/* Queues a message of up to two payload parts; false if it does not fit. */
static bool out_msg(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id, const void *a,
                    unsigned int alen, const void *b, unsigned int blen)
{
	struct xsd_sockmsg h = {.type = type, .req_id = req_id, .tx_id = tx_id, .len = alen + blen};

	if (alen + blen > XENSTORE_PAYLOAD_MAX || out_free(c) < sizeof(h) + alen + blen)
		return false;
	out_put(c, &h, sizeof(h));
	out_put(c, a, alen);
	out_put(c, b, blen);
	return true;
}

/* A domU that broke its ring: nothing more is read or written, its watches go. */
static void cut_off(struct conn *c)
{
	c->ring->error = XENSTORE_ERROR_RINGIDX;
	c->broken = true;
	xs_tree_watch_del_owner(c);
	memset(c->tx, 0, sizeof(c->tx));
}

/* Copies queued output into rsp[]; true if anything moved. */
static bool flush(struct conn *c)
{
	struct xenstore_domain_interface *r = c->ring;
	uint32_t cons, prod;
	bool moved = false;

	if (c->broken || c->out_head == c->out_tail)
		return false;
	cons = READ_ONCE(r->rsp_cons);
	prod = r->rsp_prod;
	if (prod - cons > XENSTORE_RING_SIZE) {
		printk("xenstored: domain %u corrupted its response ring indices; cut off\n",
		       c->domid);
		cut_off(c);
		return false;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	while (c->out_tail != c->out_head && prod - cons < XENSTORE_RING_SIZE) {
		r->rsp[MASK_XENSTORE_IDX(prod)] =
		    c->out[(c->out_tail % OUT_BYTES) / PAGE_SIZE][c->out_tail % PAGE_SIZE];
		prod++;
		c->out_tail++;
		moved = true;
	}
	if (moved) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		WRITE_ONCE(r->rsp_prod, prod);
		notify(c);
	}
	return moved;
}

static void flush_all(void)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			flush(&conns[i]);
}

/* ---- watch events ---- */

static void on_fire(void *owner, const char *path, const char *token)
{
	if (*(int *)owner == OWNER_DOMU) {
		struct conn *c = owner;
		unsigned int plen = (unsigned int)strlen(path) + 1,
		             tlen = (unsigned int)strlen(token) + 1;

		/* Keep room for the reply of the request being served. */
		if (out_free(c) < REPLY_MAX + sizeof(struct xsd_sockmsg) + plen + tlen ||
		    !out_msg(c, XS_WATCH_EVENT, 0, 0, path, plen, token, tlen)) {
			if (c->dropped_events++ == 0)
				printk(
				    "xenstored: domain %u reads no replies; watch events dropped\n",
				    c->domid);
		}
		return;
	}
	struct dom0_watch *w = owner;
	unsigned int next = (dom0_ev_head + 1) % MAX_DOM0_EVENTS;
	size_t size = strlen(path) + 1;
	char *copy;

	if (next == dom0_ev_tail || !(copy = xs_tree_alloc(size))) {
		if (dom0_events_dropped++ == 0)
			printk("xenstored: dom0 watch events dropped (queue full)\n");
		return;
	}
	memcpy(copy, path, size);
	dom0_events[dom0_ev_head].w = w;
	dom0_events[dom0_ev_head].path = copy;
	dom0_events[dom0_ev_head].size = size;
	dom0_ev_head = next;
}

/* Runs queued dom0 callbacks (never nested: a callback's own changes queue more). */
static bool run_dom0_callbacks(void)
{
	static bool running;
	bool ran = false;

	if (running)
		return false;
	running = true;
	while (dom0_ev_tail != dom0_ev_head) {
		struct dom0_watch *w = dom0_events[dom0_ev_tail].w;
		char *path = dom0_events[dom0_ev_tail].path;
		size_t size = dom0_events[dom0_ev_tail].size;

		dom0_ev_tail = (dom0_ev_tail + 1) % MAX_DOM0_EVENTS;
		if (w)
			w->cb(path, w->arg);
		xs_tree_free(path, size);
		ran = true;
	}
	running = false;
	return ran;
}

/* ---- requests ---- */

static const struct {
	int err;
	const char *name;
} errnames[] = {
    {XEN_EINVAL, "EINVAL"}, {XEN_EACCES, "EACCES"}, {XEN_EEXIST, "EEXIST"},
    {XEN_EISDIR, "EISDIR"}, {XEN_ENOENT, "ENOENT"}, {XEN_ENOMEM, "ENOMEM"},
    {XEN_ENOSPC, "ENOSPC"}, {XEN_EIO, "EIO"},       {XEN_ENOTEMPTY, "ENOTEMPTY"},
    {XEN_ENOSYS, "ENOSYS"}, {XEN_EROFS, "EROFS"},   {XEN_EBUSY, "EBUSY"},
    {XEN_EAGAIN, "EAGAIN"}, {XEN_E2BIG, "E2BIG"},   {XEN_EPERM, "EPERM"},
};

static void reply_error(struct conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = "EINVAL";

	for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
		if (errnames[i].err == -err)
			name = errnames[i].name;
	out_msg(c, XS_ERROR, req->req_id, req->tx_id, name, (unsigned int)strlen(name) + 1, NULL,
	        0);
}

static void reply(struct conn *c, const struct xsd_sockmsg *req, const void *data, unsigned int len)
{
	out_msg(c, req->type, req->req_id, req->tx_id, data, len, NULL, 0);
}

static void reply_ok(struct conn *c, const struct xsd_sockmsg *req)
{
	reply(c, req, "OK", 3);
}

/* Makes a client's path absolute in buf: relative ones are under the domain's directory. */
static int canonical(struct conn *c, const char *path, char *buf, size_t size)
{
	size_t len = strlen(path);

	if (len == 0)
		return -XEN_EINVAL;
	if (path[0] == '/') {
		if (len > XENSTORE_ABS_PATH_MAX)
			return -XEN_EINVAL;
		memcpy(buf, path, len + 1);
	} else {
		if (len > XENSTORE_REL_PATH_MAX || c->prefix_len + len >= size)
			return -XEN_EINVAL;
		memcpy(buf, c->prefix, c->prefix_len);
		memcpy(buf + c->prefix_len, path, len + 1);
	}
	return xs_path_valid(buf) ? 0 : -XEN_EINVAL;
}

/* The NUL-terminated strings of a payload; -EINVAL unless exactly n (a trailing value of a
 * write is not counted: want_rest). */
static int split(const char *p, unsigned int len, const char **args, unsigned int n)
{
	unsigned int i = 0, off = 0;

	while (i < n) {
		size_t l;

		if (off >= len)
			return -XEN_EINVAL;
		l = strnlen(p + off, len - off);
		if (off + l == len)
			return -XEN_EINVAL; /* not NUL-terminated */
		args[i++] = p + off;
		off += (unsigned int)l + 1;
	}
	return (int)off;
}

static bool tx_open(struct conn *c, uint32_t id)
{
	for (int i = 0; i < MAX_TX; i++)
		if (id && c->tx[i] == id)
			return true;
	return false;
}

static int handle_transaction(struct conn *c, const struct xsd_sockmsg *h, const char *p)
{
	char num[16];

	if (h->type == XS_TRANSACTION_START) {
		for (int i = 0; i < MAX_TX; i++)
			if (!c->tx[i]) {
				c->tx[i] = next_tx_id++;
				if (!next_tx_id)
					next_tx_id = 1;
				snprintf(num, sizeof(num), "%u", c->tx[i]);
				reply(c, h, num, (unsigned int)strlen(num) + 1);
				return 0;
			}
		return -XEN_ENOSPC;
	}
	/* END: "T" commits, "F" aborts (both simply close it: changes were applied at once). */
	const char *arg;

	if (split(p, h->len, &arg, 1) < 0 || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return -XEN_EINVAL;
	for (int i = 0; i < MAX_TX; i++)
		if (c->tx[i] && c->tx[i] == h->tx_id) {
			c->tx[i] = 0;
			reply_ok(c, h);
			return 0;
		}
	return -XEN_ENOENT;
}

static char pathbuf[XENSTORE_ABS_PATH_MAX + PREFIX_MAX + 1];
static char scratch[XENSTORE_PAYLOAD_MAX];

/* One request; returns 0 when it was answered, else the errno to answer. */
static int handle(struct conn *c, const struct xsd_sockmsg *h, const char *p)
{
	const char *args[2];
	int n, rc;

	if (h->tx_id && h->type != XS_TRANSACTION_START && !tx_open(c, h->tx_id))
		return -XEN_ENOENT;
	switch (h->type) {
	case XS_READ:
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_DIRECTORY:
	case XS_GET_PERMS:
	case XS_SET_PERMS: {
		const char *value;
		unsigned int vlen;

		if ((n = split(p, h->len, args, 1)) < 0)
			return n;
		if (h->type != XS_WRITE && h->type != XS_SET_PERMS && (unsigned int)n != h->len)
			return -XEN_EINVAL;
		if ((rc = canonical(c, args[0], pathbuf, sizeof(pathbuf))))
			return rc;
		switch (h->type) {
		case XS_READ:
			if ((rc = xs_tree_read(c->domid, pathbuf, &value, &vlen)))
				return rc;
			reply(c, h, value, vlen);
			return 0;
		case XS_WRITE:
			rc = xs_tree_write(c->domid, pathbuf, p + n, h->len - (unsigned int)n);
			break;
		case XS_MKDIR:
			rc = xs_tree_mkdir(c->domid, pathbuf);
			break;
		case XS_RM:
			rc = xs_tree_rm(c->domid, pathbuf);
			break;
		case XS_DIRECTORY:
			if ((rc = xs_tree_directory(c->domid, pathbuf, scratch, sizeof(scratch))) <
			    0)
				return rc;
			reply(c, h, scratch, (unsigned int)rc);
			return 0;
		case XS_GET_PERMS: {
			struct xs_perms perms;

			if ((rc = xs_tree_get_perms(c->domid, pathbuf, &perms)))
				return rc;
			if ((rc = xs_perms_format(&perms, scratch, sizeof(scratch))) < 0)
				return rc;
			reply(c, h, scratch, (unsigned int)rc);
			return 0;
		}
		default: { /* XS_SET_PERMS */
			struct xs_perms perms;

			if ((rc = xs_perms_parse(p + n, h->len - (unsigned int)n, &perms)))
				return rc;
			rc = xs_tree_set_perms(c->domid, pathbuf, &perms);
			break;
		}
		}
		if (rc)
			return rc;
		reply_ok(c, h);
		return 0;
	}
	case XS_WATCH:
	case XS_UNWATCH:
		if ((n = split(p, h->len, args, 2)) < 0)
			return n;
		if (args[0][0] == '@') {
			if (strlen(args[0]) >= sizeof(pathbuf))
				return -XEN_EINVAL;
			memcpy(pathbuf, args[0], strlen(args[0]) + 1);
		} else if ((rc = canonical(c, args[0], pathbuf, sizeof(pathbuf)))) {
			return rc;
		}
		if (h->type == XS_UNWATCH) {
			if ((rc = xs_tree_watch_del(c, pathbuf, args[1])))
				return rc;
			reply_ok(c, h);
			return 0;
		}
		rc = xs_tree_watch_add(c, c->domid, pathbuf, args[1],
		                       args[0][0] == '/' || args[0][0] == '@' ? 0 : c->prefix_len);
		if (rc)
			return rc;
		reply_ok(c, h);
		/* Xen's initial event: the path as the client gave it. */
		on_fire(c, args[0], args[1]);
		return 0;
	case XS_TRANSACTION_START:
	case XS_TRANSACTION_END:
		if (h->type == XS_TRANSACTION_START && h->tx_id)
			return -XEN_EBUSY; /* no nesting */
		return handle_transaction(c, h, p);
	case XS_GET_DOMAIN_PATH: {
		unsigned long id = 0;

		if ((n = split(p, h->len, args, 1)) < 0 || (unsigned int)n != h->len || !args[0][0])
			return -XEN_EINVAL;
		for (const char *s = args[0]; *s; s++) {
			if (!isdigit(*s) || id > 0xffff)
				return -XEN_EINVAL;
			id = id * 10 + (unsigned long)(*s - '0');
		}
		if (id > 0xffff)
			return -XEN_EINVAL;
		snprintf(scratch, sizeof(scratch), "/local/domain/%lu", id);
		reply(c, h, scratch, (unsigned int)strlen(scratch) + 1);
		return 0;
	}
	case XS_RESET_WATCHES:
		xs_tree_watch_del_owner(c);
		memset(c->tx, 0, sizeof(c->tx));
		reply_ok(c, h);
		return 0;
	case XS_CONTROL:
	case XS_INTRODUCE:
	case XS_RELEASE:
	case XS_IS_DOMAIN_INTRODUCED:
	case XS_RESUME:
	case XS_SET_TARGET:
	case XS_SET_QUOTA:
		return -XEN_EACCES; /* the toolstack's (dom0's) operations */
	case XS_DIRECTORY_PART:
	case XS_GET_FEATURE:
	case XS_SET_FEATURE:
	case XS_GET_QUOTA:
		return -XEN_ENOSYS;
	default:
		return -XEN_EINVAL;
	}
}

BUILD_BUG_ON(XENSTORE_PAYLOAD_MAX > PAGE_SIZE); /* a request's payload fits c->payload */

static bool have_request(const struct conn *c)
{
	return c->in_have >= sizeof(c->hdr) && c->in_have == sizeof(c->hdr) + c->hdr.len;
}

/*
 * Reads and serves what the domU has written; true if anything was consumed or answered.
 * A whole request is handled only while the output queue has room for its reply and some
 * watch events; otherwise it waits in in[] (and the ring fills: the domU waits for us).
 */
static bool serve(struct conn *c)
{
	struct xenstore_domain_interface *r = c->ring;
	struct xsd_sockmsg *h = &c->hdr;
	bool worked = false, consumed = false;

	while (!c->broken) {
		uint32_t cons, prod;

		if (have_request(c)) {
			int rc;

			if (out_free(c) < 2 * REPLY_MAX)
				break; /* served once the domU has read its earlier replies */
			c->requests++;
			if ((rc = handle(c, h, (const char *)c->payload)))
				reply_error(c, h, rc);
			c->in_have = 0;
			worked = true;
			run_dom0_callbacks(); /* a burst of writes never overflows their queue */
			continue;
		}
		cons = r->req_cons;
		prod = READ_ONCE(r->req_prod);
		if (prod - cons > XENSTORE_RING_SIZE) {
			printk("xenstored: domain %u corrupted its request ring indices; cut off\n",
			       c->domid);
			cut_off(c);
			break;
		}
		if (prod == cons)
			break;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (c->discard) {
			uint32_t n = MIN(c->discard, prod - cons);

			c->discard -= n;
			cons += n;
		} else {
			unsigned int want =
			    c->in_have < sizeof(*h) ? sizeof(*h) : sizeof(*h) + h->len;

			for (; c->in_have < want && cons != prod; c->in_have++) {
				uint8_t b = (uint8_t)r->req[MASK_XENSTORE_IDX(cons++)];

				if (c->in_have < sizeof(*h))
					((uint8_t *)h)[c->in_have] = b;
				else
					c->payload[c->in_have - sizeof(*h)] = b;
			}
		}
		__atomic_thread_fence(__ATOMIC_RELEASE);
		WRITE_ONCE(r->req_cons, cons);
		consumed = worked = true;
		if (c->in_have == sizeof(*h) && h->len > XENSTORE_PAYLOAD_MAX) {
			/* Too big to be a request: answer, and skip its payload as it comes. */
			reply_error(c, h, -XEN_E2BIG);
			c->discard = h->len;
			c->in_have = 0;
		}
	}
	if (consumed)
		notify(c); /* room for more requests */
	return worked;
}

bool xenstored_poll(void)
{
	bool busy = false;

	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];

		if (!c->used)
			continue;
		busy |= flush(c);
		if (serve(c))
			busy = true;
		busy |= flush(c);
	}
	busy |= run_dom0_callbacks();
	flush_all(); /* what the callbacks wrote */
	return busy;
}

/* ---- attach / detach ---- */

static void conn_free(struct conn *c)
{
	if (c->payload) {
		free_page(c->payload);
		c->payload = NULL;
	}
	for (int i = 0; i < OUT_PAGES; i++)
		if (c->out[i]) {
			free_page(c->out[i]);
			c->out[i] = NULL;
		}
}

static void make_domain_dir(uint16_t domid)
{
	struct hv_domctl_dominfo info;
	struct xs_perms own = {.n = 1, .p = {{.domid = domid, .perm = XS_PERM_NONE}}};
	struct xs_perms ro = {
	    .n = 2,
	    .p = {{.domid = 0, .perm = XS_PERM_NONE}, {.domid = domid, .perm = XS_PERM_READ}}};
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(path); /* a stale one of an earlier domain with this id */
	xs_tree_mkdir(0, path);
	xs_tree_set_perms(0, path, &own);
	memset(&info, 0, sizeof(info));
	if (dom_info(domid, &info) || !info.name[0])
		snprintf(info.name, sizeof(info.name), "domain-%u", domid);
	info.name[sizeof(info.name) - 1] = '\0';
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	xs_write(path, info.name);
	xs_tree_set_perms(0, path, &ro);
	snprintf(path, sizeof(path), "/local/domain/%u/domid", domid);
	xs_printf(path, "%u", domid);
	xs_tree_set_perms(0, path, &ro);
	snprintf(path, sizeof(path), "/local/domain/%u/device", domid);
	xs_tree_mkdir(0, path);
	snprintf(path, sizeof(path), "/local/domain/%u/control", domid);
	xs_tree_mkdir(0, path);
	/* Linux's vCPU hotplug reads cpu/<n>/availability for each vCPU (as libxl writes it). */
	snprintf(path, sizeof(path), "/local/domain/%u/cpu", domid);
	xs_tree_mkdir(0, path);
	xs_tree_set_perms(0, path, &ro);
	for (uint32_t i = 0; i < info.max_vcpus && i < 128; i++) {
		snprintf(path, sizeof(path), "/local/domain/%u/cpu/%u/availability", domid, i);
		xs_write(path, "online");
	}
}

int xenstored_attach(uint16_t domid)
{
	struct hv_domctl op;
	struct evtchn_bind_interdomain bind;
	struct conn *c = find_conn(domid);
	long rc;

	if (domid == 0)
		return -XEN_EINVAL;
	if (c)
		xenstored_detach(domid); /* a rebuilt domain: a new page and port */
	for (c = conns; c < conns + MAX_CONNS && c->used; c++)
		;
	if (c == conns + MAX_CONNS) {
		printk("xenstored: no room for the store of domain %u\n", domid);
		return -XEN_ENOSPC;
	}
	memset(&op, 0, sizeof(op));
	op.interface_version = HV_DOMCTL_INTERFACE_VERSION;
	op.cmd = HV_DOMCTL_store_info;
	op.domain = domid;
	if ((rc = domctl_forward(&op))) {
		printk("xenstored: domain %u has no store page (hv answered %ld)\n", domid, rc);
		return (int)rc;
	}
	memset(c, 0, sizeof(*c));
	c->kind = OWNER_DOMU;
	for (int i = 0; i < OUT_PAGES; i++)
		if (!(c->out[i] = alloc_page())) {
			conn_free(c);
			return -XEN_ENOMEM;
		}
	if (!(c->payload = alloc_page())) {
		conn_free(c);
		return -XEN_ENOMEM;
	}
	c->ring = dom0_map_foreign(op.u.console.mfn, domid);
	if (!c->ring) {
		conn_free(c);
		return -XEN_ENOMEM;
	}
	bind.remote_dom = domid;
	bind.remote_port = op.u.console.port;
	if ((rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind))) {
		printk("xenstored: binding domain %u's store port %u failed: %ld\n", domid,
		       op.u.console.port, rc);
		dom0_unmap(c->ring, 1);
		conn_free(c);
		return (int)rc;
	}
	c->port = bind.local_port;
	c->domid = domid;
	c->prefix_len =
	    (unsigned int)snprintf(c->prefix, sizeof(c->prefix), "/local/domain/%u/", domid);
	c->ring->server_features = XENSTORE_SERVER_FEATURE_ERROR;
	c->ring->connection = XENSTORE_CONNECTED;
	c->used = true;
	make_domain_dir(domid);
	pv_evtchn_bind(c->port, store_event);
	pv_evtchn_unmask(c->port);
	printk("xenstored: domain %u attached (page %#llx, port %u), /local/domain/%u made\n",
	       domid, (unsigned long long)op.u.console.mfn, op.u.console.port, domid);
	return 0;
}

void xenstored_detach(uint16_t domid)
{
	struct conn *c = find_conn(domid);
	struct evtchn_close cl;
	char path[32];

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(path);
	if (!c)
		return;
	xs_tree_watch_del_owner(c);
	pv_evtchn_mask(c->port);
	pv_evtchn_unbind(c->port);
	cl.port = c->port;
	HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl);
	dom0_unmap(c->ring, 1);
	conn_free(c);
	c->used = false;
	xs_tree_fire_special("@releaseDomain");
	run_dom0_callbacks();
	flush_all();
	printk("xenstored: domain %u detached (%llu requests), /local/domain/%u removed\n", domid,
	       (unsigned long long)c->requests, domid);
}

void xenstored_init(void)
{
	xs_tree_init(on_fire);
	xs_tree_mkdir(0, "/local/domain/0");
	xs_write("/local/domain/0/name", "Domain-0");
	xs_write("/local/domain/0/domid", "0");
	xs_tree_mkdir(0, "/local/domain/0/backend");
}

/* ---- dom0's own access ---- */

static void after_dom0_change(void)
{
	run_dom0_callbacks();
	flush_all();
}

int xs_read(const char *path, char *buf, unsigned int size)
{
	const char *value;
	unsigned int len;
	int rc = xs_tree_read(0, path, &value, &len);

	if (rc)
		return rc;
	if (len + 1 > size)
		return -XEN_E2BIG;
	memcpy(buf, value, len);
	buf[len] = '\0';
	return (int)len;
}

int xs_write(const char *path, const char *value)
{
	int rc = xs_tree_write(0, path, value, (unsigned int)strlen(value));

	after_dom0_change();
	return rc;
}

int xs_printf(const char *path, const char *fmt, ...)
{
	static char value[XS_VALUE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || n > XS_VALUE_MAX)
		return -XEN_E2BIG;
	return xs_write(path, value);
}

int xs_rm(const char *path)
{
	int rc = xs_tree_rm(0, path);

	after_dom0_change();
	return rc;
}

int xs_set_perms(const char *path, uint16_t owner, uint16_t reader)
{
	struct xs_perms perms = {
	    .n = reader ? 2 : 1,
	    .p = {{.domid = owner, .perm = XS_PERM_NONE}, {.domid = reader, .perm = XS_PERM_READ}}};
	int rc = xs_tree_set_perms(0, path, &perms);

	after_dom0_change();
	return rc;
}

int xs_watch(const char *path, xs_watch_fn cb, void *arg)
{
	struct dom0_watch *w = NULL;
	int rc;

	for (int i = 0; i < MAX_DOM0_WATCHES; i++)
		if (!dom0_watches[i].used) {
			w = &dom0_watches[i];
			snprintf(w->token, sizeof(w->token), "d0w%d", i);
			break;
		}
	if (!w)
		return -XEN_ENOSPC;
	w->path_size = strlen(path) + 1;
	if (w->path_size > XS_VALUE_MAX || !(w->path = xs_tree_alloc(w->path_size)))
		return -XEN_ENOMEM;
	memcpy(w->path, path, w->path_size);
	w->kind = OWNER_DOM0CB;
	w->cb = cb;
	w->arg = arg;
	if ((rc = xs_tree_watch_add(w, 0, path, w->token, 0))) {
		xs_tree_free(w->path, w->path_size);
		return rc;
	}
	w->used = true;
	on_fire(w, path, w->token); /* the initial event, as for a guest */
	after_dom0_change();
	return 0;
}

void xs_unwatch(const char *path, xs_watch_fn cb, void *arg)
{
	for (int i = 0; i < MAX_DOM0_WATCHES; i++) {
		struct dom0_watch *w = &dom0_watches[i];

		if (!w->used || w->cb != cb || w->arg != arg || strcmp(w->path, path) != 0)
			continue;
		xs_tree_watch_del(w, path, w->token);
		for (unsigned int e = dom0_ev_tail; e != dom0_ev_head;
		     e = (e + 1) % MAX_DOM0_EVENTS)
			if (dom0_events[e].w == w)
				dom0_events[e].w = NULL; /* queued events of it are not delivered */
		xs_tree_free(w->path, w->path_size);
		w->used = false;
		return;
	}
}
