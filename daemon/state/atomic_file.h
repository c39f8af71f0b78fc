/*
 * Crash-safe file replacement, after libvirt's virFileRewrite: the new content goes to a
 * temporary file ".<name>.tmpXXXXXX" in the same directory, which is fsynced, renamed over
 * <name>, and the directory fsynced, so that a crash leaves the old or the new file, plus at
 * worst a stale temporary file that hv_atomic_is_temp() recognises.
 */
#ifndef HV_DAEMON_ATOMIC_FILE_H
#define HV_DAEMON_ATOMIC_FILE_H

#include <glib.h>

/* Writes len bytes of data to dir/name with mode 0600. VIR_ERR_SYSTEM_ERROR on failure. */
int hv_atomic_write(const char *dir, const char *name, const char *data, gsize len, GError **err);

/* Is this directory entry a temporary file left by an interrupted hv_atomic_write? */
gboolean hv_atomic_is_temp(const char *entry);

/* fsync() of a directory, so that a rename or unlink in it is durable. */
int hv_fsync_dir(const char *dir, GError **err);

#endif
