/*
 * Inside the hv driver: domain objects and the helpers every entry point uses (lookup, jobs,
 * state, events). Not for use outside daemon/driver/.
 *
 * A domain object holds the persistent definition (def) and, while the domain runs, the live
 * definition (live, a copy taken at start that live changes modify). A transient domain has
 * only a def, which is also its live definition's origin, and disappears when it stops.
 */
#ifndef HV_DRIVER_PRIV_H
#define HV_DRIVER_PRIV_H

#include "driver/backend.h"
#include "driver/driver.h"
#include "driver/persist.h"
#include "util/error.h"
#include "xml/domain_conf.h"

typedef struct {
	hvDomainDef *def;  /* persistent (or transient) definition, never NULL */
	hvDomainDef *live; /* live definition while active, else NULL */
	gboolean persistent;
	gboolean autostart;
	int id; /* domid while active, else -1 */
	int state, reason;
	hvConsole *console; /* the open console session, if any */
	gboolean in_job;    /* a job (driver.c) owns the domain's state */
	int refs;           /* the object list's, and one per job holder or waiter */
	gboolean removed;   /* no longer listed: the last reference frees it */
} hvDomainObj;

/*
 * Locking. drv->lock guards everything in hvDriver and in its domain objects; the RPC layer
 * holds it around each entry point (hv_driver_lock), and it is held only for short stretches:
 * a call on the machine (HV_BE) drops it and takes the backend's lock instead, which
 * serializes machine calls. So a slow machine call (a domain build, a timeout) holds no one
 * but the callers that need the machine. The order is drv->lock before be->lock, never the
 * other way: nothing under be->lock takes drv->lock (backend events and console output are
 * queued, to the event thread and to the main loop).
 *
 * A domain's state changes only inside a job: hv_job_begin waits for the job of another
 * thread (up to HV_JOB_WAIT_S, then VIR_ERR_OPERATION_TIMEOUT, as libvirt), so two starts of
 * one domain never interleave, and a job holder may drop drv->lock around a machine call
 * without another thread changing or freeing the object meanwhile.
 */
#define HV_JOB_WAIT_S 30

struct hvDriver {
	GMutex lock;
	GCond job_cond;          /* a job ended */
	GThreadPool *event_pool; /* one thread: what the machine reported, in order */
	hvBackend *be;
	hvPersist *persist;
	GPtrArray *doms;     /* hvDomainObj *, owned, in definition order */
	GHashTable *by_uuid; /* 16-byte uuid -> hvDomainObj * */
	GHashTable *by_name; /* name -> hvDomainObj * */
	GHashTable *by_id;   /* domid of an active domain -> hvDomainObj * */
	hvDriverEventFn event_fn;
	void *event_opaque;
	unsigned char host_uuid[16];
};

/* Lookup by UUID; VIR_ERR_NO_DOMAIN when absent. */
hvDomainObj *hv_obj_find(hvDriver *drv, const unsigned char *uuid, GError **err);
hvDomainObj *hv_obj_find_name(hvDriver *drv, const char *name); /* NULL when absent */
hvDomainObj *hv_obj_find_id(hvDriver *drv, int id);             /* active domains only */
/* Sets obj->id (-1 when it stops), keeping the id index. */
void hv_obj_set_id(hvDriver *drv, hvDomainObj *obj, int id);
void hv_obj_remove(hvDriver *drv, hvDomainObj *obj);
hvDomainObj *hv_obj_add(hvDriver *drv, hvDomainDef *def, gboolean persistent);

/* Whether obj passes a VIR_CONNECT_LIST_DOMAINS_* filter (each group of bits filters only if
 * one of its bits is set). */
gboolean hv_obj_matches(hvDomainObj *obj, unsigned int flags);

static inline gboolean hv_obj_active(const hvDomainObj *obj)
{
	return obj->id > 0;
}

/* The definition a call with these VIR_DOMAIN_AFFECT_* flags acts on; resolves CURRENT and
 * reports LIVE on an inactive domain or CONFIG on a transient one. Sets *live. */
int hv_obj_resolve_affect(hvDomainObj *obj, unsigned int *flags, GError **err);

/* Begins a job on obj (waiting for another thread's), holding a reference to obj until
 * hv_job_end; VIR_ERR_NO_DOMAIN if obj was removed meanwhile. */
int hv_job_begin(hvDriver *drv, hvDomainObj *obj, GError **err);
void hv_job_end(hvDriver *drv, hvDomainObj *obj);
/* Looks obj up by UUID and begins a job on it (the readers' and writers' common start). */
hvDomainObj *hv_obj_find_job(hvDriver *drv, const unsigned char *uuid, GError **err);
void hv_obj_unref(hvDomainObj *obj);

/* A call on the machine: drops drv->lock and holds the backend's lock around expr. The
 * caller holds a job on any domain object expr uses, or uses none. */
void hv_be_enter(hvDriver *drv);
void hv_be_leave(hvDriver *drv);
#define HV_BE(drv, expr)                                                                           \
	({                                                                                         \
		hv_be_enter(drv);                                                                  \
		__auto_type be_result_ = (expr);                                                   \
		hv_be_leave(drv);                                                                  \
		be_result_;                                                                        \
	})
int hv_check_active(hvDomainObj *obj, GError **err);
int hv_check_flags(unsigned int flags, unsigned int allowed, const char *fn, GError **err);

void hv_obj_ref(const hvDomainObj *obj, hvDomainRef *ref);
void hv_emit_lifecycle(hvDriver *drv, hvDomainObj *obj, int event, int detail);
/* A non-lifecycle event (REBOOT; BALLOON_CHANGE with the new size in KiB). */
void hv_emit_metadata_change(hvDriver *drv, hvDomainObj *obj, int type);
void hv_emit(hvDriver *drv, hvDomainObj *obj, int event_id, unsigned long long value);

/* Lifecycle steps shared by the API and by backend events (driver_lifecycle.c). */
int hv_domain_start(hvDriver *drv, hvDomainObj *obj, gboolean paused, GError **err);
/* Stops an active domain: destroys it on the machine, records SHUTOFF/reason, emits
 * STOPPED/detail, removes a transient object. Returns FALSE if obj is gone afterwards. */
gboolean hv_domain_stopped(hvDriver *drv, hvDomainObj *obj, int reason, int detail);
/* The backend's event_fn: queues the event for the event thread (hv_driver_event_thread),
 * which handles it in a job. */
void hv_driver_backend_event(int domid, hvBackendEvent ev, void *opaque);
void hv_driver_event_thread(gpointer data, gpointer drv);

/* Records a running domain's live definition and state in its run state. */
void hv_obj_save_run(hvDriver *drv, hvDomainObj *obj);

/* Saves obj->def (persistent domains only). */
int hv_obj_save(hvDriver *drv, hvDomainObj *obj, GError **err);

/* Console sessions end when the domain stops (driver_console.c); called under drv->lock. */
void hv_console_domain_gone(hvDomainObj *obj);

#endif
