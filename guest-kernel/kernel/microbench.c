/*
 * The `microbench` mode (see include/microbench.h for the output and the method): the parts
 * both platforms share - timer check, the empty row, sorting and reporting, the user address
 * space for the ring-3 rows - and the choice of the platform's rows.
 *
 * Invariants: every row is measured with interrupts/events masked (a timer tick inside a
 * sample would be an outlier the median already ignores, but the masked state keeps the
 * hypervisor's upcall path out of the hypercall rows); the reported figures have the empty
 * timer pair (median of its own samples) subtracted and are never negative.
 */
#include <kernel.h>
#include <microbench.h>
#include <mm.h>
#include <platform.h>
#include <klib/string.h>

uint64_t mb_user_samples[MB_MAX_ITERS];
uint32_t mb_user_count;

static uint64_t samples[MB_MAX_ITERS];
static uint64_t empty_cost;

static void sort(uint64_t *v, unsigned int n)
{
	/* Shell sort: a few thousand samples, no allocation. */
	for (unsigned int gap = n / 2; gap > 0; gap /= 2)
		for (unsigned int i = gap; i < n; i++)
			for (unsigned int j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				uint64_t t = v[j];
				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

static uint64_t less_empty(uint64_t v)
{
	return v > empty_cost ? v - empty_cost : 0;
}

void mb_report(const char *row, uint64_t *v, unsigned int n)
{
	sort(v, n);
	printk("bench: %s median_cycles=%llu min=%llu iters=%u\n", row,
	       (unsigned long long)(less_empty(v[n / 2]) / MB_BATCH),
	       (unsigned long long)(less_empty(v[0]) / MB_BATCH), n * MB_BATCH);
}

/* The cost of the timer itself: the median of back-to-back reads, printed per sample. */
static void measure_empty(unsigned int iters)
{
	MB_TIME(samples, iters, i, (void)0);
	sort(samples, iters);
	empty_cost = samples[iters / 2];
	printk("bench: empty median_cycles=%llu min=%llu iters=%u\n",
	       (unsigned long long)empty_cost, (unsigned long long)samples[0], iters);
}

/* A loop of known length: 1,000,000 x (dec, jnz). Under -icount shift=0 the TSC advances one
 * tick per instruction, so this reads 2,000,000 plus the few instructions around it. The
 * smallest of five runs is printed: on a hypervisor its own timer interrupt may land in one. */
static void known_loop(void)
{
	uint64_t best = ~0ULL;

	for (int run = 0; run < 5; run++) {
		uint64_t t0 = mb_tsc();
		__asm__ __volatile__("mov $1000000, %%ecx\n1: dec %%ecx\n jnz 1b" ::: "ecx", "cc");
		uint64_t t1 = mb_tsc();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	printk("bench: known_loop ticks=%llu instructions=2000000\n", (unsigned long long)best);
}

/* ---- the user address space ---- */

static uint64_t *user_l3, *user_l2, *user_l1;
static void *user_code, *user_stack;

uint64_t *mb_user_l1(void)
{
	return user_l1;
}

int mb_user_space_create(struct addr_space *as)
{
	const uint64_t table = PTE_P | PTE_W | PTE_U | PTE_A | PTE_D;
	const uint64_t code = PTE_P | PTE_U | PTE_A;
	const uint64_t data = PTE_P | PTE_W | PTE_U | PTE_A | PTE_D;

	user_l3 = alloc_page();
	user_l2 = alloc_page();
	user_l1 = alloc_page();
	user_code = alloc_page();
	user_stack = alloc_page();
	if (!user_l3 || !user_l2 || !user_l1 || !user_code || !user_stack)
		return -1;
	memcpy(user_code, mb_user_code_start, (size_t)(mb_user_code_end - mb_user_code_start));
	user_l3[(MB_USER_CODE_VA >> 30) & 511] = platform->pte_make(virt_to_pfn(user_l2), table);
	user_l2[(MB_USER_CODE_VA >> 21) & 511] = platform->pte_make(virt_to_pfn(user_l1), table);
	user_l1[(MB_USER_CODE_VA >> 12) & 511] = platform->pte_make(virt_to_pfn(user_code), code);
	user_l1[((MB_USER_STACK_TOP >> 12) - 1) & 511] =
	    platform->pte_make(virt_to_pfn(user_stack), data);
	platform->pt_seal(user_l1);
	platform->pt_seal(user_l2);
	platform->pt_seal(user_l3);
	as->l3 = user_l3;
	if (platform->as_create(as))
		return -1;
	platform->pt_commit();
	return 0;
}

void mb_user_space_destroy(struct addr_space *as)
{
	platform->as_destroy(as);
	platform->pt_unseal(user_l3);
	platform->pt_unseal(user_l2);
	platform->pt_unseal(user_l1);
	platform->pt_commit();
	free_page(user_l3);
	free_page(user_l2);
	free_page(user_l1);
	free_page(user_code);
	free_page(user_stack);
}

__noreturn void microbench_run(void)
{
	char arg[16];
	unsigned int iters = 2000;

	if (cmdline_get(platform->cmdline, "microbench_iters", arg, sizeof(arg)) == 0) {
		unsigned int n = 0;
		for (const char *p = arg; *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (unsigned int)(*p - '0');
		if (n >= 16 && n <= MB_MAX_ITERS)
			iters = n;
	}
	printk("bench: platform %s iters %u\n", platform->name, iters);

	unsigned long flags = platform->irq_save();
	known_loop();
	measure_empty(iters);
	if (strcmp(platform->name, "native") == 0)
		microbench_native(iters);
	else
		microbench_pv(iters);
	platform->irq_restore(flags);
	printk("bench: done\n");
	platform->shutdown(PLATFORM_POWEROFF);
}
