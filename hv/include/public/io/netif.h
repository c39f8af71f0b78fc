/*
 * The network split-driver rings (Xen's netif ABI, x86-64 layout): two rings of io/ring.h, each
 * in its own shared page. On the transmit ring the front end (netfront, in a domU) names the
 * bytes of each frame it sends by grant reference, offset and size, and the back end (netback,
 * in dom0) answers each request with its id and a NETIF_RSP_* status. On the receive ring the
 * front end posts empty granted pages; the back end copies a frame into one (rx-copy) and
 * answers with the request's id, where the frame starts in the page and its length as status
 * (a negative status is a NETIF_RSP_* error).
 *
 * A frame may span several transmit slots (NETTXF_more_data: the first slot's size is the whole
 * frame's, each later one's its own part) and carry extra-info slots (NETTXF_extra_info) only
 * when the back end advertised the features that use them; our back end advertises neither.
 * Each slot of the rings is answered exactly once, in the slot of its request on the receive
 * ring (front ends rely on that position, not on the id).
 *
 * XenStore nodes (io-design.md): the back end's mac, handle, feature-rx-copy; the front end's
 * tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy.
 */
#ifndef __HV_PUBLIC_IO_NETIF_H__
#define __HV_PUBLIC_IO_NETIF_H__

#include <stdint.h>

#include "../grant_table.h"
#include "ring.h"

/* The fewest transmit slots one frame may take that every back end must accept. */
#define XEN_NETIF_NR_SLOTS_MIN 18

/* Transmit request flags (netif_tx_request.flags). */
#define NETTXF_csum_blank     (1U << 0) /* the protocol checksum is left to the back end */
#define NETTXF_data_validated (1U << 1) /* the checksum has been checked already */
#define NETTXF_more_data      (1U << 2) /* the frame continues in the next slot */
#define NETTXF_extra_info     (1U << 3) /* extra-info slots follow this one */

/* Largest frame size a transmit request can state. */
#define XEN_NETIF_MAX_TX_SIZE 0xFFFF

/* Transmit request: 12 bytes. */
struct netif_tx_request {
	grant_ref_t gref; /* page holding the bytes */
	uint16_t offset;  /* where they start in it */
	uint16_t flags;   /* NETTXF_* */
	uint16_t id;      /* echoed in the response */
	uint16_t size;    /* bytes (the whole frame's in a frame's first slot) */
};
typedef struct netif_tx_request netif_tx_request_t;

/* Extra-info slot types and flags. */
#define XEN_NETIF_EXTRA_TYPE_NONE      0
#define XEN_NETIF_EXTRA_TYPE_GSO       1
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD 2
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL 3
#define XEN_NETIF_EXTRA_TYPE_MAX       4
#define XEN_NETIF_EXTRA_FLAG_MORE      (1U << 0)

#define XEN_NETIF_GSO_TYPE_NONE  0
#define XEN_NETIF_GSO_TYPE_TCPV4 1
#define XEN_NETIF_GSO_TYPE_TCPV6 2

/* An extra-info slot: fits both a transmit request and a receive response (8 bytes). */
struct netif_extra_info {
	uint8_t type;  /* XEN_NETIF_EXTRA_TYPE_* */
	uint8_t flags; /* XEN_NETIF_EXTRA_FLAG_* */
	union {
		struct {
			uint16_t size; /* segment payload size */
			uint8_t type;  /* XEN_NETIF_GSO_TYPE_* */
			uint8_t pad;
			uint16_t features;
		} gso;
		struct {
			uint8_t addr[6];
		} mcast;
		uint16_t pad[3];
	} u;
};
typedef struct netif_extra_info netif_extra_info_t;

/* Transmit response: 4 bytes used of a 12-byte slot. */
struct netif_tx_response {
	uint16_t id;
	int16_t status; /* NETIF_RSP_* */
};
typedef struct netif_tx_response netif_tx_response_t;

/* Receive request: an empty page offered to the back end. */
struct netif_rx_request {
	uint16_t id; /* echoed in the response */
	uint16_t pad;
	grant_ref_t gref; /* the page, writable by the back end */
};
typedef struct netif_rx_request netif_rx_request_t;

/* Receive response flags (netif_rx_response.flags). */
#define NETRXF_data_validated (1U << 0)
#define NETRXF_csum_blank     (1U << 1)
#define NETRXF_more_data      (1U << 2)
#define NETRXF_extra_info     (1U << 3)
#define NETRXF_gso_prefix     (1U << 4) /* deprecated */

/* Receive response: 8 bytes. */
struct netif_rx_response {
	uint16_t id;
	uint16_t offset; /* where the frame starts in the page */
	uint16_t flags;  /* NETRXF_* */
	int16_t status;  /* > 0: the frame's length; < 0: NETIF_RSP_* */
};
typedef struct netif_rx_response netif_rx_response_t;

/* Response status codes. */
#define NETIF_RSP_DROPPED (-2)
#define NETIF_RSP_ERROR   (-1)
#define NETIF_RSP_OKAY    0
#define NETIF_RSP_NULL    1 /* no response: the slot was an extra-info one */

HV_RING_DEFINE(netif_tx, struct netif_tx_request, struct netif_tx_response);
HV_RING_DEFINE(netif_rx, struct netif_rx_request, struct netif_rx_response);

/* One page per ring: 256 slots each. */
#define NET_TX_RING_SIZE HV_RING_SIZE_FOR(netif_tx, 4096)
#define NET_RX_RING_SIZE HV_RING_SIZE_FOR(netif_rx, 4096)

_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request");
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response");
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request");
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response");
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info");
_Static_assert(sizeof(union netif_tx_sring_entry) == 12, "netif tx slot");
_Static_assert(sizeof(union netif_rx_sring_entry) == 8, "netif rx slot");
_Static_assert(__builtin_offsetof(struct netif_tx_request, offset) == 4, "tx offset");
_Static_assert(__builtin_offsetof(struct netif_tx_request, flags) == 6, "tx flags");
_Static_assert(__builtin_offsetof(struct netif_tx_request, id) == 8, "tx id");
_Static_assert(__builtin_offsetof(struct netif_tx_request, size) == 10, "tx size");
_Static_assert(__builtin_offsetof(struct netif_rx_request, gref) == 4, "rx gref");
_Static_assert(__builtin_offsetof(struct netif_rx_response, offset) == 2, "rx offset");
_Static_assert(__builtin_offsetof(struct netif_rx_response, flags) == 4, "rx flags");
_Static_assert(__builtin_offsetof(struct netif_rx_response, status) == 6, "rx status");
_Static_assert(NET_TX_RING_SIZE == 256 && NET_RX_RING_SIZE == 256, "netif ring slots");

#endif /* __HV_PUBLIC_IO_NETIF_H__ */
