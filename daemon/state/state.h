/*
 * virthvd's persistent state, in one directory (default HV_STATE_DEFAULT_DIR):
 *
 *   <name>.xml           the persistent definition of each defined domain (inactive XML)
 *   autostart/<name>     symlink to ../<name>.xml when the domain starts with the daemon
 *   run/<name>.json      run state of each running domain: domid, state, reason and the live
 *                        definition, so that a restarted daemon re-attaches to it
 *
 * Every file is written atomically (temporary file in the same directory, fsync, rename,
 * fsync of the directory), so after a crash at any point a reader finds either the old or the
 * new content, never a mix. Loading removes stale temporary files (".<name>.tmp*") and
 * reports, but never deletes, files it cannot parse.
 *
 * An hvState is not locked: the driver serializes calls (it owns the domain list lock).
 */
#ifndef HV_DAEMON_STATE_H
#define HV_DAEMON_STATE_H

#include <glib.h>

#include "xml/domain_conf.h"

#define HV_STATE_DEFAULT_DIR "/var/lib/hv/virthvd"

typedef struct hvState hvState;

/* Opens (creating if needed, mode 0700) dir and its autostart/ and run/ subdirectories.
 * VIR_ERR_SYSTEM_ERROR naming the path when that fails. */
hvState *hv_state_open(const char *dir, GError **err);
void hv_state_close(hvState *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hvState, hv_state_close)
const char *hv_state_dir(const hvState *st);

/* Writes def (inactive XML) to <name>.xml atomically, replacing any previous version. */
int hv_state_save_def(hvState *st, const hvDomainDef *def, GError **err);

/* Removes <name>.xml and the autostart link; a missing file is not an error. */
int hv_state_delete_def(hvState *st, const char *name, GError **err);

/*
 * Loads every <name>.xml. *defs gets a new array of hvDomainDef * (owning, with free func).
 * A file that cannot be read or parsed, or whose <name> does not match its file name, is
 * skipped, kept on disk, and described in *problems (a new array of strings; pass NULL to
 * only log them with g_warning). Returns -1 only when the directory itself cannot be read.
 */
int hv_state_load_all(hvState *st, GPtrArray **defs, GPtrArray **problems, GError **err);

/* Autostart flag: a symlink autostart/<name> -> ../<name>.xml. */
int hv_state_set_autostart(hvState *st, const char *name, gboolean autostart, GError **err);
gboolean hv_state_get_autostart(hvState *st, const char *name);

/* What run/<name>.json holds about a running domain. */
typedef struct {
	int domid;         /* hv's domain id */
	int state;         /* virDomainState */
	int reason;        /* virDomain*Reason of that state */
	gint64 started_at; /* g_get_real_time() when it was started, microseconds */
	hvDomainDef *live; /* the live definition (current memory, vcpus, tuning...); owned */
} hvRunState;

void hv_run_state_free(hvRunState *rs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hvRunState, hv_run_state_free)

/* Writes run/<live->name>.json atomically. */
int hv_state_save_run(hvState *st, const hvRunState *rs, GError **err);

/* Removes run/<name>.json (when the domain stops); a missing file is not an error. */
int hv_state_delete_run(hvState *st, const char *name, GError **err);

/* Loads every run/<name>.json into *runs (hvRunState *, owning); problems as in load_all. */
int hv_state_load_runs(hvState *st, GPtrArray **runs, GPtrArray **problems, GError **err);

#endif
