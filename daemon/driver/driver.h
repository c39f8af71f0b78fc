/*
 * The hv driver: libvirt's API semantics for domains on one hv machine.
 *
 * Every entry point has libvirt's skeleton: check flags, look the domain up (by UUID, as
 * libvirtd does), begin a job, check the state, act through the backend (backend.h), record
 * the new state, end the job. Errors are reported once, here, as HV_ERROR GErrors
 * (util/error.h), and the function returns -1 (or NULL).
 *
 * Access: whether a connection may call a modifying entry point at all (read-only socket or
 * VIR_CONNECT_RO) is decided before the driver is called, by the RPC layer's procedure table,
 * as libvirt decides it in its public API layer. There are no per-user ACLs: the sockets'
 * file permissions are the access control.
 *
 * Domains are identified by their UUID (the RPC layer passes the uuid of the remote_domain the
 * client sent back; name and id are informational). Lookups hand out hvDomainRef, a copy of
 * (name, uuid, id) valid at the time of the call.
 *
 * Threads: callers hold the driver lock (hv_driver_lock) around every entry point below except
 * the console functions, which lock by themselves (see there). The driver drops
 * the lock while it waits for the machine, so calls of other threads proceed meanwhile;
 * changes to one domain are serialized by its job (driver_priv.h). Events are handed to the
 * sink with the lock held: the sink must only queue them.
 */
#ifndef HV_DRIVER_H
#define HV_DRIVER_H

#include <glib.h>
#include <libvirt/libvirt.h>

#include "driver/backend.h"

typedef struct hvDriver hvDriver;
typedef struct hvConsole hvConsole;

typedef struct {
	char *backend;   /* "sim" (the in-process simulation) or "hvctl" */
	char *state_dir; /* persistent definitions and run state */
	unsigned int sim_cpus;
	unsigned long long sim_memory_kib;
	unsigned int sim_delay_ms;  /* tests: each simulated domain build takes this long */
	hvBackendHvctlConfig hvctl; /* backend=hvctl: the machine */
} hvDriverConfig;

hvDriver *hv_driver_new(const hvDriverConfig *cfg, GError **err);
/* Called once no thread uses the driver any more. */
void hv_driver_free(hvDriver *drv);
void hv_driver_lock(hvDriver *drv);
void hv_driver_unlock(hvDriver *drv);

typedef struct {
	char *name;
	unsigned char uuid[16];
	int id; /* -1 when inactive */
} hvDomainRef;
void hv_domain_ref_clear(hvDomainRef *ref);
void hv_domain_ref_free(hvDomainRef *ref);

/* Events: the driver calls fn for each domain event. event_id is a virDomainEventID; for
 * LIFECYCLE, event/detail are virDomainEventType and its detail; for BALLOON_CHANGE, value is
 * the new current memory in KiB; for METADATA_CHANGE, event is the virDomainMetadataType. */
typedef void (*hvDriverEventFn)(const hvDomainRef *dom, int event_id, int event, int detail,
                                unsigned long long value, void *opaque);
void hv_driver_set_event_sink(hvDriver *drv, hvDriverEventFn fn, void *opaque);

/* ---- node ---- */
const char *hv_driver_type(void);
unsigned long long hv_driver_version(void); /* major * 1000000 + minor * 1000 + micro */
int hv_driver_node_info(hvDriver *drv, virNodeInfo *info, GError **err);
char *hv_driver_capabilities(hvDriver *drv, GError **err);
unsigned long long hv_driver_node_free_memory_kib(hvDriver *drv);
int hv_driver_max_vcpus(hvDriver *drv);
/* Node memory stats as (name, KiB) pairs: total, free, buffers, cached. */
int hv_driver_node_memory_stats(hvDriver *drv, virNodeMemoryStatsPtr stats, int *nstats,
                                GError **err);

/* ---- listing and lookup ---- */
int hv_driver_lookup_by_name(hvDriver *drv, const char *name, hvDomainRef *out, GError **err);
int hv_driver_lookup_by_uuid(hvDriver *drv, const unsigned char *uuid, hvDomainRef *out,
                             GError **err);
int hv_driver_lookup_by_id(hvDriver *drv, int id, hvDomainRef *out, GError **err);
/* VIR_CONNECT_LIST_DOMAINS_* filter; returns hvDomainRef* (free with hv_domain_ref_free). */
GPtrArray *hv_driver_list_all(hvDriver *drv, unsigned int flags, GError **err);
int hv_driver_count(hvDriver *drv, gboolean active);

/* ---- lifecycle (flags as in the libvirt API of the same name) ---- */
int hv_driver_define_xml(hvDriver *drv, const char *xml, unsigned int flags, hvDomainRef *out,
                         GError **err);
int hv_driver_create_xml(hvDriver *drv, const char *xml, unsigned int flags, hvDomainRef *out,
                         GError **err);
int hv_driver_undefine(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err);
int hv_driver_create(hvDriver *drv, const unsigned char *uuid, unsigned int flags, hvDomainRef *out,
                     GError **err);
int hv_driver_destroy(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err);
int hv_driver_shutdown(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err);
int hv_driver_reboot(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err);
int hv_driver_reset(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err);
int hv_driver_suspend(hvDriver *drv, const unsigned char *uuid, GError **err);
int hv_driver_resume(hvDriver *drv, const unsigned char *uuid, GError **err);

/* ---- information ---- */
typedef struct {
	int state, reason;
	unsigned long long max_mem_kib, mem_kib, cpu_time_ns;
	unsigned int nr_vcpus;
} hvDomainInfo;
int hv_driver_get_info(hvDriver *drv, const unsigned char *uuid, hvDomainInfo *info, GError **err);
char *hv_driver_get_xml(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err);
char *hv_driver_get_os_type(hvDriver *drv, const unsigned char *uuid, GError **err);
typedef enum {
	HV_DOMAIN_IS_ACTIVE,
	HV_DOMAIN_IS_PERSISTENT,
	HV_DOMAIN_IS_AUTOSTART,
	HV_DOMAIN_IS_UPDATED, /* virDomainIsUpdated: not tracked, always 0 */
} hvDomainQuery;
/* Returns 0 or 1, -1 on error (no such domain). */
int hv_driver_get_bool(hvDriver *drv, const unsigned char *uuid, hvDomainQuery which, GError **err);
int hv_driver_set_autostart(hvDriver *drv, const unsigned char *uuid, gboolean on, GError **err);
unsigned long long hv_driver_get_max_memory(hvDriver *drv, const unsigned char *uuid,
                                            GError **err); /* 0 on error */

/* <title> and <description> (type VIR_DOMAIN_METADATA_TITLE / _DESCRIPTION); other
 * metadata elements are not supported. A NULL or empty text removes it. */
char *hv_driver_get_metadata(hvDriver *drv, const unsigned char *uuid, int type, const char *uri,
                             unsigned int flags, GError **err);
int hv_driver_set_metadata(hvDriver *drv, const unsigned char *uuid, int type, const char *text,
                           const char *key, const char *uri, unsigned int flags, GError **err);

/* ---- memory and vcpus ---- */
int hv_driver_set_memory(hvDriver *drv, const unsigned char *uuid, unsigned long long kib,
                         unsigned int flags, GError **err);
int hv_driver_set_vcpus(hvDriver *drv, const unsigned char *uuid, unsigned int n,
                        unsigned int flags, GError **err);
int hv_driver_get_vcpus_count(hvDriver *drv, const unsigned char *uuid, unsigned int flags,
                              GError **err);
/* Per-vcpu info (at most maxinfo) and the number of physical CPUs (for cpumaps). */
int hv_driver_get_vcpus(hvDriver *drv, const unsigned char *uuid, int maxinfo, virVcpuInfoPtr *info,
                        int *ninfo, int *npcpus, GError **err);
/* domblkstat (a disk by target or source path) and domifstat (an interface by target dev or
 * MAC) of a running domain. */
int hv_driver_block_stats(hvDriver *drv, const unsigned char *uuid, const char *path,
                          hvBackendDiskStats *st, GError **err);
int hv_driver_interface_stats(hvDriver *drv, const unsigned char *uuid, const char *device,
                              hvBackendNicStats *st, GError **err);
int hv_driver_memory_stats(hvDriver *drv, const unsigned char *uuid, virDomainMemoryStatPtr stats,
                           unsigned int max, GError **err);

/* ---- typed parameters (params allocated by the driver; free with virTypedParamsFree-like
 * hv_typed_params_free) ---- */
void hv_typed_params_free(virTypedParameterPtr params, int n);
char *hv_driver_sched_type(hvDriver *drv, const unsigned char *uuid, int *nparams, GError **err);
int hv_driver_get_sched_params(hvDriver *drv, const unsigned char *uuid, unsigned int flags,
                               virTypedParameterPtr *params, int *n, GError **err);
int hv_driver_set_sched_params(hvDriver *drv, const unsigned char *uuid,
                               virTypedParameterPtr params, int n, unsigned int flags,
                               GError **err);
int hv_driver_get_memory_params(hvDriver *drv, const unsigned char *uuid, unsigned int flags,
                                virTypedParameterPtr *params, int *n, GError **err);
int hv_driver_set_memory_params(hvDriver *drv, const unsigned char *uuid,
                                virTypedParameterPtr params, int n, unsigned int flags,
                                GError **err);
int hv_driver_get_interface_params(hvDriver *drv, const unsigned char *uuid, const char *device,
                                   unsigned int flags, virTypedParameterPtr *params, int *n,
                                   GError **err);
int hv_driver_set_interface_params(hvDriver *drv, const unsigned char *uuid, const char *device,
                                   virTypedParameterPtr params, int n, unsigned int flags,
                                   GError **err);
/* Disk I/O limits (<iotune>): total/read/write bytes and iops per second, ULLONG. A NULL disk
 * on get returns zeros (the count probe). */
int hv_driver_get_block_io_tune(hvDriver *drv, const unsigned char *uuid, const char *disk,
                                unsigned int flags, virTypedParameterPtr *params, int *n,
                                GError **err);
int hv_driver_set_block_io_tune(hvDriver *drv, const unsigned char *uuid, const char *disk,
                                virTypedParameterPtr params, int n, unsigned int flags,
                                GError **err);
/* virDomainGetCPUStats: start_cpu -1 = totals (cpu_time, user_time, system_time); else one
 * "cpu_time" per physical CPU. Returns params per cpu in *per_cpu. */
int hv_driver_get_cpu_stats(hvDriver *drv, const unsigned char *uuid, int start_cpu,
                            unsigned int ncpus, virTypedParameterPtr *params, int *per_cpu,
                            int *ncpus_out, GError **err);

/* virConnectGetAllDomainStats: one record per domain. doms NULL = all (filtered by flags). */
typedef struct {
	hvDomainRef dom;
	virTypedParameterPtr params;
	int nparams;
} hvDomainStatsRecord;
GPtrArray *hv_driver_get_all_stats(hvDriver *drv, const unsigned char (*uuids)[16],
                                   unsigned int nuuids, unsigned int stats, unsigned int flags,
                                   GError **err);
void hv_domain_stats_record_free(hvDomainStatsRecord *rec);

/* ---- console ---- */
/* Called on the main loop with guest output; len 0 = the console closed (EOF). It may be
 * called before hv_driver_open_console has returned, never after hv_console_close. */
typedef void (*hvConsoleOutputFn)(const void *data, size_t len, void *opaque);
/* Any thread, without the driver lock (it may wait for the machine: call it off the main
 * loop). hv_console_write and hv_console_close are for the main loop. */
hvConsole *hv_driver_open_console(hvDriver *drv, const unsigned char *uuid, const char *dev,
                                  unsigned int flags, hvConsoleOutputFn out, void *opaque,
                                  GError **err);
void hv_console_write(hvConsole *con, const void *data, size_t len);
void hv_console_close(hvConsole *con);

#endif
