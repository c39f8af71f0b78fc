/*
 * The seam between the hv driver and the machine: an ops table the driver calls to act on
 * domains, and one callback by which the machine reports what happened on its own (a guest
 * powered off, crashed or rebooted).
 *
 * Two implementations: backend_sim.c, an in-process SIMULATION used to test the daemon
 * without hv (it enforces the admission rules hv enforces, so that their error paths are
 * exercised), and backend_hvctl.c over libhvctl (the real machine). The driver never knows
 * which.
 *
 * Invariants: the backend identifies running domains by domid (> 0, never reused while the
 * daemon runs); it only knows running (or paused) domains; the driver makes its calls from any
 * thread, one at a time, holding be->lock (a recursive mutex); what the backend does on the
 * main loop by itself (timers) takes be->lock too, with a trylock so that the main loop never
 * waits for a machine call; event_fn and console output callbacks may be called with be->lock
 * held, from any thread, and only queue what they are given; errors are HV_ERROR GErrors with a
 * libvirt code and a whole sentence.
 */
#ifndef HV_DRIVER_BACKEND_H
#define HV_DRIVER_BACKEND_H

#include <glib.h>
#include <libvirt/libvirt.h>

#include "xml/domain_conf.h"

typedef struct hvBackend hvBackend;
typedef struct hvBackendConsole hvBackendConsole;

typedef struct {
	gboolean paused;
	unsigned long long cpu_time_ns; /* all vcpus together */
	unsigned long long mem_kib;     /* current allocation */
	unsigned long long max_mem_kib;
	unsigned int vcpus; /* online vcpus */
} hvBackendDomInfo;

typedef struct {
	int state; /* virVcpuState */
	int pcpu;  /* where it runs (or last ran) */
	unsigned long long cpu_time_ns;
} hvBackendVcpuInfo;

/* Scheduler parameters of one domain (DESIGN.md decision 7). */
typedef struct {
	unsigned int weight;      /* relative share */
	unsigned int cap;         /* % of one pCPU for the domain, 0 = none */
	unsigned int reservation; /* % of one pCPU guaranteed to each vcpu, 0 = none */
} hvSchedParams;

/* What the host moved for one disk or interface (the backing's own counts). An interface's
 * are from the domain's side, as libvirt reports them: rx = frames the domain received. */
typedef struct {
	unsigned long long rd_req, rd_bytes, wr_req, wr_bytes, errs;
} hvBackendDiskStats;

typedef struct {
	unsigned long long rx_bytes, rx_packets, rx_drop, tx_bytes, tx_packets, tx_drop;
} hvBackendNicStats;

/* What the machine reports by itself. */
typedef enum {
	HV_BACKEND_POWEROFF, /* the guest shut itself down */
	HV_BACKEND_CRASH,    /* the guest crashed */
	HV_BACKEND_REBOOT,   /* the guest asked to reboot (it is still running) */
	HV_BACKEND_LOST,     /* the machine itself went away, and the domain with it */
} hvBackendEvent;

typedef void (*hvBackendEventFn)(int domid, hvBackendEvent ev, void *opaque);
/* Console output; len 0 = the console went away. */
typedef void (*hvBackendConsoleFn)(const void *data, size_t len, void *opaque);

typedef struct {
	const char *name;
	int (*node_info)(hvBackend *be, virNodeInfo *info, GError **err);
	unsigned long long (*free_memory_kib)(hvBackend *be);

	/* Builds and starts (or leaves paused) a domain from def; returns its domid. def is the
	 * live definition: the backend writes into it what the machine chose (the name of an
	 * interface's TAP as its <target dev>, as libvirt shows vnetN). */
	int (*create)(hvBackend *be, hvDomainDef *def, gboolean paused, int *domid, GError **err);
	int (*destroy)(hvBackend *be, int domid, GError **err);
	int (*pause)(hvBackend *be, int domid, GError **err);
	int (*unpause)(hvBackend *be, int domid, GError **err);
	/* Asks the guest to shut down; completion arrives as HV_BACKEND_POWEROFF. */
	int (*shutdown)(hvBackend *be, int domid, GError **err);
	/* Asks the guest to reboot (reboot) or restarts it at once (reset). */
	int (*reboot)(hvBackend *be, int domid, gboolean hard, GError **err);

	int (*info)(hvBackend *be, int domid, hvBackendDomInfo *info, GError **err);
	int (*vcpu_info)(hvBackend *be, int domid, unsigned int vcpu, hvBackendVcpuInfo *info,
	                 GError **err);

	int (*set_memory)(hvBackend *be, int domid, unsigned long long kib, GError **err);
	int (*set_guarantee)(hvBackend *be, int domid, unsigned long long kib, GError **err);
	int (*set_vcpus)(hvBackend *be, int domid, unsigned int n, GError **err);
	int (*set_sched)(hvBackend *be, int domid, const hvSchedParams *p, GError **err);
	/* Bandwidth of the interface with this MAC, from iface's in_ and out_ fields. */
	int (*set_bandwidth)(hvBackend *be, int domid, const hvInterfaceDef *iface, GError **err);

	/* I/O limits of the disk with this target, from disk's iotune fields. */
	int (*set_iotune)(hvBackend *be, int domid, const hvDiskDef *disk, GError **err);

	/* Counters of a running domain's disk (by target) and interface (by its position). */
	int (*disk_stats)(hvBackend *be, int domid, const hvDiskDef *disk, hvBackendDiskStats *st,
	                  GError **err);
	int (*nic_stats)(hvBackend *be, int domid, unsigned int index, hvBackendNicStats *st,
	                 GError **err);

	hvBackendConsole *(*console_open)(hvBackend *be, int domid, hvBackendConsoleFn out,
	                                  void *opaque, GError **err);
	void (*console_write)(hvBackendConsole *con, const void *data, size_t len);
	void (*console_close)(hvBackendConsole *con);

	/*
	 * Re-attachment: the running (or paused) domain of def's UUID on the machine, found
	 * again after a virthvd restart. 1 with *domid and *paused set, 0 if there is none.
	 * NULL for a machine that cannot outlive the daemon (the simulation).
	 */
	int (*find)(hvBackend *be, const hvDomainDef *def, int *domid, gboolean *paused);

	void (*free)(hvBackend *be);
} hvBackendOps;

struct hvBackend {
	const hvBackendOps *ops;
	GRecMutex lock;            /* see the invariants above; initialised by the driver */
	hvBackendEventFn event_fn; /* set by the driver */
	void *event_opaque;
};

/* The simulated machine: cpus physical CPUs, memory_kib of RAM. */
hvBackend *hv_backend_sim_new(unsigned int cpus, unsigned long long memory_kib, GError **err);
/* Tests only: every domain build of the simulation takes this much longer (a slow machine). */
void hv_backend_sim_set_delay(hvBackend *be, unsigned int create_delay_ms);

/* The real machine (backend_hvctl.c): where it is and how to start it. */
typedef struct {
	gboolean attach;             /* machine=attach: use a running machine, never start or
	                                stop it; otherwise start it if none runs at machine_dir */
	const char *machine_dir;     /* the machine's state directory (relay socket hvctl.sock) */
	const char *hv_machine_tool; /* the hv-machine command that holds the machine */
	const char *hv_image;        /* hv.elf or a bootable .iso */
	const char *hv_cmdline;      /* NULL: hv's default */
	const char *dom0_kernel;     /* guest-kernel's guest.elf */
	const char *dom0_cmdline;    /* must contain "agent" */
	const char *accel;           /* tcg (default), kvm, auto (KVM after a probe boot) */
	unsigned int cpus, memory_mib;
	unsigned int agent_timeout_s;
} hvBackendHvctlConfig;

hvBackend *hv_backend_hvctl_new(const hvBackendHvctlConfig *cfg, GError **err);

#endif
