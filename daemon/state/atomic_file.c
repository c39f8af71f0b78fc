/*
 * Atomic file replacement (see atomic_file.h). The temporary file is created with mkstemp
 * (O_EXCL, mode 0600) so two writers never share one, and removed again on every failure path.
 */
#include "state/atomic_file.h"

#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TEMP_MARK ".tmp"

gboolean hv_atomic_is_temp(const char *entry)
{
	return entry[0] == '.' && strstr(entry, TEMP_MARK) != NULL;
}

int hv_fsync_dir(const char *dir, GError **err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot sync directory %s: %s", dir,
		                    g_strerror(e));
	}
	close(fd);
	return 0;
}

static int write_all(int fd, const char *data, gsize len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (gsize)n;
	}
	return 0;
}

int hv_atomic_write(const char *dir, const char *name, const char *data, gsize len, GError **err)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *tmpl = g_strdup_printf("%s/.%s" TEMP_MARK "XXXXXX", dir, name);
	int fd = g_mkstemp_full(tmpl, O_WRONLY | O_CLOEXEC, 0600);
	int e;

	if (fd < 0)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot create a file in %s: %s",
		                    dir, g_strerror(errno));
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmpl, path) < 0)
		goto fail;
	return hv_fsync_dir(dir, err);
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmpl);
	return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot write %s: %s", path, g_strerror(e));
}
