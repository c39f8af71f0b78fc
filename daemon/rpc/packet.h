/*
 * libvirt RPC packets: the length word, the 24-byte header, XDR payloads.
 *
 * A packet is [u32 length incl. itself][header][payload] (libvirt-rpc.md 1.1-1.6). This file
 * knows the numbers and builds/validates packets; it keeps no per-connection state. Every size
 * limit the reference names is checked here, so that the server never trusts a peer's length.
 */
#ifndef HV_RPC_PACKET_H
#define HV_RPC_PACKET_H

#include <glib.h>
#include <stdint.h>
#include <rpc/rpc.h>

#define HV_RPC_LEN_SIZE     4
#define HV_RPC_HEADER_SIZE  24
#define HV_RPC_MESSAGE_MAX  33554432 /* packet size excluding the length word */
#define HV_RPC_PAYLOAD_MAX  (HV_RPC_MESSAGE_MAX - HV_RPC_HEADER_SIZE)
#define HV_RPC_STREAM_CHUNK 262120 /* data bytes per stream packet, as libvirtd sends */

#define HV_RPC_PROGRAM_REMOTE    0x20008086u
#define HV_RPC_PROGRAM_KEEPALIVE 0x6b656570u
#define HV_RPC_PROGRAM_VERSION   1u

#define HV_RPC_KEEPALIVE_PING 1
#define HV_RPC_KEEPALIVE_PONG 2

enum hv_rpc_type {
	HV_RPC_CALL = 0,
	HV_RPC_REPLY = 1,
	HV_RPC_MESSAGE = 2,
	HV_RPC_STREAM = 3,
	HV_RPC_CALL_WITH_FDS = 4,
	HV_RPC_REPLY_WITH_FDS = 5,
	HV_RPC_STREAM_HOLE = 6,
};

enum hv_rpc_status {
	HV_RPC_OK = 0,
	HV_RPC_ERROR = 1,
	HV_RPC_CONTINUE = 2,
};

typedef struct {
	uint32_t prog;
	uint32_t vers;
	int32_t proc;
	int32_t type;
	uint32_t serial;
	int32_t status;
} hvRpcHeader;

/* TRUE if a length word announces a packet we accept (28 bytes .. 4 + 32 MiB). */
gboolean hv_rpc_length_valid(uint32_t length);

uint32_t hv_rpc_read_u32(const uint8_t *p);
void hv_rpc_header_decode(const uint8_t *p, hvRpcHeader *hdr);

/*
 * Builds a whole packet (length word, header, XDR of data through filter; filter NULL = empty
 * payload). Returns NULL with *err set (VIR_ERR_RPC) if the payload does not encode or would
 * exceed the maximum packet size.
 */
GBytes *hv_rpc_packet_encode(const hvRpcHeader *hdr, xdrproc_t filter, void *data, GError **err);

/* A packet whose payload is raw bytes (stream data). n <= HV_RPC_STREAM_CHUNK. */
GBytes *hv_rpc_packet_raw(const hvRpcHeader *hdr, const void *payload, size_t n);

/* An error reply payload packet built from a GError in the HV_ERROR domain (or any GError,
 * reported as VIR_ERR_INTERNAL_ERROR). hdr's type/status are used as given. */
GBytes *hv_rpc_packet_error(const hvRpcHeader *hdr, const GError *error);

/* Decodes payload into out (zeroed first) through filter. FALSE if it does not decode. */
gboolean hv_rpc_payload_decode(const uint8_t *payload, size_t len, xdrproc_t filter, void *out);

#endif
