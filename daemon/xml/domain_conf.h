/*
 * The domain definition of virthvd: the subset of libvirt's domain XML that hv honours
 * (<domain type='hv'>, Xen-style PV guests), as a plain C struct, with its parser, formatter
 * and the capabilities XML.
 *
 * Invariants of an hvDomainDef that came out of hv_domain_def_parse() (and that
 * hv_domain_def_check() verifies for one the driver has changed):
 *  - name is valid as a file name (no '/', no leading '.', no control characters, <= 200 bytes);
 *  - uuid is set (generated, random version 4, when the XML had none);
 *  - memory_kib >= current_memory_kib >= min_guarantee_kib, all in KiB;
 *  - 1 <= vcpus <= max_vcpus <= HV_MAX_VCPUS;
 *  - weight in 1..HV_MAX_WEIGHT (HV_DEFAULT_WEIGHT when the XML says nothing);
 *    cap <= 100 * max_vcpus; reservation <= 100;
 *  - every interface has a unicast MAC (generated with the Xen OUI 00:16:3e when absent);
 *  - disk target names are unique.
 *
 * XML mapping of the scheduler parameters (docs/domain-xml.md says more):
 *  weight      <cputune><shares>N</shares>
 *  cap         <cputune><global_period>P</global_period><global_quota>Q</global_quota>,
 *              cap = Q * 100 / P (percent of one physical CPU for the whole domain)
 *  reservation <metadata><hv:sched xmlns:hv='HV_XML_NS' reservation='N'/></metadata>
 *              (percent of one physical CPU guaranteed to each vcpu)
 * so that every document hv accepts is also valid libvirt domain XML apart from type='hv'.
 *
 * Errors are GErrors of daemon/util/error.h (HV_ERROR domain, VIR_ERR_* codes).
 */
#ifndef HV_DAEMON_DOMAIN_CONF_H
#define HV_DAEMON_DOMAIN_CONF_H

#include <glib.h>

#define HV_MAX_VCPUS       64
#define HV_DEFAULT_WEIGHT  256
#define HV_MAX_WEIGHT      65535
#define HV_DOMAIN_NAME_MAX 200
#define HV_XML_NS          "https://hv.invalid/xmlns/domain/1.0"

typedef enum {
	HV_LIFECYCLE_DESTROY,
	HV_LIFECYCLE_RESTART,
	HV_LIFECYCLE_PRESERVE,
	HV_LIFECYCLE_RENAME_RESTART,
} hvLifecycleAction; /* on_poweroff / on_reboot / on_crash */

/* <interface type='bridge'|'network'|'ethernet'> */
typedef struct {
	char *type;       /* "bridge", "network" or "ethernet" */
	char *mac;        /* "xx:xx:xx:xx:xx:xx", lower case, always set */
	char *source;     /* bridge or network name; NULL for ethernet */
	char *target_dev; /* <target dev=...>, NULL when absent */
	char *model;      /* <model type=...>, NULL when absent */
	/* <ip address=... prefix=.../>: an IPv4 address for the host's side of the interface
	 * (type='ethernet': its TAP), as libvirt's QEMU driver does; NULL when absent */
	char *ip_address;
	unsigned int ip_prefix; /* 1..30 with ip_address */
	/* <bandwidth>: average/peak/floor in KiB/s, burst in KiB, like libvirt; 0 = unset */
	unsigned long long in_average, in_peak, in_burst, in_floor;
	unsigned long long out_average, out_peak, out_burst;
} hvInterfaceDef;

/* <disk type='file' device='disk'> */
typedef struct {
	char *source_file; /* <source file=...>, absolute path */
	char *target_dev;  /* "xvda", ... */
	char *target_bus;  /* "xen" (the only bus; always set) */
	char *driver_name; /* <driver name=...>, NULL when absent; the type is always raw */
	gboolean readonly; /* <readonly/> */
	/* <iotune>: 0 = unset; total_* excludes read_* / write_* of the same kind */
	unsigned long long total_bytes_sec, read_bytes_sec, write_bytes_sec;
	unsigned long long total_iops_sec, read_iops_sec, write_iops_sec;
} hvDiskDef;

typedef struct {
	int id; /* domid of a running domain, -1 otherwise (see HV_DOMAIN_DEF_PARSE_LIVE) */
	char *name;
	unsigned char uuid[16];
	char *title;       /* NULL when absent; one line */
	char *description; /* NULL when absent */
	char *metadata;    /* other <metadata> children, serialized; NULL when none */

	unsigned long long memory_kib;         /* <memory> (maximum) */
	unsigned long long current_memory_kib; /* <currentMemory> */
	unsigned long long min_guarantee_kib;  /* <memtune><min_guarantee>; 0 = none */

	unsigned int max_vcpus; /* <vcpu>N</vcpu> */
	unsigned int vcpus;     /* <vcpu current='N'>; == max_vcpus when absent */

	unsigned int weight;      /* relative share, HV_DEFAULT_WEIGHT by default */
	unsigned int cap;         /* % of one pCPU for the whole domain, 0 = no cap */
	unsigned int reservation; /* % of one pCPU per vcpu, 0 = none */

	char *os_type; /* "linux" or "xen" (both mean Xen PV), as written */
	char *kernel;  /* <os><kernel>, NULL when absent */
	char *initrd;
	char *cmdline;

	hvLifecycleAction on_poweroff, on_reboot, on_crash;

	gboolean has_console;      /* <console type='pty'> present */
	char *console_target_type; /* "xen" or "serial" when has_console */
	GPtrArray *disks;          /* hvDiskDef *, owned, never NULL */
	GPtrArray *interfaces;     /* hvInterfaceDef *, owned, never NULL */
} hvDomainDef;

/* Flags of hv_domain_def_parse(). */
enum {
	/* Read <domain id='N'> into def->id (the state layer's record of a running domain).
	 * Without it the id attribute is accepted and ignored, and def->id is -1. */
	HV_DOMAIN_DEF_PARSE_LIVE = 1 << 0,
};

/*
 * Parses and validates a domain XML document. Well-formedness first (VIR_ERR_XML_ERROR with
 * libxml2's message and line), then things hv knows it cannot do although libvirt could
 * (type='kvm', os type hvm, another arch: VIR_ERR_CONFIG_UNSUPPORTED naming it), then the
 * RelaxNG schema xml-schemas/domain-hv.rng (VIR_ERR_XML_ERROR naming the element), then
 * hv_domain_def_check(). Fills in defaults: uuid, MACs, weight, lifecycle actions.
 */
hvDomainDef *hv_domain_def_parse(const char *xml, unsigned int flags, GError **err);

/* Semantic checks of the invariants above (VIR_ERR_XML_ERROR or VIR_ERR_CONFIG_UNSUPPORTED). */
int hv_domain_def_check(const hvDomainDef *def, GError **err);

/*
 * libvirt-style XML (2-space indentation, libvirt's element order, <memory unit='KiB'>).
 * flags are virDomainXMLFlags: VIR_DOMAIN_XML_INACTIVE omits id=; the others change nothing.
 * Never fails.
 */
char *hv_domain_def_format(const hvDomainDef *def, unsigned int flags);

hvDomainDef *hv_domain_def_new(void); /* empty, defaults set, id -1, no name, zero uuid */
hvDomainDef *hv_domain_def_copy(const hvDomainDef *def);
void hv_domain_def_free(hvDomainDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hvDomainDef, hv_domain_def_free)
void hv_disk_def_free(hvDiskDef *disk);
void hv_interface_def_free(hvInterfaceDef *iface);

/* Device lookups as virsh names them: a disk by target dev or source path, an interface by
 * target dev or MAC (case-insensitive). NULL when there is none. */
hvDiskDef *hv_domain_def_find_disk(const hvDomainDef *def, const char *path_or_dev);
hvInterfaceDef *hv_domain_def_find_interface(const hvDomainDef *def, const char *dev_or_mac);

const char *hv_lifecycle_action_to_string(hvLifecycleAction action);
int hv_lifecycle_action_from_string(const char *s); /* -1 when unknown */

/* UUIDs: 36-character text form plus NUL. Parsing accepts libvirt's forms (with or without
 * dashes). */
#define HV_UUID_STRING_LEN 37
void hv_uuid_format(const unsigned char uuid[16], char out[HV_UUID_STRING_LEN]);
int hv_uuid_parse(const char *s, unsigned char uuid[16]); /* 0 or -1 */
void hv_uuid_generate(unsigned char uuid[16]);            /* random, version 4 */

/* What the capabilities XML says about the machine. */
typedef struct {
	unsigned char uuid[16]; /* host UUID */
	unsigned int cpus;      /* physical CPUs (one socket, one thread per core) */
	unsigned int mhz;       /* informational, not printed by libvirt's format */
	unsigned long long memory_kib;
	const char *emulator; /* path printed as <emulator>, NULL to omit */
} hvHostInfo;

/*
 * libvirt capabilities XML for hv (libvirt-rpc.md section 6): host uuid, cpu arch x86_64,
 * one-cell topology, migration features none, secmodel none, and guests for os_type 'xen'
 * and 'linux' (both PV), arch x86_64, wordsize 64, domain type 'hv'. Never fails.
 */
char *hv_capabilities_format(const hvHostInfo *host);

#endif
