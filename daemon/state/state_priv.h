/*
 * Internals shared by the files of daemon/state/ (not for the driver).
 */
#ifndef HV_DAEMON_STATE_PRIV_H
#define HV_DAEMON_STATE_PRIV_H

#include <glib.h>

struct hvState {
	char *dir;
	char *autostart_dir;
	char *run_dir;
};

/* VIR_ERR_INVALID_ARG unless name can be a file name (no '/', no leading '.'). */
int hv_state_check_name(const char *name, GError **err);

/* unlink(); ENOENT is success. */
int hv_state_remove(const char *path, GError **err);

/* Adds a message to problems, or logs it with g_warning when problems is NULL. */
void hv_state_problem(GPtrArray *problems, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

typedef void (*hvStateLoadFunc)(const char *path, const char *stem, GPtrArray *problems,
                                gpointer opaque);

/* Calls load for each regular file "<stem><suffix>" of dir, after removing stale temporary
 * files; -1 (VIR_ERR_SYSTEM_ERROR) only when dir cannot be read. */
int hv_state_scan(const char *dir, const char *suffix, GPtrArray *problems, hvStateLoadFunc load,
                  gpointer opaque, GError **err);

#endif
