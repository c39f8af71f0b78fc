/*
 * Grant tables, version 1: the table frames a domain shares with hv (setup_table gives their
 * MFNs; PV guests map them themselves, read-write), their size (query_size) and the version
 * (only 1: set_version to 2 answers -ENOSYS, which guests take as "v1 only").
 * Mapping and copying grants between domains comes with the split drivers.
 */
#include <hv/lib.h>
#include <hv/mm.h>

#include "../arch/x86/pv/guest-access.h"
#include "../arch/x86/pv/mm.h"
#include "../arch/x86/pv/pv.h"

#define MAX_GRANT_FRAMES 32

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

long do_grant_table_op(struct vcpu *v, unsigned int cmd, uint64_t arg, unsigned int count)
{
	long rc = 0;

	for (unsigned int i = 0; i < count && rc == 0; i++) {
		switch (cmd) {
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
