/*
 * Layout checks of the public guest ABI headers (hv/include/public).
 *
 * Every offset and size below is a fact of the Xen x86-64 PV ABI (see
 * shared/reference/xen-pv-abi.md); a header change that moves a field fails the build here.
 * main() then exercises the ring macros, whose index arithmetic must wrap correctly.
 * Built with the host compiler; the headers must also work there (fixed-width types only).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "public/xen.h"
#include "public/errno.h"
#include "public/elfnote.h"
#include "public/features.h"
#include "public/event_channel.h"
#include "public/grant_table.h"
#include "public/sched.h"
#include "public/vcpu.h"
#include "public/memory.h"
#include "public/callback.h"
#include "public/nmi.h"
#include "public/physdev.h"
#include "public/version.h"
#include "public/io/console.h"
#include "public/io/xs_wire.h"
#include "public/io/ring.h"
#include "public/io/blkif.h"

#define SIZE(type, n) _Static_assert(sizeof(type) == (n), "sizeof " #type " != " #n)
#define OFF(type, field, n)                                                                        \
	_Static_assert(offsetof(type, field) == (n), "offsetof(" #type ", " #field ") != " #n)
#define VAL(name, n) _Static_assert((name) == (n), #name " != " #n)

/* start_info (1.3) */
SIZE(struct start_info, 1168);
OFF(struct start_info, magic, 0);
OFF(struct start_info, nr_pages, 32);
OFF(struct start_info, shared_info, 40);
OFF(struct start_info, flags, 48);
OFF(struct start_info, store_mfn, 56);
OFF(struct start_info, store_evtchn, 64);
OFF(struct start_info, console.domU.mfn, 72);
OFF(struct start_info, console.domU.evtchn, 80);
OFF(struct start_info, console.dom0.info_off, 72);
OFF(struct start_info, console.dom0.info_size, 76);
OFF(struct start_info, pt_base, 88);
OFF(struct start_info, nr_pt_frames, 96);
OFF(struct start_info, mfn_list, 104);
OFF(struct start_info, mod_start, 112);
OFF(struct start_info, mod_len, 120);
OFF(struct start_info, cmd_line, 128);
OFF(struct start_info, first_p2m_pfn, 1152);
OFF(struct start_info, nr_p2m_frames, 1160);
VAL(SIF_PRIVILEGED, 1);
VAL(SIF_INITDOMAIN, 2);
VAL(SIF_MULTIBOOT_MOD, 4);
VAL(SIF_MOD_START_PFN, 8);
VAL(SIF_VIRT_P2M_4TOOLS, 16);
VAL(SIF_PM_MASK, 0xff00);

/* shared_info (1.4) */
SIZE(struct shared_info, 3136);
OFF(struct shared_info, vcpu_info, 0);
OFF(struct shared_info, evtchn_pending, 2048);
OFF(struct shared_info, evtchn_mask, 2560);
OFF(struct shared_info, wc_version, 3072);
OFF(struct shared_info, wc_sec, 3076);
OFF(struct shared_info, wc_nsec, 3080);
OFF(struct shared_info, wc_sec_hi, 3084);
OFF(struct shared_info, arch.max_pfn, 3088);
OFF(struct shared_info, arch.pfn_to_mfn_frame_list_list, 3096);
OFF(struct shared_info, arch.nmi_reason, 3104);
OFF(struct shared_info, arch.p2m_cr3, 3112);
OFF(struct shared_info, arch.p2m_vaddr, 3120);
OFF(struct shared_info, arch.p2m_generation, 3128);

/* vcpu_info, vcpu_time_info, runstate (1.5) */
SIZE(struct vcpu_info, 64);
OFF(struct vcpu_info, evtchn_upcall_pending, 0);
OFF(struct vcpu_info, evtchn_upcall_mask, 1);
OFF(struct vcpu_info, evtchn_pending_sel, 8);
OFF(struct vcpu_info, arch.cr2, 16);
OFF(struct vcpu_info, arch.pad, 24);
OFF(struct vcpu_info, time, 32);
SIZE(struct vcpu_time_info, 32);
OFF(struct vcpu_time_info, version, 0);
OFF(struct vcpu_time_info, pad0, 4);
OFF(struct vcpu_time_info, tsc_timestamp, 8);
OFF(struct vcpu_time_info, system_time, 16);
OFF(struct vcpu_time_info, tsc_to_system_mul, 24);
OFF(struct vcpu_time_info, tsc_shift, 28);
OFF(struct vcpu_time_info, flags, 29);
OFF(struct vcpu_time_info, pad1, 30);
VAL(XEN_PVCLOCK_TSC_STABLE_BIT, 1);
VAL(XEN_PVCLOCK_GUEST_STOPPED, 2);
SIZE(struct vcpu_runstate_info, 48);
OFF(struct vcpu_runstate_info, state, 0);
OFF(struct vcpu_runstate_info, state_entry_time, 8);
OFF(struct vcpu_runstate_info, time, 16);
VAL(RUNSTATE_running, 0);
VAL(RUNSTATE_runnable, 1);
VAL(RUNSTATE_blocked, 2);
VAL(RUNSTATE_offline, 3);

/* Address space (2.1) and selectors (2.3) */
VAL(HYPERVISOR_VIRT_START, 0xffff800000000000ULL);
VAL(HYPERVISOR_VIRT_END, 0xffff880000000000ULL);
VAL(MACH2PHYS_VIRT_START, 0xffff800000000000ULL);
VAL(MACH2PHYS_VIRT_END, 0xffff804000000000ULL);
VAL(MACH2PHYS_NR_ENTRIES, 1ULL << 35);
VAL(HYPERVISOR_VIRT_START >> 39 & 511, HYPERVISOR_L4_FIRST_SLOT);
VAL((HYPERVISOR_VIRT_END - 1) >> 39 & 511, HYPERVISOR_L4_LAST_SLOT);
VAL(INVALID_M2P_ENTRY, ~0ULL);
VAL(FIRST_RESERVED_GDT_PAGE, 14);
VAL(FIRST_RESERVED_GDT_BYTE, 0xe000);
VAL(FIRST_RESERVED_GDT_ENTRY, 7168);
VAL(FLAT_KERNEL_CS, 0xe033);
VAL(FLAT_USER_CS, 0xe033);
VAL(FLAT_RING3_CS64, 0xe033);
VAL(FLAT_RING3_CS32, 0xe023);
VAL(FLAT_KERNEL_SS, 0xe02b);
VAL(FLAT_USER_SS, 0xe02b);
VAL(FLAT_RING3_DS32, 0xe02b);
VAL(FLAT_KERNEL_DS, 0);
VAL(FLAT_USER_DS, 0);
VAL(XEN_PTE_GUEST_KERNEL, 1ULL << 52);
VAL(XEN_PTE_GNTTAB, 1ULL << 62);
VAL(XEN_PTE_NX, 1ULL << 63);
VAL(XEN_PTE_PSE, 0x80);
VAL(XEN_PTE_GLOBAL, 0x100);

/* trap_info (2.4), iret (2.6) */
SIZE(struct trap_info, 16);
OFF(struct trap_info, vector, 0);
OFF(struct trap_info, flags, 1);
OFF(struct trap_info, cs, 2);
OFF(struct trap_info, address, 8);
SIZE(struct iret_context, 72);
OFF(struct iret_context, rax, 0);
OFF(struct iret_context, r11, 8);
OFF(struct iret_context, rcx, 16);
OFF(struct iret_context, flags, 24);
OFF(struct iret_context, rip, 32);
OFF(struct iret_context, cs, 40);
OFF(struct iret_context, rflags, 48);
OFF(struct iret_context, rsp, 56);
OFF(struct iret_context, ss, 64);
VAL(VGCF_in_syscall, 0x100);

/* callbacks (2.7) */
SIZE(struct callback_register, 16);
OFF(struct callback_register, type, 0);
OFF(struct callback_register, flags, 2);
OFF(struct callback_register, address, 8);
SIZE(struct callback_unregister, 4);
VAL(CALLBACKOP_register, 0);
VAL(CALLBACKOP_unregister, 1);
VAL(CALLBACKTYPE_event, 0);
VAL(CALLBACKTYPE_failsafe, 1);
VAL(CALLBACKTYPE_syscall, 2);
VAL(CALLBACKTYPE_sysenter_deprecated, 3);
VAL(CALLBACKTYPE_nmi, 4);
VAL(CALLBACKTYPE_sysenter, 5);
VAL(CALLBACKTYPE_syscall32, 7);
VAL(CALLBACKF_mask_events, 1);
SIZE(struct xennmi_callback, 16);
VAL(XENNMI_register_callback, 0);
VAL(XENNMI_unregister_callback, 1);

/* Hypercall numbers (3.4) */
VAL(__HYPERVISOR_set_trap_table, 0);
VAL(__HYPERVISOR_mmu_update, 1);
VAL(__HYPERVISOR_set_gdt, 2);
VAL(__HYPERVISOR_stack_switch, 3);
VAL(__HYPERVISOR_set_callbacks, 4);
VAL(__HYPERVISOR_fpu_taskswitch, 5);
VAL(__HYPERVISOR_sched_op_compat, 6);
VAL(__HYPERVISOR_platform_op, 7);
VAL(__HYPERVISOR_set_debugreg, 8);
VAL(__HYPERVISOR_get_debugreg, 9);
VAL(__HYPERVISOR_update_descriptor, 10);
VAL(__HYPERVISOR_memory_op, 12);
VAL(__HYPERVISOR_multicall, 13);
VAL(__HYPERVISOR_update_va_mapping, 14);
VAL(__HYPERVISOR_set_timer_op, 15);
VAL(__HYPERVISOR_event_channel_op_compat, 16);
VAL(__HYPERVISOR_xen_version, 17);
VAL(__HYPERVISOR_console_io, 18);
VAL(__HYPERVISOR_physdev_op_compat, 19);
VAL(__HYPERVISOR_grant_table_op, 20);
VAL(__HYPERVISOR_vm_assist, 21);
VAL(__HYPERVISOR_update_va_mapping_otherdomain, 22);
VAL(__HYPERVISOR_iret, 23);
VAL(__HYPERVISOR_vcpu_op, 24);
VAL(__HYPERVISOR_set_segment_base, 25);
VAL(__HYPERVISOR_mmuext_op, 26);
VAL(__HYPERVISOR_xsm_op, 27);
VAL(__HYPERVISOR_nmi_op, 28);
VAL(__HYPERVISOR_sched_op, 29);
VAL(__HYPERVISOR_callback_op, 30);
VAL(__HYPERVISOR_xenoprof_op, 31);
VAL(__HYPERVISOR_event_channel_op, 32);
VAL(__HYPERVISOR_physdev_op, 33);
VAL(__HYPERVISOR_hvm_op, 34);
VAL(__HYPERVISOR_sysctl, 35);
VAL(__HYPERVISOR_domctl, 36);
VAL(__HYPERVISOR_kexec_op, 37);
VAL(__HYPERVISOR_tmem_op, 38);
VAL(__HYPERVISOR_argo_op, 39);
VAL(__HYPERVISOR_xenpmu_op, 40);
VAL(__HYPERVISOR_dm_op, 41);
VAL(__HYPERVISOR_hypfs_op, 42);
VAL(__HYPERVISOR_arch_0, 48);
VAL(__HYPERVISOR_arch_7, 55);
VAL(NR_hypercalls, 64);

/* multicall (3.3) */
SIZE(struct multicall_entry, 64);
OFF(struct multicall_entry, op, 0);
OFF(struct multicall_entry, result, 8);
OFF(struct multicall_entry, args, 16);

/* xen_version (3.5) */
VAL(XENVER_version, 0);
VAL(XENVER_extraversion, 1);
VAL(XENVER_compile_info, 2);
VAL(XENVER_capabilities, 3);
VAL(XENVER_changeset, 4);
VAL(XENVER_platform_parameters, 5);
VAL(XENVER_get_features, 6);
VAL(XENVER_pagesize, 7);
VAL(XENVER_guest_handle, 8);
VAL(XENVER_commandline, 9);
VAL(XENVER_build_id, 10);
VAL(XENVER_extraversion2, 11);
VAL(XENVER_capabilities2, 12);
VAL(XENVER_changeset2, 13);
VAL(XENVER_commandline2, 14);
SIZE(struct xen_varbuf, 4);
SIZE(struct xen_compile_info, 144);
SIZE(xen_domain_handle_t, 16);
SIZE(xen_extraversion_t, 16);
SIZE(xen_capabilities_info_t, 1024);
SIZE(xen_changeset_info_t, 64);
SIZE(xen_commandline_t, 1024);
SIZE(struct xen_feature_info, 8);
SIZE(struct xen_platform_parameters, 8);

/* Features (1.1) */
VAL(XENFEAT_writable_page_tables, 0);
VAL(XENFEAT_writable_descriptor_tables, 1);
VAL(XENFEAT_auto_translated_physmap, 2);
VAL(XENFEAT_supervisor_mode_kernel, 3);
VAL(XENFEAT_pae_pgdir_above_4gb, 4);
VAL(XENFEAT_mmu_pt_update_preserve_ad, 5);
VAL(XENFEAT_highmem_assist, 6);
VAL(XENFEAT_gnttab_map_avail_bits, 7);
VAL(XENFEAT_hvm_callback_vector, 8);
VAL(XENFEAT_hvm_safe_pvclock, 9);
VAL(XENFEAT_hvm_pirqs, 10);
VAL(XENFEAT_dom0, 11);
VAL(XENFEAT_grant_map_identity, 12);
VAL(XENFEAT_memory_op_vnode_supported, 13);
VAL(XENFEAT_ARM_SMCCC_supported, 14);
VAL(XENFEAT_linux_rsdp_unrestricted, 15);
VAL(XENFEAT_not_direct_mapped, 16);
VAL(XENFEAT_direct_mapped, 17);
VAL(XENFEAT_runstate_phys_area, 18);
VAL(XENFEAT_vcpu_time_phys_area, 19);
VAL(XENFEAT_dm_msix_all_writes, 20);

/* ELF notes (1.1) */
VAL(XEN_ELFNOTE_INFO, 0);
VAL(XEN_ELFNOTE_ENTRY, 1);
VAL(XEN_ELFNOTE_HYPERCALL_PAGE, 2);
VAL(XEN_ELFNOTE_VIRT_BASE, 3);
VAL(XEN_ELFNOTE_PADDR_OFFSET, 4);
VAL(XEN_ELFNOTE_XEN_VERSION, 5);
VAL(XEN_ELFNOTE_GUEST_OS, 6);
VAL(XEN_ELFNOTE_GUEST_VERSION, 7);
VAL(XEN_ELFNOTE_LOADER, 8);
VAL(XEN_ELFNOTE_PAE_MODE, 9);
VAL(XEN_ELFNOTE_FEATURES, 10);
VAL(XEN_ELFNOTE_BSD_SYMTAB, 11);
VAL(XEN_ELFNOTE_HV_START_LOW, 12);
VAL(XEN_ELFNOTE_L1_MFN_VALID, 13);
VAL(XEN_ELFNOTE_SUSPEND_CANCEL, 14);
VAL(XEN_ELFNOTE_INIT_P2M, 15);
VAL(XEN_ELFNOTE_MOD_START_PFN, 16);
VAL(XEN_ELFNOTE_SUPPORTED_FEATURES, 17);
VAL(XEN_ELFNOTE_PHYS32_ENTRY, 18);
VAL(XEN_ELFNOTE_PHYS32_RELOC, 19);

/* mmu_update / mmuext_op / update_va_mapping (4.4, 4.5) */
SIZE(struct mmu_update, 16);
OFF(struct mmu_update, ptr, 0);
OFF(struct mmu_update, val, 8);
VAL(MMU_NORMAL_PT_UPDATE, 0);
VAL(MMU_MACHPHYS_UPDATE, 1);
VAL(MMU_PT_UPDATE_PRESERVE_AD, 2);
VAL(MMU_PT_UPDATE_NO_TRANSLATE, 3);
VAL(MMU_UPDATE_PREEMPTED, 1U << 31);
SIZE(struct mmuext_op, 24);
OFF(struct mmuext_op, cmd, 0);
OFF(struct mmuext_op, arg1, 8);
OFF(struct mmuext_op, arg2, 16);
VAL(MMUEXT_PIN_L1_TABLE, 0);
VAL(MMUEXT_PIN_L2_TABLE, 1);
VAL(MMUEXT_PIN_L3_TABLE, 2);
VAL(MMUEXT_PIN_L4_TABLE, 3);
VAL(MMUEXT_UNPIN_TABLE, 4);
VAL(MMUEXT_NEW_BASEPTR, 5);
VAL(MMUEXT_TLB_FLUSH_LOCAL, 6);
VAL(MMUEXT_INVLPG_LOCAL, 7);
VAL(MMUEXT_TLB_FLUSH_MULTI, 8);
VAL(MMUEXT_INVLPG_MULTI, 9);
VAL(MMUEXT_TLB_FLUSH_ALL, 10);
VAL(MMUEXT_INVLPG_ALL, 11);
VAL(MMUEXT_FLUSH_CACHE, 12);
VAL(MMUEXT_SET_LDT, 13);
VAL(MMUEXT_NEW_USER_BASEPTR, 15);
VAL(MMUEXT_CLEAR_PAGE, 16);
VAL(MMUEXT_COPY_PAGE, 17);
VAL(MMUEXT_FLUSH_CACHE_GLOBAL, 18);
VAL(MMUEXT_MARK_SUPER, 19);
VAL(MMUEXT_UNMARK_SUPER, 20);
VAL(UVMF_NONE, 0);
VAL(UVMF_TLB_FLUSH, 1);
VAL(UVMF_INVLPG, 2);
VAL(UVMF_FLUSHTYPE_MASK, 3);
VAL(UVMF_LOCAL, 0);
VAL(UVMF_MULTI, 0);
VAL(UVMF_ALL, 4);
VAL(DOMID_SELF, 0x7ff0);
VAL(DOMID_IO, 0x7ff1);
VAL(DOMID_XEN, 0x7ff2);
VAL(DOMID_INVALID, 0x7ff4);
VAL(DOMID_IDLE, 0x7fff);

/* vm_assist (4.6) */
VAL(VMASST_CMD_enable, 0);
VAL(VMASST_CMD_disable, 1);
VAL(VMASST_TYPE_4gb_segments, 0);
VAL(VMASST_TYPE_4gb_segments_notify, 1);
VAL(VMASST_TYPE_writable_pagetables, 2);
VAL(VMASST_TYPE_pae_extended_cr3, 3);
VAL(VMASST_TYPE_architectural_iopl, 4);
VAL(VMASST_TYPE_runstate_update_flag, 5);
VAL(VMASST_TYPE_m2p_strict, 32);

/* memory_op (4.8) */
SIZE(struct xen_memory_reservation, 32);
OFF(struct xen_memory_reservation, extent_start, 0);
OFF(struct xen_memory_reservation, nr_extents, 8);
OFF(struct xen_memory_reservation, extent_order, 16);
OFF(struct xen_memory_reservation, mem_flags, 20);
OFF(struct xen_memory_reservation, domid, 24);
SIZE(struct xen_machphys_mfn_list, 24);
OFF(struct xen_machphys_mfn_list, max_extents, 0);
OFF(struct xen_machphys_mfn_list, extent_start, 8);
OFF(struct xen_machphys_mfn_list, nr_extents, 16);
SIZE(struct xen_memory_map, 16);
OFF(struct xen_memory_map, nr_entries, 0);
OFF(struct xen_memory_map, buffer, 8);
SIZE(struct xen_e820_entry, 20);
SIZE(struct xen_memory_exchange, 72);
OFF(struct xen_memory_exchange, out, 32);
OFF(struct xen_memory_exchange, nr_exchanged, 64);
SIZE(struct xen_machphys_mapping, 24);
VAL(XENMEM_increase_reservation, 0);
VAL(XENMEM_decrease_reservation, 1);
VAL(XENMEM_maximum_ram_page, 2);
VAL(XENMEM_current_reservation, 3);
VAL(XENMEM_maximum_reservation, 4);
VAL(XENMEM_machphys_mfn_list, 5);
VAL(XENMEM_populate_physmap, 6);
VAL(XENMEM_add_to_physmap, 7);
VAL(XENMEM_memory_map, 9);
VAL(XENMEM_machine_memory_map, 10);
VAL(XENMEM_exchange, 11);
VAL(XENMEM_machphys_mapping, 12);
VAL(XENMEM_set_memory_map, 13);
VAL(XENMEM_maximum_gpfn, 14);
VAL(XENMEM_claim_pages, 24);
VAL(XENMEM_machphys_compat_mfn_list, 25);
VAL(XENMEM_get_vnumainfo, 26);
VAL(XENMEM_acquire_resource, 28);
VAL(XENMEMF_populate_on_demand, 1U << 16);
VAL(XENMEMF_exact_node_request, 1U << 17);
VAL(XENMEMF_vnode, 1U << 18);
VAL(XENMEMF_node(0), 1U << 8);
VAL(MEMOP_EXTENT_SHIFT, 6);
VAL(MEMOP_CMD_MASK, 0x3f);

/* Event channels (5) */
VAL(EVTCHNOP_bind_interdomain, 0);
VAL(EVTCHNOP_bind_virq, 1);
VAL(EVTCHNOP_bind_pirq, 2);
VAL(EVTCHNOP_close, 3);
VAL(EVTCHNOP_send, 4);
VAL(EVTCHNOP_status, 5);
VAL(EVTCHNOP_alloc_unbound, 6);
VAL(EVTCHNOP_bind_ipi, 7);
VAL(EVTCHNOP_bind_vcpu, 8);
VAL(EVTCHNOP_unmask, 9);
VAL(EVTCHNOP_reset, 10);
VAL(EVTCHNOP_init_control, 11);
VAL(EVTCHNOP_expand_array, 12);
VAL(EVTCHNOP_set_priority, 13);
SIZE(struct evtchn_bind_interdomain, 12);
OFF(struct evtchn_bind_interdomain, remote_dom, 0);
OFF(struct evtchn_bind_interdomain, remote_port, 4);
OFF(struct evtchn_bind_interdomain, local_port, 8);
SIZE(struct evtchn_bind_virq, 12);
OFF(struct evtchn_bind_virq, virq, 0);
OFF(struct evtchn_bind_virq, vcpu, 4);
OFF(struct evtchn_bind_virq, port, 8);
SIZE(struct evtchn_bind_pirq, 12);
SIZE(struct evtchn_close, 4);
SIZE(struct evtchn_send, 4);
SIZE(struct evtchn_status, 24);
OFF(struct evtchn_status, dom, 0);
OFF(struct evtchn_status, port, 4);
OFF(struct evtchn_status, status, 8);
OFF(struct evtchn_status, vcpu, 12);
OFF(struct evtchn_status, u, 16);
OFF(struct evtchn_status, u.unbound.dom, 16);
OFF(struct evtchn_status, u.interdomain.dom, 16);
OFF(struct evtchn_status, u.interdomain.port, 20);
OFF(struct evtchn_status, u.virq, 16);
VAL(EVTCHNSTAT_closed, 0);
VAL(EVTCHNSTAT_unbound, 1);
VAL(EVTCHNSTAT_interdomain, 2);
VAL(EVTCHNSTAT_pirq, 3);
VAL(EVTCHNSTAT_virq, 4);
VAL(EVTCHNSTAT_ipi, 5);
SIZE(struct evtchn_alloc_unbound, 8);
OFF(struct evtchn_alloc_unbound, dom, 0);
OFF(struct evtchn_alloc_unbound, remote_dom, 2);
OFF(struct evtchn_alloc_unbound, port, 4);
SIZE(struct evtchn_bind_ipi, 8);
OFF(struct evtchn_bind_ipi, vcpu, 0);
OFF(struct evtchn_bind_ipi, port, 4);
SIZE(struct evtchn_bind_vcpu, 8);
SIZE(struct evtchn_unmask, 4);
SIZE(struct evtchn_reset, 2);
SIZE(struct evtchn_init_control, 24);
OFF(struct evtchn_init_control, control_gfn, 0);
OFF(struct evtchn_init_control, offset, 8);
OFF(struct evtchn_init_control, vcpu, 12);
OFF(struct evtchn_init_control, link_bits, 16);
SIZE(struct evtchn_expand_array, 8);
SIZE(struct evtchn_set_priority, 8);
VAL(EVTCHN_2L_NR_CHANNELS, 4096);

/* VIRQs (5.3) */
VAL(VIRQ_TIMER, 0);
VAL(VIRQ_DEBUG, 1);
VAL(VIRQ_CONSOLE, 2);
VAL(VIRQ_DOM_EXC, 3);
VAL(VIRQ_TBUF, 4);
VAL(VIRQ_DEBUGGER, 6);
VAL(VIRQ_XENOPROF, 7);
VAL(VIRQ_CON_RING, 8);
VAL(VIRQ_PCPU_STATE, 9);
VAL(VIRQ_MEM_EVENT, 10);
VAL(VIRQ_ARGO, 11);
VAL(VIRQ_ENOMEM, 12);
VAL(VIRQ_XENPMU, 13);
VAL(VIRQ_ARCH_0, 16);
VAL(VIRQ_ARCH_7, 23);
VAL(NR_VIRQS, 24);

/* vcpu_op (6.2) */
VAL(VCPUOP_initialise, 0);
VAL(VCPUOP_up, 1);
VAL(VCPUOP_down, 2);
VAL(VCPUOP_is_up, 3);
VAL(VCPUOP_get_runstate_info, 4);
VAL(VCPUOP_register_runstate_memory_area, 5);
VAL(VCPUOP_set_periodic_timer, 6);
VAL(VCPUOP_stop_periodic_timer, 7);
VAL(VCPUOP_set_singleshot_timer, 8);
VAL(VCPUOP_stop_singleshot_timer, 9);
VAL(VCPUOP_register_vcpu_info, 10);
VAL(VCPUOP_send_nmi, 11);
VAL(VCPUOP_get_physid, 12);
VAL(VCPUOP_register_vcpu_time_memory_area, 13);
VAL(VCPUOP_register_runstate_phys_area, 14);
VAL(VCPUOP_register_vcpu_time_phys_area, 15);
VAL(VCPU_SSHOTTMR_future, 1);
SIZE(struct vcpu_set_singleshot_timer, 16);
OFF(struct vcpu_set_singleshot_timer, timeout_abs_ns, 0);
OFF(struct vcpu_set_singleshot_timer, flags, 8);
SIZE(struct vcpu_set_periodic_timer, 8);
SIZE(struct vcpu_register_vcpu_info, 16);
OFF(struct vcpu_register_vcpu_info, mfn, 0);
OFF(struct vcpu_register_vcpu_info, offset, 8);
OFF(struct vcpu_register_vcpu_info, rsvd, 12);
SIZE(struct vcpu_register_runstate_memory_area, 8);
SIZE(struct vcpu_register_time_memory_area, 8);
SIZE(struct cpu_user_regs, 200);
OFF(struct cpu_user_regs, r15, 0);
OFF(struct cpu_user_regs, r11, 48);
OFF(struct cpu_user_regs, rax, 80);
OFF(struct cpu_user_regs, rdi, 112);
OFF(struct cpu_user_regs, error_code, 120);
OFF(struct cpu_user_regs, entry_vector, 124);
OFF(struct cpu_user_regs, rip, 128);
OFF(struct cpu_user_regs, cs, 136);
OFF(struct cpu_user_regs, saved_upcall_mask, 140);
OFF(struct cpu_user_regs, rflags, 144);
OFF(struct cpu_user_regs, rsp, 152);
OFF(struct cpu_user_regs, ss, 160);
OFF(struct cpu_user_regs, es, 168);
OFF(struct cpu_user_regs, ds, 176);
OFF(struct cpu_user_regs, fs, 184);
OFF(struct cpu_user_regs, gs, 192);
SIZE(struct vcpu_guest_context, 5168);
OFF(struct vcpu_guest_context, fpu_ctxt, 0);
OFF(struct vcpu_guest_context, flags, 512);
OFF(struct vcpu_guest_context, user_regs, 520);
OFF(struct vcpu_guest_context, trap_ctxt, 720);
OFF(struct vcpu_guest_context, ldt_base, 4816);
OFF(struct vcpu_guest_context, ldt_ents, 4824);
OFF(struct vcpu_guest_context, gdt_frames, 4832);
OFF(struct vcpu_guest_context, gdt_ents, 4960);
OFF(struct vcpu_guest_context, kernel_ss, 4968);
OFF(struct vcpu_guest_context, kernel_sp, 4976);
OFF(struct vcpu_guest_context, ctrlreg, 4984);
OFF(struct vcpu_guest_context, debugreg, 5048);
OFF(struct vcpu_guest_context, event_callback_eip, 5112);
OFF(struct vcpu_guest_context, failsafe_callback_eip, 5120);
OFF(struct vcpu_guest_context, syscall_callback_eip, 5128);
OFF(struct vcpu_guest_context, vm_assist, 5136);
OFF(struct vcpu_guest_context, fs_base, 5144);
OFF(struct vcpu_guest_context, gs_base_kernel, 5152);
OFF(struct vcpu_guest_context, gs_base_user, 5160);
VAL(VGCF_in_kernel, 4);
VAL(VGCF_online, 32);

/* sched_op (6.3) */
VAL(SCHEDOP_yield, 0);
VAL(SCHEDOP_block, 1);
VAL(SCHEDOP_shutdown, 2);
VAL(SCHEDOP_poll, 3);
VAL(SCHEDOP_remote_shutdown, 4);
VAL(SCHEDOP_shutdown_code, 5);
VAL(SCHEDOP_watchdog, 6);
VAL(SCHEDOP_pin_override, 7);
VAL(SHUTDOWN_poweroff, 0);
VAL(SHUTDOWN_reboot, 1);
VAL(SHUTDOWN_suspend, 2);
VAL(SHUTDOWN_crash, 3);
VAL(SHUTDOWN_watchdog, 4);
VAL(SHUTDOWN_soft_reset, 5);
SIZE(struct sched_shutdown, 4);
SIZE(struct sched_poll, 24);
OFF(struct sched_poll, ports, 0);
OFF(struct sched_poll, nr_ports, 8);
OFF(struct sched_poll, timeout, 16);
SIZE(struct sched_remote_shutdown, 8);
OFF(struct sched_remote_shutdown, domain_id, 0);
OFF(struct sched_remote_shutdown, reason, 4);

/* Grant tables (7) */
SIZE(struct grant_entry_v1, 8);
OFF(struct grant_entry_v1, flags, 0);
OFF(struct grant_entry_v1, domid, 2);
OFF(struct grant_entry_v1, frame, 4);
VAL(GTF_invalid, 0);
VAL(GTF_permit_access, 1);
VAL(GTF_accept_transfer, 2);
VAL(GTF_transitive, 3);
VAL(GTF_readonly, 4);
VAL(GTF_reading, 8);
VAL(GTF_writing, 16);
VAL(GTF_PWT, 32);
VAL(GTF_PCD, 64);
VAL(GTF_PAT, 128);
VAL(GTF_sub_page, 256);
VAL(GTF_transfer_committed, 4);
VAL(GTF_transfer_completed, 8);
VAL(GNTTABOP_map_grant_ref, 0);
VAL(GNTTABOP_unmap_grant_ref, 1);
VAL(GNTTABOP_setup_table, 2);
VAL(GNTTABOP_dump_table, 3);
VAL(GNTTABOP_transfer, 4);
VAL(GNTTABOP_copy, 5);
VAL(GNTTABOP_query_size, 6);
VAL(GNTTABOP_unmap_and_replace, 7);
VAL(GNTTABOP_set_version, 8);
VAL(GNTTABOP_get_status_frames, 9);
VAL(GNTTABOP_get_version, 10);
VAL(GNTTABOP_swap_grant_ref, 11);
VAL(GNTTABOP_cache_flush, 12);
VAL(GNTMAP_device_map, 1);
VAL(GNTMAP_host_map, 2);
VAL(GNTMAP_readonly, 4);
VAL(GNTMAP_application_map, 8);
VAL(GNTMAP_contains_pte, 16);
SIZE(struct gnttab_map_grant_ref, 32);
OFF(struct gnttab_map_grant_ref, host_addr, 0);
OFF(struct gnttab_map_grant_ref, flags, 8);
OFF(struct gnttab_map_grant_ref, ref, 12);
OFF(struct gnttab_map_grant_ref, dom, 16);
OFF(struct gnttab_map_grant_ref, status, 18);
OFF(struct gnttab_map_grant_ref, handle, 20);
OFF(struct gnttab_map_grant_ref, dev_bus_addr, 24);
SIZE(struct gnttab_unmap_grant_ref, 24);
OFF(struct gnttab_unmap_grant_ref, host_addr, 0);
OFF(struct gnttab_unmap_grant_ref, dev_bus_addr, 8);
OFF(struct gnttab_unmap_grant_ref, handle, 16);
OFF(struct gnttab_unmap_grant_ref, status, 20);
SIZE(struct gnttab_setup_table, 24);
OFF(struct gnttab_setup_table, dom, 0);
OFF(struct gnttab_setup_table, nr_frames, 4);
OFF(struct gnttab_setup_table, status, 8);
OFF(struct gnttab_setup_table, frame_list, 16);
SIZE(struct gnttab_dump_table, 4);
SIZE(struct gnttab_transfer, 24);
OFF(struct gnttab_transfer, mfn, 0);
OFF(struct gnttab_transfer, domid, 8);
OFF(struct gnttab_transfer, ref, 12);
OFF(struct gnttab_transfer, status, 16);
SIZE(struct gnttab_copy, 40);
OFF(struct gnttab_copy, source.u, 0);
OFF(struct gnttab_copy, source.domid, 8);
OFF(struct gnttab_copy, source.offset, 10);
OFF(struct gnttab_copy, dest, 16);
OFF(struct gnttab_copy, len, 32);
OFF(struct gnttab_copy, flags, 34);
OFF(struct gnttab_copy, status, 36);
SIZE(struct gnttab_query_size, 16);
OFF(struct gnttab_query_size, dom, 0);
OFF(struct gnttab_query_size, nr_frames, 4);
OFF(struct gnttab_query_size, max_nr_frames, 8);
OFF(struct gnttab_query_size, status, 12);
SIZE(struct gnttab_unmap_and_replace, 24);
SIZE(struct gnttab_set_version, 4);
SIZE(struct gnttab_get_version, 8);
OFF(struct gnttab_get_version, version, 4);
SIZE(struct gnttab_swap_grant_ref, 12);
VAL(GNTST_okay, 0);
VAL(GNTST_general_error, -1);
VAL(GNTST_bad_domain, -2);
VAL(GNTST_bad_gntref, -3);
VAL(GNTST_bad_handle, -4);
VAL(GNTST_bad_virt_addr, -5);
VAL(GNTST_bad_dev_addr, -6);
VAL(GNTST_no_device_space, -7);
VAL(GNTST_permission_denied, -8);
VAL(GNTST_bad_page, -9);
VAL(GNTST_bad_copy_arg, -10);
VAL(GNTST_address_too_big, -11);
VAL(GNTST_eagain, -12);
VAL(GNTST_no_space, -13);

/* physdev_op (3.4) */
VAL(PHYSDEVOP_irq_status_query, 5);
VAL(PHYSDEVOP_set_iopl, 6);
VAL(PHYSDEVOP_set_iobitmap, 7);
VAL(PHYSDEVOP_eoi, 12);
VAL(PHYSDEVOP_map_pirq, 13);
VAL(PHYSDEVOP_pirq_eoi_gmfn_v1, 17);
VAL(PHYSDEVOP_pirq_eoi_gmfn_v2, 28);
SIZE(struct physdev_set_iopl, 4);
SIZE(struct physdev_eoi, 4);
SIZE(struct physdev_irq_status_query, 8);
SIZE(struct physdev_set_iobitmap, 16);
VAL(BIND_PIRQ__WILL_SHARE, 1);

/* Reserved grant entries, default sizes (7) */
VAL(GNTTAB_NR_RESERVED_ENTRIES, 8);
VAL(GNTTAB_RESERVED_CONSOLE, 0);
VAL(GNTTAB_RESERVED_XENSTORE, 1);
VAL(DOMID_COW, 0x7ff3);
VAL(DOMID_FIRST_RESERVED, 0x7ff0);
VAL(SEGBASE_FS, 0);
VAL(SEGBASE_GS_USER, 1);
VAL(SEGBASE_GS_KERNEL, 2);
VAL(SEGBASE_GS_USER_SEL, 3);
VAL(XEN_LEGACY_MAX_VCPUS, 32);
VAL(MAX_GUEST_CMDLINE, 1024);
VAL(XEN_RUNSTATE_UPDATE, 1ULL << 63);
VAL(XENFEAT_NR_SUBMAPS, 1);

/* Console, XenStore (8) */
VAL(CONSOLEIO_write, 0);
VAL(CONSOLEIO_read, 1);
OFF(struct xencons_interface, in, 0);
OFF(struct xencons_interface, out, 1024);
OFF(struct xencons_interface, in_cons, 3072);
OFF(struct xencons_interface, in_prod, 3076);
OFF(struct xencons_interface, out_cons, 3080);
OFF(struct xencons_interface, out_prod, 3084);
OFF(struct xencons_interface, connection, 3088);
SIZE(struct xsd_sockmsg, 16);
SIZE(struct xenstore_domain_interface, 2080);
OFF(struct xenstore_domain_interface, req, 0);
OFF(struct xenstore_domain_interface, rsp, 1024);
OFF(struct xenstore_domain_interface, req_cons, 2048);
OFF(struct xenstore_domain_interface, req_prod, 2052);
OFF(struct xenstore_domain_interface, rsp_cons, 2056);
OFF(struct xenstore_domain_interface, rsp_prod, 2060);
OFF(struct xenstore_domain_interface, server_features, 2064);
OFF(struct xenstore_domain_interface, connection, 2068);
OFF(struct xenstore_domain_interface, error, 2072);
OFF(struct xenstore_domain_interface, evtchn_port, 2076);
VAL(XENSTORE_PAYLOAD_MAX, 4096);
VAL(XENSTORE_RING_SIZE, 1024);
VAL(XENSTORE_ABS_PATH_MAX, 3072);
VAL(XENSTORE_REL_PATH_MAX, 2048);
VAL(XENCONS_IN_SIZE, 1024);
VAL(XENCONS_OUT_SIZE, 2048);
VAL(XENCONSOLE_CONNECTED, 0);
VAL(XENCONSOLE_DISCONNECTED, 1);
VAL(XS_CONTROL, 0);
VAL(XS_DIRECTORY, 1);
VAL(XS_READ, 2);
VAL(XS_GET_PERMS, 3);
VAL(XS_WATCH, 4);
VAL(XS_UNWATCH, 5);
VAL(XS_TRANSACTION_START, 6);
VAL(XS_TRANSACTION_END, 7);
VAL(XS_INTRODUCE, 8);
VAL(XS_RELEASE, 9);
VAL(XS_GET_DOMAIN_PATH, 10);
VAL(XS_WRITE, 11);
VAL(XS_MKDIR, 12);
VAL(XS_RM, 13);
VAL(XS_SET_PERMS, 14);
VAL(XS_WATCH_EVENT, 15);
VAL(XS_ERROR, 16);
VAL(XS_IS_DOMAIN_INTRODUCED, 17);
VAL(XS_RESUME, 18);
VAL(XS_SET_TARGET, 19);
VAL(XS_RESET_WATCHES, 21);
VAL(XS_DIRECTORY_PART, 22);
VAL(XS_GET_FEATURE, 23);
VAL(XS_SET_FEATURE, 24);
VAL(XS_GET_QUOTA, 25);
VAL(XS_SET_QUOTA, 26);
VAL(XS_INVALID, 0xffff);

/* Shared rings (8.3): a blkif-shaped ring (112-byte request, 16-byte response) has 32 slots. */
struct test_blk_request {
	uint8_t operation, nr_segments;
	uint16_t handle;
	uint32_t pad;
	uint64_t id, sector_number;
	struct {
		uint32_t gref;
		uint8_t first_sect, last_sect;
		uint16_t pad;
	} seg[11];
};
struct test_blk_response {
	uint64_t id;
	uint8_t operation;
	int16_t status;
};
HV_RING_DEFINE(test_blk, struct test_blk_request, struct test_blk_response);
SIZE(struct test_blk_request, 112);
SIZE(struct test_blk_response, 16);
SIZE(struct test_blk_sring, 64);
OFF(struct test_blk_sring, req_prod, 0);
OFF(struct test_blk_sring, req_event, 4);
OFF(struct test_blk_sring, rsp_prod, 8);
OFF(struct test_blk_sring, rsp_event, 12);
OFF(struct test_blk_sring, pvt, 16);
OFF(struct test_blk_sring, pad, 20);
OFF(struct test_blk_sring, ring, 64);
VAL(HV_RING_SIZE_FOR(test_blk, 4096), 32);
/* netif tx: 12-byte request, 4-byte response union => 256 slots. */
struct test_tx_request {
	uint32_t gref;
	uint16_t offset, flags, id, size;
};
struct test_tx_response {
	uint16_t id;
	int16_t status;
};
HV_RING_DEFINE(test_tx, struct test_tx_request, struct test_tx_response);
VAL(HV_RING_SIZE_FOR(test_tx, 4096), 256);

static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		printf("FAIL: %s\n", what);
		failures++;
	}
}

/* Drive a ring across the 2^32 index wrap: requests go through, notification is exact. */
static void test_ring_wrap(void)
{
	static union {
		struct test_blk_sring s;
		uint8_t page[4096];
	} shared;
	struct test_blk_front_ring front;
	struct test_blk_back_ring back;
	int notify, work;

	HV_RING_SHARED_INIT(&shared.s);
	HV_RING_FRONT_INIT(&front, &shared.s, 4096);
	HV_RING_BACK_INIT(&back, &shared.s, 4096);
	check(HV_RING_SLOTS(&front) == 32, "front ring has 32 slots");
	check(HV_RING_FREE_REQUESTS(&front) == 32, "empty ring has 32 free slots");

	/* Start just below the wrap so the indices overflow during the test. */
	RING_IDX start = 0xfffffff0u;
	front.req_prod_pvt = front.rsp_cons = start;
	back.req_cons = back.rsp_prod_pvt = start;
	shared.s.req_prod = shared.s.rsp_prod = start;
	shared.s.req_event = shared.s.rsp_event = start + 1;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 32; i++) {
			struct test_blk_request *rq =
			    HV_RING_GET_REQUEST(&front, front.req_prod_pvt);
			memset(rq, 0, sizeof(*rq));
			rq->id = (uint64_t)round * 100 + (uint64_t)i;
			front.req_prod_pvt++;
		}
		check(HV_RING_FULL(&front), "ring is full after 32 requests");
		HV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
		check(notify == 1, "back end waiting for req_cons+1 is notified");
		HV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
		check(notify == 0, "pushing nothing new does not notify");

		check(HV_RING_HAS_UNCONSUMED_REQUESTS(&back) == 32, "back end sees 32 requests");
		for (int i = 0; i < 32; i++) {
			struct test_blk_request *rq = HV_RING_GET_REQUEST(&back, back.req_cons);
			check(rq->id == (uint64_t)round * 100 + (uint64_t)i, "requests in order");
			back.req_cons++;
			struct test_blk_response *rs =
			    HV_RING_GET_RESPONSE(&back, back.rsp_prod_pvt);
			rs->id = rq->id;
			back.rsp_prod_pvt++;
		}
		HV_RING_FINAL_CHECK_FOR_REQUESTS(&back, work);
		check(work == 0, "back end has no more work");
		check(shared.s.req_event == back.req_cons + 1, "back end set req_event");
		HV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
		check(notify == 1, "front end waiting for rsp_cons+1 is notified");
		check(HV_RING_HAS_UNCONSUMED_RESPONSES(&front) == 32,
		      "front end sees 32 responses");
		while (HV_RING_HAS_UNCONSUMED_RESPONSES(&front)) {
			struct test_blk_response *rs = HV_RING_GET_RESPONSE(&front, front.rsp_cons);
			check(rs->id % 100 < 32, "response ids are ours");
			front.rsp_cons++;
		}
		HV_RING_FINAL_CHECK_FOR_RESPONSES(&front, work);
		check(work == 0, "front end has no more responses");
	}
	check(front.req_prod_pvt == start + 96, "indices wrapped through 2^32");
	check(front.req_prod_pvt < start, "index really wrapped");
}

int main(void)
{
	test_ring_wrap();
	if (failures) {
		printf("check-abi: %d failures\n", failures);
		return 1;
	}
	printf("check-abi: layouts and ring arithmetic OK\n");
	return 0;
}
