/*
 * dom0's block back end (Xen's blkback, backends.h): serves each domU's blkif ring and moves
 * the data between the guest's granted pages and the host over the link's BLOCK channel
 * (link_io.h), where the host does the file I/O.
 *
 * One request's life: taken off the guest's ring (copied once: the guest may scribble on the
 * shared slot afterwards) -> checked (operation, segments, sector range, read-only) -> admitted
 * by the device's iotune buckets -> WRITE: the guest's segments grant-copied into one of our
 * bounce buffers -> sent to the host (hvlink_blk_req, then the data) with a tag as the link id
 * -> the host's answer (blkback_link_message) -> READ: the data copied from the link ring into
 * the bounce buffer, then grant-copied into the guest's segments -> a blkif response on the
 * guest's ring and an event.
 *
 * Invariants:
 *  - everything the guest wrote is checked before use; a bad request (segment count, sector
 *    bounds, grant ref, write to a read-only disk, unknown operation) gets BLKIF_RSP_ERROR and
 *    changes nothing else; a guest that corrupts the ring indices has its device stopped;
 *  - a job is either free, waiting to be sent (FIFO, so the host sees requests in ring
 *    order), or waiting for its answer (at most HOST_TIMEOUT_NS, then it fails); its tag
 *    (index | sequence << 8) changes each time it is reused, so an answer for a job of a
 *    removed device, an expired job or an earlier use is dropped;
 *  - we take a request off the ring only when a job (and for data, a bounce buffer) is free,
 *    so no request is ever dropped for want of resources: it waits on the ring;
 *  - iotune never fails a request: one that finds a bucket empty stays on the ring until the
 *    bucket refills (token buckets with debt: a request is admitted while the bucket is
 *    positive and then takes all it costs, so the long-run rate is exactly the limit);
 *  - the only mapping of guest memory is the ring page; blkback_remove unmaps it and closes
 *    the event channel, so after it nothing of the domain is held (backends.h's order).
 *
 * The wake-up while throttled is dom0's shared one-shot timer (backends_wake_at).
 */
#include <kernel.h>
#include <mm.h>
#include <gnttab.h>
#include <klib/string.h>
#include <klib/printf.h>
#include <public/io/blkif.h>
#include "../arch/pv/pv.h"
#include "backends.h"
#include "dom0.h"

#define BLKB_MAX_DEVS   16
#define BLKB_JOBS       64
#define BLKB_BUFS       32
#define BLKB_BUF_PAGES  BLKIF_MAX_SEGMENTS_PER_REQUEST
#define NS_PER_S        1000000000ULL
#define HOST_TIMEOUT_NS (30 * NS_PER_S) /* a request the host has not answered by then fails */
#define RATE_MAX        (1ULL << 33) /* bytes/s or IOPS: keeps the bucket arithmetic in 64 bits */

enum { XS_INITIALISING = 1, XS_INITWAIT, XS_INITIALISED, XS_CONNECTED, XS_CLOSING, XS_CLOSED };

struct bucket {
	uint64_t rate;     /* units per second; 0 = unlimited */
	uint64_t capacity; /* the most a bucket holds after idling */
	int64_t tokens;    /* may go negative: the debt of the last admitted request */
	uint64_t rem;      /* refill remainder, in units * ns */
	uint64_t at;       /* time of the last refill */
};

struct blkb_dev {
	bool used, connected, failed, check_state;
	uint16_t domid, devid;
	unsigned int index; /* among the domain's disks, in the order they were added */
	uint64_t sectors;
	bool readonly;
	char fe[64], be[64]; /* XenStore directories of the front and back end */
	int be_state;
	grant_ref_t ring_ref;
	grant_handle_t ring_handle;
	struct blkif_sring *sring;
	struct blkif_back_ring ring;
	evtchn_port_t port;
	unsigned int in_flight;
	struct bucket bytes, iops;
	uint64_t served, errors;
	unsigned int complaints;
};

enum job_state { JOB_FREE, JOB_TO_SEND, JOB_SENT };

struct blkb_job {
	enum job_state state;
	uint32_t tag;
	struct blkb_dev *dev;
	struct blkif_request req; /* our copy of the guest's request */
	uint64_t nr_sectors;      /* data sectors (READ/WRITE), or the discard's count */
	int buf;                  /* bounce buffer, -1 if none */
	uint64_t sent_at;         /* when it went to the host (JOB_SENT) */
	struct blkb_job *next;    /* in the send FIFO */
};

struct bounce {
	bool used;
	uint8_t *va; /* BLKB_BUF_PAGES pages, contiguous in dom0's I/O window */
	uint64_t mfn[BLKB_BUF_PAGES];
};

static struct blkb_dev devs[BLKB_MAX_DEVS];
static struct blkb_job jobs[BLKB_JOBS];
static struct bounce bufs[BLKB_BUFS];
static unsigned int nr_bufs;
static struct blkb_job *send_head, *send_tail;
static uint32_t tag_seq;

/* At most a few lines per device about a misbehaving guest or host: no console flood. */
#define complain(dev, fmt, ...)                                                                    \
	do {                                                                                       \
		if ((dev)->complaints < 20) {                                                      \
			(dev)->complaints++;                                                       \
			printk("blkback: d%u vbd %u: " fmt, (dev)->domid, (dev)->devid,            \
			       ##__VA_ARGS__);                                                     \
		}                                                                                  \
	} while (0)

void blkback_init(void)
{
	for (unsigned int b = 0; b < BLKB_BUFS; b++) {
		void *pages[BLKB_BUF_PAGES];
		unsigned int i;

		for (i = 0; i < BLKB_BUF_PAGES; i++) {
			pages[i] = alloc_page();
			if (!pages[i])
				break;
			bufs[b].mfn[i] = pv_virt_to_mfn(pages[i]);
		}
		if (i == BLKB_BUF_PAGES)
			bufs[b].va = dom0_map_frames(bufs[b].mfn, BLKB_BUF_PAGES, false);
		if (!bufs[b].va) {
			while (i--)
				free_page(pages[i]);
			break;
		}
		nr_bufs++;
	}
	printk("blkback: %u bounce buffers of %u KiB\n", nr_bufs, BLKB_BUF_PAGES * 4);
}

/* ---- XenStore and the connection ------------------------------------------------------ */

static struct blkb_dev *find_dev(uint16_t domid, uint16_t devid)
{
	for (unsigned int i = 0; i < BLKB_MAX_DEVS; i++)
		if (devs[i].used && devs[i].domid == domid && devs[i].devid == devid)
			return &devs[i];
	return NULL;
}

static int be_write(struct blkb_dev *d, const char *name, const char *fmt, unsigned long long v)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/%s", d->be, name);
	return xs_printf(path, fmt, v);
}

static int be_puts(struct blkb_dev *d, const char *name, const char *value)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/%s", d->be, name);
	return xs_write(path, value);
}

static void set_state(struct blkb_dev *d, int state)
{
	d->be_state = state;
	be_write(d, "state", "%llu", (unsigned long long)state);
}

/* An unsigned number from the front end's directory, or -1. */
static long long fe_number(struct blkb_dev *d, const char *name)
{
	char path[96], val[24], *end;
	unsigned long long v;
	int n;

	snprintf(path, sizeof(path), "%s/%s", d->fe, name);
	n = xs_read(path, val, sizeof(val));
	if (n <= 0 || n >= (int)sizeof(val))
		return -1;
	val[n] = '\0';
	v = strtoull(val, &end, 10);
	if (end == val || *end != '\0' || v > 0xffffffffULL)
		return -1;
	return (long long)v;
}

static void watch_fired(const char *path, void *arg)
{
	(void)path;
	((struct blkb_dev *)arg)->check_state = true; /* looked at in blkback_poll, not here */
}

static void ring_event(evtchn_port_t port)
{
	(void)port; /* blkback_poll looks at every ring after each event */
}

static void disconnect(struct blkb_dev *d)
{
	struct evtchn_close c = {.port = d->port};
	int rc;

	if (!d->connected)
		return;
	/* Jobs in flight: their answers are dropped (tags), their buffers come back now. */
	for (unsigned int j = 0; j < BLKB_JOBS; j++)
		if (jobs[j].state != JOB_FREE && jobs[j].dev == d) {
			if (jobs[j].buf >= 0)
				bufs[jobs[j].buf].used = false;
			jobs[j].state = JOB_FREE;
		}
	for (struct blkb_job **p = &send_head; *p;) {
		if ((*p)->state == JOB_FREE)
			*p = (*p)->next;
		else
			p = &(*p)->next;
	}
	send_tail = send_head;
	while (send_tail && send_tail->next)
		send_tail = send_tail->next;
	d->in_flight = 0;
	pv_evtchn_unbind(d->port);
	HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
	rc = gnttab_unmap(d->sring, d->ring_handle);
	if (rc)
		printk("blkback: d%u vbd %u: unmapping the ring failed (%d)\n", d->domid, d->devid,
		       rc);
	d->sring = NULL;
	d->connected = false;
}

static int connect(struct blkb_dev *d)
{
	struct evtchn_bind_interdomain b = {.remote_dom = d->domid};
	long long ref = fe_number(d, "ring-ref"), port = fe_number(d, "event-channel");
	char path[96], proto[24];
	int n, err;
	long rc;

	if (ref < 0 || port <= 0) {
		printk("blkback: d%u vbd %u: front end gave no ring-ref or event-channel\n",
		       d->domid, d->devid);
		return -XEN_EINVAL;
	}
	snprintf(path, sizeof(path), "%s/protocol", d->fe);
	n = xs_read(path, proto, sizeof(proto));
	if (n > 0 && n < (int)sizeof(proto)) {
		proto[n] = '\0';
		if (strcmp(proto, "x86_64-abi") != 0) {
			printk("blkback: d%u vbd %u: protocol %s is not ours\n", d->domid, d->devid,
			       proto);
			return -XEN_EINVAL;
		}
	}
	d->sring = gnttab_map(d->domid, (grant_ref_t)ref, false, &d->ring_handle, &err);
	if (!d->sring) {
		printk("blkback: d%u vbd %u: mapping ring-ref %lld failed (%d)\n", d->domid,
		       d->devid, ref, err);
		return err;
	}
	d->ring_ref = (grant_ref_t)ref;
	b.remote_port = (evtchn_port_t)port;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b);
	if (rc) {
		printk("blkback: d%u vbd %u: binding event channel %lld failed (%ld)\n", d->domid,
		       d->devid, port, rc);
		gnttab_unmap(d->sring, d->ring_handle);
		d->sring = NULL;
		return (int)rc;
	}
	d->port = b.local_port;
	HV_RING_BACK_INIT(&d->ring, d->sring, PAGE_SIZE);
	pv_evtchn_bind(d->port, ring_event);
	pv_evtchn_unmask(d->port);
	d->connected = true;
	d->failed = false;
	printk("blkback: d%u vbd %u connected (ring-ref %u, port %u)\n", d->domid, d->devid,
	       d->ring_ref, d->port);
	return 0;
}

/* Follows the front end's state (after a watch fired). */
static void front_changed(struct blkb_dev *d)
{
	long long fs = fe_number(d, "state");

	d->check_state = false;
	switch (fs) {
	case XS_INITIALISED:
	case XS_CONNECTED:
		if (!d->connected && d->be_state == XS_INITWAIT) {
			if (connect(d) == 0)
				set_state(d, XS_CONNECTED);
			else
				set_state(d, XS_CLOSING);
		}
		break;
	case XS_CLOSING:
		disconnect(d);
		if (d->be_state != XS_CLOSED)
			set_state(d, XS_CLOSING);
		break;
	case XS_CLOSED:
		disconnect(d);
		set_state(d, XS_CLOSED);
		break;
	case XS_INITIALISING:
		/* A front end starting again (a new driver instance): offer the device anew. */
		if (d->be_state == XS_CLOSED || d->be_state == XS_CLOSING) {
			disconnect(d);
			set_state(d, XS_INITWAIT);
		}
		break;
	default:
		break;
	}
}

int blkback_add(uint16_t domid, uint16_t devid, uint64_t sectors, bool readonly)
{
	struct blkb_dev *d = NULL;
	unsigned int index = 0;

	if (find_dev(domid, devid))
		return -XEN_EEXIST;
	for (unsigned int i = 0; i < BLKB_MAX_DEVS; i++) {
		if (!devs[i].used && !d)
			d = &devs[i];
		else if (devs[i].used && devs[i].domid == domid)
			index = MAX(index, devs[i].index + 1);
	}
	if (!d)
		return -XEN_ENOSPC;
	memset(d, 0, sizeof(*d));
	d->used = true;
	d->domid = domid;
	d->devid = devid;
	d->index = index;
	d->sectors = sectors;
	d->readonly = readonly;
	snprintf(d->fe, sizeof(d->fe), "/local/domain/%u/device/vbd/%u", domid, devid);
	snprintf(d->be, sizeof(d->be), "/local/domain/0/backend/vbd/%u/%u", domid, devid);
	be_write(d, "sectors", "%llu", (unsigned long long)sectors);
	be_puts(d, "sector-size", "512");
	be_puts(d, "info", readonly ? "4" : "0"); /* VDISK_READONLY */
	be_puts(d, "mode", readonly ? "r" : "w");
	be_puts(d, "feature-flush-cache", "1");
	be_puts(d, "feature-discard", readonly ? "0" : "1");
	set_state(d, XS_INITWAIT);
	d->check_state = true;
	xs_watch(d->fe, watch_fired, d);
	printk("blkback: d%u vbd %u added (disk %u): %llu sectors%s\n", domid, devid, index,
	       (unsigned long long)sectors, readonly ? ", read-only" : "");
	return 0;
}

void blkback_remove(uint16_t domid, uint16_t devid)
{
	struct blkb_dev *d = find_dev(domid, devid);

	if (!d)
		return;
	xs_unwatch(d->fe, watch_fired, d);
	disconnect(d);
	set_state(d, XS_CLOSED);
	printk("blkback: d%u vbd %u removed (%llu requests, %llu errors)\n", domid, devid,
	       (unsigned long long)d->served, (unsigned long long)d->errors);
	d->used = false;
}

/* ---- iotune: token buckets ------------------------------------------------------------- */

static void bucket_set(struct bucket *b, uint64_t rate, uint64_t capacity, uint64_t now)
{
	b->rate = rate;
	b->capacity = capacity;
	b->tokens = (int64_t)capacity;
	b->rem = 0;
	b->at = now;
}

static void bucket_refill(struct bucket *b, uint64_t now)
{
	if (b->rate && now > b->at) {
		/* rate < 2^33 (iotune_set), so neither product overflows 64 bits. */
		uint64_t dt = MIN(now - b->at, 10 * NS_PER_S);
		uint64_t part = b->rate * (dt % NS_PER_S) + b->rem;
		uint64_t add = b->rate * (dt / NS_PER_S) + part / NS_PER_S;

		b->rem = part % NS_PER_S;
		if (b->tokens + (int64_t)add >=
		    (int64_t)b->capacity) { /* add < 2^37: no overflow */
			b->tokens = (int64_t)b->capacity;
			b->rem = 0;
		} else {
			b->tokens += (int64_t)add;
		}
	}
	b->at = now;
}

/* Nanoseconds until the bucket is positive again (0: it is, or it has no limit). */
static uint64_t bucket_wait(const struct bucket *b)
{
	if (!b->rate || b->tokens > 0)
		return 0;
	/* The debt is at most one request's bytes, so this stays far below 2^64. */
	return ((uint64_t)(1 - b->tokens) * NS_PER_S - b->rem) / b->rate + 1;
}

/* Admits a request of `bytes` (and one operation) or says how long to wait (*wait lowered). */
static bool admit(struct blkb_dev *d, uint64_t bytes, uint64_t now, uint64_t *wait)
{
	uint64_t w;

	bucket_refill(&d->bytes, now);
	bucket_refill(&d->iops, now);
	w = MAX(bucket_wait(&d->bytes), bucket_wait(&d->iops));
	if (w) {
		*wait = MIN(*wait, w);
		return false;
	}
	if (d->bytes.rate)
		d->bytes.tokens -= (int64_t)bytes;
	if (d->iops.rate)
		d->iops.tokens -= 1;
	return true;
}

/* The device a bandwidth key names: index = the domain's n-th disk, or its devid. */
static struct blkb_dev *iotune_dev(const struct hvlink_ctl_bandwidth *bw)
{
	for (unsigned int i = 0; i < BLKB_MAX_DEVS; i++) {
		struct blkb_dev *d = &devs[i];

		if (d->used && d->domid == bw->head.domid &&
		    (d->index == bw->index || (bw->index >= 256 && d->devid == bw->index)))
			return d;
	}
	return NULL;
}

int blkback_iotune_set(const struct hvlink_ctl_bandwidth *bw)
{
	struct blkb_dev *d = iotune_dev(bw);
	uint64_t now = platform->time_ns(), rate, cap;

	if (!d)
		return -XEN_ENOENT;
	/* Limits beyond 8 GiB/s (or 2^33 IOPS) cannot be reached here: taken as that much. */
	rate = MIN(bw->average, RATE_MAX / 1024) * 1024;
	/*
	 * Capacity: a burst of 50 ms at the rate unless one is given, and at least two full
	 * requests. Two, not one: a request admitted late (the timer and the wake-up take their
	 * time) leaves the surplus it waited for in the bucket, where the next one finds it; a
	 * bucket of one request would throw it away and every late wake-up would lower the rate.
	 */
	cap = bw->burst ? MIN(bw->burst, RATE_MAX / 1024) * 1024 : rate / 20;
	bucket_set(&d->bytes, rate, MAX(cap, 2ULL * BLKB_BUF_PAGES * PAGE_SIZE), now);
	bucket_set(&d->iops, MIN(bw->iops, RATE_MAX), MAX(MIN(bw->iops, RATE_MAX) / 20, 2ULL), now);
	printk("blkback: d%u vbd %u iotune: %llu KiB/s, %llu IOPS\n", d->domid, d->devid,
	       (unsigned long long)bw->average, (unsigned long long)bw->iops);
	return 0;
}

int blkback_iotune_get(struct hvlink_ctl_bandwidth *bw)
{
	struct blkb_dev *d = iotune_dev(bw);

	if (!d)
		return -XEN_ENOENT;
	bw->average = d->bytes.rate / 1024;
	bw->peak = 0;
	bw->burst = d->bytes.rate ? d->bytes.capacity / 1024 : 0;
	bw->floor = 0;
	bw->iops = d->iops.rate;
	return 0;
}

/* ---- requests -------------------------------------------------------------------------- */

static void respond(struct blkb_dev *d, uint64_t id, uint8_t op, int16_t status)
{
	struct blkif_response *r = HV_RING_GET_RESPONSE(&d->ring, d->ring.rsp_prod_pvt);
	int notify;

	r->id = id;
	r->operation = op;
	r->status = status;
	d->ring.rsp_prod_pvt++;
	d->served++;
	if (status != BLKIF_RSP_OKAY)
		d->errors++;
	HV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&d->ring, notify);
	if (notify) {
		struct evtchn_send s = {.port = d->port};

		HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
	}
}

static void finish(struct blkb_job *j, int16_t status)
{
	respond(j->dev, j->req.id, j->req.operation, status);
	if (j->buf >= 0)
		bufs[j->buf].used = false;
	j->dev->in_flight--;
	j->state = JOB_FREE;
}

/*
 * Checks our copy of a request. Returns BLKIF_RSP_OKAY with *sectors (data sectors of a READ
 * or WRITE, the count of a DISCARD), or the status to answer at once.
 */
static int16_t check_request(struct blkb_dev *d, const struct blkif_request *r, uint64_t *sectors)
{
	struct blkif_request_discard dr;
	uint64_t total = 0;

	memcpy(&dr, r, sizeof(dr)); /* the same slot seen as a discard */

	switch (r->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		if (r->nr_segments == 0 || r->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			complain(d, "request with %u segments\n", r->nr_segments);
			return BLKIF_RSP_ERROR;
		}
		for (unsigned int i = 0; i < r->nr_segments; i++) {
			const struct blkif_request_segment *s = &r->seg[i];

			if (s->first_sect > s->last_sect ||
			    s->last_sect >= BLKIF_SECTORS_PER_PAGE) {
				complain(d, "segment %u covers sectors %u..%u\n", i, s->first_sect,
				         s->last_sect);
				return BLKIF_RSP_ERROR;
			}
			total += (uint64_t)(s->last_sect - s->first_sect + 1);
		}
		if (r->sector_number > d->sectors || total > d->sectors - r->sector_number) {
			complain(d, "sectors %llu+%llu beyond the disk's %llu\n",
			         (unsigned long long)r->sector_number, (unsigned long long)total,
			         (unsigned long long)d->sectors);
			return BLKIF_RSP_ERROR;
		}
		if (r->operation == BLKIF_OP_WRITE && d->readonly)
			return BLKIF_RSP_ERROR; /* the disk is read-only: not worth a line */
		*sectors = total;
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_FLUSH_DISKCACHE:
		*sectors = 0;
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_DISCARD:
		if (d->readonly || dr.sector_number > d->sectors ||
		    dr.nr_sectors > d->sectors - dr.sector_number || dr.nr_sectors > 0xffffffffULL)
			return BLKIF_RSP_ERROR;
		*sectors = dr.nr_sectors;
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_WRITE_BARRIER:
	case BLKIF_OP_INDIRECT:
		return BLKIF_RSP_EOPNOTSUPP; /* not advertised */
	default:
		complain(d, "unknown operation %u\n", r->operation);
		return BLKIF_RSP_ERROR;
	}
}

/*
 * Grant copies between the request's segments and bounce buffer b: into the buffer for a
 * WRITE, out of it for a READ. A segment may straddle two pages of the buffer. Returns 0 or
 * the first failing GNTST status.
 */
static int copy_segments(const struct blkb_job *j, bool to_guest)
{
	struct gnttab_copy ops[2 * BLKIF_MAX_SEGMENTS_PER_REQUEST];
	const struct bounce *b = &bufs[j->buf];
	unsigned int n = 0;
	uint64_t off = 0;
	int rc;

	for (unsigned int i = 0; i < j->req.nr_segments; i++) {
		const struct blkif_request_segment *s = &j->req.seg[i];
		uint32_t len = (uint32_t)(s->last_sect - s->first_sect + 1) * HVLINK_SECTOR_SIZE;
		uint32_t goff = (uint32_t)s->first_sect * HVLINK_SECTOR_SIZE;

		while (len) {
			uint32_t in_page = (uint32_t)(off % PAGE_SIZE);
			uint32_t k = MIN(len, (uint32_t)PAGE_SIZE - in_page);
			struct gnttab_copy_ptr guest = {
			    .u.ref = s->gref, .domid = j->dev->domid, .offset = (uint16_t)goff};
			struct gnttab_copy_ptr ours = {.u.gmfn = b->mfn[off / PAGE_SIZE],
			                               .domid = DOMID_SELF,
			                               .offset = (uint16_t)in_page};

			ops[n] = (struct gnttab_copy){.source = to_guest ? ours : guest,
			                              .dest = to_guest ? guest : ours,
			                              .len = (uint16_t)k,
			                              .flags = to_guest ? GNTCOPY_dest_gref
			                                                : GNTCOPY_source_gref};
			n++;
			off += k;
			goff += k;
			len -= k;
		}
	}
	rc = gnttab_copy(ops, n);
	if (rc)
		return GNTST_general_error;
	for (unsigned int i = 0; i < n; i++)
		if (ops[i].status != GNTST_okay) {
			complain(j->dev, "grant copy of ref %u failed (%d)\n",
			         to_guest ? ops[i].dest.u.ref : ops[i].source.u.ref, ops[i].status);
			return ops[i].status;
		}
	return 0;
}

static struct blkb_job *free_job(void)
{
	for (unsigned int i = 0; i < BLKB_JOBS; i++)
		if (jobs[i].state == JOB_FREE)
			return &jobs[i];
	return NULL;
}

static int free_buf(void)
{
	for (unsigned int i = 0; i < nr_bufs; i++)
		if (!bufs[i].used)
			return (int)i;
	return -1;
}

static void queue_send(struct blkb_job *j)
{
	j->state = JOB_TO_SEND;
	j->next = NULL;
	if (send_tail)
		send_tail->next = j;
	else
		send_head = j;
	send_tail = j;
}

/*
 * Starts the request at the ring's consumer index if resources and iotune allow. Returns 1 if
 * it was taken (answered at once or handed on), 0 if it must wait on the ring.
 */
static int take_one(struct blkb_dev *d, uint64_t now, uint64_t *wait)
{
	struct blkif_request req;
	struct blkb_job *j;
	uint64_t sectors = 0;
	int16_t st;
	int b = -1;

	memcpy(&req, HV_RING_GET_REQUEST(&d->ring, d->ring.req_cons), sizeof(req));
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* only the copy is used from here on */
	st = check_request(d, &req, &sectors);
	if (st != BLKIF_RSP_OKAY || (req.operation == BLKIF_OP_DISCARD && sectors == 0)) {
		d->ring.req_cons++;
		respond(d, req.id, req.operation, st);
		return 1;
	}
	j = free_job();
	if (!j)
		return 0;
	if (req.operation == BLKIF_OP_READ || req.operation == BLKIF_OP_WRITE) {
		b = free_buf();
		if (b < 0)
			return 0;
	}
	if (!admit(d, req.operation == BLKIF_OP_DISCARD ? 0 : sectors * HVLINK_SECTOR_SIZE, now,
	           wait))
		return 0;
	d->ring.req_cons++;
	j->dev = d;
	j->req = req;
	j->nr_sectors = sectors;
	j->buf = b;
	j->tag = (uint32_t)(j - jobs) | (++tag_seq << 8);
	if (b >= 0)
		bufs[b].used = true;
	d->in_flight++;
	if (req.operation == BLKIF_OP_WRITE && copy_segments(j, false)) {
		finish(j, BLKIF_RSP_ERROR);
		return 1;
	}
	queue_send(j);
	return 1;
}

/* Takes what it can off d's ring. True if anything was taken. */
static bool take_requests(struct blkb_dev *d, uint64_t now, uint64_t *wait)
{
	bool took = false;
	int more;

	for (;;) {
		RING_IDX rp = d->sring->req_prod;

		hv_ring_rmb();
		if (rp - d->ring.req_cons > d->ring.nr_ents) {
			printk("blkback: d%u vbd %u: ring index %u is %u ahead of ours: device "
			       "stopped\n",
			       d->domid, d->devid, rp, rp - d->ring.req_cons);
			d->failed = true;
			return took;
		}
		while (d->ring.req_cons != rp &&
		       d->ring.req_cons - d->ring.rsp_prod_pvt < d->ring.nr_ents) {
			if (!take_one(d, now, wait))
				return took;
			took = true;
		}
		HV_RING_FINAL_CHECK_FOR_REQUESTS(&d->ring, more);
		if (!more)
			return took;
	}
}

/* Sends the waiting jobs to the host, in order, while the link ring has room. */
static bool send_jobs(void)
{
	struct hvlink_guest_chan *ch = send_head ? agent_link_channel(HVLINK_CHAN_BLOCK) : NULL;
	bool sent = false;

	while (ch && send_head) {
		struct blkb_job *j = send_head;
		struct hvlink_blk_req q = {.domid = j->dev->domid, .devid = j->dev->devid};
		const void *data = NULL;
		uint32_t len = 0;
		uint16_t type;
		int rc;

		switch (j->req.operation) {
		case BLKIF_OP_READ:
			type = HVLINK_BLK_READ;
			break;
		case BLKIF_OP_WRITE:
			type = HVLINK_BLK_WRITE;
			data = bufs[j->buf].va;
			len = (uint32_t)j->nr_sectors * HVLINK_SECTOR_SIZE;
			break;
		case BLKIF_OP_FLUSH_DISKCACHE:
			type = HVLINK_BLK_FLUSH;
			break;
		default:
			type = HVLINK_BLK_DISCARD;
			break;
		}
		q.sector = type == HVLINK_BLK_FLUSH ? 0 : j->req.sector_number;
		q.nr_sectors = type == HVLINK_BLK_FLUSH ? 0 : (uint32_t)j->nr_sectors;
		rc =
		    agent_link_send(ch, type, HVLINK_MSG_REQUEST, j->tag, &q, sizeof(q), data, len);
		if (rc == -HVLINK_EAGAIN)
			break; /* the host's answers will wake us */
		send_head = j->next;
		if (!send_head)
			send_tail = NULL;
		if (rc) {
			complain(j->dev, "sending to the host failed (%d)\n", rc);
			finish(j, BLKIF_RSP_ERROR);
		} else {
			j->state = JOB_SENT;
			j->sent_at = platform->time_ns();
		}
		sent = true;
	}
	return sent;
}

void blkback_link_message(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	unsigned int i = m->id & 0xff;
	struct blkb_job *j = i < BLKB_JOBS ? &jobs[i] : NULL;
	int16_t st = BLKIF_RSP_OKAY;

	if ((m->flags & HVLINK_MSG_KIND_MASK) != HVLINK_MSG_RESPONSE)
		return; /* the host asks nothing on this channel */
	if (!j || j->state != JOB_SENT || j->tag != m->id)
		return; /* an answer for a device removed meanwhile */
	if (m->status < 0) {
		char why[96] = "";

		hvlink_ring_copy_payload(&ch->rx, 0, why, MIN(m->len, (uint32_t)sizeof(why) - 1));
		if (m->status != -HVLINK_EROFS)
			complain(j->dev, "host: %d %s\n", m->status, why);
		st = BLKIF_RSP_ERROR;
	} else if (j->req.operation == BLKIF_OP_READ) {
		uint32_t len = (uint32_t)j->nr_sectors * HVLINK_SECTOR_SIZE;

		if (m->len != len ||
		    hvlink_ring_copy_payload(&ch->rx, 0, bufs[j->buf].va, len) != 0) {
			complain(j->dev, "host answered %u bytes for %u\n", m->len, len);
			st = BLKIF_RSP_ERROR;
		} else if (copy_segments(j, true)) {
			st = BLKIF_RSP_ERROR;
		}
	}
	finish(j, st);
}

/*
 * Requests the host has not answered for HOST_TIMEOUT_NS (a host that went away, a link laid
 * out afresh) fail, so that their guest hears of it and their buffers come back. Returns when
 * to look again (0: nothing sent).
 */
static uint64_t expire_jobs(uint64_t now, bool *busy)
{
	uint64_t next = 0;

	for (unsigned int i = 0; i < BLKB_JOBS; i++) {
		struct blkb_job *j = &jobs[i];

		if (j->state != JOB_SENT)
			continue;
		if (now >= j->sent_at + HOST_TIMEOUT_NS) { /* sent_at may be later than now */
			complain(j->dev, "the host did not answer request %u in %llu s\n", j->tag,
			         (unsigned long long)(HOST_TIMEOUT_NS / NS_PER_S));
			finish(j, BLKIF_RSP_ERROR);
			*busy = true;
		} else if (!next || j->sent_at + HOST_TIMEOUT_NS < next) {
			next = j->sent_at + HOST_TIMEOUT_NS;
		}
	}
	return next;
}

bool blkback_poll(void)
{
	static uint64_t armed_expiry;
	uint64_t now = platform->time_ns(), wait = ~0ULL, expire_at;
	bool busy = false;

	for (unsigned int i = 0; i < BLKB_MAX_DEVS; i++) {
		struct blkb_dev *d = &devs[i];

		if (!d->used)
			continue;
		if (d->check_state) {
			front_changed(d);
			busy = true;
		}
		if (d->connected && !d->failed)
			busy |= take_requests(d, now, &wait);
	}
	busy |= send_jobs();
	if (wait != ~0ULL)
		backends_wake_at(now + wait); /* a throttled request waits for its tokens */
	expire_at = expire_jobs(now, &busy);
	if (expire_at && expire_at != armed_expiry) {
		armed_expiry = expire_at;
		backends_wake_at(expire_at);
	}
	return busy;
}
