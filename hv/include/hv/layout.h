/*
 * hv's virtual address layout, Xen-compatible. This header is shared by C and assembly.
 *
 * L4 slots 256..271 (0xffff800000000000 .. 0xffff87ffffffffff) belong to hv and are the same in
 * every address space hv runs in (its idle page table and every guest L4 it validates); every
 * other slot belongs to guests. Inside hv's range (only slot 256 is guest ABI):
 *
 *   0xffff800000000000 .. 0xffff803fffffffff  slot 256      read-only M2P for guests (256 GiB)
 *   0xffff804000000000 .. 0xffff807fffffffff  slot 256      reserved for guest-visible data
 *   0xffff808000000000 .. 0xffff80ffffffffff  slot 257      reserved
 *   0xffff810000000000 .. 0xffff817fffffffff  slot 258      linear page-table map (PV)
 *   0xffff820000000000 .. 0xffff827fffffffff  slot 260      per-domain area (GDT/LDT shadow, PV)
 *   0xffff828000000000 .. 0xffff82bfffffffff  slot 261      read-write M2P (PV)
 *   0xffff82c000000000 .. 0xffff82cfffffffff  slot 261      ioremap/vmap area (UC MMIO mappings)
 *   0xffff82d080000000 .. 0xffff82d0bfffffff  slot 261      hv image (1 GiB; maps physical 0 at
 *                                                           its start, the image sits at 2 MiB)
 *   0xffff82e000000000 .. 0xffff82ffffffffff  slot 261      frame table (struct page_info[])
 *   0xffff830000000000 .. 0xffff87ffffffffff  slots 262-271 direct map of all machine memory
 *
 * hv is loaded physically at HV_PHYS_START and linked at HV_VIRT_START + HV_PHYS_START, so an
 * image address and its physical address differ by the constant HV_VIRT_START.
 */
#ifndef HV_LAYOUT_H
#define HV_LAYOUT_H

#ifdef __ASSEMBLER__
#define _AC(x, suffix) x
#else
#define _AC(x, suffix) x##suffix
#endif

#define HYPERVISOR_VIRT_START _AC(0xffff800000000000, UL)
#define HYPERVISOR_VIRT_END   _AC(0xffff880000000000, UL)
#define HV_FIRST_L4_SLOT      256
#define HV_LAST_L4_SLOT       271

#define RO_MPT_VIRT_START     _AC(0xffff800000000000, UL)
#define RO_MPT_VIRT_END       _AC(0xffff804000000000, UL)
#define LINEAR_PT_VIRT_START  _AC(0xffff810000000000, UL)
#define LINEAR_PT_VIRT_END    _AC(0xffff818000000000, UL)
#define PERDOMAIN_VIRT_START  _AC(0xffff820000000000, UL)
#define PERDOMAIN_VIRT_END    _AC(0xffff828000000000, UL)
#define RDWR_MPT_VIRT_START   _AC(0xffff828000000000, UL)
#define RDWR_MPT_VIRT_END     _AC(0xffff82c000000000, UL)
#define IOREMAP_VIRT_START    _AC(0xffff82c000000000, UL)
#define IOREMAP_VIRT_END      _AC(0xffff82d000000000, UL)
#define HV_VIRT_START         _AC(0xffff82d080000000, UL)
#define HV_VIRT_END           _AC(0xffff82d0c0000000, UL)
#define FRAMETABLE_VIRT_START _AC(0xffff82e000000000, UL)
#define FRAMETABLE_VIRT_END   _AC(0xffff830000000000, UL)
#define DIRECTMAP_VIRT_START  _AC(0xffff830000000000, UL)
#define DIRECTMAP_VIRT_END    _AC(0xffff880000000000, UL)

/* Where the image is loaded; its link address is HV_VIRT_START + HV_PHYS_START. */
#define HV_PHYS_START _AC(0x200000, UL)

/* Low-memory page the application-processor start-up code is copied to (below 1 MiB). */
#define TRAMPOLINE_PHYS _AC(0x8000, UL)

#define PAGE_SHIFT 12
#define PAGE_SIZE  (_AC(1, UL) << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))

/* Stacks: every CPU has a primary stack and one stack per IST slot. */
#define STACK_ORDER    2 /* 16 KiB primary stack */
#define STACK_SIZE     (PAGE_SIZE << STACK_ORDER)
#define IST_STACK_SIZE PAGE_SIZE

#define NR_CPUS 64

#endif
