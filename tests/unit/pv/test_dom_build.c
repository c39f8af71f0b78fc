/*
 * Host unit test of the PV domain builder (hv/arch/x86/pv/dom-{elf,layout,build}.c): parse a
 * synthetic PV kernel and refuse broken ones, check the layout arithmetic of the boot
 * contract, build a domain into fake memory and check what the kernel will see. When the
 * guest kernel has been built (guest-kernel/guest.elf, or $GUEST_ELF), it is built too.
 */
#include "dom-build.h"
#include "fake-frames.h"
#include "pv-errno.h"

#include <public/elfnote.h>
#include <public/xen.h>

#define VBASE 0xffffffff80000000ull

/* --- a synthetic PV kernel ------------------------------------------------------------------ */

struct note_spec {
	uint32_t type;
	const char *str; /* string note, or NULL for a number */
	uint64_t num;
};

static uint8_t image[64 * 1024];
static size_t image_len;

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/*
 * ELF64 with a PT_NOTE segment of the given notes and one PT_LOAD of 8 KiB of code+data at
 * p_paddr 0x1000000 (VA VBASE + 16 MiB with VIRT_BASE = VBASE) followed by 12 KiB of bss.
 */
static void make_image(const struct note_spec *notes, int n)
{
	uint8_t *eh = image, *ph = image + 64;
	size_t noff = 0x200, nlen = 0, loff = 0x1000;

	memset(image, 0, sizeof(image));
	memcpy(eh,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	*(uint16_t *)(eh + 16) = 2;                 /* ET_EXEC */
	*(uint16_t *)(eh + 18) = 62;                /* EM_X86_64 */
	*(uint32_t *)(eh + 20) = 1;                 /* e_version */
	*(uint64_t *)(eh + 24) = VBASE + 0x1000000; /* e_entry */
	*(uint64_t *)(eh + 32) = 64;                /* e_phoff */
	*(uint16_t *)(eh + 54) = 56;                /* e_phentsize */
	*(uint16_t *)(eh + 56) = 2;                 /* e_phnum */
	for (int i = 0; i < n; i++) {
		uint8_t *p = image + noff + nlen;
		uint32_t dsz = notes[i].str ? strlen(notes[i].str) + 1 : 8;

		put32(p, 4);
		put32(p + 4, dsz);
		put32(p + 8, notes[i].type);
		memcpy(p + 12, "Xen", 4);
		if (notes[i].str)
			memcpy(p + 16, notes[i].str, dsz);
		else
			memcpy(p + 16, &notes[i].num, 8);
		nlen += 16 + ((dsz + 3) & ~3u);
	}
	put32(ph, 4); /* PT_NOTE */
	*(uint64_t *)(ph + 8) = noff;
	*(uint64_t *)(ph + 32) = nlen;
	*(uint64_t *)(ph + 40) = nlen;
	ph += 56;
	put32(ph, 1); /* PT_LOAD */
	*(uint64_t *)(ph + 8) = loff;
	*(uint64_t *)(ph + 16) = VBASE + 0x1000000;
	*(uint64_t *)(ph + 24) = 0x1000000;
	*(uint64_t *)(ph + 32) = 0x2000;
	*(uint64_t *)(ph + 40) = 0x5000;
	for (int i = 0; i < 0x2000; i++)
		image[loff + i] = (uint8_t)(i * 7 + 1);
	image_len = loff + 0x2000;
}

#define STD_NOTES                                                                                  \
	{XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 0}, {XEN_ELFNOTE_GUEST_OS, "test", 0},                \
	    {XEN_ELFNOTE_LOADER, "generic", 0}, {XEN_ELFNOTE_VIRT_BASE, NULL, VBASE},              \
	    {XEN_ELFNOTE_PADDR_OFFSET, NULL, 0},                                                   \
	{                                                                                          \
		XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb", 0               \
	}

static void make_std_image(void)
{
	static const struct note_spec notes[] = {
	    STD_NOTES,
	    {XEN_ELFNOTE_ENTRY, NULL, VBASE + 0x1000010},
	    {XEN_ELFNOTE_HYPERCALL_PAGE, NULL, VBASE + 0x1001000},
	};
	make_image(notes, sizeof(notes) / sizeof(notes[0]));
}

/* A well-formed image parses: notes, entry, image range. */
static void parse_ok(void)
{
	struct pv_elf_info e;
	const char *why = NULL;

	make_std_image();
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), 0);
	CHECK_EQ(e.virt_base, VBASE);
	CHECK_EQ(e.entry, VBASE + 0x1000010);
	CHECK_EQ(e.kstart, VBASE + 0x1000000);
	CHECK_EQ(e.kend, VBASE + 0x1005000);
	CHECK(e.has_hypercall_page);
	CHECK_EQ(e.hypercall_page, VBASE + 0x1001000);
	CHECK(!e.has_init_p2m);
	CHECK_EQ(e.features_required, 1);
	CHECK_EQ(e.features_supported, 1 | 16);
	CHECK(strcmp(e.guest_os, "test") == 0);
}

/* Broken images are refused with a reason, never crash the parser. */
static void parse_refusals(void)
{
	struct pv_elf_info e;
	const char *why = NULL;

	make_std_image();
	image[1] = 'X'; /* bad magic */
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), -EINVAL);
	make_std_image();
	CHECK_EQ(pv_elf_parse(image, 100, &e, &why), -EINVAL); /* program headers cut off */
	make_std_image();
	CHECK_EQ(pv_elf_parse(image, 0x1800, &e, &why), -EINVAL); /* segment cut off */
	make_std_image();
	*(uint64_t *)(image + 64 + 32) = 0xfffffff0; /* note size past the file */
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), -EINVAL);
	make_image(NULL, 0); /* no notes: not a PV kernel */
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), -EINVAL);
	CHECK(strstr(why, "Xen ELF notes") != NULL);

	static const struct note_spec bad_version[] = {{XEN_ELFNOTE_XEN_VERSION, "xen-2.0", 0},
	                                               {XEN_ELFNOTE_LOADER, "generic", 0}};
	make_image(bad_version, 2);
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), -EINVAL);
	static const struct note_spec bad_loader[] = {{XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 0},
	                                              {XEN_ELFNOTE_LOADER, "elsewhere", 0}};
	make_image(bad_loader, 2);
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), -EINVAL);
	static const struct note_spec linux_no_loader[] = {{XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 0},
	                                                   {XEN_ELFNOTE_GUEST_OS, "linux", 0},
	                                                   {XEN_ELFNOTE_VIRT_BASE, NULL, VBASE}};
	make_image(linux_no_loader, 3);
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), 0);
	static const struct note_spec needs_translate[] = {
	    STD_NOTES, {XEN_ELFNOTE_FEATURES, "!auto_translated_physmap", 0}};
	make_image(needs_translate, sizeof(needs_translate) / sizeof(needs_translate[0]));
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), -EINVAL);
	static const struct note_spec bad_entry[] = {STD_NOTES, {XEN_ELFNOTE_ENTRY, NULL, 0x1000}};
	make_image(bad_entry, sizeof(bad_entry) / sizeof(bad_entry[0]));
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), -EINVAL);
	static const struct note_spec bad_hcall[] = {
	    STD_NOTES, {XEN_ELFNOTE_HYPERCALL_PAGE, NULL, VBASE + 0x1001008}};
	make_image(bad_hcall, sizeof(bad_hcall) / sizeof(bad_hcall[0]));
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), -EINVAL);
}

/* Layout: order of the boot contract, 4 MiB end with >= 512 KiB slack, table count. */
static void layout_main(void)
{
	struct pv_elf_info e;
	struct pv_layout l;
	const char *why = NULL;

	make_std_image();
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), 0);
	CHECK_EQ(pv_compute_layout(&e, 16384, 0, false, &l, &why), 0);
	CHECK_EQ(l.p2m_va, VBASE + 0x1005000); /* right after the image */
	CHECK_EQ(l.p2m_pages, 32);             /* 16384 * 8 bytes */
	CHECK_EQ(l.start_info_va, VBASE + 0x1025000);
	CHECK_EQ(l.pt_va, VBASE + 0x1026000);
	CHECK_EQ(l.v_end, VBASE + 0x1400000);     /* 20 MiB */
	CHECK_EQ(l.nr_pt_frames, 1 + 1 + 1 + 10); /* L4, L3, L2, ten L1s for 20 MiB */
	CHECK_EQ(l.stack_va, l.pt_va + 13 * 4096);
	CHECK(l.v_end - (l.stack_va + 4096) >= 512 * 1024);
	CHECK_EQ(l.used_pages, 0x1400);
	CHECK_EQ(l.xenstore_pfn, 0);

	/* A domU gets xenstore and console pages before the page tables. */
	CHECK_EQ(pv_compute_layout(&e, 16384, 0, true, &l, &why), 0);
	CHECK_EQ(l.xenstore_pfn, 0x1026);
	CHECK_EQ(l.console_pfn, 0x1027);
	CHECK_EQ(l.pt_va, VBASE + 0x1028000);

	/* A mapped initrd goes after the image; too little memory is refused. */
	CHECK_EQ(pv_compute_layout(&e, 16384, 5000, false, &l, &why), 0);
	CHECK_EQ(l.initrd_va, VBASE + 0x1005000);
	CHECK_EQ(l.initrd_pfn, 0x1005);
	CHECK_EQ(l.p2m_va, VBASE + 0x1007000);
	CHECK_EQ(pv_compute_layout(&e, 4096, 0, false, &l, &why), -ENOMEM);
}

/* The iteration: when tables push the end past a 4 MiB boundary, more L1s are counted. */
static void layout_iterates(void)
{
	struct pv_elf_info e = {
	    .virt_base = 0, .kstart = 0x100000, .kend = 0x100000 + 0x300000 - 0x9000 - 0x80000};
	struct pv_layout l;
	const char *why = NULL;

	CHECK_EQ(pv_compute_layout(&e, 1, 0, false, &l, &why), -ENOMEM);
	CHECK_EQ(pv_compute_layout(&e, 32768, 0, false, &l, &why), 0);
	CHECK_EQ(l.nr_pt_frames, 3 + (l.v_end >> 21));
	CHECK(l.v_end % (4 << 20) == 0);
	CHECK(l.v_end - (l.stack_va + 4096) >= 512 * 1024);
	CHECK_EQ(l.stack_va, l.pt_va + l.nr_pt_frames * 4096);
}

/* INIT_P2M: the P2M is placed after the mapped region with page tables of its own. */
static void layout_init_p2m(void)
{
	static const struct note_spec notes[] = {STD_NOTES,
	                                         {XEN_ELFNOTE_INIT_P2M, NULL, 0x8000000000ull},
	                                         {XEN_ELFNOTE_MOD_START_PFN, NULL, 1}};
	struct pv_elf_info e;
	struct pv_layout l;
	const char *why = NULL;

	make_image(notes, sizeof(notes) / sizeof(notes[0]));
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), 0);
	CHECK_EQ(pv_compute_layout(&e, 16384, 10000, false, &l, &why), 0);
	CHECK_EQ(l.start_info_va, VBASE + 0x1005000);
	CHECK_EQ(l.initrd_va, 0);
	CHECK_EQ(l.initrd_pfn, (l.v_end - VBASE) / 4096);
	CHECK_EQ(l.first_p2m_pfn, l.initrd_pfn + 3);
	CHECK_EQ(l.p2m_va, 0x8000000000ull);
	CHECK_EQ(l.nr_p2m_frames, 32 + 3);
	CHECK_EQ(l.used_pages, l.first_p2m_pfn + 35);
}

/* --- building into fake memory ---------------------------------------------------------------- */

static struct domain dom;
static struct vcpu vcpu0;

/* Walk the page tables from an L4 (MFN) the way the MMU does; 0 if unmapped. */
static uint64_t walk(uint64_t l4, uint64_t va, uint64_t *flags_out)
{
	uint64_t mfn = l4, e = 0;

	for (int shift = 39; shift >= 12; shift -= 9) {
		e = fake_mem[mfn][(va >> shift) & 511];
		if (!(e & PTF_P))
			return 0;
		mfn = pte_mfn(e);
	}
	*flags_out = e & ~PTE_ADDR_MASK;
	return mfn;
}

static uint8_t *va_bytes(uint64_t l4, uint64_t va)
{
	uint64_t flags, mfn = walk(l4, va, &flags);

	return mfn ? (uint8_t *)fake_mem[mfn] + (va & 4095) : NULL;
}

/*
 * Give the domain nr_pages frames in scrambled order (so PFN and MFN never coincide), build,
 * and return 0 or the builder's error.
 */
static int build(struct pv_elf_info *e, struct pv_layout *l, uint64_t nr_pages, bool domu,
                 const void *initrd, uint64_t initrd_len, uint64_t **p2m_out,
                 struct pv_boot_regs *r)
{
	static uint64_t p2m[16384];
	struct pv_build_args a;
	const char *why = "";
	int rc;

	dom = (struct domain){.domain_id = domu ? 3 : 0, .is_privileged = !domu};
	vcpu0 = (struct vcpu){.domain = &dom};
	fake_domains[0] = &dom;
	for (uint64_t i = 0; i < nr_pages; i++) {
		p2m[i] = fake_nr_frames - 1 - 2 * i - (i & 1); /* descending, interleaved */
		pv_assign_frame(&dom, p2m[i], false);
	}
	rc = pv_compute_layout(e, nr_pages, initrd_len, domu, l, &why);
	if (rc)
		return rc;
	a = (struct pv_build_args){.d = &dom,
	                           .v = &vcpu0,
	                           .p2m = p2m,
	                           .initrd = initrd,
	                           .initrd_len = initrd_len,
	                           .cmdline = "selftest loglvl=9",
	                           .shared_info_maddr = 0x5000,
	                           .si_flags = SIF_PRIVILEGED | SIF_INITDOMAIN,
	                           .store_evtchn = 1,
	                           .console_evtchn = 2};
	*p2m_out = p2m;
	rc = pv_build_image(e, l, &a, r, &why);
	if (rc)
		fprintf(stderr, "build: %s\n", why);
	return rc;
}

/* A built dom0: registers, start_info, image contents, hypercall page, tables RO, M2P. */
static void build_dom0(void)
{
	struct pv_elf_info e;
	struct pv_layout l;
	struct pv_boot_regs r;
	uint64_t *p2m, flags;
	const char *why;

	make_std_image();
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), 0);
	CHECK_EQ(build(&e, &l, 8192, false, NULL, 0, &p2m, &r), 0);
	CHECK_EQ(r.rip, VBASE + 0x1000010);
	CHECK_EQ(r.rsi, l.start_info_va);
	CHECK_EQ(r.rsp, l.stack_va + 4096);
	CHECK_EQ(r.cr3_mfn, p2m[l.pt_pfn]);
	CHECK_EQ(vcpu0.guest_table, r.cr3_mfn);
	CHECK(fake_frames[r.cr3_mfn].flags & PGF_pinned);

	struct start_info *si = (struct start_info *)va_bytes(r.cr3_mfn, r.rsi);
	CHECK(si != NULL);
	if (!si)
		return;
	CHECK(strcmp(si->magic, "xen-3.0-x86_64") == 0);
	CHECK_EQ(si->nr_pages, 8192);
	CHECK_EQ(si->shared_info, 0x5000);
	CHECK_EQ(si->flags, SIF_PRIVILEGED | SIF_INITDOMAIN);
	CHECK_EQ(si->pt_base, l.pt_va);
	CHECK_EQ(si->nr_pt_frames, l.nr_pt_frames);
	CHECK_EQ(si->mfn_list, l.p2m_va);
	CHECK(strcmp(si->cmd_line, "selftest loglvl=9") == 0);
	CHECK_EQ(si->store_evtchn, 0); /* dom0: no xenstore ring from the builder */

	/* The P2M as the guest sees it, and the M2P hv keeps. */
	uint64_t *guest_p2m = (uint64_t *)va_bytes(r.cr3_mfn, si->mfn_list + 8 * 600);
	CHECK(guest_p2m && *guest_p2m == p2m[600]);
	CHECK_EQ(fake_m2p[p2m[600]], 600);

	/* Image bytes at their VA, bss zero, hypercall page stubs. */
	CHECK_EQ(*va_bytes(r.cr3_mfn, VBASE + 0x1000000 + 5), 36);
	CHECK_EQ(*va_bytes(r.cr3_mfn, VBASE + 0x1004ff0), 0);
	uint8_t *hc = va_bytes(r.cr3_mfn, VBASE + 0x1001000);
	CHECK(hc && hc[0] == 0x51 && hc[32 * 17 + 3] == 0xb8 && hc[32 * 17 + 4] == 17);
	CHECK(hc && hc[32 * 23 + 3] == 0x50 && hc[32 * 23 + 10] == 0x05);
	CHECK(hc && hc[31] == 0xcc);

	/* Page-table frames are mapped read-only, the stack RW; kernel entries got US + bit 52. */
	CHECK(walk(r.cr3_mfn, l.pt_va, &flags) == p2m[l.pt_pfn]);
	CHECK(!(flags & PTF_RW));
	CHECK(walk(r.cr3_mfn, l.stack_va, &flags) != 0);
	CHECK((flags & (PTF_RW | PTF_US | PTF_GUEST_KERNEL)) ==
	      (PTF_RW | PTF_US | PTF_GUEST_KERNEL));
	CHECK(walk(r.cr3_mfn, l.v_end, &flags) == 0);
	CHECK(walk(r.cr3_mfn, VBASE, &flags) == p2m[0]); /* padding below the image is mapped */
	CHECK_EQ(fake_frames[p2m[l.pt_pfn + 1]].type, PGT_l3);
	CHECK_EQ(fake_mem[r.cr3_mfn][256], HV_SLOT_MARK);
}

/* A domU with INIT_P2M and an unmapped initrd. */
static void build_domu_init_p2m(void)
{
	static const struct note_spec notes[] = {STD_NOTES,
	                                         {XEN_ELFNOTE_INIT_P2M, NULL, 0x8000000000ull},
	                                         {XEN_ELFNOTE_MOD_START_PFN, NULL, 1}};
	static uint8_t initrd[9000];
	struct pv_elf_info e;
	struct pv_layout l;
	struct pv_boot_regs r;
	uint64_t *p2m, flags;
	const char *why;

	memset(initrd, 0x5a, sizeof(initrd));
	make_image(notes, sizeof(notes) / sizeof(notes[0]));
	CHECK_EQ(pv_elf_parse(image, image_len, &e, &why), 0);
	CHECK_EQ(build(&e, &l, 8192, true, initrd, sizeof(initrd), &p2m, &r), 0);
	struct start_info *si = (struct start_info *)va_bytes(r.cr3_mfn, r.rsi);
	CHECK(si != NULL);
	if (!si)
		return;
	CHECK(si->flags & SIF_MOD_START_PFN);
	CHECK_EQ(si->mod_start, l.initrd_pfn);
	CHECK_EQ(si->mod_len, 9000);
	CHECK_EQ(((uint8_t *)fake_mem[p2m[l.initrd_pfn + 2]])[9000 - 8192 - 1], 0x5a);
	CHECK_EQ(si->first_p2m_pfn, l.first_p2m_pfn);
	CHECK_EQ(si->nr_p2m_frames, 16 + 3);
	CHECK_EQ(si->store_mfn, p2m[l.xenstore_pfn]);
	CHECK_EQ(si->console.domU.mfn, p2m[l.console_pfn]);
	CHECK_EQ(si->console.domU.evtchn, 2);
	uint64_t *guest_p2m = (uint64_t *)va_bytes(r.cr3_mfn, 0x8000000000ull + 8 * 8000);
	CHECK(guest_p2m && *guest_p2m == p2m[8000]);
	CHECK(walk(r.cr3_mfn, 0x8000000000ull + 16 * 4096, &flags) == 0);
}

/* The real guest kernel, when built, parses, lays out and builds as dom0 with 16 MiB. */
static void build_guest_elf(void)
{
	const char *path = getenv("GUEST_ELF");
	static uint8_t buf[8 << 20];
	struct pv_elf_info e;
	struct pv_layout l;
	struct pv_boot_regs r;
	uint64_t *p2m;
	const char *why = "";
	FILE *f;
	size_t n;

	if (!path)
		path = "guest-kernel/guest.elf";
	f = fopen(path, "rb");
	if (!f) {
		printf("(no %s: skipped)\n", path);
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK_EQ(pv_elf_parse(buf, n, &e, &why), 0);
	if (test_failures) {
		fprintf(stderr, "guest.elf: %s\n", why);
		return;
	}
	printf("guest.elf: entry %#llx virt_base %#llx image %#llx-%#llx hypercall page %s\n",
	       (unsigned long long)e.entry, (unsigned long long)e.virt_base,
	       (unsigned long long)e.kstart, (unsigned long long)e.kend,
	       e.has_hypercall_page ? "yes" : "no");
	CHECK_EQ(build(&e, &l, 4096, false, NULL, 0, &p2m, &r), 0);
}

/*
 * A hostile image (domUs' kernels come from the control interface): random corruption of a
 * valid PV ELF must be refused or parsed into something consistent, never crash the parser.
 */
static void corrupted_images(void)
{
	uint64_t state = 777;
	unsigned long accepted = 0;

	for (int i = 0; i < 20000; i++) {
		struct pv_elf_info e;
		const char *why = NULL;
		int flips;

		make_std_image();
		state = state * 6364136223846793005ull + 1442695040888963407ull;
		flips = 1 + (state >> 60);
		for (int f = 0; f < flips; f++) {
			state = state * 6364136223846793005ull + 1442695040888963407ull;
			/* mostly headers and notes, where the parser looks */
			size_t at = (state >> 33) % ((state >> 20) & 1 ? 0x400 : image_len);
			image[at] = (uint8_t)(state >> 48);
		}
		if (pv_elf_parse(image, image_len, &e, &why) != 0) {
			CHECK(why != NULL);
			continue;
		}
		accepted++;
		CHECK(e.kend > e.kstart);
		CHECK(e.entry >= e.kstart && e.entry < e.kend);
		if (test_failures)
			return;
	}
	CHECK(accepted > 0 && accepted < 20000);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"parse_ok", parse_ok},
	    {"parse_refusals", parse_refusals},
	    {"layout_main", layout_main},
	    {"layout_iterates", layout_iterates},
	    {"layout_init_p2m", layout_init_p2m},
	    {"build_dom0", build_dom0},
	    {"build_domu_init_p2m", build_domu_init_p2m},
	    {"build_guest_elf", build_guest_elf},
	    {"corrupted_images", corrupted_images},
	};
	fake_nr_frames = 20000;
	return run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
