/*
 * virthvd's RPC server: listening UNIX sockets and the clients connected to them, all on one
 * GLib main loop (non-blocking I/O, one input and one output buffer per client), and pools of
 * worker threads in which calls run (dispatch.c), as libvirtd's virNetServer runs them.
 *
 * Invariants: a client is touched only from the main loop (a worker only reads its server
 * and hands its reply back to the main loop); a protocol error on one client
 * closes that client only; a client's output queue is bounded (a peer that never reads is
 * dropped), and its input is read in chunks as it arrives, so memory follows what peers send,
 * not what their length words promise.
 */
#ifndef HV_RPC_SERVER_H
#define HV_RPC_SERVER_H

#include <glib.h>

#include "rpc/packet.h"

typedef struct hvRpcServer hvRpcServer;
typedef struct hvRpcClient hvRpcClient;
typedef struct hvDriver hvDriver;

hvRpcServer *hv_rpc_server_new(hvDriver *driver, unsigned int max_clients);
void hv_rpc_server_free(hvRpcServer *srv);

/* Creates, binds and listens on path (removing a stale socket file), chmod mode. */
int hv_rpc_server_add_socket(hvRpcServer *srv, const char *path, unsigned int mode,
                             gboolean readonly, GError **err);

/* Pings clients that negotiated keepalive after interval seconds of silence; closes them after
 * count unanswered pings. interval 0 turns it off. */
void hv_rpc_server_set_keepalive(hvRpcServer *srv, unsigned int interval, unsigned int count);

hvDriver *hv_rpc_server_driver(hvRpcServer *srv);

/* Starts max_workers threads for calls and prio_workers more for high-priority calls (which
 * then never wait behind slow ones); max_workers 0 runs every call on the main loop. */
int hv_rpc_server_set_workers(hvRpcServer *srv, unsigned int max_workers, unsigned int prio_workers,
                              GError **err);
/* The pool a call goes to (NULL: none, run it on the main loop). */
GThreadPool *hv_rpc_server_pool(hvRpcServer *srv, gboolean prio);
unsigned int hv_rpc_server_client_count(hvRpcServer *srv);

/* Calls fn for every client (events are broadcast this way). */
void hv_rpc_server_foreach_client(hvRpcServer *srv, void (*fn)(hvRpcClient *, void *),
                                  void *opaque);

/* ---- per-client state used by dispatch, events and streams ---- */
gboolean hv_rpc_client_readonly(hvRpcClient *c);
void hv_rpc_client_set_readonly(hvRpcClient *c);
gboolean hv_rpc_client_is_open(hvRpcClient *c);
void hv_rpc_client_set_open(hvRpcClient *c);
hvRpcServer *hv_rpc_client_server(hvRpcClient *c);
/* The client asked for keepalive (CONNECT_SUPPORTS_FEATURE 10): ping it when it is silent. */
void hv_rpc_client_set_keepalive(hvRpcClient *c);

/* Per-client storage for the events and streams modules. */
typedef struct hvRpcClientEvents hvRpcClientEvents;
typedef struct hvRpcClientStreams hvRpcClientStreams;
hvRpcClientEvents **hv_rpc_client_events(hvRpcClient *c);
hvRpcClientStreams **hv_rpc_client_streams(hvRpcClient *c);

/* A call in a worker keeps its client's struct alive (main loop only). */
void hv_rpc_client_ref(hvRpcClient *c);
void hv_rpc_client_unref(hvRpcClient *c);
gboolean hv_rpc_client_is_dead(hvRpcClient *c);

/* Queues a whole packet for sending (takes the reference). */
void hv_rpc_client_send(hvRpcClient *c, GBytes *packet);

/* Marks the client to be closed once its output queue has drained. */
void hv_rpc_client_close_after_flush(hvRpcClient *c);

#endif
