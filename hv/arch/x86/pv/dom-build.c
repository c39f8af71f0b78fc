/*
 * Writing a PV kernel's initial memory (the layout comes from dom-layout.c): image, hypercall
 * page, P2M list and M2P entries, start_info, bootstrap page tables and stack. At the end the
 * bootstrap L4 is pinned and installed as vCPU 0's kernel base pointer, which validates every
 * table the builder wrote: a layout mistake shows up as a refusal here, not as a guest crash.
 *
 * The caller has assigned every frame in a->p2m to the domain (pv_assign_frame); the builder
 * zeroes them all, so a guest never sees what a frame held before.
 */
#include "dom-build.h"
#include "mm.h"
#include "pv-errno.h"

#include <public/xen.h>

#define PAGE 4096ull

/* Builders' flags (see the boot contract): tables RW+US, data P|RW|A, page tables read-only. */
#define TABLE_FLAGS (PTF_P | PTF_RW | PTF_US | PTF_A | PTF_D)
#define DATA_FLAGS  (PTF_P | PTF_RW | PTF_A)
#define PT_RO_FLAGS (PTF_P | PTF_A)

struct builder {
	const struct pv_layout *l;
	const struct pv_build_args *a;
};

static uint8_t *pfn_bytes(const struct builder *b, uint64_t pfn)
{
	return (uint8_t *)pv_frame_map(b->a->p2m[pfn]);
}

static void copy_bytes(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = src ? src[i] : 0;
}

/* Write len bytes (zeros if src is NULL) at a VA of the main mapping. */
static void write_va(void *ctx, uint64_t va, const void *src, size_t len)
{
	const struct builder *b = ctx;
	const uint8_t *s = src;

	while (len) {
		uint64_t pfn = (va - b->l->virt_base) / PAGE, off = va & (PAGE - 1);
		size_t chunk = PAGE - off < len ? PAGE - off : len;

		copy_bytes(pfn_bytes(b, pfn) + off, s, chunk);
		va += chunk;
		len -= chunk;
		if (s)
			s += chunk;
	}
}

static void write_hypercall_page(const struct builder *b, uint64_t va)
{
	uint8_t *p = pfn_bytes(b, (va - b->l->virt_base) / PAGE);
	int i;

	for (i = 0; i < 4096; i++)
		p[i] = 0xcc; /* int3 between the stubs */
	for (i = 0; i < 128; i++) {
		uint8_t *s = p + i * 32;
		int n = 0;

		s[n++] = 0x51; /* push %rcx */
		s[n++] = 0x41; /* push %r11 */
		s[n++] = 0x53;
		if (i == __HYPERVISOR_iret)
			s[n++] = 0x50; /* push %rax: the iret stub is jumped to */
		s[n++] = 0xb8;         /* mov $i, %eax */
		s[n++] = (uint8_t)i;
		s[n++] = 0;
		s[n++] = 0;
		s[n++] = 0;
		s[n++] = 0x0f; /* syscall */
		s[n++] = 0x05;
		if (i == __HYPERVISOR_iret)
			continue;
		s[n++] = 0x41; /* pop %r11 */
		s[n++] = 0x5b;
		s[n++] = 0x59; /* pop %rcx */
		s[n++] = 0xc3; /* ret */
	}
}

/*
 * Map [start, end) to consecutive PFNs from first_pfn, taking fresh table frames from
 * *next_pt as needed (an existing lower table is reused).
 */
static void map_range(const struct builder *b, uint64_t *l4, uint64_t start, uint64_t end,
                      uint64_t first_pfn, uint64_t *next_pt)
{
	uint64_t va;

	for (va = start; va < end; va += PAGE) {
		uint64_t *t = l4;
		uint64_t pfn = first_pfn + (va - start) / PAGE, mfn = b->a->p2m[pfn], flags;
		int shift;

		for (shift = 39; shift > 12; shift -= 9) {
			uint64_t *e = &t[(va >> shift) & 511];

			if (!(*e & PTF_P))
				*e = (b->a->p2m[(*next_pt)++] << 12) | TABLE_FLAGS;
			t = pv_frame_map(pte_mfn(*e));
		}
		flags = DATA_FLAGS;
		if (pfn >= b->l->pt_pfn && pfn < b->l->pt_pfn + b->l->nr_pt_frames)
			flags = PT_RO_FLAGS;
		t[(va >> 12) & 511] = (mfn << 12) | flags;
	}
}

int pv_build_image(const struct pv_elf_info *elf, const struct pv_layout *l,
                   const struct pv_build_args *a, struct pv_boot_regs *regs, const char **why)
{
	struct builder b = {.l = l, .a = a};
	struct start_info *si;
	uint64_t pfn, next_pt, l4_mfn = a->p2m[l->pt_pfn];
	uint64_t *l4;
	size_t i;
	int rc;

	for (pfn = 0; pfn < l->nr_pages; pfn++) {
		uint64_t *p = pv_frame_map(a->p2m[pfn]);
		for (i = 0; i < 512; i++)
			p[i] = 0;
		pv_m2p_set(a->p2m[pfn], pfn);
	}

	pv_elf_load(elf, write_va, &b);
	if (elf->has_hypercall_page)
		write_hypercall_page(&b, elf->hypercall_page);
	if (a->initrd_len && l->initrd_va)
		write_va(&b, l->initrd_va, a->initrd, a->initrd_len);
	else if (a->initrd_len)
		for (i = 0; i < l->initrd_pages; i++)
			copy_bytes(
			    pfn_bytes(&b, l->initrd_pfn + i), (const uint8_t *)a->initrd + i * PAGE,
			    a->initrd_len - i * PAGE < PAGE ? a->initrd_len - i * PAGE : PAGE);
	for (i = 0; i < l->nr_pages; i++)
		((uint64_t *)pfn_bytes(&b, l->p2m_pfn + i / 512))[i % 512] = a->p2m[i];

	/* Bootstrap page tables: L4 first, then whatever map_range needs, in order. */
	l4 = pv_frame_map(l4_mfn);
	next_pt = l->pt_pfn + 1;
	map_range(&b, l4, l->virt_base, l->v_end, 0, &next_pt);
	if (next_pt != l->pt_pfn + l->nr_pt_frames) {
		*why = "builder: page-table count does not match the layout";
		return -EINVAL;
	}
	if (l->nr_p2m_frames) {
		next_pt = l->p2m_pt_pfn;
		map_range(&b, l4, l->p2m_va, l->p2m_va + l->p2m_pages * PAGE, l->p2m_pfn, &next_pt);
	}

	si = (struct start_info *)pfn_bytes(&b, (l->start_info_va - l->virt_base) / PAGE);
	copy_bytes((uint8_t *)si->magic, (const uint8_t *)XEN_START_INFO_MAGIC,
	           sizeof(XEN_START_INFO_MAGIC));
	si->nr_pages = l->nr_pages;
	si->shared_info = a->shared_info_maddr;
	si->flags = a->si_flags;
	if (l->xenstore_pfn) {
		si->store_mfn = a->p2m[l->xenstore_pfn];
		si->store_evtchn = a->store_evtchn;
		si->console.domU.mfn = a->p2m[l->console_pfn];
		si->console.domU.evtchn = a->console_evtchn;
	}
	si->pt_base = l->pt_va;
	si->nr_pt_frames = l->nr_pt_frames;
	si->mfn_list = l->p2m_va;
	if (a->initrd_len) {
		si->mod_start = l->initrd_va ? l->initrd_va : l->initrd_pfn;
		si->mod_len = a->initrd_len;
		if (!l->initrd_va)
			si->flags |= SIF_MOD_START_PFN;
	}
	for (i = 0; a->cmdline && a->cmdline[i] && i < MAX_GUEST_CMDLINE - 1; i++)
		si->cmd_line[i] = a->cmdline[i];
	si->first_p2m_pfn = l->first_p2m_pfn;
	si->nr_p2m_frames = l->nr_p2m_frames;

	/* Pin and install the bootstrap L4: this validates every table written above. */
	rc = pv_pin_table(a->d, l4_mfn, 4);
	if (rc) {
		*why = "builder: the bootstrap page tables do not validate";
		return rc;
	}
	rc = pv_new_baseptr(a->v, l4_mfn, false);
	if (rc) {
		*why = "builder: cannot install the bootstrap L4";
		return rc;
	}
	regs->rip = elf->entry;
	regs->rsp = l->stack_va + PAGE;
	regs->rsi = l->start_info_va;
	regs->cr3_mfn = l4_mfn;
	return 0;
}
