/*
 * The page-table and memory hypercalls: mmu_update, mmuext_op, update_va_mapping(_otherdomain),
 * set_gdt, update_descriptor and memory_op. They decode guest arguments and call the workers
 * in mm.c under the PV lock; TLB flushes follow the ABI (hv flushes after L2-L4 changes and
 * base-pointer switches, the guest asks for the rest).
 *
 * The guest's GDT: each CPU has a 16-page window in the per-domain area (gdt_area) whose
 * first 14 pages map the running vCPU's GDT frames (a zero page where it has none) and whose
 * 15th is this CPU's reserved GDT page with hv's descriptors at 0xe000; GDTR points at it.
 */
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/bootinfo.h>
#include <asm/paging.h>
#include <asm/processor.h>

#include "guest-access.h"
#include "mm.h"
#include "pv.h"

#include <hv/sched-if.h>

#define GDT_AREA_PAGES 16

static paddr_t zero_page;

/*
 * Each CPU's window, as its 14 L1 entries (a 16-page window never crosses an L1 table), and
 * the entries' flags for a guest frame and for the zero page: a context switch rewrites only
 * the entries that change (usually the first), without walking the tables.
 */
static uint64_t *gdt_ptes[NR_CPUS];
static uint64_t gdt_flags_rw, gdt_flags_ro;

static unsigned long gdt_area(unsigned int cpu)
{
	return PERDOMAIN_VIRT_START + (unsigned long)cpu * GDT_AREA_PAGES * PAGE_SIZE;
}

static void load_gdt(void)
{
	struct desc_ptr gdtr = {.limit = FIRST_RESERVED_GDT_BYTE + PAGE_SIZE - 1,
	                        .base = gdt_area(smp_processor_id())};

	__asm__ __volatile__("lgdt %0" ::"m"(gdtr));
}

/*
 * Boot: every CPU's window gets the zero page and its reserved GDT page now, so that the
 * per-domain slot's tables exist before the first guest L4 copies hv's slots.
 */
void pv_gdt_init(void)
{
	void *z = alloc_pages_virt(0);

	if (!z)
		panic("pv: no memory for the GDT zero page");
	zero_page = virt_to_maddr(z);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		unsigned long base = gdt_area(cpu);

		if (!percpu_of[cpu])
			continue;
		map_pages(idle_pg_table, base, zero_page, 1, PAGE_HV_RO & ~_PAGE_GLOBAL);
		for (unsigned int i = 1; i < 14; i++)
			map_pages(idle_pg_table, base + i * PAGE_SIZE, zero_page, 1,
			          PAGE_HV_RO & ~_PAGE_GLOBAL);
		map_pages(idle_pg_table, base + 14 * PAGE_SIZE, virt_to_maddr(percpu_of[cpu]->gdt),
		          1, PAGE_HV_RW & ~_PAGE_GLOBAL);
		gdt_ptes[cpu] = lookup_pte(idle_pg_table, base);
		if (!gdt_ptes[cpu])
			panic("pv: cpu %u: no L1 entries for its GDT window", cpu);
		gdt_flags_ro = gdt_ptes[cpu][0] & ~PADDR_MASK;
		gdt_flags_rw = gdt_ptes[cpu][14] & ~PADDR_MASK;
	}
}

/* Map v's GDT frames into this CPU's window (hv's own page stays at 0xe000) and load it. */
void pv_install_gdt(struct vcpu *v)
{
	unsigned int cpu = smp_processor_id();
	unsigned long base = gdt_area(cpu);
	unsigned int nr = (v->gdt_ents + 511) / 512;
	uint64_t *pte = gdt_ptes[cpu];

	for (unsigned int i = 0; i < 14; i++) {
		uint64_t want = i < nr ? (v->gdt_frames[i] << PAGE_SHIFT) | gdt_flags_rw
		                       : zero_page | gdt_flags_ro;

		/* The CPU may have set the accessed and dirty bits: they do not make a change. */
		if ((pte[i] ^ want) & ~(_PAGE_ACCESSED | _PAGE_DIRTY)) {
			pte[i] = want;
			invlpg((void *)(base + i * PAGE_SIZE));
		}
	}
	load_gdt();
}

static bool canonical(uint64_t a)
{
	return ((int64_t)a >> 47) == 0 || ((int64_t)a >> 47) == -1;
}

/* The domain named by a foreigndom-style id (DOMID_SELF, own id, or any if privileged). */
static struct domain *other_domain(struct vcpu *v, uint16_t id, long *err)
{
	struct domain *d = v->domain, *o;

	if (id == DOMID_SELF || id == d->domain_id)
		return d;
	if (!d->is_privileged) {
		*err = -EPERM;
		return NULL;
	}
	o = pv_find_domain(id);
	if (!o)
		*err = -ESRCH;
	return o;
}

static long do_mmu_update(struct vcpu *v, uint64_t reqs, unsigned int count, uint64_t pdone,
                          unsigned int foreigndom)
{
	struct domain *pg_owner, *pt_owner = v->domain;
	struct mmu_update req;
	unsigned int i = 0, done;
	bool flush = false;
	long rc = 0;

	count &= ~MMU_UPDATE_PREEMPTED;
	pg_owner = other_domain(v, foreigndom & 0xffff, &rc);
	if (!pg_owner)
		return rc;
	if (foreigndom >> 16) {
		pt_owner = other_domain(v, (foreigndom >> 16) - 1, &rc);
		if (!pt_owner)
			return rc;
	}
	pv_lock();
	for (i = 0; i < count; i++, reqs += sizeof(req)) {
		if (copy_from_guest(&req, reqs, sizeof(req))) {
			rc = -EFAULT;
			break;
		}
		switch (req.ptr & 7) {
		case MMU_NORMAL_PT_UPDATE:
		case MMU_PT_UPDATE_NO_TRANSLATE:
		case MMU_PT_UPDATE_PRESERVE_AD:
			rc = pv_mmu_normal_update(pt_owner, pg_owner, req.ptr & ~7ULL, req.val,
			                          (req.ptr & 7) == MMU_PT_UPDATE_PRESERVE_AD,
			                          &flush);
			break;
		case MMU_MACHPHYS_UPDATE:
			rc = pv_mmu_machphys_update(pg_owner, req.ptr >> PAGE_SHIFT, req.val);
			break;
		default:
			rc = -ENOSYS;
			break;
		}
		if (rc)
			break;
	}
	pv_unlock();
	if (flush) {
		flush_tlb_all_local();
		sched_flush_tlb_domain(pt_owner); /* an L2-L4 change: every vCPU of it */
	}
	done = i;
	if (pdone && copy_to_guest(pdone, &done, sizeof(done)))
		return -EFAULT;
	return rc;
}

/*
 * One mmuext op, under the PV lock. A flush of the other vCPUs' TLBs is only noted in
 * *flush_others: do_mmuext_op asks for it after dropping the lock, because the other pCPUs
 * acknowledge it from an interrupt, and one of them may be spinning for the PV lock with
 * interrupts off (two vCPUs of a Linux domU in mmuext_op at once deadlocked hv that way).
 */
static long mmuext_one(struct vcpu *v, struct domain *pg_owner, const struct mmuext_op *op,
                       bool *flush_others)
{
	struct domain *d = v->domain;
	bool foreign = pg_owner != d;
	long rc;

	switch (op->cmd) {
	case MMUEXT_PIN_L1_TABLE:
	case MMUEXT_PIN_L2_TABLE:
	case MMUEXT_PIN_L3_TABLE:
	case MMUEXT_PIN_L4_TABLE:
		return pv_pin_table(pg_owner, op->arg1.mfn, op->cmd - MMUEXT_PIN_L1_TABLE + 1);
	case MMUEXT_UNPIN_TABLE:
		return pv_unpin_table(pg_owner, op->arg1.mfn);
	case MMUEXT_NEW_BASEPTR:
	case MMUEXT_NEW_USER_BASEPTR:
		if (foreign)
			return -EPERM;
		rc = pv_new_baseptr(v, op->arg1.mfn, op->cmd == MMUEXT_NEW_USER_BASEPTR);
		if (rc == 0) {
			if (pv_current_cr3(v))
				write_cr3(pv_current_cr3(v));
			flush_tlb_all_local();
		}
		return rc;
	case MMUEXT_TLB_FLUSH_LOCAL:
	case MMUEXT_TLB_FLUSH_MULTI:
	case MMUEXT_TLB_FLUSH_ALL:
		if (foreign)
			return -EPERM;
		flush_tlb_all_local();
		if (op->cmd != MMUEXT_TLB_FLUSH_LOCAL)
			*flush_others = true; /* the other vCPUs (all: a superset of MULTI) */
		return 0;
	case MMUEXT_INVLPG_LOCAL:
	case MMUEXT_INVLPG_MULTI:
	case MMUEXT_INVLPG_ALL:
		if (foreign)
			return -EPERM;
		if (!canonical(op->arg1.linear_addr))
			return -EINVAL;
		invlpg((void *)op->arg1.linear_addr);
		if (op->cmd != MMUEXT_INVLPG_LOCAL)
			*flush_others = true; /* other vCPUs flush everything */
		return 0;
	case MMUEXT_FLUSH_CACHE:
	case MMUEXT_FLUSH_CACHE_GLOBAL:
		if (!d->is_privileged)
			return -EACCES;
		__asm__ __volatile__("wbinvd" ::: "memory");
		return 0;
	case MMUEXT_SET_LDT:
		if (foreign)
			return -EPERM;
		return pv_set_ldt(v, op->arg1.linear_addr, op->arg2.nr_ents);
	case MMUEXT_CLEAR_PAGE:
		rc = get_page_and_type(op->arg1.mfn, pg_owner, PGT_writable);
		if (rc)
			return rc;
		memset(pv_frame_map(op->arg1.mfn), 0, PAGE_SIZE);
		put_page_and_type(op->arg1.mfn);
		return 0;
	case MMUEXT_COPY_PAGE:
		rc = get_page(op->arg2.src_mfn, pg_owner);
		if (rc)
			return rc;
		rc = get_page_and_type(op->arg1.mfn, pg_owner, PGT_writable);
		if (rc == 0) {
			memcpy(pv_frame_map(op->arg1.mfn), pv_frame_map(op->arg2.src_mfn),
			       PAGE_SIZE);
			put_page_and_type(op->arg1.mfn);
		}
		put_page(op->arg2.src_mfn);
		return rc;
	case MMUEXT_MARK_SUPER:
	case MMUEXT_UNMARK_SUPER:
		return -EOPNOTSUPP;
	default:
		return -ENOSYS;
	}
}

static long do_mmuext_op(struct vcpu *v, uint64_t ops, unsigned int count, uint64_t pdone,
                         unsigned int foreigndom)
{
	struct domain *pg_owner;
	struct mmuext_op op;
	unsigned int i, done;
	bool flush_others = false;
	long rc = 0;

	count &= ~MMU_UPDATE_PREEMPTED;
	pg_owner = other_domain(v, foreigndom & 0xffff, &rc);
	if (!pg_owner)
		return rc;
	pv_lock();
	for (i = 0; i < count; i++, ops += sizeof(op)) {
		if (copy_from_guest(&op, ops, sizeof(op))) {
			rc = -EFAULT;
			break;
		}
		rc = mmuext_one(v, pg_owner, &op, &flush_others);
		if (rc)
			break;
	}
	pv_unlock();
	if (flush_others) /* before the guest sees the hypercall return, as it expects */
		sched_flush_tlb_domain(v->domain);
	done = i;
	if (pdone && copy_to_guest(pdone, &done, sizeof(done)))
		return -EFAULT;
	return rc;
}

static long do_update_va_mapping(struct vcpu *v, uint64_t va, uint64_t val, uint64_t flags,
                                 struct domain *pg_owner)
{
	long rc;

	pv_lock();
	rc = pv_update_va_mapping(v, pg_owner, va, val);
	pv_unlock();
	if (rc)
		return rc;
	switch (flags & UVMF_FLUSHTYPE_MASK) {
	case UVMF_TLB_FLUSH:
		flush_tlb_all_local();
		break;
	case UVMF_INVLPG:
		invlpg((void *)va);
		break;
	}
	/* UVMF_ALL, or UVMF_MULTI with a vCPU mask: the other vCPUs too (all of them). */
	if ((flags & UVMF_FLUSHTYPE_MASK) && (flags & ~(uint64_t)UVMF_FLUSHTYPE_MASK))
		sched_flush_tlb_domain(v->domain);
	return 0;
}

static long do_set_gdt(struct vcpu *v, uint64_t list, unsigned int entries)
{
	uint64_t frames[14];
	unsigned int nr = (entries + 511) / 512;
	long rc;

	if (entries > FIRST_RESERVED_GDT_ENTRY)
		return -EINVAL;
	if (copy_from_guest(frames, list, nr * sizeof(uint64_t)))
		return -EFAULT;
	pv_lock();
	rc = pv_set_gdt(v, frames, entries);
	pv_unlock();
	if (rc == 0)
		pv_install_gdt(v);
	return rc;
}

static long reservation_op(struct vcpu *v, unsigned int cmd, uint64_t arg)
{
	struct xen_memory_reservation r;
	struct domain *d = v->domain;
	unsigned long start = cmd >> MEMOP_EXTENT_SHIFT, i;
	long rc = 0;

	/* Reservation operations report an unreadable argument as "nothing done" (Xen). */
	if (copy_from_guest(&r, arg, sizeof(r)))
		return 0;
	if (r.domid != DOMID_SELF && r.domid != d->domain_id)
		return -EPERM; /* building other domains goes through the control interface */
	if (r.extent_order != 0)
		return start; /* only single frames: nothing done */
	for (i = start; i < r.nr_extents; i++) {
		uint64_t gpfn = 0, mfn;
		struct page_info *pg;

		if ((cmd & MEMOP_CMD_MASK) == XENMEM_decrease_reservation) {
			if (d->tot_pages <= d->guarantee_pages)
				break; /* the guarantee dom0 set is a floor (hv/common/domctl.c) */
			if (copy_from_guest(&mfn, r.extent_start + i * 8, 8))
				return i ? (long)i : -EFAULT;
			pv_lock();
			rc = pv_release_frame(d, mfn);
			pv_unlock();
			if (rc)
				break;
			continue;
		}
		if ((cmd & MEMOP_CMD_MASK) == XENMEM_populate_physmap &&
		    copy_from_guest(&gpfn, r.extent_start + i * 8, 8))
			return i ? (long)i : -EFAULT;
		if (d->tot_pages >= d->max_pages)
			break;
		pg = alloc_frames(0);
		if (!pg)
			break;
		mfn = page_to_mfn(pg);
		memset(page_to_virt(pg), 0, PAGE_SIZE);
		pv_lock();
		pv_assign_frame(d, mfn, false);
		pv_m2p_set(mfn, (cmd & MEMOP_CMD_MASK) == XENMEM_populate_physmap ? gpfn : ~0ULL);
		pv_unlock();
		if (copy_to_guest(r.extent_start + i * 8, &mfn, 8))
			return i ? (long)i : -EFAULT;
	}
	return (long)i;
}

static long do_memory_op(struct vcpu *v, unsigned long cmd, uint64_t arg)
{
	struct domain *d = v->domain, *o;
	long rc = 0;

	switch (cmd & MEMOP_CMD_MASK) {
	case XENMEM_increase_reservation:
	case XENMEM_decrease_reservation:
	case XENMEM_populate_physmap:
		return reservation_op(v, cmd, arg);
	case XENMEM_maximum_ram_page:
		return (long)(max_frame - 1);
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation:
	case XENMEM_maximum_gpfn: {
		domid_t id;

		if (copy_from_guest(&id, arg, sizeof(id)))
			return -EFAULT;
		o = other_domain(v, id, &rc);
		if (!o)
			return rc;
		if ((cmd & MEMOP_CMD_MASK) == XENMEM_current_reservation)
			return (long)o->tot_pages;
		if ((cmd & MEMOP_CMD_MASK) == XENMEM_maximum_reservation)
			return (long)o->max_pages;
		return (long)o->max_pages - 1;
	}
	case XENMEM_memory_map:
	case XENMEM_machine_memory_map: {
		struct xen_memory_map map;
		struct xen_e820_entry e;
		unsigned int n = 0;

		if (copy_from_guest(&map, arg, sizeof(map)))
			return -EFAULT;
		if ((cmd & MEMOP_CMD_MASK) == XENMEM_memory_map) {
			if (map.nr_entries < 1)
				return -EINVAL;
			e = (struct xen_e820_entry){0, d->max_pages << PAGE_SHIFT, XEN_E820_RAM};
			if (copy_to_guest(map.buffer, &e, sizeof(e)))
				return -EFAULT;
			n = 1;
		} else {
			if (!d->is_privileged)
				return -EPERM;
			for (; n < boot_info.nr_mem && n < map.nr_entries; n++) {
				e = (struct xen_e820_entry){boot_info.mem[n].start,
				                            boot_info.mem[n].end -
				                                boot_info.mem[n].start,
				                            boot_info.mem[n].type};
				if (copy_to_guest(map.buffer + n * sizeof(e), &e, sizeof(e)))
					return -EFAULT;
			}
		}
		map.nr_entries = n;
		return copy_to_guest(arg, &map, sizeof(map)) ? -EFAULT : 0;
	}
	case XENMEM_machphys_mfn_list: {
		struct xen_machphys_mfn_list l;
		uint64_t mfn = pv_m2p_mfn();

		if (copy_from_guest(&l, arg, sizeof(l)))
			return -EFAULT;
		l.nr_extents = l.max_extents ? 1 : 0;
		if (l.nr_extents && copy_to_guest(l.extent_start, &mfn, sizeof(mfn)))
			return -EFAULT;
		return copy_to_guest(arg, &l, sizeof(l)) ? -EFAULT : 0;
	}
	case XENMEM_machphys_mapping: {
		struct xen_machphys_mapping m = {
		    RO_MPT_VIRT_START, RO_MPT_VIRT_END,
		    (RO_MPT_VIRT_END - RO_MPT_VIRT_START) / sizeof(uint64_t) - 1};

		return copy_to_guest(arg, &m, sizeof(m)) ? -EFAULT : 0;
	}
	default:
		return -ENOSYS;
	}
}

long pv_mm_hypercall(struct vcpu *v, unsigned long nr, const unsigned long *a)
{
	long rc = 0;
	struct domain *o;

	switch (nr) {
	case __HYPERVISOR_mmu_update:
		return do_mmu_update(v, a[0], a[1], a[2], a[3]);
	case __HYPERVISOR_mmuext_op:
		return do_mmuext_op(v, a[0], a[1], a[2], a[3]);
	case __HYPERVISOR_update_va_mapping:
		return do_update_va_mapping(v, a[0], a[1], a[2], v->domain);
	case __HYPERVISOR_update_va_mapping_otherdomain:
		o = other_domain(v, a[3], &rc);
		return o ? do_update_va_mapping(v, a[0], a[1], a[2], o) : rc;
	case __HYPERVISOR_set_gdt:
		return do_set_gdt(v, a[0], a[1]);
	case __HYPERVISOR_update_descriptor:
		pv_lock();
		rc = pv_update_descriptor(v->domain, a[0], a[1]);
		pv_unlock();
		return rc;
	case __HYPERVISOR_memory_op:
		return do_memory_op(v, a[0], a[1]);
	default:
		return -ENOSYS;
	}
}
