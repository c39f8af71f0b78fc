/*
 * The native platform's interrupt controllers and ACPI: the local APIC (its timer is the
 * kernel's one-shot timer), the IOAPIC (COM1's IRQ 4), and the ACPI tables that say where the
 * IOAPIC is, how ISA IRQs map to its inputs (MADT interrupt source overrides), and how to power
 * off (FADT PM1a_CNT, SLP_TYP of S5 from the DSDT's \_S5 package).
 *
 * The tables are read once, in native_acpi_scan, while the boot identity map of 0..1 GiB still
 * exists (firmware keeps them below 1 GiB on the machines we boot: SeaBIOS puts them at the top
 * of RAM below 4 GiB, QEMU's -m is at most 1 GiB here); only the few numbers we need are kept.
 * The APICs' registers (0xfec00000, 0xfee00000 on PCs) are above the direct map; they are mapped
 * uncached with 2 MiB pages at MMIO_VIRT, the last 1 GiB of the kernel's L4 slot 511, which the
 * direct map (at most 511 x 2 MiB) never reaches and every address space shares.
 */
#include <kernel.h>
#include <mm.h>
#include <x86.h>
#include <klib/string.h>
#include "native.h"

#define MMIO_VIRT 0xffffffffc0000000UL
#define LARGE     (2UL << 20)

/* local APIC registers */
#define LAPIC_ID        0x20
#define LAPIC_EOI       0xb0
#define LAPIC_SVR       0xf0
#define LAPIC_LVT_TMR   0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TMR_INIT  0x380
#define LAPIC_TMR_CUR   0x390
#define LAPIC_TMR_DIV   0x3e0
#define LVT_MASKED      (1u << 16)

static uint64_t lapic_phys = 0xfee00000, ioapic_phys;
static uint32_t ioapic_gsi_base;
static uint32_t com1_gsi = 4;
static uint16_t com1_flags; /* MPS INTI flags of the override, 0: ISA default (edge, high) */
static uint16_t pm1a_cnt;
static uint8_t s5_typ;
static bool s5_from_dsdt;
static volatile uint32_t *lapic, *ioapic;

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision, creator_id, creator_revision;
} __attribute__((packed));

static bool checksum_ok(const void *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

static const uint8_t *find_rsdp(void)
{
	for (uintptr_t a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = (const uint8_t *)a;
		if (memcmp(p, "RSD PTR ", 8) == 0 && checksum_ok(p, 20))
			return p;
	}
	return NULL;
}

/* Reads \_S5's first element: NameOp? "_S5_" PackageOp PkgLength NumElements then an integer
 * (ZeroOp, OneOp or BytePrefix n). Good enough for the DSDTs firmware generates. */
static void find_s5(const struct acpi_header *dsdt)
{
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12)
			continue;
		const uint8_t *q = p + 5;
		q += 1 + (*q >> 6); /* PkgLength: the top two bits count the extra bytes */
		q++;                /* NumElements */
		if (q >= end)
			return;
		if (*q == 0x0a && q + 1 < end)
			s5_typ = q[1];
		else if (*q == 0x00 || *q == 0x01)
			s5_typ = *q;
		else
			return;
		s5_from_dsdt = true;
		return;
	}
}

static void parse_madt(const struct acpi_header *madt)
{
	const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8; /* lapic address, flags */
	const uint8_t *end = (const uint8_t *)madt + madt->length;

	lapic_phys = *(const uint32_t *)((const uint8_t *)madt + sizeof(*madt));
	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		if (p[0] == 1 && p[1] >= 12 && !ioapic_phys) { /* the first IOAPIC */
			ioapic_phys = *(const uint32_t *)(p + 4);
			ioapic_gsi_base = *(const uint32_t *)(p + 8);
		} else if (p[0] == 2 && p[1] >= 10 && p[2] == 0 && p[3] == 4) { /* ISA IRQ 4 */
			com1_gsi = *(const uint32_t *)(p + 4);
			com1_flags = *(const uint16_t *)(p + 8);
		}
	}
}

void native_acpi_scan(void)
{
	const uint8_t *rsdp = find_rsdp();
	if (!rsdp)
		return;
	const struct acpi_header *rsdt = (const void *)(uintptr_t) * (const uint32_t *)(rsdp + 16);
	if ((uintptr_t)rsdt >= (1UL << 30) || memcmp(rsdt->signature, "RSDT", 4) != 0)
		return;
	size_t n = (rsdt->length - sizeof(*rsdt)) / 4;
	const uint32_t *entries = (const uint32_t *)(rsdt + 1);
	for (size_t i = 0; i < n; i++) {
		const struct acpi_header *t = (const void *)(uintptr_t)entries[i];
		if ((uintptr_t)t >= (1UL << 30))
			continue;
		if (memcmp(t->signature, "APIC", 4) == 0 && t->length >= sizeof(*t) + 8) {
			parse_madt(t);
		} else if (memcmp(t->signature, "FACP", 4) == 0 && t->length >= 72) {
			const uint8_t *f = (const uint8_t *)t;
			pm1a_cnt = (uint16_t) * (const uint32_t *)(f + 64);
			const struct acpi_header *dsdt =
			    (const void *)(uintptr_t) * (const uint32_t *)(f + 40);
			if ((uintptr_t)dsdt < (1UL << 30) &&
			    memcmp(dsdt->signature, "DSDT", 4) == 0)
				find_s5(dsdt);
		}
	}
}

/* Maps the 2 MiB frame holding `phys` uncached at MMIO_VIRT + slot * 2 MiB. */
static volatile uint32_t *map_mmio(uint64_t *l2, unsigned int slot, uint64_t phys)
{
	l2[slot] = (phys & ~(LARGE - 1)) | 0x9b; /* P, W, PWT, PCD, PS */
	return (volatile uint32_t *)(MMIO_VIRT + slot * LARGE + (phys & (LARGE - 1)));
}

static uint64_t mmio_l2[512] __aligned(4096);

void native_apic_map(uint64_t *kernel_l4)
{
	uint64_t l3_phys = kernel_l4[511] & 0x000ffffffffff000ULL;
	uint64_t *l3 = (uint64_t *)(l3_phys - NATIVE_PHYS_BASE + KERNEL_VIRT_BASE);

	lapic = map_mmio(mmio_l2, 0, lapic_phys);
	if (ioapic_phys)
		ioapic = map_mmio(mmio_l2, 1, ioapic_phys);
	l3[511] = ((uintptr_t)mmio_l2 - KERNEL_VIRT_BASE + NATIVE_PHYS_BASE) | 3;
	__asm__ __volatile__("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

static uint32_t lapic_read(unsigned int reg)
{
	return lapic[reg / 4];
}

static void lapic_write(unsigned int reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

void native_lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint64_t native_lapic_init(uint64_t tsc_khz)
{
	wrmsr(0x1b, rdmsr(0x1b) | (1u << 11)); /* IA32_APIC_BASE: globally enabled */
	lapic_write(LAPIC_SVR, 0x100 | VEC_APIC_SPURIOUS);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED); /* the 8259's ExtINT: the PIC is not used */
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_TMR_DIV, 0x3); /* divide by 16 */
	lapic_write(LAPIC_LVT_TMR, LVT_MASKED | VEC_APIC_TIMER);

	/* Count down for 10 ms of TSC time (the TSC was calibrated against PIT channel 2). */
	lapic_write(LAPIC_TMR_INIT, 0xffffffff);
	uint64_t start = rdtsc(), window = tsc_khz * 10;
	while (rdtsc() - start < window)
		;
	uint32_t elapsed = 0xffffffff - lapic_read(LAPIC_TMR_CUR);
	lapic_write(LAPIC_TMR_INIT, 0);
	lapic_write(LAPIC_LVT_TMR, VEC_APIC_TIMER); /* one-shot, unmasked */
	native_lapic_eoi();
	return elapsed / 10 ? elapsed / 10 : 1;
}

void native_lapic_oneshot(uint64_t count)
{
	if (count == 0)
		count = 1;
	if (count > 0xffffffff)
		count = 0xffffffff; /* fires early; the handler re-arms for the rest */
	lapic_write(LAPIC_TMR_INIT, (uint32_t)count);
}

static void ioapic_write(unsigned int reg, uint32_t v)
{
	ioapic[0] = reg;
	ioapic[4] = v;
}

static uint32_t ioapic_read(unsigned int reg)
{
	ioapic[0] = reg;
	return ioapic[4];
}

bool native_ioapic_route_com1(void)
{
	if (!ioapic)
		return false;
	unsigned int pins = ((ioapic_read(1) >> 16) & 0xff) + 1;
	for (unsigned int i = 0; i < pins; i++) /* nothing else comes through it */
		ioapic_write(0x10 + 2 * i, 1u << 16);
	if (com1_gsi < ioapic_gsi_base || com1_gsi - ioapic_gsi_base >= pins)
		return false;
	unsigned int pin = com1_gsi - ioapic_gsi_base;
	uint32_t low = VEC_COM1; /* fixed delivery, physical destination */
	if ((com1_flags & 3) == 3)
		low |= 1u << 13; /* active low */
	if (((com1_flags >> 2) & 3) == 3)
		low |= 1u << 15; /* level triggered */
	ioapic_write(0x10 + 2 * pin + 1, (lapic_read(LAPIC_ID) >> 24) << 24);
	ioapic_write(0x10 + 2 * pin, low);
	printk("native: COM1 input by interrupt: IRQ 4 -> IOAPIC pin %u -> vector %u\n", pin,
	       VEC_COM1);
	return true;
}

void native_acpi_poweroff(void)
{
	if (!pm1a_cnt)
		return;
	/* Without a \_S5 we could read, 0 is what QEMU's PIIX4 and ICH9 models take for S5 (and
	 * what their generated DSDTs say). */
	printk("native: ACPI S5 (PM1a_CNT %#x, SLP_TYP %u%s)\n", pm1a_cnt, s5_typ,
	       s5_from_dsdt ? " from \\_S5" : ", QEMU's value");
	outw(pm1a_cnt, (uint16_t)((s5_typ & 7) << 10 | 1u << 13)); /* SLP_TYP | SLP_EN */
}
