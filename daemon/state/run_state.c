/*
 * Run state of running domains, run/<name>.json (see state.h), so that a restarted daemon
 * finds the domains it had started. The live definition is stored as its XML inside the JSON
 * document and goes through the same parser and checks as any other definition.
 */
#include "state/state.h"

#include "state/atomic_file.h"
#include "state/state_priv.h"
#include "util/error.h"

#include <json-c/json.h>
#include <string.h>

void hv_run_state_free(hvRunState *rs)
{
	if (!rs)
		return;
	hv_domain_def_free(rs->live);
	g_free(rs);
}

static char *run_file(const char *name)
{
	return g_strconcat(name, ".json", NULL);
}

int hv_state_save_run(hvState *st, const hvRunState *rs, GError **err)
{
	g_autofree char *file = NULL;
	g_autofree char *xml = NULL;
	json_object *obj;
	const char *text;
	int ret;

	if (!rs->live || hv_state_check_name(rs->live->name, err) < 0)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "run state without a definition");
	file = run_file(rs->live->name);
	xml = hv_domain_def_format(rs->live, 0);
	obj = json_object_new_object();
	json_object_object_add(obj, "name", json_object_new_string(rs->live->name));
	json_object_object_add(obj, "domid", json_object_new_int(rs->domid));
	json_object_object_add(obj, "state", json_object_new_int(rs->state));
	json_object_object_add(obj, "reason", json_object_new_int(rs->reason));
	json_object_object_add(obj, "started_at", json_object_new_int64(rs->started_at));
	json_object_object_add(obj, "live_xml", json_object_new_string(xml));
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY);
	ret = hv_atomic_write(st->run_dir, file, text, strlen(text), err);
	json_object_put(obj);
	return ret;
}

int hv_state_delete_run(hvState *st, const char *name, GError **err)
{
	g_autofree char *file = NULL;
	g_autofree char *path = NULL;

	if (hv_state_check_name(name, err) < 0)
		return -1;
	file = run_file(name);
	path = g_build_filename(st->run_dir, file, NULL);
	if (hv_state_remove(path, err) < 0)
		return -1;
	return hv_fsync_dir(st->run_dir, err);
}

/* The member key of obj if it has type type, else NULL. */
static json_object *member(json_object *obj, const char *key, json_type type)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static hvRunState *run_state_from_json(json_object *obj, const char *name, GError **err)
{
	g_autoptr(hvRunState) rs = g_new0(hvRunState, 1);
	json_object *domid = member(obj, "domid", json_type_int);
	json_object *state = member(obj, "state", json_type_int);
	json_object *reason = member(obj, "reason", json_type_int);
	json_object *started = member(obj, "started_at", json_type_int);
	json_object *xml = member(obj, "live_xml", json_type_string);

	if (!domid || !state || !reason || !xml) {
		hv_error_set(err, VIR_ERR_INTERNAL_ERROR,
		             "missing domid, state, reason or live_xml");
		return NULL;
	}
	rs->domid = json_object_get_int(domid);
	rs->state = json_object_get_int(state);
	rs->reason = json_object_get_int(reason);
	rs->started_at = started ? json_object_get_int64(started) : 0;
	rs->live = hv_domain_def_parse(json_object_get_string(xml), HV_DOMAIN_DEF_PARSE_LIVE, err);
	if (!rs->live)
		return NULL;
	if (strcmp(rs->live->name, name) != 0) {
		hv_error_set(err, VIR_ERR_INTERNAL_ERROR, "it describes domain '%s'",
		             rs->live->name);
		return NULL;
	}
	rs->live->id = rs->domid;
	return g_steal_pointer(&rs);
}

static void load_run(const char *path, const char *name, GPtrArray *problems, gpointer opaque)
{
	GPtrArray *runs = opaque;
	g_autoptr(GError) err = NULL;
	g_autofree char *text = NULL;
	enum json_tokener_error jerr = json_tokener_success;
	json_object *obj;
	hvRunState *rs;

	if (!g_file_get_contents(path, &text, NULL, &err)) {
		hv_state_problem(problems, "cannot read %s: %s", path, err->message);
		return;
	}
	obj = json_tokener_parse_verbose(text, &jerr);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		hv_state_problem(problems, "ignoring %s (kept on disk): not a JSON object: %s",
		                 path, json_tokener_error_desc(jerr));
		json_object_put(obj);
		return;
	}
	rs = run_state_from_json(obj, name, &err);
	json_object_put(obj);
	if (!rs) {
		hv_state_problem(problems, "ignoring %s (kept on disk): %s", path, err->message);
		return;
	}
	g_ptr_array_add(runs, rs);
}

int hv_state_load_runs(hvState *st, GPtrArray **runs, GPtrArray **problems, GError **err)
{
	g_autoptr(GPtrArray) found =
	    g_ptr_array_new_with_free_func((GDestroyNotify)hv_run_state_free);
	GPtrArray *issues = problems ? g_ptr_array_new_with_free_func(g_free) : NULL;

	if (hv_state_scan(st->run_dir, ".json", issues, load_run, found, err) < 0) {
		if (issues)
			g_ptr_array_unref(issues);
		return -1;
	}
	*runs = g_steal_pointer(&found);
	if (problems)
		*problems = issues;
	return 0;
}
