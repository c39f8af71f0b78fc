/*
 * ACPI table discovery: RSDP → RSDT/XSDT → MADT (CPUs) and FADT (poweroff). Tables are read in
 * place through the direct map, checked (signature, length, checksum) before use, and only the
 * facts hv needs are copied out; a malformed table is reported and skipped, never trusted.
 */
#include <hv/lib.h>
#include <hv/acpi.h>
#include <hv/bootinfo.h>
#include <hv/mm.h>
#include <asm/processor.h>

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __packed;

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

struct acpi_madt {
	struct acpi_header header;
	uint32_t lapic_address;
	uint32_t flags;
	uint8_t entries[];
} __packed;

#define MADT_LAPIC          0
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC         9
#define MADT_ENABLED        (1u << 0)

struct acpi_fadt {
	struct acpi_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk;
	uint32_t pm1a_cnt_blk, pm1b_cnt_blk;
} __packed;

struct acpi_cpu acpi_cpus[NR_CPUS];
unsigned int acpi_nr_cpus;
uint64_t acpi_lapic_base = 0xfee00000;

/* Poweroff facts from the FADT and the DSDT's \_S5 object. */
static uint16_t pm1a_cnt, pm1b_cnt;
static uint16_t s5_typ_a, s5_typ_b;
static bool s5_known;

static bool checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

static const struct acpi_rsdp *rsdp_at(paddr_t pa)
{
	const struct acpi_rsdp *r = maddr_to_virt(pa);

	if (memcmp(r->signature, "RSD PTR ", 8) != 0 || !checksum_ok(r, 20))
		return NULL;
	return r;
}

/* The BIOS places the RSDP on a 16-byte boundary in the first KiB of the EBDA or in
 * 0xe0000..0xfffff. */
static const struct acpi_rsdp *rsdp_scan(void)
{
	paddr_t ebda = (paddr_t)(*(const uint16_t *)maddr_to_virt(0x40e)) << 4;
	const struct acpi_rsdp *r;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		for (paddr_t p = ebda; p < ebda + 1024; p += 16)
			if ((r = rsdp_at(p)))
				return r;
	for (paddr_t p = 0xe0000; p < 0x100000; p += 16)
		if ((r = rsdp_at(p)))
			return r;
	return NULL;
}

/* The table at @pa if its header, length and checksum are sane, else NULL. */
static const struct acpi_header *table_at(paddr_t pa)
{
	const struct acpi_header *h;

	if (pa == 0 || pa >= (1ULL << 40))
		return NULL;
	h = maddr_to_virt(pa);
	if (h->length < sizeof(*h) || h->length > (16u << 20) || !checksum_ok(h, h->length)) {
		printk(KERN_WARN "acpi: table at %#lx (%.4s) is malformed, ignored\n",
		       (unsigned long)pa, h->signature);
		return NULL;
	}
	return h;
}

static void parse_madt(const struct acpi_madt *madt)
{
	const uint8_t *p = madt->entries, *end = (const uint8_t *)madt + madt->header.length;

	if (madt->lapic_address)
		acpi_lapic_base = madt->lapic_address;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t id = ~0u, flags = 0;

		if (p[0] == MADT_LAPIC && p[1] >= 8) {
			id = p[3];
			memcpy(&flags, p + 4, 4);
		} else if (p[0] == MADT_X2APIC && p[1] >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
		} else if (p[0] == MADT_LAPIC_OVERRIDE && p[1] >= 12) {
			memcpy(&acpi_lapic_base, p + 4, 8);
		}
		if (id != ~0u) {
			if (acpi_nr_cpus < NR_CPUS)
				acpi_cpus[acpi_nr_cpus++] =
				    (struct acpi_cpu){id, (flags & MADT_ENABLED) != 0};
			else
				printk(KERN_WARN "acpi: more than %d CPUs, apic id %u ignored\n",
				       NR_CPUS, id);
		}
		p += p[1];
	}
}

/* Reads one AML integer (ZeroOp, OneOp, BytePrefix, WordPrefix); false if it is something
 * else. */
static bool aml_small_int(const uint8_t **pp, const uint8_t *end, uint16_t *v)
{
	const uint8_t *p = *pp;

	if (p >= end)
		return false;
	if (*p == 0x00 || *p == 0x01) {
		*v = *p;
		*pp = p + 1;
	} else if (*p == 0x0a && p + 1 < end) {
		*v = p[1];
		*pp = p + 2;
	} else if (*p == 0x0b && p + 2 < end) {
		*v = (uint16_t)(p[1] | p[2] << 8);
		*pp = p + 3;
	} else {
		return false;
	}
	return true;
}

/* Finds "Name(_S5_, Package(){typ_a, typ_b, ...})" in the DSDT byte code. */
static void parse_s5(const struct acpi_header *dsdt)
{
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12) /* PackageOp */
			continue;
		p += 5;
		p += ((*p >> 6) & 3) + 1; /* PkgLength */
		p++;                      /* NumElements */
		if (aml_small_int(&p, end, &s5_typ_a) && aml_small_int(&p, end, &s5_typ_b))
			s5_known = true;
		return;
	}
}

static void parse_fadt(const struct acpi_fadt *fadt)
{
	const struct acpi_header *dsdt;

	if (fadt->header.length < offsetof(struct acpi_fadt, pm1b_cnt_blk) + 4)
		return;
	pm1a_cnt = (uint16_t)fadt->pm1a_cnt_blk;
	pm1b_cnt = (uint16_t)fadt->pm1b_cnt_blk;
	dsdt = table_at(fadt->dsdt);
	if (dsdt && memcmp(dsdt->signature, "DSDT", 4) == 0)
		parse_s5(dsdt);
}

void acpi_init(void)
{
	const struct acpi_rsdp *rsdp = NULL;
	const struct acpi_header *root;
	size_t entry_size;
	unsigned int nr_entries;

	if (boot_info.rsdp)
		rsdp = rsdp_at(boot_info.rsdp);
	if (!rsdp)
		rsdp = rsdp_scan();
	if (!rsdp) {
		printk(KERN_WARN "acpi: no RSDP found, running on the boot CPU only\n");
		printk("acpi: 0 CPUs in MADT\n");
		return;
	}
	if (rsdp->revision >= 2 && rsdp->xsdt_address && checksum_ok(rsdp, sizeof(*rsdp))) {
		root = table_at(rsdp->xsdt_address);
		entry_size = 8;
	} else {
		root = table_at(rsdp->rsdt_address);
		entry_size = 4;
	}
	if (!root) {
		printk("acpi: 0 CPUs in MADT\n");
		return;
	}
	nr_entries = (unsigned int)((root->length - sizeof(*root)) / entry_size);
	for (unsigned int i = 0; i < nr_entries; i++) {
		const uint8_t *e = (const uint8_t *)root + sizeof(*root) + i * entry_size;
		uint64_t pa = 0;
		const struct acpi_header *t;

		memcpy(&pa, e, entry_size);
		t = table_at(pa);
		if (!t)
			continue;
		if (memcmp(t->signature, "APIC", 4) == 0 && t->length >= sizeof(struct acpi_madt))
			parse_madt((const struct acpi_madt *)t);
		else if (memcmp(t->signature, "FACP", 4) == 0)
			parse_fadt((const struct acpi_fadt *)t);
	}
	printk("acpi: %u CPUs in MADT\n", acpi_nr_cpus);
}

void acpi_poweroff(void)
{
	if (!pm1a_cnt || !s5_known)
		return;
	outw(pm1a_cnt, (uint16_t)((s5_typ_a & 7) << 10 | 1 << 13)); /* SLP_TYP | SLP_EN */
	if (pm1b_cnt)
		outw(pm1b_cnt, (uint16_t)((s5_typ_b & 7) << 10 | 1 << 13));
}
