/*
 * Domain information and sizing: info/state, XML, flags, autostart, memory and vcpu counts,
 * per-vcpu information and memory statistics.
 */
#include "driver/driver_priv.h"

#include <string.h>

int hv_driver_get_info(hvDriver *drv, const unsigned char *uuid, hvDomainInfo *info, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);
	hvBackendDomInfo bi;
	int rc = -1;

	if (!obj)
		return -1;
	if (!hv_obj_active(obj)) {
		/* An inactive domain's figures need no job: they are all here. */
		info->state = obj->state;
		info->reason = obj->reason;
		info->max_mem_kib = obj->def->memory_kib;
		info->mem_kib = obj->def->current_memory_kib;
		info->nr_vcpus = obj->def->vcpus;
		info->cpu_time_ns = 0;
		return 0;
	}
	if (hv_job_begin(drv, obj, err) < 0)
		return -1;
	info->state = obj->state;
	info->reason = obj->reason;
	if (!hv_obj_active(obj)) { /* stopped while we waited */
		info->max_mem_kib = obj->def->memory_kib;
		info->mem_kib = obj->def->current_memory_kib;
		info->nr_vcpus = obj->def->vcpus;
		info->cpu_time_ns = 0;
		rc = 0;
	} else if (HV_BE(drv, drv->be->ops->info(drv->be, obj->id, &bi, err)) == 0) {
		info->max_mem_kib = obj->live->memory_kib;
		info->mem_kib = bi.mem_kib;
		info->nr_vcpus = bi.vcpus;
		info->cpu_time_ns = bi.cpu_time_ns;
		rc = 0;
	}
	hv_job_end(drv, obj);
	return rc;
}

char *hv_driver_get_xml(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err)
{
	hvDomainObj *obj;
	const hvDomainDef *def;

	if (hv_check_flags(flags,
	                   VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE |
	                       VIR_DOMAIN_XML_UPDATE_CPU | VIR_DOMAIN_XML_MIGRATABLE,
	                   "virDomainGetXMLDesc", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)))
		return NULL;
	if (hv_obj_active(obj) && !(flags & VIR_DOMAIN_XML_INACTIVE)) {
		def = obj->live;
	} else {
		def = obj->def;
		flags |= VIR_DOMAIN_XML_INACTIVE;
	}
	return hv_domain_def_format(def, flags);
}

char *hv_driver_get_os_type(hvDriver *drv, const unsigned char *uuid, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);

	return obj ? g_strdup(obj->def->os_type ? obj->def->os_type : "linux") : NULL;
}

int hv_driver_get_bool(hvDriver *drv, const unsigned char *uuid, hvDomainQuery which, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);

	if (!obj)
		return -1;
	switch (which) {
	case HV_DOMAIN_IS_ACTIVE:
		return hv_obj_active(obj);
	case HV_DOMAIN_IS_PERSISTENT:
		return obj->persistent;
	case HV_DOMAIN_IS_AUTOSTART:
		return obj->autostart;
	case HV_DOMAIN_IS_UPDATED:
		break;
	}
	return 0;
}

int hv_driver_set_autostart(hvDriver *drv, const unsigned char *uuid, gboolean on, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);

	if (!obj)
		return -1;
	if (!obj->persistent)
		return hv_error_set(err, VIR_ERR_OPERATION_INVALID,
		                    "cannot set autostart for transient domain");
	if (hv_persist_set_autostart(drv->persist, obj->def->name, on, err) < 0)
		return -1;
	obj->autostart = on;
	return 0;
}

unsigned long long hv_driver_get_max_memory(hvDriver *drv, const unsigned char *uuid, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);

	if (!obj)
		return 0;
	return hv_obj_active(obj) ? obj->live->memory_kib : obj->def->memory_kib;
}

/* Applies a change to a copy of the persistent definition, checks it and saves it; obj->def
 * changes only if all that worked. */
static int change_config(hvDriver *drv, hvDomainObj *obj, hvDomainDef *changed, GError **err)
{
	if (hv_domain_def_check(changed, err) < 0 ||
	    hv_persist_save(drv->persist, changed, err) < 0) {
		hv_domain_def_free(changed);
		return -1;
	}
	hv_domain_def_free(obj->def);
	obj->def = changed;
	return 0;
}

int hv_driver_set_memory(hvDriver *drv, const unsigned char *uuid, unsigned long long kib,
                         unsigned int flags, GError **err)
{
	hvDomainObj *obj;
	int rc = -1;

	if (hv_check_flags(
	        flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_MEM_MAXIMUM,
	        "virDomainSetMemoryFlags", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)) || hv_job_begin(drv, obj, err) < 0)
		return -1;
	if (hv_obj_resolve_affect(obj, &flags, err) < 0)
		goto endjob;
	if (kib == 0) {
		hv_error_set(err, VIR_ERR_INVALID_ARG, "memory size must be greater than zero");
		goto endjob;
	}
	if (flags & VIR_DOMAIN_MEM_MAXIMUM) {
		if (flags & VIR_DOMAIN_AFFECT_LIVE) {
			hv_error_set(err, VIR_ERR_OPERATION_INVALID,
			             "cannot resize the maximum memory on an active domain");
			goto endjob;
		}
		hvDomainDef *changed = hv_domain_def_copy(obj->def);
		changed->memory_kib = kib;
		if (changed->current_memory_kib > kib)
			changed->current_memory_kib = kib;
		if (changed->min_guarantee_kib > changed->current_memory_kib)
			changed->min_guarantee_kib = changed->current_memory_kib;
		rc = change_config(drv, obj, changed, err);
		goto endjob;
	}
	if (flags & VIR_DOMAIN_AFFECT_LIVE) {
		if (kib > obj->live->memory_kib) {
			hv_error_set(err, VIR_ERR_INVALID_ARG,
			             "cannot set memory higher than max memory");
			goto endjob;
		}
		if (HV_BE(drv, drv->be->ops->set_memory(drv->be, obj->id, kib, err)) < 0)
			goto endjob;
		obj->live->current_memory_kib = kib;
		hv_obj_save_run(drv, obj);
		hv_emit(drv, obj, VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, kib);
	}
	if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
		if (kib > obj->def->memory_kib) {
			hv_error_set(err, VIR_ERR_INVALID_ARG,
			             "cannot set memory higher than max memory");
			goto endjob;
		}
		hvDomainDef *changed = hv_domain_def_copy(obj->def);
		changed->current_memory_kib = kib;
		if (change_config(drv, obj, changed, err) < 0)
			goto endjob;
	}
	rc = 0;
endjob:
	hv_job_end(drv, obj);
	return rc;
}

int hv_driver_set_vcpus(hvDriver *drv, const unsigned char *uuid, unsigned int n,
                        unsigned int flags, GError **err)
{
	hvDomainObj *obj;
	int rc = -1;

	if (hv_check_flags(
	        flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_VCPU_MAXIMUM,
	        "virDomainSetVcpusFlags", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)) || hv_job_begin(drv, obj, err) < 0)
		return -1;
	if (hv_obj_resolve_affect(obj, &flags, err) < 0)
		goto endjob;
	if (n < 1 || n > HV_MAX_VCPUS) {
		hv_error_set(err, VIR_ERR_INVALID_ARG,
		             "requested vcpus %u is not between 1 and the hv maximum of %d", n,
		             HV_MAX_VCPUS);
		goto endjob;
	}
	if (flags & VIR_DOMAIN_VCPU_MAXIMUM) {
		if (flags & VIR_DOMAIN_AFFECT_LIVE) {
			hv_error_set(err, VIR_ERR_OPERATION_INVALID,
			             "cannot change the maximum vcpu count of an active domain");
			goto endjob;
		}
		hvDomainDef *changed = hv_domain_def_copy(obj->def);
		changed->max_vcpus = n;
		if (changed->vcpus > n)
			changed->vcpus = n;
		rc = change_config(drv, obj, changed, err);
		goto endjob;
	}
	if (flags & VIR_DOMAIN_AFFECT_LIVE) {
		if (n > obj->live->max_vcpus) {
			hv_error_set(err, VIR_ERR_INVALID_ARG,
			             "requested vcpus is greater than max allowable vcpus for the "
			             "live domain: %u > %u",
			             n, obj->live->max_vcpus);
			goto endjob;
		}
		if (HV_BE(drv, drv->be->ops->set_vcpus(drv->be, obj->id, n, err)) < 0)
			goto endjob;
		obj->live->vcpus = n;
		hv_obj_save_run(drv, obj);
	}
	if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
		if (n > obj->def->max_vcpus) {
			hv_error_set(err, VIR_ERR_INVALID_ARG,
			             "requested vcpus is greater than max allowable vcpus for the "
			             "persistent domain: %u > %u",
			             n, obj->def->max_vcpus);
			goto endjob;
		}
		hvDomainDef *changed = hv_domain_def_copy(obj->def);
		changed->vcpus = n;
		if (change_config(drv, obj, changed, err) < 0)
			goto endjob;
	}
	rc = 0;
endjob:
	hv_job_end(drv, obj);
	return rc;
}

int hv_driver_get_vcpus_count(hvDriver *drv, const unsigned char *uuid, unsigned int flags,
                              GError **err)
{
	hvDomainObj *obj;
	const hvDomainDef *def;

	if (hv_check_flags(
	        flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_VCPU_MAXIMUM,
	        "virDomainGetVcpusFlags", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)))
		return -1;
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG))
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "flags 'live' and 'config' are mutually exclusive");
	if (hv_obj_resolve_affect(obj, &flags, err) < 0)
		return -1;
	def = (flags & VIR_DOMAIN_AFFECT_LIVE) ? obj->live : obj->def;
	return (flags & VIR_DOMAIN_VCPU_MAXIMUM) ? (int)def->max_vcpus : (int)def->vcpus;
}

int hv_driver_get_vcpus(hvDriver *drv, const unsigned char *uuid, int maxinfo, virVcpuInfoPtr *info,
                        int *ninfo, int *npcpus, GError **err)
{
	hvDomainObj *obj = hv_obj_find_job(drv, uuid, err);
	virNodeInfo node;
	int n, rc = -1;

	if (!obj)
		return -1;
	if (!hv_obj_active(obj)) {
		hv_error_set(err, VIR_ERR_OPERATION_INVALID,
		             "cannot list vcpus for an inactive domain");
		goto endjob;
	}
	if (hv_driver_node_info(drv, &node, err) < 0)
		goto endjob;
	n = MIN(maxinfo, (int)obj->live->vcpus);
	*info = g_new0(virVcpuInfo, n + 1);
	for (int v = 0; v < n; v++) {
		hvBackendVcpuInfo vi;
		if (HV_BE(drv, drv->be->ops->vcpu_info(drv->be, obj->id, v, &vi, err)) < 0) {
			g_clear_pointer(info, g_free);
			goto endjob;
		}
		(*info)[v].number = v;
		(*info)[v].state = vi.state;
		(*info)[v].cpuTime = vi.cpu_time_ns;
		(*info)[v].cpu = vi.pcpu;
	}
	*ninfo = n;
	*npcpus = node.cpus;
	rc = 0;
endjob:
	hv_job_end(drv, obj);
	return rc;
}

int hv_driver_memory_stats(hvDriver *drv, const unsigned char *uuid, virDomainMemoryStatPtr stats,
                           unsigned int max, GError **err)
{
	hvDomainObj *obj = hv_obj_find_job(drv, uuid, err);
	hvBackendDomInfo bi;
	int n = 0, rc;

	if (!obj)
		return -1;
	if (!hv_obj_active(obj))
		rc = hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is not running");
	else
		rc = HV_BE(drv, drv->be->ops->info(drv->be, obj->id, &bi, err));
	hv_job_end(drv, obj);
	if (rc < 0)
		return -1;
	/* What hv knows without help from the guest: the memory it gave the domain. */
	if (n < (int)max)
		stats[n++] =
		    (virDomainMemoryStatStruct){VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, bi.mem_kib};
	if (n < (int)max)
		stats[n++] = (virDomainMemoryStatStruct){VIR_DOMAIN_MEMORY_STAT_RSS, bi.mem_kib};
	return n;
}

int hv_driver_block_stats(hvDriver *drv, const unsigned char *uuid, const char *path,
                          hvBackendDiskStats *st, GError **err)
{
	hvDomainObj *obj;
	hvDiskDef *disk;
	int rc;

	memset(st, 0, sizeof(*st));
	if (!(obj = hv_obj_find_job(drv, uuid, err)))
		return -1;
	if (!hv_obj_active(obj))
		rc = hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is not running");
	else if (!(disk = hv_domain_def_find_disk(obj->live, path)))
		rc = hv_error_set(err, VIR_ERR_INVALID_ARG, "invalid path: %s", path ? path : "");
	else
		rc = HV_BE(drv, drv->be->ops->disk_stats(drv->be, obj->id, disk, st, err));
	hv_job_end(drv, obj);
	return rc;
}

int hv_driver_interface_stats(hvDriver *drv, const unsigned char *uuid, const char *device,
                              hvBackendNicStats *st, GError **err)
{
	hvDomainObj *obj;
	hvInterfaceDef *iface;
	guint index;
	int rc;

	memset(st, 0, sizeof(*st));
	if (!(obj = hv_obj_find_job(drv, uuid, err)))
		return -1;
	if (!hv_obj_active(obj))
		rc = hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is not running");
	else if (!(iface = hv_domain_def_find_interface(obj->live, device)) ||
	         !g_ptr_array_find(obj->live->interfaces, iface, &index))
		rc = hv_error_set(err, VIR_ERR_INVALID_ARG, "'%s' is not a known interface",
		                  device ? device : "");
	else
		rc = HV_BE(drv, drv->be->ops->nic_stats(drv->be, obj->id, index, st, err));
	hv_job_end(drv, obj);
	return rc;
}

/* ---- title and description ---- */

static char **metadata_field(hvDomainDef *def, int type, GError **err)
{
	if (type == VIR_DOMAIN_METADATA_TITLE)
		return &def->title;
	if (type == VIR_DOMAIN_METADATA_DESCRIPTION)
		return &def->description;
	if (type == VIR_DOMAIN_METADATA_ELEMENT)
		hv_error_set(err, VIR_ERR_ARGUMENT_UNSUPPORTED,
		             "hv keeps only the title and the description as metadata");
	else
		hv_error_set(err, VIR_ERR_INVALID_ARG, "unknown metadata type '%d'", type);
	return NULL;
}

char *hv_driver_get_metadata(hvDriver *drv, const unsigned char *uuid, int type, const char *uri,
                             unsigned int flags, GError **err)
{
	hvDomainObj *obj;
	char **field;

	if (hv_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
	                   "virDomainGetMetadata", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)) || hv_obj_resolve_affect(obj, &flags, err) < 0)
		return NULL;
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG)) {
		hv_error_set(err, VIR_ERR_INVALID_ARG,
		             "flags 'live' and 'config' are mutually exclusive");
		return NULL;
	}
	field = metadata_field((flags & VIR_DOMAIN_AFFECT_LIVE) ? obj->live : obj->def, type, err);
	if (!field)
		return NULL;
	if (!*field) {
		/* virsh prints nothing for this code (e.g. `virsh list --title`) */
		g_set_error_literal(
		    err, HV_ERROR, VIR_ERR_NO_DOMAIN_METADATA,
		    "metadata not found: Requested metadata element is not present");
		return NULL;
	}
	return g_strdup(*field);
}

int hv_driver_set_metadata(hvDriver *drv, const unsigned char *uuid, int type, const char *text,
                           const char *key, const char *uri, unsigned int flags, GError **err)
{
	hvDomainObj *obj;
	g_autoptr(hvDomainDef) live = NULL;
	g_autoptr(hvDomainDef) config = NULL;
	char **field;
	int rc = -1;

	if (hv_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
	                   "virDomainSetMetadata", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)) || hv_job_begin(drv, obj, err) < 0)
		return -1;
	if (hv_obj_resolve_affect(obj, &flags, err) < 0)
		goto endjob;
	if (text && !*text)
		text = NULL;
	if (flags & VIR_DOMAIN_AFFECT_LIVE) {
		live = hv_domain_def_copy(obj->live);
		if (!(field = metadata_field(live, type, err)))
			goto endjob;
		g_free(*field);
		*field = g_strdup(text);
		if (hv_domain_def_check(live, err) < 0)
			goto endjob;
	}
	if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
		config = hv_domain_def_copy(obj->def);
		if (!(field = metadata_field(config, type, err)))
			goto endjob;
		g_free(*field);
		*field = g_strdup(text);
		if (hv_domain_def_check(config, err) < 0 ||
		    hv_persist_save(drv->persist, config, err) < 0)
			goto endjob;
	}
	if (live) {
		hv_domain_def_free(obj->live);
		obj->live = g_steal_pointer(&live);
		hv_obj_save_run(drv, obj);
	}
	if (config) {
		hv_domain_def_free(obj->def);
		obj->def = g_steal_pointer(&config);
	}
	hv_emit_metadata_change(drv, obj, type);
	rc = 0;
endjob:
	hv_job_end(drv, obj);
	return rc;
}
