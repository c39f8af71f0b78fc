/*
 * Feature bits reported by XENVER_get_features (submap 0) and named in a kernel's FEATURES
 * ELF note. The note uses the names without the XENFEAT_ prefix.
 */
#ifndef __HV_PUBLIC_FEATURES_H__
#define __HV_PUBLIC_FEATURES_H__

#define XENFEAT_writable_page_tables       0  /* guest may write its page tables directly */
#define XENFEAT_writable_descriptor_tables 1  /* ditto for GDT/LDT */
#define XENFEAT_auto_translated_physmap    2  /* hypervisor translates pseudo-physical */
#define XENFEAT_supervisor_mode_kernel     3  /* guest kernel runs in ring 0 */
#define XENFEAT_pae_pgdir_above_4gb        4  /* x86-32 PAE: L3 may live above 4 GiB */
#define XENFEAT_mmu_pt_update_preserve_ad  5  /* MMU_PT_UPDATE_PRESERVE_AD is available */
#define XENFEAT_highmem_assist             6  /* x86-32 highmem helpers */
#define XENFEAT_gnttab_map_avail_bits      7  /* GNTMAP bits 16..31 reach the PTE */
#define XENFEAT_hvm_callback_vector        8  /* HVM only */
#define XENFEAT_hvm_safe_pvclock           9  /* HVM only */
#define XENFEAT_hvm_pirqs                  10 /* HVM only */
#define XENFEAT_dom0                       11 /* this domain is the hardware domain */
#define XENFEAT_grant_map_identity         12 /* deprecated */
#define XENFEAT_memory_op_vnode_supported  13 /* XENMEMF_vnode understood */
#define XENFEAT_ARM_SMCCC_supported        14 /* ARM only */
#define XENFEAT_linux_rsdp_unrestricted    15 /* PVH only */
#define XENFEAT_not_direct_mapped          16 /* ARM only */
#define XENFEAT_direct_mapped              17 /* ARM only */
#define XENFEAT_runstate_phys_area         18 /* VCPUOP_register_runstate_phys_area */
#define XENFEAT_vcpu_time_phys_area        19 /* VCPUOP_register_vcpu_time_phys_area */
#define XENFEAT_dm_msix_all_writes         20 /* device-model MSI-X write forwarding */

#define XENFEAT_NR_SUBMAPS 1 /* one 32-bit submap is defined */

#endif /* __HV_PUBLIC_FEATURES_H__ */
