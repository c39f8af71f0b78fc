/*
 * The PV memory model: frame ownership, types and reference counts, and the checked
 * page-table operations built on them (mm.c has the account of the invariants).
 *
 * mm.c is pure: it reaches the rest of hv only through the few hooks declared at the end of
 * this file, which hv provides in mm-glue.c and the host unit test provides with fakes.
 */
#ifndef HV_PV_MM_H
#define HV_PV_MM_H

#include <stdbool.h>
#include <stdint.h>

#include <hv/domain.h>

/* Domain ids mm.c uses (spelled exactly as public/xen.h spells them). */
#define DOMID_XEN     0x7ff2
#define DOMID_INVALID 0x7ff4

/* Page-table entry bits (x86-64 4-level paging). */
#define PTF_P            (1ull << 0)
#define PTF_RW           (1ull << 1)
#define PTF_US           (1ull << 2)
#define PTF_PWT          (1ull << 3)
#define PTF_PCD          (1ull << 4)
#define PTF_A            (1ull << 5)
#define PTF_D            (1ull << 6)
#define PTF_PSE          (1ull << 7) /* L2/L3: superpage */
#define PTF_PAT          (1ull << 7) /* L1: PAT index bit */
#define PTF_G            (1ull << 8)
#define PTF_AVAIL        (7ull << 9)
#define PTF_GUEST_KERNEL (1ull << 52) /* set by hv: a guest-kernel mapping made US */
#define PTF_GNTTAB       (1ull << 62) /* reserved for hv's grant mappings */
#define PTF_AVAIL_HIGH   (0x7ffull << 52)
#define PTF_NX           (1ull << 63)
#define PTE_ADDR_MASK    0x000ffffffffff000ull

#define pte_mfn(e) (((e)&PTE_ADDR_MASK) >> 12)

/* L4 slots hv owns in every guest L4 (0xffff800000000000 .. 0xffff87ffffffffff). */
#define HV_L4_FIRST_SLOT 256
#define HV_L4_LAST_SLOT  271
#define is_hv_l4_slot(i) ((i) >= HV_L4_FIRST_SLOT && (i) <= HV_L4_LAST_SLOT)

/* Frame types: what a frame is currently used as. Exactly one at a time. */
enum pgt {
	PGT_none = 0,
	PGT_l1 = 1, /* PGT_l1 + n - 1 is an Ln page table */
	PGT_l2 = 2,
	PGT_l3 = 3,
	PGT_l4 = 4,
	PGT_seg_desc = 5, /* GDT/LDT page */
	PGT_writable = 6, /* mapped writable somewhere */
};

/* Frame flags. */
#define PGF_allocated 0x01 /* the owner holds its allocation reference */
#define PGF_pinned    0x02 /* a pin holds one general and one type reference */
#define PGF_validated 0x04 /* type_count > 0 and the contents were checked for the type */
#define PGF_hv_heap   0x08 /* hv memory shared with the owner (shared_info, grant frames) */

/* What hv knows about each machine frame of RAM. */
struct pv_frame {
	uint32_t refs;       /* general references, the allocation reference included */
	uint32_t type_count; /* references that need the frame to stay of its type */
	uint8_t type;        /* enum pgt; PGT_none whenever type_count == 0 */
	uint8_t flags;       /* PGF_* */
	uint16_t owner;      /* domain id, DOMID_INVALID when free */
};

/* Giving frames to domains and taking them back. */
void pv_assign_frame(struct domain *d, uint64_t mfn, bool hv_heap);
int pv_release_frame(struct domain *d, uint64_t mfn);

/* References. Every get that succeeds is paired with exactly one put. */
int get_page(uint64_t mfn, const struct domain *owner);
void put_page(uint64_t mfn);
int get_page_type(uint64_t mfn, enum pgt type);
void put_page_type(uint64_t mfn);
int get_page_and_type(uint64_t mfn, const struct domain *owner, enum pgt type);
void put_page_and_type(uint64_t mfn);
int get_page_and_type_rw(uint64_t mfn, const struct domain *owner, bool rw);

/* Checked operations (the workers of mmu_update, mmuext_op, update_va_mapping, ...). */
int pv_mmu_normal_update(struct domain *pt_owner, struct domain *pg_owner, uint64_t ptr,
                         uint64_t val, bool preserve_ad, bool *flush_all);
int pv_mmu_machphys_update(struct domain *d, uint64_t mfn, uint64_t pfn);
int pv_pin_table(struct domain *d, uint64_t mfn, int level);
int pv_unpin_table(struct domain *d, uint64_t mfn);
int pv_new_baseptr(struct vcpu *v, uint64_t mfn, bool user);
int pv_update_va_mapping(struct vcpu *v, struct domain *pg_owner, uint64_t va, uint64_t val);
int pv_linear_to_l1e(struct vcpu *v, uint64_t va, uint64_t *l1_mfn, unsigned int *idx);
int pv_set_gdt(struct vcpu *v, const uint64_t *frames, unsigned int entries);
int pv_update_descriptor(struct domain *d, uint64_t maddr, uint64_t desc);
int pv_set_ldt(struct vcpu *v, uint64_t base, unsigned int ents);
bool pv_check_descriptor(uint64_t *desc);
int pv_grant_map_l1e(struct domain *d, uint64_t l1_mfn, unsigned int idx, uint64_t mfn, bool rw,
                     bool user, const struct domain *granter);
int pv_grant_unmap_l1e(struct domain *d, uint64_t l1_mfn, unsigned int idx, uint64_t mfn);
int pv_grant_replace_l1e(struct domain *d, uint64_t l1a, unsigned int idxa, uint64_t mfn,
                         uint64_t l1b, unsigned int idxb);

/* Teardown: drop every reference a vCPU holds, then every pin and allocation. */
void pv_relinquish_vcpu(struct vcpu *v);
void pv_relinquish_frame(struct domain *d, uint64_t mfn, bool drop_allocation);

/*
 * Hooks provided by hv (mm-glue.c) or by the unit test.
 */
/* The metadata of RAM frame mfn, or NULL if mfn is not RAM hv manages (I/O memory). */
struct pv_frame *pv_frame(uint64_t mfn);
/* The frame's contents as 512 entries, writable by hv. */
uint64_t *pv_frame_map(uint64_t mfn);
/* The last reference to an unallocated frame went away: give it back to the allocator. */
void pv_frame_free(uint64_t mfn, bool hv_heap);
/* Fill slots 256..271 of a guest L4 being validated with hv's own entries. */
void pv_init_hv_l4_slots(uint64_t *l4, uint64_t l4_mfn, const struct domain *d);
/* May d map I/O memory frame mfn (not RAM hv manages)? */
bool pv_iomem_ok(const struct domain *d, uint64_t mfn);
/* The domain with this id (frames with references always have a live owner). */
struct domain *pv_find_domain(uint16_t domid);
/* Write one entry of the machine-to-phys table. */
void pv_m2p_set(uint64_t mfn, uint64_t pfn);

#endif
