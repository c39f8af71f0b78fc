/*
 * Physical-device operations (hypercall #33, physdev_op(cmd, arg)): I/O privilege and
 * interrupt plumbing. Most are for the hardware domain; an ordinary guest uses set_iopl at most.
 */
#ifndef __HV_PUBLIC_PHYSDEV_H__
#define __HV_PUBLIC_PHYSDEV_H__

#include "xen.h"

#define PHYSDEVOP_irq_status_query 5
#define PHYSDEVOP_set_iopl         6
#define PHYSDEVOP_set_iobitmap     7
#define PHYSDEVOP_apic_read        8
#define PHYSDEVOP_apic_write       9
#define PHYSDEVOP_alloc_irq_vector 10
#define PHYSDEVOP_free_irq_vector  11
#define PHYSDEVOP_eoi              12
#define PHYSDEVOP_map_pirq         13
#define PHYSDEVOP_unmap_pirq       14
#define PHYSDEVOP_pirq_eoi_gmfn_v1 17
#define PHYSDEVOP_pirq_eoi_gmfn_v2 28

struct physdev_eoi {
	uint32_t irq;
};

#define XENIRQSTAT_needs_eoi (1U << 0)
#define XENIRQSTAT_shared    (1U << 1)
struct physdev_irq_status_query {
	uint32_t irq;   /* IN */
	uint32_t flags; /* OUT: XENIRQSTAT_* */
};

struct physdev_set_iopl {
	uint32_t iopl; /* 0..3 */
};

struct physdev_set_iobitmap {
	uint64_t bitmap; /* guest VA */
	uint32_t nr_ports;
};

struct physdev_pirq_eoi_gmfn {
	xen_pfn_t gmfn;
};

#endif /* __HV_PUBLIC_PHYSDEV_H__ */
