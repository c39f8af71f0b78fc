/*
 * mm_init(): from the boot memory map to a working frame allocator.
 *
 * 1. RAM = the loader's RAM ranges, sorted, cut down to `mem=` bytes if given.
 * 2. Reserved = the low 1 MiB (firmware data, AP trampoline), hv's image, the loader's info
 *    block, every boot module, and the boot reserve carved out below.
 * 3. Boot reserve: one run of free RAM below 4 GiB (the boot direct map reaches it) holding the
 *    frame table and the page tables that map it and the rest of the direct map.
 * 4. The frame table is mapped at FRAMETABLE_VIRT_START and the buddy allocator gets every RAM
 *    frame that is not reserved.
 */
#include <hv/lib.h>
#include <hv/bootinfo.h>
#include <hv/cmdline.h>
#include <hv/mm.h>
#include <asm/paging.h>

extern uint8_t __image_start[], __image_end[];

#define MAX_RESERVED (MAX_BOOT_MODULES + 8)

static struct mem_range ram[MAX_MEM_REGIONS];
static unsigned int nr_ram;
static struct mem_range reserved[MAX_RESERVED];
static unsigned int nr_reserved;

static void reserve(paddr_t start, paddr_t end)
{
	ASSERT(nr_reserved < MAX_RESERVED);
	if (end > start)
		reserved[nr_reserved++] = (struct mem_range){start, end};
}

/* RAM ranges, sorted by address, limited to @limit bytes in total. Returns the total. */
static uint64_t collect_ram(uint64_t limit)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
		const struct mem_region *m = &boot_info.mem[i];
		unsigned int j;

		if (m->type != MEM_RAM || m->end <= m->start)
			continue;
		for (j = nr_ram; j > 0 && ram[j - 1].start > m->start; j--)
			ram[j] = ram[j - 1];
		ram[j] = (struct mem_range){m->start, m->end};
		nr_ram++;
	}
	for (unsigned int i = 0; i < nr_ram; i++) {
		uint64_t len = ram[i].end - ram[i].start;
		if (total + len > limit) {
			ram[i].end = ram[i].start + (limit - total);
			nr_ram = i + 1;
			total = limit;
			break;
		}
		total += len;
	}
	return total;
}

/* The lowest page-aligned run of @bytes in RAM below 4 GiB and above 1 MiB that misses every
 * reserved range. */
static paddr_t find_free_run(uint64_t bytes)
{
	for (unsigned int i = 0; i < nr_ram; i++) {
		paddr_t start = ALIGN_UP(MAX(ram[i].start, (paddr_t)1 << 20), PAGE_SIZE);
		bool moved = true;

		while (moved) {
			moved = false;
			for (unsigned int r = 0; r < nr_reserved; r++)
				if (start < reserved[r].end && start + bytes > reserved[r].start) {
					start = ALIGN_UP(reserved[r].end, PAGE_SIZE);
					moved = true;
				}
		}
		if (start + bytes <= ram[i].end && start + bytes <= (1ULL << 32))
			return start;
	}
	panic("mm: no room for the frame table (%lu bytes)", (unsigned long)bytes);
}

void mm_init(void)
{
	unsigned long long limit = ~0ULL;
	uint64_t total, ft_bytes, reserve_bytes, table_pages;
	const char *mem = cmdline_get("mem");
	paddr_t boot_start;
	unsigned long added;

	if (mem && !parse_size(mem, &limit)) {
		printk(KERN_WARN "mm: ignoring malformed mem=%s\n", mem);
		limit = ~0ULL;
	}
	total = collect_ram(limit);
	if (nr_ram == 0)
		panic("mm: the boot loader reported no RAM");
	max_frame = PFN_UP(ram[nr_ram - 1].end);

	reserve(0, 1 << 20);
	reserve(virt_to_maddr(__image_start), virt_to_maddr(__image_end));
	reserve(boot_info.info_start, boot_info.info_end);
	for (unsigned int i = 0; i < boot_info.nr_modules; i++)
		reserve(boot_info.modules[i].start, boot_info.modules[i].end);

	/* Frame table, plus tables to map it (L1s and L2s) and the direct map above 4 GiB (one
	 * L2 per GiB when there are no 1 GiB pages, and the L3s). */
	ft_bytes = ALIGN_UP(max_frame * sizeof(struct page_info), PAGE_SIZE);
	table_pages = PFN_UP(ft_bytes) / 512 + 2 + PFN_UP(ft_bytes) / (512 * 512) + 2 +
	              (max_frame >> 18) + 12;
	reserve_bytes = ft_bytes + table_pages * PAGE_SIZE;
	boot_start = find_free_run(reserve_bytes);
	reserve(boot_start, boot_start + reserve_bytes);

	paging_boot_alloc_range(boot_start + ft_bytes, boot_start + reserve_bytes);
	map_pages(idle_pg_table, FRAMETABLE_VIRT_START, boot_start, PFN_UP(ft_bytes), PAGE_HV_RW);

	frame_alloc_init((struct page_info *)FRAMETABLE_VIRT_START, max_frame);
	added = frame_alloc_add_ram(ram, nr_ram, reserved, nr_reserved);
	printk("mem: %lu MiB usable, %lu frames free\n", (unsigned long)(total >> 20),
	       frames_free());
	ASSERT(added == frames_free());
}
