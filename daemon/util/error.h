/*
 * Errors inside virthvd.
 *
 * Every layer of the daemon (XML, state, driver, link) reports a failure once, where it
 * happens, as a GError in the HV_ERROR domain whose code is a libvirt virErrorNumber
 * (VIR_ERR_*, from <libvirt/libvirt.h>) and whose message is the whole sentence a person reads
 * after "error: " in virsh (with libvirt's prefix for that code, e.g. "XML error: ...").
 * The RPC layer turns it into a remote_error unchanged; callers only propagate it.
 */
#ifndef HV_DAEMON_ERROR_H
#define HV_DAEMON_ERROR_H

#include <glib.h>
#include <libvirt/virterror.h>

#define HV_ERROR (hv_error_quark())
GQuark hv_error_quark(void);

/*
 * Sets *err (if err is non-NULL and not yet set) to code with a message built from libvirt's
 * standard prefix for that code and the printf-style detail, e.g.
 * hv_error_set(err, VIR_ERR_NO_DOMAIN, "no domain with matching name '%s'", name)
 * gives "Domain not found: no domain with matching name 'x'". fmt may be NULL for the bare
 * prefix. Returns -1 so that callers can write `return hv_error_set(...)`.
 */
int hv_error_set(GError **err, virErrorNumber code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* The virErrorDomain (VIR_FROM_*) a code is reported under (see libvirt-rpc.md §4.5). */
int hv_error_domain_for(int code);

#endif
