/*
 * Console sessions: at most one per domain (a second open needs VIR_DOMAIN_CONSOLE_FORCE,
 * which ends the first session with EOF), forwarded to the backend's console of the domain.
 *
 * An hvConsole outlives its domain's console: when the domain stops, or another session
 * takes over, the session is detached (the owner is told EOF) and stays valid until its owner
 * calls hv_console_close().
 */
#include "driver/driver_priv.h"

#include <string.h>

struct hvConsole {
	hvDriver *drv;
	hvDomainObj *obj;     /* NULL once detached */
	hvBackendConsole *bc; /* NULL once closed on the backend */
	hvConsoleOutputFn out;
	void *opaque;
};

static void detach(hvConsole *con)
{
	if (con->obj)
		con->obj->console = NULL;
	con->obj = NULL;
	if (con->bc)
		con->drv->be->ops->console_close(con->bc);
	con->bc = NULL;
	con->out(NULL, 0, con->opaque); /* EOF for the owner */
}

static void from_backend(const void *data, size_t len, void *opaque)
{
	hvConsole *con = opaque;

	if (len == 0) { /* the domain went away */
		detach(con);
		return;
	}
	con->out(data, len, con->opaque);
}

hvConsole *hv_driver_open_console(hvDriver *drv, const unsigned char *uuid, const char *dev,
                                  unsigned int flags, hvConsoleOutputFn out, void *opaque,
                                  GError **err)
{
	hvDomainObj *obj;
	hvConsole *con;

	if (hv_check_flags(flags, VIR_DOMAIN_CONSOLE_FORCE | VIR_DOMAIN_CONSOLE_SAFE,
	                   "virDomainOpenConsole", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)))
		return NULL;
	if (hv_check_active(obj, err) < 0)
		return NULL;
	if (!obj->live->has_console || (dev && strcmp(dev, "console0") && strcmp(dev, "serial0"))) {
		hv_error_set(err, VIR_ERR_INTERNAL_ERROR, "cannot find character device %s",
		             dev ? dev : "<null>");
		return NULL;
	}
	if (obj->console) {
		if (!(flags & VIR_DOMAIN_CONSOLE_FORCE)) {
			hv_error_set(err, VIR_ERR_OPERATION_FAILED,
			             "Active console session exists for this domain");
			return NULL;
		}
		detach(obj->console);
	}
	con = g_new0(hvConsole, 1);
	con->drv = drv;
	con->obj = obj;
	con->out = out;
	con->opaque = opaque;
	con->bc = drv->be->ops->console_open(drv->be, obj->id, from_backend, con, err);
	if (!con->bc) {
		g_free(con);
		return NULL;
	}
	obj->console = con;
	return con;
}

void hv_console_write(hvConsole *con, const void *data, size_t len)
{
	if (con->bc)
		con->drv->be->ops->console_write(con->bc, data, len);
}

void hv_console_close(hvConsole *con)
{
	if (con->obj)
		con->obj->console = NULL;
	if (con->bc)
		con->drv->be->ops->console_close(con->bc);
	g_free(con);
}

void hv_console_domain_gone(hvDomainObj *obj)
{
	if (obj->console)
		detach(obj->console);
}
