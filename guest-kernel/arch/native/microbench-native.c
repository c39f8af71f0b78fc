/*
 * The native rows of the micro-benchmarks: the bare-machine operations the PV rows are
 * compared with (include/microbench.h). Runs in ring 0 with interrupts off; for the ring-3
 * rows it switches to the benchmark's user address space and points MSR_LSTAR at
 * mb_native_lstar, and for the exception row it points IDT vector 3 at mb_native_int3; both
 * are put back before returning.
 *
 *   native_syscall   syscall + sysretq from ring 3 (timed in ring 3, minimal ring-0 side)
 *   ring_trip        sysretq from ring 0 to ring 3 and syscall straight back (timed in ring 0)
 *   pte_invlpg       one PTE store in a live L1 plus invlpg of its address
 *   exception        int3 in ring 0 to a handler that only does iretq
 *   cr3_write        mov to CR3 with the current value (flushes the non-global TLB)
 *   touch32          reads of 32 pages; cr3_touch32: the same after a CR3 write (the refill)
 */
#include <kernel.h>
#include <microbench.h>
#include <mm.h>
#include <platform.h>
#include <klib/string.h>

extern char native_syscall_entry[], mb_native_lstar[], mb_native_int3[];
void mb_native_ring_trip(uint64_t user_rip);
void mb_native_user_run(uint64_t rip, uint64_t rsp, uint64_t arg);

#define MSR_LSTAR 0xc0000082

static uint64_t samples[MB_MAX_ITERS];

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ __volatile__("mov %0, %%cr3" ::"r"(v) : "memory");
}

static uint64_t user_va(const char *sym)
{
	return MB_USER_CODE_VA + (uint64_t)(sym - mb_user_code_start);
}

static void bench_syscall(unsigned int iters)
{
	unsigned int warm = iters / 8;

	mb_user_count = 0;
	mb_native_user_run(user_va(mb_user_syscall_loop), MB_USER_STACK_TOP, warm + iters + 1);
	if (mb_user_count != warm + iters)
		panic("microbench: user loop handed in %u samples, expected %u", mb_user_count,
		      warm + iters);
	/* Batch b hands in the sample of batch b - 1: skip the warm-up. */
	mb_report("native_syscall", &mb_user_samples[warm], iters);
}

static void bench_pte(unsigned int iters)
{
	uint64_t *l1 = mb_user_l1();
	const unsigned int slot = 16;
	const uint64_t va = MB_USER_CODE_VA + slot * PAGE_SIZE;
	void *a = alloc_page(), *b = alloc_page();
	const uint64_t flags = PTE_P | PTE_W | PTE_A | PTE_D;

	if (!a || !b)
		panic("microbench: out of memory");
	uint64_t pte[2] = {platform->pte_make(virt_to_pfn(a), flags),
	                   platform->pte_make(virt_to_pfn(b), flags)};
	MB_TIME(samples, iters, i, {
		WRITE_ONCE(l1[slot], pte[i & 1]);
		__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
	});
	mb_report("pte_invlpg", samples, iters);
	WRITE_ONCE(l1[slot], 0);
	__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
	free_page(a);
	free_page(b);
}

static void bench_exception(unsigned int iters)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;
	__asm__ __volatile__("sidt %0" : "=m"(idtr));
	uint64_t *gate = (uint64_t *)idtr.base + 2 * 3;
	uint64_t saved[2] = {gate[0], gate[1]};
	uint64_t h = (uint64_t)mb_native_int3;

	gate[0] = (h & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) | ((h >> 16) & 0xffff) << 48;
	gate[1] = h >> 32;
	MB_TIME(samples, iters, i, __asm__ __volatile__("int3" ::: "memory"));
	gate[0] = saved[0];
	gate[1] = saved[1];
	mb_report("exception", samples, iters);
}

/*
 * What a TLB flush costs afterwards: reads of one byte in each of MB_TOUCH_PAGES pages of the
 * kernel image, without and with a CR3 write before them. Under TCG every CR3 write empties
 * QEMU's software TLB, and each page touched next is walked again; a hypervisor's exit path
 * touches a few dozen pages (its code, stacks, per-CPU and vCPU data, the guest's frames).
 */
#define MB_TOUCH_PAGES 32

static void touch_pages(void)
{
	const volatile uint8_t *p = (const volatile uint8_t *)KERNEL_VIRT_BASE;

	for (unsigned int n = 0; n < MB_TOUCH_PAGES; n++)
		(void)p[n * PAGE_SIZE];
}

static void bench_refill(unsigned int iters, uint64_t cr3)
{
	MB_TIME(samples, iters, i, touch_pages());
	mb_report("touch32", samples, iters);
	MB_TIME(samples, iters, i, {
		write_cr3(cr3);
		touch_pages();
	});
	mb_report("cr3_touch32", samples, iters);
}

void microbench_native(unsigned int iters)
{
	struct addr_space as;

	if (mb_user_space_create(&as))
		panic("microbench: no memory for the user address space");
	platform->as_switch(&as);
	wrmsr(MSR_LSTAR, (uint64_t)mb_native_lstar);

	bench_syscall(iters);
	uint64_t back = user_va(mb_user_ring_back);
	MB_TIME(samples, iters, i, mb_native_ring_trip(back));
	mb_report("ring_trip", samples, iters);
	bench_pte(iters);
	bench_exception(iters);
	uint64_t cr3 = read_cr3();
	MB_TIME(samples, iters, i, write_cr3(cr3));
	mb_report("cr3_write", samples, iters);
	bench_refill(iters, cr3);

	wrmsr(MSR_LSTAR, (uint64_t)native_syscall_entry);
	platform->as_switch(NULL);
	mb_user_space_destroy(&as);
}
