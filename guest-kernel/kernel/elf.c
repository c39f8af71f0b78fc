/*
 * Programs and the ELF loader. The user programs are one static ELF (guest-kernel/user, a
 * multi-call binary in the manner of busybox: it dispatches on argv[0]) linked into the kernel
 * image by programs.S; the table below names the programs it provides. Loading copies each
 * PT_LOAD segment into fresh pages of the new address space (no sharing of text between
 * processes: simple, and fork shares it anyway through copy-on-write).
 */
#include <kernel.h>
#include <mm.h>
#include <proc.h>
#include <klib/string.h>

extern const char userland_elf_start[], userland_elf_end[];

static const char *const program_names[] = {
    "sh",       "ps",       "free",     "uptime",  "echo",      "cat",   "bench",
    "selftest", "spin",     "poweroff", "reboot",  "true",      "false", "kill",
    "sleep",    "forktest", "pipering", "cowtest", "faulttest", "yes",   "dom",
    "ping",     "udpsend",  "udpsink",  "netstat", "ifconfig",  "blk",
};

struct elf64_ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static const char *base_name(const char *path)
{
	if (strncmp(path, "/bin/", 5) == 0)
		return path + 5;
	return path;
}

int program_exists(const char *path)
{
	const char *name = base_name(path);
	for (size_t i = 0; i < ARRAY_SIZE(program_names); i++)
		if (strcmp(program_names[i], name) == 0)
			return 1;
	return 0;
}

int elf_load(struct vm *vm, const char *path, uint64_t *entry)
{
	const char *image = userland_elf_start;
	size_t size = (size_t)(userland_elf_end - userland_elf_start);
	const struct elf64_ehdr *eh = (const void *)image;
	uint64_t top = 0;

	if (!program_exists(path))
		return -E_NOENT;
	if (size < sizeof(*eh) || memcmp(eh->ident, "\177ELF\2\1", 6) != 0 || eh->machine != 62 ||
	    eh->phoff + (uint64_t)eh->phnum * sizeof(struct elf64_phdr) > size)
		return -E_INVAL;
	const struct elf64_phdr *ph = (const void *)(image + eh->phoff);
	for (int i = 0; i < eh->phnum; i++) {
		if (ph[i].type != 1 /* PT_LOAD */ || ph[i].memsz == 0)
			continue;
		uint64_t start = ph[i].vaddr & ~(PAGE_SIZE - 1);
		uint64_t end = ALIGN_UP(ph[i].vaddr + ph[i].memsz, PAGE_SIZE);
		if (ph[i].filesz > ph[i].memsz || ph[i].offset + ph[i].filesz > size ||
		    start < USER_BASE || end > USER_MMAP_BASE)
			return -E_INVAL;
		int prot = PROT_READ | ((ph[i].flags & 2) ? PROT_WRITE : 0) |
		           ((ph[i].flags & 1) ? PROT_EXEC : 0);
		int rc = vm_add_region(vm, start, end, prot);
		if (rc)
			return rc;
		for (uint64_t va = start; va < end; va += PAGE_SIZE) {
			char *page;
			if ((rc = vm_map_new_page(vm, va, (void **)&page)))
				return rc;
			/* The part of the file that lands in this page. */
			uint64_t lo = MAX(va, ph[i].vaddr),
			         hi = MIN(va + PAGE_SIZE, ph[i].vaddr + ph[i].filesz);
			if (hi > lo)
				memcpy(page + (lo - va), image + ph[i].offset + (lo - ph[i].vaddr),
				       hi - lo);
		}
		top = MAX(top, end);
	}
	platform->pt_commit();
	vm->brk_start = vm->brk = top;
	*entry = eh->entry;
	return 0;
}
