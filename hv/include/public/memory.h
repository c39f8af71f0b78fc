/*
 * Memory reservation and physical-map operations (hypercall #12, memory_op(cmd, arg)).
 *
 * A continued (preempted) reservation op carries its progress in cmd bits 6 and up
 * (MEMOP_EXTENT_SHIFT); guests always pass the bare command. Reservation ops return the number
 * of extents processed.
 */
#ifndef __HV_PUBLIC_MEMORY_H__
#define __HV_PUBLIC_MEMORY_H__

#include "xen.h"

#define XENMEM_increase_reservation     0  /* struct xen_memory_reservation; OUT: MFNs */
#define XENMEM_decrease_reservation     1  /* struct xen_memory_reservation; IN: frames to free */
#define XENMEM_maximum_ram_page         2  /* NULL: highest host MFN */
#define XENMEM_current_reservation      3  /* domid_t *: pages allocated */
#define XENMEM_maximum_reservation      4  /* domid_t *: maximum pages */
#define XENMEM_machphys_mfn_list        5  /* struct xen_machphys_mfn_list */
#define XENMEM_populate_physmap         6  /* struct xen_memory_reservation; IN PFNs, OUT MFNs */
#define XENMEM_add_to_physmap           7  /* translated guests only */
#define XENMEM_memory_map               9  /* struct xen_memory_map: pseudo-physical E820 */
#define XENMEM_machine_memory_map       10 /* struct xen_memory_map: host E820, privileged */
#define XENMEM_exchange                 11 /* struct xen_memory_exchange */
#define XENMEM_machphys_mapping         12 /* struct xen_machphys_mapping */
#define XENMEM_set_memory_map           13 /* struct xen_foreign_memory_map, toolstack */
#define XENMEM_maximum_gpfn             14 /* domid_t *: highest GPFN */
#define XENMEM_claim_pages              24
#define XENMEM_machphys_compat_mfn_list 25
#define XENMEM_get_vnumainfo            26
#define XENMEM_acquire_resource         28

#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK     ((1U << MEMOP_EXTENT_SHIFT) - 1)

/* mem_flags of a reservation. */
#define XENMEMF_address_bits(x)     (x) /* bits 0-7: highest address bit allowed */
#define XENMEMF_get_address_bits(x) ((x)&0xffU)
#define XENMEMF_node(x)             (((x) + 1) << 8) /* bits 8-15: NUMA node + 1 */
#define XENMEMF_get_node(x)         ((((x) >> 8) - 1) & 0xffU)
#define XENMEMF_populate_on_demand  (1U << 16)
#define XENMEMF_exact_node_request  (1U << 17)
#define XENMEMF_vnode               (1U << 18)

struct xen_memory_reservation {
	uint64_t extent_start;  /* guest VA of an xen_pfn_t array (IN and/or OUT) */
	xen_ulong_t nr_extents; /* number of extents */
	uint32_t extent_order;  /* each extent is 2^order pages */
	uint32_t mem_flags;     /* XENMEMF_* */
	domid_t domid;          /* DOMID_SELF unless privileged */
};
typedef struct xen_memory_reservation xen_memory_reservation_t;

struct xen_memory_exchange {
	struct xen_memory_reservation in;  /* frames given up */
	struct xen_memory_reservation out; /* frames received */
	xen_ulong_t nr_exchanged;          /* IN: must be 0; OUT: extents exchanged */
};

struct xen_machphys_mfn_list {
	uint32_t max_extents;  /* IN: room in extent_start */
	uint64_t extent_start; /* guest VA of an xen_pfn_t array, OUT */
	uint32_t nr_extents;   /* OUT */
};

struct xen_machphys_mapping {
	xen_ulong_t v_start, v_end; /* where the read-only M2P is mapped */
	xen_ulong_t max_mfn;        /* highest MFN it covers */
};

/* One E820 entry as the memory_map commands return them: 20 bytes, packed. */
#define XEN_E820_RAM      1
#define XEN_E820_RESERVED 2
#define XEN_E820_ACPI     3
#define XEN_E820_NVS      4
#define XEN_E820_UNUSABLE 5
struct xen_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct xen_memory_map {
	uint32_t nr_entries; /* IN: room in buffer; OUT: entries written */
	uint64_t buffer;     /* guest VA of an xen_e820_entry array */
};

struct xen_foreign_memory_map {
	domid_t domid;
	struct xen_memory_map map;
};

#endif /* __HV_PUBLIC_MEMORY_H__ */
