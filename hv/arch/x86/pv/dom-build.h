/*
 * The PV domain builder: reads a PV kernel (ELF64 with Xen notes), lays out its initial address
 * space as the Xen PV boot contract demands, and fills the domain's frames. One builder for
 * dom0 at boot and for domUs created through the control interface.
 *
 * dom-elf.c parses, dom-layout.c computes where everything goes, dom-build.c writes it; all
 * three are pure (they reach memory through pv_frame_map) and are tested on the host.
 */
#ifndef HV_PV_DOM_BUILD_H
#define HV_PV_DOM_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hv/domain.h>

/* What the kernel image says about itself. */
struct pv_elf_info {
	uint64_t entry;          /* XEN_ELFNOTE_ENTRY, else e_entry */
	uint64_t virt_base;      /* VA of pseudo-physical 0 */
	uint64_t paddr_offset;   /* p_paddr bias */
	uint64_t hypercall_page; /* VA, valid if has_hypercall_page */
	bool has_hypercall_page;
	uint64_t init_p2m; /* VA of a separately mapped P2M, valid if has_init_p2m */
	bool has_init_p2m;
	bool mod_start_pfn;          /* initrd may stay unmapped (mod_start is a PFN) */
	uint32_t features_required;  /* XENFEAT bits the kernel cannot run without */
	uint32_t features_supported; /* XENFEAT bits it can use */
	char guest_os[16];
	uint64_t kstart, kend; /* VA range of the loadable segments (page aligned outward) */
	const void *image;
	size_t size;
};

/* Where the builder puts things (VAs unless named pfn). PFN n is mapped at virt_base + n*4K. */
struct pv_layout {
	uint64_t virt_base, v_end; /* the mapped region */
	uint64_t kstart, kend;     /* kernel image */
	uint64_t initrd_va;        /* mapped initrd (0 if none or unmapped) */
	uint64_t initrd_pfn, initrd_pages;
	uint64_t p2m_va, p2m_pfn, p2m_pages; /* P2M list (main mapping or INIT_P2M) */
	uint64_t start_info_va;
	uint64_t xenstore_pfn, console_pfn;   /* domU only, else 0 */
	uint64_t pt_va, pt_pfn, nr_pt_frames; /* bootstrap page tables, L4 first */
	uint64_t stack_va;
	uint64_t first_p2m_pfn, nr_p2m_frames; /* INIT_P2M area: P2M and its own tables */
	uint64_t p2m_pt_pfn, nr_p2m_pt_frames;
	uint64_t nr_pages; /* pages the domain has (>= pages used) */
	uint64_t used_pages;
};

int pv_elf_parse(const void *image, size_t size, struct pv_elf_info *info, const char **why);
int pv_elf_load(const struct pv_elf_info *info,
                void (*write)(void *ctx, uint64_t va, const void *src, size_t len), void *ctx);

int pv_compute_layout(const struct pv_elf_info *elf, uint64_t nr_pages, uint64_t initrd_len,
                      bool is_domu, struct pv_layout *l, const char **why);

/* What the builder needs besides the image. */
struct pv_build_args {
	struct domain *d;
	struct vcpu *v;      /* vCPU 0 */
	const uint64_t *p2m; /* MFN of each PFN, l->nr_pages entries */
	const void *initrd;  /* may be NULL */
	uint64_t initrd_len;
	const char *cmdline;
	uint64_t shared_info_maddr;
	uint32_t si_flags; /* SIF_PRIVILEGED | SIF_INITDOMAIN for dom0 */
	uint32_t store_evtchn, console_evtchn;
};

/* Initial register state for vCPU 0. */
struct pv_boot_regs {
	uint64_t rip, rsp, rsi, cr3_mfn;
};

int pv_build_image(const struct pv_elf_info *elf, const struct pv_layout *l,
                   const struct pv_build_args *a, struct pv_boot_regs *regs, const char **why);

#endif
