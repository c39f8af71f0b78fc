/*
 * Where a PV kernel's initial address space puts things (reference: the Xen PV boot contract,
 * libxenguest's order). One contiguous region from VIRT_BASE, PFN n at VIRT_BASE + n pages:
 *
 *   [padding up to the image] [image] [initrd, unless MOD_START_PFN] [P2M, unless INIT_P2M]
 *   [start_info] [xenstore ring] [console ring] (domU only) [page tables] [stack]
 *   then at least 512 KiB, the end rounded up to 4 MiB; everything up to there is mapped.
 *
 * After the mapped region: the unmapped initrd (MOD_START_PFN), then the INIT_P2M area (the
 * P2M list, mapped at the INIT_P2M VA by page tables of its own that follow it). The number of
 * page tables depends on the size of the region they map, so the computation iterates.
 */
#include "dom-build.h"
#include "pv-errno.h"

#define PAGE      4096ull
#define SLACK     (512 * 1024ull)
#define ROUND_END (4 * 1024 * 1024ull)

static uint64_t round_up(uint64_t x, uint64_t to)
{
	return (x + to - 1) & ~(to - 1);
}

/* Number of distinct aligned blocks of `size` bytes that [start, end) touches. */
static uint64_t blocks(uint64_t start, uint64_t end, unsigned int shift)
{
	if (end <= start)
		return 0;
	return ((end - 1) >> shift) - (start >> shift) + 1;
}

/* L3, L2 and L1 tables needed to map [start, end) (the L4 is counted by the caller). */
static uint64_t tables_for(uint64_t start, uint64_t end)
{
	return blocks(start, end, 39) + blocks(start, end, 30) + blocks(start, end, 21);
}

static bool in_hv_range(uint64_t start, uint64_t end)
{
	const uint64_t lo = 0xffff800000000000ull, hi = 0xffff880000000000ull;

	return start < hi && end > lo;
}

static bool canonical_range(uint64_t start, uint64_t end)
{
	if (end <= start)
		return false;
	if (start >> 47 == 0)
		return end <= (1ull << 47);
	return (start >> 47) == 0x1ffff && end - 1 >= start; /* upper half, no wrap */
}

int pv_compute_layout(const struct pv_elf_info *elf, uint64_t nr_pages, uint64_t initrd_len,
                      bool is_domu, struct pv_layout *l, const char **why)
{
	uint64_t cursor, nr_pt, prev, initrd_pages = round_up(initrd_len, PAGE) / PAGE;
	uint64_t p2m_pages = round_up(nr_pages * 8, PAGE) / PAGE;
	bool init_p2m = elf->has_init_p2m && elf->init_p2m < elf->virt_base;

	*l = (struct pv_layout){.virt_base = elf->virt_base,
	                        .kstart = elf->kstart,
	                        .kend = elf->kend,
	                        .nr_pages = nr_pages};
	cursor = elf->kend;
	if (initrd_len && !elf->mod_start_pfn) {
		l->initrd_va = cursor;
		cursor += initrd_pages * PAGE;
	}
	l->initrd_pages = initrd_pages;
	l->p2m_pages = p2m_pages;
	if (!init_p2m) {
		l->p2m_va = cursor;
		cursor += p2m_pages * PAGE;
	}
	l->start_info_va = cursor;
	cursor += PAGE;
	if (is_domu) {
		l->xenstore_pfn = (cursor - l->virt_base) / PAGE;
		cursor += PAGE;
		l->console_pfn = (cursor - l->virt_base) / PAGE;
		cursor += PAGE;
	}
	l->pt_va = cursor;

	/* Page tables map up to v_end, which depends on how many there are: iterate. */
	nr_pt = 1;
	do {
		prev = nr_pt;
		l->v_end = round_up(l->pt_va + (nr_pt + 1) * PAGE + SLACK, ROUND_END);
		if (l->v_end < l->pt_va) {
			*why = "the initial mapping wraps around";
			return -EINVAL;
		}
		nr_pt = 1 + tables_for(l->virt_base, l->v_end);
	} while (nr_pt != prev);
	l->nr_pt_frames = nr_pt;
	l->pt_pfn = (l->pt_va - l->virt_base) / PAGE;
	l->stack_va = l->pt_va + nr_pt * PAGE;

	if (!canonical_range(l->virt_base, l->v_end) || in_hv_range(l->virt_base, l->v_end)) {
		*why = "the initial mapping is not canonical or overlaps hv's range";
		return -EINVAL;
	}
	cursor = (l->v_end - l->virt_base) / PAGE; /* first PFN after the mapped region */
	if (initrd_len && elf->mod_start_pfn) {
		l->initrd_pfn = cursor;
		cursor += initrd_pages;
	} else if (initrd_len) {
		l->initrd_pfn = (l->initrd_va - l->virt_base) / PAGE;
	}
	if (init_p2m) {
		uint64_t end = elf->init_p2m + p2m_pages * PAGE;

		if ((elf->init_p2m & (PAGE - 1)) || !canonical_range(elf->init_p2m, end) ||
		    in_hv_range(elf->init_p2m, end) ||
		    (end > l->virt_base && elf->init_p2m < l->v_end)) {
			*why = "the INIT_P2M area is not usable";
			return -EINVAL;
		}
		l->p2m_va = elf->init_p2m;
		l->first_p2m_pfn = cursor;
		l->p2m_pfn = cursor;
		l->p2m_pt_pfn = cursor + p2m_pages;
		l->nr_p2m_pt_frames = tables_for(elf->init_p2m, end);
		l->nr_p2m_frames = p2m_pages + l->nr_p2m_pt_frames;
		cursor += l->nr_p2m_frames;
	} else {
		l->p2m_pfn = (l->p2m_va - l->virt_base) / PAGE;
	}
	l->used_pages = cursor;
	if (cursor > nr_pages) {
		*why = "the domain has too little memory for its kernel";
		return -ENOMEM;
	}
	return 0;
}
