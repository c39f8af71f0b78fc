/*
 * The PV memory model: who owns each machine frame, what it is used as, and who refers to it.
 * Guests run on page tables they build themselves; hv only lets a table become a page table
 * after checking every entry, and keeps it checked for as long as anything may load it.
 *
 * Reference model (as in "Xen and the Art of Virtualization" and Xen's mm.c):
 *
 * - Every RAM frame has an owner (a domain id, or DOMID_INVALID when free) and two counts.
 *   `refs` counts general references: the owner's allocation reference (PGF_allocated), every
 *   present page-table entry that maps the frame, every pin, base pointer and GDT slot. A frame
 *   goes back to the allocator exactly when refs drops to zero, so nothing can still map it.
 *
 * - `type` says what the frame is used as: L1..L4 page table, seg_desc (GDT/LDT), writable
 *   (mapped RW somewhere), or none. `type_count` counts the references that need that type:
 *   RW L1 entries (writable), Ln entries pointing to a table (Ln-1), pins and base pointers
 *   (their level), GDT slots (seg_desc). Every type reference is accompanied by a general one.
 *   The type can change only while type_count is zero; while it is nonzero, requests for
 *   another type fail with -EINVAL. Hence no frame is ever both a page table (or descriptor
 *   table) and writable-mapped: the guest must map a table read-only before using it.
 *
 * - Taking the first type reference as a page table (or seg_desc) validates the frame: every
 *   present entry is checked (flags, frame ownership, level) and takes the references it
 *   implies; lower tables are validated recursively on their first reference. Dropping the
 *   last type reference devalidates: every entry's references are released and the type
 *   returns to none. So a frame with PGF_validated set holds exactly the references its
 *   present entries imply, and every frame reachable from a validated table is validated too.
 *
 * - Entry rules (64-bit PV): flags outside P RW US A D, bits 9-11, 52-62 and NX are refused;
 *   L1 also allows G, and the cache bits PWT/PCD/PAT only for a domain with I/O privilege;
 *   bit 62 is hv's in L1; PSE (superpages), G and cache bits are refused in L2-L4. L4 slots
 *   256-271 belong to hv: validation overwrites them and updates to them are refused. Frames
 *   mapped must belong to the page-table owner (dom0 may map any domain's frames); I/O memory
 *   (frames hv does not manage) only where pv_iomem_ok() allows, and without references.
 *   Errors: a bad entry is -EINVAL; an L1 entry whose frame cannot be referenced as asked
 *   (not ours, or a table mapped writable) is -EBUSY, as Xen reports it; a table that does not
 *   validate is -EINVAL.
 *   An Ln entry may point back to its own table ("linear page table") only read-only; it then
 *   takes a general reference only. Linear entries to other tables are refused, so the type
 *   references form a forest rooted at pins, base pointers and GDT slots, and dropping the
 *   roots always brings every count back to zero.
 *
 * - hv adjusts what it accepts, as Xen does (guests can see it): L1 kernel entries (US clear)
 *   get US and PTF_GUEST_KERNEL and never G; guest-user entries get G; L2-L4 entries get US;
 *   L4 entries get A.
 *
 * Concurrency: callers hold the page-table owner's mm lock (see hv/domain.h); entries are
 * written with single 64-bit atomic stores, since the hardware walks them concurrently and
 * sets A/D bits under us.
 */
#include "mm.h"
#include "pv-errno.h"

/* GDT geometry and the flat kernel selector of the 64-bit PV ABI (public/xen.h). */
#define GUEST_GDT_ENTRIES 7168
#define GUEST_KERNEL_CS   0xe033

#define L1_ALLOWED                                                                                 \
	(PTF_P | PTF_RW | PTF_US | PTF_A | PTF_D | PTF_G | PTF_AVAIL |                             \
	 (PTF_AVAIL_HIGH & ~PTF_GNTTAB) | PTF_NX)
#define L1_CACHE_BITS (PTF_PWT | PTF_PCD | PTF_PAT)
#define LN_ALLOWED    (PTF_P | PTF_RW | PTF_US | PTF_A | PTF_D | PTF_AVAIL | PTF_AVAIL_HIGH | PTF_NX)

static bool is_table_type(int type)
{
	return type >= PGT_l1 && type <= PGT_l4;
}

/* --- frames handed to and taken from domains ----------------------------------------- */

void pv_assign_frame(struct domain *d, uint64_t mfn, bool hv_heap)
{
	struct pv_frame *pg = pv_frame(mfn);

	pg->owner = d->domain_id;
	pg->refs = 1;
	pg->type = PGT_none;
	pg->type_count = 0;
	pg->flags = PGF_allocated | (hv_heap ? PGF_hv_heap : 0);
	if (!hv_heap)
		d->tot_pages++; /* hv's own pages shared with d do not count against it */
}

/* The domain gives a frame back (decrease_reservation): it is freed once nothing maps it. */
int pv_release_frame(struct domain *d, uint64_t mfn)
{
	struct pv_frame *pg = pv_frame(mfn);

	if (!pg || pg->owner != d->domain_id || !(pg->flags & PGF_allocated) ||
	    (pg->flags & PGF_hv_heap))
		return -EINVAL;
	if (pg->flags & PGF_pinned) {
		pg->flags &= ~PGF_pinned;
		put_page_and_type(mfn);
	}
	pg->flags &= ~PGF_allocated;
	d->tot_pages--;
	pv_m2p_set(mfn, ~0ull);
	put_page(mfn);
	return 0;
}

/* --- general references ------------------------------------------------------------------ */

int get_page(uint64_t mfn, const struct domain *owner)
{
	struct pv_frame *pg = pv_frame(mfn);

	if (!pg || pg->owner != owner->domain_id || !(pg->flags & PGF_allocated))
		return -EINVAL;
	if (pg->refs == UINT32_MAX)
		return -EINVAL;
	pg->refs++;
	return 0;
}

void put_page(uint64_t mfn)
{
	struct pv_frame *pg = pv_frame(mfn);
	bool hv_heap = pg->flags & PGF_hv_heap;

	if (--pg->refs == 0) {
		pg->owner = DOMID_INVALID;
		pg->flags = 0;
		pv_frame_free(mfn, hv_heap);
	}
}

/* --- type references, validation ---------------------------------------------------------- */

static int get_entry_refs(int level, uint64_t e, uint64_t table_mfn, const struct domain *d,
                          const struct domain *pg_owner);
static void put_entry_refs(int level, uint64_t e, uint64_t table_mfn);

/* What hv stores for an accepted entry (see the adjustments in the account above). */
static uint64_t adjust_entry(int level, uint64_t e)
{
	if (!(e & PTF_P))
		return e;
	if (level == 1) {
		if (!(e & PTF_US))
			e |= PTF_US | PTF_GUEST_KERNEL;
		if (e & PTF_GUEST_KERNEL)
			e &= ~PTF_G;
		else
			e |= PTF_G;
		return e;
	}
	e |= PTF_US;
	if (level == 4)
		e |= PTF_A;
	return e;
}

static int validate_table(uint64_t mfn, int level, const struct domain *d)
{
	uint64_t *t = pv_frame_map(mfn);
	int i, rc;

	for (i = 0; i < 512; i++) {
		if (level == 4 && is_hv_l4_slot(i))
			continue;
		rc = get_entry_refs(level, t[i], mfn, d, d);
		if (rc) {
			while (--i >= 0)
				if (!(level == 4 && is_hv_l4_slot(i)))
					put_entry_refs(level, t[i], mfn);
			return -EINVAL; /* a table that does not validate is invalid as that type */
		}
		uint64_t adjusted = adjust_entry(level, t[i]);
		if (adjusted != t[i])
			__atomic_store_n(&t[i], adjusted, __ATOMIC_RELAXED);
	}
	if (level == 4)
		pv_init_hv_l4_slots(t, mfn, d);
	return 0;
}

static void devalidate_table(uint64_t mfn, int level)
{
	uint64_t *t = pv_frame_map(mfn);
	int i;

	for (i = 0; i < 512; i++)
		if (!(level == 4 && is_hv_l4_slot(i)))
			put_entry_refs(level, t[i], mfn);
}

static int validate_seg_desc(uint64_t mfn)
{
	uint64_t *descs = pv_frame_map(mfn);
	int i;

	for (i = 0; i < 512; i++)
		if (!pv_check_descriptor(&descs[i]))
			return -EINVAL;
	return 0;
}

int get_page_type(uint64_t mfn, enum pgt type)
{
	struct pv_frame *pg = pv_frame(mfn);
	int rc = 0;

	if (pg->type_count == 0) {
		pg->type = type;
		pg->flags &= ~PGF_validated;
		pg->type_count = 1;
		if (is_table_type(type))
			rc = validate_table(mfn, type, pv_find_domain(pg->owner));
		else if (type == PGT_seg_desc) {
			rc = validate_seg_desc(mfn);
		}
		if (rc) {
			pg->type = PGT_none;
			pg->type_count = 0;
			return rc;
		}
		pg->flags |= PGF_validated;
		return 0;
	}
	/* In use as another type, or still being validated (a reference back into itself). */
	if (pg->type != type || !(pg->flags & PGF_validated))
		return -EINVAL;
	if (pg->type_count == UINT32_MAX)
		return -EINVAL;
	pg->type_count++;
	return 0;
}

void put_page_type(uint64_t mfn)
{
	struct pv_frame *pg = pv_frame(mfn);

	if (pg->type_count == 1 && is_table_type(pg->type) && (pg->flags & PGF_validated))
		devalidate_table(mfn, pg->type);
	if (--pg->type_count == 0) {
		pg->type = PGT_none;
		pg->flags &= ~PGF_validated;
	}
}

int get_page_and_type(uint64_t mfn, const struct domain *owner, enum pgt type)
{
	int rc = get_page(mfn, owner);

	if (rc)
		return rc;
	rc = get_page_type(mfn, type);
	if (rc)
		put_page(mfn);
	return rc;
}

void put_page_and_type(uint64_t mfn)
{
	put_page_type(mfn);
	put_page(mfn);
}

/* --- entries ------------------------------------------------------------------------------ */

/*
 * Check one entry of a level-`level` table (frame table_mfn, owned by d) and take the
 * references it implies. pg_owner is the domain whose frames the entry may map.
 */
static int get_entry_refs(int level, uint64_t e, uint64_t table_mfn, const struct domain *d,
                          const struct domain *pg_owner)
{
	uint64_t mfn = pte_mfn(e);
	struct pv_frame *pg;
	int rc;

	if (!(e & PTF_P))
		return 0;

	if (level == 1) {
		uint64_t allowed = L1_ALLOWED | (d->is_privileged ? L1_CACHE_BITS : 0);
		const struct domain *owner = pg_owner;

		if (e & ~PTE_ADDR_MASK & ~allowed)
			return -EINVAL;
		pg = pv_frame(mfn);
		if (!pg) /* I/O memory: no references, where the domain may use it */
			return pv_iomem_ok(d, mfn) ? 0 : -EINVAL;
		/* A privileged domain may map any live domain's frames (building, backends). */
		if (pg->owner != pg_owner->domain_id && d->is_privileged &&
		    pg->owner != DOMID_INVALID && pg->owner != DOMID_XEN)
			owner = pv_find_domain(pg->owner);
		/* A frame that is not ours to map, or not in a state to be mapped so: busy. */
		if (!owner || get_page_and_type_rw(mfn, owner, e & PTF_RW))
			return -EBUSY;
		return 0;
	}

	if (e & ~PTE_ADDR_MASK & ~LN_ALLOWED)
		return -EINVAL;
	pg = pv_frame(mfn);
	if (!pg)
		return -EINVAL;
	if (mfn == table_mfn) {
		/* Linear page table: read-only, general reference only. */
		if (e & PTF_RW)
			return -EINVAL;
		return get_page(mfn, d);
	}
	rc = get_page_and_type(mfn, d, (enum pgt)(level - 1));
	return rc;
}

static void put_entry_refs(int level, uint64_t e, uint64_t table_mfn)
{
	uint64_t mfn = pte_mfn(e);

	if (!(e & PTF_P) || !pv_frame(mfn))
		return;
	if (level == 1) {
		if (e & PTF_RW)
			put_page_type(mfn);
		put_page(mfn);
	} else if (mfn == table_mfn) {
		put_page(mfn);
	} else {
		put_page_and_type(mfn);
	}
}

/* An L1 entry's references: a general one, plus a writable type reference if RW. */
int get_page_and_type_rw(uint64_t mfn, const struct domain *owner, bool rw)
{
	return rw ? get_page_and_type(mfn, owner, PGT_writable) : get_page(mfn, owner);
}

/*
 * Replace entry idx of a validated level-`level` table with val: check and reference the new
 * entry first, store it, then release the old one (in this order, so a table referenced by
 * both is never devalidated in between).
 */
static int mod_entry(int level, uint64_t table_mfn, unsigned int idx, uint64_t val,
                     const struct domain *d, const struct domain *pg_owner, bool preserve_ad)
{
	uint64_t *t = pv_frame_map(table_mfn);
	uint64_t old = __atomic_load_n(&t[idx], __ATOMIC_RELAXED);
	int rc;

	if (level == 4 && is_hv_l4_slot(idx))
		return -EINVAL;
	if (level == 1 && (old & PTF_P) && (old & PTF_GNTTAB))
		return -EINVAL; /* a grant mapping goes through unmap_grant_ref only */
	rc = get_entry_refs(level, val, table_mfn, d, pg_owner);
	if (rc)
		return rc;
	val = adjust_entry(level, val);
	if (preserve_ad) {
		while (!__atomic_compare_exchange_n(&t[idx], &old, val | (old & (PTF_A | PTF_D)),
		                                    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			;
	} else {
		old = __atomic_exchange_n(&t[idx], val, __ATOMIC_SEQ_CST);
	}
	put_entry_refs(level, old, table_mfn);
	return 0;
}

/* --- the workers of the page-table hypercalls --------------------------------------------- */

/*
 * MMU_NORMAL_PT_UPDATE / MMU_PT_UPDATE_PRESERVE_AD: *ptr = val, where ptr is the machine
 * address of an entry in a frame of pt_owner. A validated table gets a checked update; any
 * other frame a plain write, which needs it to be writable. *flush_all is set when an L2-L4
 * entry changed: hv then flushes the domain's TLBs (guests flush for L1 changes themselves).
 */
int pv_mmu_normal_update(struct domain *pt_owner, struct domain *pg_owner, uint64_t ptr,
                         uint64_t val, bool preserve_ad, bool *flush_all)
{
	uint64_t mfn = ptr >> 12;
	unsigned int idx = (ptr & 0xfff) >> 3;
	struct pv_frame *pg;
	int rc;

	rc = get_page(mfn, pt_owner);
	if (rc)
		return rc;
	pg = pv_frame(mfn);
	if (pg->type_count > 0 && is_table_type(pg->type)) {
		int level = pg->type;

		if (level > 1 && pg_owner != pt_owner)
			rc = -EINVAL;
		else
			rc = mod_entry(level, mfn, idx, val, pt_owner, pg_owner, preserve_ad);
		if (rc == 0 && level > 1)
			*flush_all = true;
	} else {
		rc = get_page_type(mfn, PGT_writable);
		if (rc == 0) {
			__atomic_store_n(&pv_frame_map(mfn)[idx], val, __ATOMIC_RELAXED);
			put_page_type(mfn);
		}
	}
	put_page(mfn);
	return rc;
}

/* MMU_MACHPHYS_UPDATE: the domain says which of its pseudo-physical frames mfn is. */
int pv_mmu_machphys_update(struct domain *d, uint64_t mfn, uint64_t pfn)
{
	int rc = get_page(mfn, d);

	if (rc)
		return rc;
	pv_m2p_set(mfn, pfn);
	put_page(mfn);
	return 0;
}

/* MMUEXT_PIN_Ln_TABLE: validate now and keep valid until unpinned. */
int pv_pin_table(struct domain *d, uint64_t mfn, int level)
{
	struct pv_frame *pg;
	int rc;

	if (level < 1 || level > 4)
		return -EINVAL;
	rc = get_page_and_type(mfn, d, (enum pgt)level);
	if (rc)
		return rc;
	pg = pv_frame(mfn);
	if (pg->flags & PGF_pinned) {
		put_page_and_type(mfn);
		return -EINVAL;
	}
	pg->flags |= PGF_pinned;
	return 0;
}

int pv_unpin_table(struct domain *d, uint64_t mfn)
{
	struct pv_frame *pg = pv_frame(mfn);

	if (!pg || pg->owner != d->domain_id || !(pg->flags & PGF_pinned))
		return -EINVAL;
	pg->flags &= ~PGF_pinned;
	put_page_and_type(mfn);
	return 0;
}

/*
 * MMUEXT_NEW_BASEPTR / NEW_USER_BASEPTR: the vCPU's kernel or user L4. mfn 0 removes the
 * user L4. The caller reloads CR3 if the vCPU is running in that mode.
 */
int pv_new_baseptr(struct vcpu *v, uint64_t mfn, bool user)
{
	uint64_t *slot = user ? &v->guest_table_user : &v->guest_table;
	uint64_t old = *slot;
	int rc;

	if (mfn == 0 && user) {
		*slot = 0;
	} else {
		rc = get_page_and_type(mfn, v->domain, PGT_l4);
		if (rc)
			return rc;
		*slot = mfn;
	}
	if (old)
		put_page_and_type(old);
	return 0;
}

/*
 * Find the L1 entry that maps va in the vCPU's kernel page tables. Each level must be a
 * validated table of the expected level (a linear entry does not count as a path).
 */
int pv_linear_to_l1e(struct vcpu *v, uint64_t va, uint64_t *l1_mfn, unsigned int *idx)
{
	static const int shift[] = {39, 30, 21};
	uint64_t mfn = v->guest_table;
	int level;

	if (((int64_t)va >> 47) != 0 && ((int64_t)va >> 47) != -1)
		return -EINVAL;
	if (is_hv_l4_slot((va >> 39) & 511) || mfn == 0)
		return -EINVAL;
	for (level = 4; level > 1; level--) {
		uint64_t e = pv_frame_map(mfn)[(va >> shift[4 - level]) & 511];
		struct pv_frame *next;

		if (!(e & PTF_P))
			return -EINVAL;
		next = pv_frame(pte_mfn(e));
		if (!next || next->type != level - 1 || !(next->flags & PGF_validated) ||
		    pte_mfn(e) == mfn)
			return -EINVAL;
		mfn = pte_mfn(e);
	}
	*l1_mfn = mfn;
	*idx = (va >> 12) & 511;
	return 0;
}

/* update_va_mapping: a checked write of the L1 entry mapping va. The caller flushes. */
int pv_update_va_mapping(struct vcpu *v, struct domain *pg_owner, uint64_t va, uint64_t val)
{
	uint64_t l1;
	unsigned int idx;
	int rc = pv_linear_to_l1e(v, va, &l1, &idx);

	if (rc)
		return rc;
	return mod_entry(1, l1, idx, val, v->domain, pg_owner, false);
}

/* --- grant mappings ------------------------------------------------------------------- */

/*
 * Install a grant mapping of frame mfn (owned by granter, who allowed it) in entry idx of
 * d's validated L1 table l1_mfn: the entry gets PTF_GNTTAB and takes a general reference on
 * the frame (and a writable one if rw). An ordinary mapping already there is replaced (its
 * references dropped), another grant mapping is not. Returns 0, -EINVAL (no such L1, a grant
 * there already) or -EBUSY (the frame cannot be referenced so).
 */
int pv_grant_map_l1e(struct domain *d, uint64_t l1_mfn, unsigned int idx, uint64_t mfn, bool rw,
                     bool user, const struct domain *granter)
{
	struct pv_frame *t = pv_frame(l1_mfn);
	uint64_t *e, val, old;

	if (!t || t->owner != d->domain_id || t->type != PGT_l1 || !(t->flags & PGF_validated) ||
	    idx >= 512)
		return -EINVAL;
	e = &pv_frame_map(l1_mfn)[idx];
	old = __atomic_load_n(e, __ATOMIC_RELAXED);
	if ((old & PTF_P) && (old & PTF_GNTTAB))
		return -EINVAL;
	if (get_page_and_type_rw(mfn, granter, rw))
		return -EBUSY;
	val = (mfn << 12) | PTF_P | PTF_A | PTF_D | PTF_NX | PTF_GNTTAB | (rw ? PTF_RW : 0) |
	      (user ? PTF_US : 0);
	old = __atomic_exchange_n(e, adjust_entry(1, val), __ATOMIC_SEQ_CST);
	put_entry_refs(1, old, l1_mfn);
	return 0;
}

/* Remove the grant mapping of mfn from entry idx of d's L1 l1_mfn, releasing its references. */
int pv_grant_unmap_l1e(struct domain *d, uint64_t l1_mfn, unsigned int idx, uint64_t mfn)
{
	struct pv_frame *t = pv_frame(l1_mfn);
	uint64_t *e, old;

	if (!t || t->owner != d->domain_id || t->type != PGT_l1 || !(t->flags & PGF_validated) ||
	    idx >= 512)
		return -EINVAL;
	e = &pv_frame_map(l1_mfn)[idx];
	old = __atomic_load_n(e, __ATOMIC_RELAXED);
	if (!(old & PTF_P) || !(old & PTF_GNTTAB) || pte_mfn(old) != mfn)
		return -EINVAL;
	old = __atomic_exchange_n(e, 0, __ATOMIC_SEQ_CST);
	put_entry_refs(1, old, l1_mfn);
	return 0;
}

/*
 * GNTTABOP_unmap_and_replace: the grant mapping of mfn at entry a (of d's L1 l1a) is replaced
 * by the entry at b (of d's L1 l1b), which is cleared; the moved entry keeps the references
 * it holds, the grant's are released. b 0/0 (l1b 0) just clears a.
 */
int pv_grant_replace_l1e(struct domain *d, uint64_t l1a, unsigned int idxa, uint64_t mfn,
                         uint64_t l1b, unsigned int idxb)
{
	struct pv_frame *ta = pv_frame(l1a), *tb = l1b ? pv_frame(l1b) : (struct pv_frame *)0;
	uint64_t *ea, *eb, old, moved = 0;

	if (!ta || ta->owner != d->domain_id || ta->type != PGT_l1 ||
	    !(ta->flags & PGF_validated) || idxa >= 512)
		return -EINVAL;
	if (l1b && (!tb || tb->owner != d->domain_id || tb->type != PGT_l1 ||
	            !(tb->flags & PGF_validated) || idxb >= 512 || (l1b == l1a && idxb == idxa)))
		return -EINVAL;
	ea = &pv_frame_map(l1a)[idxa];
	old = __atomic_load_n(ea, __ATOMIC_RELAXED);
	if (!(old & PTF_P) || !(old & PTF_GNTTAB) || pte_mfn(old) != mfn)
		return -EINVAL;
	if (l1b) {
		eb = &pv_frame_map(l1b)[idxb];
		moved = __atomic_exchange_n(eb, 0, __ATOMIC_SEQ_CST);
	}
	old = __atomic_exchange_n(ea, moved, __ATOMIC_SEQ_CST);
	put_entry_refs(1, old, l1a);
	return 0;
}

/* --- descriptor tables --------------------------------------------------------------------- */

/*
 * Is this GDT/LDT descriptor safe for a guest running in ring 3? Fixes it up in place:
 * code/data DPL raised to 3; call gates kept only with a guest (or flat kernel) target,
 * with DPL 0 so that using them traps to hv. Everything else of the system kind is refused.
 */
bool pv_check_descriptor(uint64_t *desc)
{
	uint32_t a = (uint32_t)*desc, b = (uint32_t)(*desc >> 32);
	unsigned int dpl;
	uint16_t cs;

	if (!(b & (1u << 15))) /* not present: always faults */
		return true;
	dpl = (b >> 13) & 3;
	if (dpl < 3)
		dpl = 3;
	b = (b & ~(3u << 13)) | (dpl << 13);
	if (b & (1u << 12)) /* code or data: no base/limit checks in 64-bit mode */
		goto good;
	if ((b & 0xf00) == 0) /* type 0: harmless (upper half of a call gate) */
		return true;
	if ((b & 0xf00) != 0xc00) /* LDT, TSS, interrupt/trap gates */
		return false;
	cs = a >> 16;
	if (!((cs >> 3) < GUEST_GDT_ENTRIES || (cs >> 3) == (GUEST_KERNEL_CS >> 3) || (cs & 4)))
		return false;
	/* Keep the DPL in the target's RPL; DPL 0 makes every use fault to hv. */
	b &= ~(3u << 13);
	cs = (cs & ~3) | dpl;
	a = (a & 0xffffu) | ((uint32_t)cs << 16);
	if (b & 0xff) /* reserved bits */
		return false;
good:
	*desc = ((uint64_t)b << 32) | a;
	return true;
}

/* set_gdt: the vCPU's GDT becomes `entries` descriptors in `frames`; the caller reloads it. */
int pv_set_gdt(struct vcpu *v, const uint64_t *frames, unsigned int entries)
{
	unsigned int nr = (entries + 511) / 512, i;
	int rc;

	if (entries > GUEST_GDT_ENTRIES)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		rc = get_page_and_type(frames[i], v->domain, PGT_seg_desc);
		if (rc) {
			while (i-- > 0)
				put_page_and_type(frames[i]);
			return rc;
		}
	}
	for (i = 0; i < (v->gdt_ents + 511) / 512; i++)
		put_page_and_type(v->gdt_frames[i]);
	for (i = 0; i < 14; i++)
		v->gdt_frames[i] = i < nr ? frames[i] : 0;
	v->gdt_ents = entries;
	return 0;
}

/* update_descriptor: one checked descriptor write into a seg_desc or ordinary frame. */
int pv_update_descriptor(struct domain *d, uint64_t maddr, uint64_t desc)
{
	uint64_t mfn = maddr >> 12;
	struct pv_frame *pg;
	int rc;

	if ((maddr & 7) || !pv_check_descriptor(&desc))
		return -EINVAL;
	rc = get_page(mfn, d);
	if (rc)
		return rc;
	pg = pv_frame(mfn);
	rc = get_page_type(mfn, pg->type == PGT_seg_desc ? PGT_seg_desc : PGT_writable);
	if (rc == 0) {
		__atomic_store_n(&pv_frame_map(mfn)[(maddr & 0xfff) >> 3], desc, __ATOMIC_RELAXED);
		put_page_type(mfn);
	}
	put_page(mfn);
	return rc;
}

/* MMUEXT_SET_LDT: recorded; the LDT's pages are checked when hv maps them. */
int pv_set_ldt(struct vcpu *v, uint64_t base, unsigned int ents)
{
	if ((base & 0xfff) || ents > 8192)
		return -EINVAL;
	if (ents && ((((int64_t)base >> 47) != 0 && ((int64_t)base >> 47) != -1) ||
	             is_hv_l4_slot((base >> 39) & 511) ||
	             is_hv_l4_slot(((base + ents * 8 - 1) >> 39) & 511)))
		return -EINVAL;
	v->ldt_base = base;
	v->ldt_ents = ents;
	return 0;
}

/* --- teardown ------------------------------------------------------------------------------ */

void pv_relinquish_vcpu(struct vcpu *v)
{
	unsigned int i;

	pv_new_baseptr(v, 0, true);
	if (v->guest_table)
		put_page_and_type(v->guest_table);
	v->guest_table = 0;
	for (i = 0; i < (v->gdt_ents + 511) / 512; i++)
		put_page_and_type(v->gdt_frames[i]);
	v->gdt_ents = 0;
	v->ldt_ents = 0;
}

/*
 * Called for every frame of a dying domain, first with drop_allocation false (drops pins:
 * once every vCPU is relinquished too, all type counts are zero), then with true.
 */
void pv_relinquish_frame(struct domain *d, uint64_t mfn, bool drop_allocation)
{
	struct pv_frame *pg = pv_frame(mfn);

	if (!pg || pg->owner != d->domain_id)
		return;
	if (pg->flags & PGF_pinned) {
		pg->flags &= ~PGF_pinned;
		put_page_and_type(mfn);
	}
	if (drop_allocation && (pg->flags & PGF_allocated)) {
		pg->flags &= ~PGF_allocated;
		if (!(pg->flags & PGF_hv_heap))
			d->tot_pages--;
		put_page(mfn);
	}
}
