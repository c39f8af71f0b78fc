/*
 * Parsing a PV kernel: an ELF64 x86-64 executable whose PT_NOTE segments carry "Xen" notes
 * (XEN_ELFNOTE_*, see public/elfnote.h). The image may come from an untrusted domain through
 * the control interface, so every offset and size is checked before use, and a refusal says why.
 *
 * Addresses follow Xen's libelf: a loadable segment lands at VA p_paddr - PADDR_OFFSET +
 * VIRT_BASE, both notes defaulting to 0 (so an XTF image linked at 1 MiB loads at 1 MiB and
 * Linux's vmlinux, p_paddr 16 MiB, VIRT_BASE 0xffffffff80000000, at 0xffffffff81000000).
 */
#include "dom-build.h"
#include "pv-errno.h"

#include <public/elfnote.h>
#include <public/features.h>

struct elf64_ehdr {
	uint8_t e_ident[16];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

#define PT_LOAD   1
#define PT_NOTE   4
#define ET_EXEC   2
#define EM_X86_64 62

/* XENFEAT bits hv can give a 64-bit PV kernel that requires them. */
#define HV_FEATURES_PROVIDED                                                                       \
	((1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_pae_pgdir_above_4gb) |              \
	 (1u << XENFEAT_mmu_pt_update_preserve_ad) | (1u << XENFEAT_highmem_assist) |              \
	 (1u << XENFEAT_gnttab_map_avail_bits) | (1u << XENFEAT_dom0))

static const char *const feature_names[] = {
    "writable_page_tables",
    "writable_descriptor_tables",
    "auto_translated_physmap",
    "supervisor_mode_kernel",
    "pae_pgdir_above_4gb",
    "mmu_pt_update_preserve_ad",
    "highmem_assist",
    "gnttab_map_avail_bits",
    "hvm_callback_vector",
    "hvm_safe_pvclock",
    "hvm_pirqs",
    "dom0",
    "grant_map_identity",
    "memory_op_vnode_supported",
    "arm_smccc_supported",
    "linux_rsdp_unrestricted",
    "not_direct_mapped",
    "direct_mapped",
    "runstate_phys_area",
    "vcpu_time_phys_area",
    "dm_msix_all_writes",
};

/* Images are byte arrays from anywhere: read fields without assuming their alignment. */
static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static bool str_starts(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

static bool str_equal_n(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (b[i] == 0 || a[i] != b[i])
			return false;
	return b[alen] == 0;
}

/* FEATURES: names separated by '|', '!' in front of the required ones; unknown names ignored. */
static void parse_features(const char *s, struct pv_elf_info *info)
{
	while (*s) {
		bool required = false;
		size_t len = 0, i;

		if (*s == '!') {
			required = true;
			s++;
		}
		while (s[len] && s[len] != '|')
			len++;
		for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
			if (str_equal_n(s, len, feature_names[i])) {
				info->features_supported |= 1u << i;
				if (required)
					info->features_required |= 1u << i;
			}
		}
		s += len;
		if (*s == '|')
			s++;
	}
}

static uint64_t note_num(const uint8_t *desc, uint32_t descsz)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < descsz && i < 8; i++)
		v |= (uint64_t)desc[i] << (8 * i);
	return v;
}

/* The note's descriptor as a string, or NULL if it is not NUL terminated. */
static const char *note_str(const uint8_t *desc, uint32_t descsz)
{
	uint32_t i;

	for (i = 0; i < descsz; i++)
		if (desc[i] == 0)
			return (const char *)desc;
	return NULL;
}

struct seen {
	bool xen_version, loader, guest_os, virt_base, paddr_offset, entry, any;
	const char *loader_str;
};

static int parse_notes(const uint8_t *p, uint64_t len, struct pv_elf_info *info, struct seen *seen,
                       const char **why)
{
	while (len >= 12) {
		uint32_t namesz = rd32(p), descsz = rd32(p + 4), type = rd32(p + 8);
		uint64_t name_pad = ((uint64_t)namesz + 3) & ~3ull;
		uint64_t desc_pad = ((uint64_t)descsz + 3) & ~3ull;
		const uint8_t *name = p + 12, *desc = name + name_pad;
		const char *str;

		if (12 + name_pad + desc_pad > len) {
			*why = "an ELF note runs past its segment";
			return -EINVAL;
		}
		if (namesz == 4 && name[0] == 'X' && name[1] == 'e' && name[2] == 'n' && !name[3]) {
			seen->any = true;
			str = note_str(desc, descsz);
			switch (type) {
			case XEN_ELFNOTE_ENTRY:
				info->entry = note_num(desc, descsz);
				seen->entry = true;
				break;
			case XEN_ELFNOTE_HYPERCALL_PAGE:
				info->hypercall_page = note_num(desc, descsz);
				info->has_hypercall_page = true;
				break;
			case XEN_ELFNOTE_VIRT_BASE:
				info->virt_base = note_num(desc, descsz);
				seen->virt_base = true;
				break;
			case XEN_ELFNOTE_PADDR_OFFSET:
				info->paddr_offset = note_num(desc, descsz);
				seen->paddr_offset = true;
				break;
			case XEN_ELFNOTE_INIT_P2M:
				info->init_p2m = note_num(desc, descsz);
				info->has_init_p2m = true;
				break;
			case XEN_ELFNOTE_MOD_START_PFN:
				info->mod_start_pfn = note_num(desc, descsz) != 0;
				break;
			case XEN_ELFNOTE_SUPPORTED_FEATURES:
				info->features_supported |= (uint32_t)note_num(desc, descsz);
				break;
			case XEN_ELFNOTE_XEN_VERSION:
				if (!str || !str_starts(str, "xen-3.0")) {
					*why = "XEN_VERSION note is not \"xen-3.0\"";
					return -EINVAL;
				}
				seen->xen_version = true;
				break;
			case XEN_ELFNOTE_LOADER:
				seen->loader = true;
				seen->loader_str = str ? str : "";
				break;
			case XEN_ELFNOTE_GUEST_OS:
				if (str) {
					size_t i;
					for (i = 0; i < sizeof(info->guest_os) - 1 && str[i]; i++)
						info->guest_os[i] = str[i];
					info->guest_os[i] = 0;
					seen->guest_os = true;
				}
				break;
			case XEN_ELFNOTE_FEATURES:
				if (str)
					parse_features(str, info);
				break;
			default:
				break;
			}
		}
		p += 12 + name_pad + desc_pad;
		len -= 12 + name_pad + desc_pad;
	}
	return 0;
}

static bool canonical(uint64_t va)
{
	return ((int64_t)va >> 47) == 0 || ((int64_t)va >> 47) == -1;
}

int pv_elf_parse(const void *image, size_t size, struct pv_elf_info *info, const char **why)
{
	const uint8_t *img = image;
	struct elf64_ehdr ehdr, *eh = &ehdr;
	uint64_t pstart = ~0ull, pend = 0, off;
	struct seen seen = {0};
	unsigned int i;
	int rc;

	*info = (struct pv_elf_info){.image = image, .size = size};
	if (size >= sizeof(ehdr))
		__builtin_memcpy(&ehdr, img, sizeof(ehdr));
	if (size < sizeof(*eh) || img[0] != 0x7f || img[1] != 'E' || img[2] != 'L' ||
	    img[3] != 'F') {
		*why = "not an ELF file";
		return -EINVAL;
	}
	if (img[4] != 2 || img[5] != 1 || eh->e_machine != EM_X86_64) {
		*why = "not a little-endian ELF64 x86-64 file";
		return -EINVAL;
	}
	if (eh->e_type != ET_EXEC) {
		*why = "not an ELF executable";
		return -EINVAL;
	}
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr) > size - eh->e_phoff) {
		*why = "program headers outside the file";
		return -EINVAL;
	}
	for (i = 0; i < eh->e_phnum; i++) {
		struct elf64_phdr phdr, *ph = &phdr;

		__builtin_memcpy(&phdr, img + eh->e_phoff + i * sizeof(phdr), sizeof(phdr));
		if (ph->p_type != PT_LOAD && ph->p_type != PT_NOTE)
			continue;
		if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset) {
			*why = "a segment lies outside the file";
			return -EINVAL;
		}
		if (ph->p_type == PT_NOTE) {
			rc = parse_notes(img + ph->p_offset, ph->p_filesz, info, &seen, why);
			if (rc)
				return rc;
			continue;
		}
		if (ph->p_memsz == 0)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_paddr + ph->p_memsz < ph->p_paddr) {
			*why = "a loadable segment has impossible sizes";
			return -EINVAL;
		}
		if (ph->p_paddr < pstart)
			pstart = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > pend)
			pend = ph->p_paddr + ph->p_memsz;
	}
	if (pend == 0) {
		*why = "no loadable segment";
		return -EINVAL;
	}
	if (!seen.any) {
		*why = "no Xen ELF notes (not a PV kernel)";
		return -EINVAL;
	}
	if (!seen.xen_version) {
		*why = "no XEN_VERSION note";
		return -EINVAL;
	}
	if (!str_starts(info->guest_os, "linux") &&
	    (!seen.loader || !str_starts(seen.loader_str, "generic"))) {
		*why = "LOADER note is not \"generic\"";
		return -EINVAL;
	}
	if (info->features_required & ~HV_FEATURES_PROVIDED) {
		*why = "the kernel requires a feature hv does not provide";
		return -EINVAL;
	}
	off = info->virt_base - info->paddr_offset;
	info->kstart = (pstart + off) & ~0xfffull;
	info->kend = (pend + off + 0xfff) & ~0xfffull;
	if (!seen.entry)
		info->entry = eh->e_entry;
	if (!canonical(info->kstart) || !canonical(info->kend - 1) || info->kend <= info->kstart ||
	    info->kstart < info->virt_base || (info->kstart >> 63) != ((info->kend - 1) >> 63)) {
		*why = "the image does not fit a canonical range above VIRT_BASE";
		return -EINVAL;
	}
	if (info->entry < info->kstart || info->entry >= info->kend) {
		*why = "the entry point is outside the image";
		return -EINVAL;
	}
	if (info->has_hypercall_page &&
	    ((info->hypercall_page & 0xfff) || info->hypercall_page < info->kstart ||
	     info->hypercall_page >= info->kend)) {
		*why = "the hypercall page is not a page of the image";
		return -EINVAL;
	}
	return 0;
}

/* Copy each loadable segment to its VA and zero the rest of its memory size. */
int pv_elf_load(const struct pv_elf_info *info,
                void (*write)(void *ctx, uint64_t va, const void *src, size_t len), void *ctx)
{
	const uint8_t *img = info->image;
	struct elf64_ehdr ehdr, *eh = &ehdr;
	uint64_t off = info->virt_base - info->paddr_offset;
	unsigned int i;

	__builtin_memcpy(&ehdr, img, sizeof(ehdr));
	for (i = 0; i < eh->e_phnum; i++) {
		struct elf64_phdr phdr, *ph = &phdr;

		__builtin_memcpy(&phdr, img + eh->e_phoff + i * sizeof(phdr), sizeof(phdr));

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		write(ctx, ph->p_paddr + off, img + ph->p_offset, ph->p_filesz);
		write(ctx, ph->p_paddr + off + ph->p_filesz, NULL, ph->p_memsz - ph->p_filesz);
	}
	return 0;
}
