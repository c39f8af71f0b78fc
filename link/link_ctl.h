/*
 * The messages of the management link's channels (framing in link_proto.h).
 *
 * Control channel (HVLINK_CHAN_CONTROL). Each request type maps 1:1 onto an operation of hv's
 * control hypercall (DESIGN.md decision 3): dom0's agent copies the request struct into the
 * hypercall's argument, makes the call, and returns the hypercall's result as the response
 * status (0 or -errno, HVLINK_E*) with the response struct as payload. Every request payload
 * starts with struct hvlink_ctl_head {interface_version, domid}, as Xen's domctl does; a request
 * whose interface_version differs from HVLINK_CTL_INTERFACE_VERSION is answered with
 * -HVLINK_EPROTO and changes nothing. The version changes whenever a struct below changes.
 * Sizes of all structs are fixed (checked below); payloads shorter than the request struct are
 * answered with -HVLINK_EINVAL.
 *
 * A request naming a domain that does not exist is answered with -HVLINK_ESRCH (as Xen does);
 * -HVLINK_ENOENT means some other named thing (a device, an image transfer) is missing.
 *
 * Units: memory in KiB, time in ns, CPU shares in percent of one physical CPU, bandwidth in
 * KiB/s (bursts in KiB), as libvirt states them.
 *
 * Events (flags HVLINK_MSG_EVENT) travel on the control channel's G2H ring once the host has
 * subscribed: HVLINK_CTL_EV_DOMAIN_STATE whenever a domain's state changes.
 *
 * Console channel: HVLINK_CON_READ/WRITE on a domU's console (dom0's console back end,
 * guest-kernel/dom0/console-back.c): READ returns bytes of the domain's output log (64 KiB,
 * oldest dropped) the host has not read yet, from one host cursor; WRITE puts what fits into
 * the domU's input ring and answers the count. A domain without a console ring (dom0, one
 * not built) is -HVLINK_ENOENT. Bulk channel: images streamed as BEGIN, DATA...,
 * END; only END is answered (DATA is HVLINK_MSG_NOREPLY: the agent answers only a failure, and
 * then also fails the END), so an image costs one round trip, not one per piece.
 */
#ifndef HVLINK_LINK_CTL_H
#define HVLINK_LINK_CTL_H

#include <stdint.h>

#define HVLINK_CTL_INTERFACE_VERSION 2 /* 2: DEVICE_ADD / DEVICE_REMOVE */

/* Control channel request types (hvlink_msg.type). Stable numbers: they cross the link. */
enum hvlink_ctl_op {
	HVLINK_CTL_HELLO = 1,              /* hvlink_ctl_hello -> hvlink_ctl_hello_rsp */
	HVLINK_CTL_PHYSINFO = 2,           /* head -> hvlink_ctl_physinfo */
	HVLINK_CTL_DOMAIN_CREATE = 3,      /* hvlink_ctl_create -> hvlink_ctl_domid */
	HVLINK_CTL_DOMAIN_BUILD = 4,       /* hvlink_ctl_build -> (none) */
	HVLINK_CTL_DOMAIN_UNPAUSE = 5,     /* head -> (none) */
	HVLINK_CTL_DOMAIN_PAUSE = 6,       /* head -> (none) */
	HVLINK_CTL_DOMAIN_SHUTDOWN = 7,    /* hvlink_ctl_shutdown -> (none) */
	HVLINK_CTL_DOMAIN_DESTROY = 8,     /* head -> (none) */
	HVLINK_CTL_DOMAIN_INFO = 9,        /* head -> hvlink_ctl_dominfo */
	HVLINK_CTL_DOMAIN_LIST = 10,       /* hvlink_ctl_list -> hvlink_ctl_list_rsp + dominfo[] */
	HVLINK_CTL_SET_MAX_MEM = 11,       /* hvlink_ctl_mem -> (none) */
	HVLINK_CTL_SET_CURRENT_MEM = 12,   /* hvlink_ctl_mem -> (none): balloon target */
	HVLINK_CTL_SET_MEM_GUARANTEE = 13, /* hvlink_ctl_mem -> (none) */
	HVLINK_CTL_SET_VCPUS = 14,         /* hvlink_ctl_vcpus -> (none) */
	HVLINK_CTL_SCHED_GET = 15,         /* head -> hvlink_ctl_sched */
	HVLINK_CTL_SCHED_SET = 16,         /* hvlink_ctl_sched -> (none) */
	HVLINK_CTL_BANDWIDTH_GET = 17, /* hvlink_ctl_bandwidth (key only) -> hvlink_ctl_bandwidth */
	HVLINK_CTL_BANDWIDTH_SET = 18, /* hvlink_ctl_bandwidth -> (none) */
	HVLINK_CTL_SUBSCRIBE = 19,     /* hvlink_ctl_subscribe -> (none) */
	HVLINK_CTL_DEVICE_ADD = 20,    /* hvlink_ctl_device -> (none): after build, before unpause */
	HVLINK_CTL_DEVICE_REMOVE = 21, /* hvlink_ctl_device (kind, devid) -> (none) */
	HVLINK_CTL_OP_COUNT,           /* not an op */

	HVLINK_CTL_EV_DOMAIN_STATE = 0x100, /* event: hvlink_ctl_ev_state */
};

/* Console channel types. */
enum hvlink_con_op {
	HVLINK_CON_READ = 1,  /* hvlink_con_read -> bytes (up to max) */
	HVLINK_CON_WRITE = 2, /* hvlink_con_write + bytes -> hvlink_con_written */
};

/* Bulk channel types. */
enum hvlink_bulk_op {
	HVLINK_BULK_BEGIN = 1, /* hvlink_bulk_begin (NOREPLY) */
	HVLINK_BULK_DATA = 2,  /* hvlink_bulk_data + bytes (NOREPLY) */
	HVLINK_BULK_END = 3,   /* hvlink_bulk_end (REQUEST) -> (none): the whole image's status */
	HVLINK_BULK_END_SUM = 4, /* 1.1: hvlink_bulk_end_sum (REQUEST) -> (none): as END, for an
	                          * image begun with HVLINK_BULK_SUM64 */
};

/*
 * Link protocol 1.1: a flag in hvlink_bulk_begin.kind saying the image is checked with the
 * 64-bit sums of bulk_sum.h, sent in END_SUM, instead of END's CRC-32 (which the agent then does
 * not compute). A 1.0 agent refuses such an image cleanly: the flag makes the kind bad, and it
 * answers END_SUM with -HVLINK_ENOSYS; libhvctl then sends the image again with END.
 */
#define HVLINK_BULK_SUM64 0x100u

/* Domain states (hvlink_ctl_dominfo.state), as hv keeps them. */
enum hvlink_dom_state {
	HVLINK_DOM_CREATED = 0, /* exists, not built or not yet unpaused */
	HVLINK_DOM_RUNNING = 1, /* runnable (running or blocked) */
	HVLINK_DOM_PAUSED = 2,
	HVLINK_DOM_SHUTDOWN = 3, /* shut itself down: reason in shutdown_reason */
	HVLINK_DOM_CRASHED = 4,
	HVLINK_DOM_DYING = 5, /* being destroyed */
	HVLINK_DOM_GONE = 6,  /* only in events: the domain no longer exists */
};

/* Shutdown reasons: the Xen SHUTDOWN_* codes (sched_op). */
enum hvlink_shutdown_reason {
	HVLINK_SHUTDOWN_POWEROFF = 0,
	HVLINK_SHUTDOWN_REBOOT = 1,
	HVLINK_SHUTDOWN_SUSPEND = 2,
	HVLINK_SHUTDOWN_CRASH = 3,
};

/* Bandwidth keys. */
enum hvlink_bw_kind {
	HVLINK_BW_NET_IN = 1,  /* traffic into the domain through interface index */
	HVLINK_BW_NET_OUT = 2, /* traffic out of the domain */
	HVLINK_BW_BLOCK = 3,   /* block device index (iotune) */
};

struct hvlink_ctl_head {
	uint32_t interface_version; /* HVLINK_CTL_INTERFACE_VERSION */
	uint32_t domid;             /* target domain; 0 for ops without one */
};

struct hvlink_ctl_hello {
	struct hvlink_ctl_head head;
	uint32_t host_link_major, host_link_minor; /* HVLINK_VERSION_* of the host */
};

struct hvlink_ctl_hello_rsp {
	uint32_t agent_link_major, agent_link_minor;
	uint32_t interface_version; /* control interface the agent and hv speak */
	uint32_t reserved;
	char hv_version[32]; /* NUL-terminated */
};

struct hvlink_ctl_physinfo {
	uint32_t nr_cpus;
	uint32_t cpu_khz;
	uint64_t total_kib;
	uint64_t free_kib;
	uint32_t reservation_free_pct; /* reservation (percent of one CPU) still admissible */
	uint32_t reserved;
};

struct hvlink_ctl_create {
	struct hvlink_ctl_head head; /* domid: 0 = hv picks */
	uint8_t uuid[16];
	uint32_t max_vcpus;
	uint32_t flags; /* reserved, 0 */
	uint64_t max_mem_kib;
	uint64_t current_mem_kib;
	uint64_t guarantee_kib;
	uint32_t weight, cap, reservation; /* initial scheduler parameters */
	uint32_t reserved;
};

struct hvlink_ctl_domid {
	uint32_t domid;
	uint32_t reserved;
};

#define HVLINK_CMDLINE_MAX 1024

struct hvlink_ctl_build {
	struct hvlink_ctl_head head;
	uint32_t kernel_xfer;             /* bulk transfer id of the kernel image (completed) */
	uint32_t ramdisk_xfer;            /* 0: no ramdisk */
	char cmdline[HVLINK_CMDLINE_MAX]; /* NUL-terminated */
};

struct hvlink_ctl_shutdown {
	struct hvlink_ctl_head head;
	uint32_t reason; /* enum hvlink_shutdown_reason */
	uint32_t reserved;
};

struct hvlink_ctl_dominfo {
	uint32_t domid;
	uint32_t state;           /* enum hvlink_dom_state */
	uint32_t shutdown_reason; /* when state is SHUTDOWN */
	uint32_t nr_vcpus;        /* online */
	uint32_t max_vcpus;
	uint32_t reserved;
	uint64_t max_mem_kib;
	uint64_t current_mem_kib;
	uint64_t guarantee_kib;
	uint64_t cpu_time_ns;
	uint8_t uuid[16];
};

struct hvlink_ctl_list {
	struct hvlink_ctl_head head;
	uint32_t first_domid; /* list domains with domid >= this */
	uint32_t max_entries;
};

struct hvlink_ctl_list_rsp {
	uint32_t count; /* hvlink_ctl_dominfo entries that follow */
	uint32_t more;  /* 1 if domains beyond the last entry exist */
};

struct hvlink_ctl_mem {
	struct hvlink_ctl_head head;
	uint64_t kib;
};

struct hvlink_ctl_vcpus {
	struct hvlink_ctl_head head;
	uint32_t nr_vcpus;
	uint32_t reserved;
};

struct hvlink_ctl_sched {
	struct hvlink_ctl_head head; /* in responses: interface_version and domid echoed */
	uint32_t weight;             /* share of spare time, 1..65535 */
	uint32_t cap;                /* upper bound, percent of one CPU, 0 = none */
	uint32_t reservation;        /* guaranteed minimum, percent of one CPU, 0 = none */
	uint32_t reserved;
};

struct hvlink_ctl_bandwidth {
	struct hvlink_ctl_head head;
	uint32_t kind;    /* enum hvlink_bw_kind */
	uint32_t index;   /* interface or disk index in the domain */
	uint64_t average; /* KiB/s, 0 = unlimited */
	uint64_t peak;    /* KiB/s */
	uint64_t burst;   /* KiB */
	uint64_t floor;   /* KiB/s guaranteed (net in) */
	uint64_t iops;    /* block: operations/s, 0 = unlimited */
};

/* Device kinds (hvlink_ctl_device.kind): the Xen split-driver classes. */
enum hvlink_dev_kind {
	HVLINK_DEV_VBD = 1, /* block device: blkfront <-> dom0's blkback <-> host file (link_io.h) */
	HVLINK_DEV_VIF = 2, /* network interface: netfront <-> dom0's switch <-> host TAP */
};

#define HVLINK_DEV_READONLY 0x1u /* VBD: the guest may not write */

/*
 * A device of a domain. dom0's agent writes the XenStore nodes of the front and back end
 * (backend/<kind>/<domid>/<devid>, /local/domain/<domid>/device/<kind>/<devid>) and starts its
 * back end; a domain's devices go with it when it is destroyed. The host attaches whatever
 * backs the device (the file, the TAP) before it adds the device.
 */
struct hvlink_ctl_device {
	struct hvlink_ctl_head head;
	uint16_t kind;    /* enum hvlink_dev_kind */
	uint16_t devid;   /* VBD: Xen's virtual device number (51712 = xvda); VIF: 0, 1, ... */
	uint32_t flags;   /* HVLINK_DEV_* */
	uint64_t sectors; /* VBD: size in 512-byte sectors */
	uint8_t mac[6];   /* VIF: the guest's MAC address */
	uint16_t reserved0;
	uint32_t reserved[2];
};

struct hvlink_ctl_subscribe {
	struct hvlink_ctl_head head;
	uint32_t enable; /* 1: send domain events, 0: stop */
	uint32_t reserved;
};

struct hvlink_ctl_ev_state {
	uint32_t domid;
	uint32_t state;           /* enum hvlink_dom_state */
	uint32_t shutdown_reason; /* when state is SHUTDOWN */
	uint32_t reserved;
};

struct hvlink_con_read {
	struct hvlink_ctl_head head;
	uint32_t max; /* bytes wanted at most */
	uint32_t reserved;
};

struct hvlink_con_write {
	struct hvlink_ctl_head head; /* the bytes follow */
};

struct hvlink_con_written {
	uint32_t written;
	uint32_t reserved;
};

enum hvlink_bulk_kind {
	HVLINK_BULK_KERNEL = 1,
	HVLINK_BULK_RAMDISK = 2,
};

struct hvlink_bulk_begin {
	uint32_t xfer;  /* transfer id chosen by the host, nonzero */
	uint32_t kind;  /* enum hvlink_bulk_kind */
	uint64_t total; /* bytes in the image */
};

struct hvlink_bulk_data {
	uint32_t xfer;
	uint32_t reserved;
	uint64_t offset; /* of these bytes in the image; pieces arrive in order */
};

struct hvlink_bulk_end {
	uint32_t xfer;
	uint32_t crc32; /* of the whole image (IEEE 802.3, as zlib's crc32) */
};

struct hvlink_bulk_end_sum {
	uint32_t xfer;
	uint32_t reserved; /* 0 */
	uint64_t sum_a, sum_b; /* bulk_sum.h, over the whole image */
};

_Static_assert(sizeof(struct hvlink_ctl_head) == 8, "head");
_Static_assert(sizeof(struct hvlink_ctl_hello) == 16, "hello");
_Static_assert(sizeof(struct hvlink_ctl_hello_rsp) == 48, "hello rsp");
_Static_assert(sizeof(struct hvlink_ctl_physinfo) == 32, "physinfo");
_Static_assert(sizeof(struct hvlink_ctl_create) == 72, "create");
_Static_assert(sizeof(struct hvlink_ctl_build) == 16 + HVLINK_CMDLINE_MAX, "build");
_Static_assert(sizeof(struct hvlink_ctl_dominfo) == 72, "dominfo");
_Static_assert(sizeof(struct hvlink_ctl_mem) == 16, "mem");
_Static_assert(sizeof(struct hvlink_ctl_sched) == 24, "sched");
_Static_assert(sizeof(struct hvlink_ctl_bandwidth) == 56, "bandwidth");
_Static_assert(sizeof(struct hvlink_ctl_device) == 40, "device");
_Static_assert(sizeof(struct hvlink_bulk_begin) == 16, "bulk begin");
_Static_assert(sizeof(struct hvlink_bulk_data) == 16, "bulk data");
_Static_assert(sizeof(struct hvlink_bulk_end_sum) == 24, "bulk end sum");

#endif
