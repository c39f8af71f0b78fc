/*
 * Console sessions: at most one per domain (a second open needs VIR_DOMAIN_CONSOLE_FORCE,
 * which ends the first session with EOF), forwarded to the backend's console of the domain.
 *
 * An hvConsole outlives its domain's console: when the domain stops, or another session
 * takes over, the session is detached (the owner is told EOF) and stays valid until its owner
 * calls hv_console_close().
 *
 * Threads: the owner (the RPC layer's stream) lives on the main loop, and everything it is
 * told arrives there: the backend produces output on whatever thread drives it (a worker's
 * destroy, the main loop's console timer), under the backend's lock, so output and EOF are
 * queued to the main loop as idle callbacks (in order: idles of one priority run in the order
 * they were added), each holding a reference to the session. A closed session is told
 * nothing more. con->obj and obj->console change under drv->lock; con->bc, closed and
 * eof_sent only on the main loop. The main loop never holds drv->lock and the backend's lock
 * at once.
 */
#include "driver/driver_priv.h"

#include <string.h>

struct hvConsole {
	hvDriver *drv;
	hvDomainObj *obj;     /* NULL once detached (drv->lock) */
	hvBackendConsole *bc; /* NULL once closed on the backend */
	hvConsoleOutputFn out;
	void *opaque;
	gint refs; /* the owner's and one per queued delivery (atomic) */
	gboolean closed;
	gboolean eof_sent;
};

typedef struct {
	hvConsole *con;
	GBytes *data; /* NULL: the console went away */
} Delivery;

static void con_unref(hvConsole *con)
{
	if (g_atomic_int_dec_and_test(&con->refs))
		g_free(con);
}

static void close_backend(hvConsole *con)
{
	hvBackend *be = con->drv->be;

	if (!con->bc)
		return;
	g_rec_mutex_lock(&be->lock);
	be->ops->console_close(con->bc);
	g_rec_mutex_unlock(&be->lock);
	con->bc = NULL;
}

/* Main loop: the domain's console went away (or another session took it over). */
static void gone(hvConsole *con)
{
	g_mutex_lock(&con->drv->lock);
	if (con->obj && con->obj->console == con)
		con->obj->console = NULL;
	con->obj = NULL;
	g_mutex_unlock(&con->drv->lock);
	close_backend(con);
	if (!con->eof_sent) {
		con->eof_sent = TRUE;
		con->out(NULL, 0, con->opaque); /* EOF for the owner */
	}
}

static gboolean deliver(gpointer data)
{
	Delivery *d = data;
	hvConsole *con = d->con;

	if (!con->closed) {
		if (!d->data)
			gone(con);
		else if (!con->eof_sent)
			con->out(g_bytes_get_data(d->data, NULL), g_bytes_get_size(d->data),
			         con->opaque);
	}
	if (d->data)
		g_bytes_unref(d->data);
	con_unref(con);
	g_free(d);
	return G_SOURCE_REMOVE;
}

/* Any thread, maybe under the backend's lock: queue for the main loop. */
static void queue(hvConsole *con, const void *data, size_t len)
{
	Delivery *d = g_new0(Delivery, 1);

	g_atomic_int_inc(&con->refs);
	d->con = con;
	d->data = len ? g_bytes_new(data, len) : NULL;
	g_idle_add_full(G_PRIORITY_DEFAULT, deliver, d, NULL);
}

static void from_backend(const void *data, size_t len, void *opaque)
{
	queue(opaque, data, len); /* len 0: the domain went away */
}

/* drv->lock held: unhooks con from its domain; the owner hears EOF from the main loop. */
static void detach_locked(hvConsole *con)
{
	if (con->obj && con->obj->console == con)
		con->obj->console = NULL;
	con->obj = NULL;
	queue(con, NULL, 0);
}

hvConsole *hv_driver_open_console(hvDriver *drv, const unsigned char *uuid, const char *dev,
                                  unsigned int flags, hvConsoleOutputFn out, void *opaque,
                                  GError **err)
{
	hvDomainObj *obj;
	hvConsole *con;
	hvBackendConsole *bc;
	gboolean attached = FALSE;
	int domid;

	g_mutex_lock(&drv->lock);
	if (hv_check_flags(flags, VIR_DOMAIN_CONSOLE_FORCE | VIR_DOMAIN_CONSOLE_SAFE,
	                   "virDomainOpenConsole", err) < 0 ||
	    !(obj = hv_obj_find(drv, uuid, err)) || hv_check_active(obj, err) < 0)
		goto fail;
	if (!obj->live->has_console || (dev && strcmp(dev, "console0") && strcmp(dev, "serial0"))) {
		hv_error_set(err, VIR_ERR_INTERNAL_ERROR, "cannot find character device %s",
		             dev ? dev : "<null>");
		goto fail;
	}
	if (obj->console) {
		if (!(flags & VIR_DOMAIN_CONSOLE_FORCE)) {
			hv_error_set(err, VIR_ERR_OPERATION_FAILED,
			             "Active console session exists for this domain");
			goto fail;
		}
		detach_locked(obj->console);
	}
	con = g_new0(hvConsole, 1);
	con->refs = 1;
	con->drv = drv;
	con->out = out;
	con->opaque = opaque;
	domid = obj->id;
	obj->refs++;
	g_mutex_unlock(&drv->lock);

	g_rec_mutex_lock(&drv->be->lock);
	bc = drv->be->ops->console_open(drv->be, domid, from_backend, con, err);
	g_rec_mutex_unlock(&drv->be->lock);

	g_mutex_lock(&drv->lock);
	/* The domain may have stopped, or got another session, while the backend opened it. */
	if (bc && (obj->removed || obj->id != domid || obj->console)) {
		hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		             "the domain's console changed while it was being opened");
		con->bc = bc;
		bc = NULL;
	} else if (bc) {
		con->bc = bc;
		con->obj = obj;
		obj->console = con;
		attached = TRUE;
	}
	hv_obj_unref(obj);
	g_mutex_unlock(&drv->lock);
	if (!attached) {
		con->closed = TRUE;
		close_backend(con);
		con_unref(con);
		return NULL;
	}
	return con;

fail:
	g_mutex_unlock(&drv->lock);
	return NULL;
}

void hv_console_write(hvConsole *con, const void *data, size_t len)
{
	hvBackend *be = con->drv->be;

	if (!con->bc)
		return;
	g_rec_mutex_lock(&be->lock);
	be->ops->console_write(con->bc, data, len);
	g_rec_mutex_unlock(&be->lock);
}

void hv_console_close(hvConsole *con)
{
	con->closed = TRUE;
	g_mutex_lock(&con->drv->lock);
	if (con->obj && con->obj->console == con)
		con->obj->console = NULL;
	con->obj = NULL;
	g_mutex_unlock(&con->drv->lock);
	close_backend(con);
	con_unref(con);
}

void hv_console_domain_gone(hvDomainObj *obj)
{
	if (obj->console)
		detach_locked(obj->console);
}
