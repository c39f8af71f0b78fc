/*
 * hv's control interface: the privileged hypercall HYPERVISOR_domctl (number 36, the slot Xen
 * gives its own domctl). Our own interface (DESIGN.md decision 3), not Xen's: only dom0 may
 * call it; every other domain gets -EPERM, and dom0 gets -EPERM for operations on itself that
 * would end the machine (destroy, pause, shutdown of dom0).
 *
 * One argument: a guest pointer to struct hv_domctl. hv copies it in, checks
 * interface_version (a mismatch is -EACCES and changes nothing), runs cmd on domain, and
 * copies the whole struct back (OUT fields filled) when the result is 0.
 *
 * The operations are those of the management link's control channel (link/link_ctl.h) and
 * carry the same numbers, so dom0's agent forwards a link request without translating it.
 * Two build operations differ, because images travel over the link's bulk channel, not in the
 * control request: HV_DOMCTL_build_module builds from hv's boot modules, HV_DOMCTL_build_buffer
 * from images in the caller's memory (the agent uses this one for the images it received).
 *
 * Version rule: HV_DOMCTL_INTERFACE_VERSION goes up by one whenever any struct below changes
 * size or meaning, or an operation changes meaning. Adding a new operation number does not
 * change it (old callers never send it). Keep HVLINK_CTL_INTERFACE_VERSION moving with it
 * when the link structs change too.
 *
 * Units: memory in KiB, time in ns, CPU shares in percent of one CPU (as libvirt and the link).
 *
 * Guests may not include this header unless they define HV_DOMCTL_ALLOWED (dom0's control
 * code does), as Xen's domctl.h refuses inclusion outside the tools.
 */
#ifndef HV_PUBLIC_DOMCTL_H
#define HV_PUBLIC_DOMCTL_H

#ifndef HV_DOMCTL_ALLOWED
#error "public/domctl.h is hv's privileged control interface: define HV_DOMCTL_ALLOWED"
#endif

#include <stdint.h>

#ifndef __HYPERVISOR_domctl
#define __HYPERVISOR_domctl 36
#endif

#define HV_DOMCTL_INTERFACE_VERSION 2 /* 2: hv_domctl_build has a ramdisk */

/* Operations (hv_domctl.cmd): numbers shared with enum hvlink_ctl_op. */
#define HV_DOMCTL_physinfo          2 /* -> u.physinfo */
#define HV_DOMCTL_create            3 /* u.create -> u.create.domid */
#define HV_DOMCTL_build_module      4 /* u.build (module) */
#define HV_DOMCTL_unpause           5
#define HV_DOMCTL_pause             6
#define HV_DOMCTL_shutdown          7 /* u.shutdown */
#define HV_DOMCTL_destroy           8
#define HV_DOMCTL_getinfo           9  /* -> u.info */
#define HV_DOMCTL_list              10 /* u.list (buffer of hv_domctl_dominfo) */
#define HV_DOMCTL_set_max_mem       11 /* u.mem */
#define HV_DOMCTL_set_current_mem   12 /* u.mem: balloon target (populate if not built) */
#define HV_DOMCTL_set_mem_guarantee 13 /* u.mem */
#define HV_DOMCTL_set_vcpus         14 /* u.vcpus: before build only */
#define HV_DOMCTL_sched_get         15 /* -> u.sched */
#define HV_DOMCTL_sched_set         16 /* u.sched */
#define HV_DOMCTL_build_buffer      32 /* u.build (buffer) */
#define HV_DOMCTL_populate          33 /* allocate current memory now (build does it too) */
#define HV_DOMCTL_console_info      34 /* -> u.console: a built domU's console page and port */
#define HV_DOMCTL_store_info        35 /* -> u.console: its XenStore ring page and port */

/* Domain states (hv_domctl_dominfo.state), equal to enum hvlink_dom_state. */
#define HV_DOMSTATE_CREATED  0
#define HV_DOMSTATE_RUNNING  1
#define HV_DOMSTATE_PAUSED   2
#define HV_DOMSTATE_SHUTDOWN 3
#define HV_DOMSTATE_CRASHED  4
#define HV_DOMSTATE_DYING    5

struct hv_domctl_physinfo {
	uint32_t nr_cpus;
	uint32_t cpu_khz;
	uint64_t total_kib;
	uint64_t free_kib;
	uint64_t free_frames; /* exact: what leak tests compare */
	uint32_t nr_domains;
	uint32_t max_domains;
};

struct hv_domctl_create {
	uint8_t uuid[16];
	char name[64]; /* NUL-terminated; "" for none */
	uint32_t max_vcpus;
	uint32_t flags; /* 0 */
	uint64_t max_mem_kib;
	uint64_t current_mem_kib;
	uint64_t guarantee_kib;
	uint32_t weight, cap, reservation;
	uint32_t domid; /* IN: 0 = hv picks; OUT: the new domain's id */
};

#define HV_DOMCTL_CMDLINE_MAX 1024

/*
 * The kernel is a PV ELF or a Linux bzImage (hv decodes its xz payload). The ramdisk, if any,
 * is placed as the kernel asks (mapped after the image, or after the mapped region as a PFN
 * with SIF_MOD_START_PFN) and named by start_info's mod_start and mod_len.
 */
struct hv_domctl_build {
	uint32_t module;         /* build_module: index of hv's boot module holding the kernel */
	uint32_t ramdisk_module; /* build_module: boot module holding the ramdisk, 0 = none */
	uint64_t image;          /* build_buffer: guest address of the kernel image in the caller */
	uint64_t image_len;      /* bytes; at most 16 MiB */
	char cmdline[HV_DOMCTL_CMDLINE_MAX]; /* NUL-terminated; "" = the module's own */
	uint64_t ramdisk;     /* build_buffer: guest address of the ramdisk, 0 = none */
	uint64_t ramdisk_len; /* bytes; at most 16 MiB (0 with ramdisk 0) */
};

struct hv_domctl_shutdown {
	uint32_t reason; /* SHUTDOWN_poweroff, _reboot, _crash (public/sched.h) */
	uint32_t reserved;
};

struct hv_domctl_dominfo {
	uint32_t domid;
	uint32_t state; /* HV_DOMSTATE_* */
	uint32_t shutdown_reason;
	uint32_t nr_vcpus; /* online */
	uint32_t max_vcpus;
	uint32_t flags; /* bit 0: privileged */
	uint64_t max_mem_kib;
	uint64_t current_mem_kib;
	uint64_t guarantee_kib;
	uint64_t cpu_time_ns;
	uint8_t uuid[16];
	char name[64];
};

struct hv_domctl_list {
	uint32_t first_domid; /* IN: list domains with id >= this */
	uint32_t max_entries; /* IN: room in buffer */
	uint64_t buffer;      /* IN: guest address of max_entries hv_domctl_dominfo */
	uint32_t count;       /* OUT: entries written */
	uint32_t more;        /* OUT: 1 if domains beyond the last entry exist */
};

struct hv_domctl_mem {
	uint64_t kib;
};

struct hv_domctl_vcpus {
	uint32_t nr_vcpus;
	uint32_t reserved;
};

struct hv_domctl_sched {
	uint32_t weight;      /* 1..65535 */
	uint32_t cap;         /* percent of one CPU, 0 = none */
	uint32_t reservation; /* percent of one CPU, 0 = none */
	uint32_t reserved;
};

/* The console ring page (struct xencons_interface) the builder gave a domU, and the unbound
 * event channel it allocated towards dom0 for it (dom0 binds it with bind_interdomain).
 * HV_DOMCTL_store_info answers with the same struct for the XenStore ring page (struct
 * xenstore_domain_interface, start_info.store_mfn) and its port (start_info.store_evtchn). */
struct hv_domctl_console {
	uint64_t mfn;  /* machine frame of the page (dom0 maps it as a foreign frame) */
	uint32_t port; /* the domU's console event channel */
	uint32_t reserved;
};

struct hv_domctl {
	uint32_t interface_version; /* HV_DOMCTL_INTERFACE_VERSION */
	uint32_t cmd;               /* HV_DOMCTL_* */
	uint32_t domain;            /* target domain (ignored by physinfo, create, list) */
	uint32_t reserved;
	union {
		struct hv_domctl_physinfo physinfo;
		struct hv_domctl_create create;
		struct hv_domctl_build build;
		struct hv_domctl_shutdown shutdown;
		struct hv_domctl_dominfo info;
		struct hv_domctl_list list;
		struct hv_domctl_mem mem;
		struct hv_domctl_vcpus vcpus;
		struct hv_domctl_sched sched;
		struct hv_domctl_console console;
		uint8_t pad[1088];
	} u;
};

_Static_assert(sizeof(struct hv_domctl) == 16 + 1088, "hv_domctl layout is ABI");
_Static_assert(sizeof(struct hv_domctl_dominfo) == 136, "hv_domctl_dominfo layout is ABI");
_Static_assert(sizeof(struct hv_domctl_console) == 16, "hv_domctl_console layout is ABI");
_Static_assert(sizeof(struct hv_domctl_build) == 1064, "hv_domctl_build layout is ABI");

#endif
