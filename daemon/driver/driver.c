/*
 * The hv driver's core: construction, domain objects, jobs, events, node information,
 * listing and lookup. Lifecycle is in driver_lifecycle.c, tuning and statistics in
 * driver_tune.c, consoles in driver_console.c.
 */
#include "driver/driver_priv.h"
#include "state/state.h"

#include <stdio.h>
#include <string.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

/* ---- objects ---- */

void hv_obj_unref(hvDomainObj *obj)
{
	if (--obj->refs > 0)
		return;
	hv_domain_def_free(obj->def);
	hv_domain_def_free(obj->live);
	g_free(obj);
}

static guint uuid_hash(gconstpointer key)
{
	const unsigned char *u = key;
	guint h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ u[i]) * 16777619u;
	return h;
}

static gboolean uuid_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, 16) == 0;
}

hvDomainObj *hv_obj_add(hvDriver *drv, hvDomainDef *def, gboolean persistent)
{
	hvDomainObj *obj = g_new0(hvDomainObj, 1);

	obj->def = def;
	obj->refs = 1; /* drv->doms's */
	obj->persistent = persistent;
	obj->id = -1;
	obj->state = VIR_DOMAIN_SHUTOFF;
	obj->reason = VIR_DOMAIN_SHUTOFF_UNKNOWN;
	g_ptr_array_add(drv->doms, obj);
	g_hash_table_insert(drv->by_uuid, g_memdup2(def->uuid, 16), obj);
	g_hash_table_insert(drv->by_name, g_strdup(def->name), obj);
	return obj;
}

void hv_obj_remove(hvDriver *drv, hvDomainObj *obj)
{
	hv_obj_set_id(drv, obj, -1);
	g_hash_table_remove(drv->by_uuid, obj->def->uuid);
	g_hash_table_remove(drv->by_name, obj->def->name);
	obj->removed = TRUE;
	g_ptr_array_remove(drv->doms, obj); /* drops the list's reference */
}

void hv_obj_set_id(hvDriver *drv, hvDomainObj *obj, int id)
{
	if (obj->id > 0)
		g_hash_table_remove(drv->by_id, GINT_TO_POINTER(obj->id));
	obj->id = id;
	if (id > 0)
		g_hash_table_insert(drv->by_id, GINT_TO_POINTER(id), obj);
}

hvDomainObj *hv_obj_find(hvDriver *drv, const unsigned char *uuid, GError **err)
{
	hvDomainObj *obj = g_hash_table_lookup(drv->by_uuid, uuid);
	char text[HV_UUID_STRING_LEN];

	if (obj)
		return obj;
	hv_uuid_format(uuid, text);
	hv_error_set(err, VIR_ERR_NO_DOMAIN, "no domain with matching uuid '%s'", text);
	return NULL;
}

hvDomainObj *hv_obj_find_name(hvDriver *drv, const char *name)
{
	return g_hash_table_lookup(drv->by_name, name);
}

hvDomainObj *hv_obj_find_id(hvDriver *drv, int id)
{
	return g_hash_table_lookup(drv->by_id, GINT_TO_POINTER(id));
}

int hv_obj_save(hvDriver *drv, hvDomainObj *obj, GError **err)
{
	if (!obj->persistent)
		return 0;
	return hv_persist_save(drv->persist, obj->def, err);
}

void hv_obj_save_run(hvDriver *drv, hvDomainObj *obj)
{
	if (hv_obj_active(obj))
		hv_persist_save_run(drv->persist, obj->live, obj->id, obj->state, obj->reason);
}

int hv_obj_resolve_affect(hvDomainObj *obj, unsigned int *flags, GError **err)
{
	unsigned int f = *flags;

	if (!(f & (VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG)))
		f |= hv_obj_active(obj) ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	if ((f & VIR_DOMAIN_AFFECT_LIVE) && !hv_obj_active(obj))
		return hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is not running");
	if ((f & VIR_DOMAIN_AFFECT_CONFIG) && !obj->persistent)
		return hv_error_set(err, VIR_ERR_OPERATION_INVALID,
		                    "transient domains do not have any persistent config");
	*flags = f;
	return 0;
}

int hv_job_begin(hvDriver *drv, hvDomainObj *obj, GError **err)
{
	gint64 deadline = g_get_monotonic_time() + HV_JOB_WAIT_S * G_USEC_PER_SEC;

	obj->refs++;
	while (obj->in_job && !obj->removed) {
		if (!g_cond_wait_until(&drv->job_cond, &drv->lock, deadline) && obj->in_job) {
			hv_error_set(err, VIR_ERR_OPERATION_TIMEOUT,
			             "cannot acquire state change lock for domain '%s': another "
			             "operation on it has run for over %d s",
			             obj->def->name, HV_JOB_WAIT_S);
			hv_obj_unref(obj);
			return -1;
		}
	}
	if (obj->removed) {
		char text[HV_UUID_STRING_LEN];
		hv_uuid_format(obj->def->uuid, text);
		hv_error_set(err, VIR_ERR_NO_DOMAIN, "no domain with matching uuid '%s' (%s)", text,
		             obj->def->name);
		hv_obj_unref(obj);
		return -1;
	}
	obj->in_job = TRUE;
	return 0;
}

void hv_job_end(hvDriver *drv, hvDomainObj *obj)
{
	obj->in_job = FALSE;
	g_cond_broadcast(&drv->job_cond);
	hv_obj_unref(obj);
}

hvDomainObj *hv_obj_find_job(hvDriver *drv, const unsigned char *uuid, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);

	if (!obj || hv_job_begin(drv, obj, err) < 0)
		return NULL;
	return obj;
}

void hv_be_enter(hvDriver *drv)
{
	g_mutex_unlock(&drv->lock);
	g_rec_mutex_lock(&drv->be->lock);
}

void hv_be_leave(hvDriver *drv)
{
	g_rec_mutex_unlock(&drv->be->lock);
	g_mutex_lock(&drv->lock);
}

void hv_driver_lock(hvDriver *drv)
{
	g_mutex_lock(&drv->lock);
}

void hv_driver_unlock(hvDriver *drv)
{
	g_mutex_unlock(&drv->lock);
}

int hv_check_active(hvDomainObj *obj, GError **err)
{
	if (!hv_obj_active(obj))
		return hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is not running");
	return 0;
}

int hv_check_flags(unsigned int flags, unsigned int allowed, const char *fn, GError **err)
{
	if (flags & ~allowed)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "unsupported flags (0x%x) in function %s", flags & ~allowed,
		                    fn);
	return 0;
}

/* ---- events ---- */

void hv_obj_ref(const hvDomainObj *obj, hvDomainRef *ref)
{
	ref->name = g_strdup(obj->def->name);
	memcpy(ref->uuid, obj->def->uuid, 16);
	ref->id = obj->id;
}

void hv_emit_lifecycle(hvDriver *drv, hvDomainObj *obj, int event, int detail)
{
	hvDomainRef ref;

	if (!drv->event_fn)
		return;
	hv_obj_ref(obj, &ref);
	drv->event_fn(&ref, VIR_DOMAIN_EVENT_ID_LIFECYCLE, event, detail, 0, drv->event_opaque);
	hv_domain_ref_clear(&ref);
}

void hv_emit(hvDriver *drv, hvDomainObj *obj, int event_id, unsigned long long value)
{
	hvDomainRef ref;

	if (!drv->event_fn)
		return;
	hv_obj_ref(obj, &ref);
	drv->event_fn(&ref, event_id, 0, 0, value, drv->event_opaque);
	hv_domain_ref_clear(&ref);
}

void hv_emit_metadata_change(hvDriver *drv, hvDomainObj *obj, int type)
{
	hvDomainRef ref;

	if (!drv->event_fn)
		return;
	hv_obj_ref(obj, &ref);
	drv->event_fn(&ref, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, type, 0, 0, drv->event_opaque);
	hv_domain_ref_clear(&ref);
}

void hv_driver_set_event_sink(hvDriver *drv, hvDriverEventFn fn, void *opaque)
{
	g_mutex_lock(&drv->lock);
	drv->event_fn = fn;
	drv->event_opaque = opaque;
	g_mutex_unlock(&drv->lock);
}

void hv_domain_ref_clear(hvDomainRef *ref)
{
	g_clear_pointer(&ref->name, g_free);
}

void hv_domain_ref_free(hvDomainRef *ref)
{
	if (!ref)
		return;
	hv_domain_ref_clear(ref);
	g_free(ref);
}

/* ---- construction ---- */

static void host_uuid(unsigned char uuid[16])
{
	g_autofree char *id = NULL;

	/* Stable across restarts: derived from the machine id when there is one. */
	if (g_file_get_contents("/etc/machine-id", &id, NULL, NULL) && strlen(id) >= 32) {
		for (int i = 0; i < 16; i++)
			sscanf(id + 2 * i, "%2hhx", &uuid[i]);
		uuid[6] = (uuid[6] & 0x0f) | 0x40;
		uuid[8] = (uuid[8] & 0x3f) | 0x80;
	} else {
		hv_uuid_generate(uuid);
	}
}

/* The run state an earlier daemon left for the domain of this UUID, or NULL. */
static hvRunState *run_for(GPtrArray *runs, const unsigned char *uuid)
{
	for (guint i = 0; i < runs->len; i++) {
		hvRunState *rs = runs->pdata[i];
		if (rs->live && !memcmp(rs->live->uuid, uuid, 16))
			return rs;
	}
	return NULL;
}

/*
 * Domains an earlier daemon left running. A machine that outlives the daemon (backend find)
 * still runs them: each is found again by UUID among hv's domains, whether or not its run
 * state was written before that daemon died (it may have died in the middle of a start), and
 * keeps running with the live definition its run state recorded. Run states whose domain is
 * no longer on the machine are dropped; the domain is shut off.
 */
static void reattach_runs(hvDriver *drv)
{
	g_autoptr(GPtrArray) runs = hv_persist_load_run_states(drv->persist);

	g_ptr_array_set_free_func(runs, (GDestroyNotify)hv_run_state_free);
	/* A transient domain has a run state and no definition: bring its object back. */
	for (guint i = 0; i < runs->len; i++) {
		hvRunState *rs = runs->pdata[i];
		if (rs->live && !hv_obj_find(drv, rs->live->uuid, NULL) &&
		    !hv_obj_find_name(drv, rs->live->name) && drv->be->ops->find)
			hv_obj_add(drv, hv_domain_def_copy(rs->live), FALSE);
	}
	for (guint i = 0; i < drv->doms->len; i++) {
		hvDomainObj *obj = drv->doms->pdata[i];
		hvRunState *rs = run_for(runs, obj->def->uuid);
		int domid = 0;
		gboolean paused = FALSE;

		if (!drv->be->ops->find ||
		    drv->be->ops->find(drv->be, obj->def, &domid, &paused) <= 0) {
			if (rs) {
				g_warning(
				    "domain '%s' was running under an earlier virthvd and is no "
				    "longer on the machine: it is shut off",
				    obj->def->name);
				hv_persist_delete_run(drv->persist, obj->def->name);
			}
			if (!obj->persistent) {
				hv_obj_remove(drv, obj);
				i--;
			}
			continue;
		}
		obj->live = rs ? hv_domain_def_copy(rs->live) : hv_domain_def_copy(obj->def);
		obj->live->id = domid;
		hv_obj_set_id(drv, obj, domid);
		if (paused) {
			obj->state = VIR_DOMAIN_PAUSED;
			obj->reason = rs && rs->state == VIR_DOMAIN_PAUSED
			                  ? rs->reason
			                  : VIR_DOMAIN_PAUSED_UNKNOWN;
		} else {
			obj->state = VIR_DOMAIN_RUNNING;
			obj->reason = rs && rs->state == VIR_DOMAIN_RUNNING
			                  ? rs->reason
			                  : VIR_DOMAIN_RUNNING_UNKNOWN;
		}
		hv_obj_save_run(drv, obj);
		g_message("domain '%s' found running again with id %d", obj->def->name, domid);
	}
}

static hvBackend *backend_new(const hvDriverConfig *cfg, GError **err)
{
	if (!g_strcmp0(cfg->backend, "sim"))
		return hv_backend_sim_new(cfg->sim_cpus, cfg->sim_memory_kib, err);
	if (!g_strcmp0(cfg->backend, "hvctl"))
		return hv_backend_hvctl_new(&cfg->hvctl, err);
	hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED, "unknown backend '%s' (hvctl or sim)",
	             cfg->backend);
	return NULL;
}

hvDriver *hv_driver_new(const hvDriverConfig *cfg, GError **err)
{
	hvDriver *drv = g_new0(hvDriver, 1);
	g_autoptr(GPtrArray) defs = NULL;

	g_mutex_init(&drv->lock);
	g_cond_init(&drv->job_cond);
	drv->doms = g_ptr_array_new_with_free_func((GDestroyNotify)hv_obj_unref);
	drv->by_uuid = g_hash_table_new_full(uuid_hash, uuid_equal, g_free, NULL);
	drv->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	drv->by_id = g_hash_table_new(NULL, NULL);
	host_uuid(drv->host_uuid);
	if (!(drv->be = backend_new(cfg, err)))
		goto error;
	g_rec_mutex_init(&drv->be->lock);
	if (cfg->sim_delay_ms && !g_strcmp0(cfg->backend, "sim"))
		hv_backend_sim_set_delay(drv->be, cfg->sim_delay_ms);
	drv->event_pool =
	    g_thread_pool_new_full(hv_driver_event_thread, drv, g_free, 1, FALSE, NULL);
	drv->be->event_fn = hv_driver_backend_event;
	drv->be->event_opaque = drv;
	if (!(drv->persist = hv_persist_open(cfg->state_dir, err)))
		goto error;
	if (!(defs = hv_persist_load_all(drv->persist, err)))
		goto error;
	g_mutex_lock(&drv->lock);
	while (defs->len) {
		hvDomainDef *def = g_ptr_array_steal_index(defs, 0);
		hvDomainObj *obj;
		if (hv_obj_find_name(drv, def->name) || hv_obj_find(drv, def->uuid, NULL)) {
			g_warning("ignoring a second stored definition of '%s'", def->name);
			hv_domain_def_free(def);
			continue;
		}
		obj = hv_obj_add(drv, def, TRUE);
		obj->autostart = hv_persist_get_autostart(drv->persist, def->name);
	}
	reattach_runs(drv);
	for (guint i = 0; i < drv->doms->len; i++) {
		hvDomainObj *obj = drv->doms->pdata[i];
		g_autoptr(GError) e = NULL;
		if (!obj->autostart || hv_obj_active(obj) || hv_job_begin(drv, obj, &e) < 0)
			continue;
		if (hv_domain_start(drv, obj, FALSE, &e) < 0)
			g_warning("autostart of '%s' failed: %s", obj->def->name, e->message);
		hv_job_end(drv, obj);
	}
	g_mutex_unlock(&drv->lock);
	g_message("driver: %u stored domain definitions", drv->doms->len);
	return drv;

error:
	hv_driver_free(drv);
	return NULL;
}

void hv_driver_free(hvDriver *drv)
{
	if (!drv)
		return;
	g_mutex_lock(&drv->lock);
	drv->event_fn = NULL;
	g_mutex_unlock(&drv->lock);
	/* What the machine reported and nobody handled yet is dropped; a running handler ends. */
	if (drv->event_pool)
		g_thread_pool_free(drv->event_pool, TRUE, TRUE);
	if (drv->by_uuid) {
		g_hash_table_unref(drv->by_uuid);
		g_hash_table_unref(drv->by_name);
		g_hash_table_unref(drv->by_id);
	}
	if (drv->doms)
		g_ptr_array_unref(drv->doms);
	if (drv->be) {
		g_rec_mutex_clear(&drv->be->lock);
		drv->be->ops->free(drv->be);
	}
	hv_persist_free(drv->persist);
	g_cond_clear(&drv->job_cond);
	g_mutex_clear(&drv->lock);
	g_free(drv);
}

/* ---- node ---- */

const char *hv_driver_type(void)
{
	return "hv";
}

unsigned long long hv_driver_version(void)
{
	unsigned int major = 0, minor = 0, micro = 0;

	sscanf(PACKAGE_VERSION, "%u.%u.%u", &major, &minor, &micro);
	return major * 1000000ULL + minor * 1000ULL + micro;
}

int hv_driver_node_info(hvDriver *drv, virNodeInfo *info, GError **err)
{
	return HV_BE(drv, drv->be->ops->node_info(drv->be, info, err));
}

char *hv_driver_capabilities(hvDriver *drv, GError **err)
{
	virNodeInfo info;
	hvHostInfo host = {0};

	if (hv_driver_node_info(drv, &info, err) < 0)
		return NULL;
	memcpy(host.uuid, drv->host_uuid, 16);
	host.cpus = info.cpus;
	host.mhz = info.mhz;
	host.memory_kib = info.memory;
	return hv_capabilities_format(&host);
}

unsigned long long hv_driver_node_free_memory_kib(hvDriver *drv)
{
	return HV_BE(drv, drv->be->ops->free_memory_kib(drv->be));
}

int hv_driver_max_vcpus(hvDriver *drv)
{
	return HV_MAX_VCPUS;
}

int hv_driver_node_memory_stats(hvDriver *drv, virNodeMemoryStatsPtr stats, int *nstats,
                                GError **err)
{
	virNodeInfo info;

	if (*nstats < 2 || hv_driver_node_info(drv, &info, err) < 0)
		return -1;
	g_strlcpy(stats[0].field, VIR_NODE_MEMORY_STATS_TOTAL, VIR_NODE_MEMORY_STATS_FIELD_LENGTH);
	stats[0].value = info.memory;
	g_strlcpy(stats[1].field, VIR_NODE_MEMORY_STATS_FREE, VIR_NODE_MEMORY_STATS_FIELD_LENGTH);
	stats[1].value = hv_driver_node_free_memory_kib(drv);
	*nstats = 2;
	return 0;
}

/* ---- lookup and listing ---- */

static int ref_out(hvDomainObj *obj, hvDomainRef *out)
{
	hv_obj_ref(obj, out);
	return 0;
}

int hv_driver_lookup_by_name(hvDriver *drv, const char *name, hvDomainRef *out, GError **err)
{
	hvDomainObj *obj = hv_obj_find_name(drv, name);

	if (!obj)
		return hv_error_set(err, VIR_ERR_NO_DOMAIN, "no domain with matching name '%s'",
		                    name);
	return ref_out(obj, out);
}

int hv_driver_lookup_by_uuid(hvDriver *drv, const unsigned char *uuid, hvDomainRef *out,
                             GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);

	return obj ? ref_out(obj, out) : -1;
}

int hv_driver_lookup_by_id(hvDriver *drv, int id, hvDomainRef *out, GError **err)
{
	hvDomainObj *obj = hv_obj_find_id(drv, id);

	if (!obj)
		return hv_error_set(err, VIR_ERR_NO_DOMAIN, "no domain with matching id %d", id);
	return ref_out(obj, out);
}

/* One filter group of VIR_CONNECT_LIST_DOMAINS_*: it filters only if one of its bits is set. */
static gboolean group_ok(unsigned int flags, unsigned int yes, unsigned int no, gboolean value)
{
	if (!(flags & (yes | no)) || (flags & yes && flags & no))
		return TRUE;
	return (flags & yes) ? value : !value;
}

#define LIST_FLAGS_ALL 0xffffu

gboolean hv_obj_matches(hvDomainObj *obj, unsigned int flags)
{
	unsigned int state_bits =
	    flags & (VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
	             VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER);

	if (!group_ok(flags, VIR_CONNECT_LIST_DOMAINS_ACTIVE, VIR_CONNECT_LIST_DOMAINS_INACTIVE,
	              hv_obj_active(obj)) ||
	    !group_ok(flags, VIR_CONNECT_LIST_DOMAINS_PERSISTENT,
	              VIR_CONNECT_LIST_DOMAINS_TRANSIENT, obj->persistent) ||
	    !group_ok(flags, VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE,
	              VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE, FALSE) ||
	    !group_ok(flags, VIR_CONNECT_LIST_DOMAINS_AUTOSTART,
	              VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART, obj->autostart) ||
	    !group_ok(flags, VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT,
	              VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT, FALSE) ||
	    !group_ok(flags, VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT,
	              VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT, FALSE))
		return FALSE;
	if (state_bits) {
		gboolean ok = FALSE;
		if (state_bits & VIR_CONNECT_LIST_DOMAINS_RUNNING)
			ok |= obj->state == VIR_DOMAIN_RUNNING;
		if (state_bits & VIR_CONNECT_LIST_DOMAINS_PAUSED)
			ok |= obj->state == VIR_DOMAIN_PAUSED;
		if (state_bits & VIR_CONNECT_LIST_DOMAINS_SHUTOFF)
			ok |= obj->state == VIR_DOMAIN_SHUTOFF;
		if (state_bits & VIR_CONNECT_LIST_DOMAINS_OTHER)
			ok |= obj->state != VIR_DOMAIN_RUNNING && obj->state != VIR_DOMAIN_PAUSED &&
			      obj->state != VIR_DOMAIN_SHUTOFF;
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

GPtrArray *hv_driver_list_all(hvDriver *drv, unsigned int flags, GError **err)
{
	GPtrArray *out;

	if (hv_check_flags(flags, LIST_FLAGS_ALL, "virConnectListAllDomains", err) < 0)
		return NULL;
	out = g_ptr_array_new_with_free_func((GDestroyNotify)hv_domain_ref_free);
	for (guint i = 0; i < drv->doms->len; i++) {
		hvDomainObj *obj = drv->doms->pdata[i];
		if (hv_obj_matches(obj, flags)) {
			hvDomainRef *ref = g_new0(hvDomainRef, 1);
			hv_obj_ref(obj, ref);
			g_ptr_array_add(out, ref);
		}
	}
	return out;
}

int hv_driver_count(hvDriver *drv, gboolean active)
{
	int n = 0;

	for (guint i = 0; i < drv->doms->len; i++)
		n += hv_obj_active(drv->doms->pdata[i]) == active;
	return n;
}
