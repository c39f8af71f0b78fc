/*
 * Routing of incoming packets: keepalive, stream data, and CALLs through the procedure table
 * (one entry per procedure number: API name, handler, XDR filters and sizes of the argument and
 * return structs, flags). A CALL always gets exactly one REPLY with its serial.
 */
#ifndef HV_RPC_DISPATCH_H
#define HV_RPC_DISPATCH_H

#include "rpc/server.h"

/* Handles one packet. FALSE = protocol violation: the caller closes this client. */
gboolean hv_rpc_dispatch_packet(hvRpcClient *c, const hvRpcHeader *hdr, const uint8_t *payload,
                                size_t len);

typedef int (*hvRpcHandler)(hvRpcClient *c, const hvRpcHeader *hdr, void *args, void *ret,
                            GError **err);

enum {
	HV_RPC_PROC_BEFORE_OPEN = 1 << 0, /* allowed before CONNECT_OPEN */
	HV_RPC_PROC_READ = 1 << 1,        /* allowed on a read-only connection */
};

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
