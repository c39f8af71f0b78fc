/*
 * libvirt's message prefixes for the error codes virthvd reports, so that virsh prints the
 * same words for hv as for libvirt's own drivers.
 */
#include "error.h"

#include <stdarg.h>

G_DEFINE_QUARK(hv-error-quark, hv_error)

struct prefix {
	int code;
	const char *with_detail; /* contains one %s */
	const char *alone;
};

static const struct prefix prefixes[] = {
	{VIR_ERR_INTERNAL_ERROR, "internal error: %s", "internal error"},
	{VIR_ERR_NO_MEMORY, "out of memory: %s", "out of memory"},
	{VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver: %s",
	 "this function is not supported by the connection driver"},
	{VIR_ERR_NO_CONNECT, "no connection driver available for %s",
	 "no connection driver available"},
	{VIR_ERR_INVALID_DOMAIN, "invalid domain pointer in %s", "invalid domain pointer"},
	{VIR_ERR_INVALID_ARG, "invalid argument: %s", "invalid argument"},
	{VIR_ERR_OPERATION_FAILED, "operation failed: %s", "operation failed"},
	{VIR_ERR_XML_ERROR, "XML error: %s", "XML description is invalid or not well formed"},
	{VIR_ERR_DOM_EXIST, "domain %s exists already", "this domain exists already"},
	{VIR_ERR_OPERATION_DENIED, "operation forbidden: %s",
	 "operation forbidden for read only access"},
	{VIR_ERR_SYSTEM_ERROR, "%s", "system error"},
	{VIR_ERR_RPC, "%s", "RPC error"},
	{VIR_ERR_NO_DOMAIN, "Domain not found: %s", "Domain not found"},
	{VIR_ERR_OPERATION_INVALID, "Requested operation is not valid: %s",
	 "Requested operation is not valid"},
	{VIR_ERR_CONFIG_UNSUPPORTED, "unsupported configuration: %s", "unsupported configuration"},
	{VIR_ERR_OPERATION_TIMEOUT, "Timed out during operation: %s",
	 "Timed out during operation"},
	{VIR_ERR_ARGUMENT_UNSUPPORTED, "argument unsupported: %s", "argument unsupported"},
	{VIR_ERR_OPERATION_UNSUPPORTED, "Operation not supported: %s", "Operation not supported"},
};

int hv_error_set(GError **err, virErrorNumber code, const char *fmt, ...)
{
	const struct prefix *p = NULL;
	g_autofree char *detail = NULL;

	if (!err || *err)
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++)
		if (prefixes[i].code == (int)code)
			p = &prefixes[i];
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		detail = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	if (!p)
		g_set_error_literal(err, HV_ERROR, code, detail ? detail : "unknown error");
	else if (detail)
		g_set_error(err, HV_ERROR, code, p->with_detail, detail);
	else
		g_set_error_literal(err, HV_ERROR, code, p->alone);
	return -1;
}

int hv_error_domain_for(int code)
{
	switch (code) {
	case VIR_ERR_RPC:
		return VIR_FROM_RPC;
	case VIR_ERR_SYSTEM_ERROR:
	case VIR_ERR_INTERNAL_ERROR:
		return VIR_FROM_NONE;
	default:
		return VIR_FROM_DOMAIN;
	}
}
