/*
 * dom0's console back end: serves each domU's console ring page (struct xencons_interface,
 * hv/include/public/io/console.h) that hv's builder gave it.
 *
 * After a successful build the agent attaches the domain: hv tells where the page and the
 * domU's unbound console port are (HV_DOMCTL_console_info), we map the page as a foreign frame
 * and bind the port with bind_interdomain. Before the domain is destroyed the agent detaches
 * it (unmap, close), so hv never frees a frame dom0 still maps.
 *
 * Output (out[]) is drained on every turn of the agent's loop into a per-domain log of
 * LOG_BYTES; when the log is full the oldest bytes are dropped. The host reads the log through
 * the link's console channel (HVLINK_CON_READ) from its own cursor: bytes it has not read yet
 * and that were dropped are skipped. Input (HVLINK_CON_WRITE) is copied into in[] as far as it
 * has room, and the domU is notified; the count accepted goes back to the host.
 *
 * Invariants: a slot is in use iff its page is mapped and its port bound; the log's `head` is
 * the total bytes ever logged, its valid bytes are [head - min(head, LOG_BYTES), head).
 */
#include <kernel.h>
#include <mm.h>
#include <klib/string.h>
#include <public/io/console.h>

#include "../arch/pv/pv.h"
#include "console-back.h"
#include "dom0.h"

#include <domctl.h>

#define MAX_CONSOLES 32
#define LOG_PAGES    16
#define LOG_BYTES    (LOG_PAGES * PAGE_SIZE) /* 64 KiB per domain */

struct console {
	bool used;
	uint16_t domid;
	struct xencons_interface *ring; /* the domU's page, mapped in dom0's I/O window */
	evtchn_port_t port;             /* our end of the interdomain channel */
	char *log[LOG_PAGES];           /* pages of dom0's memory */
	uint64_t head;                  /* bytes ever logged */
	uint64_t read;                  /* the host's cursor */
};

static struct console consoles[MAX_CONSOLES];
volatile uint64_t console_back_events;

static void console_event(evtchn_port_t port)
{
	(void)port; /* the agent's loop drains every ring after each wake-up */
	console_back_events++;
}

static struct console *find(uint16_t domid)
{
	for (int i = 0; i < MAX_CONSOLES; i++)
		if (consoles[i].used && consoles[i].domid == domid)
			return &consoles[i];
	return NULL;
}

static void notify(struct console *c)
{
	struct evtchn_send send = {.port = c->port};

	HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

static void free_log(struct console *c)
{
	for (int i = 0; i < LOG_PAGES; i++) {
		if (c->log[i])
			free_page(c->log[i]);
		c->log[i] = NULL;
	}
}

int console_back_attach(uint16_t domid)
{
	struct hv_domctl op;
	struct evtchn_bind_interdomain bind;
	struct console *c = find(domid);
	long rc;

	if (c)
		console_back_detach(domid); /* a rebuilt domain: a new page and port */
	for (c = consoles; c < consoles + MAX_CONSOLES && c->used; c++)
		;
	if (c == consoles + MAX_CONSOLES) {
		printk("console: no room for the console of domain %u\n", domid);
		return -XEN_ENOSPC;
	}
	memset(&op, 0, sizeof(op));
	op.interface_version = HV_DOMCTL_INTERFACE_VERSION;
	op.cmd = HV_DOMCTL_console_info;
	op.domain = domid;
	if ((rc = domctl_forward(&op))) {
		printk("console: domain %u has no console page (hv answered %ld)\n", domid, rc);
		return (int)rc;
	}
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < LOG_PAGES; i++)
		if (!(c->log[i] = alloc_page())) {
			free_log(c);
			return -XEN_ENOMEM;
		}
	/* Mapping window ranges are never reused: one page per attach is plenty of room. */
	c->ring = dom0_map_foreign(op.u.console.mfn, domid);
	if (!c->ring) {
		free_log(c);
		return -XEN_ENOMEM;
	}
	bind.remote_dom = domid;
	bind.remote_port = op.u.console.port;
	if ((rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind))) {
		printk("console: binding domain %u's console port %u failed: %ld\n", domid,
		       op.u.console.port, rc);
		dom0_unmap(c->ring, 1);
		free_log(c);
		return (int)rc;
	}
	c->port = bind.local_port;
	c->domid = domid;
	c->used = true;
	c->ring->connection = XENCONSOLE_CONNECTED;
	pv_evtchn_bind(c->port, console_event);
	pv_evtchn_unmask(c->port);
	console_back_poll();
	return 0;
}

void console_back_detach(uint16_t domid)
{
	struct console *c = find(domid);
	struct evtchn_close cl;

	if (!c)
		return;
	pv_evtchn_mask(c->port);
	pv_evtchn_unbind(c->port);
	cl.port = c->port;
	HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl);
	dom0_unmap(c->ring, 1);
	free_log(c);
	c->used = false;
}

static void log_put(struct console *c, char ch)
{
	uint64_t at = c->head % LOG_BYTES;

	c->log[at / PAGE_SIZE][at % PAGE_SIZE] = ch;
	c->head++;
}

void console_back_poll(void)
{
	for (struct console *c = consoles; c < consoles + MAX_CONSOLES; c++) {
		struct xencons_interface *r = c->ring;
		uint32_t cons, prod;

		if (!c->used)
			continue;
		cons = r->out_cons;
		prod = READ_ONCE(r->out_prod);
		if (prod == cons)
			continue;
		if (prod - cons > sizeof(r->out))
			cons = prod -
			       sizeof(r->out); /* a domU that lies: keep the last ring's worth */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		while (cons != prod)
			log_put(c, r->out[MASK_XENCONS_IDX(cons++, r->out)]);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		WRITE_ONCE(r->out_cons, cons);
		notify(c); /* a domU waiting for room may go on */
	}
}

int console_back_read(uint16_t domid, void *buf, uint32_t max, uint32_t *got)
{
	struct console *c = find(domid);
	uint8_t *out = buf;
	uint32_t n = 0;

	*got = 0;
	if (!c)
		return -XEN_ENOENT;
	console_back_poll();
	if (c->head - c->read > LOG_BYTES)
		c->read = c->head - LOG_BYTES; /* dropped before the host read them */
	while (n < max && c->read != c->head) {
		uint64_t at = c->read++ % LOG_BYTES;

		out[n++] = (uint8_t)c->log[at / PAGE_SIZE][at % PAGE_SIZE];
	}
	*got = n;
	return 0;
}

int console_back_write(uint16_t domid, const void *buf, uint32_t len, uint32_t *written)
{
	struct console *c = find(domid);
	const uint8_t *in = buf;
	uint32_t cons, prod, n = 0;

	*written = 0;
	if (!c)
		return -XEN_ENOENT;
	cons = READ_ONCE(c->ring->in_cons);
	prod = c->ring->in_prod;
	if (prod - cons > sizeof(c->ring->in))
		return -XEN_EIO; /* the domU corrupted its indices */
	while (n < len && prod - cons < sizeof(c->ring->in))
		c->ring->in[MASK_XENCONS_IDX(prod++, c->ring->in)] = (char)in[n++];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	WRITE_ONCE(c->ring->in_prod, prod);
	if (n)
		notify(c);
	*written = n;
	return 0;
}
