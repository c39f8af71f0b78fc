/*
 * CPU feature detection and the control-register settings hv runs with on every CPU:
 * CR0.WP (hv honours read-only mappings too), EFER.NXE (no-execute bits), CR4.PGE (global
 * pages), CR4.SMEP/SMAP when present (hv never executes or, outside stac/clac, touches guest
 * pages).
 */
#include <hv/lib.h>
#include <hv/arch.h>
#include <asm/processor.h>

struct cpu_features cpu_features;
/* Read by entry.S to decide whether CLAC exists. */
uint8_t hv_smap_enabled;

void cpu_features_init(void)
{
	uint32_t a, b, c, d;
	struct cpu_features *f = &cpu_features;

	cpuid(0, &a, &b, &c, &d);
	f->max_leaf = a;
	memcpy(f->vendor + 0, &b, 4);
	memcpy(f->vendor + 4, &d, 4);
	memcpy(f->vendor + 8, &c, 4);
	f->vendor[12] = '\0';

	cpuid(1, &a, &b, &c, &d);
	f->family = (a >> 8) & 0xf;
	if (f->family == 0xf)
		f->family += (a >> 20) & 0xff;
	f->x2apic = c & (1u << 21);
	f->pge = d & (1u << 13);
	if (f->max_leaf >= 7) {
		cpuid_count(7, 0, &a, &b, &c, &d);
		f->fsgsbase = b & (1u << 0);
		f->smep = b & (1u << 7);
		f->smap = b & (1u << 20);
	}
	cpuid(0x80000000, &a, &b, &c, &d);
	f->max_ext_leaf = a;
	if (f->max_ext_leaf >= 0x80000001) {
		cpuid(0x80000001, &a, &b, &c, &d);
		f->nx = d & (1u << 20);
		f->pdpe1gb = d & (1u << 26);
	}
	if (f->max_ext_leaf >= 0x80000007) {
		cpuid(0x80000007, &a, &b, &c, &d);
		f->invariant_tsc = d & (1u << 8);
	}
	cpu_features_apply();
	printk("cpu: %s%s%s%s%s\n", f->vendor, f->nx ? " nx" : "", f->smep ? " smep" : "",
	       f->smap ? " smap" : "", f->pdpe1gb ? " 1g-pages" : "");
}

void cpu_features_apply(void)
{
	unsigned long cr4 = read_cr4();

	write_cr0(read_cr0() | X86_CR0_WP);
	if (cpu_features.nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	if (cpu_features.pge)
		cr4 |= X86_CR4_PGE;
	if (cpu_features.smep)
		cr4 |= X86_CR4_SMEP;
	if (cpu_features.smap) {
		cr4 |= X86_CR4_SMAP;
		hv_smap_enabled = 1;
	}
	write_cr4(cr4);
	clac();
}
