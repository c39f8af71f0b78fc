/*
 * Unit tests of virthvd's wire layer: packet length limits, header decoding, the procedure
 * table's bounds, and the XDR encoding of the structs in daemon/rpc/hv_remote_protocol.x
 * compared byte for byte with packets observed from libvirt 9.0 (libvirt-rpc.md 1.7, 1.8,
 * 3.7, 7.5). Those golden bytes freeze the wire layout: a change to the .x that moves a field
 * fails here.
 */
#include <stdio.h>
#include <string.h>

#include "rpc/dispatch.h"
#include "rpc/hv_remote_protocol.h"
#include "rpc/packet.h"
#include "util/error.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* Hex text (spaces ignored) to bytes. */
static GByteArray *hex(const char *text)
{
	GByteArray *b = g_byte_array_new();

	for (const char *p = text; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		unsigned int v;
		sscanf(p, "%2x", &v);
		guint8 byte = v;
		g_byte_array_append(b, &byte, 1);
		p += 2;
	}
	return b;
}

/* Encodes data through filter and compares the payload with the hex text. */
static void check_payload(const char *what, xdrproc_t filter, void *data, const char *expect)
{
	hvRpcHeader hdr = {HV_RPC_PROGRAM_REMOTE, 1, 1, HV_RPC_REPLY, 0, HV_RPC_OK};
	g_autoptr(GError) err = NULL;
	g_autoptr(GBytes) pkt = hv_rpc_packet_encode(&hdr, filter, data, &err);
	g_autoptr(GByteArray) want = hex(expect);
	gsize len;
	const guint8 *p;

	if (!pkt) {
		fprintf(stderr, "%s: encode failed: %s\n", what, err->message);
		failures++;
		return;
	}
	p = g_bytes_get_data(pkt, &len);
	if (len - 28 != want->len || memcmp(p + 28, want->data, want->len)) {
		fprintf(stderr, "%s: payload differs (%zu bytes, want %u)\n", what, len - 28,
		        want->len);
		failures++;
	}
	CHECK(hv_rpc_read_u32(p) == len);
}

static void test_lengths(void)
{
	CHECK(!hv_rpc_length_valid(0));
	CHECK(!hv_rpc_length_valid(27));
	CHECK(hv_rpc_length_valid(28));
	CHECK(hv_rpc_length_valid(4 + 33554432));
	CHECK(!hv_rpc_length_valid(4 + 33554432 + 1));
	CHECK(!hv_rpc_length_valid(0xffffffffu));
}

static void test_header(void)
{
	g_autoptr(GByteArray) b = hex("20008086 00000001 00000001 00000000 00000002 00000000");
	hvRpcHeader h;

	hv_rpc_header_decode(b->data, &h);
	CHECK(h.prog == HV_RPC_PROGRAM_REMOTE && h.vers == 1 && h.proc == 1);
	CHECK(h.type == HV_RPC_CALL && h.serial == 2 && h.status == HV_RPC_OK);
}

static void test_proc_table(void)
{
	int served = 0;

	CHECK(hv_rpc_proc_lookup(-1) == NULL);
	CHECK(hv_rpc_proc_lookup(0) == NULL);
	CHECK(hv_rpc_proc_lookup(8) == NULL); /* a gap in the numbering */
	CHECK(hv_rpc_proc_lookup(100000) == NULL);
	CHECK(hv_rpc_proc_lookup(G_MAXINT) == NULL);
	CHECK(!strcmp(hv_rpc_proc_lookup(1)->api, "virConnectOpen"));
	CHECK(hv_rpc_proc_lookup(66)->flags & HV_RPC_PROC_BEFORE_OPEN);
	CHECK(!(hv_rpc_proc_lookup(12)->flags & HV_RPC_PROC_READ)); /* destroy modifies */
	for (int i = 0; i < 1000; i++) {
		const hvRpcProc *p = hv_rpc_proc_lookup(i);
		if (!p)
			continue;
		served++;
		CHECK(p->handler && p->args_filter && p->ret_filter);
		CHECK(p->args_size > 0 && p->ret_size > 0);
		CHECK(g_str_has_prefix(p->api, "vir"));
	}
	CHECK(served >= 80);
}

static void test_golden_payloads(void)
{
	/* AUTH_LIST reply: [REMOTE_AUTH_NONE] (7.5) */
	int none = 0;
	remote_auth_list_ret auth = {{1, &none}};
	check_payload("auth_list", (xdrproc_t)xdr_remote_auth_list_ret, &auth, "00000001 00000000");

	/* NODE_GET_INFO reply is 188 bytes: char[32] takes one word per char (1.7) */
	remote_node_get_info_ret ni = {.model = "i686", .memory = 3145728, .cpus = 16};
	hvRpcHeader hdr = {HV_RPC_PROGRAM_REMOTE, 1, 6, HV_RPC_REPLY, 0, HV_RPC_OK};
	g_autoptr(GBytes) pkt =
	    hv_rpc_packet_encode(&hdr, (xdrproc_t)xdr_remote_node_get_info_ret, &ni, NULL);
	CHECK(pkt && g_bytes_get_size(pkt) == 188);

	/* DOMAIN_GET_INFO reply: unsigned char and unsigned short widen to 4 bytes (60 bytes) */
	remote_domain_get_info_ret gi = {1, 8388608, 2097152, 2, 1795481680900000000ULL};
	check_payload("get_info", (xdrproc_t)xdr_remote_domain_get_info_ret, &gi,
	              "00000001 0000000000800000 0000000000200000 00000002 18ead5136ec40900");

	/* GET_SCHEDULER_PARAMETERS reply with weight=50 (1.7.1) */
	remote_typed_param tp = {"weight", {.type = 2, .remote_typed_param_value_u.ui = 50}};
	remote_domain_get_scheduler_parameters_ret sp = {{1, &tp}};
	check_payload("sched", (xdrproc_t)xdr_remote_domain_get_scheduler_parameters_ret, &sp,
	              "00000001 00000006 77656967 68740000 00000002 00000032");

	/* error reply of LOOKUP_BY_NAME on an unknown name, as libvirtd sent it (1.8) */
	char *msg = "Domain not found";
	remote_error re = {42, 12, &msg, 2, NULL, &msg, NULL, NULL, -1, -1, NULL};
	check_payload("error", (xdrproc_t)xdr_remote_error, &re,
	              "0000002a 0000000c 00000001 00000010 446f6d61696e206e6f7420666f756e64 "
	              "00000002 00000000 00000001 00000010 446f6d61696e206e6f7420666f756e64 "
	              "00000000 00000000 ffffffff ffffffff 00000000");

	/* LIST_ALL_DOMAINS reply with one domain (7.5) */
	remote_nonnull_domain d = {"test", {0}, 1};
	memset(d.uuid, 0x11, 16);
	remote_connect_list_all_domains_ret la = {{1, &d}, 1};
	check_payload("list_all", (xdrproc_t)xdr_remote_connect_list_all_domains_ret, &la,
	              "00000001 00000004 74657374 11111111111111111111111111111111 00000001 "
	              "00000001");

	/* lifecycle event: dom2 destroyed (3.7) */
	remote_domain_event_callback_lifecycle_msg ev = {0, {{"dom2", {0}, -1}, 5, 1}};
	memset(ev.msg.dom.uuid, 0x22, 16);
	check_payload("lifecycle", (xdrproc_t)xdr_remote_domain_event_callback_lifecycle_msg, &ev,
	              "00000000 00000004 646f6d32 22222222222222222222222222222222 ffffffff "
	              "00000005 00000001");

	/* security model: count includes the NUL, one word per char (1.7) */
	/* (writable buffers: libtirpc's xdr_char stores the value back even when encoding) */
	char model[] = "none", doi[] = "0";
	remote_node_get_security_model_ret sm = {{5, model}, {2, doi}};
	check_payload("secmodel", (xdrproc_t)xdr_remote_node_get_security_model_ret, &sm,
	              "00000005 0000006e 0000006f 0000006e 00000065 00000000 "
	              "00000002 00000030 00000000");
}

static void test_decode(void)
{
	/* CONNECT_OPEN args for test:///default (7.5) */
	g_autoptr(GByteArray) b =
	    hex("00000001 0000000f 74657374 3a2f2f2f 64656661 756c7400 00000000");
	remote_connect_open_args args = {0};

	CHECK(
	    hv_rpc_payload_decode(b->data, b->len, (xdrproc_t)xdr_remote_connect_open_args, &args));
	CHECK(args.name && !strcmp(*args.name, "test:///default") && args.flags == 0);
	xdr_free((xdrproc_t)xdr_remote_connect_open_args, (char *)&args);

	/* truncated: the string claims 15 bytes, 8 follow */
	remote_connect_open_args bad = {0};
	CHECK(!hv_rpc_payload_decode(b->data, 16, (xdrproc_t)xdr_remote_connect_open_args, &bad));

	/* a typed parameter of an unknown type does not decode */
	g_autoptr(GByteArray) tp = hex("00000001 00000001 61000000 00000063 00000001");
	remote_domain_get_scheduler_parameters_ret sp = {{0}};
	CHECK(!hv_rpc_payload_decode(
	    tp->data, tp->len, (xdrproc_t)xdr_remote_domain_get_scheduler_parameters_ret, &sp));

	/* an array count over the protocol bound does not decode (and allocates nothing big) */
	g_autoptr(GByteArray) big = hex("00100000 00000000 00000000");
	remote_connect_get_all_domain_stats_args st;
	memset(&st, 0, sizeof(st));
	CHECK(!hv_rpc_payload_decode(big->data, big->len,
	                             (xdrproc_t)xdr_remote_connect_get_all_domain_stats_args, &st));
}

static void test_error_packet(void)
{
	g_autoptr(GError) err = NULL;
	hvRpcHeader hdr = {HV_RPC_PROGRAM_REMOTE, 1, 23, HV_RPC_REPLY, 9, HV_RPC_ERROR};
	gsize len;

	hv_error_set(&err, VIR_ERR_NO_DOMAIN, "no domain with matching name '%s'", "x");
	g_autoptr(GBytes) pkt = hv_rpc_packet_error(&hdr, err);
	const guint8 *p = g_bytes_get_data(pkt, &len);
	hvRpcHeader back;
	hv_rpc_header_decode(p + 4, &back);
	CHECK(back.serial == 9 && back.type == HV_RPC_REPLY && back.status == HV_RPC_ERROR);
	CHECK(hv_rpc_read_u32(p + 28) == VIR_ERR_NO_DOMAIN);
	CHECK(hv_rpc_read_u32(p + 32) == VIR_FROM_DOMAIN);
	const char *want = "Domain not found: no domain with matching name 'x'";
	CHECK(hv_rpc_read_u32(p + 40) == strlen(want) && !memcmp(p + 44, want, strlen(want)));
}

int main(void)
{
	test_lengths();
	test_header();
	test_proc_table();
	test_golden_payloads();
	test_decode();
	test_error_packet();
	if (failures) {
		fprintf(stderr, "test_wire: %d failures\n", failures);
		return 1;
	}
	printf("test_wire: all checks passed\n");
	return 0;
}
