/*
 * libvirt streams on a connection (libvirt-rpc.md 3.8), used for consoles: a stream is named
 * by the (proc, serial) of the CALL that opened it; data travels as STREAM/CONTINUE packets
 * both ways; an empty CONTINUE from us is EOF; the client's STREAM/OK (finish) or
 * STREAM/ERROR (abort) is confirmed with STREAM/OK and ends the stream.
 *
 * Invariant: no stream data is sent before the REPLY of the CALL that opened the stream.
 */
#ifndef HV_RPC_STREAM_H
#define HV_RPC_STREAM_H

#include "rpc/server.h"

/* A STREAM packet from the client. Stray packets (no such stream) are ignored. */
void hv_rpc_stream_packet(hvRpcClient *c, const hvRpcHeader *hdr, const uint8_t *payload,
                          size_t len);
/* Called after the REPLY to (proc, serial) is queued: starts that stream's output. */
void hv_rpc_stream_after_reply(hvRpcClient *c, int32_t proc, uint32_t serial);
void hv_rpc_streams_client_gone(hvRpcClient *c);
/* The server is going: waits for the consoles being opened (they use the driver). */
void hv_rpc_streams_shutdown(void);

#endif
