/*
 * Physical memory as the kernel sees it: pseudo-physical frames (PFNs) 0..nr_pages-1, all mapped
 * at KERNEL_VIRT_BASE + pfn * PAGE_SIZE (the "direct map", which also holds the kernel image at
 * PFN 0). The page allocator hands out whole pages from ranges the platform gives it.
 */
#ifndef GK_MM_H
#define GK_MM_H

#include <klib/compiler.h>

#define PAGE_SHIFT       12
#define PAGE_SIZE        (1UL << PAGE_SHIFT)
#define KERNEL_VIRT_BASE 0xffffffff80000000UL

static inline void *pfn_to_virt(uint64_t pfn)
{
	return (void *)(KERNEL_VIRT_BASE + (pfn << PAGE_SHIFT));
}

static inline uint64_t virt_to_pfn(const void *va)
{
	return ((uintptr_t)va - KERNEL_VIRT_BASE) >> PAGE_SHIFT;
}

/* Give the allocator the free frames [first_pfn, end_pfn). They must be mapped writable. */
void page_alloc_add_range(uint64_t first_pfn, uint64_t end_pfn);
/* A zeroed page, or NULL when memory is exhausted. */
void *alloc_page(void);
/* Return a page (writable-mapped again) to the allocator. */
void free_page(void *va);
uint64_t pages_free(void);

#endif
