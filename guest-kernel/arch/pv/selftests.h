/*
 * Every PV self-test case, in run order: X(name, function). The functions live in st-*.c,
 * grouped by topic; the framework's own cases come first.
 */
#ifndef GK_PV_SELFTESTS_H
#define GK_PV_SELFTESTS_H

#define PV_SELFTEST_LIST(X)                                                                        \
	X("framework_passing_checks_record_nothing", st_framework_check)                           \
	X("framework_exception_fixup", st_framework_fixup)                                         \
	X("framework_null_unmapped", st_framework_null)                                            \
	X("framework_user_mode", st_framework_user_mode)                                           \
	X("xen_version", st_xen_version)                                                           \
	X("unknown_hypercall", st_unknown_hypercall)                                               \
	X("hypercall_page", st_hypercall_page)                                                     \
	X("console_io", st_console_io)                                                             \
	X("vm_assist_bad", st_vm_assist_bad)                                                       \
	X("set_segment_base", st_set_segment_base)                                                 \
	X("vcpu_op", st_vcpu_op)                                                                   \
	X("callback_op", st_callback_op)                                                           \
	X("sched_op", st_sched_op)                                                                 \
	X("memory_op", st_memory_op)                                                               \
	X("m2p", st_m2p)                                                                           \
	X("multicall", st_multicall)                                                               \
	X("bad_guest_pointers", st_bad_guest_pointers)                                             \
	X("int3", st_int3)                                                                         \
	X("page_fault_cr2", st_page_fault_cr2)                                                     \
	X("rdmsr_unknown_gp", st_rdmsr_unknown)                                                    \
	X("read_cr3", st_read_cr3)                                                                 \
	X("cpuid_fep", st_cpuid_fep)                                                               \
	X("fep_not_cpuid_ud", st_fep_not_cpuid)                                                    \
	X("trap_table_noncanonical", st_trap_table_noncanonical)                                   \
	X("iret_restores_mask", st_iret_restores_mask)                                             \
	X("pin_unpin", st_pin_unpin)                                                               \
	X("pin_writable", st_pin_writable)                                                         \
	X("mmu_update_map", st_mmu_update_map)                                                     \
	X("uvm_no_l1", st_uvm_no_l1)                                                               \
	X("pinned_table_writable", st_pinned_table_writable)                                       \
	X("table_maps_itself_writable", st_table_maps_itself_writable)                             \
	X("l4_hypervisor_slots", st_l4_hypervisor_slots)                                           \
	X("pse_in_l2", st_pse_in_l2)                                                               \
	X("mmu_update_bad_ptr", st_mmu_update_bad_ptr)                                             \
	X("map_foreign_frames", st_map_foreign_frames)                                             \
	X("map_released_frame", st_map_released_frame)                                             \
	X("ptwr_assist", st_ptwr_assist)                                                           \
	X("ptwr_rejected", st_ptwr_rejected)                                                       \
	X("new_l1_lifecycle", st_new_l1_lifecycle)                                                 \
	X("mmuext_misc", st_mmuext_misc)                                                           \
	X("copy_clear_page", st_copy_clear_page)                                                   \
	X("descriptor_tables", st_descriptor_tables)                                               \
	X("evtchn_loopback", st_evtchn_loopback)                                                   \
	X("evtchn_ipi_mask", st_evtchn_ipi_mask)                                                   \
	X("evtchn_bad", st_evtchn_bad)                                                             \
	X("timer_singleshot", st_timer_singleshot)                                                 \
	X("pvclock", st_pvclock)                                                                   \
	X("grant_table", st_grant_table)                                                           \
	X("user_syscall", st_user_syscall)                                                         \
	X("user_page_fault", st_user_page_fault)                                                   \
	X("user_kernel_isolated", st_user_kernel_isolated)                                         \
	X("user_repeat", st_user_repeat)                                                           \
	X("fpu_taskswitch", st_fpu_taskswitch)                                                     \
	X("set_iopl", st_set_iopl)                                                                 \
	X("set_ldt", st_set_ldt)                                                                   \
	X("sched_poll", st_sched_poll)                                                             \
	X("timer_periodic_and_cancel", st_timer_periodic_and_cancel)                               \
	X("callbacks_compat", st_callbacks_compat)                                                 \
	X("memory_map", st_memory_map)                                                             \
	X("foreign_owner_ids", st_foreign_owner_ids)                                               \
	X("l1_entry_adjustments", st_l1_entry_adjustments)                                         \
	X("smp", st_smp)

/*
 * Written and passing on Xen 4.17, not yet in the list because hv lacks the hypercalls they
 * probe (the hv self-test run must stay green): st_debugreg (set_debugreg/get_debugreg),
 * st_grant_map_self (GNTTABOP_map_grant_ref/unmap_grant_ref).
 */
void st_debugreg(void);
void st_grant_map_self(void);
void st_smp(void); /* st-smp.c */

#define DECLARE(name, fn) void fn(void);
PV_SELFTEST_LIST(DECLARE)
#undef DECLARE

#endif
