/*
 * hv's buddy frame allocator (hv/common/page_alloc.c, included as-is so the test can see its
 * free lists) over a fake machine: a frame table for 64 MiB with holes and reserved ranges.
 * The allocator never touches frame contents, so no memory stands behind the frames.
 *
 * Checked: exactly the right frames become free (RAM rounded inwards, reserved ranges rounded
 * outwards, overlapping RAM entries counted once); allocations are aligned, inside free RAM and
 * never overlap; after everything is freed the free lists hold exactly the maximal aligned
 * blocks (full coalescing); double frees and frees of reserved frames panic.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../../hv/common/page_alloc.c"

/* Stubs for what page_alloc.c needs from the rest of hv. */
static jmp_buf panic_jmp;
static int expect_panic;
static char panic_msg[256];

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panic_msg, sizeof(panic_msg), fmt, ap);
	va_end(ap);
	if (expect_panic) {
		/* hv never returns from a panic; the test does, so it drops the lock the
		 * panicking call held. */
		spin_lock_init(&heap_lock);
		longjmp(panic_jmp, 1);
	}
	fprintf(stderr, "unexpected panic: %s\n", panic_msg);
	exit(2);
}

int printk(const char *fmt, ...)
{
	return 0;
}

#define NR_FRAMES 16384UL /* 64 MiB */
#define MiB       (1ULL << 20)
#define KiB       (1ULL << 10)

static int failures, checks;

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL line %d: %s: ", __LINE__, #cond);                    \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* Each case: a one-line reason. */
static const struct mem_range ram[] = {
    {0, 0x9fc00},                 /* conventional memory, ends mid-frame */
    {1 * MiB, 60 * MiB},          /* main RAM */
    {30 * MiB, 31 * MiB},         /* duplicate entry inside main RAM: counted once */
    {62 * MiB + 0x800, 64 * MiB}, /* starts mid-frame: first frame not usable */
    {70 * MiB, 80 * MiB},         /* beyond the frame table: ignored */
};
static const struct mem_range reserved[] = {
    {0, 1 * MiB},                   /* low 1 MiB */
    {2 * MiB, 2 * MiB + 300 * KiB}, /* hv image */
    {5 * MiB + 100, 5 * MiB + 200}, /* multiboot info, inside one frame */
    {10 * MiB, 12 * MiB + 1},       /* module ending one byte into a frame */
    {11 * MiB, 11 * MiB + 4 * KiB}, /* overlapping reservations */
    {40 * MiB, 40 * MiB},           /* empty: reserves nothing */
};

static bool expected_free[NR_FRAMES];
static unsigned long nr_expected;

/* The oracle: a frame is free iff it lies wholly in RAM and touches no reserved range. */
static void compute_expected(void)
{
	for (unsigned long f = 0; f < NR_FRAMES; f++) {
		uint64_t s = f * PAGE_SIZE, e = s + PAGE_SIZE;
		bool in_ram = false, hit = false;
		for (unsigned i = 0; i < ARRAY_SIZE(ram); i++)
			in_ram |= ram[i].start <= s && e <= ram[i].end;
		for (unsigned i = 0; i < ARRAY_SIZE(reserved); i++)
			hit |= reserved[i].start < e && s < reserved[i].end;
		expected_free[f] = in_ram && !hit;
		nr_expected += expected_free[f];
	}
}

/* Free-list entries must be exactly the maximal aligned all-free blocks. */
static void check_fully_coalesced(const char *when)
{
	unsigned long listed = 0, canonical = 0;
	bool is_free[NR_FRAMES];

	for (unsigned long f = 0; f < NR_FRAMES; f++)
		is_free[f] = false;
	for (unsigned k = 0; k <= MAX_ORDER; k++) {
		struct page_info *pg;
		list_for_each_entry(pg, &free_lists[k], list)
		{
			unsigned long mfn = page_to_mfn(pg);
			listed++;
			EXPECT(pg->order == k && (pg->count_info & PGC_free), "%s: bad head %lu",
			       when, mfn);
			EXPECT((mfn & ((1UL << k) - 1)) == 0, "%s: misaligned block %lu order %u",
			       when, mfn, k);
			for (unsigned long i = 0; i < (1UL << k); i++)
				is_free[mfn + i] = true;
		}
	}
	for (unsigned long f = 0; f < NR_FRAMES; f++)
		EXPECT(is_free[f] == expected_free[f], "%s: frame %lu free=%d expected %d", when, f,
		       is_free[f], expected_free[f]);
	for (unsigned k = 0; k <= MAX_ORDER; k++)
		for (unsigned long b = 0; b + (1UL << k) <= NR_FRAMES; b += 1UL << k) {
			bool all = true, parent_all = true;
			unsigned long p = b & ~((2UL << k) - 1);
			for (unsigned long i = 0; i < (1UL << k); i++)
				all &= expected_free[b + i];
			if (!all)
				continue;
			if (k == MAX_ORDER || p + (2UL << k) > NR_FRAMES)
				parent_all = false;
			else
				for (unsigned long i = 0; i < (2UL << k); i++)
					parent_all &= expected_free[p + i];
			canonical += !parent_all;
		}
	EXPECT(listed == canonical, "%s: %lu free blocks listed, %lu maximal blocks", when, listed,
	       canonical);
}

static struct page_info table[NR_FRAMES];

static void test_init(void)
{
	unsigned long added;

	frame_alloc_init(table, NR_FRAMES);
	EXPECT(frames_free() == 0, "fresh allocator has %lu free", frames_free());
	added = frame_alloc_add_ram(ram, ARRAY_SIZE(ram), reserved, ARRAY_SIZE(reserved));
	EXPECT(added == nr_expected, "added %lu, expected %lu", added, nr_expected);
	EXPECT(frames_free() == nr_expected, "free %lu", frames_free());
	check_fully_coalesced("after init");
}

static void test_exhaust_order0(void)
{
	static bool taken[NR_FRAMES];
	static unsigned long got[NR_FRAMES];
	unsigned long n = 0;
	struct page_info *pg;

	while ((pg = alloc_frames(0))) {
		unsigned long mfn = page_to_mfn(pg);
		EXPECT(mfn < NR_FRAMES && expected_free[mfn], "allocated non-free frame %lu", mfn);
		EXPECT(!taken[mfn], "frame %lu allocated twice", mfn);
		taken[mfn] = true;
		got[n++] = mfn;
	}
	EXPECT(n == nr_expected, "allocated %lu of %lu", n, nr_expected);
	EXPECT(frames_free() == 0, "free after exhaustion %lu", frames_free());
	EXPECT(alloc_frames(0) == NULL, "allocation after exhaustion");

	/* Free in a scrambled order; coalescing must rebuild the maximal blocks. */
	srand(1);
	for (unsigned long i = n; i > 1; i--) {
		unsigned long j = (unsigned long)rand() % i, t = got[i - 1];
		got[i - 1] = got[j];
		got[j] = t;
	}
	for (unsigned long i = 0; i < n; i++) {
		free_frames(mfn_to_page(got[i]), 0);
		taken[got[i]] = false;
	}
	EXPECT(frames_free() == nr_expected, "free after freeing all %lu", frames_free());
	check_fully_coalesced("after order-0 round trip");
}

static void test_mixed_orders(void)
{
	enum { MAX_LIVE = 4000 };
	static struct {
		unsigned long mfn;
		unsigned order;
	} live[MAX_LIVE];
	static int owner[NR_FRAMES]; /* 0 free, else index+1 of the live allocation */
	unsigned nr_live = 0;
	unsigned long failed_allocs = 0;

	srand(7);
	for (int step = 0; step < 100000; step++) {
		if (nr_live < MAX_LIVE && (rand() % 3 != 0 || nr_live == 0)) {
			unsigned order = (unsigned)(rand() % 7);
			struct page_info *pg = alloc_frames(order);
			if (!pg) {
				failed_allocs++;
				continue;
			}
			unsigned long mfn = page_to_mfn(pg);
			EXPECT((mfn & ((1UL << order) - 1)) == 0, "order %u block %lu misaligned",
			       order, mfn);
			for (unsigned long i = 0; i < (1UL << order); i++) {
				EXPECT(expected_free[mfn + i] && owner[mfn + i] == 0,
				       "frame %lu: free=%d owner=%d", mfn + i,
				       expected_free[mfn + i], owner[mfn + i]);
				owner[mfn + i] = (int)nr_live + 1;
			}
			live[nr_live].mfn = mfn;
			live[nr_live].order = order;
			nr_live++;
		} else {
			unsigned idx = (unsigned)rand() % nr_live;
			for (unsigned long i = 0; i < (1UL << live[idx].order); i++)
				owner[live[idx].mfn + i] = 0;
			free_frames(mfn_to_page(live[idx].mfn), live[idx].order);
			live[idx] = live[--nr_live];
			for (unsigned long i = 0; i < (1UL << live[idx].order) && idx < nr_live;
			     i++)
				owner[live[idx].mfn + i] = (int)idx + 1;
		}
	}
	while (nr_live) {
		nr_live--;
		free_frames(mfn_to_page(live[nr_live].mfn), live[nr_live].order);
	}
	EXPECT(frames_free() == nr_expected, "free after mixed test %lu", frames_free());
	check_fully_coalesced("after mixed orders");

	/* Large blocks: 4 MiB (order 10) needs an aligned all-free run; the largest free run is
	 * 12..30 MiB... enough for several. Order 14 (64 MiB) cannot exist. */
	struct page_info *big = alloc_frames(10);
	EXPECT(big != NULL, "no order-10 block");
	if (big) {
		unsigned long mfn = page_to_mfn(big);
		for (unsigned long i = 0; i < 1024; i++)
			EXPECT(expected_free[mfn + i], "order-10 block has non-free frame %lu",
			       mfn + i);
		free_frames(big, 10);
	}
	EXPECT(alloc_frames(14) == NULL, "order-14 block cannot exist");
	EXPECT(alloc_frames(MAX_ORDER + 1) == NULL, "order beyond MAX_ORDER");
	check_fully_coalesced("after large blocks");
}

static void test_misuse_panics(void)
{
	struct page_info *pg = alloc_frames(0);

	free_frames(pg, 0);
	expect_panic = 1;
	if (setjmp(panic_jmp) == 0) {
		free_frames(pg, 0); /* double free */
		EXPECT(0, "double free did not panic");
	} else {
		EXPECT(strstr(panic_msg, "free") != NULL, "message: %s", panic_msg);
	}
	if (setjmp(panic_jmp) == 0) {
		free_frames(mfn_to_page(2 * MiB / PAGE_SIZE), 0); /* the "image" */
		EXPECT(0, "freeing a reserved frame did not panic");
	} else {
		EXPECT(strstr(panic_msg, "reserved") != NULL, "message: %s", panic_msg);
	}
	if (setjmp(panic_jmp) == 0) {
		/* A frame inside a larger free block (not its head). */
		free_frames(mfn_to_page(20 * MiB / PAGE_SIZE + 3), 0);
		EXPECT(0, "freeing a frame inside a free block did not panic");
	} else {
		EXPECT(strstr(panic_msg, "free") != NULL, "message: %s", panic_msg);
	}
	expect_panic = 0;
	EXPECT(frames_free() == nr_expected, "misuse changed the free count: %lu", frames_free());
	check_fully_coalesced("after misuse");
}

int main(void)
{
	compute_expected();
	test_init();
	test_exhaust_order0();
	test_mixed_orders();
	test_misuse_panics();
	printf("test_page_alloc: %d checks, %d failures (%lu frames free of %lu)\n", checks,
	       failures, nr_expected, NR_FRAMES);
	return failures ? 1 : 0;
}
