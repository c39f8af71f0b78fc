/*
 * libhvctl's errors: the thread's last error, status descriptions, and the mapping of the
 * machine's errno values (hv's hypercalls return -errno; the agent passes them through) to
 * enum hvctl_status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static __thread hvctl_error last_error;

const hvctl_error *hvctl_last_error(void)
{
	return &last_error;
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int err_set(hvctl_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->remote_errno = 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

int err_publish(const hvctl_error *err, const char *what)
{
	last_error.code = err->code;
	last_error.remote_errno = err->remote_errno;
	if (what && what[0])
		snprintf(last_error.message, sizeof(last_error.message), "%s: %s", what,
		         err->message[0] ? err->message : hvctl_strerror(err->code));
	else
		snprintf(last_error.message, sizeof(last_error.message), "%s",
		         err->message[0] ? err->message : hvctl_strerror(err->code));
	return err->code;
}

const char *hvctl_strerror(int code)
{
	switch (code) {
	case HVCTL_OK:
		return "success";
	case HVCTL_ERR_INVALID:
		return "invalid argument";
	case HVCTL_ERR_NO_DOMAIN:
		return "no such domain";
	case HVCTL_ERR_PERMISSION:
		return "operation not permitted";
	case HVCTL_ERR_NO_MEMORY:
		return "not enough memory";
	case HVCTL_ERR_BUSY:
		return "busy, try again";
	case HVCTL_ERR_NO_RESOURCES:
		return "cannot be admitted: resources exhausted";
	case HVCTL_ERR_UNSUPPORTED:
		return "operation not supported by the machine";
	case HVCTL_ERR_TIMEOUT:
		return "timed out waiting for the machine";
	case HVCTL_ERR_LINK_DOWN:
		return "management link is down";
	case HVCTL_ERR_LINK_FAULT:
		return "management link protocol fault";
	case HVCTL_ERR_VERSION:
		return "management link version mismatch";
	case HVCTL_ERR_PROTOCOL:
		return "malformed response from the machine";
	case HVCTL_ERR_EXISTS:
		return "already exists";
	case HVCTL_ERR_SYSTEM:
		return "local system error";
	case HVCTL_ERR_REMOTE:
		return "error reported by the machine";
	case HVCTL_ERR_CLOSED:
		return "handle closed";
	default:
		return "unknown error";
	}
}

static const struct {
	int e;
	const char *name;
	int code;
} remote_errors[] = {
    {HVLINK_EPERM, "EPERM", HVCTL_ERR_PERMISSION},
    {HVLINK_EACCES, "EACCES", HVCTL_ERR_PERMISSION},
    {HVLINK_EROFS, "EROFS", HVCTL_ERR_PERMISSION}, /* a write to a read-only disk */
    {HVLINK_ENOENT, "ENOENT", HVCTL_ERR_INVALID},  /* a device, transfer... not a domain */
    {HVLINK_ESRCH, "ESRCH", HVCTL_ERR_NO_DOMAIN},
    {HVLINK_EINVAL, "EINVAL", HVCTL_ERR_INVALID},
    {HVLINK_ERANGE, "ERANGE", HVCTL_ERR_INVALID},
    {HVLINK_E2BIG, "E2BIG", HVCTL_ERR_INVALID},
    {HVLINK_EMSGSIZE, "EMSGSIZE", HVCTL_ERR_INVALID},
    {HVLINK_EFAULT, "EFAULT", HVCTL_ERR_INVALID},
    {HVLINK_ENOMEM, "ENOMEM", HVCTL_ERR_NO_MEMORY},
    {HVLINK_EBUSY, "EBUSY", HVCTL_ERR_BUSY},
    {HVLINK_EAGAIN, "EAGAIN", HVCTL_ERR_BUSY},
    {HVLINK_ENOSPC, "ENOSPC", HVCTL_ERR_NO_RESOURCES},
    {HVLINK_ENOSYS, "ENOSYS", HVCTL_ERR_UNSUPPORTED},
    {HVLINK_EOPNOTSUPP, "EOPNOTSUPP", HVCTL_ERR_UNSUPPORTED},
    {HVLINK_EEXIST, "EEXIST", HVCTL_ERR_EXISTS},
    {HVLINK_EPROTO, "EPROTO", HVCTL_ERR_VERSION},
    {HVLINK_ETIMEDOUT, "ETIMEDOUT", HVCTL_ERR_TIMEOUT},
    {HVLINK_EIO, "EIO", HVCTL_ERR_REMOTE},
};

int err_from_remote(int32_t status)
{
	unsigned i;

	for (i = 0; i < sizeof(remote_errors) / sizeof(remote_errors[0]); i++)
		if (-status == remote_errors[i].e)
			return remote_errors[i].code;
	return HVCTL_ERR_REMOTE;
}

const char *err_remote_name(int32_t status)
{
	unsigned i;

	for (i = 0; i < sizeof(remote_errors) / sizeof(remote_errors[0]); i++)
		if (-status == remote_errors[i].e)
			return remote_errors[i].name;
	return NULL;
}
