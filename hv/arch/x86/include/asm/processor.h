/*
 * x86-64 instructions hv uses, as inline functions: control registers, MSRs, CPUID, port I/O,
 * TSC, interrupt flag, and the SMAP bracket stac()/clac().
 */
#ifndef ASM_PROCESSOR_H
#define ASM_PROCESSOR_H

#include <hv/layout.h>

#define X86_CR0_PE (_AC(1, UL) << 0)
#define X86_CR0_WP (_AC(1, UL) << 16)
#define X86_CR0_PG (_AC(1, UL) << 31)

#define X86_CR4_PAE  (_AC(1, UL) << 5)
#define X86_CR4_PGE  (_AC(1, UL) << 7)
#define X86_CR4_SMEP (_AC(1, UL) << 20)
#define X86_CR4_SMAP (_AC(1, UL) << 21)

#define X86_EFLAGS_IF (_AC(1, UL) << 9)
#define X86_EFLAGS_DF (_AC(1, UL) << 10)
#define X86_EFLAGS_AC (_AC(1, UL) << 18)

#define MSR_APIC_BASE      0x0000001b
#define MSR_EFER           0xc0000080
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_FMASK          0xc0000084
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

#define EFER_SCE (_AC(1, UL) << 0)
#define EFER_LME (_AC(1, UL) << 8)
#define EFER_NXE (_AC(1, UL) << 11)

#ifndef __ASSEMBLER__
#include <klib/compiler.h>

#define DEFINE_CR(n)                                                                               \
	static inline unsigned long read_cr##n(void)                                               \
	{                                                                                          \
		unsigned long v;                                                                   \
		__asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v));                              \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_cr##n(unsigned long v)                                            \
	{                                                                                          \
		__asm__ __volatile__("mov %0, %%cr" #n ::"r"(v) : "memory");                       \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	                     : "memory");
}

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
                               uint32_t *d)
{
	__asm__ __volatile__("cpuid"
	                     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
	                     : "a"(leaf), "c"(sub));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	cpuid_count(leaf, 0, a, b, c, d);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void local_irq_enable(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}

static inline void local_irq_disable(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

static inline bool local_irq_is_enabled(void)
{
	unsigned long flags;

	__asm__ __volatile__("pushfq; popq %0" : "=r"(flags));
	return flags & X86_EFLAGS_IF;
}

/* Enables interrupts and halts with no window between: an interrupt that arrives after the
 * caller's last check still wakes the CPU. */
static inline void safe_halt(void)
{
	__asm__ __volatile__("sti; hlt" ::: "memory");
}

static inline void halt(void)
{
	__asm__ __volatile__("hlt" ::: "memory");
}

static inline void invlpg(const void *va)
{
	__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
}

/* Flushes every non-global TLB entry of this CPU. */
static inline void flush_tlb_local(void)
{
	write_cr3(read_cr3());
}

/* Flushes global entries too, by toggling CR4.PGE. */
static inline void flush_tlb_all_local(void)
{
	unsigned long cr4 = read_cr4();

	if (cr4 & X86_CR4_PGE) {
		write_cr4(cr4 & ~X86_CR4_PGE);
		write_cr4(cr4);
	} else {
		flush_tlb_local();
	}
}

/* CPU features hv cares about, filled by cpu_features_init() on the boot CPU. */
struct cpu_features {
	bool smep, smap, nx, pdpe1gb, pge, x2apic, invariant_tsc, fsgsbase;
	uint32_t max_leaf, max_ext_leaf;
	unsigned int family; /* display family (base + extended) */
	char vendor[13];
};
extern struct cpu_features cpu_features;

/*
 * SMAP bracket. With CR4.SMAP set, hv faults on any access to a user (guest) page unless
 * RFLAGS.AC is set. Code that copies to or from guest memory must do:
 *     stac(); <the accesses, with an exception fixup>; clac();
 * and nothing else between the two (no calls that could reach a guest-controlled pointer by
 * accident). Every exception and interrupt entry clears AC, so a guest cannot leave it set.
 * Both are no-ops on CPUs without SMAP (the instructions would be #UD there).
 */
static inline void stac(void)
{
	if (cpu_features.smap)
		__asm__ __volatile__(".byte 0x0f,0x01,0xcb" ::: "memory");
}

static inline void clac(void)
{
	if (cpu_features.smap)
		__asm__ __volatile__(".byte 0x0f,0x01,0xca" ::: "memory");
}

#endif /* __ASSEMBLER__ */

#endif
