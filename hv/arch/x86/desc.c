/*
 * Descriptor tables: the IDT (one, shared by all CPUs, written at boot) and each CPU's reserved
 * GDT page and TSS (see asm/desc.h for the selector layout).
 */
#include <hv/lib.h>
#include <hv/percpu.h>
#include <hv/arch.h>
#include <asm/desc.h>
#include <asm/processor.h>

struct idt_gate idt_table[256] __aligned(4096);

/* Encodes a flat code or data segment descriptor; @access is the P/DPL/S/type byte. */
#define SEG_CODE64(dpl) (0x00af9b000000ffffUL | ((uint64_t)(dpl) << 45))
#define SEG_CODE32(dpl) (0x00cf9b000000ffffUL | ((uint64_t)(dpl) << 45))
#define SEG_DATA(dpl)   (0x00cf93000000ffffUL | ((uint64_t)(dpl) << 45))

#define GDT_INDEX(sel) (((sel)-FIRST_RESERVED_GDT_BYTE) >> 3)

void idt_set_gate(unsigned int vector, void (*handler)(void), unsigned int dpl, unsigned int ist)
{
	uint64_t addr = (uint64_t)handler;
	struct idt_gate *g = &idt_table[vector];

	g->offset_lo = addr & 0xffff;
	g->selector = HV_CS;
	g->ist = ist & 7;
	g->type_attr = 0x80 | (dpl & 3) << 5 | 0xe; /* present, interrupt gate */
	g->offset_mid = (addr >> 16) & 0xffff;
	g->offset_hi = addr >> 32;
	g->reserved = 0;
}

/* Fills @pc's reserved GDT page and TSS (its stacks must be set already). */
static void gdt_fill(struct percpu *pc)
{
	uint64_t tss = (uint64_t)&pc->tss, limit = sizeof(pc->tss) - 1;

	memset(pc->gdt, 0, sizeof(pc->gdt));
	pc->gdt[GDT_INDEX(HV_CS)] = SEG_CODE64(0);
	pc->gdt[GDT_INDEX(HV_DS)] = SEG_DATA(0);
	pc->gdt[GDT_INDEX(HV_DS32)] = SEG_DATA(0);
	pc->gdt[GDT_INDEX(FLAT_RING3_CS32 & ~3)] = SEG_CODE32(3);
	pc->gdt[GDT_INDEX(FLAT_RING3_DS & ~3)] = SEG_DATA(3);
	pc->gdt[GDT_INDEX(FLAT_RING3_CS64 & ~3)] = SEG_CODE64(3);
	pc->gdt[GDT_INDEX(HV_CS32)] = SEG_CODE32(0);
	/* 64-bit available TSS: a 16-byte system descriptor. */
	pc->gdt[GDT_INDEX(TSS_SELECTOR)] = (limit & 0xffff) | ((tss & 0xffffff) << 16) |
	                                   (0x89UL << 40) | ((limit >> 16) & 0xf) << 48 |
	                                   ((tss >> 24) & 0xff) << 56;
	pc->gdt[GDT_INDEX(TSS_SELECTOR) + 1] = tss >> 32;
}

void load_cpu_tables(struct percpu *pc)
{
	struct desc_ptr gdtr = {
	    .limit = GDT_RESERVED_END - 1,
	    .base = (uint64_t)pc->gdt - FIRST_RESERVED_GDT_BYTE,
	};
	struct desc_ptr idtr = {.limit = sizeof(idt_table) - 1, .base = (uint64_t)idt_table};

	pc->tss.rsp0 = pc->stack_top;
	for (unsigned int i = 0; i < NR_IST; i++)
		pc->tss.ist[i] = pc->ist_stacks_base + (i + 1) * IST_STACK_SIZE;
	pc->tss.iomap_base = sizeof(pc->tss);
	gdt_fill(pc);

	__asm__ __volatile__("lgdt %0" ::"m"(gdtr));
	/* Reload CS with a far return, then the data segments. FS and GS stay as they are:
	 * loading them would clear the GS base that points at this struct. */
	__asm__ __volatile__("pushq %[cs]\n\t"
	                     "leaq 1f(%%rip), %%rax\n\t"
	                     "pushq %%rax\n\t"
	                     "lretq\n"
	                     "1:\n\t"
	                     "mov %[ds], %%eax\n\t"
	                     "mov %%eax, %%ds\n\t"
	                     "mov %%eax, %%es\n\t"
	                     "mov %%eax, %%ss\n\t"
	                     :
	                     : [cs] "i"(HV_CS), [ds] "i"(HV_DS)
	                     : "rax", "memory");
	__asm__ __volatile__("ltr %w0" ::"r"(TSS_SELECTOR));
	__asm__ __volatile__("lidt %0" ::"m"(idtr));
	__asm__ __volatile__("lldt %w0" ::"r"(0));
}

void traps_init(void)
{
	for (unsigned int v = 0; v < 256; v++) {
		unsigned int ist = 0;
		if (v == 2)
			ist = IST_NMI;
		else if (v == 8)
			ist = IST_DF;
		else if (v == 18)
			ist = IST_MC;
		idt_set_gate(v, entry_stubs[v], 0, ist);
	}
	load_cpu_tables(this_cpu());
}
