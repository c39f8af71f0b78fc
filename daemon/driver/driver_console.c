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
 * nothing more. con->obj and obj->console change under drv->lock; con->bc, closed, eof_sent,
 * the input waiting and the retry timer only on the main loop (hv_driver_open_console, which
 * may run in another thread, hands a session over only by returning it, or by an idle). The main
 * loop never holds drv->lock and the backend's lock at once, and never waits for the backend's lock
 * to write input or close the backend's console: when a machine call holds it, the input waits in
 * con->input (in order) and a timer tries again a millisecond later.
 */
#include "driver/driver_priv.h"

#include <string.h>

struct hvConsole {
	hvDriver *drv;
	hvDomainObj *obj;     /* NULL once detached (drv->lock) */
	hvBackendConsole *bc; /* NULL once closed on the backend */
	hvConsoleOutputFn out;
	void *opaque;
	gint refs; /* the owner's, one per queued delivery and one for the retry timer (atomic) */
	gboolean closed;
	gboolean eof_sent;
	GByteArray *input; /* typed, not yet written to the backend */
	gboolean close_bc; /* the backend's console is to be closed */
	guint retry;       /* timer: the backend's lock was busy */
};

typedef struct {
	hvConsole *con;
	GBytes *data; /* NULL: the console went away */
} Delivery;

static void con_unref(hvConsole *con)
{
	if (g_atomic_int_dec_and_test(&con->refs)) {
		g_byte_array_unref(con->input);
		g_free(con);
	}
}

static gboolean sync_retry(gpointer data);

/* Main loop: writes the waiting input and closes the backend's console if asked, when the
 * backend's lock is free; otherwise a timer tries again. */
static void sync_backend(hvConsole *con)
{
	hvBackend *be = con->drv->be;

	if (!con->bc || (!con->input->len && !con->close_bc))
		return;
	if (!g_rec_mutex_trylock(&be->lock)) {
		if (!con->retry) {
			g_atomic_int_inc(&con->refs);
			con->retry = g_timeout_add(1, sync_retry, con);
		}
		return;
	}
	if (con->input->len)
		be->ops->console_write(con->bc, con->input->data, con->input->len);
	g_byte_array_set_size(con->input, 0);
	if (con->close_bc) {
		be->ops->console_close(con->bc);
		con->bc = NULL;
	}
	g_rec_mutex_unlock(&be->lock);
}

static gboolean sync_retry(gpointer data)
{
	hvConsole *con = data;

	con->retry = 0;
	sync_backend(con);
	con_unref(con);
	return G_SOURCE_REMOVE;
}

static void close_backend(hvConsole *con)
{
	con->close_bc = TRUE;
	sync_backend(con);
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

/* Main loop: a session that was opened on the backend but refused (see below). */
static gboolean close_rejected(gpointer data)
{
	hvConsole *con = data;

	con->closed = TRUE;
	close_backend(con);
	con_unref(con);
	return G_SOURCE_REMOVE;
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
	con->input = g_byte_array_new();
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
		/* On the main loop, after what the backend queued for the owner so far. */
		g_idle_add_full(G_PRIORITY_DEFAULT, close_rejected, con, NULL);
		return NULL;
	}
	return con;

fail:
	g_mutex_unlock(&drv->lock);
	return NULL;
}

void hv_console_write(hvConsole *con, const void *data, size_t len)
{
	if (!con->bc || con->close_bc)
		return;
	/* Bounded: what a guest that does not read its console is sent piles up no further. */
	if (con->input->len + len > 1024 * 1024)
		return;
	g_byte_array_append(con->input, data, len);
	sync_backend(con);
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
