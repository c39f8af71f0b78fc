/*
 * The block front end (Xen's blkfront, include/blkdev.h): one blkif ring per virtual block
 * device, found under device/vbd/<devid> in XenStore, served by dom0's blkback.
 *
 * Connection (io-design.md): wait for the back end's InitWait, grant the ring page and open an
 * event channel to the back end, write ring-ref, event-channel and protocol, switch to
 * Initialised, wait for the back end's Connected, read what it advertises (sectors, info, mode,
 * features), switch to Connected.
 *
 * Data: each ring slot owns 11 pages of ours, granted to the back end once at connection (the
 * back end copies through the grants). A transfer is cut into requests of up to 88 sectors;
 * as many go out as there are free slots, and a slot is refilled as soon as its answer is in,
 * so a long transfer keeps the ring full. Writes copy the caller's data into the slot's pages
 * before the request goes out, reads copy it out when the answer comes in.
 *
 * Invariants: a slot is busy from the request's publication to its response; a response whose
 * id names no busy slot is ignored (the back end is not trusted with our memory); the
 * kernel has one stack and no preemption, so only one transfer runs at a time, with events
 * masked while it touches the ring (the event handler itself only counts). A back end that
 * stops answering for BLKF_TIMEOUT_NS breaks the device: every later call fails with -EIO.
 */
#include <kernel.h>
#include <mm.h>
#include <blkdev.h>
#include <gnttab.h>
#include <xenbus.h>
#include <klib/string.h>
#include <klib/printf.h>
#include <public/io/blkif.h>
#include "pv.h"

#define BLKF_MAX_DEVS     4
#define BLKF_SEGS         BLKIF_MAX_SEGMENTS_PER_REQUEST
#define BLKF_REQ_SECTORS  (BLKF_SEGS * BLKIF_SECTORS_PER_PAGE) /* 88 sectors = 44 KiB */
#define BLKF_TIMEOUT_NS   (60ULL * 1000000000ULL) /* dom0 gives up on the host after 30 */
#define BLKF_CONNECT_NS   (10ULL * 1000000000ULL)
#define BLKF_STATE_BIT(s) (1u << (s))

struct blkf_slot {
	bool busy;
	uint8_t op;
	int16_t status;
	uint32_t nr_sectors;
	uint64_t offset; /* byte offset of this request's data in its transfer */
	void *pages[BLKF_SEGS];
	grant_ref_t refs[BLKF_SEGS];
};

struct blkf_dev {
	unsigned int devid;
	char node[32];    /* device/vbd/<devid> */
	char backend[96]; /* the back end's directory */
	uint16_t backend_id;
	uint64_t sectors;
	bool readonly, broken;
	unsigned int features;
	struct blkif_sring *sring;
	struct blkif_front_ring ring;
	grant_ref_t ring_ref;
	evtchn_port_t port;
	unsigned int nr_slots; /* slots with their pages (<= BLKIF_RING_SIZE) */
	unsigned int in_flight;
	struct blkf_slot slot[BLKIF_RING_SIZE];
};

static struct blkf_dev devs[BLKF_MAX_DEVS];
static unsigned int nr_devs;
static volatile uint64_t blkf_events;

static void blkf_event(evtchn_port_t port)
{
	(void)port;
	blkf_events++; /* the waiting transfer looks at the ring itself */
}

static void notify(struct blkf_dev *d)
{
	struct evtchn_send s = {.port = d->port};

	HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

/* ---- connection ---------------------------------------------------------------------- */

static int read_u64(const char *dir, const char *name, uint64_t *v)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return xenbus_read_u64(path, v);
}

static int wait_backend(struct blkf_dev *d, unsigned int mask, enum xenbus_state *now)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/state", d->backend);
	return xenbus_wait_state(path, mask, BLKF_CONNECT_NS, now);
}

/* The ring page, its grant and the event channel. */
static int setup_ring(struct blkf_dev *d)
{
	struct evtchn_alloc_unbound a = {.dom = DOMID_SELF, .remote_dom = d->backend_id};
	int ref;
	long rc;

	d->sring = alloc_page();
	if (!d->sring)
		return -XEN_ENOMEM;
	HV_RING_SHARED_INIT(d->sring);
	HV_RING_FRONT_INIT(&d->ring, d->sring, PAGE_SIZE);
	ref = gnttab_grant_access(d->backend_id, d->sring, false);
	if (ref < 0)
		return ref;
	d->ring_ref = (grant_ref_t)ref;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
	if (rc)
		return (int)rc;
	d->port = a.port;
	if (pv_evtchn_bind(d->port, blkf_event))
		return -XEN_EINVAL;
	pv_evtchn_unmask(d->port);
	return 0;
}

/* Pages for every slot, granted to the back end (writable: it fills them for reads). */
static int setup_slots(struct blkf_dev *d)
{
	for (unsigned int s = 0; s < BLKIF_RING_SIZE; s++) {
		struct blkf_slot *sl = &d->slot[s];

		for (unsigned int i = 0; i < BLKF_SEGS; i++) {
			int ref;

			sl->pages[i] = alloc_page();
			if (!sl->pages[i])
				goto short_of_memory;
			ref = gnttab_grant_access(d->backend_id, sl->pages[i], false);
			if (ref < 0) {
				free_page(sl->pages[i]);
				sl->pages[i] = NULL;
				goto short_of_memory;
			}
			sl->refs[i] = (grant_ref_t)ref;
		}
		d->nr_slots = s + 1;
		continue;
	short_of_memory:
		/* Fewer slots still work; give back this slot's partial set. */
		for (unsigned int i = 0; i < BLKF_SEGS && sl->pages[i]; i++) {
			gnttab_end_access(sl->refs[i]);
			free_page(sl->pages[i]);
			sl->pages[i] = NULL;
		}
		break;
	}
	return d->nr_slots ? 0 : -XEN_ENOMEM;
}

int blkfront_probe(unsigned int devid)
{
	struct blkf_dev *d;
	enum xenbus_state st;
	char path[64], mode[8] = "";
	uint64_t v;
	int rc;

	if (nr_devs == BLKF_MAX_DEVS)
		return -XEN_ENOSPC;
	d = &devs[nr_devs];
	memset(d, 0, sizeof(*d));
	d->devid = devid;
	snprintf(d->node, sizeof(d->node), "device/vbd/%u", devid);
	snprintf(path, sizeof(path), "%s/backend", d->node);
	if ((rc = xenbus_read(path, d->backend, sizeof(d->backend))) < 0)
		goto fail;
	if ((rc = read_u64(d->node, "backend-id", &v)) < 0)
		goto fail;
	d->backend_id = (uint16_t)v;
	if ((rc = gnttab_init()))
		goto fail;
	rc = wait_backend(d,
	                  BLKF_STATE_BIT(XenbusStateInitWait) |
	                      BLKF_STATE_BIT(XenbusStateInitialised) |
	                      BLKF_STATE_BIT(XenbusStateConnected),
	                  &st);
	if (rc < 0)
		goto fail;
	if ((rc = setup_ring(d)) || (rc = setup_slots(d)))
		goto fail;
	snprintf(path, sizeof(path), "%s/ring-ref", d->node);
	if ((rc = xenbus_printf(path, "%u", d->ring_ref)) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/event-channel", d->node);
	if ((rc = xenbus_printf(path, "%u", d->port)) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/protocol", d->node);
	if ((rc = xenbus_write(path, "x86_64-abi")) < 0)
		goto fail;
	if ((rc = xenbus_switch_state(d->node, XenbusStateInitialised)) < 0)
		goto fail;
	rc = wait_backend(d, BLKF_STATE_BIT(XenbusStateConnected), &st);
	if (rc < 0)
		goto fail;
	if ((rc = read_u64(d->backend, "sectors", &d->sectors)) < 0)
		goto fail;
	if (read_u64(d->backend, "info", &v) == 0 && (v & VDISK_READONLY))
		d->readonly = true;
	snprintf(path, sizeof(path), "%s/mode", d->backend);
	if (xenbus_read(path, mode, sizeof(mode)) > 0 && mode[0] == 'r')
		d->readonly = true;
	if (read_u64(d->backend, "feature-flush-cache", &v) == 0 && v)
		d->features |= BLK_FEATURE_FLUSH;
	if (read_u64(d->backend, "feature-discard", &v) == 0 && v)
		d->features |= BLK_FEATURE_DISCARD;
	if ((rc = xenbus_switch_state(d->node, XenbusStateConnected)) < 0)
		goto fail;
	nr_devs++;
	printk("blkfront: vbd %u (blk%u): %llu sectors (%llu MiB)%s, %u slots, back end %s (dom "
	       "%u)\n",
	       devid, nr_devs - 1, (unsigned long long)d->sectors,
	       (unsigned long long)(d->sectors >> 11), d->readonly ? ", read-only" : "",
	       d->nr_slots, d->backend, d->backend_id);
	return 0;
fail:
	printk("blkfront: vbd %u: connecting failed (%d)\n", devid, rc);
	xenbus_switch_state(d->node, XenbusStateClosed);
	/* What was granted stays granted: the back end may still hold it; nothing reuses it. */
	return rc < 0 ? rc : -XEN_EIO;
}

/* ---- requests ---------------------------------------------------------------------- */

static struct blkf_dev *get_dev(unsigned int dev)
{
	return dev < nr_devs ? &devs[dev] : NULL;
}

static int free_slot(struct blkf_dev *d)
{
	for (unsigned int s = 0; s < d->nr_slots; s++)
		if (!d->slot[s].busy)
			return (int)s;
	return -1;
}

static int rsp_errno(int16_t status)
{
	if (status == BLKIF_RSP_OKAY)
		return 0;
	return status == BLKIF_RSP_EOPNOTSUPP ? -XEN_EOPNOTSUPP : -XEN_EIO;
}

/* Publishes the requests queued so far and notifies the back end if it asked. */
static void push(struct blkf_dev *d)
{
	int do_notify;

	HV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->ring, do_notify);
	if (do_notify)
		notify(d);
}

/*
 * Takes every response in; for each finished read, its data goes to the caller (copy). Sets
 * *err on the first failure. Returns the number of requests finished.
 */
static unsigned int reap(struct blkf_dev *d, blk_copy_fn copy, void *ctx, int *err)
{
	unsigned int finished = 0;

	for (;;) {
		RING_IDX rp = d->sring->rsp_prod;

		hv_ring_rmb();
		if (rp - d->ring.rsp_cons > d->ring.nr_ents) {
			printk("blkfront: vbd %u: the back end's response index %u is beyond ours "
			       "(%u): device stopped\n",
			       d->devid, rp, d->ring.rsp_cons);
			d->broken = true;
			if (!*err)
				*err = -XEN_EIO;
			return finished;
		}
		while (d->ring.rsp_cons != rp) {
			struct blkif_response r = *HV_RING_GET_RESPONSE(&d->ring, d->ring.rsp_cons);
			struct blkf_slot *sl;

			d->ring.rsp_cons++;
			if (r.id >= d->nr_slots || !d->slot[r.id].busy) {
				printk("blkfront: vbd %u: answer for no request (id %llu)\n",
				       d->devid, (unsigned long long)r.id);
				continue;
			}
			sl = &d->slot[r.id];
			sl->busy = false;
			sl->status = r.status;
			d->in_flight--;
			finished++;
			if (r.status != BLKIF_RSP_OKAY) {
				if (!*err)
					*err = rsp_errno(r.status);
				continue;
			}
			if (sl->op == BLKIF_OP_READ && copy && !*err) {
				uint64_t left = (uint64_t)sl->nr_sectors * BLK_SECTOR_SIZE;

				for (unsigned int i = 0; left && !*err; i++) {
					size_t n = (size_t)MIN(left, (uint64_t)PAGE_SIZE);

					*err =
					    copy(ctx, sl->offset + i * PAGE_SIZE, sl->pages[i], n);
					left -= n;
				}
			}
		}
		int more;

		HV_RING_FINAL_CHECK_FOR_RESPONSES(&d->ring, more);
		if (!more)
			return finished;
	}
}

/*
 * Waits (events masked on entry) until a response comes or the back end is declared dead.
 * Returns 0, or -XEN_EIO when it timed out (the device is broken from then on).
 */
static int wait_progress(struct blkf_dev *d, uint64_t since)
{
	if (HV_RING_HAS_UNCONSUMED_RESPONSES(&d->ring))
		return 0;
	if (platform->time_ns() - since > BLKF_TIMEOUT_NS) {
		printk("blkfront: vbd %u: the back end stopped answering (%u requests)\n", d->devid,
		       d->in_flight);
		d->broken = true;
		return -XEN_EIO;
	}
	pv_idle(); /* the next event: ours, or a timer tick that lets us look at the clock */
	return 0;
}

/* Fills slot s with the next request of a transfer and queues it (not yet published). */
static int queue_rw(struct blkf_dev *d, unsigned int s, bool write, uint64_t sector, uint32_t n,
                    uint64_t offset, blk_copy_fn copy, void *ctx)
{
	struct blkf_slot *sl = &d->slot[s];
	struct blkif_request *rq;
	unsigned int segs = (n + BLKIF_SECTORS_PER_PAGE - 1) / BLKIF_SECTORS_PER_PAGE;

	if (write) {
		uint64_t left = (uint64_t)n * BLK_SECTOR_SIZE;

		for (unsigned int i = 0; left; i++) {
			size_t len = (size_t)MIN(left, (uint64_t)PAGE_SIZE);
			int rc = copy(ctx, offset + i * PAGE_SIZE, sl->pages[i], len);

			if (rc)
				return rc;
			left -= len;
		}
	}
	rq = HV_RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt);
	rq->operation = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
	rq->nr_segments = (uint8_t)segs;
	rq->handle = (blkif_vdev_t)d->devid;
	rq->id = s;
	rq->sector_number = sector;
	for (unsigned int i = 0; i < segs; i++) {
		uint32_t in_page = MIN(n - i * BLKIF_SECTORS_PER_PAGE, BLKIF_SECTORS_PER_PAGE);

		rq->seg[i].gref = sl->refs[i];
		rq->seg[i].first_sect = 0;
		rq->seg[i].last_sect = (uint8_t)(in_page - 1);
	}
	d->ring.req_prod_pvt++;
	sl->busy = true;
	sl->op = rq->operation;
	sl->nr_sectors = n;
	sl->offset = offset;
	d->in_flight++;
	return 0;
}

int blk_transfer(unsigned int dev, bool write, uint64_t sector, uint32_t count, blk_copy_fn copy,
                 void *ctx)
{
	struct blkf_dev *d = get_dev(dev);
	uint32_t next = 0;
	unsigned long flags;
	uint64_t progress_at;
	int err = 0;

	if (!d)
		return -XEN_ENODEV;
	if (d->broken)
		return -XEN_EIO;
	if (sector > d->sectors || count > d->sectors - sector)
		return -XEN_EINVAL;
	if (write && d->readonly)
		return -XEN_EROFS;
	flags = pv_irq_save();
	progress_at = platform->time_ns();
	while ((next < count && !err) || d->in_flight) {
		int s;
		unsigned int queued = 0;

		while (next < count && !err && (s = free_slot(d)) >= 0) {
			uint32_t n = MIN(count - next, (uint32_t)BLKF_REQ_SECTORS);

			err = queue_rw(d, (unsigned int)s, write, sector + next, n,
			               (uint64_t)next * BLK_SECTOR_SIZE, copy, ctx);
			if (!err) {
				next += n;
				queued++;
			}
		}
		if (queued)
			push(d);
		if (d->broken) {
			err = err ? err : -XEN_EIO;
			break;
		}
		if (reap(d, copy, ctx, &err))
			progress_at = platform->time_ns();
		else if (d->in_flight && wait_progress(d, progress_at)) {
			err = -XEN_EIO;
			break;
		}
	}
	pv_irq_restore(flags);
	return err;
}

/*
 * Sends one request built by the caller (its id is ours to set) and waits for its answer:
 * *status gets the back end's BLKIF_RSP_* status. Returns 0, or -XEN_EIO if the back end
 * stopped answering. For requests without data of ours (flush, discard, the hostile tests).
 */
static int raw_request(struct blkf_dev *d, const struct blkif_request *tmpl, int16_t *status)
{
	unsigned long flags;
	uint64_t progress_at;
	int s, err = 0, ignored = 0;

	if (d->broken)
		return -XEN_EIO;
	flags = pv_irq_save();
	progress_at = platform->time_ns();
	while ((s = free_slot(d)) < 0 && !err) {
		if (!reap(d, NULL, NULL, &ignored) && wait_progress(d, progress_at))
			err = -XEN_EIO;
	}
	if (!err) {
		struct blkf_slot *sl = &d->slot[s];
		struct blkif_request *rq = HV_RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt);

		memcpy(rq, tmpl, sizeof(*rq));
		rq->id = (uint64_t)s; /* at the same place in every view of the slot */
		d->ring.req_prod_pvt++;
		sl->busy = true;
		sl->op = tmpl->operation;
		sl->nr_sectors = 0;
		sl->status = BLKIF_RSP_ERROR;
		d->in_flight++;
		push(d);
		progress_at = platform->time_ns();
		while (sl->busy && !d->broken && !err) {
			if (reap(d, NULL, NULL, &ignored))
				progress_at = platform->time_ns();
			else if (sl->busy && wait_progress(d, progress_at))
				err = -XEN_EIO;
		}
		if (d->broken)
			err = -XEN_EIO;
		*status = sl->status;
	}
	pv_irq_restore(flags);
	return err;
}

static int simple_request(struct blkf_dev *d, uint8_t op, uint64_t sector, uint64_t count)
{
	struct blkif_request rq = {.operation = op, .handle = (blkif_vdev_t)d->devid};
	int16_t status;
	int rc;

	if (op == BLKIF_OP_DISCARD) {
		struct blkif_request_discard dr = {.operation = op,
		                                   .handle = (blkif_vdev_t)d->devid,
		                                   .sector_number = sector,
		                                   .nr_sectors = count};

		memcpy(&rq, &dr, sizeof(dr)); /* the slot seen as a discard */
	}
	rc = raw_request(d, &rq, &status);
	return rc ? rc : rsp_errno(status);
}

/*
 * Requests a hostile guest could send, each of which the back end must refuse without harm;
 * then an honest read, which must still work. Returns the number refused, or -XEN_EIO if one
 * was accepted (its name printed) or the honest read failed.
 */
int blk_hostile(unsigned int dev, bool *ro_write_refused)
{
	struct blkf_dev *d = get_dev(dev);
	struct blkif_request rq;
	int16_t status;
	int refused = 0, accepted = 0, rc;

	if (!d)
		return -XEN_ENODEV;
	*ro_write_refused = false;
	for (unsigned int c = 0;; c++) {
		const char *what;

		memset(&rq, 0, sizeof(rq));
		rq.operation = BLKIF_OP_READ;
		rq.handle = (blkif_vdev_t)d->devid;
		rq.nr_segments = 1;
		rq.seg[0].gref = d->slot[0].refs[0];
		rq.seg[0].last_sect = 7;
		switch (c) {
		case 0:
			what = "no segment";
			rq.nr_segments = 0;
			break;
		case 1:
			what = "12 segments";
			rq.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
			break;
		case 2:
			what = "first_sect > last_sect";
			rq.seg[0].first_sect = 5;
			rq.seg[0].last_sect = 2;
			break;
		case 3:
			what = "last_sect beyond the page";
			rq.seg[0].last_sect = 8;
			break;
		case 4:
			what = "sectors beyond the disk";
			rq.sector_number = d->sectors - 4;
			break;
		case 5:
			what = "sector number near 2^64";
			rq.sector_number = ~0ULL - 2;
			break;
		case 6:
			what = "a grant ref beyond the table";
			rq.seg[0].gref = 0x7fffffff;
			break;
		case 7: {
			/* A ref granted and revoked again: the back end's copy must be refused. */
			int ref = gnttab_grant_access(d->backend_id, d->slot[0].pages[0], false);

			if (ref < 0 || gnttab_end_access((grant_ref_t)ref))
				continue;
			what = "a revoked grant ref";
			rq.seg[0].gref = (grant_ref_t)ref;
			break;
		}
		case 8:
			what = "an unknown operation";
			rq.operation = 99;
			break;
		case 9:
			what = "an indirect request (not offered)";
			rq.operation = BLKIF_OP_INDIRECT;
			break;
		case 10: {
			struct blkif_request_discard dr = {.operation = BLKIF_OP_DISCARD,
			                                   .handle = (blkif_vdev_t)d->devid,
			                                   .sector_number = d->sectors - 1,
			                                   .nr_sectors = 2};

			what = "a discard beyond the disk";
			memcpy(&rq, &dr, sizeof(dr));
			break;
		}
		case 11:
			what = "a write to a read-only disk";
			if (!d->readonly)
				continue;
			rq.operation = BLKIF_OP_WRITE;
			break;
		default:
			what = NULL;
			break;
		}
		if (!what)
			break;
		rc = raw_request(d, &rq, &status);
		if (rc)
			return rc;
		if (status == BLKIF_RSP_OKAY) {
			printk("blkfront: vbd %u: the back end accepted %s\n", d->devid, what);
			accepted++;
		} else {
			refused++;
			if (c == 11)
				*ro_write_refused = true;
		}
	}
	/* An honest read through the same slot pages still works. */
	memset(&rq, 0, sizeof(rq));
	rq.operation = BLKIF_OP_READ;
	rq.handle = (blkif_vdev_t)d->devid;
	rq.nr_segments = 1;
	rq.seg[0].gref = d->slot[0].refs[0];
	rq.seg[0].last_sect = 7;
	rc = raw_request(d, &rq, &status);
	if (rc || status != BLKIF_RSP_OKAY) {
		printk("blkfront: vbd %u: an honest read after the hostile ones failed (%d, %d)\n",
		       d->devid, rc, status);
		return -XEN_EIO;
	}
	return accepted ? -XEN_EIO : refused;
}

/*
 * The worst a guest can do to the ring itself: publish a request index far beyond what the
 * ring holds. The back end must stop the device, not crash; this device is useless afterwards.
 */
int blk_hostile_ring(unsigned int dev)
{
	struct blkf_dev *d = get_dev(dev);

	if (!d)
		return -XEN_ENODEV;
	if (d->broken || d->in_flight)
		return -XEN_EBUSY;
	d->broken = true;
	hv_ring_wmb();
	d->sring->req_prod = d->ring.req_prod_pvt + 1000;
	hv_ring_mb();
	notify(d);
	printk("blkfront: vbd %u: published request index %u (ring of %u): device given up\n",
	       d->devid, d->ring.req_prod_pvt + 1000, d->ring.nr_ents);
	return 0;
}

/* ---- the API ----------------------------------------------------------------------- */

int blk_count(void)
{
	return (int)nr_devs;
}

int blk_info(unsigned int dev, uint64_t *sectors, bool *readonly)
{
	struct blkf_dev *d = get_dev(dev);

	if (!d)
		return -XEN_ENODEV;
	if (sectors)
		*sectors = d->sectors;
	if (readonly)
		*readonly = d->readonly;
	return 0;
}

int blk_info_ext(unsigned int dev, unsigned int *devid, unsigned int *features)
{
	struct blkf_dev *d = get_dev(dev);

	if (!d)
		return -XEN_ENODEV;
	if (devid)
		*devid = d->devid;
	if (features)
		*features = d->features;
	return 0;
}

static int copy_to_kbuf(void *ctx, uint64_t off, void *kbuf, size_t len)
{
	memcpy((uint8_t *)ctx + off, kbuf, len);
	return 0;
}

static int copy_from_kbuf(void *ctx, uint64_t off, void *kbuf, size_t len)
{
	memcpy(kbuf, (const uint8_t *)ctx + off, len);
	return 0;
}

int blk_read(unsigned int dev, uint64_t sector, uint32_t count, void *buf)
{
	return blk_transfer(dev, false, sector, count, copy_to_kbuf, buf);
}

int blk_write(unsigned int dev, uint64_t sector, uint32_t count, const void *buf)
{
	return blk_transfer(dev, true, sector, count, copy_from_kbuf, (void *)buf);
}

int blk_flush(unsigned int dev)
{
	struct blkf_dev *d = get_dev(dev);

	if (!d)
		return -XEN_ENODEV;
	if (!(d->features & BLK_FEATURE_FLUSH))
		return -XEN_EOPNOTSUPP;
	return simple_request(d, BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
}

int blk_discard(unsigned int dev, uint64_t sector, uint64_t count)
{
	struct blkf_dev *d = get_dev(dev);

	if (!d)
		return -XEN_ENODEV;
	if (sector > d->sectors || count > d->sectors - sector)
		return -XEN_EINVAL;
	if (d->readonly)
		return -XEN_EROFS;
	if (!(d->features & BLK_FEATURE_DISCARD))
		return -XEN_EOPNOTSUPP;
	return simple_request(d, BLKIF_OP_DISCARD, sector, count);
}
