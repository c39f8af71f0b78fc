/*
 * Grant tables, version 1: the table frames a domain shares with hv (setup_table gives their
 * MFNs; PV guests map them themselves, read-write), their size (query_size), the version (only
 * 1: set_version to 2 answers -ENOSYS, which guests take as "v1 only"), and the use of grants
 * by another domain (or the granter itself): map_grant_ref / unmap_grant_ref (host mappings,
 * by virtual address or by PTE address; device mappings), unmap_and_replace, and copy.
 *
 * A mapping takes references on the granted frame through the PTE (mm.c: pv_grant_map_l1e),
 * so the frame outlives the granter's own use of it; the grant entry says GTF_reading (and
 * GTF_writing for a writable mapping) while any mapping of it by this grantee exists, so the
 * granter knows not to revoke it. A grant PTE is removed only by unmap_grant_ref (or with the
 * table holding it). The PV lock covers grant entries, maptracks and page tables alike.
 */
#include <hv/lib.h>
#include <hv/mm.h>
#include <asm/processor.h>

#include "../arch/x86/pv/guest-access.h"
#include "../arch/x86/pv/mm.h"
#include "../arch/x86/pv/pv.h"

#define MAX_GRANT_FRAMES  32
#define ENTRIES_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))

static struct domain *grant_domain(struct vcpu *v, domid_t id)
{
	if (id == DOMID_SELF || id == v->domain->domain_id)
		return v->domain;
	return v->domain->is_privileged ? pv_find_domain(id) : NULL;
}

/* Grow d's table to nr frames (hv pages shared with d). */
static int grow_table(struct domain *d, unsigned int nr)
{
	struct pv_domain *pd = pvd(d);

	while (pd->nr_grant_frames < nr) {
		struct page_info *pg = alloc_frames(0);

		if (!pg)
			return -ENOMEM;
		memset(page_to_virt(pg), 0, PAGE_SIZE);
		pv_lock();
		pv_assign_frame(d, page_to_mfn(pg), true);
		pv_unlock();
		pd->extra_frames[pd->nr_grant_frames++] = page_to_mfn(pg);
	}
	return 0;
}

static long setup_table(struct vcpu *v, uint64_t arg)
{
	struct gnttab_setup_table st;
	struct domain *d;

	if (copy_from_guest(&st, arg, sizeof(st)))
		return -EFAULT;
	d = grant_domain(v, st.dom);
	if (!d)
		st.status = GNTST_bad_domain;
	else if (st.nr_frames > MAX_GRANT_FRAMES || grow_table(d, st.nr_frames))
		st.status = GNTST_general_error;
	else
		st.status = GNTST_okay;
	for (unsigned int i = 0; st.status == GNTST_okay && i < st.nr_frames; i++) {
		uint64_t mfn = pvd(d)->extra_frames[i];

		if (copy_to_guest(st.frame_list + i * sizeof(mfn), &mfn, sizeof(mfn)))
			return -EFAULT;
	}
	return copy_to_guest(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

/* Entry ref of d's table, or NULL past its end. */
static struct grant_entry_v1 *grant_entry(struct domain *d, uint32_t ref)
{
	struct pv_domain *pd = pvd(d);

	if (ref >= pd->nr_grant_frames * ENTRIES_PER_FRAME)
		return NULL;
	return (struct grant_entry_v1 *)mfn_to_virt(pd->extra_frames[ref / ENTRIES_PER_FRAME]) +
	       ref % ENTRIES_PER_FRAME;
}

/*
 * Check that entry e lets domain `to` use it (for writing if rw) and mark it in use, with one
 * compare-exchange on its flags so the granter's concurrent revoke either wins or sees the
 * mark. Returns a GNTST_ status.
 */
static int16_t grant_acquire(struct grant_entry_v1 *e, uint16_t to, bool rw, uint64_t *mfn)
{
	uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_SEQ_CST), want;

	do {
		if ((flags & GTF_type_mask) != GTF_permit_access || e->domid != to)
			return GNTST_permission_denied;
		if (rw && (flags & GTF_readonly))
			return GNTST_permission_denied;
		want = flags | GTF_reading | (rw ? GTF_writing : 0);
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, want, false, __ATOMIC_SEQ_CST,
	                                      __ATOMIC_SEQ_CST));
	*mfn = e->frame;
	return GNTST_okay;
}

/* Clear the in-use marks of <rd, ref> unless ld still maps it (rw: still maps it writable). */
static void grant_release(struct domain *ld, struct domain *rd, uint32_t ref)
{
	struct grant_entry_v1 *e = grant_entry(rd, ref);
	bool still = false, still_rw = false;

	if (!e)
		return;
	for (unsigned int i = 0; i < MAX_GRANT_MAPS; i++) {
		const struct grant_map *m = &pvd(ld)->maptrack[i];

		if (m->in_use && m->dom == rd->domain_id && m->ref == ref) {
			still = true;
			still_rw |= m->rw;
		}
	}
	if (!still)
		__atomic_fetch_and(&e->flags, (uint16_t) ~(GTF_reading | GTF_writing),
		                   __ATOMIC_SEQ_CST);
	else if (!still_rw)
		__atomic_fetch_and(&e->flags, (uint16_t)~GTF_writing, __ATOMIC_SEQ_CST);
}

/* Where the PTE for a host mapping lives: a VA of the mapper, or a PTE's machine address. */
static int16_t find_pte(struct vcpu *v, uint64_t host_addr, uint32_t flags, uint64_t *l1,
                        unsigned int *idx)
{
	if (flags & GNTMAP_contains_pte) {
		if (host_addr & 7)
			return GNTST_bad_virt_addr;
		*l1 = host_addr >> PAGE_SHIFT;
		*idx = (host_addr & (PAGE_SIZE - 1)) >> 3;
		return GNTST_okay;
	}
	if ((host_addr & (PAGE_SIZE - 1)) || pv_linear_to_l1e(v, host_addr, l1, idx))
		return GNTST_bad_virt_addr;
	return GNTST_okay;
}

static int16_t map_grant(struct vcpu *v, struct gnttab_map_grant_ref *op)
{
	struct domain *ld = v->domain, *rd;
	struct pv_domain *pd = pvd(ld);
	struct grant_entry_v1 *e;
	bool rw = !(op->flags & GNTMAP_readonly), host = op->flags & GNTMAP_host_map;
	bool device = op->flags & GNTMAP_device_map;
	uint64_t l1 = 0, mfn;
	unsigned int idx = 0, h;
	int16_t st;

	if (!host && !device)
		return GNTST_general_error;
	rd = op->dom == DOMID_SELF ? ld : pv_find_domain(op->dom);
	if (!rd)
		return GNTST_bad_domain;
	for (h = 0; h < MAX_GRANT_MAPS && pd->maptrack[h].in_use; h++)
		;
	if (h == MAX_GRANT_MAPS)
		return GNTST_no_device_space;
	e = grant_entry(rd, op->ref);
	if (!e)
		return GNTST_bad_gntref;
	if (host) {
		st = find_pte(v, op->host_addr, op->flags, &l1, &idx);
		if (st)
			return st;
	}
	st = grant_acquire(e, ld->domain_id, rw, &mfn);
	if (st)
		return st;
	if (!pv_frame(mfn) || pv_frame(mfn)->owner != rd->domain_id) {
		grant_release(ld, rd, op->ref);
		return GNTST_bad_page;
	}
	/* A device mapping holds references of its own (what the device may access). */
	if (device && get_page_and_type_rw(mfn, rd, rw)) {
		grant_release(ld, rd, op->ref);
		return GNTST_general_error;
	}
	if (host &&
	    pv_grant_map_l1e(ld, l1, idx, mfn, rw, op->flags & GNTMAP_application_map, rd)) {
		if (device) {
			if (rw)
				put_page_type(mfn);
			put_page(mfn);
		}
		grant_release(ld, rd, op->ref);
		return GNTST_general_error;
	}
	if (host && !(op->flags & GNTMAP_contains_pte))
		invlpg((void *)op->host_addr);
	pd->maptrack[h] = (struct grant_map){
	    .in_use = true,
	    .host = host,
	    .device = device,
	    .rw = rw,
	    .dom = rd->domain_id,
	    .ref = op->ref,
	    .l1_mfn = l1,
	    .idx = idx,
	    .mfn = mfn,
	    .va = (host && !(op->flags & GNTMAP_contains_pte)) ? op->host_addr : 0};
	op->handle = h;
	op->dev_bus_addr = device ? mfn << PAGE_SHIFT : 0;
	return GNTST_okay;
}

/*
 * Remove the host mapping (host_addr given), the device mapping (dev_bus_addr given) or both
 * (neither given) of a handle; the handle goes when nothing of it is left.
 */
static int16_t unmap_grant(struct vcpu *v, struct gnttab_unmap_grant_ref *op)
{
	struct domain *ld = v->domain, *rd;
	struct grant_map *m;
	bool host = op->host_addr || !op->dev_bus_addr;
	bool device = op->dev_bus_addr || !op->host_addr;
	uint64_t l1;
	unsigned int idx;

	if (op->handle >= MAX_GRANT_MAPS || !pvd(ld)->maptrack[op->handle].in_use)
		return GNTST_bad_handle;
	m = &pvd(ld)->maptrack[op->handle];
	if (op->host_addr) {
		/* The caller names the mapping it means: it must be this handle's. */
		if (!m->host)
			return GNTST_general_error;
		if (m->va ? find_pte(v, op->host_addr, 0, &l1, &idx)
		          : find_pte(v, op->host_addr, GNTMAP_contains_pte, &l1, &idx))
			return GNTST_bad_virt_addr;
		if (l1 != m->l1_mfn || idx != m->idx)
			return GNTST_general_error;
	}
	if (op->dev_bus_addr && (!m->device || op->dev_bus_addr != m->mfn << PAGE_SHIFT))
		return GNTST_bad_dev_addr;
	if (host && m->host) {
		if (pv_grant_unmap_l1e(ld, m->l1_mfn, m->idx, m->mfn))
			return GNTST_general_error;
		if (m->va)
			invlpg((void *)m->va);
		m->host = false;
	}
	if (device && m->device) {
		if (m->rw)
			put_page_type(m->mfn);
		put_page(m->mfn);
		m->device = false;
	}
	if (m->host || m->device)
		return GNTST_okay;
	m->in_use = false;
	rd = m->dom == ld->domain_id ? ld : pv_find_domain(m->dom);
	if (rd)
		grant_release(ld, rd, m->ref);
	return GNTST_okay;
}

/*
 * unmap_and_replace: remove the host mapping of a handle at host_addr, putting in its place
 * the mapping found at new_addr (which is cleared); if that was a grant mapping, its handle
 * follows it to host_addr.
 */
static int16_t unmap_and_replace(struct vcpu *v, struct gnttab_unmap_and_replace *op)
{
	struct domain *ld = v->domain, *rd;
	struct grant_map *m;
	uint64_t l1, l1b = 0;
	unsigned int idx, idxb = 0, i;

	if (op->handle >= MAX_GRANT_MAPS || !pvd(ld)->maptrack[op->handle].in_use)
		return GNTST_bad_handle;
	m = &pvd(ld)->maptrack[op->handle];
	if (!m->host || !m->va || find_pte(v, op->host_addr, 0, &l1, &idx))
		return GNTST_general_error;
	if (l1 != m->l1_mfn || idx != m->idx)
		return GNTST_general_error;
	if (op->new_addr && find_pte(v, op->new_addr, 0, &l1b, &idxb))
		return GNTST_general_error;
	if (pv_grant_replace_l1e(ld, l1, idx, m->mfn, l1b, idxb))
		return GNTST_general_error;
	invlpg((void *)op->host_addr);
	if (op->new_addr)
		invlpg((void *)op->new_addr);
	for (i = 0; op->new_addr && i < MAX_GRANT_MAPS; i++) {
		struct grant_map *o = &pvd(ld)->maptrack[i];

		if (o->in_use && o->host && o->l1_mfn == l1b && o->idx == idxb) {
			o->l1_mfn = l1;
			o->idx = idx;
			o->va = op->host_addr;
		}
	}
	m->host = false;
	if (m->device)
		return GNTST_okay;
	m->in_use = false;
	rd = m->dom == ld->domain_id ? ld : pv_find_domain(m->dom);
	if (rd)
		grant_release(ld, rd, m->ref);
	return GNTST_okay;
}

/* One side of a copy: a grant of another domain (or ours) to us, or a frame of ours. */
static int16_t copy_side(struct vcpu *v, const struct gnttab_copy_ptr *p, bool gref, bool dest,
                         uint64_t *mfn, struct domain **owner)
{
	struct domain *ld = v->domain, *d;
	struct grant_entry_v1 *e;
	uint16_t flags;

	if (!gref) {
		if (p->domid != DOMID_SELF && p->domid != ld->domain_id)
			return GNTST_permission_denied;
		if (!pv_frame(p->u.gmfn) || pv_frame(p->u.gmfn)->owner != ld->domain_id)
			return GNTST_bad_page;
		*mfn = p->u.gmfn;
		*owner = ld;
		return GNTST_okay;
	}
	d = p->domid == DOMID_SELF ? ld : pv_find_domain(p->domid);
	if (!d)
		return GNTST_bad_domain;
	e = grant_entry(d, p->u.ref);
	if (!e)
		return GNTST_bad_gntref;
	flags = __atomic_load_n(&e->flags, __ATOMIC_SEQ_CST);
	if ((flags & GTF_type_mask) != GTF_permit_access || e->domid != ld->domain_id ||
	    (dest && (flags & GTF_readonly)))
		return GNTST_permission_denied;
	*mfn = e->frame;
	*owner = d;
	if (!pv_frame(*mfn) || pv_frame(*mfn)->owner != d->domain_id)
		return GNTST_bad_page;
	return GNTST_okay;
}

static int16_t copy_grant(struct vcpu *v, const struct gnttab_copy *op)
{
	struct domain *sd, *dd;
	uint64_t smfn, dmfn;
	int16_t st;

	if ((uint32_t)op->source.offset + op->len > PAGE_SIZE ||
	    (uint32_t)op->dest.offset + op->len > PAGE_SIZE)
		return GNTST_bad_copy_arg;
	st = copy_side(v, &op->source, op->flags & GNTCOPY_source_gref, false, &smfn, &sd);
	if (st)
		return st;
	st = copy_side(v, &op->dest, op->flags & GNTCOPY_dest_gref, true, &dmfn, &dd);
	if (st)
		return st;
	/* The destination must be an ordinary frame: never a page or descriptor table. */
	if (get_page(smfn, sd))
		return GNTST_bad_page;
	if (get_page_and_type(dmfn, dd, PGT_writable)) {
		put_page(smfn);
		return GNTST_general_error;
	}
	memmove((uint8_t *)mfn_to_virt(dmfn) + op->dest.offset,
	        (const uint8_t *)mfn_to_virt(smfn) + op->source.offset, op->len);
	put_page_and_type(dmfn);
	put_page(smfn);
	return GNTST_okay;
}

/*
 * One element of a batched op that carries its own status: copied in, done under the PV lock,
 * copied back with the status. A guest pointer that cannot be read or written ends the batch
 * with -EFAULT (the ops before it stay done).
 */
#define BATCH_OP(type, worker)                                                                     \
	({                                                                                         \
		type op_;                                                                          \
		uint64_t at_ = arg + i * sizeof(op_);                                              \
		long rc_ = -EFAULT;                                                                \
		if (!copy_from_guest(&op_, at_, sizeof(op_))) {                                    \
			pv_lock();                                                                 \
			op_.status = worker(v, &op_);                                              \
			pv_unlock();                                                               \
			rc_ = copy_to_guest(at_, &op_, sizeof(op_)) ? -EFAULT : 0;                 \
		}                                                                                  \
		rc_;                                                                               \
	})

long do_grant_table_op(struct vcpu *v, unsigned int cmd, uint64_t arg, unsigned int count)
{
	long rc = 0;

	for (unsigned int i = 0; i < count && rc == 0; i++) {
		switch (cmd) {
		case GNTTABOP_map_grant_ref:
			rc = BATCH_OP(struct gnttab_map_grant_ref, map_grant);
			break;
		case GNTTABOP_unmap_grant_ref:
			rc = BATCH_OP(struct gnttab_unmap_grant_ref, unmap_grant);
			break;
		case GNTTABOP_unmap_and_replace:
			rc = BATCH_OP(struct gnttab_unmap_and_replace, unmap_and_replace);
			break;
		case GNTTABOP_copy:
			rc = BATCH_OP(struct gnttab_copy, copy_grant);
			break;
		case GNTTABOP_setup_table:
			rc = setup_table(v, arg + i * sizeof(struct gnttab_setup_table));
			break;
		case GNTTABOP_query_size: {
			struct gnttab_query_size q;
			struct domain *d;

			if (copy_from_guest(&q, arg + i * sizeof(q), sizeof(q)))
				return -EFAULT;
			d = grant_domain(v, q.dom);
			q.status = d ? GNTST_okay : GNTST_bad_domain;
			q.nr_frames = d ? pvd(d)->nr_grant_frames : 0;
			q.max_nr_frames = MAX_GRANT_FRAMES;
			rc = copy_to_guest(arg + i * sizeof(q), &q, sizeof(q)) ? -EFAULT : 0;
			break;
		}
		case GNTTABOP_set_version: {
			struct gnttab_set_version sv;

			if (copy_from_guest(&sv, arg, sizeof(sv)))
				return -EFAULT;
			if (sv.version != 1)
				return -ENOSYS;
			rc = copy_to_guest(arg, &sv, sizeof(sv)) ? -EFAULT : 0;
			break;
		}
		case GNTTABOP_get_version: {
			struct gnttab_get_version gv;

			if (copy_from_guest(&gv, arg, sizeof(gv)))
				return -EFAULT;
			if (!grant_domain(v, gv.dom))
				return -ESRCH;
			gv.version = 1;
			rc = copy_to_guest(arg, &gv, sizeof(gv)) ? -EFAULT : 0;
			break;
		}
		default:
			return -ENOSYS;
		}
	}
	return rc;
}
