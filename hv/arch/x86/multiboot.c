/*
 * Reads the multiboot1 (QEMU -kernel) or multiboot2 (GRUB) information block into boot_info.
 *
 * Everything is copied (memory map, module list, strings) so that nothing depends on the
 * loader's memory afterwards; only the modules' contents stay in place. The loader's block is
 * reached through the boot direct map (it is always below 4 GiB).
 *
 * Command lines: multiboot1 loaders (QEMU -kernel/-initrd, GRUB legacy) always put the file name
 * first ("hv/hv.elf on_idle=exit"), so hv drops the first word there unless it is a key=value;
 * under multiboot2 it drops a first word only when it looks like a path ('/' and no '='). hv's
 * command line and module arguments are then what the user wrote after the file name.
 */
#include <hv/lib.h>
#include <hv/bootinfo.h>

#define MB1_BOOTLOADER_MAGIC 0x2badb002
#define MB2_BOOTLOADER_MAGIC 0x36d76289

#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS    (1u << 3)
#define MB1_INFO_MMAP    (1u << 6)

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __packed;

struct mb1_module {
	uint32_t start, end, string, reserved;
} __packed;

struct mb1_mmap_entry {
	uint32_t size; /* of the rest of the entry */
	uint64_t base, len;
	uint32_t type;
} __packed;

#define MB2_TAG_END      0
#define MB2_TAG_CMDLINE  1
#define MB2_TAG_MODULE   3
#define MB2_TAG_MMAP     6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

struct mb2_tag {
	uint32_t type, size;
} __packed;

struct mb2_module {
	struct mb2_tag tag;
	uint32_t start, end;
	char string[];
} __packed;

struct mb2_mmap {
	struct mb2_tag tag;
	uint32_t entry_size, entry_version;
	uint8_t entries[];
} __packed;

struct mb2_mmap_entry {
	uint64_t base, len;
	uint32_t type, reserved;
} __packed;

struct boot_info boot_info;

static char string_pool[4096];
static size_t string_used;

/* How the loader writes a command line. */
enum name_rule {
	NAME_FIRST,   /* multiboot1 (QEMU, GRUB legacy): the file name always comes first */
	NAME_IF_PATH, /* multiboot2: drop a first word only if it looks like a path */
};

/* Copies the string at @s_pa into the pool without the file name in front. */
static const char *save_string(paddr_t s_pa, enum name_rule rule)
{
	const char *s = s_pa ? maddr_to_virt(s_pa) : "";
	const char *first_end, *eq, *slash;
	size_t len, room = sizeof(string_pool) - string_used;
	char *dst = string_pool + string_used;

	while (*s == ' ')
		s++;
	for (first_end = s; *first_end && *first_end != ' '; first_end++)
		;
	eq = memchr(s, '=', (size_t)(first_end - s));
	slash = memchr(s, '/', (size_t)(first_end - s));
	if (!eq && (rule == NAME_FIRST || slash)) {
		s = first_end;
		while (*s == ' ')
			s++;
	}
	len = strlen(s);
	if (room == 0)
		return "";
	if (len >= room)
		len = room - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	string_used += len + 1;
	return dst;
}

static void add_mem(uint64_t base, uint64_t len, uint32_t type)
{
	if (len == 0 || boot_info.nr_mem == MAX_MEM_REGIONS)
		return;
	boot_info.mem[boot_info.nr_mem++] = (struct mem_region){base, base + len, type};
}

static void add_module(paddr_t start, paddr_t end, paddr_t string, enum name_rule rule)
{
	if (boot_info.nr_modules == MAX_BOOT_MODULES) {
		printk(KERN_WARN "boot: more than %d modules, the rest are ignored\n",
		       MAX_BOOT_MODULES);
		return;
	}
	boot_info.modules[boot_info.nr_modules++] =
	    (struct boot_module){start, end, save_string(string, rule)};
}

static void parse_mb1(paddr_t info_pa)
{
	const struct mb1_info *mbi = maddr_to_virt(info_pa);

	boot_info.loader = "multiboot1";
	boot_info.info_start = info_pa;
	boot_info.info_end = info_pa + sizeof(*mbi);
	boot_info.cmdline =
	    save_string((mbi->flags & MB1_INFO_CMDLINE) ? mbi->cmdline : 0, NAME_FIRST);

	if (mbi->flags & MB1_INFO_MMAP) {
		paddr_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
		while (p + sizeof(struct mb1_mmap_entry) <= end) {
			const struct mb1_mmap_entry *e = maddr_to_virt(p);
			add_mem(e->base, e->len, e->type);
			p += e->size + 4;
		}
	} else {
		/* Only the two legacy counts: conventional memory and memory above 1 MiB. */
		add_mem(0, (uint64_t)mbi->mem_lower << 10, MEM_RAM);
		add_mem(1 << 20, (uint64_t)mbi->mem_upper << 10, MEM_RAM);
	}

	if (mbi->flags & MB1_INFO_MODS) {
		const struct mb1_module *m = maddr_to_virt(mbi->mods_addr);
		for (uint32_t i = 0; i < mbi->mods_count; i++)
			add_module(m[i].start, m[i].end, m[i].string, NAME_FIRST);
	}
}

static void parse_mb2(paddr_t info_pa)
{
	const uint8_t *base = maddr_to_virt(info_pa);
	uint32_t total = *(const uint32_t *)base;
	const uint8_t *p = base + 8;
	bool have_new_rsdp = false;

	boot_info.loader = "multiboot2";
	boot_info.info_start = info_pa;
	boot_info.info_end = info_pa + total;
	boot_info.cmdline = "";

	while (p + sizeof(struct mb2_tag) <= base + total) {
		const struct mb2_tag *tag = (const void *)p;

		if (tag->type == MB2_TAG_END || tag->size < sizeof(*tag))
			break;
		switch (tag->type) {
		case MB2_TAG_CMDLINE:
			boot_info.cmdline =
			    save_string(virt_to_maddr(p + sizeof(*tag)), NAME_IF_PATH);
			break;
		case MB2_TAG_MODULE: {
			const struct mb2_module *m = (const void *)tag;
			add_module(m->start, m->end, virt_to_maddr(m->string), NAME_IF_PATH);
			break;
		}
		case MB2_TAG_MMAP: {
			const struct mb2_mmap *mm = (const void *)tag;
			for (const uint8_t *e = mm->entries;
			     mm->entry_size && e + sizeof(struct mb2_mmap_entry) <= p + tag->size;
			     e += mm->entry_size) {
				const struct mb2_mmap_entry *me = (const void *)e;
				add_mem(me->base, me->len, me->type);
			}
			break;
		}
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW: {
			size_t len = MIN(tag->size - sizeof(*tag), sizeof(boot_info.rsdp_copy));
			/* Prefer the ACPI 2.0 RSDP (it has the XSDT) when both are given. */
			if (tag->type == MB2_TAG_ACPI_OLD && have_new_rsdp)
				break;
			memcpy(boot_info.rsdp_copy, p + sizeof(*tag), len);
			boot_info.rsdp = virt_to_maddr(boot_info.rsdp_copy);
			have_new_rsdp = tag->type == MB2_TAG_ACPI_NEW;
			break;
		}
		}
		p += ALIGN_UP(tag->size, 8);
	}
}

void boot_info_init(unsigned long magic, paddr_t info)
{
	if (magic == MB1_BOOTLOADER_MAGIC)
		parse_mb1(info);
	else if (magic == MB2_BOOTLOADER_MAGIC)
		parse_mb2(info);
	else
		panic("unknown boot loader magic %#lx (not multiboot1/2)", magic);
}

const struct boot_module *boot_module(unsigned int i)
{
	return i < boot_info.nr_modules ? &boot_info.modules[i] : NULL;
}

unsigned int boot_module_count(void)
{
	return boot_info.nr_modules;
}

void boot_info_print(void)
{
	printk("boot: %s, %u memory map entries, %u modules\n", boot_info.loader, boot_info.nr_mem,
	       boot_info.nr_modules);
	for (unsigned int i = 0; i < boot_info.nr_mem; i++)
		printk(KERN_DEBUG "boot: mem 0x%012lx-0x%012lx type %u\n",
		       (unsigned long)boot_info.mem[i].start, (unsigned long)boot_info.mem[i].end,
		       boot_info.mem[i].type);
	for (unsigned int i = 0; i < boot_info.nr_modules; i++)
		printk("boot: module %u at %#lx-%#lx: %s\n", i,
		       (unsigned long)boot_info.modules[i].start,
		       (unsigned long)boot_info.modules[i].end, boot_info.modules[i].cmdline);
}
