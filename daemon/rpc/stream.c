/*
 * Console streams (see stream.h). Each stream owns one hvConsole from the driver; guest output
 * arrives through the console's output callback and is cut into packets of at most
 * HV_RPC_STREAM_CHUNK bytes.
 */
#include "rpc/stream.h"

#include <string.h>

#include "driver/driver.h"
#include "rpc/hv_remote_protocol.h"
#include "rpc/remote_handlers.h"
#include "util/error.h"

typedef struct {
	hvRpcClient *client;
	int32_t proc;
	uint32_t serial;
	hvConsole *console;
	gboolean started;  /* the opening REPLY has been queued */
	GByteArray *early; /* output that came before that */
	gboolean eof;      /* the console closed */
	gboolean eof_sent;
	gboolean opening; /* the driver opens the console in a thread; the REPLY waits */
	gboolean orphan;  /* its client went away while it was opening */
} hvRpcStream;

struct hvRpcClientStreams {
	GList *list;
};

static hvRpcClientStreams *client_streams(hvRpcClient *c)
{
	hvRpcClientStreams **s = hv_rpc_client_streams(c);

	if (!*s)
		*s = g_new0(hvRpcClientStreams, 1);
	return *s;
}

static hvRpcStream *find(hvRpcClient *c, int32_t proc, uint32_t serial)
{
	hvRpcClientStreams *s = *hv_rpc_client_streams(c);

	for (GList *l = s ? s->list : NULL; l; l = l->next) {
		hvRpcStream *st = l->data;
		if (st->proc == proc && st->serial == serial)
			return st;
	}
	return NULL;
}

static void send_packet(hvRpcStream *st, int status, const void *data, size_t n)
{
	hvRpcHeader hdr = {HV_RPC_PROGRAM_REMOTE,
	                   HV_RPC_PROGRAM_VERSION,
	                   st->proc,
	                   HV_RPC_STREAM,
	                   st->serial,
	                   status};

	hv_rpc_client_send(st->client, hv_rpc_packet_raw(&hdr, data, n));
}

static void send_data(hvRpcStream *st, const uint8_t *data, size_t len)
{
	while (len > 0) {
		size_t n = MIN(len, HV_RPC_STREAM_CHUNK);
		send_packet(st, HV_RPC_CONTINUE, data, n);
		data += n;
		len -= n;
	}
}

static void send_eof(hvRpcStream *st)
{
	if (st->eof_sent)
		return;
	st->eof_sent = TRUE;
	send_packet(st, HV_RPC_CONTINUE, NULL, 0); /* empty CONTINUE = EOF */
}

static void console_output(const void *data, size_t len, void *opaque)
{
	hvRpcStream *st = opaque;

	if (len == 0) {
		st->eof = TRUE;
		if (st->started)
			send_eof(st);
		return;
	}
	if (!st->started) {
		g_byte_array_append(st->early, data, len);
		return;
	}
	send_data(st, data, len);
}

static void stream_free(hvRpcStream *st)
{
	if (st->console)
		hv_console_close(st->console);
	g_byte_array_unref(st->early);
	g_free(st);
}

static void stream_remove(hvRpcStream *st)
{
	hvRpcClientStreams *s = client_streams(st->client);

	s->list = g_list_remove(s->list, st);
	stream_free(st);
}

/*
 * Opening a console may wait for the machine (a domain build holds it), so the driver opens it
 * in a thread of a small pool of our own and the REPLY is sent from the main loop when that is
 * done; meanwhile the stream exists, marked opening: output that arrives goes to st->early,
 * client packets for it are ignored (a client sends none before the REPLY), and a client that
 * goes away leaves it to open_done, which closes it.
 */
static GThreadPool *openers; /* created and freed on the main loop */

typedef struct {
	hvRpcStream *st;
	hvDriver *drv;
	unsigned char uuid[16];
	char *dev;
	unsigned int flags;
	hvConsole *console;
	GError *error;
} OpenJob;

static void open_job_free(gpointer data)
{
	OpenJob *job = data;

	g_free(job->dev);
	g_clear_error(&job->error);
	g_free(job);
}

static gboolean open_done(gpointer data);

static void open_thread(gpointer data, gpointer unused)
{
	OpenJob *job = data;

	job->console = hv_driver_open_console(job->drv, job->uuid, job->dev, job->flags,
	                                      console_output, job->st, &job->error);
	g_idle_add_full(G_PRIORITY_DEFAULT, open_done, job, open_job_free);
}

/* Main loop, after the output the backend queued during the open (idles run in order). */
static gboolean open_done(gpointer data)
{
	OpenJob *job = data;
	hvRpcStream *st = job->st;
	hvRpcHeader hdr = {HV_RPC_PROGRAM_REMOTE,
	                   HV_RPC_PROGRAM_VERSION,
	                   st->proc,
	                   HV_RPC_REPLY,
	                   st->serial,
	                   HV_RPC_OK};

	st->opening = FALSE;
	st->console = job->console;
	if (st->orphan) {
		stream_free(st); /* closes the console */
		return G_SOURCE_REMOVE;
	}
	if (!st->console) {
		if (!job->error)
			hv_error_set(&job->error, VIR_ERR_INTERNAL_ERROR,
			             "virDomainOpenConsole failed");
		hdr.status = HV_RPC_ERROR;
		hv_rpc_client_send(st->client, hv_rpc_packet_error(&hdr, job->error));
		stream_remove(st);
		return G_SOURCE_REMOVE;
	}
	hv_rpc_client_send(st->client, hv_rpc_packet_raw(&hdr, NULL, 0));
	hv_rpc_stream_after_reply(st->client, st->proc, st->serial);
	return G_SOURCE_REMOVE;
}

HV_RPC_HANDLER(hv_rpc_domain_open_console)
{
	remote_domain_open_console_args *args = args_;
	hvRpcStream *st;
	hvRpcClientStreams *s = client_streams(c);
	OpenJob *job;

	if (g_list_length(s->list) >= 64)
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "too many open streams on one connection");
	st = g_new0(hvRpcStream, 1);
	st->client = c;
	st->proc = hdr->proc;
	st->serial = hdr->serial;
	st->early = g_byte_array_new();
	st->opening = TRUE;
	s->list = g_list_prepend(s->list, st);
	job = g_new0(OpenJob, 1);
	job->st = st;
	job->drv = HV_RPC_DRIVER(c);
	memcpy(job->uuid, args->dom.uuid, 16);
	job->dev = args->dev_name ? g_strdup(*args->dev_name) : NULL;
	job->flags = args->flags;
	if (!openers)
		openers = g_thread_pool_new(open_thread, NULL, 4, FALSE, NULL);
	g_thread_pool_push(openers, job, NULL);
	return HV_RPC_REPLY_LATER;
}

void hv_rpc_stream_after_reply(hvRpcClient *c, int32_t proc, uint32_t serial)
{
	hvRpcStream *st = find(c, proc, serial);

	if (!st || st->started)
		return;
	st->started = TRUE;
	send_data(st, st->early->data, st->early->len);
	g_byte_array_set_size(st->early, 0);
	if (st->eof)
		send_eof(st);
}

void hv_rpc_stream_packet(hvRpcClient *c, const hvRpcHeader *hdr, const uint8_t *payload,
                          size_t len)
{
	hvRpcStream *st = find(c, hdr->proc, hdr->serial);

	if (!st || st->opening)
		return; /* libvirtd ignores packets for streams that are gone */
	switch (hdr->status) {
	case HV_RPC_CONTINUE:
		if (len > 0 && !st->eof)
			hv_console_write(st->console, payload, len);
		break;
	case HV_RPC_OK:    /* finish */
	case HV_RPC_ERROR: /* abort */
		send_packet(st, HV_RPC_OK, NULL, 0);
		stream_remove(st);
		break;
	default:
		break;
	}
}

void hv_rpc_streams_client_gone(hvRpcClient *c)
{
	hvRpcClientStreams **s = hv_rpc_client_streams(c);

	if (!*s)
		return;
	for (GList *l = (*s)->list; l; l = l->next) {
		hvRpcStream *st = l->data;
		if (st->opening)
			st->orphan = TRUE; /* open_done frees it */
		else
			stream_free(st);
	}
	g_list_free((*s)->list);
	g_clear_pointer(s, g_free);
}

void hv_rpc_streams_shutdown(void)
{
	if (openers)
		g_thread_pool_free(openers, FALSE, TRUE); /* the opens under way finish */
	openers = NULL;
}
