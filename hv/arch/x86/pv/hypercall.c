/*
 * Hypercalls: SYSCALL from guest kernel mode is a hypercall (RAX = number, RDI RSI RDX R10 R8
 * = arguments, result in RAX); SYSCALL from guest user mode goes to the guest kernel's syscall
 * callback. This file holds the dispatcher and the small hypercalls that manage a vCPU's
 * own state (trap table, callbacks, stacks, segment bases, FPU flag, iret, console, version,
 * assists, I/O privilege); page tables are in mm-hypercall.c, scheduling and timers in
 * sched-pv.c, events in hv/common/event_channel.c, grants in hv/common/grant_table.c.
 *
 * Every handler copies its guest arguments in and out through copy_{from,to}_guest: a bad
 * pointer is -EFAULT. Numbers hv does not implement return -ENOSYS.
 */
#include <hv/cmdline.h>
#include <hv/event.h>
#include <hv/console_input.h>
#include <asm/processor.h>
#include <asm/traps.h>

#include "guest-access.h"
#include "mm.h"
#include "pv.h"

long pv_mm_hypercall(struct vcpu *v, unsigned long nr, const unsigned long *a);
long pv_sched_hypercall(struct vcpu *v, unsigned long nr, const unsigned long *a);
long do_grant_table_op(struct vcpu *v, unsigned int cmd, uint64_t arg, unsigned int count);
long do_domctl(struct vcpu *v, uint64_t arg); /* hv/common/domctl.c */
long pv_physdev_pirq_op(struct vcpu *v, unsigned int cmd, uint64_t arg); /* physdev.c */

static bool canonical(uint64_t a)
{
	return ((int64_t)a >> 47) == 0 || ((int64_t)a >> 47) == -1;
}

static long do_set_trap_table(struct vcpu *v, uint64_t list)
{
	struct trap_info ti;
	unsigned int n;

	if (list == 0) {
		memset(pv(v)->trap_ctxt, 0, sizeof(pv(v)->trap_ctxt));
		return 0;
	}
	for (n = 0; n < 256; n++, list += sizeof(ti)) {
		if (copy_from_guest(&ti, list, sizeof(ti)))
			return -EFAULT;
		if (ti.address == 0)
			break;
		if (!canonical(ti.address))
			return -EINVAL;
		ti.cs |= 3;
		pv(v)->trap_ctxt[ti.vector] = ti;
	}
	return 0;
}

static long register_callback(struct vcpu *v, unsigned int type, unsigned int flags,
                              uint64_t address)
{
	struct pv_vcpu *p = pv(v);

	if (!canonical(address))
		return -EINVAL;
	switch (type) {
	case CALLBACKTYPE_event:
	case CALLBACKTYPE_failsafe:
	case CALLBACKTYPE_syscall:
	case CALLBACKTYPE_syscall32:
	case CALLBACKTYPE_sysenter:
	case CALLBACKTYPE_sysenter_deprecated:
		p->callback[type] = address;
		p->callback_masks[type] = flags & CALLBACKF_mask_events;
		return 0;
	case CALLBACKTYPE_nmi:
		p->trap_ctxt[2].vector = 2;
		p->trap_ctxt[2].flags = 4; /* always entered with events masked */
		p->trap_ctxt[2].cs = FLAT_KERNEL_CS;
		p->trap_ctxt[2].address = address;
		return 0;
	default:
		return -ENOSYS;
	}
}

static long do_callback_op(struct vcpu *v, unsigned int cmd, uint64_t arg)
{
	struct callback_register reg;
	struct callback_unregister unreg;

	switch (cmd) {
	case CALLBACKOP_register:
		if (copy_from_guest(&reg, arg, sizeof(reg)))
			return -EFAULT;
		return register_callback(v, reg.type, reg.flags, reg.address);
	case CALLBACKOP_unregister:
		if (copy_from_guest(&unreg, arg, sizeof(unreg)))
			return -EFAULT;
		if (unreg.type != CALLBACKTYPE_nmi)
			return -EINVAL;
		pv(v)->trap_ctxt[2].address = 0;
		return 0;
	default:
		return -ENOSYS;
	}
}

static long do_nmi_op(struct vcpu *v, unsigned int cmd, uint64_t arg)
{
	struct xennmi_callback cb;

	switch (cmd) {
	case XENNMI_register_callback:
		if (copy_from_guest(&cb, arg, sizeof(cb)))
			return -EFAULT;
		return register_callback(v, CALLBACKTYPE_nmi, 0, cb.handler_address);
	case XENNMI_unregister_callback:
		pv(v)->trap_ctxt[2].address = 0;
		return 0;
	default:
		return -ENOSYS;
	}
}

static long do_set_segment_base(struct vcpu *v, unsigned int which, uint64_t base)
{
	struct pv_vcpu *p = pv(v);

	switch (which) {
	case SEGBASE_FS:
		if (!canonical(base))
			return -EINVAL;
		wrmsr(MSR_FS_BASE, base);
		p->fs_base = base;
		return 0;
	case SEGBASE_GS_USER:
		if (!canonical(base))
			return -EINVAL;
		p->gs_base_user = base;
		return 0;
	case SEGBASE_GS_KERNEL:
		if (!canonical(base))
			return -EINVAL;
		wrmsr(MSR_KERNEL_GS_BASE, base); /* the active GS base while hv runs */
		p->gs_base_kernel = base;
		return 0;
	case SEGBASE_GS_USER_SEL: {
		uint16_t sel = (uint16_t)base;
		uint64_t hv_gs = rdmsr(MSR_GS_BASE);

		/* A selector the load would fault on becomes null, as on Xen (whose load has a
		 * fixup): LAR checks the live GDT/LDT for a present DPL-3 data or readable code
		 * segment first, since a fault here would be hv's. */
		if ((sel & ~3) != 0) {
			uint32_t ar = 0;
			bool ok;

			__asm__("lar %2, %0; setz %1"
			        : "=r"(ar), "=qm"(ok)
			        : "r"((uint32_t)sel)
			        : "cc");
			if ((sel & 3) != 3 || !ok || !(ar & (1u << 15)) || !(ar & (1u << 12)) ||
			    ((ar >> 13) & 3) != 3 || ((ar & (1u << 11)) && !(ar & (1u << 9))))
				sel = 0;
		}
		__asm__ __volatile__("mov %0, %%gs" ::"r"(sel));
		wrmsr(MSR_GS_BASE, hv_gs);
		p->gs_base_user = 0;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static long copy_string_out(uint64_t arg, const char *s, size_t size)
{
	char buf[64];
	size_t len = strlen(s);

	memset(buf, 0, sizeof(buf));
	memcpy(buf, s, len < sizeof(buf) ? len : sizeof(buf) - 1);
	if (size <= sizeof(buf))
		return copy_to_guest(arg, buf, size) ? -EFAULT : 0;
	if (copy_to_guest(arg, buf, sizeof(buf)))
		return -EFAULT;
	for (size_t off = sizeof(buf); off < size; off += sizeof(buf)) {
		memset(buf, 0, sizeof(buf));
		if (copy_to_guest(arg + off, buf,
		                  size - off < sizeof(buf) ? size - off : sizeof(buf)))
			return -EFAULT;
	}
	return 0;
}

static long do_xen_version(struct vcpu *v, unsigned int cmd, uint64_t arg)
{
	switch (cmd) {
	case XENVER_version:
		return (4 << 16) | 17;
	case XENVER_extraversion:
		return copy_string_out(arg, ".0-hv", 16);
	case XENVER_compile_info: {
		struct xen_compile_info ci;

		memset(&ci, 0, sizeof(ci));
		strlcpy(ci.compiler, "gcc", sizeof(ci.compiler));
		strlcpy(ci.compile_by, "hv", sizeof(ci.compile_by));
		strlcpy(ci.compile_domain, "hv", sizeof(ci.compile_domain));
		strlcpy(ci.compile_date, __DATE__, sizeof(ci.compile_date));
		return copy_to_guest(arg, &ci, sizeof(ci)) ? -EFAULT : 0;
	}
	case XENVER_capabilities:
		return copy_string_out(arg, "xen-3.0-x86_64 ", 1024);
	case XENVER_changeset:
		return copy_string_out(arg, "hv", 64);
	case XENVER_platform_parameters: {
		struct xen_platform_parameters pp = {.virt_start = HYPERVISOR_VIRT_START};

		return copy_to_guest(arg, &pp, sizeof(pp)) ? -EFAULT : 0;
	}
	case XENVER_get_features: {
		struct xen_feature_info fi;

		if (copy_from_guest(&fi, arg, sizeof(fi)))
			return -EFAULT;
		if (fi.submap_idx != 0)
			return -EINVAL;
		fi.submap = (1u << XENFEAT_mmu_pt_update_preserve_ad) |
		            (1u << XENFEAT_highmem_assist) | (1u << XENFEAT_gnttab_map_avail_bits) |
		            (v->domain->is_privileged ? 1u << XENFEAT_dom0 : 0);
		return copy_to_guest(arg, &fi, sizeof(fi)) ? -EFAULT : 0;
	}
	case XENVER_pagesize:
		return PAGE_SIZE;
	case XENVER_guest_handle:
		return copy_string_out(arg, "", 16);
	case XENVER_commandline:
		return copy_string_out(arg, cmdline_raw(), 1024);
	default:
		return -ENOSYS;
	}
}

/*
 * console_io read: dom0 takes what was typed on hv's console (console_input.c); -EPERM for the
 * others. console_io write: the guest's text on hv's console, a line at a time, each prefixed
 * "(dN) ". Each domain has its own unfinished line, so domains never interleave mid-line.
 */
static long do_console_io(struct vcpu *v, unsigned int cmd, unsigned long count, uint64_t buf)
{
	struct pv_domain *pd = pvd(v->domain);
	char chunk[64];
	unsigned long done = 0;
	size_t n_read;

	if (cmd == CONSOLEIO_read) {
		/* Input typed on hv's console (console_input.c) belongs to dom0 alone. */
		if (!v->domain->is_privileged)
			return -EPERM;
		n_read = console_input_read(chunk, count < sizeof(chunk) ? count : sizeof(chunk));
		if (n_read && copy_to_guest(buf, chunk, n_read))
			return -EFAULT;
		return (long)n_read;
	}
	if (cmd != CONSOLEIO_write)
		return -ENOSYS;
	while (done < count) {
		size_t n = count - done < sizeof(chunk) ? count - done : sizeof(chunk);

		if (copy_from_guest(chunk, buf + done, n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++) {
			char c = chunk[i];

			if (c == '\n' || pd->console_used == sizeof(pd->console_line) - 1) {
				pd->console_line[pd->console_used] = 0;
				printk("(d%u) %s\n", v->domain->domain_id, pd->console_line);
				pd->console_used = 0;
				if (c == '\n')
					continue;
			}
			if ((c >= ' ' && c < 0x7f) || c == '\t')
				pd->console_line[pd->console_used++] = c;
		}
		done += n;
	}
	return 0;
}

static long do_vm_assist(struct vcpu *v, unsigned int cmd, unsigned int type)
{
	const unsigned long valid =
	    (1UL << VMASST_TYPE_4gb_segments) | (1UL << VMASST_TYPE_4gb_segments_notify) |
	    (1UL << VMASST_TYPE_writable_pagetables) | (1UL << VMASST_TYPE_pae_extended_cr3) |
	    (1UL << VMASST_TYPE_architectural_iopl) | (1UL << VMASST_TYPE_runstate_update_flag) |
	    (1UL << VMASST_TYPE_m2p_strict);

	if (type >= 64 || !(valid & (1UL << type)))
		return -EINVAL;
	if (cmd == VMASST_CMD_enable)
		v->domain->vm_assist |= 1UL << type;
	else if (cmd == VMASST_CMD_disable)
		v->domain->vm_assist &= ~(1UL << type);
	else
		return -ENOSYS;
	return 0;
}

static long do_physdev_op(struct vcpu *v, unsigned int cmd, uint64_t arg)
{
	struct physdev_set_iopl iopl;

	switch (cmd) {
	case PHYSDEVOP_set_iopl:
		if (copy_from_guest(&iopl, arg, sizeof(iopl)))
			return -EFAULT;
		if (iopl.iopl > 3)
			return -EINVAL;
		pv(v)->iopl = iopl.iopl;
		return 0;
	case PHYSDEVOP_map_pirq:
	case PHYSDEVOP_unmap_pirq:
		return pv_physdev_pirq_op(v, cmd, arg);
	default:
		return -ENOSYS;
	}
}

/*
 * HYPERVISOR_iret: return from a bounce using the frame at the guest's RSP. Returns the RAX
 * the frame carries, which the dispatcher stores like any result.
 */
static long do_iret(struct vcpu *v, struct cpu_user_regs *regs)
{
	struct iret_context ic;

	if (copy_from_guest(&ic, regs->rsp, sizeof(ic)))
		domain_crash(v->domain, "HYPERVISOR_iret with an unreadable frame at %#lx",
		             (unsigned long)regs->rsp);
	if (!canonical(ic.rip))
		domain_crash(v->domain, "HYPERVISOR_iret to non-canonical %#lx",
		             (unsigned long)ic.rip);
	if ((ic.cs & 3) == 3) {
		if (!v->guest_table_user)
			domain_crash(v->domain, "iret to user mode without a user L4");
		pv_toggle_mode(v, false);
	}
	regs->rip = ic.rip;
	regs->cs = (uint16_t)(ic.cs | 3);
	regs->rflags = (ic.rflags & ~((3UL << 12) | (1UL << 17) | (1UL << 14))) | (1UL << 9) | 2;
	regs->rsp = ic.rsp;
	regs->ss = (uint16_t)(ic.ss | 3);
	if (ic.flags & VGCF_in_syscall) {
		regs->rcx = regs->rip;
		regs->r11 = regs->rflags;
	} else {
		regs->rcx = ic.rcx;
		regs->r11 = ic.r11;
	}
	v->vcpu_info->evtchn_upcall_mask = !(ic.rflags & (1UL << 9));
	if (v->domain->vm_assist & (1UL << VMASST_TYPE_architectural_iopl))
		pv(v)->iopl = (ic.rflags >> 12) & 3;
	pv(v)->nmi_pending_hold = false;
	return (long)ic.rax;
}

static long do_multicall(struct vcpu *v, struct cpu_user_regs *regs, uint64_t list,
                         unsigned long nr)
{
	/* Per CPU: a vCPU stays on its CPU for the whole hypercall, and other CPUs run other
	 * domains' multicalls at the same time. */
	static bool in_multicall_on[NR_CPUS];
	bool *busy = &in_multicall_on[smp_processor_id()];
	struct {
		uint64_t op, result, args[6];
	} e;

	if (*busy)
		return -EINVAL;
	*busy = true;
	for (unsigned long i = 0; i < nr; i++, list += sizeof(e)) {
		if (copy_from_guest(&e, list, sizeof(e))) {
			*busy = false;
			return -EFAULT;
		}
		if (e.op == __HYPERVISOR_iret) {
			/* iret ends the batch: the guest resumes where its frame says. */
			long rax = do_iret(v, regs);

			*busy = false;
			return rax;
		}
		if (e.op == __HYPERVISOR_multicall)
			e.result = (uint64_t)-EINVAL;
		else
			e.result =
			    (uint64_t)pv_do_hypercall(v, regs, e.op, (unsigned long *)e.args);
		if (copy_to_guest(list + 8, &e.result, 8)) {
			*busy = false;
			return -EFAULT;
		}
	}
	*busy = false;
	return 0;
}

long pv_do_hypercall(struct vcpu *v, struct cpu_user_regs *regs, unsigned long nr,
                     const unsigned long a[5])
{
	switch (nr) {
	case __HYPERVISOR_set_trap_table:
		return do_set_trap_table(v, a[0]);
	case __HYPERVISOR_stack_switch:
		pv(v)->kernel_ss = a[0] | 3;
		pv(v)->kernel_sp = a[1];
		return 0;
	case __HYPERVISOR_set_callbacks:
		if (register_callback(v, CALLBACKTYPE_event, 0, a[0]) ||
		    register_callback(v, CALLBACKTYPE_failsafe, 0, a[1]) ||
		    register_callback(v, CALLBACKTYPE_syscall, 0, a[2]))
			return -EINVAL;
		return 0;
	case __HYPERVISOR_fpu_taskswitch:
		pv(v)->fpu_ts = a[0] != 0;
		write_cr0(pv(v)->fpu_ts ? read_cr0() | 8 : read_cr0() & ~8UL);
		return 0;
	case __HYPERVISOR_callback_op:
		return do_callback_op(v, a[0], a[1]);
	case __HYPERVISOR_set_debugreg:
		return pv_set_debugreg(v, a[0], a[1]);
	case __HYPERVISOR_get_debugreg: {
		uint64_t value;
		long rc = pv_get_debugreg(v, a[0], &value);

		return rc ? rc : (long)value;
	}
	case __HYPERVISOR_nmi_op:
		return do_nmi_op(v, a[0], a[1]);
	case __HYPERVISOR_set_segment_base:
		return do_set_segment_base(v, a[0], a[1]);
	case __HYPERVISOR_xen_version:
		return do_xen_version(v, a[0], a[1]);
	case __HYPERVISOR_console_io:
		return do_console_io(v, a[0], a[1], a[2]);
	case __HYPERVISOR_vm_assist:
		return do_vm_assist(v, a[0], a[1]);
	case __HYPERVISOR_physdev_op:
		return do_physdev_op(v, a[0], a[1]);
	case __HYPERVISOR_iret:
		return do_iret(v, regs);
	case __HYPERVISOR_multicall:
		return do_multicall(v, regs, a[0], a[1]);
	case __HYPERVISOR_event_channel_op:
		return do_event_channel_op(v, a[0], a[1]);
	case __HYPERVISOR_grant_table_op:
		return do_grant_table_op(v, a[0], a[1], a[2]);
	case __HYPERVISOR_domctl: /* hv's own control interface (public/domctl.h) */
		return do_domctl(v, a[0]);
	case __HYPERVISOR_mmu_update:
	case __HYPERVISOR_mmuext_op:
	case __HYPERVISOR_update_va_mapping:
	case __HYPERVISOR_update_va_mapping_otherdomain:
	case __HYPERVISOR_set_gdt:
	case __HYPERVISOR_update_descriptor:
	case __HYPERVISOR_memory_op:
		return pv_mm_hypercall(v, nr, a);
	case __HYPERVISOR_sched_op:
	case __HYPERVISOR_sched_op_compat:
	case __HYPERVISOR_set_timer_op:
	case __HYPERVISOR_vcpu_op:
		return pv_sched_hypercall(v, nr, a);
	default:
		return -ENOSYS;
	}
}

/* SYSCALL from the guest (entry-pv.S): a hypercall, or a user syscall for the guest kernel. */
void pv_do_syscall(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();
	unsigned long args[5] = {regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8};

	if (!pv(v)->kernel_mode) {
		uint64_t cb = pv(v)->callback[CALLBACKTYPE_syscall];

		if (!cb) {
			pv_inject_trap(v, regs, X86_EXC_UD, false, 0);
			return;
		}
		pv_bounce(v, regs, cb, pv(v)->callback_masks[CALLBACKTYPE_syscall], false, 0,
		          "syscall");
		regs->rflags &= ~(1UL << 10); /* the handler starts with DF clear */
		regs->r11 = regs->rflags;
		return;
	}
	regs->rax = (uint64_t)pv_do_hypercall(v, regs, regs->rax, args);
}
