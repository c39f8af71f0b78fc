/*
 * What the boot loader told hv, in a loader-independent form. multiboot.c fills it from the
 * multiboot1 (QEMU -kernel) or multiboot2 (GRUB) information block, copying everything it needs
 * (strings included) into hv's own memory, so the loader's block may be overwritten afterwards.
 * The boot modules themselves stay where the loader put them; mm_init() keeps them reserved.
 * Read-only after boot_info_init().
 */
#ifndef HV_BOOTINFO_H
#define HV_BOOTINFO_H

#include <klib/compiler.h>
#include <hv/mm.h>

/* Memory-map entry types (e820 numbering, which both multiboot flavours use). */
enum {
	MEM_RAM = 1,
	MEM_RESERVED = 2,
	MEM_ACPI = 3, /* ACPI tables, reclaimable */
	MEM_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	paddr_t start, end; /* [start, end) */
	uint32_t type;
};

struct boot_module {
	paddr_t start, end; /* [start, end) in machine memory */
	/* The module's arguments without its file name (both loaders put the name first; it is
	 * dropped). Never NULL, "" when there are none. */
	const char *cmdline;
};

#define MAX_MEM_REGIONS  128
#define MAX_BOOT_MODULES 16

struct boot_info {
	const char *loader; /* "multiboot1" or "multiboot2" */
	const char *cmdline;
	struct mem_region mem[MAX_MEM_REGIONS];
	unsigned int nr_mem;
	struct boot_module modules[MAX_BOOT_MODULES];
	unsigned int nr_modules;
	paddr_t rsdp;                 /* 0: the loader gave no ACPI tag; scan the BIOS area */
	uint8_t rsdp_copy[36];        /* multiboot2 passes a copy; rsdp then points here */
	paddr_t info_start, info_end; /* the loader's information block */
};

extern struct boot_info boot_info;

/* Parses the loader's block (@magic from EAX at entry, @info its physical address); panics on
 * an unknown magic. Needs only the boot page tables (low 4 GiB in the direct map). */
void boot_info_init(unsigned long magic, paddr_t info);

/* Prints the loader, the memory map (debug level) and the modules. */
void boot_info_print(void);

/* Module @i (0-based, in loader order), NULL when there is no such module. Module 0 is dom0's
 * kernel by convention. */
const struct boot_module *boot_module(unsigned int i);
unsigned int boot_module_count(void);

#endif
