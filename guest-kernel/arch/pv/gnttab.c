/*
 * Grant tables (include/gnttab.h), Xen's v1 ABI: our own table, through which front ends let a
 * peer use pages of ours, and the back-end operations on a peer's grants (map, unmap, copy).
 *
 * Where things live: the grant window, L4 slot 510's L3 entry 2 (PV_SCRATCH_BASE + 2 GiB, one
 * L2 of ours). Its first L1 maps our table's frames (page i = frame i); its second L1 holds the
 * pages at which peers' grants are mapped (a bitmap says which are taken). Nothing else in the
 * kernel uses that GiB.
 *
 * Invariants:
 *  - a free reference has flags 0 in the table and sits on the free stack exactly once; refs
 *    below GNTTAB_NR_RESERVED_ENTRIES are never handed out (console and store);
 *  - an entry becomes visible to the peer only after its domid and frame (write barrier, then
 *    flags), and is revoked with a compare-exchange that fails while the hypervisor has marked
 *    it in use (GTF_reading/GTF_writing), so a page is never reused under a peer's mapping;
 *  - the free stack and the map bitmap change with events masked (front and back ends may call
 *    in from event handlers).
 */
#include <kernel.h>
#include <mm.h>
#include <gnttab.h>
#include <klib/string.h>
#include "pv.h"

#define GNT_WINDOW_BASE  (PV_SCRATCH_BASE + (2UL << 30))
#define GNT_L3_SLOT      2
#define GNT_FRAMES_WANT  8u /* 4096 entries: a block ring and a net device or two */
#define GNT_FRAMES_MAX   32u
#define GNT_PER_FRAME    (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define GNT_MAP_SLOTS    512u /* one L1 of mapping pages */
#define GNT_MAP_VA(slot) (GNT_WINDOW_BASE + (512UL + (slot)) * PAGE_SIZE)

static uint64_t *window_l2;
static uint64_t *window_l1[2]; /* [0]: our table's frames, [1]: peers' mapped grants */

static volatile struct grant_entry_v1 *table;
static unsigned int nr_entries;
static grant_ref_t free_refs[GNT_FRAMES_MAX * GNT_PER_FRAME];
static unsigned int nr_free;

static uint64_t map_used[GNT_MAP_SLOTS / 64];

static long mmu_update1(uint64_t *entry, uint64_t val)
{
	struct mmu_update u = {.ptr = pv_virt_to_maddr(entry) | MMU_NORMAL_PT_UPDATE, .val = val};

	return HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
}

/* The L1 i of the window, made and hooked in on first use. */
static uint64_t *window_table(unsigned int i)
{
	long rc;

	if (!window_l2) {
		uint64_t *l2 = pv_alloc_pinned_table(2, &rc);

		if (!l2)
			return NULL;
		rc = mmu_update1(&pv_scratch_l3[GNT_L3_SLOT], pv_virt_to_maddr(l2) | TABLE_PROT);
		if (rc) {
			printk("gnttab: hooking the grant window failed: %ld\n", rc);
			pv_free_pinned_table(l2);
			return NULL;
		}
		window_l2 = l2;
	}
	if (!window_l1[i]) {
		uint64_t *l1 = pv_alloc_pinned_table(1, &rc);

		if (!l1)
			return NULL;
		rc = mmu_update1(&window_l2[i], pv_virt_to_maddr(l1) | TABLE_PROT);
		if (rc) {
			printk("gnttab: hooking a grant-window L1 failed: %ld\n", rc);
			pv_free_pinned_table(l1);
			return NULL;
		}
		window_l1[i] = l1;
	}
	return window_l1[i];
}

int gnttab_status_errno(int16_t status)
{
	switch (status) {
	case GNTST_okay:
		return 0;
	case GNTST_bad_domain:
		return -XEN_ESRCH;
	case GNTST_bad_gntref:
	case GNTST_bad_handle:
	case GNTST_bad_virt_addr:
	case GNTST_bad_dev_addr:
	case GNTST_bad_copy_arg:
		return -XEN_EINVAL;
	case GNTST_permission_denied:
		return -XEN_EACCES;
	case GNTST_no_device_space:
	case GNTST_no_space:
		return -XEN_ENOSPC;
	case GNTST_eagain:
		return -XEN_EAGAIN;
	default:
		return -XEN_EIO;
	}
}

int gnttab_init(void)
{
	struct gnttab_query_size q = {.dom = DOMID_SELF};
	static uint64_t frames[GNT_FRAMES_MAX];
	struct gnttab_setup_table st = {.dom = DOMID_SELF, .frame_list = (uint64_t)frames};
	uint64_t *l1;
	long rc;

	if (table)
		return 0;
	rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
	if (rc == 0 && q.status == GNTST_okay && q.max_nr_frames)
		st.nr_frames = MIN(GNT_FRAMES_WANT, q.max_nr_frames);
	else
		st.nr_frames = 1;
	rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
	if (rc || st.status != GNTST_okay) {
		printk("gnttab: setup_table(%u frames): %ld, status %d\n", st.nr_frames, rc,
		       st.status);
		return rc ? (int)rc : gnttab_status_errno(st.status);
	}
	l1 = window_table(0);
	if (!l1)
		return -XEN_ENOMEM;
	for (unsigned int i = 0; i < st.nr_frames; i++) {
		rc = mmu_update1(&l1[i], (frames[i] << PAGE_SHIFT) | L1_PROT | (1ULL << 63));
		if (rc) {
			printk("gnttab: mapping table frame %u failed: %ld\n", i, rc);
			return (int)rc;
		}
	}
	nr_entries = st.nr_frames * (unsigned int)GNT_PER_FRAME;
	/* Highest refs at the bottom of the stack: low refs are handed out first. */
	for (unsigned int r = nr_entries; r-- > GNTTAB_NR_RESERVED_ENTRIES;)
		free_refs[nr_free++] = r;
	table = (volatile struct grant_entry_v1 *)GNT_WINDOW_BASE;
	printk("gnttab: %u frames, %u entries\n", st.nr_frames, nr_entries);
	return 0;
}

int gnttab_grant_access(uint16_t domid, const void *va, bool readonly)
{
	unsigned long flags;
	grant_ref_t ref;

	if (!table || ((uintptr_t)va & (PAGE_SIZE - 1)))
		return -XEN_EINVAL;
	flags = pv_irq_save();
	if (nr_free == 0) {
		pv_irq_restore(flags);
		return -XEN_ENOSPC;
	}
	ref = free_refs[--nr_free];
	pv_irq_restore(flags);
	table[ref].domid = domid;
	table[ref].frame = (uint32_t)pv_virt_to_mfn(va);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	table[ref].flags = (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0));
	return (int)ref;
}

int gnttab_end_access(grant_ref_t ref)
{
	unsigned long irq;
	uint16_t flags;

	if (!table || ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= nr_entries)
		return -XEN_EINVAL;
	flags = __atomic_load_n(&table[ref].flags, __ATOMIC_SEQ_CST);
	do {
		if ((flags & GTF_type_mask) == GTF_invalid)
			return -XEN_EINVAL; /* not granted: never put a ref on the stack twice */
		if (flags & (GTF_reading | GTF_writing))
			return -XEN_EBUSY;
	} while (!__atomic_compare_exchange_n(&table[ref].flags, &flags, 0, false, __ATOMIC_SEQ_CST,
	                                      __ATOMIC_SEQ_CST));
	irq = pv_irq_save();
	free_refs[nr_free++] = ref;
	pv_irq_restore(irq);
	return 0;
}

/* A free mapping page of the window, or -1. */
static int map_slot_get(void)
{
	unsigned long flags = pv_irq_save();
	int slot = -1;

	for (unsigned int w = 0; w < ARRAY_SIZE(map_used) && slot < 0; w++)
		if (~map_used[w]) {
			unsigned int b = (unsigned int)__builtin_ctzll(~map_used[w]);

			map_used[w] |= 1ULL << b;
			slot = (int)(w * 64 + b);
		}
	pv_irq_restore(flags);
	return slot;
}

static void map_slot_put(unsigned int slot)
{
	unsigned long flags = pv_irq_save();

	map_used[slot / 64] &= ~(1ULL << (slot % 64));
	pv_irq_restore(flags);
}

void *gnttab_map(uint16_t domid, grant_ref_t ref, bool readonly, grant_handle_t *handle, int *err)
{
	struct gnttab_map_grant_ref m = {
	    .flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0), .ref = ref, .dom = domid};
	int slot, e;
	long rc;

	if (!window_table(1)) {
		*err = -XEN_ENOMEM;
		return NULL;
	}
	slot = map_slot_get();
	if (slot < 0) {
		*err = -XEN_ENOSPC;
		return NULL;
	}
	m.host_addr = GNT_MAP_VA(slot);
	rc = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1);
	e = rc ? (int)rc : gnttab_status_errno(m.status);
	if (e) {
		map_slot_put((unsigned int)slot);
		*err = e;
		return NULL;
	}
	*handle = m.handle;
	*err = 0;
	return (void *)m.host_addr;
}

int gnttab_unmap(void *va, grant_handle_t handle)
{
	uint64_t a = (uint64_t)va;
	struct gnttab_unmap_grant_ref u = {.host_addr = a, .handle = handle};
	long rc;

	if (a < GNT_MAP_VA(0) || a >= GNT_MAP_VA(GNT_MAP_SLOTS) || (a & (PAGE_SIZE - 1)))
		return -XEN_EINVAL;
	rc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);
	if (rc)
		return (int)rc;
	if (u.status != GNTST_okay)
		return gnttab_status_errno(u.status);
	map_slot_put((unsigned int)((a - GNT_MAP_VA(0)) / PAGE_SIZE));
	return 0;
}

int gnttab_copy(struct gnttab_copy *ops, unsigned int n)
{
	long rc = 0;

	/* In batches, so that one call stays short (the hypervisor copies each op under a lock). */
	for (unsigned int done = 0; done < n && rc == 0;) {
		unsigned int k = MIN(n - done, 64u);

		rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, ops + done, k);
		done += k;
	}
	return (int)rc;
}
