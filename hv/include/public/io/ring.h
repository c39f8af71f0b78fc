/*
 * Shared request/response rings for split drivers (block, net, ...).
 *
 * One shared page holds a 64-byte header and then a power-of-two number of slots, each a union
 * of one request and one response. The front end produces requests and consumes responses, the
 * back end the opposite. Indices are free-running 32-bit counters; a slot is idx & (size - 1).
 * Each side keeps private indices (the front end's req_prod_pvt and rsp_cons, the back end's
 * rsp_prod_pvt and req_cons) and publishes its producer index with a write barrier. A consumer
 * that is about to sleep writes *_event = cons + 1 and re-checks; a producer notifies only when
 * its new index passed the consumer's event mark.
 *
 * HV_RING_DEFINE(name, request type, response type) declares
 *   union name_sring_entry, struct name_sring (the shared page),
 *   struct name_front_ring and struct name_back_ring (private state).
 */
#ifndef __HV_PUBLIC_IO_RING_H__
#define __HV_PUBLIC_IO_RING_H__

#include <stdint.h>

typedef uint32_t RING_IDX;

#define HV_RING_HEADER_SIZE 64

/* Barriers usable from hosted and freestanding code alike. */
#define hv_ring_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define hv_ring_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define hv_ring_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)

/* Largest power of two <= x (x < 2^32), as a constant expression. */
#define HV_RING_POW2_2(x)  (((x)&0x2) ? 0x2 : ((x)&0x1))
#define HV_RING_POW2_4(x)  (((x)&0xc) ? (HV_RING_POW2_2((x) >> 2) << 2) : HV_RING_POW2_2(x))
#define HV_RING_POW2_8(x)  (((x)&0xf0) ? (HV_RING_POW2_4((x) >> 4) << 4) : HV_RING_POW2_4(x))
#define HV_RING_POW2_16(x) (((x)&0xff00) ? (HV_RING_POW2_8((x) >> 8) << 8) : HV_RING_POW2_8(x))
#define HV_RING_POW2_32(x)                                                                         \
	(((x)&0xffff0000) ? (HV_RING_POW2_16((x) >> 16) << 16) : HV_RING_POW2_16(x))

/* Number of slots of ring `name` in a shared area of `bytes` bytes. */
#define HV_RING_SIZE_FOR(name, bytes)                                                              \
	((unsigned int)HV_RING_POW2_32(((bytes)-HV_RING_HEADER_SIZE) /                             \
	                               sizeof(union name##_sring_entry)))

#define HV_RING_DEFINE(name, req_t, rsp_t)                                                         \
	union name##_sring_entry {                                                                 \
		req_t req;                                                                         \
		rsp_t rsp;                                                                         \
	};                                                                                         \
	struct name##_sring {                                                                      \
		RING_IDX req_prod, req_event;                                                      \
		RING_IDX rsp_prod, rsp_event;                                                      \
		uint8_t pvt[4];                                                                    \
		uint8_t pad[44];                                                                   \
		union name##_sring_entry ring[];                                                   \
	};                                                                                         \
	struct name##_front_ring {                                                                 \
		RING_IDX req_prod_pvt;                                                             \
		RING_IDX rsp_cons;                                                                 \
		unsigned int nr_ents;                                                              \
		struct name##_sring *sring;                                                        \
	};                                                                                         \
	struct name##_back_ring {                                                                  \
		RING_IDX rsp_prod_pvt;                                                             \
		RING_IDX req_cons;                                                                 \
		unsigned int nr_ents;                                                              \
		struct name##_sring *sring;                                                        \
	}

/* Front end initialises the shared page: producers 0, event marks 1. */
#define HV_RING_SHARED_INIT(s)                                                                     \
	do {                                                                                       \
		(s)->req_prod = (s)->rsp_prod = 0;                                                 \
		(s)->req_event = (s)->rsp_event = 1;                                               \
		for (unsigned int i_ = 0; i_ < sizeof((s)->pvt); i_++)                             \
			(s)->pvt[i_] = 0;                                                          \
		for (unsigned int i_ = 0; i_ < sizeof((s)->pad); i_++)                             \
			(s)->pad[i_] = 0;                                                          \
	} while (0)

#define HV_RING_FRONT_INIT(r, s, bytes_)                                                           \
	do {                                                                                       \
		(r)->req_prod_pvt = 0;                                                             \
		(r)->rsp_cons = 0;                                                                 \
		(r)->nr_ents = (unsigned int)HV_RING_POW2_32(((bytes_)-HV_RING_HEADER_SIZE) /      \
		                                             sizeof((s)->ring[0]));                \
		(r)->sring = (s);                                                                  \
	} while (0)

#define HV_RING_BACK_INIT(r, s, bytes_)                                                            \
	do {                                                                                       \
		(r)->rsp_prod_pvt = 0;                                                             \
		(r)->req_cons = 0;                                                                 \
		(r)->nr_ents = (unsigned int)HV_RING_POW2_32(((bytes_)-HV_RING_HEADER_SIZE) /      \
		                                             sizeof((s)->ring[0]));                \
		(r)->sring = (s);                                                                  \
	} while (0)

#define HV_RING_SLOTS(r) ((r)->nr_ents)

/* Slot access (front: requests it produces, responses it consumes; back: the reverse). */
#define HV_RING_GET_REQUEST(r, idx)  (&((r)->sring->ring[(idx) & ((r)->nr_ents - 1)].req))
#define HV_RING_GET_RESPONSE(r, idx) (&((r)->sring->ring[(idx) & ((r)->nr_ents - 1)].rsp))

/* Front end: free request slots, and whether the ring is full. */
#define HV_RING_FREE_REQUESTS(r) ((r)->nr_ents - ((r)->req_prod_pvt - (r)->rsp_cons))
#define HV_RING_FULL(r)          (HV_RING_FREE_REQUESTS(r) == 0)

/* Front end: responses published but not yet consumed. */
#define HV_RING_HAS_UNCONSUMED_RESPONSES(r) ((r)->sring->rsp_prod - (r)->rsp_cons)

/* Back end: requests published but not yet consumed (bounded by free response room). */
#define HV_RING_HAS_UNCONSUMED_REQUESTS(r)                                                         \
	({                                                                                         \
		RING_IDX req_ = (r)->sring->req_prod - (r)->req_cons;                              \
		RING_IDX rsp_ = (r)->nr_ents - ((r)->req_cons - (r)->rsp_prod_pvt);                \
		req_ < rsp_ ? req_ : rsp_;                                                         \
	})

/* Publish requests; notify is set to 1 when the back end asked to be told. */
#define HV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, notify)                                          \
	do {                                                                                       \
		RING_IDX old_ = (r)->sring->req_prod;                                              \
		RING_IDX new_ = (r)->req_prod_pvt;                                                 \
		hv_ring_wmb();                                                                     \
		(r)->sring->req_prod = new_;                                                       \
		hv_ring_mb();                                                                      \
		(notify) = (RING_IDX)(new_ - (r)->sring->req_event) < (RING_IDX)(new_ - old_);     \
	} while (0)

#define HV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, notify)                                         \
	do {                                                                                       \
		RING_IDX old_ = (r)->sring->rsp_prod;                                              \
		RING_IDX new_ = (r)->rsp_prod_pvt;                                                 \
		hv_ring_wmb();                                                                     \
		(r)->sring->rsp_prod = new_;                                                       \
		hv_ring_mb();                                                                      \
		(notify) = (RING_IDX)(new_ - (r)->sring->rsp_event) < (RING_IDX)(new_ - old_);     \
	} while (0)

/* Before sleeping: set the event mark and re-check (work_to_do = anything left). */
#define HV_RING_FINAL_CHECK_FOR_REQUESTS(r, work_to_do)                                            \
	do {                                                                                       \
		(work_to_do) = HV_RING_HAS_UNCONSUMED_REQUESTS(r);                                 \
		if (work_to_do)                                                                    \
			break;                                                                     \
		(r)->sring->req_event = (r)->req_cons + 1;                                         \
		hv_ring_mb();                                                                      \
		(work_to_do) = HV_RING_HAS_UNCONSUMED_REQUESTS(r);                                 \
	} while (0)

#define HV_RING_FINAL_CHECK_FOR_RESPONSES(r, work_to_do)                                           \
	do {                                                                                       \
		(work_to_do) = HV_RING_HAS_UNCONSUMED_RESPONSES(r);                                \
		if (work_to_do)                                                                    \
			break;                                                                     \
		(r)->sring->rsp_event = (r)->rsp_cons + 1;                                         \
		hv_ring_mb();                                                                      \
		(work_to_do) = HV_RING_HAS_UNCONSUMED_RESPONSES(r);                                \
	} while (0)

#endif /* __HV_PUBLIC_IO_RING_H__ */
