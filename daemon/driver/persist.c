/*
 * Persistent storage for the driver (see persist.h), forwarded to daemon/state.
 */
#include "driver/persist.h"

#include "state/state.h"
#include "util/error.h"

struct hvPersist {
	hvState *st;
};

hvPersist *hv_persist_open(const char *dir, GError **err)
{
	hvState *st = hv_state_open(dir, err);
	hvPersist *p;

	if (!st)
		return NULL;
	p = g_new0(hvPersist, 1);
	p->st = st;
	return p;
}

void hv_persist_free(hvPersist *p)
{
	if (!p)
		return;
	hv_state_close(p->st);
	g_free(p);
}

int hv_persist_save(hvPersist *p, const hvDomainDef *def, GError **err)
{
	return hv_state_save_def(p->st, def, err);
}

int hv_persist_delete(hvPersist *p, const char *name, GError **err)
{
	return hv_state_delete_def(p->st, name, err);
}

GPtrArray *hv_persist_load_all(hvPersist *p, GError **err)
{
	GPtrArray *defs = NULL;

	if (hv_state_load_all(p->st, &defs, NULL, err) < 0)
		return NULL;
	return defs;
}

int hv_persist_set_autostart(hvPersist *p, const char *name, gboolean on, GError **err)
{
	return hv_state_set_autostart(p->st, name, on, err);
}

gboolean hv_persist_get_autostart(hvPersist *p, const char *name)
{
	return hv_state_get_autostart(p->st, name);
}

void hv_persist_save_run(hvPersist *p, const hvDomainDef *live, int domid, int state, int reason)
{
	hvRunState rs = {domid, state, reason, g_get_real_time(), (hvDomainDef *)live};
	g_autoptr(GError) e = NULL;

	if (hv_state_save_run(p->st, &rs, &e) < 0)
		g_warning("cannot record the run state of '%s': %s", live->name, e->message);
}

void hv_persist_delete_run(hvPersist *p, const char *name)
{
	g_autoptr(GError) e = NULL;

	if (hv_state_delete_run(p->st, name, &e) < 0)
		g_warning("cannot remove the run state of '%s': %s", name, e->message);
}

GPtrArray *hv_persist_load_runs(hvPersist *p)
{
	GPtrArray *runs = NULL, *names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) e = NULL;

	if (hv_state_load_runs(p->st, &runs, NULL, &e) < 0) {
		g_warning("cannot read the run state: %s", e->message);
		return names;
	}
	for (guint i = 0; i < runs->len; i++)
		g_ptr_array_add(names, g_strdup(((hvRunState *)runs->pdata[i])->live->name));
	g_ptr_array_unref(runs);
	return names;
}

GPtrArray *hv_persist_load_run_states(hvPersist *p)
{
	GPtrArray *runs = NULL;
	g_autoptr(GError) e = NULL;

	if (hv_state_load_runs(p->st, &runs, NULL, &e) < 0) {
		g_warning("cannot read the run state: %s", e->message);
		return g_ptr_array_new();
	}
	return runs;
}
