/*
 * A stand-in for dom0's control agent, for libhvctl's host tests only: it answers the control,
 * console and bulk messages of link_ctl.h from a table of simulated domains, with the same
 * admission rule the real hypervisor applies (the sum of CPU reservations must fit on the
 * machine's CPUs), and emits domain state events when subscribed. It is NOT the machine:
 * it exists so that the library's encodings, matching, timeouts and errors can be tested
 * without one. Knobs let tests make it slow, silent, or wrong.
 */
#ifndef HV_TESTS_FAKE_AGENT_H
#define HV_TESTS_FAKE_AGENT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "link_ctl.h"
#include "link_io.h"
#include "link_proto.h"

#define FAKE_MAX_DOMAINS 64
#define FAKE_CONSOLE     4096

struct fake_domain {
	int used;
	uint32_t domid, state, reason;
	uint32_t nr_vcpus, max_vcpus;
	uint64_t max_kib, cur_kib, guarantee_kib;
	uint32_t weight, cap, reservation;
	uint8_t uuid[16];
	int built;
	char cmdline[HVLINK_CMDLINE_MAX];
	char out[FAKE_CONSOLE]; /* console output waiting to be read */
	size_t out_len;
	struct hvlink_ctl_bandwidth bw[4];
	struct fake_device {
		int used;
		uint16_t kind, devid;
		uint32_t flags;
		uint64_t sectors;
		uint8_t mac[6];
	} devs[8];
};

/*
 * Test-only control operations (never sent by libhvctl's own calls): they make the fake agent
 * play dom0's back ends on the data channels, so that host tests can drive the holder's block
 * server and TAPs through an ordinary handle (core_call on the control channel).
 *  FAKE_OP_BLOCK:    struct fake_blk_op + the bytes of a BLOCK request's payload (as dom0
 *                    would send them, well formed or not); the agent sends them on the BLOCK
 *                    channel as a request of type blk_type and answers this call once the host
 *                    answered that: status = the host's status; payload = struct
 *                    fake_blk_result + the first FAKE_BLK_HEAD bytes of the host's answer.
 *  FAKE_OP_NET_SEND: hvlink_net_frame + frame: sent to the host on the NET channel.
 *  FAKE_OP_NET_RECV: (head only) -> hvlink_net_frame + the oldest frame the host sent,
 *                    or -ENOENT when none is waiting.
 */
#define FAKE_OP_BLOCK    0x7e01
#define FAKE_OP_NET_SEND 0x7e02
#define FAKE_OP_NET_RECV 0x7e03
#define FAKE_BLK_HEAD    4096
#define FAKE_NET_QUEUE   32

struct fake_blk_op {
	uint32_t blk_type; /* enum hvlink_blk_op, or anything */
	uint32_t fill_len; /* the agent appends this many bytes of fake_pattern(i, seed) */
	uint32_t seed;     /* (the control channel is too small for a large write's data) */
	uint32_t reserved;
};

static inline uint8_t fake_pattern(uint32_t i, uint32_t seed)
{
	return (uint8_t)(i * 31 + (i >> 9) + seed);
}

struct fake_blk_result {
	uint32_t len;   /* bytes the host answered with */
	uint32_t crc32; /* of all of them (fake_crc32) */
};

struct fake_xfer {
	uint32_t xfer, kind;
	int summed; /* begun with HVLINK_BULK_SUM64 */
	uint64_t total, got;
	uint8_t *data;
	int error; /* first failure, negative HVLINK_E* */
	int complete;
};

struct fake_agent {
	pthread_mutex_t lock;
	struct fake_domain doms[FAKE_MAX_DOMAINS];
	uint32_t next_domid;
	unsigned nr_cpus;
	int subscribed;
	struct fake_xfer xfers[4];
	struct {
		uint32_t blk_id, ctl_id; /* 0: free */
	} blk_pending[16];
	uint32_t next_blk_id;
	struct {
		uint32_t len;
		uint8_t data[8 + 1514];
	} net_q[FAKE_NET_QUEUE];
	unsigned net_head, net_count;
	unsigned long net_dropped;

	/* Knobs. */
	int hang_op;          /* never answer requests of this control op */
	int delay_ms;         /* sleep before answering each request */
	int short_reply_op;   /* answer this op with a payload one byte short */
	uint32_t agent_major; /* what HELLO reports (default HVLINK_VERSION_MAJOR) */
	uint32_t agent_minor; /* what HELLO reports (default HVLINK_VERSION_MINOR); below 1 the
	                       * agent acts as a 1.0 one: no 64-bit sums for images */
	int ugly_errors;      /* put terminal escapes and newlines into error messages */

	/* Observations. */
	unsigned long requests;
	size_t last_kernel_len;
	uint32_t last_kernel_crc; /* of the bytes received, whichever check the host sent */
	int last_kernel_summed;   /* 1: checked by END_SUM, 0: by END's CRC */
};

typedef void (*fake_reply_fn)(void *ctx, uint16_t chan, const struct hvlink_msg *hdr,
                              const void *payload);

void fake_agent_init(struct fake_agent *a, unsigned nr_cpus);
void fake_agent_destroy(struct fake_agent *a);

/* Handles one message from the host; answers (and events) go through reply(ctx, ...). */
void fake_agent_handle(struct fake_agent *a, uint16_t chan, const struct hvlink_msg *msg,
                       const void *payload, fake_reply_fn reply, void *ctx);

/* The same CRC-32 the library sends with an image. */
uint32_t fake_crc32(const void *data, size_t len);
void fake_sum64(const void *data, size_t len, uint64_t *a, uint64_t *b);

#endif
