/*
 * The driver's view of persistent storage (domain definitions, autostart flags, run state of
 * running domains): a thin wrapper over daemon/state/state.h, so that the driver's calls stay
 * few and the state layer can change underneath.
 */
#ifndef HV_DRIVER_PERSIST_H
#define HV_DRIVER_PERSIST_H

#include <glib.h>

#include "xml/domain_conf.h"

typedef struct hvPersist hvPersist;

hvPersist *hv_persist_open(const char *dir, GError **err);
void hv_persist_free(hvPersist *p);
int hv_persist_save(hvPersist *p, const hvDomainDef *def, GError **err);
int hv_persist_delete(hvPersist *p, const char *name, GError **err);
/* Every stored definition (hvDomainDef *, owned by the array); unreadable ones are logged and
 * skipped, never deleted. */
GPtrArray *hv_persist_load_all(hvPersist *p, GError **err);
int hv_persist_set_autostart(hvPersist *p, const char *name, gboolean on, GError **err);
gboolean hv_persist_get_autostart(hvPersist *p, const char *name);

/* Run state of a running domain (failures are logged: the domain runs regardless). */
void hv_persist_save_run(hvPersist *p, const hvDomainDef *live, int domid, int state, int reason);
void hv_persist_delete_run(hvPersist *p, const char *name);
/* Names of the domains recorded as running by an earlier daemon (array of char *). */
GPtrArray *hv_persist_load_runs(hvPersist *p);
/* The same records in full (hvRunState *, owned by the array; see state/state.h). */
GPtrArray *hv_persist_load_run_states(hvPersist *p);

#endif
