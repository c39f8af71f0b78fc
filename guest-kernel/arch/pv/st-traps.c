/*
 * Self-tests of exception delivery and privileged-instruction emulation: int3, #UD, #PF with
 * CR2 in vcpu_info, #GP from an unknown MSR, CR3 reads, forced-emulation CPUID, and the trap
 * table hypercall with hostile arguments.
 */
#include "st.h"

/*
 * Probes: int3 (a trap) is bounced to our vector-3 handler with RIP after the instruction and
 * the interrupted kernel context shown with CS RPL 0.
 * Expected: one trap recorded, vector 3, RIP = the next instruction, CS = 0xe030.
 */
void st_int3(void)
{
	uint64_t count = pv_last_trap.count;
	unsigned long after;

	__asm__ __volatile__("lea 1f(%%rip), %0\n\t"
	                     "int3\n\t"
	                     "1:\n\t" EXTABLE(1b, 1b)
	                     : "=r"(after));
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 3);
	st_check(pv_last_trap.rip == after);
	st_check_rc(pv_last_trap.cs, FLAT_KERNEL_CS & ~3);
}

/*
 * Probes: a page fault on a write to an unmapped kernel address: the hypervisor stores the
 * address in vcpu_info.arch.cr2 and reports a kernel-mode write to a non-present page.
 * Expected: vector 14, CR2 = the address, error code 2 (W=1, P=0, U=0).
 */
void st_page_fault_cr2(void)
{
	uint64_t count = pv_last_trap.count;
	unsigned long va = (unsigned long)ST_UNMAPPED_PTR + 0x123;

	__asm__ __volatile__("1: movb $1, (%0)\n\t2:\n\t" EXTABLE(1b, 2b) : : "r"(va) : "memory");
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 14);
	st_check(pv_last_trap.cr2 == va);
	st_check(pv_vcpu()->arch.cr2 == va);
	st_check_rc(pv_last_trap.error_code, 2);
}

/*
 * Probes: rdmsr of an MSR that does not exist. RDMSR is privileged, so the hypervisor emulates
 * it and must inject #GP(0) for an unknown index.
 * Expected: vector 13 with error code 0 at the rdmsr.
 */
void st_rdmsr_unknown(void)
{
	uint64_t count = pv_last_trap.count;
	unsigned long at;
	uint32_t lo = 0, hi = 0;

	__asm__ __volatile__("lea 1f(%%rip), %0\n\t"
	                     "1: rdmsr\n\t"
	                     "2:\n\t" EXTABLE(1b, 2b)
	                     : "=&r"(at), "+a"(lo), "+d"(hi)
	                     : "c"(0x4b564dffU));
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 13);
	st_check_rc(pv_last_trap.error_code, 0);
	st_check(pv_last_trap.rip == at);
}

/*
 * Probes: `mov %cr3, reg` is emulated. Expected: the machine address of our kernel L4.
 */
void st_read_cr3(void)
{
	uint64_t count = pv_last_trap.count;
	unsigned long cr3;

	__asm__ __volatile__("mov %%cr3, %0" : "=r"(cr3));
	st_check(pv_last_trap.count == count);
	st_check(cr3 == pv_virt_to_maddr(pv_kernel_l4));
}

/*
 * Probes: CPUID through the forced-emulation prefix. Expected: leaf 0x40000000 carries the
 * signature "XenVMMXenVMM" and a maximum leaf of at least 0x40000002; leaf 0x40000001 is the
 * version xen_version reports; leaf 1 has the hypervisor bit (ECX bit 31).
 */
void st_cpuid_fep(void)
{
	uint32_t r[4];
	char sig[13];

	st_fep_cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = '\0';
	if (strcmp(sig, "XenVMMXenVMM") != 0)
		st_fail("signature '%s'", sig);
	st_check(r[0] >= 0x40000002);
	st_fep_cpuid(0x40000001, 0, r);
	st_check_rc(r[0], HYPERVISOR_xen_version(0, NULL));
	st_fep_cpuid(1, 0, r);
	st_check(r[2] & (1U << 31));
}

/*
 * Probes: the forced-emulation prefix followed by something other than CPUID is not emulated.
 * Expected: #UD (vector 6) at the prefix.
 */
void st_fep_not_cpuid(void)
{
	uint64_t count = pv_last_trap.count;
	unsigned long at;

	__asm__ __volatile__("lea 1f(%%rip), %0\n\t"
	                     "1: ud2a; .ascii \"xen\"; nop\n\t"
	                     "2:\n\t" EXTABLE(1b, 2b)
	                     : "=r"(at));
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 6);
	st_check(pv_last_trap.rip == at);
}

/*
 * Probes: set_trap_table with a non-canonical handler address.
 * Expected: -EINVAL; our table still works afterwards (a ud2 is still caught).
 */
void st_trap_table_noncanonical(void)
{
	static struct trap_info bad[2] = {
	    {.vector = 0x90, .flags = 0, .cs = FLAT_KERNEL_CS, .address = 0x8000000000000000UL},
	    {0},
	};
	uint64_t count = pv_last_trap.count;

	st_check_rc(HYPERVISOR_set_trap_table(bad), -XEN_EINVAL);
	__asm__ __volatile__("1: ud2\n\t2:\n\t" EXTABLE(1b, 2b));
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 6);
}

/*
 * Probes: the exception frame's saved RFLAGS.IF mirrors the upcall mask at the time of the
 * exception, and HYPERVISOR_iret restores the mask from it.
 * Expected: with events enabled, IF=1 in the frame and events enabled after the handler; with
 * events masked, IF=0 in the frame and still masked afterwards.
 */
void st_iret_restores_mask(void)
{
	unsigned long flags = pv_irq_save();

	pv_irq_restore(0);
	__asm__ __volatile__("1: ud2\n\t2:\n\t" EXTABLE(1b, 2b));
	st_check(pv_last_trap.rflags & 0x200);
	st_check_rc(pv_vcpu()->evtchn_upcall_mask, 0);
	pv_irq_save();
	__asm__ __volatile__("1: ud2\n\t2:\n\t" EXTABLE(1b, 2b));
	st_check(!(pv_last_trap.rflags & 0x200));
	st_check_rc(pv_vcpu()->evtchn_upcall_mask, 1);
	pv_irq_restore(flags);
}
