/*
 * The PV platform's half of dom0's domain benchmarks (kernel/domtest-bench.c): the null
 * hypercall they compare the event round trip with, and batches of whole-page grant copies.
 * Kept apart from domctl-pv.c so the benchmarks' needs do not shape the tests' hooks.
 */
#include <domctl.h>
#include <mm.h>
#include <public/grant_table.h>
#include <public/version.h>
#include "pv.h"

#define BENCH_MAX_OPS 16

/* One null hypercall: xen_version(XENVER_version), as bench/pvcore's null_hypercall row. */
void arch_bench_null_hypercall(void)
{
	HYPERVISOR_xen_version(XENVER_version, NULL);
}

/*
 * Copy dom's grant ref (a whole page) nops times into the consecutive pages at dst (page
 * aligned, ours), all in one GNTTABOP_copy batch. Returns the hypercall's -errno, else the
 * first failing GNTST status, else 0.
 */
long arch_bench_grant_copy(uint32_t dom, uint32_t ref, void *dst, unsigned int nops)
{
	static struct gnttab_copy ops[BENCH_MAX_OPS];
	long rc;

	if (nops == 0 || nops > BENCH_MAX_OPS || ((uintptr_t)dst & (PAGE_SIZE - 1)))
		return -XEN_EINVAL;
	for (unsigned int i = 0; i < nops; i++)
		ops[i] = (struct gnttab_copy){
		    .source = {.u.ref = ref, .domid = (domid_t)dom, .offset = 0},
		    .dest = {.u.gmfn = pv_virt_to_mfn((char *)dst + i * PAGE_SIZE),
		             .domid = DOMID_SELF,
		             .offset = 0},
		    .len = PAGE_SIZE,
		    .flags = GNTCOPY_source_gref};
	rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, ops, nops);
	if (rc)
		return rc;
	for (unsigned int i = 0; i < nops; i++)
		if (ops[i].status)
			return ops[i].status;
	return 0;
}
