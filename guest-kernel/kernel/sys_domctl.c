/*
 * SYS_domctl: user space's way to hv's control interface (the `dom` program), until the
 * management link carries the requests instead.
 *
 * The caller passes a whole struct hv_domctl and its size. The kernel copies it in, copies any
 * buffer it names into kernel memory and points the copy there, makes the hypercall through
 * domctl_forward(), and copies the results back. Invariants:
 *  - hv only ever sees kernel addresses: a command that carries a pointer is forwarded only if
 *    this file knows the pointer (the list buffer); other pointer-carrying commands
 *    (build_buffer) and unknown commands are refused with -EINVAL, so no user address ever
 *    reaches hv and no user can make hv write into kernel memory.
 *  - the user's struct is written back only when hv succeeded, and then with the user's own
 *    buffer address in it (hv's copy-back rule, seen from user space).
 *  - only on hv is anything forwarded: natively there is no hypervisor (-EPERM), and hv itself
 *    answers -EPERM to every domain but dom0.
 */
#include <kernel.h>
#include <mm.h>
#include <proc.h>
#include <platform.h>
#include <domctl.h>
#include <klib/string.h>

/* The list buffer is one page: at most this many entries per call (hv sets `more` beyond). */
#define LIST_MAX_ENTRIES (PAGE_SIZE / sizeof(struct hv_domctl_dominfo))

static bool command_has_no_pointer(uint32_t cmd)
{
	switch (cmd) {
	case HV_DOMCTL_physinfo:
	case HV_DOMCTL_create:
	case HV_DOMCTL_build_module:
	case HV_DOMCTL_unpause:
	case HV_DOMCTL_pause:
	case HV_DOMCTL_shutdown:
	case HV_DOMCTL_destroy:
	case HV_DOMCTL_getinfo:
	case HV_DOMCTL_set_max_mem:
	case HV_DOMCTL_set_current_mem:
	case HV_DOMCTL_set_mem_guarantee:
	case HV_DOMCTL_set_vcpus:
	case HV_DOMCTL_sched_get:
	case HV_DOMCTL_sched_set:
	case HV_DOMCTL_populate:
	case HV_DOMCTL_console_info:
		return true;
	default:
		return false;
	}
}

/* list: hv writes up to max_entries into a kernel page, which then goes to the user's buffer. */
static long forward_list(struct hv_domctl *op, uint64_t uop)
{
	uint64_t ubuf = op->u.list.buffer;
	struct hv_domctl_dominfo *kbuf;
	long rc;

	if (op->u.list.max_entries == 0 || ubuf == 0)
		return -E_INVAL;
	if (op->u.list.max_entries > LIST_MAX_ENTRIES)
		op->u.list.max_entries = LIST_MAX_ENTRIES;
	kbuf = alloc_page();
	if (!kbuf)
		return -E_NOMEM;
	op->u.list.buffer = (uint64_t)(uintptr_t)kbuf;
	rc = domctl_forward(op);
	op->u.list.buffer = ubuf;
	if (rc == 0 && op->u.list.count > op->u.list.max_entries)
		rc = -E_INVAL; /* never from a correct hv; do not copy beyond the page */
	if (rc == 0 && (copy_to_user(&current->vm, ubuf, kbuf, op->u.list.count * sizeof(*kbuf)) ||
	                copy_to_user(&current->vm, uop, op, sizeof(*op))))
		rc = -E_FAULT;
	free_page(kbuf);
	return rc;
}

long sys_domctl(uint64_t uop, uint64_t size)
{
	static struct hv_domctl op; /* one kernel stack, no preemption inside a system call */
	long rc;

	if (strcmp(platform->name, "xen-pv") != 0)
		return -E_PERM;
	if (size != sizeof(op))
		return -E_INVAL;
	if (copy_from_user(&current->vm, &op, uop, sizeof(op)))
		return -E_FAULT;
	if (op.cmd == HV_DOMCTL_list)
		return forward_list(&op, uop);
	if (!command_has_no_pointer(op.cmd))
		return -E_INVAL;
	rc = domctl_forward(&op);
	if (rc == 0 && copy_to_user(&current->vm, uop, &op, sizeof(op)))
		rc = -E_FAULT;
	return rc;
}
