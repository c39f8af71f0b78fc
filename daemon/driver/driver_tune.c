/*
 * Typed-parameter tuning (scheduler weight/cap/reservation, memory min_guarantee, interface
 * bandwidth, disk I/O limits) and statistics (per-CPU time, bulk domain stats).
 *
 * Every set call validates all parameters before changing anything; a live change goes to
 * the machine first (which may refuse it, e.g. a reservation that does not fit) and is
 * recorded only when the machine accepted it; a config change is checked and saved as a
 * whole definition.
 */
#include "driver/driver_priv.h"

#include <string.h>

void hv_typed_params_free(virTypedParameterPtr params, int n)
{
	if (!params)
		return;
	for (int i = 0; i < n; i++)
		if (params[i].type == VIR_TYPED_PARAM_STRING)
			g_free(params[i].value.s);
	g_free(params);
}

static void put_uint(virTypedParameterPtr p, const char *field, unsigned int v)
{
	g_strlcpy(p->field, field, VIR_TYPED_PARAM_FIELD_LENGTH);
	p->type = VIR_TYPED_PARAM_UINT;
	p->value.ui = v;
}

static void put_ullong(virTypedParameterPtr p, const char *field, unsigned long long v)
{
	g_strlcpy(p->field, field, VIR_TYPED_PARAM_FIELD_LENGTH);
	p->type = VIR_TYPED_PARAM_ULLONG;
	p->value.ul = v;
}

static void put_int(virTypedParameterPtr p, const char *field, int v)
{
	g_strlcpy(p->field, field, VIR_TYPED_PARAM_FIELD_LENGTH);
	p->type = VIR_TYPED_PARAM_INT;
	p->value.i = v;
}

static void put_string(virTypedParameterPtr p, const char *field, const char *v)
{
	g_strlcpy(p->field, field, VIR_TYPED_PARAM_FIELD_LENGTH);
	p->type = VIR_TYPED_PARAM_STRING;
	p->value.s = g_strdup(v ? v : "");
}

/* Checks that every param is one of names[] with the given type. */
static int check_params(virTypedParameterPtr params, int n, const char *const *names, int type,
                        GError **err)
{
	for (int i = 0; i < n; i++) {
		gboolean known = FALSE;
		for (int k = 0; names[k]; k++)
			known |= !strcmp(params[i].field, names[k]);
		if (!known)
			return hv_error_set(err, VIR_ERR_INVALID_ARG,
			                    "parameter '%s' not supported", params[i].field);
		if (params[i].type != type)
			return hv_error_set(err, VIR_ERR_INVALID_ARG,
			                    "invalid type for parameter '%s', expected '%s'",
			                    params[i].field,
			                    type == VIR_TYPED_PARAM_UINT ? "uint" : "ullong");
	}
	return 0;
}

/* Resolves the flags of a get call: STRING_OKAY stripped, CURRENT made explicit, LIVE and
 * CONFIG exclusive. Returns the definition to read. */
static const hvDomainDef *def_for_get(hvDomainObj *obj, unsigned int flags, const char *fn,
                                      GError **err)
{
	flags &= ~VIR_TYPED_PARAM_STRING_OKAY;
	if (hv_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, fn, err) < 0)
		return NULL;
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG)) {
		hv_error_set(err, VIR_ERR_INVALID_ARG,
		             "flags 'live' and 'config' are mutually exclusive");
		return NULL;
	}
	if (hv_obj_resolve_affect(obj, &flags, err) < 0)
		return NULL;
	return (flags & VIR_DOMAIN_AFFECT_LIVE) ? obj->live : obj->def;
}

/* ---- scheduler ---- */

static const char *const sched_names[] = {VIR_DOMAIN_SCHEDULER_WEIGHT, VIR_DOMAIN_SCHEDULER_CAP,
                                          "reservation", NULL};

char *hv_driver_sched_type(hvDriver *drv, const unsigned char *uuid, int *nparams, GError **err)
{
	if (!hv_obj_find(drv, uuid, err))
		return NULL;
	*nparams = 3;
	return g_strdup("proportional"); /* hv's share + cap + reservation scheduler */
}

int hv_driver_get_sched_params(hvDriver *drv, const unsigned char *uuid, unsigned int flags,
                               virTypedParameterPtr *params, int *n, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);
	const hvDomainDef *def;

	if (!obj || !(def = def_for_get(obj, flags, "virDomainGetSchedulerParametersFlags", err)))
		return -1;
	*params = g_new0(virTypedParameter, 3);
	put_uint(&(*params)[0], VIR_DOMAIN_SCHEDULER_WEIGHT, def->weight);
	put_uint(&(*params)[1], VIR_DOMAIN_SCHEDULER_CAP, def->cap);
	put_uint(&(*params)[2], "reservation", def->reservation);
	*n = 3;
	return 0;
}

static void apply_sched(hvDomainDef *def, virTypedParameterPtr params, int n)
{
	for (int i = 0; i < n; i++) {
		if (!strcmp(params[i].field, VIR_DOMAIN_SCHEDULER_WEIGHT))
			def->weight = params[i].value.ui;
		else if (!strcmp(params[i].field, VIR_DOMAIN_SCHEDULER_CAP))
			def->cap = params[i].value.ui;
		else
			def->reservation = params[i].value.ui;
	}
}

/* Applies params to a copy of the definition and checks it (ranges: domain_conf.h). */
static hvDomainDef *changed_def(const hvDomainDef *def, virTypedParameterPtr params, int n,
                                void (*apply)(hvDomainDef *, virTypedParameterPtr, int),
                                GError **err)
{
	hvDomainDef *changed = hv_domain_def_copy(def);

	apply(changed, params, n);
	if (hv_domain_def_check(changed, err) < 0) {
		hv_domain_def_free(changed);
		return NULL;
	}
	return changed;
}

/* The common skeleton of the set calls. live_act pushes a changed live definition to the
 * machine. */
static int set_tunables(hvDriver *drv, const unsigned char *uuid, virTypedParameterPtr params,
                        int n, unsigned int flags, const char *fn, const char *const *names,
                        int type, void (*apply)(hvDomainDef *, virTypedParameterPtr, int),
                        int (*live_act)(hvDriver *, hvDomainObj *, const hvDomainDef *, GError **),
                        GError **err)
{
	hvDomainObj *obj;
	g_autoptr(hvDomainDef) live = NULL;
	g_autoptr(hvDomainDef) config = NULL;
	int rc = -1;

	if (hv_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, fn, err) < 0 ||
	    check_params(params, n, names, type, err) < 0 || !(obj = hv_obj_find(drv, uuid, err)) ||
	    hv_job_begin(drv, obj, err) < 0)
		return -1;
	if (hv_obj_resolve_affect(obj, &flags, err) < 0)
		goto endjob;
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) &&
	    !(live = changed_def(obj->live, params, n, apply, err)))
		goto endjob;
	if ((flags & VIR_DOMAIN_AFFECT_CONFIG) &&
	    !(config = changed_def(obj->def, params, n, apply, err)))
		goto endjob;
	if (live) {
		if (live_act(drv, obj, live, err) < 0)
			goto endjob;
		hv_domain_def_free(obj->live);
		obj->live = g_steal_pointer(&live);
		hv_obj_save_run(drv, obj);
	}
	if (config) {
		if (hv_persist_save(drv->persist, config, err) < 0)
			goto endjob;
		hv_domain_def_free(obj->def);
		obj->def = g_steal_pointer(&config);
	}
	rc = 0;
endjob:
	hv_job_end(drv, obj);
	return rc;
}

static int live_sched(hvDriver *drv, hvDomainObj *obj, const hvDomainDef *live, GError **err)
{
	hvSchedParams p = {live->weight, live->cap, live->reservation};

	return HV_BE(drv, drv->be->ops->set_sched(drv->be, obj->id, &p, err));
}

int hv_driver_set_sched_params(hvDriver *drv, const unsigned char *uuid,
                               virTypedParameterPtr params, int n, unsigned int flags, GError **err)
{
	return set_tunables(drv, uuid, params, n, flags, "virDomainSetSchedulerParametersFlags",
	                    sched_names, VIR_TYPED_PARAM_UINT, apply_sched, live_sched, err);
}

/* ---- memory tuning ---- */

static const char *const memory_names[] = {VIR_DOMAIN_MEMORY_MIN_GUARANTEE, NULL};

int hv_driver_get_memory_params(hvDriver *drv, const unsigned char *uuid, unsigned int flags,
                                virTypedParameterPtr *params, int *n, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);
	const hvDomainDef *def;

	if (!obj || !(def = def_for_get(obj, flags, "virDomainGetMemoryParameters", err)))
		return -1;
	*params = g_new0(virTypedParameter, 1);
	put_ullong(&(*params)[0], VIR_DOMAIN_MEMORY_MIN_GUARANTEE, def->min_guarantee_kib);
	*n = 1;
	return 0;
}

static void apply_memory(hvDomainDef *def, virTypedParameterPtr params, int n)
{
	for (int i = 0; i < n; i++)
		def->min_guarantee_kib = params[i].value.ul;
}

static int live_memory(hvDriver *drv, hvDomainObj *obj, const hvDomainDef *live, GError **err)
{
	return HV_BE(drv,
	             drv->be->ops->set_guarantee(drv->be, obj->id, live->min_guarantee_kib, err));
}

int hv_driver_set_memory_params(hvDriver *drv, const unsigned char *uuid,
                                virTypedParameterPtr params, int n, unsigned int flags,
                                GError **err)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(params[i].field, VIR_DOMAIN_MEMORY_HARD_LIMIT) ||
		    !strcmp(params[i].field, VIR_DOMAIN_MEMORY_SOFT_LIMIT) ||
		    !strcmp(params[i].field, VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT))
			return hv_error_set(err, VIR_ERR_ARGUMENT_UNSUPPORTED,
			                    "hv has no memory parameter '%s'; it supports only "
			                    "min_guarantee",
			                    params[i].field);
	return set_tunables(drv, uuid, params, n, flags, "virDomainSetMemoryParameters",
	                    memory_names, VIR_TYPED_PARAM_ULLONG, apply_memory, live_memory, err);
}

/* ---- interface bandwidth ---- */

static const char *const iface_names[] = {
    VIR_DOMAIN_BANDWIDTH_IN_AVERAGE,  VIR_DOMAIN_BANDWIDTH_IN_PEAK,
    VIR_DOMAIN_BANDWIDTH_IN_BURST,    VIR_DOMAIN_BANDWIDTH_IN_FLOOR,
    VIR_DOMAIN_BANDWIDTH_OUT_AVERAGE, VIR_DOMAIN_BANDWIDTH_OUT_PEAK,
    VIR_DOMAIN_BANDWIDTH_OUT_BURST,   NULL};

static unsigned long long *iface_field(hvInterfaceDef *i, const char *name)
{
	unsigned long long *fields[] = {&i->in_average,  &i->in_peak,  &i->in_burst, &i->in_floor,
	                                &i->out_average, &i->out_peak, &i->out_burst};

	for (int k = 0; iface_names[k]; k++)
		if (!strcmp(name, iface_names[k]))
			return fields[k];
	return NULL;
}

static hvInterfaceDef *find_iface(const hvDomainDef *def, const char *device, GError **err)
{
	hvInterfaceDef *iface = hv_domain_def_find_interface(def, device);

	if (!iface)
		hv_error_set(err, VIR_ERR_INVALID_ARG, "'%s' is not a known interface", device);
	return iface;
}

int hv_driver_get_interface_params(hvDriver *drv, const unsigned char *uuid, const char *device,
                                   unsigned int flags, virTypedParameterPtr *params, int *n,
                                   GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);
	const hvDomainDef *def;
	hvInterfaceDef *iface;

	if (!obj || !(def = def_for_get(obj, flags, "virDomainGetInterfaceParameters", err)) ||
	    !(iface = find_iface(def, device, err)))
		return -1;
	*params = g_new0(virTypedParameter, 7);
	for (int k = 0; k < 7; k++)
		put_uint(&(*params)[k], iface_names[k], *iface_field(iface, iface_names[k]));
	*n = 7;
	return 0;
}

/* The interface or disk named by the current set call (set_tunables' apply has no room for
 * it). Per thread: calls run in several worker threads. */
static _Thread_local const char *tune_device;

static void apply_iface(hvDomainDef *def, virTypedParameterPtr params, int n)
{
	hvInterfaceDef *iface = hv_domain_def_find_interface(def, tune_device);

	for (int i = 0; i < n && iface; i++)
		*iface_field(iface, params[i].field) = params[i].value.ui;
}

static int live_iface(hvDriver *drv, hvDomainObj *obj, const hvDomainDef *live, GError **err)
{
	return HV_BE(
	    drv, drv->be->ops->set_bandwidth(drv->be, obj->id,
	                                     hv_domain_def_find_interface(live, tune_device), err));
}

int hv_driver_set_interface_params(hvDriver *drv, const unsigned char *uuid, const char *device,
                                   virTypedParameterPtr params, int n, unsigned int flags,
                                   GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);
	unsigned int f = flags;
	int rc;

	if (!obj)
		return -1;
	/* The interface must exist in every definition the call changes. */
	if (hv_obj_resolve_affect(obj, &f, err) < 0 ||
	    ((f & VIR_DOMAIN_AFFECT_LIVE) && !find_iface(obj->live, device, err)) ||
	    ((f & VIR_DOMAIN_AFFECT_CONFIG) && !find_iface(obj->def, device, err)))
		return -1;
	tune_device = device;
	rc = set_tunables(drv, uuid, params, n, flags, "virDomainSetInterfaceParameters",
	                  iface_names, VIR_TYPED_PARAM_UINT, apply_iface, live_iface, err);
	tune_device = NULL;
	return rc;
}

/* ---- disk I/O limits (<iotune>) ---- */

static const char *const iotune_names[] = {VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC,
                                           VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC,
                                           VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC,
                                           VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC,
                                           VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC,
                                           VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC,
                                           NULL};

static unsigned long long *iotune_field(hvDiskDef *d, int k)
{
	unsigned long long *fields[] = {&d->total_bytes_sec, &d->read_bytes_sec,
	                                &d->write_bytes_sec, &d->total_iops_sec,
	                                &d->read_iops_sec,   &d->write_iops_sec};

	return fields[k];
}

static int iotune_index(const char *name)
{
	for (int k = 0; iotune_names[k]; k++)
		if (!strcmp(name, iotune_names[k]))
			return k;
	return -1;
}

static hvDiskDef *find_disk(const hvDomainDef *def, const char *disk, GError **err)
{
	hvDiskDef *d = disk ? hv_domain_def_find_disk(def, disk) : NULL;

	if (!d)
		hv_error_set(err, VIR_ERR_INVALID_ARG,
		             "disk '%s' was not found in the domain config", disk ? disk : "");
	return d;
}

int hv_driver_get_block_io_tune(hvDriver *drv, const unsigned char *uuid, const char *disk,
                                unsigned int flags, virTypedParameterPtr *params, int *n,
                                GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);
	const hvDomainDef *def;
	hvDiskDef *d = NULL;

	if (!obj || !(def = def_for_get(obj, flags, "virDomainGetBlockIoTune", err)))
		return -1;
	/* Without a disk, only the count is asked for. */
	if (disk && !(d = find_disk(def, disk, err)))
		return -1;
	*params = g_new0(virTypedParameter, 6);
	for (int k = 0; k < 6; k++)
		put_ullong(&(*params)[k], iotune_names[k], d ? *iotune_field(d, k) : 0);
	*n = 6;
	return 0;
}

/* As libvirt does: a total limit replaces the read and write limits of its kind, and a read
 * or write limit replaces the total. */
static void apply_iotune(hvDomainDef *def, virTypedParameterPtr params, int n)
{
	hvDiskDef *d = hv_domain_def_find_disk(def, tune_device);

	for (int i = 0; i < n && d; i++) {
		int k = iotune_index(params[i].field);
		int kind = k / 3 * 3; /* 0: bytes, 3: iops */
		if (k == kind) {
			*iotune_field(d, kind + 1) = 0;
			*iotune_field(d, kind + 2) = 0;
		} else {
			*iotune_field(d, kind) = 0;
		}
		*iotune_field(d, k) = params[i].value.ul;
	}
}

static int live_iotune(hvDriver *drv, hvDomainObj *obj, const hvDomainDef *live, GError **err)
{
	return HV_BE(drv, drv->be->ops->set_iotune(
	                      drv->be, obj->id, hv_domain_def_find_disk(live, tune_device), err));
}

int hv_driver_set_block_io_tune(hvDriver *drv, const unsigned char *uuid, const char *disk,
                                virTypedParameterPtr params, int n, unsigned int flags,
                                GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);
	unsigned int f = flags;
	int rc;

	if (!obj)
		return -1;
	if (hv_obj_resolve_affect(obj, &f, err) < 0 ||
	    ((f & VIR_DOMAIN_AFFECT_LIVE) && !find_disk(obj->live, disk, err)) ||
	    ((f & VIR_DOMAIN_AFFECT_CONFIG) && !find_disk(obj->def, disk, err)))
		return -1;
	tune_device = disk;
	rc = set_tunables(drv, uuid, params, n, flags, "virDomainSetBlockIoTune", iotune_names,
	                  VIR_TYPED_PARAM_ULLONG, apply_iotune, live_iotune, err);
	tune_device = NULL;
	return rc;
}

/* ---- statistics ---- */

/* hv_driver_get_cpu_stats inside its job. */
static int cpu_stats(hvDriver *drv, hvDomainObj *obj, int start_cpu, unsigned int ncpus,
                     virTypedParameterPtr *params, int *ncpus_out, GError **err)
{
	virNodeInfo node;
	hvBackendDomInfo bi;

	if (hv_check_active(obj, err) < 0 || hv_driver_node_info(drv, &node, err) < 0 ||
	    HV_BE(drv, drv->be->ops->info(drv->be, obj->id, &bi, err)) < 0)
		return -1;
	if (start_cpu == -1) {
		if (ncpus != 1)
			return hv_error_set(err, VIR_ERR_INVALID_ARG,
			                    "ncpus must be 1 when start_cpu is -1");
		*params = g_new0(virTypedParameter, 1);
		put_ullong(&(*params)[0], VIR_DOMAIN_CPU_STATS_CPUTIME, bi.cpu_time_ns);
		*ncpus_out = 1;
		return 0;
	}
	if (ncpus == 0) { /* probe for the number of CPUs */
		*ncpus_out = node.cpus;
		return 0;
	}
	if (start_cpu < 0 || start_cpu >= (int)node.cpus)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "start_cpu %d larger than maximum of %d", start_cpu,
		                    node.cpus - 1);
	int n = MIN((int)ncpus, (int)node.cpus - start_cpu);
	*params = g_new0(virTypedParameter, n);
	for (int k = 0; k < n; k++)
		put_ullong(&(*params)[k], VIR_DOMAIN_CPU_STATS_CPUTIME, 0);
	/* Time of each vcpu, charged to the physical CPU it runs on. */
	for (unsigned int v = 0; v < obj->live->vcpus; v++) {
		hvBackendVcpuInfo vi;
		if (HV_BE(drv, drv->be->ops->vcpu_info(drv->be, obj->id, v, &vi, NULL)) == 0 &&
		    vi.pcpu >= start_cpu && vi.pcpu < start_cpu + n)
			(*params)[vi.pcpu - start_cpu].value.ul += vi.cpu_time_ns;
	}
	*ncpus_out = n;
	return 0;
}

int hv_driver_get_cpu_stats(hvDriver *drv, const unsigned char *uuid, int start_cpu,
                            unsigned int ncpus, virTypedParameterPtr *params, int *per_cpu,
                            int *ncpus_out, GError **err)
{
	hvDomainObj *obj;
	int rc;

	*params = NULL;
	*per_cpu = 1;
	if (!(obj = hv_obj_find_job(drv, uuid, err)))
		return -1;
	rc = cpu_stats(drv, obj, start_cpu, ncpus, params, ncpus_out, err);
	hv_job_end(drv, obj);
	return rc;
}

#define STATS_SUPPORTED                                                                            \
	(VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |          \
	 VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

/* One domain's record (NULL if it went away meanwhile). The machine's figures are asked in a
 * job on the domain, so that it does not change meanwhile; an inactive domain's figures come
 * from memory without one, and so do a busy domain's with NOWAIT (as libvirt: no waiting for
 * its job, and no machine figures). */
static hvDomainStatsRecord *stats_record(hvDriver *drv, hvDomainObj *obj, unsigned int stats,
                                         gboolean nowait)
{
	hvDomainStatsRecord *rec;
	const hvDomainDef *def;
	hvBackendDomInfo bi = {0};
	gboolean active, job = hv_obj_active(obj) && !(nowait && obj->in_job);
	GArray *p;
	virTypedParameter t;

	if (job ? hv_job_begin(drv, obj, NULL) < 0 : obj->removed)
		return NULL;
	rec = g_new0(hvDomainStatsRecord, 1);
	def = hv_obj_active(obj) ? obj->live : obj->def;
	active = job && hv_obj_active(obj) &&
	         HV_BE(drv, drv->be->ops->info(drv->be, obj->id, &bi, NULL)) == 0;
	p = g_array_new(FALSE, TRUE, sizeof(virTypedParameter));

#define ADD(kind, name, v)                                                                         \
	do {                                                                                       \
		memset(&t, 0, sizeof(t));                                                          \
		put_##kind(&t, name, v);                                                           \
		g_array_append_val(p, t);                                                          \
	} while (0)
	hv_obj_ref(obj, &rec->dom);
	if (stats & VIR_DOMAIN_STATS_STATE) {
		ADD(int, "state.state", obj->state);
		ADD(int, "state.reason", obj->reason);
	}
	if ((stats & VIR_DOMAIN_STATS_CPU_TOTAL) && active)
		ADD(ullong, "cpu.time", bi.cpu_time_ns);
	if (stats & VIR_DOMAIN_STATS_BALLOON) {
		ADD(ullong, "balloon.current", active ? bi.mem_kib : def->current_memory_kib);
		ADD(ullong, "balloon.maximum", def->memory_kib);
	}
	if (stats & VIR_DOMAIN_STATS_VCPU) {
		ADD(uint, "vcpu.current", def->vcpus);
		ADD(uint, "vcpu.maximum", def->max_vcpus);
		for (unsigned int v = 0; active && v < def->vcpus; v++) {
			hvBackendVcpuInfo vi;
			char name[VIR_TYPED_PARAM_FIELD_LENGTH];
			if (HV_BE(drv, drv->be->ops->vcpu_info(drv->be, obj->id, v, &vi, NULL)) < 0)
				continue;
			g_snprintf(name, sizeof(name), "vcpu.%u.state", v);
			ADD(int, name, vi.state);
			g_snprintf(name, sizeof(name), "vcpu.%u.time", v);
			ADD(ullong, name, vi.cpu_time_ns);
		}
	}
	/* I/O of a running domain's devices: what the host moved for them. */
	if ((stats & VIR_DOMAIN_STATS_INTERFACE) && active) {
		ADD(uint, "net.count", def->interfaces->len);
		for (guint i = 0; i < def->interfaces->len; i++) {
			const hvInterfaceDef *n = def->interfaces->pdata[i];
			hvBackendNicStats ns = {0};
			char name[VIR_TYPED_PARAM_FIELD_LENGTH];
			HV_BE(drv, drv->be->ops->nic_stats(drv->be, obj->id, i, &ns, NULL));
#define NET(field, v)                                                                              \
	do {                                                                                       \
		g_snprintf(name, sizeof(name), "net.%u." field, i);                                \
		ADD(ullong, name, v);                                                              \
	} while (0)
			g_snprintf(name, sizeof(name), "net.%u.name", i);
			ADD(string, name, n->target_dev ? n->target_dev : n->mac);
			NET("rx.bytes", ns.rx_bytes);
			NET("rx.pkts", ns.rx_packets);
			NET("rx.errs", 0);
			NET("rx.drop", ns.rx_drop);
			NET("tx.bytes", ns.tx_bytes);
			NET("tx.pkts", ns.tx_packets);
			NET("tx.errs", 0);
			NET("tx.drop", ns.tx_drop);
#undef NET
		}
	}
	if ((stats & VIR_DOMAIN_STATS_BLOCK) && active) {
		ADD(uint, "block.count", def->disks->len);
		for (guint i = 0; i < def->disks->len; i++) {
			const hvDiskDef *d = def->disks->pdata[i];
			hvBackendDiskStats ds = {0};
			char name[VIR_TYPED_PARAM_FIELD_LENGTH];
			HV_BE(drv, drv->be->ops->disk_stats(drv->be, obj->id, d, &ds, NULL));
			g_snprintf(name, sizeof(name), "block.%u.name", i);
			ADD(string, name, d->target_dev);
			g_snprintf(name, sizeof(name), "block.%u.path", i);
			ADD(string, name, d->source_file);
			g_snprintf(name, sizeof(name), "block.%u.rd.reqs", i);
			ADD(ullong, name, ds.rd_req);
			g_snprintf(name, sizeof(name), "block.%u.rd.bytes", i);
			ADD(ullong, name, ds.rd_bytes);
			g_snprintf(name, sizeof(name), "block.%u.wr.reqs", i);
			ADD(ullong, name, ds.wr_req);
			g_snprintf(name, sizeof(name), "block.%u.wr.bytes", i);
			ADD(ullong, name, ds.wr_bytes);
		}
	}
#undef ADD
	rec->nparams = p->len;
	rec->params = (virTypedParameterPtr)g_array_free(p, FALSE);
	if (job)
		hv_job_end(drv, obj);
	return rec;
}

void hv_domain_stats_record_free(hvDomainStatsRecord *rec)
{
	if (!rec)
		return;
	hv_domain_ref_clear(&rec->dom);
	hv_typed_params_free(rec->params, rec->nparams);
	g_free(rec);
}

GPtrArray *hv_driver_get_all_stats(hvDriver *drv, const unsigned char (*uuids)[16],
                                   unsigned int nuuids, unsigned int stats, unsigned int flags,
                                   GError **err)
{
	const unsigned int filters = 0xff; /* ACTIVE .. OTHER */
	const unsigned int allowed = filters | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT |
	                             VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING |
	                             VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS;
	GPtrArray *out;

	if (hv_check_flags(flags, allowed, "virConnectGetAllDomainStats", err) < 0)
		return NULL;
	if (nuuids && (flags & filters))
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "filtering flags are not allowed with a list of domains"),
		       NULL;
	if ((flags & VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS) && (stats & ~STATS_SUPPORTED))
		return hv_error_set(err, VIR_ERR_ARGUMENT_UNSUPPORTED,
		                    "Stats types bits 0x%x are not supported by this daemon",
		                    stats & ~STATS_SUPPORTED),
		       NULL;
	stats = stats ? stats & STATS_SUPPORTED : STATS_SUPPORTED;
	out = g_ptr_array_new_with_free_func((GDestroyNotify)hv_domain_stats_record_free);
	/* The domains asked for, held by reference: the list may change while a record is
	 * taken (the lock is dropped for the machine's figures). */
	g_autoptr(GPtrArray) objs = g_ptr_array_new_with_free_func((GDestroyNotify)hv_obj_unref);
	if (nuuids) {
		for (unsigned int i = 0; i < nuuids; i++) {
			hvDomainObj *obj = hv_obj_find(drv, uuids[i], err);
			if (!obj) {
				g_ptr_array_unref(out);
				return NULL;
			}
			obj->refs++;
			g_ptr_array_add(objs, obj);
		}
	} else {
		for (guint i = 0; i < drv->doms->len; i++) {
			hvDomainObj *obj = drv->doms->pdata[i];
			if (hv_obj_matches(obj, flags & filters)) {
				obj->refs++;
				g_ptr_array_add(objs, obj);
			}
		}
	}
	for (guint i = 0; i < objs->len; i++) {
		hvDomainStatsRecord *rec = stats_record(
		    drv, objs->pdata[i], stats, flags & VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
		if (rec)
			g_ptr_array_add(out, rec);
	}
	return out;
}
