/*
 * dom0's Ethernet switch: the ports are every VIF (a domU's network interface, served by
 * netback.c) and, for each VIF, the host's TAP named by the same (domid, devid). Frames are
 * forwarded by destination MAC from a table learnt from source MACs (entries age out), and
 * flooded to every other port when the destination is unknown, broadcast or multicast.
 *
 * Bandwidth (libvirt's <bandwidth>, in KiB/s and KiB): each VIF has an outbound limit (traffic
 * out of the guest: netback asks sw_out_admit() before it takes a frame off the guest's ring,
 * so an over-budget guest is held back in its own ring) and an inbound limit (traffic into the
 * guest: frames wait in the VIF's queue until its buckets allow them). A limit is two token
 * buckets: `average` filling a bucket of `burst`, and `peak` filling a bucket of a few frames.
 * Traffic into the guests also shares the switch's link rate (agent option net_link_kbps=):
 * when several VIFs have frames waiting, each first gets its `floor` (a guaranteed share, its
 * own bucket), then the rest of the link is shared fairly (in bytes) by whoever has frames.
 *
 * Queues are bounded (SW_QUEUE_FRAMES per port); a frame that finds its queue full is dropped
 * and counted. Everything here is plain logic over a caller-supplied clock and three callbacks
 * (frame memory and output), so that tests/unit/netswitch runs it on the host with a simulated
 * clock.
 *
 * Invariants: a frame is owned by exactly one of: the caller of sw_input (until the call), one
 * port's queue, the output callback (once it returned SW_OUT_TAKEN). A port index stays valid
 * until sw_port_remove(); the learning table never names a removed port.
 */
#ifndef GK_DOM0_SWITCH_H
#define GK_DOM0_SWITCH_H

#include <klib/compiler.h>

#define SW_MAX_PORTS         64 /* a bit mask of ports fits a uint64_t */
#define SW_FRAME_MIN         14 /* an Ethernet header */
#define SW_FRAME_MAX         1514
#define SW_QUEUE_FRAMES      64
#define SW_FDB_SETS          64
#define SW_FDB_WAYS          4
#define SW_AGEING_NS         (300ULL * 1000000000ULL) /* as Linux's bridge */
#define SW_DEFAULT_LINK_KBPS 102400ULL

struct sw_frame {
	struct sw_frame *next;
	uint32_t len;
	uint32_t reserved;
	uint8_t data[SW_FRAME_MAX];
};

enum sw_port_kind {
	SW_PORT_NONE = 0,
	SW_PORT_VIF = 1, /* a domU's interface: frames out of it come from netback */
	SW_PORT_TAP = 2, /* the host's TAP of a VIF: frames go over the management link */
};

/* A token bucket: `rate` bytes/s fill up to `depth`; both counted in nano-bytes (bytes * 1e9)
 * so that refills between close calls lose nothing. rate 0 = no limit. */
struct sw_bucket {
	uint64_t rate;   /* bytes per second */
	uint64_t depth;  /* nano-bytes */
	uint64_t tokens; /* nano-bytes */
	uint64_t last_ns;
};

/* A direction's limits as libvirt states them: KiB/s (average, peak, floor), KiB (burst). */
struct sw_limits {
	uint64_t average, peak, burst, floor;
};

struct sw_port {
	enum sw_port_kind kind;
	uint16_t domid, devid;
	struct sw_frame *head, *tail; /* frames waiting to go out of this port */
	unsigned int queued;
	struct sw_limits in, out;           /* as set; in = into the guest (VIF only) */
	struct sw_bucket in_avg, in_peak;   /* checked before a frame goes out to the VIF */
	struct sw_bucket out_avg, out_peak; /* checked before netback takes a frame from it */
	struct sw_bucket floor;             /* the VIF's guaranteed share of the link */
	uint64_t rx_frames, rx_bytes;       /* into the switch from this port */
	uint64_t tx_frames, tx_bytes;       /* out of the switch through this port */
	uint64_t dropped_queue;             /* its queue was full */
	uint64_t dropped_output;            /* the output refused the frame */
	uint64_t dropped_bad;               /* too short or too long, from this port */
	uint64_t share_vt;                  /* bytes the shared round gave it (a virtual time) */
	uint64_t floor_vt;                  /* bytes the floor round gave it, per floor KiB/s */
};

/* What the output callback answers. */
#define SW_OUT_TAKEN 0  /* the callee owns the frame now */
#define SW_OUT_BUSY  1  /* not now (no room): the frame stays first in the queue */
#define SW_OUT_DROP  -1 /* refused: the switch frees it and counts it */

struct sw_ops {
	struct sw_frame *(*alloc)(void *arg); /* NULL when out of frames */
	void (*free)(void *arg, struct sw_frame *f);
	int (*output)(void *arg, int port, struct sw_frame *f);
};

struct sw_fdb_entry {
	uint8_t mac[6];
	int16_t port; /* -1: empty */
	uint64_t seen_ns;
};

struct netswitch {
	const struct sw_ops *ops;
	void *arg;
	struct sw_port ports[SW_MAX_PORTS];
	struct sw_fdb_entry fdb[SW_FDB_SETS][SW_FDB_WAYS];
	uint64_t link_kbps; /* 0 = no link limit */
	struct sw_bucket link;
	uint64_t ageing_ns;
	unsigned int rr;      /* where the next search for a VIF to serve starts */
	uint64_t share_vtime; /* share_vt of the VIF the shared round served last */
	uint64_t floor_vtime; /* floor_vt of the VIF the floor round served last */
	unsigned int tap_rr;  /* the TAP that goes first when frames to the host wait */
	uint64_t flooded, filtered, alloc_failed;
};

void sw_init(struct netswitch *sw, const struct sw_ops *ops, void *arg, uint64_t link_kbps,
             uint64_t now);
/* A new port: its index (>= 0), -XEN_EEXIST if (kind, domid, devid) has one, -XEN_ENOSPC. */
int sw_port_add(struct netswitch *sw, enum sw_port_kind kind, uint16_t domid, uint16_t devid,
                uint64_t now);
/* Frees the port's queue and forgets it (and what was learnt on it). */
void sw_port_remove(struct netswitch *sw, int port);
int sw_port_find(const struct netswitch *sw, enum sw_port_kind kind, uint16_t domid,
                 uint16_t devid); /* index or -1 */

/* A frame entered on port `in` (the switch owns f from now on). */
void sw_input(struct netswitch *sw, int in, struct sw_frame *f, uint64_t now);

/* Limits of a VIF: inbound (into the guest) or outbound. 0 or -XEN_EINVAL (out of range, floor
 * on outbound, not a VIF), -XEN_ENOSPC (the floors of all VIFs would exceed the link). */
int sw_limits_set(struct netswitch *sw, int port, bool inbound, const struct sw_limits *l,
                  uint64_t now);
int sw_limits_get(const struct netswitch *sw, int port, bool inbound, struct sw_limits *l);

/* Outbound: may the VIF send a frame of len bytes now? If so its buckets are charged. */
bool sw_out_admit(struct netswitch *sw, int port, unsigned int len, uint64_t now);
/* Nanoseconds until sw_out_admit(len) would succeed (0: now). */
uint64_t sw_out_wait(struct netswitch *sw, int port, unsigned int len, uint64_t now);

/* Sends what the queues, buckets and outputs allow. True if any frame left a queue. */
bool sw_service(struct netswitch *sw, uint64_t now);
/* When waiting frames may go (absolute ns) because buckets refill; 0 if none waits on time. */
uint64_t sw_next_deadline(struct netswitch *sw, uint64_t now);

/* Learnt port of a MAC (-1 if unknown or aged out); for tests and diagnostics. */
int sw_fdb_lookup(const struct netswitch *sw, const uint8_t mac[6], uint64_t now);

#endif
