/*
 * Emulation of what a PV guest kernel cannot do itself at CPL 3: forced-emulation CPUID
 * (`ud2; .ascii "xen"; cpuid`) with the Xen leaves and the PV feature policy, RDMSR/WRMSR of
 * the few MSRs a PV kernel touches, moves to and from control registers, port I/O within the
 * virtual IOPL, and software interrupts (`int n`), which reach hv as #GP.
 *
 * The vector of `int n` is taken from the instruction bytes at RIP, not from the #GP error
 * code: QEMU 7.2's TCG reports n*16+2 instead of n*8+2 (reference §2.4).
 */
#include <asm/processor.h>
#include <asm/traps.h>

#include <hv/time.h>

#include "guest-access.h"
#include "mm.h"
#include "pv.h"
#include "regs-util.h"

#define XEN_CPUID_BASE 0x40000000u
#define PV_PAT         0x0000050100070406ull

#define MSR_TSC         0x10
#define MSR_PAT         0x277
#define MSR_MISC_ENABLE 0x1a0
#define MSR_PLATFORM_ID 0x17
#define MSR_DEBUGCTL    0x1d9

/* The instruction bytes at the guest RIP (up to 15; fewer at the end of a mapping). */
bool pv_fetch_insn(struct cpu_user_regs *regs, uint8_t *buf, size_t *len)
{
	size_t n;

	if (copy_from_guest(buf, regs->rip, 15) == 0) {
		*len = 15;
		return true;
	}
	for (n = 0; n < 15; n++)
		if (copy_from_guest(buf + n, regs->rip + n, 1))
			break;
	*len = n;
	return n > 0;
}

/* --- CPUID ---------------------------------------------------------------------------- */

static void pv_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	uint32_t max;

	if (leaf >= XEN_CPUID_BASE && leaf < XEN_CPUID_BASE + 0x100) {
		r[0] = r[1] = r[2] = r[3] = 0;
		switch (leaf - XEN_CPUID_BASE) {
		case 0:
			r[0] = XEN_CPUID_BASE + 5;
			r[1] = 0x566e6558; /* "XenVMMXenVMM" */
			r[2] = 0x65584d4d;
			r[3] = 0x4d4d566e;
			break;
		case 1:
			r[0] = (4 << 16) | 17;
			break;
		case 2:
			r[0] = 1;              /* hypercall pages */
			r[1] = XEN_CPUID_BASE; /* MSR base */
			r[2] = 1;              /* MMU_PT_UPDATE_PRESERVE_AD */
			break;
		case 3:
			if (sub == 0)
				r[2] = (uint32_t)tsc_khz;
			break;
		case 5:
			r[1] = 52; /* machine address width */
			break;
		}
		return;
	}
	cpuid(leaf & 0x80000000u, &max, &r[1], &r[2], &r[3]);
	if (leaf > max) {
		r[0] = r[1] = r[2] = r[3] = 0;
		return;
	}
	cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
	switch (leaf) {
	case 1:
		/* ECX: no MONITOR, DS-CPL, VMX, SMX, EST, TM2, PCID, x2APIC, TSC-deadline;
		 * OSXSAVE as the real CR4 says; the hypervisor bit. */
		r[2] &= ~((1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) |
		          (1u << 17) | (1u << 21) | (1u << 24) | (1u << 27));
		if (read_cr4() & (1UL << 18))
			r[2] |= 1u << 27;
		r[2] |= 1u << 31;
		/* EDX: no VME, PSE, MCE, APIC, MTRR, PGE, MCA, PSE36, DS, ACPI, TM, PBE (machine
		 * checks are hv's: Linux would poll the MCA banks' MSRs). */
		r[3] &=
		    ~((1u << 1) | (1u << 3) | (1u << 7) | (1u << 9) | (1u << 12) | (1u << 13) |
		      (1u << 14) | (1u << 17) | (1u << 21) | (1u << 22) | (1u << 29) | (1u << 31));
		break;
	case 7:
		if (sub == 0) {
			/* EBX: no FSGSBASE, SMEP, INVPCID, MPX, SMAP; ECX: no UMIP, PKU,
			 * OSPKE, LA57. */
			r[1] &= ~((1u << 0) | (1u << 7) | (1u << 10) | (1u << 14) | (1u << 20));
			r[2] &= ~((1u << 2) | (1u << 3) | (1u << 4) | (1u << 16));
		}
		break;
	case 0x80000001:
		r[2] &= ~(1u << 2);  /* SVM */
		r[3] &= ~(1u << 26); /* 1 GiB pages: no superpages for PV */
		break;
	}
}

bool pv_emulate_ud(struct vcpu *v, struct cpu_user_regs *regs)
{
	static const uint8_t fep_cpuid[] = {0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2};
	uint8_t insn[16];
	size_t len;
	uint32_t r[4];

	if (!pv_fetch_insn(regs, insn, &len) || len < sizeof(fep_cpuid) ||
	    memcmp(insn, fep_cpuid, sizeof(fep_cpuid)) != 0)
		return false;
	pv_cpuid((uint32_t)regs->rax, (uint32_t)regs->rcx, r);
	regs->rax = r[0];
	regs->rbx = r[1];
	regs->rcx = r[2];
	regs->rdx = r[3];
	regs->rip += sizeof(fep_cpuid);
	return true;
}

/* --- MSRs ------------------------------------------------------------------------------ */

static bool canonical(uint64_t a)
{
	return ((int64_t)a >> 47) == 0 || ((int64_t)a >> 47) == -1;
}

static bool pv_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct pv_vcpu *p = pv(v);

	switch (msr) {
	case MSR_FS_BASE:
		*val = rdmsr(MSR_FS_BASE);
		return true;
	case MSR_GS_BASE:
		*val = rdmsr(MSR_KERNEL_GS_BASE); /* the guest's active GS base */
		return true;
	case MSR_KERNEL_GS_BASE:
		*val = p->kernel_mode ? p->gs_base_user : p->gs_base_kernel;
		return true;
	case MSR_EFER:
		*val = EFER_SCE | EFER_LME | (1UL << 10) | EFER_NXE;
		return true;
	case MSR_PAT:
		*val = PV_PAT;
		return true;
	case MSR_APIC_BASE:
		*val = 0xfee00000UL | (1UL << 11) | (v->vcpu_id == 0 ? (1UL << 8) : 0);
		return true;
	case MSR_MISC_ENABLE:
		*val = 1 | (1UL << 11) | (1UL << 12); /* fast strings; no BTS, no PEBS */
		return true;
	case MSR_TSC:
		*val = rdtsc();
		return true;
	case MSR_PLATFORM_ID:
	case MSR_DEBUGCTL: /* no branch tracing for PV guests */
		*val = 0;
		return true;
	}
	return false;
}

static bool pv_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct pv_vcpu *p = pv(v);

	switch (msr) {
	case MSR_FS_BASE:
		if (!canonical(val))
			return false;
		wrmsr(MSR_FS_BASE, val);
		p->fs_base = val;
		return true;
	case MSR_GS_BASE:
		if (!canonical(val))
			return false;
		wrmsr(MSR_KERNEL_GS_BASE, val);
		return true;
	case MSR_KERNEL_GS_BASE:
		if (!canonical(val))
			return false;
		if (p->kernel_mode)
			p->gs_base_user = val;
		else
			p->gs_base_kernel = val;
		return true;
	case MSR_PAT:
		return val == PV_PAT;
	case MSR_EFER: {
		uint64_t cur = EFER_SCE | EFER_LME | (1UL << 10) | EFER_NXE;
		return val == cur || val == (cur & ~(1UL << 10));
	}
	case MSR_MISC_ENABLE:
	case MSR_APIC_BASE:
		return true; /* ignored, as Xen does for PV */
	case MSR_DEBUGCTL:
		return val == 0;
	}
	return false;
}

/* --- debug registers ------------------------------------------------------------------ */

#define DR6_DEFAULT 0xffff0ff0UL
#define DR7_DEFAULT 0x400UL
#define DR7_GD      (1UL << 13)

static void write_hw_dr(unsigned int reg, uint64_t v)
{
	switch (reg) {
	case 0:
		__asm__ __volatile__("mov %0, %%dr0" ::"r"(v));
		break;
	case 1:
		__asm__ __volatile__("mov %0, %%dr1" ::"r"(v));
		break;
	case 2:
		__asm__ __volatile__("mov %0, %%dr2" ::"r"(v));
		break;
	case 3:
		__asm__ __volatile__("mov %0, %%dr3" ::"r"(v));
		break;
	case 7:
		__asm__ __volatile__("mov %0, %%dr7" ::"r"(v));
		break;
	}
}

/*
 * A guest's debug registers go to the hardware (one vCPU per CPU), checked first: addresses
 * must be guest addresses (an instruction breakpoint on hv's code would stop hv forever),
 * DR7 may not set general detect or reserved bits, and I/O breakpoints are not offered.
 */
long pv_set_debugreg(struct vcpu *v, unsigned int reg, uint64_t value)
{
	struct pv_vcpu *p = pv(v);

	switch (reg) {
	case 0:
	case 1:
	case 2:
	case 3:
		if (!guest_range_ok(value, 1))
			return -EPERM;
		p->dr[reg] = value;
		write_hw_dr(reg, value);
		return 0;
	case 4:
	case 6:
		if (value >> 32)
			return -EINVAL;
		p->dr[6] = (value & 0xe00fUL) | DR6_DEFAULT;
		return 0;
	case 5:
	case 7:
		if ((value >> 32) || (value & DR7_GD))
			return -EINVAL;
		for (unsigned int i = 0; i < 4; i++)
			if (((value >> (16 + 4 * i)) & 3) == 2 && (value & (3UL << (2 * i))))
				return -EPERM; /* an enabled I/O breakpoint */
		p->dr[7] = (value & 0xffff2fffUL) | DR7_DEFAULT;
		write_hw_dr(7, p->dr[7]);
		return 0;
	default:
		return -EINVAL;
	}
}

long pv_get_debugreg(struct vcpu *v, unsigned int reg, uint64_t *value)
{
	struct pv_vcpu *p = pv(v);

	if (reg > 7)
		return -ENODEV;
	if (reg == 4 || reg == 5)
		reg += 2;
	*value = p->dr[reg] ? p->dr[reg] : reg == 6 ? DR6_DEFAULT : reg == 7 ? DR7_DEFAULT : 0;
	return 0;
}

/* --- control registers, I/O, software interrupts ------------------------------------- */

static uint64_t virtual_cr0(struct vcpu *v)
{
	return 0x80050033UL | (pv(v)->fpu_ts ? 8 : 0); /* PG AM WP NE ET MP PE (+TS) */
}

static uint64_t virtual_cr4(void)
{
	return read_cr4() & ((1UL << 5) | (1UL << 6) | (1UL << 9) | (1UL << 10) | (1UL << 18));
}

/*
 * Ports hv keeps for itself: its console UART, QEMU's debug-exit port and the PIT (its
 * calibration clock, with the gate at 0x61). Everything else, PCI configuration space
 * (0xcf8-0xcff) and the ACPI PM1 block included (dom0 owns power management, as in Xen; hv
 * uses PM1 only for its own poweroff once dom0 is gone), is dom0's under its I/O privilege.
 */
static bool port_reserved(unsigned int port, unsigned int size)
{
	unsigned int end = port + size;

	return (end > 0x3f8 && port < 0x400) || (end > 0xf4 && port < 0xf8) ||
	       (end > 0x40 && port < 0x44) || (end > 0x61 && port < 0x62);
}

/*
 * Does the virtual IOPL cover the guest's privilege? The guest kernel counts as ring 1, or as
 * ring 0 with VMASST_TYPE_architectural_iopl; guest user as ring 3.
 */
static bool iopl_ok(struct vcpu *v)
{
	unsigned int cpl =
	    pv(v)->kernel_mode
	        ? ((v->domain->vm_assist & (1UL << VMASST_TYPE_architectural_iopl)) ? 0 : 1)
	        : 3;

	return pv(v)->iopl >= cpl;
}

/*
 * Port I/O within the virtual IOPL. Only the privileged domain reaches the ports; for any other
 * domain (and for hv's own ports) reads give all ones and writes are dropped, as Xen does for a
 * PV domU without I/O permissions: unmodified Linux sets IOPL 1 in every PV domain and probes
 * PCI configuration space (0xcf8/0xcfc) early in setup_arch; all ones means "no PCI there",
 * where a #GP would end its boot before the console is up.
 */
static void do_io(struct vcpu *v, struct cpu_user_regs *regs, bool in, unsigned int port,
                  unsigned int size)
{
	uint64_t mask = size == 4 ? 0xffffffffUL : size == 2 ? 0xffff : 0xff;

	if (!v->domain->is_privileged || port_reserved(port, size)) {
		if (in)
			regs->rax = (regs->rax & ~mask) | mask;
		return;
	}
	if (in) {
		uint64_t v = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
		if (size == 4)
			regs->rax = v;
		else
			regs->rax = (regs->rax & ~mask) | v;
	} else if (size == 1) {
		outb(port, (uint8_t)regs->rax);
	} else if (size == 2) {
		outw(port, (uint16_t)regs->rax);
	} else {
		outl(port, (uint32_t)regs->rax);
	}
}

/* `int n` (or int3): bounce to the guest's vector n if its DPL allows the caller. */
static bool soft_interrupt(struct vcpu *v, struct cpu_user_regs *regs, unsigned int vec,
                           unsigned int len)
{
	const struct trap_info *ti = &pv(v)->trap_ctxt[vec];
	unsigned int need = pv(v)->kernel_mode ? 1 : 3;

	if (!ti->address || (ti->flags & 3) < need) {
		pv_inject_trap(v, regs, X86_EXC_GP, true, (vec << 3) | 2);
		return true;
	}
	regs->rip += len;
	pv_bounce(v, regs, ti->address, ti->flags & 4, false, 0, "software interrupt");
	return true;
}

bool pv_emulate_gp(struct vcpu *v, struct cpu_user_regs *regs)
{
	struct pv_vcpu *p = pv(v);
	uint8_t b[16];
	size_t len, i = 0;
	unsigned int rex = 0, opsize = 4;
	uint64_t val;

	if (!pv_fetch_insn(regs, b, &len))
		return false;
	while (i < len &&
	       (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e ||
	        b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x36 || b[i] == 0x64 || b[i] == 0x65)) {
		if (b[i] == 0x66)
			opsize = 2;
		i++;
	}
	if (i < len && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i >= len)
		return false;

	switch (b[i]) {
	case 0xcd: /* int n */
		if (i + 1 >= len)
			return false;
		return soft_interrupt(v, regs, b[i + 1], i + 2);
	case 0xcc: /* int3 */
		return soft_interrupt(v, regs, X86_EXC_BP, i + 1);
	case 0xfa: /* cli */
	case 0xfb: /* sti: the real IF stays set; with the IOPL for it, both are no-ops (Xen) */
		if (!iopl_ok(v))
			return false;
		regs->rip += i + 1;
		return true;
	case 0xe4:
	case 0xe5:
	case 0xe6:
	case 0xe7: /* in/out imm8 */
	case 0xec:
	case 0xed:
	case 0xee:
	case 0xef: /* in/out %dx */
		if (!iopl_ok(v))
			return false;
		do_io(v, regs, !(b[i] & 2), (b[i] & 8) ? (uint16_t)regs->rdx : b[i + 1],
		      (b[i] & 1) ? opsize : 1);
		regs->rip += i + ((b[i] & 8) ? 1 : 2);
		return true;
	case 0x0f:
		break;
	default:
		return false;
	}
	if (!p->kernel_mode || i + 1 >= len)
		return false; /* everything below is for the guest kernel only */
	i++;
	switch (b[i]) {
	case 0x30: /* wrmsr */
		if (!pv_wrmsr(v, (uint32_t)regs->rcx, (regs->rdx << 32) | (uint32_t)regs->rax))
			return false;
		regs->rip += i + 1;
		return true;
	case 0x32: /* rdmsr */
		if (!pv_rdmsr(v, (uint32_t)regs->rcx, &val))
			return false;
		regs->rax = (uint32_t)val;
		regs->rdx = val >> 32;
		regs->rip += i + 1;
		return true;
	case 0x06: /* clts */
		p->fpu_ts = false;
		write_cr0(read_cr0() & ~8UL);
		regs->rip += i + 1;
		return true;
	case 0x09: /* wbinvd */
		regs->rip += i + 1;
		return true;
	case 0x21:   /* mov %drN, reg */
	case 0x23: { /* mov reg, %drN */
		unsigned int dr, reg;

		if (i + 1 >= len)
			return false;
		dr = (b[i + 1] >> 3) & 7;
		reg = (b[i + 1] & 7) | ((rex & 1) ? 8 : 0);
		if (b[i] == 0x21) {
			if (pv_get_debugreg(v, dr, &val))
				return false;
			*gpr_slot(regs, reg) = val;
		} else if (pv_set_debugreg(v, dr, *gpr_slot(regs, reg))) {
			return false;
		}
		regs->rip += i + 2;
		return true;
	}
	case 0x20:   /* mov %crN, reg */
	case 0x22: { /* mov reg, %crN */
		uint8_t modrm;
		unsigned int cr, reg;

		if (i + 1 >= len)
			return false;
		modrm = b[i + 1];
		cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
		reg = (modrm & 7) | ((rex & 1) ? 8 : 0);
		if (b[i] == 0x20) {
			switch (cr) {
			case 0:
				val = virtual_cr0(v);
				break;
			case 2:
				val = p->cr2;
				break;
			case 3:
				val = v->guest_table << 12;
				break;
			case 4:
				val = virtual_cr4();
				break;
			default:
				return false;
			}
			*gpr_slot(regs, reg) = val;
		} else {
			val = *gpr_slot(regs, reg);
			switch (cr) {
			case 0:
				if ((val ^ virtual_cr0(v)) & ~8UL)
					return false;
				p->fpu_ts = val & 8;
				write_cr0(p->fpu_ts ? read_cr0() | 8 : read_cr0() & ~8UL);
				break;
			case 2:
				p->cr2 = val;
				break;
			case 3: {
				int rc;

				pv_lock();
				rc = pv_new_baseptr(v, val >> 12, false);
				pv_unlock();
				if (rc)
					return false;
				write_cr3(pv_current_cr3(v));
				break;
			}
			case 4:
				break; /* the guest's view of CR4 is fixed */
			default:
				return false;
			}
		}
		regs->rip += i + 2;
		return true;
	}
	}
	return false;
}
