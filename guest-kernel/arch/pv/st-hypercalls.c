/*
 * Self-tests of the general hypercalls: version, console, vm_assist, segment bases, vCPU,
 * callbacks, scheduling, memory_op, multicall and the hypercall dispatcher itself, including
 * hostile arguments (unknown numbers, bad pointers, bad types). Every hostile case checks the
 * documented error and that nothing else changed.
 */
#include <public/version.h>
#include <public/features.h>
#include <public/vcpu.h>
#include <public/callback.h>
#include <public/nmi.h>
#include <public/memory.h>
#include "st.h"

/*
 * Probes: xen_version. Expected: XENVER_version > 0 (major << 16 | minor); capabilities name
 * "xen-3.0-x86_64"; get_features submap 0 succeeds (with XENFEAT_dom0 for the initial domain),
 * submap 1 is -EINVAL; pagesize is 4096; an unknown sub-command is -ENOSYS.
 */
void st_xen_version(void)
{
	static char caps[1024];
	struct xen_feature_info fi = {.submap_idx = 0};
	long v = HYPERVISOR_xen_version(XENVER_version, NULL);

	st_check(v > 0);
	st_check_rc(HYPERVISOR_xen_version(XENVER_capabilities, caps), 0);
	st_check(strstr(caps, "xen-3.0-x86_64") != NULL);
	st_check_rc(HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
	if (pv_start_info->flags & SIF_INITDOMAIN)
		st_check(fi.submap & (1U << XENFEAT_dom0));
	fi.submap_idx = 1;
	st_check_rc(HYPERVISOR_xen_version(XENVER_get_features, &fi), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);
	st_check_rc(HYPERVISOR_xen_version(99, NULL), -XEN_ENOSYS);
}

/*
 * Probes: the dispatcher with numbers that name no hypercall (11 is unused, 43..47 and 56..63
 * are unassigned, 64 and beyond are out of the table, 2^32-1 must not be truncated into range).
 * Expected: -ENOSYS for each.
 */
void st_unknown_hypercall(void)
{
	static const unsigned long numbers[] = {11, 43, 63, 64, 1000, 0xffffffffUL, 0x100000001UL};

	for (size_t i = 0; i < ARRAY_SIZE(numbers); i++) {
		register long rax __asm__("rax") = (long)numbers[i];
		__asm__ __volatile__("syscall"
		                     : "+r"(rax)
		                     :
		                     : "rcx", "r11", "rdi", "rsi", "rdx", "r10", "r8", "memory");
		if (rax != -XEN_ENOSYS)
			st_fail("hypercall %#lx returned %ld, expected -ENOSYS", numbers[i], rax);
	}
}

/*
 * Probes: the hypercall page named by our HYPERCALL_PAGE note. It is optional in the ABI; if the
 * builder filled it (byte 0 no longer our 0xc3 poison), stub 17 must behave as xen_version.
 * Expected: unfilled, or filled and XENVER_version through the stub equals the inline result.
 */
void st_hypercall_page(void)
{
	if ((uint8_t)hypercall_page[0] == 0xc3)
		return;
	long (*stub)(long, void *) = (void *)(hypercall_page + __HYPERVISOR_xen_version * 32);
	st_check_rc(stub(XENVER_version, NULL), HYPERVISOR_xen_version(XENVER_version, NULL));
}

/*
 * Probes: console_io with a zero count, a buffer in the hypervisor's range, an unmapped buffer
 * and an unknown command. Expected: 0, -EFAULT, -EFAULT, -ENOSYS.
 */
void st_console_io(void)
{
	st_check_rc(HYPERVISOR_console_io(CONSOLEIO_write, 0, "x"), 0);
	st_check_rc(HYPERVISOR_console_io(CONSOLEIO_write, 16, ST_HV_PTR), -XEN_EFAULT);
	st_check_rc(HYPERVISOR_console_io(CONSOLEIO_write, 16, ST_UNMAPPED_PTR), -XEN_EFAULT);
	st_check_rc(HYPERVISOR_console_io(99, 1, "x"), -XEN_ENOSYS);
}

/*
 * Probes: vm_assist with an undefined type and an undefined command.
 * Expected: -EINVAL for type 31 and 64; -ENOSYS for command 7 on a valid type.
 */
void st_vm_assist_bad(void)
{
	st_check_rc(HYPERVISOR_vm_assist(VMASST_CMD_enable, 31), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_vm_assist(VMASST_CMD_enable, 64), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_vm_assist(7, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
}

/*
 * Probes: set_segment_base with an unknown selector and a non-canonical base, then a good FS
 * base (restored to 0). Expected: -EINVAL, -EINVAL, 0, 0.
 */
void st_set_segment_base(void)
{
	st_check_rc(HYPERVISOR_set_segment_base(99, 0), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_set_segment_base(SEGBASE_FS, 0x8000000000000000UL), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, 0x0000800000000000UL),
	            -XEN_EINVAL);
	st_check_rc(HYPERVISOR_set_segment_base(SEGBASE_FS, 0x10000), 0);
	st_check_rc(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
}

/*
 * Probes: vcpu_op is_up and runstate. Expected: vCPU 0 is up (1); a vCPU id far beyond the
 * domain's is -ENOENT; a registered runstate area is filled at once and reports vCPU 0
 * running; get_runstate_info shows time spent running; an unknown command is -ENOSYS.
 */
void st_vcpu_op(void)
{
	static struct vcpu_runstate_info rs;
	struct vcpu_register_runstate_memory_area area = {.addr.v = (uint64_t)&rs};

	st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
	st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_is_up, 4096, NULL), -XEN_ENOENT);
	st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &area), 0);
	st_check_rc(rs.state, RUNSTATE_running);
	st_check(rs.state_entry_time > 0);
	static struct vcpu_runstate_info now;
	st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &now), 0);
	st_check_rc(now.state, RUNSTATE_running);
	st_check(now.time[RUNSTATE_running] > 0);
	st_check_rc(HYPERVISOR_vcpu_op(99, 0, NULL), -XEN_ENOSYS);
}

/*
 * Probes: callback_op with an unknown type, a non-canonical address, unregistering a callback
 * that cannot be unregistered, and the NMI callback (register, unregister) through nmi_op.
 * Expected: -ENOSYS, -EINVAL, -EINVAL, 0, 0; our event callback keeps working (later cases).
 */
void st_callback_op(void)
{
	struct callback_register bad_type = {.type = 99, .address = (uint64_t)pv_event_entry};
	struct callback_register bad_addr = {.type = CALLBACKTYPE_event,
	                                     .address = 0x8000000000000000UL};
	struct callback_unregister unreg = {.type = CALLBACKTYPE_event};
	struct xennmi_callback nmi = {.handler_address = pv_exception_entries[2]};

	st_check_rc(HYPERVISOR_callback_op(CALLBACKOP_register, &bad_type), -XEN_ENOSYS);
	st_check_rc(HYPERVISOR_callback_op(CALLBACKOP_register, &bad_addr), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_callback_op(CALLBACKOP_unregister, &unreg), -XEN_EINVAL);
	st_check_rc(HYPERVISOR_callback_op(CALLBACKOP_register, ST_HV_PTR), -XEN_EFAULT);
	st_check_rc(hypercall2(__HYPERVISOR_nmi_op, XENNMI_register_callback, &nmi), 0);
	st_check_rc(hypercall2(__HYPERVISOR_nmi_op, XENNMI_unregister_callback, NULL), 0);
}

/*
 * Probes: sched_op yield and an unknown command. Expected: 0 and -ENOSYS.
 */
void st_sched_op(void)
{
	st_check_rc(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0);
	st_check_rc(HYPERVISOR_sched_op(99, NULL), -XEN_ENOSYS);
	st_check_rc(HYPERVISOR_sched_op(SCHEDOP_shutdown, ST_HV_PTR), -XEN_EFAULT);
}

/*
 * Probes: memory_op queries. Expected: the current reservation equals start_info.nr_pages; the
 * highest machine frame is at least as high as any of ours; machphys_mapping names the
 * read-only M2P at MACH2PHYS_VIRT_START; an unknown command is -ENOSYS; a reservation struct
 * in the hypervisor's range cannot be read, and reservation operations report that as "0
 * extents done" (not -EFAULT), allocating nothing.
 */
void st_memory_op(void)
{
	domid_t self = DOMID_SELF;
	struct xen_machphys_mapping map;
	long max_mfn = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);

	st_check_rc(HYPERVISOR_memory_op(XENMEM_current_reservation, &self),
	            (long)pv_start_info->nr_pages);
	st_check(max_mfn > 0 && (uint64_t)max_mfn >= pv_p2m[pv_nr_pages - 1]);
	st_check_rc(HYPERVISOR_memory_op(XENMEM_machphys_mapping, &map), 0);
	st_check(map.v_start == MACH2PHYS_VIRT_START);
	st_check(map.v_end > map.v_start && map.v_end <= MACH2PHYS_VIRT_END);
	st_check_rc(HYPERVISOR_memory_op(63, NULL), -XEN_ENOSYS);
	st_check_rc(HYPERVISOR_memory_op(XENMEM_increase_reservation, ST_HV_PTR), 0);
	st_check_rc(HYPERVISOR_memory_op(XENMEM_current_reservation, &self),
	            (long)pv_start_info->nr_pages);
}

/*
 * Probes: the read-only M2P agrees with our P2M, and is read-only.
 * Expected: m2p[p2m[pfn]] == pfn for a spread of PFNs; writing to it faults (#PF).
 */
void st_m2p(void)
{
	for (uint64_t pfn = 0; pfn < pv_nr_pages; pfn += 97)
		if (pv_m2p()[pv_p2m[pfn]] != pfn)
			st_fail("m2p[%#llx] = %#llx, expected pfn %#llx",
			        (unsigned long long)pv_p2m[pfn],
			        (unsigned long long)pv_m2p()[pv_p2m[pfn]], (unsigned long long)pfn);
	uint64_t count = pv_last_trap.count;
	volatile uint64_t *m2p = (uint64_t *)MACH2PHYS_VIRT_START + pv_p2m[0];
	uint64_t value = 0x1234;
	__asm__ __volatile__("1: mov %1, (%0)\n\t2:\n\t" EXTABLE(1b, 2b)
	                     :
	                     : "r"(m2p), "r"(value)
	                     : "memory");
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 14);
	st_check(pv_m2p()[pv_p2m[0]] == 0);
}

/*
 * Probes: multicall batching. A batch of three: xen_version, an unknown hypercall, a nested
 * multicall. Expected: the call returns 0; results are the version, -ENOSYS and -EINVAL (no
 * nesting); a list in the hypervisor's range or unmapped memory is -EFAULT.
 */
void st_multicall(void)
{
	static multicall_entry_t inner[1];
	static multicall_entry_t mc[3];

	memset(mc, 0, sizeof(mc));
	inner[0].op = __HYPERVISOR_xen_version;
	mc[0].op = __HYPERVISOR_xen_version;
	mc[0].args[0] = XENVER_version;
	mc[1].op = 999;
	mc[2].op = __HYPERVISOR_multicall;
	mc[2].args[0] = (uint64_t)inner;
	mc[2].args[1] = 1;
	st_check_rc(HYPERVISOR_multicall(mc, 3), 0);
	st_check_rc((long)mc[0].result, HYPERVISOR_xen_version(XENVER_version, NULL));
	st_check_rc((long)mc[1].result, -XEN_ENOSYS);
	st_check_rc((long)mc[2].result, -XEN_EINVAL);
	st_check_rc(HYPERVISOR_multicall(ST_HV_PTR, 1), -XEN_EFAULT);
	st_check_rc(HYPERVISOR_multicall(ST_UNMAPPED_PTR, 1), -XEN_EFAULT);
	st_check_rc(HYPERVISOR_multicall(mc, 0), 0);
}

/*
 * Probes: hypercall argument pointers into the hypervisor's range and into unmapped memory,
 * for each hypercall that reads a guest buffer.
 * Expected: -EFAULT each time, and nothing changed (the next cases still work).
 */
void st_bad_guest_pointers(void)
{
	void *bad[] = {ST_HV_PTR, ST_UNMAPPED_PTR};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		st_check_rc(HYPERVISOR_mmu_update(bad[i], 1, NULL, DOMID_SELF), -XEN_EFAULT);
		st_check_rc(HYPERVISOR_mmuext_op(bad[i], 1, NULL, DOMID_SELF), -XEN_EFAULT);
		st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_send, bad[i]), -XEN_EFAULT);
		st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, bad[i]),
		            -XEN_EFAULT);
		st_check_rc(HYPERVISOR_set_trap_table(bad[i]), -XEN_EFAULT);
		st_check_rc(HYPERVISOR_xen_version(XENVER_get_features, bad[i]), -XEN_EFAULT);
		st_check_rc(HYPERVISOR_grant_table_op(6 /* query_size */, bad[i], 1), -XEN_EFAULT);
		st_check_rc(HYPERVISOR_set_gdt(bad[i], 1), -XEN_EFAULT);
	}
}
