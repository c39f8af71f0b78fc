/*
 * The host's side of split I/O (see hostio.h): the table of what backs each device, the block
 * worker that answers dom0's BLOCK requests with real file I/O, the TAP reader, and the host
 * operations the relay forwards (attach, detach, list).
 *
 * Invariants (under io->lock): at most one live attachment per (domid, kind, devid), and no two
 * VIFs with the same TAP name. A file's descriptor may be closed by whoever detaches it (the
 * block worker works on a dup); a TAP's descriptor is closed by the TAP reader only (it may be
 * polling it), after detach moved the attachment to io->dead. A host operation's detach waits
 * for that; the link thread's (a domain destroyed) does not, so a new TAP attach waits for the
 * dead list to drain first: a TAP's name can be used again at once. Block jobs hold copies;
 * the queue is bounded by QUEUE_MAX_BYTES (beyond it requests are answered EAGAIN at once).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostio.h"
#include "internal.h"
#include "link_io.h"

#define QUEUE_MAX_BYTES (64u << 20)
#define SEND_DEADLINE   (2ll * 1000000000)
#define FRAME_DEADLINE  (50ll * 1000000)

struct att {
	struct att *next;
	uint32_t domid;
	uint16_t kind, devid;
	uint32_t flags;
	int fd;
	uint64_t sectors;
	char name[256];
	uint64_t ops[4], bytes[2], errors;
};

struct blk_job {
	struct blk_job *next;
	struct hvlink_msg hdr;
	int32_t early; /* nonzero: answer this status without doing anything */
	uint32_t len;
	uint8_t payload[];
};

struct hostio {
	struct hvctl_transport *link;
	pthread_mutex_t lock;
	pthread_cond_t work, reaped;
	struct att *atts, *dead;
	struct blk_job *head, *tail;
	size_t queued;
	uint64_t stray_frames; /* frames for no TAP, malformed net records */
	int stop;
	int kick[2]; /* wakes the TAP reader: the set of TAPs changed, or stop */
	pthread_t blk_thread, net_thread;
	int threads;
};

static struct att *find(struct hostio *io, uint32_t domid, uint16_t kind, uint16_t devid)
{
	struct att *a;

	for (a = io->atts; a; a = a->next)
		if (a->domid == domid && a->kind == kind && a->devid == devid)
			return a;
	return NULL;
}

static void kick(struct hostio *io)
{
	if (write(io->kick[1], "k", 1) < 0) {
		/* A full pipe already holds a wake-up. */
	}
}

/* Unlinks a (lock held): a file is closed now, a TAP goes to the reader to close. */
static void unlink_att(struct hostio *io, struct att **pp)
{
	struct att *a = *pp;

	*pp = a->next;
	if (a->kind == HVLINK_DEV_VIF) {
		a->next = io->dead;
		io->dead = a;
		kick(io);
	} else {
		close(a->fd);
		free(a);
	}
}

/* Lock held: waits (a little) until the reader closed every TAP detached so far. */
static void wait_reaped(struct hostio *io)
{
	int64_t deadline = now_ns() + 2ll * 1000000000;

	while (io->dead && io->threads && !io->stop) {
		struct timespec ts = {.tv_sec = deadline / 1000000000,
		                      .tv_nsec = deadline % 1000000000};

		if (pthread_cond_timedwait(&io->reaped, &io->lock, &ts) == ETIMEDOUT)
			break;
	}
}

static void detach(struct hostio *io, uint32_t domid, uint16_t kind, uint16_t devid, int wait)
{
	struct att **pp;

	pthread_mutex_lock(&io->lock);
	for (pp = &io->atts; *pp;) {
		struct att *a = *pp;

		if (a->domid == domid && (kind == 0 || (a->kind == kind && a->devid == devid)))
			unlink_att(io, pp);
		else
			pp = &a->next;
	}
	if (wait)
		wait_reaped(io);
	pthread_mutex_unlock(&io->lock);
}

/* From the link thread: never waits (the TAP reader may be waiting for the link thread). */
void hostio_detach(struct hostio *io, uint32_t domid, uint16_t kind, uint16_t devid)
{
	detach(io, domid, kind, devid, 0);
}

/* ---- block ---------------------------------------------------------------------------- */

static void blk_answer(struct hostio *io, const struct hvlink_msg *req, int32_t status,
                       const void *data, uint32_t len, const char *why)
{
	struct hvlink_msg rsp = {
	    .type = req->type, .flags = HVLINK_MSG_RESPONSE, .id = req->id, .status = status};
	hvctl_error err;

	if (status < 0 && why) {
		data = why;
		len = (uint32_t)strlen(why) + 1;
	}
	rsp.len = len;
	io->link->ops->send(io->link, HVLINK_CHAN_BLOCK, &rsp, data, now_ns() + SEND_DEADLINE,
	                    &err);
}

/* Writes zeroes over a range (DISCARD where the file system cannot punch holes). */
static int write_zeroes(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[65536];

	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
		ssize_t w = pwrite(fd, zero, n, (off_t)off);

		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/*
 * One request, on a dup of the disk's descriptor. Returns 0 or -HVLINK_E* with why filled;
 * a READ's data goes to *out (malloc'ed, *out_len bytes).
 */
static int blk_do(struct hostio *io, const struct blk_job *j, int fd, uint32_t flags,
                  uint64_t sectors, uint8_t **out, uint32_t *out_len, char *why, size_t wsize)
{
	struct hvlink_blk_req q;
	uint64_t off, bytes;
	uint32_t max = io->link->ops->max_payload(io->link, HVLINK_CHAN_BLOCK, 1);

	memcpy(&q, j->payload, sizeof(q));
	bytes = (uint64_t)q.nr_sectors * HVLINK_SECTOR_SIZE;
	off = q.sector * HVLINK_SECTOR_SIZE;
	if (j->hdr.type != HVLINK_BLK_FLUSH &&
	    (q.nr_sectors == 0 || q.sector >= sectors || q.nr_sectors > sectors - q.sector)) {
		snprintf(why, wsize, "sectors %llu+%u are outside the disk's %llu",
		         (unsigned long long)q.sector, q.nr_sectors, (unsigned long long)sectors);
		return -HVLINK_EINVAL;
	}
	switch (j->hdr.type) {
	case HVLINK_BLK_READ: {
		uint8_t *buf;
		uint64_t done = 0;

		if (j->len != sizeof(q) || bytes > max) {
			snprintf(why, wsize, "bad read request (%u bytes, %llu to read)", j->len,
			         (unsigned long long)bytes);
			return -HVLINK_EINVAL;
		}
		buf = malloc((size_t)bytes);
		if (!buf)
			return -HVLINK_ENOMEM;
		while (done < bytes) {
			ssize_t r =
			    pread(fd, buf + done, (size_t)(bytes - done), (off_t)(off + done));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				snprintf(why, wsize, "read: %s", strerror(errno));
				free(buf);
				return -HVLINK_EIO;
			}
			if (r == 0) { /* the file shrank under us: what is gone reads as zeroes */
				memset(buf + done, 0, (size_t)(bytes - done));
				break;
			}
			done += (uint64_t)r;
		}
		*out = buf;
		*out_len = (uint32_t)bytes;
		return 0;
	}
	case HVLINK_BLK_WRITE: {
		const uint8_t *data = j->payload + sizeof(q);
		uint64_t done = 0;

		if (j->len != sizeof(q) + bytes) {
			snprintf(why, wsize, "write of %u sectors carries %u bytes", q.nr_sectors,
			         j->len - (uint32_t)sizeof(q));
			return -HVLINK_EINVAL;
		}
		if (flags & RELAY_HOST_RO) {
			snprintf(why, wsize, "the disk is read-only");
			return -HVLINK_EROFS;
		}
		while (done < bytes) {
			ssize_t w =
			    pwrite(fd, data + done, (size_t)(bytes - done), (off_t)(off + done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				int e = w < 0 ? errno : EIO;

				snprintf(why, wsize, "write: %s",
				         w < 0 ? strerror(e) : "no progress");
				return e == ENOSPC ? -HVLINK_ENOSPC : -HVLINK_EIO;
			}
			done += (uint64_t)w;
		}
		return 0;
	}
	case HVLINK_BLK_FLUSH:
		if (j->len != sizeof(q)) {
			snprintf(why, wsize, "bad flush request (%u bytes)", j->len);
			return -HVLINK_EINVAL;
		}
		if (!(flags & RELAY_HOST_RO) && fdatasync(fd) != 0) {
			snprintf(why, wsize, "fdatasync: %s", strerror(errno));
			return -HVLINK_EIO;
		}
		return 0;
	case HVLINK_BLK_DISCARD: {
		int rc;

		if (j->len != sizeof(q)) {
			snprintf(why, wsize, "bad discard request (%u bytes)", j->len);
			return -HVLINK_EINVAL;
		}
		if (flags & RELAY_HOST_RO) {
			snprintf(why, wsize, "the disk is read-only");
			return -HVLINK_EROFS;
		}
		rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		               (off_t)bytes) == 0
		         ? 0
		         : -errno;
		if (rc == -EOPNOTSUPP || rc == -ENOSYS || rc == -EINVAL)
			rc = write_zeroes(fd, off, bytes);
		if (rc) {
			snprintf(why, wsize, "discard: %s", strerror(-rc));
			return -HVLINK_EIO;
		}
		return 0;
	}
	default:
		snprintf(why, wsize, "unknown block operation %u", j->hdr.type);
		return -HVLINK_ENOSYS;
	}
}

static void *blk_main(void *arg)
{
	struct hostio *io = arg;

	pthread_mutex_lock(&io->lock);
	for (;;) {
		struct hvlink_blk_req q;
		struct blk_job *j;
		struct att *a;
		uint8_t *out = NULL;
		uint32_t out_len = 0, flags = 0;
		uint64_t sectors = 0;
		char why[160] = "";
		int fd = -1, rc;

		while (!io->head && !io->stop)
			pthread_cond_wait(&io->work, &io->lock);
		if (io->stop)
			break;
		j = io->head;
		io->head = j->next;
		if (!io->head)
			io->tail = NULL;
		io->queued -= j->len;
		memset(&q, 0, sizeof(q));
		if (j->len >= sizeof(q))
			memcpy(&q, j->payload, sizeof(q));
		a = j->len >= sizeof(q) ? find(io, q.domid, HVLINK_DEV_VBD, q.devid) : NULL;
		if (a) {
			fd = dup(a->fd);
			flags = a->flags;
			sectors = a->sectors;
		}
		pthread_mutex_unlock(&io->lock);

		if (j->early) {
			rc = j->early;
			snprintf(why, sizeof(why), "the host's block queue is full");
		} else if (j->len < sizeof(q)) {
			rc = -HVLINK_EINVAL;
			snprintf(why, sizeof(why), "block request of %u bytes", j->len);
		} else if (!a) {
			rc = -HVLINK_ENOENT;
			snprintf(why, sizeof(why), "domain %u has no disk %u on the host", q.domid,
			         q.devid);
		} else if (fd < 0) {
			rc = -HVLINK_EIO;
			snprintf(why, sizeof(why), "dup: %s", strerror(errno));
		} else {
			rc = blk_do(io, j, fd, flags, sectors, &out, &out_len, why, sizeof(why));
		}
		if (fd >= 0)
			close(fd);

		/* Counted before the answer leaves: whoever hears it sees the count. */
		pthread_mutex_lock(&io->lock);
		a = j->len >= sizeof(q) ? find(io, q.domid, HVLINK_DEV_VBD, q.devid) : NULL;
		if (a && rc == 0 && j->hdr.type >= HVLINK_BLK_READ &&
		    j->hdr.type <= HVLINK_BLK_DISCARD) {
			a->ops[j->hdr.type - 1]++;
			if (j->hdr.type == HVLINK_BLK_READ)
				a->bytes[0] += out_len;
			else if (j->hdr.type == HVLINK_BLK_WRITE)
				a->bytes[1] += (uint64_t)q.nr_sectors * HVLINK_SECTOR_SIZE;
		} else if (a && rc != 0) {
			a->errors++;
		}
		pthread_mutex_unlock(&io->lock);
		blk_answer(io, &j->hdr, rc, out, out_len, why);
		free(out);
		free(j);
		pthread_mutex_lock(&io->lock);
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

static void deliver_block(struct hostio *io, const struct hvlink_msg *hdr, const void *payload)
{
	struct blk_job *j;
	int full;

	if ((hdr->flags & HVLINK_MSG_KIND_MASK) != HVLINK_MSG_REQUEST)
		return; /* dom0 asks; nothing else is meaningful here */
	pthread_mutex_lock(&io->lock);
	full = io->queued + hdr->len > QUEUE_MAX_BYTES;
	pthread_mutex_unlock(&io->lock);
	j = malloc(sizeof(*j) + (full ? 0 : hdr->len));
	if (!j)
		return; /* dom0 times the request out */
	j->next = NULL;
	j->hdr = *hdr;
	j->early = full ? -HVLINK_EAGAIN : 0;
	j->len = full ? 0 : hdr->len;
	if (!full)
		memcpy(j->payload, payload, hdr->len);
	pthread_mutex_lock(&io->lock);
	if (io->stop) {
		pthread_mutex_unlock(&io->lock);
		free(j);
		return;
	}
	if (io->tail)
		io->tail->next = j;
	else
		io->head = j;
	io->tail = j;
	io->queued += j->len;
	pthread_cond_signal(&io->work);
	pthread_mutex_unlock(&io->lock);
}

/* ---- net ------------------------------------------------------------------------------ */

static void deliver_net(struct hostio *io, const struct hvlink_msg *hdr, const uint8_t *payload)
{
	struct hvlink_net_frame f;
	uint32_t n;
	struct att *a;

	pthread_mutex_lock(&io->lock);
	if ((hdr->flags & HVLINK_MSG_KIND_MASK) != HVLINK_MSG_NOREPLY ||
	    hdr->type != HVLINK_NET_FRAME || hdr->len < sizeof(f) + 14 ||
	    hdr->len > sizeof(f) + HVLINK_NET_MAX_FRAME) {
		io->stray_frames++;
		pthread_mutex_unlock(&io->lock);
		return;
	}
	memcpy(&f, payload, sizeof(f));
	n = hdr->len - (uint32_t)sizeof(f);
	a = find(io, f.domid, HVLINK_DEV_VIF, f.devid);
	if (!a)
		io->stray_frames++;
	else if (write(a->fd, payload + sizeof(f), n) == (ssize_t)n) {
		a->ops[0]++;
		a->bytes[0] += n;
	} else {
		a->ops[2]++; /* TAP down or its queue full: dropped, as a switch would */
		a->errors++;
	}
	pthread_mutex_unlock(&io->lock);
}

/* The TAP reader: frames the host sends into a VIF's TAP go to dom0's switch. */
static void *net_main(void *arg)
{
	struct hostio *io = arg;
	struct pollfd pf[1 + RELAY_HOST_LIST_MAX];
	struct att *who[1 + RELAY_HOST_LIST_MAX];
	uint8_t buf[sizeof(struct hvlink_net_frame) + 2048];

	for (;;) {
		unsigned n = 0, i;
		struct att *a;

		pthread_mutex_lock(&io->lock);
		while (io->dead) {
			a = io->dead;
			io->dead = a->next;
			close(a->fd);
			free(a);
		}
		pthread_cond_broadcast(&io->reaped);
		if (io->stop) {
			pthread_mutex_unlock(&io->lock);
			break;
		}
		pf[n++] = (struct pollfd){.fd = io->kick[0], .events = POLLIN};
		for (a = io->atts; a && n < 1 + RELAY_HOST_LIST_MAX; a = a->next)
			if (a->kind == HVLINK_DEV_VIF) {
				who[n] = a;
				pf[n++] = (struct pollfd){.fd = a->fd, .events = POLLIN};
			}
		pthread_mutex_unlock(&io->lock);

		if (poll(pf, n, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents & POLLIN) {
			char drain[64];

			if (read(io->kick[0], drain, sizeof(drain)) < 0) {
				/* nothing: fine */
			}
			continue; /* the set may have changed: who[] may be stale */
		}
		for (i = 1; i < n; i++) {
			struct hvlink_net_frame f;
			struct hvlink_msg hdr = {.type = HVLINK_NET_FRAME,
			                         .flags = HVLINK_MSG_NOREPLY};
			hvctl_error err;
			ssize_t got;
			int rc;

			if (!(pf[i].revents & POLLIN))
				continue;
			/* who[i] is alive: only this thread frees TAP attachments. */
			got = read(pf[i].fd, buf + sizeof(f), sizeof(buf) - sizeof(f));
			if (got <= 0)
				continue;
			pthread_mutex_lock(&io->lock);
			f = (struct hvlink_net_frame){.domid = who[i]->domid,
			                              .devid = who[i]->devid};
			pthread_mutex_unlock(&io->lock);
			if (got < 14 || got > (ssize_t)HVLINK_NET_MAX_FRAME) {
				rc = -1;
			} else {
				memcpy(buf, &f, sizeof(f));
				hdr.len = (uint32_t)(sizeof(f) + (size_t)got);
				rc = io->link->ops->send(io->link, HVLINK_CHAN_NET, &hdr, buf,
				                         now_ns() + FRAME_DEADLINE, &err);
			}
			pthread_mutex_lock(&io->lock);
			if (rc == 0) {
				who[i]->ops[1]++;
				who[i]->bytes[1] += (uint64_t)got;
			} else {
				who[i]->ops[3]++; /* too long, or the link full or down */
				who[i]->errors++;
			}
			pthread_mutex_unlock(&io->lock);
		}
	}
	return NULL;
}

void hostio_deliver(struct hostio *io, uint16_t chan, const struct hvlink_msg *hdr,
                    const void *payload)
{
	if (chan == HVLINK_CHAN_BLOCK)
		deliver_block(io, hdr, payload);
	else if (chan == HVLINK_CHAN_NET)
		deliver_net(io, hdr, payload);
}

/* ---- host operations ------------------------------------------------------------------ */

static int op_disk_attach(struct hostio *io, const struct relay_host_disk *q,
                          struct relay_host_disk_rsp *rsp, char *msg, size_t msize)
{
	struct att *a, **pp;
	struct stat st;
	uint64_t size = 0;
	int fd;

	if (memchr(q->path, '\0', sizeof(q->path)) == NULL || q->path[0] != '/') {
		snprintf(msg, msize, "the disk's path must be absolute");
		return -HVLINK_EINVAL;
	}
	if (q->flags & ~RELAY_HOST_RO) {
		snprintf(msg, msize, "unknown disk flags %#x", q->flags);
		return -HVLINK_EINVAL;
	}
	/* O_NONBLOCK: a FIFO must not hold the relay thread until a writer comes; a file and a
	 * block device do not care, and the flag is cleared once the type is checked. */
	fd = open(q->path,
	          ((q->flags & RELAY_HOST_RO) ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		if (e == EISDIR) {
			snprintf(msg, msize, "%s is neither a file nor a block device", q->path);
			return -HVLINK_EINVAL;
		}
		snprintf(msg, msize, "cannot open %s: %s", q->path, strerror(e));
		return e == ENOENT                                 ? -HVLINK_ENOENT
		       : (e == EACCES || e == EPERM || e == EROFS) ? -HVLINK_EACCES
		                                                   : -HVLINK_EIO;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	else if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) == 0)
		;
	else {
		close(fd);
		snprintf(msg, msize, "%s is neither a file nor a block device", q->path);
		return -HVLINK_EINVAL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (size < HVLINK_SECTOR_SIZE) {
		close(fd);
		snprintf(msg, msize, "%s is smaller than one sector (%llu bytes)", q->path,
		         (unsigned long long)size);
		return -HVLINK_EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		return -HVLINK_ENOMEM;
	}
	a->domid = q->domid;
	a->kind = HVLINK_DEV_VBD;
	a->devid = q->devid;
	a->flags = q->flags;
	a->fd = fd;
	a->sectors = size / HVLINK_SECTOR_SIZE;
	snprintf(a->name, sizeof(a->name), "%s", q->path);
	pthread_mutex_lock(&io->lock);
	for (pp = &io->atts; *pp; pp = &(*pp)->next)
		if ((*pp)->domid == a->domid && (*pp)->kind == a->kind &&
		    (*pp)->devid == a->devid) {
			unlink_att(io, pp); /* attaching again replaces */
			break;
		}
	a->next = io->atts;
	io->atts = a;
	pthread_mutex_unlock(&io->lock);
	rsp->sectors = a->sectors;
	return 0;
}

static int tap_name_ok(const char *s)
{
	size_t i, n = strnlen(s, 16);

	if (n == 0 || n >= 16)
		return 0;
	for (i = 0; i < n; i++)
		if (!(s[i] == '.' || s[i] == '-' || s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

static int op_nic_attach(struct hostio *io, const struct relay_host_nic *q,
                         struct relay_host_nic_rsp *rsp, char *msg, size_t msize)
{
	char name[16];
	struct att *a, **pp;
	int fd = -EBUSY, dflt = q->tap[0] == '\0', taken = 0;

	if (dflt)
		snprintf(name, sizeof(name), "hv%u.%u", q->domid, q->devid);
	else
		memcpy(name, q->tap, sizeof(name));
	if (!tap_name_ok(name)) {
		snprintf(msg, msize, "bad TAP name (1 to 15 letters, digits, '.', '-', '_')");
		return -HVLINK_EINVAL;
	}
	if (q->ipv4 && (q->prefix == 0 || q->prefix > 30)) {
		snprintf(msg, msize, "bad IPv4 prefix length %u (1 to 30)", q->prefix);
		return -HVLINK_EINVAL;
	}
	/* The same device attached again: the old TAP goes first (it may have this name). A TAP
	 * detached from the link thread (a domain destroyed, then started again under a new
	 * domid with the same TAP name) may not be closed yet either: wait for the reader. */
	detach(io, q->domid, HVLINK_DEV_VIF, q->devid, 1);
	pthread_mutex_lock(&io->lock);
	wait_reaped(io);
	for (a = io->atts; a; a = a->next)
		if (a->kind == HVLINK_DEV_VIF && strcmp(a->name, name) == 0 && !dflt) {
			snprintf(msg, msize, "TAP %s already backs interface %u of domain %u", name,
			         a->devid, a->domid);
			pthread_mutex_unlock(&io->lock);
			return -HVLINK_EEXIST;
		} else if (a->kind == HVLINK_DEV_VIF && strcmp(a->name, name) == 0) {
			taken = 1; /* a default name taken: the kernel picks one (below) */
		}
	pthread_mutex_unlock(&io->lock);
	/*
	 * Default names are hv<domid>.<devid>; another machine on this host may hold the same
	 * one (its domain ids start at 1 too). Then the kernel picks a free hvN instead, as
	 * libvirt's vnetN: whoever asked for no name hears the one chosen.
	 */
	if (!taken)
		fd = hostio_tap_open(name, q->domid, q->devid, q->ipv4, q->prefix, msg, msize);
	if (dflt && (taken || fd == -EBUSY || fd == -EEXIST)) {
		strcpy(name, "hv%d");
		fd = hostio_tap_open(name, q->domid, q->devid, q->ipv4, q->prefix, msg, msize);
	}
	if (fd < 0)
		return fd == -EPERM || fd == -EACCES   ? -HVLINK_EPERM
		       : fd == -EBUSY || fd == -EEXIST ? -HVLINK_EEXIST
		                                       : -HVLINK_EIO;
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		return -HVLINK_ENOMEM;
	}
	a->domid = q->domid;
	a->kind = HVLINK_DEV_VIF;
	a->devid = q->devid;
	a->fd = fd;
	snprintf(a->name, sizeof(a->name), "%s", name);
	pthread_mutex_lock(&io->lock);
	for (pp = &io->atts; *pp; pp = &(*pp)->next)
		;
	*pp = a;
	kick(io);
	pthread_mutex_unlock(&io->lock);
	memset(rsp, 0, sizeof(*rsp));
	snprintf(rsp->tap, sizeof(rsp->tap), "%s", name);
	return 0;
}

static int op_list(struct hostio *io, void *rsp, uint32_t cap, uint32_t *rsp_len)
{
	struct relay_host_list_rsp head = {0};
	struct relay_host_entry *e = (struct relay_host_entry *)((char *)rsp + sizeof(head));
	uint32_t max = (cap - (uint32_t)sizeof(head)) / (uint32_t)sizeof(*e);
	struct att *a;

	pthread_mutex_lock(&io->lock);
	for (a = io->atts; a && head.count < max; a = a->next, head.count++) {
		struct relay_host_entry *x = &e[head.count];

		memset(x, 0, sizeof(*x));
		x->domid = a->domid;
		x->kind = a->kind;
		x->devid = a->devid;
		x->flags = a->flags;
		x->sectors = a->sectors;
		memcpy(x->ops, a->ops, sizeof(x->ops));
		memcpy(x->bytes, a->bytes, sizeof(x->bytes));
		x->errors = a->errors;
		snprintf(x->name, sizeof(x->name), "%s", a->name);
	}
	pthread_mutex_unlock(&io->lock);
	memcpy(rsp, &head, sizeof(head));
	*rsp_len = (uint32_t)sizeof(head) + head.count * (uint32_t)sizeof(*e);
	return 0;
}

int hostio_op(struct hostio *io, uint16_t op, const void *req, uint32_t len, void *rsp,
              uint32_t cap, uint32_t *rsp_len, char *msg, size_t msg_size)
{
	static const uint32_t sizes[] = {
	    [RELAY_HOST_DISK_ATTACH] = sizeof(struct relay_host_disk),
	    [RELAY_HOST_NIC_ATTACH] = sizeof(struct relay_host_nic),
	    [RELAY_HOST_DETACH] = sizeof(struct relay_host_dev),
	    [RELAY_HOST_DETACH_DOMAIN] = sizeof(struct relay_host_dev),
	    [RELAY_HOST_LIST] = 0,
	};
	union {
		struct relay_host_disk disk;
		struct relay_host_nic nic;
		struct relay_host_dev dev;
	} * q;
	int rc;

	*rsp_len = 0;
	if (op == 0 || op > RELAY_HOST_LIST) {
		snprintf(msg, msg_size, "unknown host operation %u", op);
		return -HVLINK_ENOSYS;
	}
	if (len != sizes[op]) {
		snprintf(msg, msg_size, "host operation %u with %u bytes (expected %u)", op, len,
		         sizes[op]);
		return -HVLINK_EINVAL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -HVLINK_ENOMEM;
	if (len)
		memcpy(q, req, len);
	switch (op) {
	case RELAY_HOST_DISK_ATTACH:
		rc = cap < sizeof(struct relay_host_disk_rsp)
		         ? -HVLINK_EINVAL
		         : op_disk_attach(io, &q->disk, rsp, msg, msg_size);
		if (rc == 0)
			*rsp_len = sizeof(struct relay_host_disk_rsp);
		break;
	case RELAY_HOST_NIC_ATTACH:
		rc = cap < sizeof(struct relay_host_nic_rsp)
		         ? -HVLINK_EINVAL
		         : op_nic_attach(io, &q->nic, rsp, msg, msg_size);
		if (rc == 0)
			*rsp_len = sizeof(struct relay_host_nic_rsp);
		break;
	case RELAY_HOST_DETACH: {
		struct att *a;

		pthread_mutex_lock(&io->lock);
		a = find(io, q->dev.domid, q->dev.kind, q->dev.devid);
		pthread_mutex_unlock(&io->lock);
		if (!a) {
			snprintf(msg, msg_size, "domain %u has no %s %u on the host", q->dev.domid,
			         q->dev.kind == HVLINK_DEV_VIF ? "interface" : "disk",
			         q->dev.devid);
			rc = -HVLINK_ENOENT;
		} else {
			detach(io, q->dev.domid, q->dev.kind, q->dev.devid, 1);
			rc = 0;
		}
		break;
	}
	case RELAY_HOST_DETACH_DOMAIN:
		detach(io, q->dev.domid, 0, 0, 1);
		rc = 0;
		break;
	default:
		rc = op_list(io, rsp, cap, rsp_len);
		break;
	}
	free(q);
	return rc;
}

/* ---- life ----------------------------------------------------------------------------- */

int hostio_new(struct hvctl_transport *link, struct hostio **out, hvctl_error *err)
{
	struct hostio *io = calloc(1, sizeof(*io));

	*out = NULL;
	if (!io)
		return err_set(err, HVCTL_ERR_SYSTEM, "out of memory");
	io->link = link;
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->work, NULL);
	{
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&io->reaped, &a);
		pthread_condattr_destroy(&a);
	}
	if (pipe2(io->kick, O_CLOEXEC | O_NONBLOCK) != 0) {
		io->kick[0] = io->kick[1] = -1;
		hostio_free(io);
		return err_set(err, HVCTL_ERR_SYSTEM, "pipe: %s", strerror(errno));
	}
	if (pthread_create(&io->blk_thread, NULL, blk_main, io) != 0) {
		hostio_free(io);
		return err_set(err, HVCTL_ERR_SYSTEM, "cannot start the block worker");
	}
	io->threads = 1;
	if (pthread_create(&io->net_thread, NULL, net_main, io) != 0) {
		hostio_free(io);
		return err_set(err, HVCTL_ERR_SYSTEM, "cannot start the TAP reader");
	}
	io->threads = 2;
	*out = io;
	return HVCTL_OK;
}

void hostio_stop(struct hostio *io)
{
	int threads;

	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	threads = io->threads;
	io->stop = 1;
	io->threads = 0;
	pthread_cond_broadcast(&io->work);
	if (io->kick[1] >= 0)
		kick(io);
	pthread_mutex_unlock(&io->lock);
	if (threads >= 1)
		pthread_join(io->blk_thread, NULL);
	if (threads >= 2)
		pthread_join(io->net_thread, NULL);
}

void hostio_free(struct hostio *io)
{
	struct att *a;
	struct blk_job *j;

	if (!io)
		return;
	hostio_stop(io);
	while ((a = io->atts)) {
		io->atts = a->next;
		close(a->fd);
		free(a);
	}
	while ((a = io->dead)) {
		io->dead = a->next;
		close(a->fd);
		free(a);
	}
	while ((j = io->head)) {
		io->head = j->next;
		free(j);
	}
	if (io->kick[0] >= 0)
		close(io->kick[0]);
	if (io->kick[1] >= 0)
		close(io->kick[1]);
	pthread_mutex_destroy(&io->lock);
	pthread_cond_destroy(&io->work);
	pthread_cond_destroy(&io->reaped);
	free(io);
}
