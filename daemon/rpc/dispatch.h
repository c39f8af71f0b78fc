/*
 * Routing of incoming packets: keepalive, stream data, and CALLs through the procedure table
 * (one entry per procedure number: API name, handler, XDR filters and sizes of the argument and
 * return structs, flags). A CALL always gets exactly one REPLY with its serial.
 *
 * Where calls run (libvirtd's model): the checks and the decoding of a CALL happen on the main
 * loop; the handler then runs in a worker thread (server.h), with the driver lock held (the
 * driver drops it while it waits for the machine), and the encoded reply goes back to the
 * main loop to be sent. Calls of one client are not serialized (libvirt does not serialize
 * them either): their replies go out as they finish, matched by serial. What stays on the main
 * loop: keepalive, streams, and the procedures flagged HV_RPC_PROC_MAIN, which act on the
 * connection itself (open, features, event registrations, console streams) or answer at once
 * without the driver. High-priority procedures (HV_RPC_PROC_PRIO: answered from the driver's
 * memory, never waiting for the machine) have a pool of their own, so that a client's listing
 * never waits behind other clients' slow calls.
 */
#ifndef HV_RPC_DISPATCH_H
#define HV_RPC_DISPATCH_H

#include "rpc/server.h"

/* Handles one packet. FALSE = protocol violation: the caller closes this client. */
gboolean hv_rpc_dispatch_packet(hvRpcClient *c, const hvRpcHeader *hdr, const uint8_t *payload,
                                size_t len);

/* A handler returns 0 (ret is the reply), -1 with *err (an error reply), or, for an
 * HV_RPC_PROC_MAIN procedure only, HV_RPC_REPLY_LATER: it sends the REPLY itself, later, from
 * the main loop (the console's open, which may wait for the machine). */
typedef int (*hvRpcHandler)(hvRpcClient *c, const hvRpcHeader *hdr, void *args, void *ret,
                            GError **err);
#define HV_RPC_REPLY_LATER 1

enum {
	HV_RPC_PROC_BEFORE_OPEN = 1 << 0, /* allowed before CONNECT_OPEN */
	HV_RPC_PROC_READ = 1 << 1,        /* allowed on a read-only connection */
	HV_RPC_PROC_MAIN = 1 << 2,        /* runs on the main loop (without the driver lock) */
	HV_RPC_PROC_PRIO = 1 << 3,        /* high priority: never waits for the machine */
};

/* The worker pools' functions (a queued call, and the server). */
void hv_rpc_dispatch_worker(gpointer call, gpointer srv);
void hv_rpc_dispatch_drop(gpointer call);

typedef struct {
	const char *api; /* libvirt API name, for error messages */
	hvRpcHandler handler;
	xdrproc_t args_filter;
	size_t args_size;
	xdrproc_t ret_filter;
	size_t ret_size;
	unsigned int flags;
} hvRpcProc;

/* The entry for a procedure number, NULL if virthvd does not serve it. */
const hvRpcProc *hv_rpc_proc_lookup(int proc);

/* Empty argument/return struct for procedures without one. */
typedef struct {
	int unused;
} hv_rpc_void;
bool_t xdr_hv_rpc_void(XDR *xdr, hv_rpc_void *v);

#endif
