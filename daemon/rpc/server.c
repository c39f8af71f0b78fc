/*
 * The RPC server: listeners, client connections, packet cutting and output queues
 * (see server.h for the invariants).
 *
 * A client lives until EOF, a protocol error, or an output queue over HV_RPC_TX_MAX. Killing a
 * client closes its socket at once and frees the struct from an idle callback, so that code
 * further up the current call stack (dispatch, event broadcast) never touches freed memory; it
 * checks c->dead instead. A call running in a worker holds a reference to its client (refs,
 * main loop only), so the struct outlives it; the reply of a dead client is dropped.
 */
#define _GNU_SOURCE /* accept4 */
#include "rpc/server.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "rpc/dispatch.h"
#include "rpc/events.h"
#include "rpc/stream.h"
#include "util/error.h"

#define HV_RPC_READ_CHUNK 65536
#define HV_RPC_TX_PAUSE   (8u << 20)  /* stop reading a client while this much is unsent */
#define HV_RPC_TX_MAX     (96u << 20) /* drop a client that lets this much pile up */
/* Bytes of incomplete packets held for all clients together: each may announce 32 MiB, and
 * the read-only socket is open to every local user, so the sum is what bounds memory. */
#define HV_RPC_RX_PENDING_MAX (256u << 20)

typedef struct {
	hvRpcServer *srv;
	int fd;
	char *path;
	gboolean readonly;
	guint watch;  /* accepting */
	guint resume; /* paused after running out of descriptors */
} hvRpcListener;

struct hvRpcServer {
	hvDriver *driver;
	unsigned int max_clients;
	GPtrArray *listeners;
	GList *clients;
	unsigned int nclients;
	size_t rx_pending;                  /* sum of the clients' rx_pending */
	unsigned int ka_interval, ka_count; /* keepalive: seconds, unanswered pings */
	guint ka_timer;
	GThreadPool *workers, *prio_workers; /* NULL: calls run on the main loop */
};

typedef struct {
	GSource source;
	hvRpcClient *client;
} hvClientSource;

struct hvRpcClient {
	hvRpcServer *srv;
	int fd;
	GSource *source;
	gpointer fd_tag;
	GIOCondition cond;
	gboolean dead;
	unsigned int refs; /* the server's until killed, and one per call in a worker */
	gboolean readonly;
	gboolean open;
	gboolean close_after_flush;

	uint8_t len_word[HV_RPC_LEN_SIZE]; /* the length word being read */
	size_t len_got;
	uint32_t want; /* bytes of the current packet after the length word */
	GByteArray *rx;
	size_t rx_pending;    /* bytes of the current, incomplete packet */
	gboolean keepalive;   /* the client asked whether we answer PINGs */
	gint64 last_rx;       /* monotonic time anything last arrived */
	unsigned int ka_sent; /* PINGs sent since then */

	GQueue tx; /* GBytes packets */
	size_t tx_off;
	size_t tx_bytes;

	hvRpcClientEvents *events;
	hvRpcClientStreams *streams;
};

static void client_update_watch(hvRpcClient *c);

hvRpcServer *hv_rpc_server_new(hvDriver *driver, unsigned int max_clients)
{
	hvRpcServer *srv = g_new0(hvRpcServer, 1);

	srv->driver = driver;
	srv->max_clients = max_clients;
	srv->listeners = g_ptr_array_new();
	return srv;
}

hvDriver *hv_rpc_server_driver(hvRpcServer *srv)
{
	return srv->driver;
}

int hv_rpc_server_set_workers(hvRpcServer *srv, unsigned int max_workers, unsigned int prio_workers,
                              GError **err)
{
	g_autoptr(GError) e = NULL;

	if (!max_workers)
		return 0; /* every call on the main loop, as before workers existed */
	srv->workers = g_thread_pool_new_full(hv_rpc_dispatch_worker, srv, hv_rpc_dispatch_drop,
	                                      max_workers, FALSE, &e);
	if (srv->workers && prio_workers)
		srv->prio_workers = g_thread_pool_new_full(
		    hv_rpc_dispatch_worker, srv, hv_rpc_dispatch_drop, prio_workers, FALSE, &e);
	if (e)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot start worker threads: %s",
		                    e->message);
	g_message("%u worker threads for calls, %u for high-priority calls", max_workers,
	          prio_workers);
	return 0;
}

GThreadPool *hv_rpc_server_pool(hvRpcServer *srv, gboolean prio)
{
	return prio && srv->prio_workers ? srv->prio_workers : srv->workers;
}

unsigned int hv_rpc_server_client_count(hvRpcServer *srv)
{
	return srv->nclients;
}

/* ---- clients ---- */

void hv_rpc_client_ref(hvRpcClient *c)
{
	c->refs++;
}

void hv_rpc_client_unref(hvRpcClient *c)
{
	GBytes *b;

	if (--c->refs > 0)
		return;
	while ((b = g_queue_pop_head(&c->tx)))
		g_bytes_unref(b);
	g_byte_array_unref(c->rx);
	g_free(c);
}

gboolean hv_rpc_client_is_dead(hvRpcClient *c)
{
	return c->dead;
}

static gboolean client_free_idle(gpointer data)
{
	hv_rpc_client_unref(data);
	return G_SOURCE_REMOVE;
}

static void client_kill(hvRpcClient *c)
{
	if (c->dead)
		return;
	c->dead = TRUE;
	c->srv->rx_pending -= c->rx_pending;
	c->rx_pending = 0;
	hv_rpc_streams_client_gone(c);
	hv_rpc_events_client_gone(c);
	g_source_destroy(c->source);
	g_source_unref(c->source);
	close(c->fd);
	c->srv->clients = g_list_remove(c->srv->clients, c);
	c->srv->nclients--;
	g_debug("client fd %d closed (%u left)", c->fd, c->srv->nclients);
	g_idle_add(client_free_idle, c);
}

void hv_rpc_client_send(hvRpcClient *c, GBytes *packet)
{
	if (c->dead) {
		g_bytes_unref(packet);
		return;
	}
	c->tx_bytes += g_bytes_get_size(packet);
	g_queue_push_tail(&c->tx, packet);
	if (c->tx_bytes > HV_RPC_TX_MAX) {
		g_warning("client fd %d does not read its replies (%zu bytes queued); dropping it",
		          c->fd, c->tx_bytes);
		client_kill(c);
		return;
	}
	client_update_watch(c);
}

void hv_rpc_client_close_after_flush(hvRpcClient *c)
{
	c->close_after_flush = TRUE;
	client_update_watch(c);
}

static void client_update_watch(hvRpcClient *c)
{
	GIOCondition cond = 0;

	if (c->dead)
		return;
	if (!c->close_after_flush && c->tx_bytes < HV_RPC_TX_PAUSE)
		cond |= G_IO_IN;
	if (!g_queue_is_empty(&c->tx) || c->close_after_flush)
		cond |= G_IO_OUT;
	if (cond != c->cond) {
		g_source_modify_unix_fd(c->source, c->fd_tag, cond);
		c->cond = cond;
	}
}

/* Writes as much queued output as the socket takes. FALSE if the client died. */
static gboolean client_flush(hvRpcClient *c)
{
	GBytes *head;

	while ((head = g_queue_peek_head(&c->tx))) {
		gsize size;
		const uint8_t *data = g_bytes_get_data(head, &size);
		ssize_t n = send(c->fd, data + c->tx_off, size - c->tx_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			g_debug("client fd %d: send: %s", c->fd, g_strerror(errno));
			client_kill(c);
			return FALSE;
		}
		c->tx_off += n;
		if (c->tx_off == size) {
			g_queue_pop_head(&c->tx);
			c->tx_bytes -= size;
			c->tx_off = 0;
			g_bytes_unref(head);
		}
	}
	if (g_queue_is_empty(&c->tx) && c->close_after_flush) {
		client_kill(c);
		return FALSE;
	}
	client_update_watch(c);
	return TRUE;
}

/* Cuts the byte stream into packets and hands each to the dispatcher. */
static void client_feed(hvRpcClient *c, const uint8_t *data, size_t n)
{
	while (n > 0 && !c->dead && !c->close_after_flush) {
		if (c->len_got < HV_RPC_LEN_SIZE) {
			size_t take = MIN(n, HV_RPC_LEN_SIZE - c->len_got);
			memcpy(c->len_word + c->len_got, data, take);
			c->len_got += take;
			data += take;
			n -= take;
			if (c->len_got < HV_RPC_LEN_SIZE)
				return;
			uint32_t length = hv_rpc_read_u32(c->len_word);
			if (!hv_rpc_length_valid(length)) {
				g_info("client fd %d: packet length %u out of range; closing it",
				       c->fd, length);
				client_kill(c);
				return;
			}
			c->want = length - HV_RPC_LEN_SIZE;
			g_byte_array_set_size(c->rx, 0);
		}
		size_t take = MIN(n, c->want - c->rx->len);
		if (c->srv->rx_pending + take > HV_RPC_RX_PENDING_MAX) {
			g_warning("client fd %d: %zu bytes of unfinished packets are held for all "
			          "clients; dropping this one",
			          c->fd, c->srv->rx_pending);
			client_kill(c);
			return;
		}
		g_byte_array_append(c->rx, data, take);
		c->rx_pending += take;
		c->srv->rx_pending += take;
		data += take;
		n -= take;
		if (c->rx->len == c->want) {
			hvRpcHeader hdr;
			hv_rpc_header_decode(c->rx->data, &hdr);
			c->len_got = 0;
			c->srv->rx_pending -= c->rx_pending;
			c->rx_pending = 0;
			if (!hv_rpc_dispatch_packet(c, &hdr, c->rx->data + HV_RPC_HEADER_SIZE,
			                            c->want - HV_RPC_HEADER_SIZE)) {
				g_info("client fd %d: protocol error; closing it", c->fd);
				client_kill(c);
				return;
			}
			/* A huge packet's buffer is not kept for the next small one. */
			if (c->rx->len > HV_RPC_READ_CHUNK * 4) {
				g_byte_array_unref(c->rx);
				c->rx = g_byte_array_new();
			}
		}
	}
}

static void client_read(hvRpcClient *c)
{
	uint8_t buf[HV_RPC_READ_CHUNK];

	/* Bounded: a fast sender cannot keep the loop here forever. */
	for (int rounds = 0; rounds < 16 && !c->dead; rounds++) {
		if (c->tx_bytes >= HV_RPC_TX_PAUSE || c->close_after_flush)
			return;
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			g_debug("client fd %d: recv: %s", c->fd, g_strerror(errno));
			client_kill(c);
			return;
		}
		if (n == 0) {
			client_kill(c);
			return;
		}
		c->last_rx = g_get_monotonic_time();
		c->ka_sent = 0;
		client_feed(c, buf, n);
	}
}

static gboolean client_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
	hvRpcClient *c = ((hvClientSource *)source)->client;
	GIOCondition rev = g_source_query_unix_fd(source, c->fd_tag);

	if (rev & (G_IO_ERR | G_IO_NVAL)) {
		client_kill(c);
		return G_SOURCE_CONTINUE;
	}
	if (rev & G_IO_OUT)
		if (!client_flush(c))
			return G_SOURCE_CONTINUE;
	if (rev & (G_IO_IN | G_IO_HUP))
		client_read(c);
	if (!c->dead)
		client_flush(c);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = {
    .dispatch = client_source_dispatch,
};

static void client_new(hvRpcListener *l, int fd)
{
	hvRpcServer *srv = l->srv;
	hvRpcClient *c = g_new0(hvRpcClient, 1);

	c->srv = srv;
	c->fd = fd;
	c->refs = 1;
	c->readonly = l->readonly;
	c->rx = g_byte_array_new();
	c->last_rx = g_get_monotonic_time();
	g_queue_init(&c->tx);
	c->source = g_source_new(&client_source_funcs, sizeof(hvClientSource));
	((hvClientSource *)c->source)->client = c;
	c->cond = G_IO_IN;
	c->fd_tag = g_source_add_unix_fd(c->source, fd, c->cond);
	g_source_attach(c->source, NULL);
	srv->clients = g_list_prepend(srv->clients, c);
	srv->nclients++;
	g_debug("client fd %d connected on %s (%u clients)", fd, l->path, srv->nclients);
}

/* ---- listeners ---- */

static gboolean listener_accept(gint fd, GIOCondition cond, gpointer data);

static gboolean listener_resume(gpointer data)
{
	hvRpcListener *l = data;

	l->resume = 0;
	l->watch = g_unix_fd_add(l->fd, G_IO_IN, listener_accept, l);
	return G_SOURCE_REMOVE;
}

static gboolean listener_accept(gint fd, GIOCondition cond, gpointer data)
{
	hvRpcListener *l = data;

	for (int i = 0; i < 64; i++) {
		int cfd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return G_SOURCE_CONTINUE;
			/* Out of descriptors: wait a little rather than spin on the backlog. */
			g_warning("accept on %s: %s", l->path, g_strerror(errno));
			l->resume = g_timeout_add(100, listener_resume, l);
			l->watch = 0;
			return G_SOURCE_REMOVE;
		}
		if (l->srv->nclients >= l->srv->max_clients) {
			g_warning("refusing a connection on %s: max_clients (%u) reached", l->path,
			          l->srv->max_clients);
			close(cfd);
			continue;
		}
		client_new(l, cfd);
	}
	return G_SOURCE_CONTINUE;
}

int hv_rpc_server_add_socket(hvRpcServer *srv, const char *path, unsigned int mode,
                             gboolean readonly, GError **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	hvRpcListener *l;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "socket path '%s' is too long", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot create socket: %s",
		                    g_strerror(errno));
	/* A socket file someone still answers on belongs to a running daemon: never steal it. */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		close(fd);
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "another daemon is already listening on '%s'", path);
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot create socket: %s",
		                    g_strerror(errno));
	if (unlink(path) < 0 && errno != ENOENT) {
		hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot remove stale socket '%s': %s", path,
		             g_strerror(errno));
		close(fd);
		return -1;
	}
	/* Bind with a restrictive umask so that the socket is never briefly too open. */
	mode_t old = umask(0077);
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc < 0 || chmod(path, mode) < 0 || listen(fd, 128) < 0) {
		hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot listen on '%s': %s", path,
		             g_strerror(errno));
		close(fd);
		return -1;
	}
	l = g_new0(hvRpcListener, 1);
	l->srv = srv;
	l->fd = fd;
	l->path = g_strdup(path);
	l->readonly = readonly;
	l->watch = g_unix_fd_add(fd, G_IO_IN, listener_accept, l);
	g_ptr_array_add(srv->listeners, l);
	g_message("listening on %s (%s)", path, readonly ? "read-only" : "read-write");
	return 0;
}

void hv_rpc_server_foreach_client(hvRpcServer *srv, void (*fn)(hvRpcClient *, void *), void *opaque)
{
	GList *next;

	for (GList *l = srv->clients; l; l = next) {
		next = l->next;
		fn(l->data, opaque);
	}
}

/*
 * Keepalive, as libvirtd does it: a client that negotiated it (CONNECT_SUPPORTS_FEATURE 10) and
 * sent nothing for an interval gets a PING each interval; after ka_count unanswered PINGs it is
 * considered dead and closed. Any packet from it counts as an answer.
 */
static void keepalive_client(hvRpcClient *c, void *opaque)
{
	hvRpcServer *srv = opaque;
	gint64 idle = g_get_monotonic_time() - c->last_rx;
	hvRpcHeader ping = {HV_RPC_PROGRAM_KEEPALIVE,
	                    HV_RPC_PROGRAM_VERSION,
	                    HV_RPC_KEEPALIVE_PING,
	                    HV_RPC_MESSAGE,
	                    0,
	                    HV_RPC_OK};

	if (!c->keepalive || idle < (gint64)srv->ka_interval * G_USEC_PER_SEC)
		return;
	if (c->ka_sent >= srv->ka_count) {
		g_info("client fd %d: no answer to %u keepalive pings; closing it", c->fd,
		       c->ka_sent);
		client_kill(c);
		return;
	}
	c->ka_sent++;
	hv_rpc_client_send(c, hv_rpc_packet_raw(&ping, NULL, 0));
}

static gboolean keepalive_tick(gpointer data)
{
	hv_rpc_server_foreach_client(data, keepalive_client, data);
	return G_SOURCE_CONTINUE;
}

void hv_rpc_server_set_keepalive(hvRpcServer *srv, unsigned int interval, unsigned int count)
{
	if (srv->ka_timer)
		g_source_remove(srv->ka_timer);
	srv->ka_timer = 0;
	srv->ka_interval = interval;
	srv->ka_count = count;
	if (interval)
		srv->ka_timer = g_timeout_add_seconds(interval, keepalive_tick, srv);
}

void hv_rpc_client_set_keepalive(hvRpcClient *c)
{
	c->keepalive = c->srv->ka_interval > 0;
}

void hv_rpc_server_free(hvRpcServer *srv)
{
	if (!srv)
		return;
	/* Calls waiting for a worker are dropped; running ones finish (their replies, queued
	 * for a loop that no longer runs, are never sent). */
	if (srv->workers)
		g_thread_pool_free(srv->workers, TRUE, TRUE);
	if (srv->prio_workers)
		g_thread_pool_free(srv->prio_workers, TRUE, TRUE);
	hv_rpc_streams_shutdown();
	if (srv->ka_timer)
		g_source_remove(srv->ka_timer);
	while (srv->clients)
		client_kill(srv->clients->data);
	for (guint i = 0; i < srv->listeners->len; i++) {
		hvRpcListener *l = srv->listeners->pdata[i];
		if (l->watch)
			g_source_remove(l->watch);
		if (l->resume)
			g_source_remove(l->resume);
		close(l->fd);
		unlink(l->path);
		g_free(l->path);
		g_free(l);
	}
	g_ptr_array_unref(srv->listeners);
	g_free(srv);
}

gboolean hv_rpc_client_readonly(hvRpcClient *c)
{
	return c->readonly;
}

void hv_rpc_client_set_readonly(hvRpcClient *c)
{
	c->readonly = TRUE;
}

gboolean hv_rpc_client_is_open(hvRpcClient *c)
{
	return c->open;
}

void hv_rpc_client_set_open(hvRpcClient *c)
{
	c->open = TRUE;
}

hvRpcServer *hv_rpc_client_server(hvRpcClient *c)
{
	return c->srv;
}

hvRpcClientEvents **hv_rpc_client_events(hvRpcClient *c)
{
	return &c->events;
}

hvRpcClientStreams **hv_rpc_client_streams(hvRpcClient *c)
{
	return &c->streams;
}
