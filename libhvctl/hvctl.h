/*
 * libhvctl: the C library for hv's control interface.
 *
 * A handle (hvctl) talks to the machine's dom0 agent through a transport. The first transport
 * is the management link (hvctl_open_link): shared memory and doorbells handed to QEMU's
 * ivshmem-doorbell device by the ivshmem server this library runs. Each typed call below maps
 * onto one operation of hv's control hypercall.
 *
 * Errors. Every call returns HVCTL_OK (0) or a negative enum hvctl_status. The error of the
 * last failed call in the calling thread, with a message a person can act on, is available
 * from hvctl_last_error() (thread-local, like libvirt's virGetLastError).
 *
 * Time. Every call that crosses the link has a timeout (hvctl_set_timeout, default
 * HVCTL_DEFAULT_TIMEOUT_MS): past it the call fails with HVCTL_ERR_TIMEOUT, and a late
 * response is discarded.
 *
 * Threads. A handle may be used from several threads at once; calls proceed concurrently.
 * Event callbacks run on a thread of the library's own and may call any function here except
 * hvctl_close() on the same handle.
 *
 * Units: memory in KiB, CPU time in ns, cap and reservation in percent of one physical CPU,
 * bandwidth in KiB/s and bursts in KiB (as in libvirt's domain XML).
 */
#ifndef HVCTL_H
#define HVCTL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HVCTL_DEFAULT_TIMEOUT_MS 10000u

enum hvctl_status {
	HVCTL_OK = 0,
	HVCTL_ERR_INVALID = -1,      /* an argument is invalid (here or as judged by hv) */
	HVCTL_ERR_NO_DOMAIN = -2,    /* no domain with that id */
	HVCTL_ERR_PERMISSION = -3,   /* hv refused: not allowed */
	HVCTL_ERR_NO_MEMORY = -4,    /* not enough memory (machine or host) */
	HVCTL_ERR_BUSY = -5,         /* try again later */
	HVCTL_ERR_NO_RESOURCES = -6, /* cannot be admitted (e.g. CPU reservations full) */
	HVCTL_ERR_UNSUPPORTED = -7,  /* the machine does not implement the operation */
	HVCTL_ERR_TIMEOUT = -8,      /* no response within the timeout */
	HVCTL_ERR_LINK_DOWN = -9,    /* no machine connected, or its agent is not attached */
	HVCTL_ERR_LINK_FAULT = -10,  /* the machine broke the link protocol */
	HVCTL_ERR_VERSION = -11,     /* the machine speaks another protocol version */
	HVCTL_ERR_PROTOCOL = -12,    /* malformed response */
	HVCTL_ERR_EXISTS = -13,      /* already exists */
	HVCTL_ERR_SYSTEM = -14,      /* a local OS error (socket, memory, thread) */
	HVCTL_ERR_REMOTE = -15,      /* another error from the machine (see remote_errno) */
	HVCTL_ERR_CLOSED = -16,      /* the handle is being closed */
};

typedef struct hvctl_error {
	int code;         /* enum hvctl_status */
	int remote_errno; /* the errno hv or the agent returned, 0 if none */
	char message[256];
} hvctl_error;

/* The last error of this thread (code HVCTL_OK and an empty message if none yet). */
const hvctl_error *hvctl_last_error(void);
/* A fixed short description of a status code. */
const char *hvctl_strerror(int code);

typedef struct hvctl hvctl;

/* The management link: where QEMU's ivshmem-doorbell chardev connects. */
typedef struct hvctl_link_config {
	const char *socket_path; /* the ivshmem server's UNIX socket (created) */
	uint64_t shm_size;       /* 0: HVCTL_LINK_DEFAULT_SHM; else a power of two */
	unsigned vectors;        /* 0: 2; must equal QEMU's ivshmem-doorbell vectors= */
} hvctl_link_config;

#define HVCTL_LINK_DEFAULT_SHM (8u << 20)

/*
 * Opens a handle over the management link: creates the shared memory and starts the ivshmem
 * server at cfg->socket_path. QEMU can be started after this returns with
 *   -chardev socket,path=<socket_path>,id=hvlink
 *   -device ivshmem-doorbell,chardev=hvlink,vectors=<vectors>
 * Calls fail with HVCTL_ERR_LINK_DOWN until dom0's agent attaches (see hvctl_wait_ready).
 */
int hvctl_open_link(const hvctl_link_config *cfg, hvctl **out);

/* Closes the handle: pending calls fail with HVCTL_ERR_CLOSED; the link's server stops. */
void hvctl_close(hvctl *h);

/* Sets the timeout of every later call on this handle (milliseconds, > 0). */
void hvctl_set_timeout(hvctl *h, unsigned timeout_ms);

/*
 * Waits until the machine's agent is attached and answered a HELLO with a compatible
 * version. HVCTL_OK, HVCTL_ERR_TIMEOUT, HVCTL_ERR_VERSION, ...
 */
int hvctl_wait_ready(hvctl *h, unsigned timeout_ms);

typedef struct hvctl_version {
	unsigned link_major, link_minor; /* the agent's management link protocol */
	unsigned interface_version;      /* the control interface the agent and hv speak */
	char hv_version[32];
} hvctl_version;

int hvctl_hello(hvctl *h, hvctl_version *v);

typedef struct hvctl_physinfo {
	unsigned nr_cpus;
	unsigned cpu_khz;
	uint64_t total_kib, free_kib;
	unsigned reservation_free_pct; /* CPU reservation still admissible, percent of one CPU */
} hvctl_physinfo;

int hvctl_physinfo_get(hvctl *h, hvctl_physinfo *info);

/* ---- Domains ---- */

typedef enum hvctl_domain_state {
	HVCTL_DOMAIN_CREATED = 0,
	HVCTL_DOMAIN_RUNNING = 1,
	HVCTL_DOMAIN_PAUSED = 2,
	HVCTL_DOMAIN_SHUTDOWN = 3,
	HVCTL_DOMAIN_CRASHED = 4,
	HVCTL_DOMAIN_DYING = 5,
	HVCTL_DOMAIN_GONE = 6,
} hvctl_domain_state;

typedef enum hvctl_shutdown_reason {
	HVCTL_SHUTDOWN_POWEROFF = 0,
	HVCTL_SHUTDOWN_REBOOT = 1,
	HVCTL_SHUTDOWN_SUSPEND = 2,
	HVCTL_SHUTDOWN_CRASH = 3,
} hvctl_shutdown_reason;

typedef struct hvctl_domain_create_args {
	uint8_t uuid[16];
	unsigned max_vcpus;
	uint64_t max_mem_kib;
	uint64_t current_mem_kib;
	uint64_t guarantee_kib;
	unsigned weight, cap, reservation; /* initial scheduler parameters (weight 0: 256) */
} hvctl_domain_create_args;

typedef struct hvctl_domain_info {
	uint32_t domid;
	hvctl_domain_state state;
	hvctl_shutdown_reason shutdown_reason;
	unsigned nr_vcpus, max_vcpus;
	uint64_t max_mem_kib, current_mem_kib, guarantee_kib;
	uint64_t cpu_time_ns;
	uint8_t uuid[16];
} hvctl_domain_info;

typedef struct hvctl_build_args {
	const void *kernel; /* ELF image with Xen notes, in memory */
	size_t kernel_len;
	const void *ramdisk; /* NULL: none */
	size_t ramdisk_len;
	const char *cmdline; /* NULL: empty; at most 1023 bytes */
} hvctl_build_args;

int hvctl_domain_create(hvctl *h, const hvctl_domain_create_args *args, uint32_t *domid);
/* Sends the images over the link's bulk channel (streamed) and builds the domain from them. */
int hvctl_domain_build(hvctl *h, uint32_t domid, const hvctl_build_args *args);
int hvctl_domain_unpause(hvctl *h, uint32_t domid);
int hvctl_domain_pause(hvctl *h, uint32_t domid);
int hvctl_domain_shutdown(hvctl *h, uint32_t domid, hvctl_shutdown_reason reason);
int hvctl_domain_destroy(hvctl *h, uint32_t domid);
int hvctl_domain_info_get(hvctl *h, uint32_t domid, hvctl_domain_info *info);
/* Fills up to max entries with the domains whose id >= first; *count gets how many. */
int hvctl_domain_list(hvctl *h, uint32_t first, hvctl_domain_info *infos, unsigned max,
                      unsigned *count);

int hvctl_domain_set_max_mem(hvctl *h, uint32_t domid, uint64_t kib);
int hvctl_domain_set_current_mem(hvctl *h, uint32_t domid, uint64_t kib);
int hvctl_domain_set_mem_guarantee(hvctl *h, uint32_t domid, uint64_t kib);
int hvctl_domain_set_vcpus(hvctl *h, uint32_t domid, unsigned nr_vcpus);

typedef struct hvctl_sched_params {
	unsigned weight;      /* share of spare time, 1..65535 */
	unsigned cap;         /* upper bound, percent of one CPU, 0 = none */
	unsigned reservation; /* guaranteed minimum, percent of one CPU, 0 = none */
} hvctl_sched_params;

int hvctl_sched_get(hvctl *h, uint32_t domid, hvctl_sched_params *p);
int hvctl_sched_set(hvctl *h, uint32_t domid, const hvctl_sched_params *p);

typedef enum hvctl_bandwidth_kind {
	HVCTL_BW_NET_IN = 1,
	HVCTL_BW_NET_OUT = 2,
	HVCTL_BW_BLOCK = 3,
} hvctl_bandwidth_kind;

typedef struct hvctl_bandwidth {
	hvctl_bandwidth_kind kind;
	unsigned index;   /* the device's devid: interface 0, 1, ...; disk 51712 (xvda), ... */
	uint64_t average; /* KiB/s, 0 = unlimited */
	uint64_t peak;    /* KiB/s */
	uint64_t burst;   /* KiB */
	uint64_t floor;   /* KiB/s guaranteed (net in only) */
	uint64_t iops;    /* block only, 0 = unlimited */
} hvctl_bandwidth;

int hvctl_bandwidth_get(hvctl *h, uint32_t domid, hvctl_bandwidth *bw); /* kind, index in */
int hvctl_bandwidth_set(hvctl *h, uint32_t domid, const hvctl_bandwidth *bw);

/* ---- Devices (split I/O) ---- */

/*
 * A domain's disks and network interfaces are Xen split drivers: the front end in the domain,
 * the back end in dom0, and what backs them on the management host: a file for a disk, a TAP
 * device for an interface, held by the process that holds the machine's link (hv-machine,
 * virthvd's machine). Order for a new domain: create, build, attach the backing
 * (hvctl_disk_attach / hvctl_nic_attach), add the device (hvctl_device_add), unpause. A
 * domain's backing goes when the domain is destroyed or the device removed through any handle.
 * The attach calls need a handle opened with hvctl_open_machine (they act in the holder
 * process); on another handle they fail with HVCTL_ERR_UNSUPPORTED.
 *
 * Device numbers: a disk's devid is Xen's virtual device number (xvda = 51712 = 202 << 8,
 * xvdb = 51728, ...: hvctl_disk_devid); an interface's is its index in the domain (0, 1, ...).
 * The bandwidth calls name a device by the same number (hvctl_bandwidth.index = devid).
 */
typedef enum hvctl_device_kind {
	HVCTL_DEVICE_DISK = 1, /* a Xen VBD */
	HVCTL_DEVICE_NIC = 2,  /* a Xen VIF */
} hvctl_device_kind;

typedef struct hvctl_device {
	hvctl_device_kind kind;
	unsigned devid;
	int readonly;     /* disk: the domain may only read */
	uint64_t sectors; /* disk: 512-byte sectors (what hvctl_disk_attach found) */
	uint8_t mac[6];   /* interface: the domain's MAC address */
} hvctl_device;

/* Xen's virtual device number of a disk name ("xvda" -> 51712, "xvdb" -> 51728, ...,
 * "xvdp" -> 51952), or -1 for any other name. */
int hvctl_disk_devid(const char *name);

/*
 * Opens path (a file or a block device; made absolute here) as the backing of disk devid of
 * domain domid; *sectors (if not NULL) gets its size in 512-byte sectors. Attaching an attached
 * device again replaces its backing.
 */
int hvctl_disk_attach(hvctl *h, uint32_t domid, unsigned devid, const char *path, int readonly,
                      uint64_t *sectors);

/*
 * Makes the TAP of interface devid of domain domid: named tap (NULL or "": hv<domid>.<devid>,
 * or hvN chosen by the kernel when another machine on this host holds that name), up, with
 * the IPv4 address ipv4_cidr ("10.77.0.1/24"; NULL: none). tap_out (if not NULL, 16 bytes)
 * gets the name. Needs CAP_NET_ADMIN in the holder process.
 */
int hvctl_nic_attach(hvctl *h, uint32_t domid, unsigned devid, const char *tap,
                     const char *ipv4_cidr, char tap_out[16]);

/* Forgets the backing of one device (the file is closed, the TAP removed). */
int hvctl_device_detach(hvctl *h, uint32_t domid, hvctl_device_kind kind, unsigned devid);
/* Forgets the backing of every device of a domain (none attached is not an error). */
int hvctl_domain_detach_all(hvctl *h, uint32_t domid);

typedef struct hvctl_backing {
	uint32_t domid;
	hvctl_device_kind kind;
	unsigned devid;
	int readonly;
	uint64_t sectors;
	/* disk: reads, writes, flushes, discards done; bytes read, written.
	 * interface: frames to the TAP, from the TAP, dropped on their way to the TAP, dropped
	 * on their way from it (ops[0..3]); bytes to and from the TAP. */
	uint64_t ops[4], bytes[2];
	uint64_t errors; /* requests answered with an error, frames dropped */
	char name[256];  /* the file or the TAP */
} hvctl_backing;

/* Lists what the holder process backs: up to max entries, *count gets how many. */
int hvctl_backing_list(hvctl *h, hvctl_backing *out, unsigned max, unsigned *count);

/* Adds a device to a built domain: dom0 writes its XenStore nodes and starts its back end. */
int hvctl_device_add(hvctl *h, uint32_t domid, const hvctl_device *dev);
int hvctl_device_remove(hvctl *h, uint32_t domid, hvctl_device_kind kind, unsigned devid);

/* ---- Console ---- */

/* Reads up to cap bytes of the domain's console output; *got gets the count (0: nothing). */
int hvctl_console_read(hvctl *h, uint32_t domid, void *buf, size_t cap, size_t *got);
/* Writes len bytes to the domain's console input; *written gets the count accepted. */
int hvctl_console_write(hvctl *h, uint32_t domid, const void *buf, size_t len, size_t *written);

/* ---- Events ---- */

typedef enum hvctl_event_kind {
	HVCTL_EVENT_DOMAIN_STATE = 1, /* a domain changed state */
	HVCTL_EVENT_LINK_UP = 2,      /* the machine's agent attached */
	HVCTL_EVENT_LINK_DOWN = 3,    /* the machine went away or broke the link (see message) */
} hvctl_event_kind;

typedef struct hvctl_event {
	hvctl_event_kind kind;
	uint32_t domid;
	hvctl_domain_state state;
	hvctl_shutdown_reason shutdown_reason;
	int error;         /* LINK_DOWN: enum hvctl_status */
	char message[256]; /* LINK_DOWN: why */
} hvctl_event;

typedef void (*hvctl_event_cb)(const hvctl_event *ev, void *opaque);

/*
 * Subscribes to domain state changes and link events (one subscriber per handle; a second
 * call replaces the first). Asks the machine to send domain events.
 */
int hvctl_subscribe(hvctl *h, hvctl_event_cb cb, void *opaque);
int hvctl_unsubscribe(hvctl *h);

#ifdef __cplusplus
}
#endif

#endif
