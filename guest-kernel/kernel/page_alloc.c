/*
 * Page allocator: a singly linked free list threaded through the free pages themselves (every
 * free page is mapped writable in the direct map). Freed pages are poisoned so that a stale
 * user reads garbage rather than plausible data; allocated pages are zeroed.
 *
 * No locking: the kernel runs on one vCPU and the allocator is never called from event
 * handlers.
 */
#include <kernel.h>
#include <mm.h>
#include <klib/string.h>

struct free_page {
	struct free_page *next;
};

static struct free_page *free_list;
static uint64_t nr_free;

void page_alloc_add_range(uint64_t first_pfn, uint64_t end_pfn)
{
	/* Push in reverse so that pages come out in ascending order. */
	for (uint64_t pfn = end_pfn; pfn-- > first_pfn;) {
		struct free_page *p = pfn_to_virt(pfn);
		p->next = free_list;
		free_list = p;
		nr_free++;
	}
}

void *alloc_page(void)
{
	struct free_page *p = free_list;

	if (!p)
		return NULL;
	free_list = p->next;
	nr_free--;
	memset(p, 0, PAGE_SIZE);
	return p;
}

void free_page(void *va)
{
	struct free_page *p = va;

	if (!va || ((uintptr_t)va & (PAGE_SIZE - 1)))
		panic("free_page: bad address %p", va);
	memset(p, 0x5a, PAGE_SIZE);
	p->next = free_list;
	free_list = p;
	nr_free++;
}

uint64_t pages_free(void)
{
	return nr_free;
}
