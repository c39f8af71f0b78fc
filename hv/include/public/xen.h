/*
 * The core of the guest ABI: hypercall numbers, the page-table interface, start_info,
 * shared_info and the 64-bit PV address-space and selector conventions.
 *
 * The layouts are those of Xen's PV ABI for 64-bit x86 guests (LP64), so that a kernel written
 * for Xen runs on hv and our guest kernel runs on Xen. Only fixed-width types are used; guest
 * pointers travel as uint64_t guest virtual addresses, which the hypervisor dereferences through
 * the calling guest's current kernel page tables. Every offset and size stated here is checked at
 * compile time by tests/unit/public/check-abi.c.
 *
 * Hypercall convention (64-bit PV): `syscall` executed in guest kernel mode with RAX = number and
 * the arguments in RDI, RSI, RDX, R10, R8. The result comes back in RAX (>= 0 success, -XEN_E*
 * failure); RCX and R11 are destroyed by syscall; the argument registers must be treated as
 * clobbered. Unknown numbers return -XEN_ENOSYS.
 */
#ifndef __HV_PUBLIC_XEN_H__
#define __HV_PUBLIC_XEN_H__

#ifndef __ASSEMBLY__
#include <stdint.h>

typedef uint16_t domid_t;     /* domain identifier */
typedef uint64_t xen_pfn_t;   /* frame number (MFN or pseudo-physical PFN) */
typedef uint64_t xen_ulong_t; /* register-sized unsigned value */
typedef uint32_t evtchn_port_t;
#endif

/* ------------------------------------------------------------------------------------------ */
/* Hypercall numbers. */

#define __HYPERVISOR_set_trap_table                0
#define __HYPERVISOR_mmu_update                    1
#define __HYPERVISOR_set_gdt                       2
#define __HYPERVISOR_stack_switch                  3
#define __HYPERVISOR_set_callbacks                 4
#define __HYPERVISOR_fpu_taskswitch                5
#define __HYPERVISOR_sched_op_compat               6
#define __HYPERVISOR_platform_op                   7
#define __HYPERVISOR_set_debugreg                  8
#define __HYPERVISOR_get_debugreg                  9
#define __HYPERVISOR_update_descriptor             10
#define __HYPERVISOR_memory_op                     12
#define __HYPERVISOR_multicall                     13
#define __HYPERVISOR_update_va_mapping             14
#define __HYPERVISOR_set_timer_op                  15
#define __HYPERVISOR_event_channel_op_compat       16
#define __HYPERVISOR_xen_version                   17
#define __HYPERVISOR_console_io                    18
#define __HYPERVISOR_physdev_op_compat             19
#define __HYPERVISOR_grant_table_op                20
#define __HYPERVISOR_vm_assist                     21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                          23
#define __HYPERVISOR_vcpu_op                       24
#define __HYPERVISOR_set_segment_base              25
#define __HYPERVISOR_mmuext_op                     26
#define __HYPERVISOR_xsm_op                        27
#define __HYPERVISOR_nmi_op                        28
#define __HYPERVISOR_sched_op                      29
#define __HYPERVISOR_callback_op                   30
#define __HYPERVISOR_xenoprof_op                   31
#define __HYPERVISOR_event_channel_op              32
#define __HYPERVISOR_physdev_op                    33
#define __HYPERVISOR_hvm_op                        34
#define __HYPERVISOR_sysctl                        35
#define __HYPERVISOR_domctl                        36
#define __HYPERVISOR_kexec_op                      37
#define __HYPERVISOR_tmem_op                       38
#define __HYPERVISOR_argo_op                       39
#define __HYPERVISOR_xenpmu_op                     40
#define __HYPERVISOR_dm_op                         41
#define __HYPERVISOR_hypfs_op                      42
#define __HYPERVISOR_arch_0                        48 /* x86: machine-check information (mca) */
#define __HYPERVISOR_arch_1                        49
#define __HYPERVISOR_arch_2                        50
#define __HYPERVISOR_arch_3                        51
#define __HYPERVISOR_arch_4                        52
#define __HYPERVISOR_arch_5                        53
#define __HYPERVISOR_arch_6                        54
#define __HYPERVISOR_arch_7                        55
#define __HYPERVISOR_mca                           __HYPERVISOR_arch_0

#define NR_hypercalls 64 /* numbers at or above this return -XEN_ENOSYS */

/* ------------------------------------------------------------------------------------------ */
/* Virtual interrupts (bound with EVTCHNOP_bind_virq). Per-vCPU ones are marked. */

#define VIRQ_TIMER      0  /* per-vCPU: single-shot or periodic timer expired */
#define VIRQ_DEBUG      1  /* per-vCPU: debug key pressed on the hypervisor console */
#define VIRQ_CONSOLE    2  /* global: input on the hypervisor console (privileged) */
#define VIRQ_DOM_EXC    3  /* global: a domain shut down or crashed (privileged) */
#define VIRQ_TBUF       4  /* global: trace buffer has records */
#define VIRQ_DEBUGGER   6  /* global: a domain paused for the debugger */
#define VIRQ_XENOPROF   7  /* per-vCPU: profiling samples */
#define VIRQ_CON_RING   8  /* global: hypervisor console ring has data */
#define VIRQ_PCPU_STATE 9  /* global: physical CPU state changed */
#define VIRQ_MEM_EVENT  10 /* global: memory event ring has data */
#define VIRQ_ARGO       11 /* per-domain: argo message */
#define VIRQ_ENOMEM     12 /* global: low on memory */
#define VIRQ_XENPMU     13 /* per-vCPU: PMU interrupt */
#define VIRQ_ARCH_0     16
#define VIRQ_ARCH_1     17
#define VIRQ_ARCH_2     18
#define VIRQ_ARCH_3     19
#define VIRQ_ARCH_4     20
#define VIRQ_ARCH_5     21
#define VIRQ_ARCH_6     22
#define VIRQ_ARCH_7     23
#define VIRQ_MCA        VIRQ_ARCH_0
#define NR_VIRQS        24

/* ------------------------------------------------------------------------------------------ */
/* Domain identifiers with a special meaning. */

#define DOMID_FIRST_RESERVED 0x7ff0
#define DOMID_SELF           0x7ff0 /* the calling domain */
#define DOMID_IO             0x7ff1 /* mmu_update: only I/O memory may be mapped */
#define DOMID_XEN            0x7ff2 /* owner of hypervisor-heap frames shared with guests */
#define DOMID_COW            0x7ff3 /* owner of shared copy-on-write frames */
#define DOMID_INVALID        0x7ff4 /* no domain */
#define DOMID_IDLE           0x7fff /* the idle domain */
#define DOMID_MASK           0x7fff

/* ------------------------------------------------------------------------------------------ */
/*
 * mmu_update (#1): mmu_update(struct mmu_update req[], unsigned count, unsigned *pdone,
 * unsigned foreigndom).
 *
 * Each request writes one 8-byte entry. ptr[1:0] is the command, the rest of ptr the machine
 * address of the entry; val the new value.
 *  - MMU_NORMAL_PT_UPDATE: checked write of a page-table entry. The page must currently be typed
 *    L1..L4; the new entry is validated (frame owner, allowed flag bits, no superpages, Xen's L4
 *    slots untouched) and the old entry's references are dropped. Writing a page that is not a
 *    page table is a plain write and needs the page to be mappable writable.
 *  - MMU_MACHPHYS_UPDATE: M2P[ptr >> 12] = val; the frame must belong to the domain.
 *  - MMU_PT_UPDATE_PRESERVE_AD: as NORMAL but keeps the A/D bits the CPU set meanwhile.
 *  - MMU_PT_UPDATE_NO_TRANSLATE: as NORMAL, val not translated (translated domains only).
 * foreigndom[15:0] names the owner of mapped data frames (DOMID_SELF usually); foreigndom[31:16]
 * is the page-table owner plus one (0 = self). Processing stops at the first failing request,
 * *pdone (if non-NULL) receives the number done. The guest flushes the TLB itself after L1
 * changes; after L2..L4 changes the hypervisor does.
 *
 * How a guest builds a new address space: fill the tables bottom-up as ordinary memory, map
 * every table page read-only everywhere (a page table may never also be writable), pin the top
 * level (MMUEXT_PIN_L4_TABLE, which validates the whole tree), then MMUEXT_NEW_BASEPTR.
 */
#define MMU_NORMAL_PT_UPDATE       0
#define MMU_MACHPHYS_UPDATE        1
#define MMU_PT_UPDATE_PRESERVE_AD  2
#define MMU_PT_UPDATE_NO_TRANSLATE 3

/* Set in the count argument of a continued (preempted) mmu_update/mmuext_op; never by guests. */
#define MMU_UPDATE_PREEMPTED (~(~0U >> 1))

#ifndef __ASSEMBLY__
struct mmu_update {
	uint64_t ptr; /* machine address of the entry | command */
	uint64_t val; /* new contents */
};
typedef struct mmu_update mmu_update_t;
#endif

/*
 * mmuext_op (#26): mmuext_op(struct mmuext_op ops[], unsigned count, unsigned *pdone,
 * unsigned foreigndom). Extended MMU operations; arguments per command:
 *   PIN_L1..PIN_L4_TABLE  arg1.mfn: validate the frame as that level and hold it (pinned);
 *                          already pinned or wrong type => -EINVAL
 *   UNPIN_TABLE           arg1.mfn: release the pin; not pinned => -EINVAL
 *   NEW_BASEPTR           arg1.mfn: install as this vCPU's kernel L4 (validates it)
 *   NEW_USER_BASEPTR      arg1.mfn: install as the user-mode L4 (0 = none)
 *   TLB_FLUSH_LOCAL       flush this vCPU's TLB
 *   INVLPG_LOCAL          arg1.linear_addr: invalidate one page locally
 *   TLB_FLUSH_MULTI       arg2.vcpumask: flush the vCPUs in the bitmap
 *   INVLPG_MULTI          arg1.linear_addr, arg2.vcpumask
 *   TLB_FLUSH_ALL         all vCPUs of the domain
 *   INVLPG_ALL            arg1.linear_addr, all vCPUs
 *   FLUSH_CACHE(_GLOBAL)  wbinvd; needs I/O privilege (else -EACCES)
 *   SET_LDT               arg1.linear_addr (page aligned), arg2.nr_ents (<= 8192)
 *   CLEAR_PAGE            arg1.mfn: zero a writable frame
 *   COPY_PAGE             arg1.mfn (destination), arg2.src_mfn
 *   MARK_SUPER/UNMARK_SUPER: -EOPNOTSUPP (no superpages for PV)
 * Unknown commands => -ENOSYS. Base-pointer, TLB and LDT commands on a foreign domain => -EPERM.
 */
#define MMUEXT_PIN_L1_TABLE       0
#define MMUEXT_PIN_L2_TABLE       1
#define MMUEXT_PIN_L3_TABLE       2
#define MMUEXT_PIN_L4_TABLE       3
#define MMUEXT_UNPIN_TABLE        4
#define MMUEXT_NEW_BASEPTR        5
#define MMUEXT_TLB_FLUSH_LOCAL    6
#define MMUEXT_INVLPG_LOCAL       7
#define MMUEXT_TLB_FLUSH_MULTI    8
#define MMUEXT_INVLPG_MULTI       9
#define MMUEXT_TLB_FLUSH_ALL      10
#define MMUEXT_INVLPG_ALL         11
#define MMUEXT_FLUSH_CACHE        12
#define MMUEXT_SET_LDT            13
#define MMUEXT_NEW_USER_BASEPTR   15
#define MMUEXT_CLEAR_PAGE         16
#define MMUEXT_COPY_PAGE          17
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER         19
#define MMUEXT_UNMARK_SUPER       20

#ifndef __ASSEMBLY__
struct mmuext_op {
	uint32_t cmd; /* MMUEXT_* */
	uint32_t pad;
	union {
		xen_pfn_t mfn;        /* PIN_*, UNPIN, NEW_*BASEPTR, CLEAR_PAGE, COPY_PAGE dst */
		uint64_t linear_addr; /* INVLPG_*, SET_LDT */
	} arg1;
	union {
		uint32_t nr_ents;  /* SET_LDT */
		uint64_t vcpumask; /* TLB_FLUSH_MULTI, INVLPG_MULTI: guest VA of a vCPU bitmap */
		xen_pfn_t src_mfn; /* COPY_PAGE */
	} arg2;
};
typedef struct mmuext_op mmuext_op_t;
#endif

/*
 * update_va_mapping (#14): update_va_mapping(va, pte, flags). Finds the L1 entry mapping va in
 * the current page tables (the L1 must be typed L1, else -EINVAL), does a checked update, then
 * flushes per flags. update_va_mapping_otherdomain (#22) takes the frame owner as 4th argument.
 */
#define UVMF_NONE           0 /* no flush */
#define UVMF_TLB_FLUSH      1 /* flush the whole TLB */
#define UVMF_INVLPG         2 /* flush the one page */
#define UVMF_FLUSHTYPE_MASK 3
#define UVMF_MULTI          0 /* with a vCPU bitmap pointer ORed in */
#define UVMF_LOCAL          0 /* this vCPU */
#define UVMF_ALL            4 /* every vCPU of the domain */

/* ------------------------------------------------------------------------------------------ */
/* vm_assist (#21): vm_assist(cmd, type). Unknown types => -EINVAL. */

#define VMASST_CMD_enable  0
#define VMASST_CMD_disable 1

#define VMASST_TYPE_4gb_segments         0
#define VMASST_TYPE_4gb_segments_notify  1
#define VMASST_TYPE_writable_pagetables  2 /* emulate kernel writes to pinned L1 tables */
#define VMASST_TYPE_pae_extended_cr3     3
#define VMASST_TYPE_architectural_iopl   4  /* virtual IOPL follows the iret frame */
#define VMASST_TYPE_runstate_update_flag 5  /* XEN_RUNSTATE_UPDATE in state_entry_time */
#define VMASST_TYPE_m2p_strict           32 /* no RO M2P in user-mode L4s */

/* ------------------------------------------------------------------------------------------ */
/*
 * multicall (#13): multicall(struct multicall_entry list[], unsigned long nr). Runs the entries
 * in order, each result written into its entry; a failing entry does not stop the batch. The
 * hypercall itself returns 0, or an error for a bad list or a nested multicall.
 */
#ifndef __ASSEMBLY__
struct multicall_entry {
	xen_ulong_t op;      /* hypercall number */
	xen_ulong_t result;  /* OUT */
	xen_ulong_t args[6]; /* at most 5 used */
};
typedef struct multicall_entry multicall_entry_t;
#endif

/* ------------------------------------------------------------------------------------------ */
/* console_io (#18): console_io(cmd, count, buf). */

#define CONSOLEIO_write 0 /* print count bytes of buf on the hypervisor console */
#define CONSOLEIO_read  1 /* read up to count bytes of console input; returns bytes read */

/* ------------------------------------------------------------------------------------------ */
/* set_segment_base (#25): set_segment_base(which, base). Base must be canonical. */

#define SEGBASE_FS          0 /* FS base */
#define SEGBASE_GS_USER     1 /* inactive (user) GS base */
#define SEGBASE_GS_KERNEL   2 /* active (kernel) GS base */
#define SEGBASE_GS_USER_SEL 3 /* load the user %gs selector from base[15:0] */

/* ------------------------------------------------------------------------------------------ */
/*
 * The 64-bit PV address space. L4 slots 256..271 belong to the hypervisor: guests may not
 * install entries there and the hypervisor rewrites them in every L4 it validates. Slot 256
 * holds the read-only machine-to-physical table, readable by guests.
 */
#define HYPERVISOR_VIRT_START    0xffff800000000000ULL
#define HYPERVISOR_VIRT_END      0xffff880000000000ULL
#define MACH2PHYS_VIRT_START     0xffff800000000000ULL
#define MACH2PHYS_VIRT_END       0xffff804000000000ULL
#define MACH2PHYS_NR_ENTRIES     ((MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3)
#define HYPERVISOR_L4_FIRST_SLOT 256
#define HYPERVISOR_L4_LAST_SLOT  271

#define INVALID_M2P_ENTRY (~0ULL)        /* M2P: frame has no PFN */
#define SHARED_M2P_ENTRY  (~0ULL - 1ULL) /* M2P: frame is shared */

/* Page-table entry bits as the PV MMU interprets them. */
#define XEN_PTE_PRESENT      (1ULL << 0)
#define XEN_PTE_RW           (1ULL << 1)
#define XEN_PTE_USER         (1ULL << 2)
#define XEN_PTE_PWT          (1ULL << 3)
#define XEN_PTE_PCD          (1ULL << 4)
#define XEN_PTE_ACCESSED     (1ULL << 5)
#define XEN_PTE_DIRTY        (1ULL << 6)
#define XEN_PTE_PSE          (1ULL << 7) /* L2/L3: superpage (refused for PV); L1: PAT */
#define XEN_PTE_PAT          (1ULL << 7)
#define XEN_PTE_GLOBAL       (1ULL << 8)
#define XEN_PTE_AVAIL_MASK   (7ULL << 9)  /* software bits 9..11, the guest's */
#define XEN_PTE_GUEST_KERNEL (1ULL << 52) /* set by the hypervisor on kernel L1 entries */
#define XEN_PTE_GNTTAB       (1ULL << 62) /* hypervisor-internal: grant mapping */
#define XEN_PTE_NX           (1ULL << 63)
#define XEN_PTE_ADDR_MASK    0x000ffffffffff000ULL

#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE  (1ULL << XEN_PAGE_SHIFT)

/* ------------------------------------------------------------------------------------------ */
/*
 * Selectors. The hypervisor owns the GDT from entry 7168 (byte 0xe000, page 14) on; its flat
 * ring-3 descriptors are what a PV kernel and its user space run on. Kernel and user selectors
 * are identical; in frames the hypervisor builds, an interrupted guest *kernel* context shows
 * CS with RPL 0 (0xe030).
 */
#define FIRST_RESERVED_GDT_PAGE  14
#define FIRST_RESERVED_GDT_BYTE  (FIRST_RESERVED_GDT_PAGE * 4096)
#define FIRST_RESERVED_GDT_ENTRY (FIRST_RESERVED_GDT_BYTE / 8)

#define FLAT_RING3_CS32 0xe023 /* 32-bit code, ring 3 */
#define FLAT_RING3_CS64 0xe033 /* 64-bit code, ring 3 */
#define FLAT_RING3_DS32 0xe02b /* data, ring 3 */
#define FLAT_RING3_DS64 0x0000 /* 64-bit data: the null selector */
#define FLAT_RING3_SS32 0xe02b
#define FLAT_RING3_SS64 0xe02b

#define FLAT_KERNEL_DS64 FLAT_RING3_DS64
#define FLAT_KERNEL_DS32 FLAT_RING3_DS32
#define FLAT_KERNEL_DS   FLAT_KERNEL_DS64
#define FLAT_KERNEL_CS64 FLAT_RING3_CS64
#define FLAT_KERNEL_CS32 FLAT_RING3_CS32
#define FLAT_KERNEL_CS   FLAT_KERNEL_CS64
#define FLAT_KERNEL_SS64 FLAT_RING3_SS64
#define FLAT_KERNEL_SS32 FLAT_RING3_SS32
#define FLAT_KERNEL_SS   FLAT_KERNEL_SS64

#define FLAT_USER_DS64 FLAT_RING3_DS64
#define FLAT_USER_DS32 FLAT_RING3_DS32
#define FLAT_USER_DS   FLAT_USER_DS64
#define FLAT_USER_CS64 FLAT_RING3_CS64
#define FLAT_USER_CS32 FLAT_RING3_CS32
#define FLAT_USER_CS   FLAT_USER_CS64
#define FLAT_USER_SS64 FLAT_RING3_SS64
#define FLAT_USER_SS32 FLAT_RING3_SS32
#define FLAT_USER_SS   FLAT_USER_SS64

/* set_gdt (#2): at most this many guest entries (the frames before the reserved page). */
#define XEN_MAX_GUEST_GDT_ENTRIES FIRST_RESERVED_GDT_ENTRY

/* ------------------------------------------------------------------------------------------ */
/*
 * Virtual IDT (set_trap_table, #0): an array terminated by an entry whose address is 0; a NULL
 * pointer clears the whole table. A non-canonical address => -EINVAL.
 */
#define TI_GET_DPL(_ti)       ((_ti)->flags & 3)
#define TI_GET_IF(_ti)        ((_ti)->flags & 4)
#define TI_SET_DPL(_ti, _dpl) ((_ti)->flags = (uint8_t)(((_ti)->flags & ~3) | (_dpl)))
#define TI_SET_IF(_ti, _if)   ((_ti)->flags = (uint8_t)(((_ti)->flags & ~4) | ((_if) ? 4 : 0)))

#ifndef __ASSEMBLY__
struct trap_info {
	uint8_t vector;   /* exception or software interrupt vector */
	uint8_t flags;    /* bits 0-1: DPL for `int n`; bit 2: mask events on entry */
	uint16_t cs;      /* code selector (RPL raised to 3; unused for 64-bit) */
	uint64_t address; /* handler entry point */
};
typedef struct trap_info trap_info_t;
#endif

/*
 * HYPERVISOR_iret (#23): the guest jumps to its iret stub with this on the stack (RSP pointing at
 * rax). CS RPL 3 returns to user mode (user L4 + swapgs). With VGCF_in_syscall, RCX and R11 are
 * not restored. evtchn_upcall_mask becomes !(rflags & IF). Never returns to the caller.
 */
#define _VGCF_in_syscall 8
#define VGCF_in_syscall  (1U << _VGCF_in_syscall)
#define VGCF_IN_SYSCALL  VGCF_in_syscall

#ifndef __ASSEMBLY__
struct iret_context {
	uint64_t rax, r11, rcx, flags; /* flags: VGCF_in_syscall or 0 */
	uint64_t rip, cs, rflags, rsp, ss;
};
#endif

/* ------------------------------------------------------------------------------------------ */
/* Time and the per-vCPU shared state. */

/*
 * System time (ns since the hypervisor booted) extrapolated with the TSC. Read it with the
 * version protocol: v = version; read barrier; copy; read barrier; retry while (v & 1) or
 * version changed. ns = system_time + (((rdtsc - tsc_timestamp) shifted by tsc_shift) *
 * tsc_to_system_mul) >> 32, with a 128-bit product.
 */
#ifndef __ASSEMBLY__
struct vcpu_time_info {
	uint32_t version; /* odd while the hypervisor updates the record */
	uint32_t pad0;
	uint64_t tsc_timestamp;     /* TSC at the last update */
	uint64_t system_time;       /* ns at the last update */
	uint32_t tsc_to_system_mul; /* 32.32 fixed point ns per (shifted) tick */
	int8_t tsc_shift;           /* applied to the TSC delta before multiplying */
	uint8_t flags;              /* XEN_PVCLOCK_* */
	uint8_t pad1[2];
};
typedef struct vcpu_time_info vcpu_time_info_t;
#endif

#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0)
#define XEN_PVCLOCK_GUEST_STOPPED  (1 << 1)

#ifndef __ASSEMBLY__
struct arch_vcpu_info {
	uint64_t cr2; /* faulting address of the last #PF injected */
	uint64_t pad;
};
#endif

/*
 * One vCPU's slot. evtchn_upcall_mask is the guest's virtual interrupt flag (1 = events
 * masked); evtchn_upcall_pending is set by the hypervisor, cleared by the guest; bit i of
 * evtchn_pending_sel says word i of shared_info.evtchn_pending may hold work.
 */
#ifndef __ASSEMBLY__
struct vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	uint8_t pad0[6];
	uint64_t evtchn_pending_sel;
	struct arch_vcpu_info arch;
	struct vcpu_time_info time;
};
typedef struct vcpu_info vcpu_info_t;
#endif

#define XEN_LEGACY_MAX_VCPUS 32 /* vcpu_info slots inside shared_info */

#ifndef __ASSEMBLY__
struct arch_shared_info {
	uint64_t max_pfn;                    /* guest-written: entries in the P2M */
	uint64_t pfn_to_mfn_frame_list_list; /* guest-written: root of the 3-level P2M tree */
	uint64_t nmi_reason;                 /* bit0 io_error, bit1 pci_serr, bit2 unknown */
	uint64_t p2m_cr3;                    /* guest-written: linear P2M */
	uint64_t p2m_vaddr;
	uint64_t p2m_generation; /* incremented by the guest around P2M changes */
};
#endif

/*
 * The shared_info page (start_info.shared_info is its machine address; the guest maps it
 * itself, read-write). Event channel p is bit p%64 of word p/64 of evtchn_pending and
 * evtchn_mask. Wallclock: UTC at system time 0 is (wc_sec_hi << 32 | wc_sec) s + wc_nsec,
 * read with the version protocol on wc_version.
 */
#ifndef __ASSEMBLY__
struct shared_info {
	struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	uint64_t evtchn_pending[64];
	uint64_t evtchn_mask[64];
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
	struct arch_shared_info arch;
};
typedef struct shared_info shared_info_t;
#endif

#define EVTCHN_2L_NR_CHANNELS 4096

/* ------------------------------------------------------------------------------------------ */
/*
 * start_info: the domain builder's hand-over; its virtual address is in RSI at the entry point.
 * shared_info is a machine address, pt_base and mfn_list are virtual addresses, mod_start is a
 * virtual address or (with SIF_MOD_START_PFN) a PFN.
 */
#define MAX_GUEST_CMDLINE    1024
#define XEN_START_INFO_MAGIC "xen-3.0-x86_64"

#ifndef __ASSEMBLY__
struct start_info {
	char magic[32];       /* XEN_START_INFO_MAGIC, NUL terminated */
	uint64_t nr_pages;    /* pages allocated to the domain */
	uint64_t shared_info; /* machine address of the shared_info page */
	uint32_t flags;       /* SIF_* */
	uint32_t pad0;
	xen_pfn_t store_mfn;   /* xenstore ring MFN */
	uint32_t store_evtchn; /* xenstore event channel */
	uint32_t pad1;
	union {
		struct {
			xen_pfn_t mfn;   /* console ring MFN */
			uint32_t evtchn; /* console event channel */
			uint32_t pad;
		} domU;
		struct {
			uint32_t info_off;  /* offset of a dom0_vga_console_info in this page */
			uint32_t info_size; /* its size */
		} dom0;
	} console;
	uint64_t pt_base;      /* VA of the bootstrap L4 */
	uint64_t nr_pt_frames; /* bootstrap page-table frames */
	uint64_t mfn_list;     /* VA of the P2M list (array of MFNs indexed by PFN) */
	uint64_t mod_start;    /* VA (or PFN) of the initial module */
	uint64_t mod_len;      /* its length in bytes */
	char cmd_line[MAX_GUEST_CMDLINE];
	uint64_t first_p2m_pfn; /* first PFN of a separately mapped P2M area */
	uint64_t nr_p2m_frames; /* its frames (P2M pages and their page tables) */
};
typedef struct start_info start_info_t;
#endif

#define SIF_PRIVILEGED      (1 << 0)    /* the domain is privileged */
#define SIF_INITDOMAIN      (1 << 1)    /* the domain is the initial (control) domain */
#define SIF_MULTIBOOT_MOD   (1 << 2)    /* mod_start is a multiboot module package */
#define SIF_MOD_START_PFN   (1 << 3)    /* mod_start is a PFN, the module is not mapped */
#define SIF_VIRT_P2M_4TOOLS (1 << 4)    /* tools should use the virtual P2M list */
#define SIF_PM_MASK         (0xff << 8) /* reserved for power management */

/* Video modes in dom0's console information (start_info.console.dom0). */
#define XEN_VGATYPE_TEXT_MODE_3 0x03
#define XEN_VGATYPE_VESA_LFB    0x23
#define XEN_VGATYPE_EFI_LFB     0x70

/* Helpers for CR3 values carried in hypercalls (64-bit: the MFN shifted into place). */
#define xen_pfn_to_cr3(pfn) ((uint64_t)(pfn) << 12)
#define xen_cr3_to_pfn(cr3) ((uint64_t)(cr3) >> 12)

#endif /* __HV_PUBLIC_XEN_H__ */
