/*
 * User address spaces: regions (VMAs), demand-zero pages, copy-on-write after fork, and safe
 * copies between the kernel and user memory.
 *
 * Invariants:
 *  - user memory lives in L4 slot 0 only, under the process's own L3 (struct addr_space);
 *  - every data page mapped in a user table counts one reference in page_refs[pfn]; a page
 *    with more than one reference is mapped read-only with PTE_COW in every table that maps it;
 *  - table pages are private and written with plain stores only until pt_seal(); afterwards
 *    only through platform->pt_write() (on PV: validated mmu_update batches);
 *  - an entry may point only to a frame of this kernel (the hypervisor checks that on PV).
 * The kernel reaches user memory through the current address space after checking (and
 * faulting in) every page, so no access from kernel mode ever faults.
 */
#include <kernel.h>
#include <mm.h>
#include <proc.h>
#include <klib/string.h>

#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D)
#define MAX_PFN     (512UL * 512UL)

static uint16_t page_refs[MAX_PFN];
static uint64_t user_pages_total;

void vm_init(uint64_t max_pfn)
{
	if (max_pfn > MAX_PFN)
		panic("vm: %llu pages, more than the %lu the reference counts cover",
		      (unsigned long long)max_pfn, MAX_PFN);
}

uint64_t vm_pages_in_use(void)
{
	return user_pages_total;
}

static uint64_t *table_at(uint64_t entry)
{
	return pfn_to_virt(platform->pte_pfn(entry));
}

static uint64_t leaf_flags(int prot)
{
	return PTE_P | PTE_U | PTE_A | PTE_D | ((prot & PROT_WRITE) ? PTE_W : 0);
}

/* The L1 entry of va; with create, missing tables are added to the live tree. */
static uint64_t *pte_lookup(struct vm *vm, uint64_t va, int create)
{
	uint64_t *t = vm->as.l3;

	for (int shift = 30; shift > 12; shift -= 9) {
		uint64_t *e = &t[(va >> shift) & 511];
		if (*e & PTE_P) {
			t = table_at(*e);
			continue;
		}
		if (!create)
			return NULL;
		uint64_t *n = alloc_page();
		if (!n)
			return NULL;
		platform->pt_seal(n);
		platform->pt_write(e, platform->pte_make(virt_to_pfn(n), TABLE_FLAGS));
		platform->pt_commit(); /* later lookups read the entry */
		t = n;
	}
	return &t[(va >> 12) & 511];
}

static void page_put(uint64_t pfn)
{
	if (page_refs[pfn] == 0)
		panic("vm: page %llu has no references", (unsigned long long)pfn);
	if (--page_refs[pfn] == 0) {
		free_page(pfn_to_virt(pfn));
		user_pages_total--;
	}
}

static void *user_page_alloc(void)
{
	void *p = alloc_page();
	if (p) {
		page_refs[virt_to_pfn(p)] = 1;
		user_pages_total++;
	}
	return p;
}

int vm_create(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->as.l3 = alloc_page();
	if (!vm->as.l3)
		return -E_NOMEM;
	platform->pt_seal(vm->as.l3);
	if (platform->as_create(&vm->as)) {
		platform->pt_unseal(vm->as.l3);
		platform->pt_commit();
		free_page(vm->as.l3);
		return -E_NOMEM;
	}
	platform->pt_commit();
	return 0;
}

/* Release every user page and table of vm (which must not be the current space). */
void vm_destroy(struct vm *vm)
{
	uint64_t *tables[256];
	size_t ntables = 0;
	uint64_t *l3 = vm->as.l3;

	if (!l3)
		return;
	platform->as_destroy(&vm->as);
	for (int i = 0; i < 512; i++) {
		if (!(l3[i] & PTE_P))
			continue;
		uint64_t *l2 = table_at(l3[i]);
		for (int j = 0; j <= 512; j++) {
			uint64_t *t;
			if (j < 512) {
				if (!(l2[j] & PTE_P))
					continue;
				t = table_at(l2[j]);
				for (int k = 0; k < 512; k++)
					if (t[k] & PTE_P)
						page_put(platform->pte_pfn(t[k]));
			} else {
				t = l2;
			}
			platform->pt_unseal(t);
			tables[ntables++] = t;
			if (ntables == ARRAY_SIZE(tables)) {
				platform->pt_commit();
				while (ntables)
					free_page(tables[--ntables]);
			}
		}
	}
	platform->pt_unseal(l3);
	platform->pt_commit();
	while (ntables)
		free_page(tables[--ntables]);
	free_page(l3);
	vm->as.l3 = NULL;
	vm->pages = 0;
}

/* Free a child tree that was never sealed (fork ran out of memory half way). */
static void free_private_tree(uint64_t *l3)
{
	for (int i = 0; i < 512; i++) {
		if (!(l3[i] & PTE_P))
			continue;
		uint64_t *l2 = table_at(l3[i]);
		for (int j = 0; j < 512; j++) {
			if (!(l2[j] & PTE_P))
				continue;
			uint64_t *l1 = table_at(l2[j]);
			for (int k = 0; k < 512; k++)
				if (l1[k] & PTE_P)
					page_put(platform->pte_pfn(l1[k]));
			free_page(l1);
		}
		free_page(l2);
	}
	free_page(l3);
}

int vm_fork(struct vm *child, struct vm *parent)
{
	int rc = 0;
	bool parent_changed = false;

	memset(child, 0, sizeof(*child));
	memcpy(child->vma, parent->vma, sizeof(parent->vma));
	child->nvma = parent->nvma;
	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	child->pages = parent->pages;

	/* Build the child's tree privately (plain stores), then seal it all in one batch. */
	uint64_t *cl3 = alloc_page();
	if (!cl3)
		return -E_NOMEM;
	child->as.l3 = cl3;
	for (int i = 0; i < 512 && !rc; i++) {
		uint64_t *pl2 = parent->as.l3[i] & PTE_P ? table_at(parent->as.l3[i]) : NULL;
		if (!pl2)
			continue;
		uint64_t *cl2 = alloc_page();
		if (!cl2) {
			rc = -E_NOMEM;
			break;
		}
		cl3[i] = platform->pte_make(virt_to_pfn(cl2), TABLE_FLAGS);
		for (int j = 0; j < 512; j++) {
			uint64_t *pl1 = pl2[j] & PTE_P ? table_at(pl2[j]) : NULL;
			if (!pl1)
				continue;
			uint64_t *cl1 = alloc_page();
			if (!cl1) {
				rc = -E_NOMEM;
				break;
			}
			cl2[j] = platform->pte_make(virt_to_pfn(cl1), TABLE_FLAGS);
			for (int k = 0; k < 512; k++) {
				uint64_t e = pl1[k];
				if (!(e & PTE_P))
					continue;
				if (!(e & PTE_COW)) {
					/* Shared from now on: read-only in both, copied on write.
					 */
					parent_changed |= (e & PTE_W) != 0;
					e = (e & ~PTE_W) | PTE_COW;
					platform->pt_write(&pl1[k], e);
				}
				page_refs[platform->pte_pfn(e)]++;
				cl1[k] = e;
			}
		}
	}
	if (parent_changed)
		platform->tlb_flush();
	if (rc) {
		platform->pt_commit();
		free_private_tree(cl3);
		child->as.l3 = NULL;
		return rc;
	}
	/* Seal bottom-up: L1s, then L2s, then the L3 (as_create seals nothing else). */
	for (int i = 0; i < 512; i++) {
		if (!(cl3[i] & PTE_P))
			continue;
		uint64_t *cl2 = table_at(cl3[i]);
		for (int j = 0; j < 512; j++)
			if (cl2[j] & PTE_P)
				platform->pt_seal(table_at(cl2[j]));
		platform->pt_seal(cl2);
	}
	platform->pt_seal(cl3);
	if (platform->as_create(&child->as))
		panic("fork: the new address space was refused");
	platform->pt_commit();
	return 0;
}

static struct vma *vma_find(struct vm *vm, uint64_t va)
{
	for (int i = 0; i < vm->nvma; i++)
		if (va >= vm->vma[i].start && va < vm->vma[i].end)
			return &vm->vma[i];
	return NULL;
}

int vm_add_region(struct vm *vm, uint64_t start, uint64_t end, int prot)
{
	if (start >= end || end > USER_TOP || (start | end) & (PAGE_SIZE - 1))
		return -E_INVAL;
	for (int i = 0; i < vm->nvma; i++)
		if (start < vm->vma[i].end && end > vm->vma[i].start)
			return -E_INVAL;
	if (vm->nvma == NVMA)
		return -E_NOMEM;
	vm->vma[vm->nvma++] = (struct vma){start, end, prot};
	return 0;
}

/* Split VMAs so that `at` is a boundary. */
static int vma_split(struct vm *vm, uint64_t at)
{
	struct vma *v = vma_find(vm, at);
	if (!v || v->start == at)
		return 0;
	if (vm->nvma == NVMA)
		return -E_NOMEM;
	vm->vma[vm->nvma++] = (struct vma){at, v->end, v->prot};
	v->end = at;
	return 0;
}

/* Unmap the pages of [start, end) that are present. */
static void unmap_pages(struct vm *vm, uint64_t start, uint64_t end)
{
	uint64_t freed[64];
	size_t nfreed = 0;

	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = pte_lookup(vm, va, 0);
		if (!pte) {
			va = (va | ((1UL << 21) - 1)); /* no L1 here: skip to the next 2 MiB */
			continue;
		}
		if (!(*pte & PTE_P))
			continue;
		freed[nfreed++] = platform->pte_pfn(*pte);
		platform->pt_write(pte, 0);
		vm->pages--;
		if (nfreed == ARRAY_SIZE(freed)) {
			platform->tlb_flush();
			platform->pt_commit();
			while (nfreed)
				page_put(freed[--nfreed]);
		}
	}
	platform->tlb_flush();
	platform->pt_commit();
	while (nfreed)
		page_put(freed[--nfreed]);
}

int vm_remove_region(struct vm *vm, uint64_t start, uint64_t end)
{
	int rc;

	if (start >= end || end > USER_TOP || (start | end) & (PAGE_SIZE - 1))
		return -E_INVAL;
	if ((rc = vma_split(vm, start)) || (rc = vma_split(vm, end)))
		return rc;
	for (int i = 0; i < vm->nvma;) {
		struct vma *v = &vm->vma[i];
		if (v->start >= start && v->end <= end)
			*v = vm->vma[--vm->nvma];
		else
			i++;
	}
	unmap_pages(vm, start, end);
	return 0;
}

int vm_protect(struct vm *vm, uint64_t start, uint64_t end, int prot)
{
	int rc;

	if (start >= end || end > USER_TOP || (start | end) & (PAGE_SIZE - 1))
		return -E_INVAL;
	for (uint64_t va = start; va < end; va = vma_find(vm, va)->end)
		if (!vma_find(vm, va))
			return -E_NOMEM;
	if ((rc = vma_split(vm, start)) || (rc = vma_split(vm, end)))
		return rc;
	for (int i = 0; i < vm->nvma; i++)
		if (vm->vma[i].start >= start && vm->vma[i].end <= end)
			vm->vma[i].prot = prot;
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = pte_lookup(vm, va, 0);
		if (!pte) {
			va = (va | ((1UL << 21) - 1));
			continue;
		}
		uint64_t e = *pte;
		if (!(e & PTE_P))
			continue;
		uint64_t n = e & ~PTE_W;
		if ((prot & PROT_WRITE) && !(e & PTE_COW))
			n |= PTE_W;
		if (n != e)
			platform->pt_write(pte, n);
	}
	platform->tlb_flush();
	platform->pt_commit();
	return 0;
}

int vm_fault(struct vm *vm, uint64_t va, int write)
{
	struct vma *v = vma_find(vm, va);

	if (!v || (write && !(v->prot & PROT_WRITE)))
		return -E_FAULT;
	va &= ~(PAGE_SIZE - 1);
	uint64_t *pte = pte_lookup(vm, va, 1);
	if (!pte)
		return -E_FAULT;
	uint64_t e = *pte, n;
	if (!(e & PTE_P)) {
		void *page = user_page_alloc();
		if (!page)
			return -E_FAULT;
		n = platform->pte_make(virt_to_pfn(page), leaf_flags(v->prot));
		vm->pages++;
	} else if (write && !(e & PTE_W)) {
		uint64_t pfn = platform->pte_pfn(e);
		if (page_refs[pfn] == 1) {
			n = (e | PTE_W) & ~PTE_COW;
		} else {
			void *copy = user_page_alloc();
			if (!copy)
				return -E_FAULT;
			memcpy(copy, pfn_to_virt(pfn), PAGE_SIZE);
			n = platform->pte_make(virt_to_pfn(copy), leaf_flags(v->prot));
			page_refs[pfn]--;
		}
	} else {
		n = e; /* a stale TLB entry: the flush below is the fix */
	}
	/* vm is the current address space (faults and user copies only happen there). */
	platform->pte_set_current(va, pte, n);
	return 0;
}

/* Map a page the kernel filled (through the direct map) at va of a not-running vm. */
int vm_map_new_page(struct vm *vm, uint64_t va, void **page_out)
{
	struct vma *v = vma_find(vm, va);
	uint64_t *pte = v ? pte_lookup(vm, va, 1) : NULL;
	void *page = pte ? user_page_alloc() : NULL;

	if (!page)
		return -E_NOMEM;
	platform->pt_write(pte, platform->pte_make(virt_to_pfn(page), leaf_flags(v->prot)));
	vm->pages++;
	*page_out = page;
	return 0;
}

/* Make [va, va+len) accessible for the access kind; 0 or -E_FAULT. */
static int user_range_ok(struct vm *vm, uint64_t va, size_t len, int write)
{
	if (va + len < va || va + len > USER_TOP)
		return -E_FAULT;
	for (uint64_t p = va & ~(PAGE_SIZE - 1); p < va + len; p += PAGE_SIZE) {
		uint64_t *pte = pte_lookup(vm, p, 0);
		if (pte && (*pte & PTE_P) && (!write || (*pte & PTE_W)))
			continue;
		if (vm_fault(vm, p, write))
			return -E_FAULT;
	}
	return 0;
}

int copy_to_user(struct vm *vm, uint64_t dst, const void *src, size_t len)
{
	if (user_range_ok(vm, dst, len, 1))
		return -E_FAULT;
	memcpy((void *)dst, src, len);
	return 0;
}

int copy_from_user(struct vm *vm, void *dst, uint64_t src, size_t len)
{
	if (user_range_ok(vm, src, len, 0))
		return -E_FAULT;
	memcpy(dst, (const void *)src, len);
	return 0;
}

long strncpy_from_user(struct vm *vm, char *dst, uint64_t src, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (((src + i) & (PAGE_SIZE - 1)) == 0 || i == 0)
			if (user_range_ok(vm, src + i, 1, 0))
				return -E_FAULT;
		dst[i] = *(const char *)(src + i);
		if (!dst[i])
			return (long)i;
	}
	return -E_INVAL;
}
