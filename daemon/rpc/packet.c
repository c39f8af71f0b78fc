/*
 * Packet encoding and validation for the libvirt RPC protocol (see packet.h).
 *
 * Encoding sizes the XDR payload first (xdr_sizeof) so that a reply too large for the wire is
 * refused with an error instead of being cut; decoding uses a memory XDR stream bounded by the
 * packet, so a lying count or string length fails cleanly instead of reading past the end.
 */
#include "rpc/packet.h"

#include <string.h>

#include "rpc/hv_remote_protocol.h"
#include "util/error.h"

gboolean hv_rpc_length_valid(uint32_t length)
{
	return length >= HV_RPC_LEN_SIZE + HV_RPC_HEADER_SIZE &&
	       length - HV_RPC_LEN_SIZE <= HV_RPC_MESSAGE_MAX;
}

uint32_t hv_rpc_read_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void hv_rpc_header_decode(const uint8_t *p, hvRpcHeader *hdr)
{
	hdr->prog = hv_rpc_read_u32(p);
	hdr->vers = hv_rpc_read_u32(p + 4);
	hdr->proc = (int32_t)hv_rpc_read_u32(p + 8);
	hdr->type = (int32_t)hv_rpc_read_u32(p + 12);
	hdr->serial = hv_rpc_read_u32(p + 16);
	hdr->status = (int32_t)hv_rpc_read_u32(p + 20);
}

static void header_encode(uint8_t *p, uint32_t length, const hvRpcHeader *hdr)
{
	put_u32(p, length);
	put_u32(p + 4, hdr->prog);
	put_u32(p + 8, hdr->vers);
	put_u32(p + 12, (uint32_t)hdr->proc);
	put_u32(p + 16, (uint32_t)hdr->type);
	put_u32(p + 20, hdr->serial);
	put_u32(p + 24, (uint32_t)hdr->status);
}

GBytes *hv_rpc_packet_encode(const hvRpcHeader *hdr, xdrproc_t filter, void *data, GError **err)
{
	unsigned long payload = 0;
	size_t length;
	uint8_t *buf;
	XDR xdr;

	if (filter) {
		payload = xdr_sizeof(filter, data);
		/* xdr_sizeof says 0 both for an empty body and for one that does not encode. */
		if (payload == 0) {
			char none;
			xdrmem_create(&xdr, &none, 0, XDR_ENCODE);
			gboolean ok = filter(&xdr, data, 0);
			xdr_destroy(&xdr);
			if (!ok) {
				hv_error_set(err, VIR_ERR_RPC, "unable to encode message payload");
				return NULL;
			}
		}
	}
	if (payload > HV_RPC_PAYLOAD_MAX) {
		hv_error_set(err, VIR_ERR_RPC, "message payload of %lu bytes is too large",
		             payload);
		return NULL;
	}
	length = HV_RPC_LEN_SIZE + HV_RPC_HEADER_SIZE + payload;
	buf = g_malloc(length);
	header_encode(buf, length, hdr);
	if (payload) {
		xdrmem_create(&xdr, (char *)buf + HV_RPC_LEN_SIZE + HV_RPC_HEADER_SIZE, payload,
		              XDR_ENCODE);
		gboolean ok = filter(&xdr, data, 0);
		xdr_destroy(&xdr);
		if (!ok) {
			g_free(buf);
			hv_error_set(err, VIR_ERR_RPC, "unable to encode message payload");
			return NULL;
		}
	}
	return g_bytes_new_take(buf, length);
}

GBytes *hv_rpc_packet_raw(const hvRpcHeader *hdr, const void *payload, size_t n)
{
	size_t length = HV_RPC_LEN_SIZE + HV_RPC_HEADER_SIZE + n;
	uint8_t *buf = g_malloc(length);

	g_assert(n <= HV_RPC_STREAM_CHUNK);
	header_encode(buf, length, hdr);
	if (n)
		memcpy(buf + HV_RPC_LEN_SIZE + HV_RPC_HEADER_SIZE, payload, n);
	return g_bytes_new_take(buf, length);
}

GBytes *hv_rpc_packet_error(const hvRpcHeader *hdr, const GError *error)
{
	remote_error rerr = {0};
	int code = VIR_ERR_INTERNAL_ERROR;
	char *message = error ? error->message : "internal error: unknown failure";
	GBytes *packet;

	if (error && error->domain == HV_ERROR)
		code = error->code;
	rerr.code = code;
	rerr.domain = hv_error_domain_for(code);
	rerr.message = &message;
	rerr.level = VIR_ERR_ERROR;
	rerr.str1 = &message;
	rerr.int1 = -1;
	rerr.int2 = -1;
	packet = hv_rpc_packet_encode(hdr, (xdrproc_t)xdr_remote_error, &rerr, NULL);
	if (!packet) {
		/* Only an absurdly long message can fail: send a short one instead. */
		char *shorter = "internal error: error message too long";
		rerr.code = VIR_ERR_INTERNAL_ERROR;
		rerr.message = &shorter;
		rerr.str1 = &shorter;
		packet = hv_rpc_packet_encode(hdr, (xdrproc_t)xdr_remote_error, &rerr, NULL);
	}
	return packet;
}

gboolean hv_rpc_payload_decode(const uint8_t *payload, size_t len, xdrproc_t filter, void *out)
{
	XDR xdr;
	gboolean ok;

	xdrmem_create(&xdr, (char *)payload, len, XDR_DECODE);
	ok = filter(&xdr, out, 0);
	xdr_destroy(&xdr);
	if (!ok)
		xdr_free(filter, out); /* releases whatever was decoded before the failure */
	return ok;
}
