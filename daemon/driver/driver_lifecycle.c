/*
 * Domain lifecycle: define, undefine, start, stop, shutdown, reboot, suspend, resume, and the
 * reaction to what the machine reports (guest power-off, crash, reboot request) according to
 * the domain's on_poweroff / on_crash / on_reboot actions. States, reasons and events follow
 * libvirt-rpc.md 3.5.
 */
#include "driver/driver_priv.h"

#include <string.h>

/* Records a state change, in memory and, for a running domain, in its run state. */
static void set_state(hvDriver *drv, hvDomainObj *obj, int state, int reason)
{
	obj->state = state;
	obj->reason = reason;
	if (hv_obj_active(obj))
		hv_persist_save_run(drv->persist, obj->live, obj->id, state, reason);
	else
		hv_persist_delete_run(drv->persist, obj->def->name);
}

/* The bandwidth and iotune limits of live's devices, on its new domain domid. */
static int apply_io_limits(hvDriver *drv, int domid, const hvDomainDef *live, GError **err)
{
	for (guint i = 0; i < live->interfaces->len; i++)
		if (HV_BE(drv, drv->be->ops->set_bandwidth(drv->be, domid,
		                                           live->interfaces->pdata[i], err)) < 0)
			return -1;
	for (guint i = 0; i < live->disks->len; i++)
		if (HV_BE(drv,
		          drv->be->ops->set_iotune(drv->be, domid, live->disks->pdata[i], err)) < 0)
			return -1;
	return 0;
}

int hv_domain_start(hvDriver *drv, hvDomainObj *obj, gboolean paused, GError **err)
{
	hvDomainDef *live = hv_domain_def_copy(obj->def);
	int domid;

	/* live is this job's own until it is stored below: the build runs unlocked. */
	if (HV_BE(drv, drv->be->ops->create(drv->be, live, paused, &domid, err)) < 0) {
		hv_domain_def_free(live);
		return -1;
	}
	if (apply_io_limits(drv, domid, live, err) < 0) {
		HV_BE(drv, drv->be->ops->destroy(drv->be, domid, NULL));
		hv_domain_def_free(live);
		return -1;
	}
	live->id = domid;
	obj->live = live;
	hv_obj_set_id(drv, obj, domid);
	set_state(drv, obj, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED);
	hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
	if (paused) {
		set_state(drv, obj, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
		hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_SUSPENDED,
		                  VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
	}
	g_message("domain '%s' started with id %d", obj->def->name, domid);
	return 0;
}

gboolean hv_domain_stopped(hvDriver *drv, hvDomainObj *obj, int reason, int detail)
{
	g_autoptr(GError) e = NULL;

	if (HV_BE(drv, drv->be->ops->destroy(drv->be, obj->id, &e)) < 0)
		g_debug("domain '%s' was already gone from the machine: %s", obj->def->name,
		        e->message);
	hv_console_domain_gone(obj);
	g_clear_pointer(&obj->live, hv_domain_def_free);
	hv_obj_set_id(drv, obj, -1);
	set_state(drv, obj, VIR_DOMAIN_SHUTOFF, reason);
	hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_STOPPED, detail);
	g_message("domain '%s' stopped", obj->def->name);
	if (!obj->persistent) {
		hv_obj_remove(drv, obj);
		return FALSE;
	}
	return TRUE;
}

/* ---- define / undefine ---- */

/* Finds the object a new definition replaces; refuses a name or UUID used by another. */
static int find_for_def(hvDriver *drv, const hvDomainDef *def, hvDomainObj **out, GError **err)
{
	hvDomainObj *by_name = hv_obj_find_name(drv, def->name);
	hvDomainObj *by_uuid = hv_obj_find(drv, def->uuid, NULL);
	char text[HV_UUID_STRING_LEN];

	if (by_name && by_name != by_uuid) {
		hv_uuid_format(by_name->def->uuid, text);
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "domain '%s' already exists with uuid %s", def->name, text);
	}
	if (by_uuid && by_uuid != by_name) {
		hv_uuid_format(def->uuid, text);
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "domain '%s' is already defined with uuid %s",
		                    by_uuid->def->name, text);
	}
	*out = by_uuid;
	return 0;
}

int hv_driver_define_xml(hvDriver *drv, const char *xml, unsigned int flags, hvDomainRef *out,
                         GError **err)
{
	g_autoptr(hvDomainDef) def = NULL;
	hvDomainObj *obj;
	gboolean was_persistent;

	if (hv_check_flags(flags, VIR_DOMAIN_DEFINE_VALIDATE, "virDomainDefineXMLFlags", err) < 0)
		return -1;
	if (!(def = hv_domain_def_parse(xml, 0, err)))
		return -1;
	if (find_for_def(drv, def, &obj, err) < 0)
		return -1;
	if (obj && hv_job_begin(drv, obj, err) < 0)
		return -1;
	/* Another thread may have defined this name or UUID while we waited for the job. */
	if (obj) {
		hvDomainObj *held = obj;
		if (find_for_def(drv, def, &obj, err) < 0 || obj != held) {
			if (obj != held)
				hv_error_set(err, VIR_ERR_OPERATION_FAILED,
				             "domain '%s' changed while this definition waited",
				             def->name);
			hv_job_end(drv, held);
			return -1;
		}
	}
	if (hv_persist_save(drv->persist, def, err) < 0) {
		if (obj)
			hv_job_end(drv, obj);
		return -1;
	}
	if (obj) {
		/* A running domain keeps its live definition; the new one applies at next boot. */
		was_persistent = obj->persistent;
		hv_domain_def_free(obj->def);
		obj->def = g_steal_pointer(&def);
		obj->persistent = TRUE;
		hv_job_end(drv, obj);
	} else {
		was_persistent = FALSE;
		obj = hv_obj_add(drv, g_steal_pointer(&def), TRUE);
	}
	hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_DEFINED,
	                  was_persistent ? VIR_DOMAIN_EVENT_DEFINED_UPDATED
	                                 : VIR_DOMAIN_EVENT_DEFINED_ADDED);
	hv_obj_ref(obj, out);
	return 0;
}

int hv_driver_undefine(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err)
{
	/* hv keeps no managed save, snapshot, NVRAM, checkpoint or TPM state: nothing to remove. */
	const unsigned int allowed = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
	                             VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
	                             VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_KEEP_NVRAM |
	                             VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
	                             VIR_DOMAIN_UNDEFINE_TPM | VIR_DOMAIN_UNDEFINE_KEEP_TPM;
	hvDomainObj *obj;

	if (hv_check_flags(flags, allowed, "virDomainUndefineFlags", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)) || hv_job_begin(drv, obj, err) < 0)
		return -1;
	if (!obj->persistent) {
		hv_job_end(drv, obj);
		return hv_error_set(err, VIR_ERR_OPERATION_INVALID,
		                    "cannot undefine transient domain");
	}
	if (hv_persist_delete(drv->persist, obj->def->name, err) < 0) {
		hv_job_end(drv, obj);
		return -1;
	}
	obj->persistent = FALSE;
	obj->autostart = FALSE;
	hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
	hv_job_end(drv, obj);
	if (!hv_obj_active(obj))
		hv_obj_remove(drv, obj); /* a running one stays, as a transient domain */
	return 0;
}

/* ---- start ---- */

int hv_driver_create(hvDriver *drv, const unsigned char *uuid, unsigned int flags, hvDomainRef *out,
                     GError **err)
{
	hvDomainObj *obj;
	int rc = -1;

	if (hv_check_flags(flags,
	                   VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_BYPASS_CACHE |
	                       VIR_DOMAIN_START_FORCE_BOOT,
	                   "virDomainCreateWithFlags", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)) || hv_job_begin(drv, obj, err) < 0)
		return -1;
	if (hv_obj_active(obj))
		hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is already running");
	else
		rc = hv_domain_start(drv, obj, flags & VIR_DOMAIN_START_PAUSED, err);
	hv_job_end(drv, obj);
	if (rc == 0)
		hv_obj_ref(obj, out);
	return rc;
}

int hv_driver_create_xml(hvDriver *drv, const char *xml, unsigned int flags, hvDomainRef *out,
                         GError **err)
{
	g_autoptr(hvDomainDef) def = NULL;
	hvDomainObj *obj;

	if (hv_check_flags(flags, VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_VALIDATE,
	                   "virDomainCreateXML", err) < 0)
		return -1;
	if (!(def = hv_domain_def_parse(xml, 0, err)))
		return -1;
	if (find_for_def(drv, def, &obj, err) < 0)
		return -1;
	if (obj)
		return hv_error_set(err, VIR_ERR_OPERATION_INVALID,
		                    "domain '%s' is already defined; start it instead", def->name);
	obj = hv_obj_add(drv, g_steal_pointer(&def), FALSE);
	hv_job_begin(drv, obj, NULL); /* new: nobody else can hold it */
	if (hv_domain_start(drv, obj, flags & VIR_DOMAIN_START_PAUSED, err) < 0) {
		hv_obj_remove(drv, obj);
		hv_job_end(drv, obj);
		return -1;
	}
	hv_job_end(drv, obj);
	hv_obj_ref(obj, out);
	return 0;
}

/* ---- stop ---- */

int hv_driver_destroy(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err)
{
	hvDomainObj *obj;

	if (hv_check_flags(flags, VIR_DOMAIN_DESTROY_GRACEFUL, "virDomainDestroyFlags", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)) || hv_job_begin(drv, obj, err) < 0)
		return -1;
	if (hv_check_active(obj, err) < 0) {
		hv_job_end(drv, obj);
		return -1;
	}
	hv_domain_stopped(drv, obj, VIR_DOMAIN_SHUTOFF_DESTROYED,
	                  VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
	hv_job_end(drv, obj);
	return 0;
}

/* Shutdown and reboot go through the PV control path; "default", ACPI (there is none, the
 * guest is told the same way) and paravirt mean the same request. */
#define GUEST_REQUEST_FLAGS (VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN | VIR_DOMAIN_SHUTDOWN_PARAVIRT)

static hvDomainObj *running_obj(hvDriver *drv, const unsigned char *uuid, GError **err)
{
	hvDomainObj *obj = hv_obj_find(drv, uuid, err);

	if (!obj || hv_job_begin(drv, obj, err) < 0)
		return NULL;
	if (hv_check_active(obj, err) < 0) {
		hv_job_end(drv, obj);
		return NULL;
	}
	return obj;
}

int hv_driver_shutdown(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err)
{
	hvDomainObj *obj;
	int rc = -1;

	if (hv_check_flags(flags, GUEST_REQUEST_FLAGS, "virDomainShutdownFlags", err) < 0 ||
	    !(obj = running_obj(drv, uuid, err)))
		return -1;
	if (obj->state != VIR_DOMAIN_RUNNING)
		hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is not running");
	else
		rc = HV_BE(drv, drv->be->ops->shutdown(drv->be, obj->id, err));
	hv_job_end(drv, obj);
	return rc;
}

int hv_driver_reboot(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err)
{
	hvDomainObj *obj;
	int rc = -1;

	if (hv_check_flags(flags, GUEST_REQUEST_FLAGS, "virDomainReboot", err) < 0 ||
	    !(obj = running_obj(drv, uuid, err)))
		return -1;
	if (obj->state != VIR_DOMAIN_RUNNING)
		hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is not running");
	else
		rc = HV_BE(drv, drv->be->ops->reboot(drv->be, obj->id, FALSE, err));
	hv_job_end(drv, obj);
	return rc;
}

/*
 * Restarts a running domain at once from its live definition. A machine that cannot reset a
 * domain in place (hv) gets it destroyed and built again: the domain keeps its name, UUID and
 * live definition and gets a new domid, as a rebooted Xen guest does.
 */
static int restart_domain(hvDriver *drv, hvDomainObj *obj, gboolean *gone, GError **err)
{
	g_autoptr(GError) e = NULL;
	int domid;

	*gone = FALSE;
	if (HV_BE(drv, drv->be->ops->reboot(drv->be, obj->id, TRUE, &e)) == 0)
		return 0;
	if (!g_error_matches(e, HV_ERROR, VIR_ERR_OPERATION_UNSUPPORTED)) {
		g_propagate_error(err, g_steal_pointer(&e));
		return -1;
	}
	hv_console_domain_gone(obj);
	HV_BE(drv, drv->be->ops->destroy(drv->be, obj->id, NULL));
	/* Built from a copy: the backend writes into it unlocked, and readers (the XML) may read
	 * obj->live meanwhile. */
	g_autoptr(hvDomainDef) fresh = hv_domain_def_copy(obj->live);
	if (HV_BE(drv, drv->be->ops->create(drv->be, fresh, FALSE, &domid, err)) < 0) {
		*gone = TRUE; /* destroyed, and not built again */
		return -1;
	}
	/* The new domain's devices get the limits the old one had (its live ones). */
	if (apply_io_limits(drv, domid, fresh, err) < 0) {
		HV_BE(drv, drv->be->ops->destroy(drv->be, domid, NULL));
		*gone = TRUE;
		return -1;
	}
	fresh->id = domid;
	hv_domain_def_free(obj->live);
	obj->live = g_steal_pointer(&fresh);
	hv_obj_set_id(drv, obj, domid);
	g_message("domain '%s' restarted with id %d", obj->def->name, domid);
	return 0;
}

int hv_driver_reset(hvDriver *drv, const unsigned char *uuid, unsigned int flags, GError **err)
{
	hvDomainObj *obj;
	gboolean gone;
	int rc;

	if (hv_check_flags(flags, 0, "virDomainReset", err) < 0 ||
	    !(obj = running_obj(drv, uuid, err)))
		return -1;
	rc = restart_domain(drv, obj, &gone, err);
	if (gone) {
		hv_domain_stopped(drv, obj, VIR_DOMAIN_SHUTOFF_FAILED,
		                  VIR_DOMAIN_EVENT_STOPPED_FAILED);
		hv_job_end(drv, obj);
		return -1;
	}
	if (rc == 0) {
		set_state(drv, obj, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED);
		hv_emit(drv, obj, VIR_DOMAIN_EVENT_ID_REBOOT, 0);
	}
	hv_job_end(drv, obj);
	return rc;
}

int hv_driver_suspend(hvDriver *drv, const unsigned char *uuid, GError **err)
{
	hvDomainObj *obj = running_obj(drv, uuid, err);
	int rc = 0;

	if (!obj)
		return -1;
	if (obj->state != VIR_DOMAIN_PAUSED) {
		rc = HV_BE(drv, drv->be->ops->pause(drv->be, obj->id, err));
		if (rc == 0) {
			set_state(drv, obj, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
			hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_SUSPENDED,
			                  VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
		}
	}
	hv_job_end(drv, obj);
	return rc;
}

int hv_driver_resume(hvDriver *drv, const unsigned char *uuid, GError **err)
{
	hvDomainObj *obj = running_obj(drv, uuid, err);
	int rc = -1;

	if (!obj)
		return -1;
	if (obj->state == VIR_DOMAIN_CRASHED) {
		hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain has crashed");
	} else if (obj->state != VIR_DOMAIN_PAUSED) {
		hv_error_set(err, VIR_ERR_OPERATION_INVALID, "domain is not paused");
	} else if ((rc = HV_BE(drv, drv->be->ops->unpause(drv->be, obj->id, err))) == 0) {
		set_state(drv, obj, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED);
		hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_RESUMED,
		                  VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
	}
	hv_job_end(drv, obj);
	return rc;
}

/* ---- what the machine reports ---- */

static void restart_in_place(hvDriver *drv, hvDomainObj *obj)
{
	g_autoptr(GError) e = NULL;
	gboolean gone;

	if (restart_domain(drv, obj, &gone, &e) < 0) {
		g_warning("restart of '%s' failed: %s", obj->def->name, e->message);
		hv_domain_stopped(drv, obj, VIR_DOMAIN_SHUTOFF_FAILED,
		                  VIR_DOMAIN_EVENT_STOPPED_FAILED);
		return;
	}
	set_state(drv, obj, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED);
	hv_emit(drv, obj, VIR_DOMAIN_EVENT_ID_REBOOT, 0);
}

typedef struct {
	int domid;
	hvBackendEvent ev;
} PendingEvent;

/* Called by the backend from any thread, maybe holding be->lock: only queues. */
void hv_driver_backend_event(int domid, hvBackendEvent ev, void *opaque)
{
	hvDriver *drv = opaque;
	PendingEvent *p = g_new(PendingEvent, 1);

	p->domid = domid;
	p->ev = ev;
	g_thread_pool_push(drv->event_pool, p, NULL);
}

static void handle_event(hvDriver *drv, hvDomainObj *obj, hvBackendEvent ev)
{
	hvLifecycleAction action;

	switch (ev) {
	case HV_BACKEND_POWEROFF:
		g_message("domain '%s': the guest powered off", obj->def->name);
		hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_SHUTDOWN,
		                  VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED);
		action = obj->live->on_poweroff;
		if (action == HV_LIFECYCLE_RESTART || action == HV_LIFECYCLE_RENAME_RESTART)
			restart_in_place(drv, obj);
		else
			hv_domain_stopped(drv, obj, VIR_DOMAIN_SHUTOFF_SHUTDOWN,
			                  VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN);
		break;
	case HV_BACKEND_CRASH:
		g_warning("domain '%s' crashed", obj->def->name);
		hv_emit_lifecycle(drv, obj, VIR_DOMAIN_EVENT_CRASHED,
		                  VIR_DOMAIN_EVENT_CRASHED_PANICKED);
		action = obj->live->on_crash;
		if (action == HV_LIFECYCLE_RESTART || action == HV_LIFECYCLE_RENAME_RESTART) {
			restart_in_place(drv, obj);
		} else if (action == HV_LIFECYCLE_PRESERVE) {
			/* Kept on the machine, stopped, for inspection. */
			HV_BE(drv, drv->be->ops->pause(drv->be, obj->id, NULL));
			set_state(drv, obj, VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED);
		} else {
			hv_domain_stopped(drv, obj, VIR_DOMAIN_SHUTOFF_CRASHED,
			                  VIR_DOMAIN_EVENT_STOPPED_CRASHED);
		}
		break;
	case HV_BACKEND_LOST:
		g_warning("domain '%s' is lost: the machine went away", obj->def->name);
		hv_domain_stopped(drv, obj, VIR_DOMAIN_SHUTOFF_CRASHED,
		                  VIR_DOMAIN_EVENT_STOPPED_FAILED);
		break;
	case HV_BACKEND_REBOOT:
		g_message("domain '%s': the guest asked to reboot", obj->def->name);
		action = obj->live->on_reboot;
		if (action == HV_LIFECYCLE_DESTROY)
			hv_domain_stopped(drv, obj, VIR_DOMAIN_SHUTOFF_SHUTDOWN,
			                  VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN);
		else
			restart_in_place(drv, obj);
		break;
	}
}

/* The event thread: one event at a time, in the order the machine reported them, each in a
 * job on its domain (waiting for the API call that holds it, however long it takes). */
void hv_driver_event_thread(gpointer data, gpointer opaque)
{
	hvDriver *drv = opaque;
	PendingEvent *p = data;
	hvDomainObj *obj;

	g_mutex_lock(&drv->lock);
	while ((obj = hv_obj_find_id(drv, p->domid))) {
		g_autoptr(GError) e = NULL;

		if (hv_job_begin(drv, obj, &e) < 0)
			continue; /* still busy after HV_JOB_WAIT_S, or removed: look again */
		/* While we waited the domain may have stopped, or been restarted with a new id. */
		if (obj->id == p->domid)
			handle_event(drv, obj, p->ev);
		hv_job_end(drv, obj);
		break;
	}
	g_mutex_unlock(&drv->lock);
	g_free(p);
}
