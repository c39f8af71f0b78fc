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

/*
 * map_pirq (privileged): give a device interrupt a pirq. hv implements MSI-X only
 * (type MAP_PIRQ_TYPE_MSI with table_base != 0, as Xen spells MSI-X): hv itself programs entry
 * entry_nr of the MSI-X table of the PCI function bus:devfn (segment 0) with a vector of its
 * own, unmasks it and enables MSI-X and bus mastering. table_base is the physical address of
 * the BAR holding the table (checked against the device). index is ignored; pirq is OUT.
 * Delivery in hv (simpler than Xen's EVTCHNOP_bind_pirq, which hv does not implement): every
 * mapped pirq of a domain raises that domain's global VIRQ_PIRQ; the domain binds it with
 * EVTCHNOP_bind_virq and checks its devices on each event. Edge-triggered: no EOI needed.
 */
#define MAP_PIRQ_TYPE_MSI 0x0
#define VIRQ_PIRQ         17 /* VIRQ_ARCH_1: one of this domain's mapped pirqs fired (hv) */
struct physdev_map_pirq {
	domid_t domid;       /* IN: DOMID_SELF or the caller */
	uint16_t pad0;
	int32_t type;        /* IN: MAP_PIRQ_TYPE_MSI */
	int32_t index;       /* IN: ignored */
	int32_t pirq;        /* OUT */
	int32_t bus;         /* IN */
	int32_t devfn;       /* IN */
	int32_t entry_nr;    /* IN: MSI-X table entry */
	uint32_t pad1;
	uint64_t table_base; /* IN: physical base of the BAR holding the MSI-X table */
};

/* unmap_pirq: masks the pirq's MSI-X entry and frees the pirq. */
struct physdev_unmap_pirq {
	domid_t domid;
	uint16_t pad0;
	int32_t pirq;
};

#endif /* __HV_PUBLIC_PHYSDEV_H__ */
