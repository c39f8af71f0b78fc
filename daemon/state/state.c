/*
 * Persistent domain definitions and autostart flags (see state.h). Each definition is its own
 * file so that a damaged file costs one domain, never the others; files are only ever
 * replaced atomically, and a file that does not parse is left for a person to look at.
 */
#include "state/state.h"

#include "state/atomic_file.h"
#include "state/state_priv.h"
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <unistd.h>

static int make_dir(const char *path, GError **err)
{
	if (g_mkdir_with_parents(path, 0700) < 0)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot create directory %s: %s",
		                    path, g_strerror(errno));
	if (access(path, R_OK | W_OK | X_OK) < 0)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot use directory %s: %s", path,
		                    g_strerror(errno));
	return 0;
}

hvState *hv_state_open(const char *dir, GError **err)
{
	g_autoptr(hvState) st = g_new0(hvState, 1);

	st->dir = g_strdup(dir ? dir : HV_STATE_DEFAULT_DIR);
	st->autostart_dir = g_build_filename(st->dir, "autostart", NULL);
	st->run_dir = g_build_filename(st->dir, "run", NULL);
	if (make_dir(st->dir, err) < 0 || make_dir(st->autostart_dir, err) < 0 ||
	    make_dir(st->run_dir, err) < 0)
		return NULL;
	return g_steal_pointer(&st);
}

void hv_state_close(hvState *st)
{
	if (!st)
		return;
	g_free(st->dir);
	g_free(st->autostart_dir);
	g_free(st->run_dir);
	g_free(st);
}

const char *hv_state_dir(const hvState *st)
{
	return st->dir;
}

int hv_state_check_name(const char *name, GError **err)
{
	if (!name || !*name || name[0] == '.' || strchr(name, '/'))
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "invalid domain name '%s'",
		                    name ? name : "");
	return 0;
}

/* unlink() that treats "already gone" as done. */
int hv_state_remove(const char *path, GError **err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot remove %s: %s", path,
		                    g_strerror(errno));
	return 0;
}

int hv_state_save_def(hvState *st, const hvDomainDef *def, GError **err)
{
	g_autofree char *file = NULL;
	g_autofree char *xml = NULL;
	g_autoptr(GString) text = g_string_new(NULL);

	if (hv_state_check_name(def->name, err) < 0)
		return -1;
	file = g_strconcat(def->name, ".xml", NULL);
	xml = hv_domain_def_format(def, VIR_DOMAIN_XML_INACTIVE);
	g_string_append_printf(text,
	                       "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE "
	                       "LIKELY TO BE\nOVERWRITTEN AND LOST. Changes to this domain should "
	                       "be made using:\n  virsh -c hv:///system edit %s\n-->\n%s",
	                       def->name, xml);
	return hv_atomic_write(st->dir, file, text->str, text->len, err);
}

int hv_state_delete_def(hvState *st, const char *name, GError **err)
{
	g_autofree char *file = NULL;
	g_autofree char *path = NULL;

	if (hv_state_check_name(name, err) < 0 || hv_state_set_autostart(st, name, FALSE, err) < 0)
		return -1;
	file = g_strconcat(name, ".xml", NULL);
	path = g_build_filename(st->dir, file, NULL);
	if (hv_state_remove(path, err) < 0)
		return -1;
	return hv_fsync_dir(st->dir, err);
}

int hv_state_set_autostart(hvState *st, const char *name, gboolean autostart, GError **err)
{
	g_autofree char *link = NULL;
	g_autofree char *target = NULL;

	if (hv_state_check_name(name, err) < 0)
		return -1;
	link = g_build_filename(st->autostart_dir, name, NULL);
	if (!autostart)
		return hv_state_remove(link, err);
	if (hv_state_get_autostart(st, name))
		return 0;
	target = g_strconcat("../", name, ".xml", NULL);
	hv_state_remove(link, NULL); /* a dangling or foreign entry */
	if (symlink(target, link) < 0)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot create %s: %s", link,
		                    g_strerror(errno));
	return hv_fsync_dir(st->autostart_dir, err);
}

gboolean hv_state_get_autostart(hvState *st, const char *name)
{
	g_autofree char *link = NULL;
	g_autofree char *target = NULL;
	g_autofree char *expected = NULL;

	if (hv_state_check_name(name, NULL) < 0)
		return FALSE;
	link = g_build_filename(st->autostart_dir, name, NULL);
	target = g_file_read_link(link, NULL);
	expected = g_strconcat("../", name, ".xml", NULL);
	return target && strcmp(target, expected) == 0;
}

void hv_state_problem(GPtrArray *problems, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (problems) {
		g_ptr_array_add(problems, msg);
	} else {
		g_warning("%s", msg);
		g_free(msg);
	}
}

/* Calls load(path, stem) for each "<stem><suffix>" in dir; removes stale temporary files. */
int hv_state_scan(const char *dir, const char *suffix, GPtrArray *problems, hvStateLoadFunc load,
                  gpointer opaque, GError **err)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
	const char *entry;

	if (!d)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot read directory %s: %s", dir,
		                    local->message);
	while ((entry = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, entry, NULL);
		g_autofree char *stem = NULL;

		if (hv_atomic_is_temp(entry)) {
			if (unlink(path) < 0)
				hv_state_problem(problems, "cannot remove stale %s: %s", path,
				                 g_strerror(errno));
			continue;
		}
		if (entry[0] == '.' || !g_str_has_suffix(entry, suffix) ||
		    !g_file_test(path, G_FILE_TEST_IS_REGULAR))
			continue;
		stem = g_strndup(entry, strlen(entry) - strlen(suffix));
		load(path, stem, problems, opaque);
	}
	return 0;
}

static void load_def(const char *path, const char *name, GPtrArray *problems, gpointer opaque)
{
	GPtrArray *defs = opaque;
	g_autoptr(GError) err = NULL;
	g_autofree char *xml = NULL;
	hvDomainDef *def;

	if (!g_file_get_contents(path, &xml, NULL, &err)) {
		hv_state_problem(problems, "cannot read %s: %s", path, err->message);
		return;
	}
	def = hv_domain_def_parse(xml, 0, &err);
	if (!def) {
		hv_state_problem(problems, "ignoring %s (kept on disk): %s", path, err->message);
		return;
	}
	if (strcmp(def->name, name) != 0) {
		hv_state_problem(problems, "ignoring %s (kept on disk): it defines domain '%s'",
		                 path, def->name);
		hv_domain_def_free(def);
		return;
	}
	g_ptr_array_add(defs, def);
}

int hv_state_load_all(hvState *st, GPtrArray **defs, GPtrArray **problems, GError **err)
{
	g_autoptr(GPtrArray) found =
	    g_ptr_array_new_with_free_func((GDestroyNotify)hv_domain_def_free);
	GPtrArray *issues = problems ? g_ptr_array_new_with_free_func(g_free) : NULL;

	if (hv_state_scan(st->dir, ".xml", issues, load_def, found, err) < 0) {
		if (issues)
			g_ptr_array_unref(issues);
		return -1;
	}
	*defs = g_steal_pointer(&found);
	if (problems)
		*problems = issues;
	return 0;
}
