/*
 * Segment selectors, descriptor tables and the TSS.
 *
 * hv's GDT entries sit at Xen's reserved selectors (0xe000 and up) so that a PV guest sees the
 * selectors the Xen ABI promises (FLAT_RING3_CS64 = 0xe033, FLAT_RING3_SS64 = 0xe02b) and the
 * SYSCALL/SYSRET pairs fit: STAR[47:32] = HV_CS (SYSCALL CS, SS = HV_CS + 8 = HV_DS) and
 * STAR[63:48] = FLAT_RING3_CS32 (SYSRET 64-bit CS = +16 = 0xe033, SS = +8 = 0xe02b).
 *
 * Each CPU has one 4 KiB "reserved GDT page" holding those entries; GDTR points 0xe000 bytes
 * below it, so entries 0..0x1bff (the guest's own GDT frames, installed later by the PV layer)
 * come before it. While no guest GDT is mapped, selectors below 0xe000 must not be loaded.
 */
#ifndef ASM_DESC_H
#define ASM_DESC_H

#define FIRST_RESERVED_GDT_BYTE 0xe000
#define HV_CS                   0xe008 /* 64-bit ring-0 code */
#define HV_DS                   0xe010 /* ring-0 data (flat) */
#define HV_DS32                 0xe018
#define FLAT_RING3_CS32         0xe023
#define FLAT_RING3_DS           0xe02b /* also FLAT_RING3_SS64 */
#define FLAT_RING3_CS64         0xe033
#define HV_CS32                 0xe038
#define TSS_SELECTOR            0xe040 /* 16-byte system descriptor */
#define LDT_SELECTOR            0xe050 /* 16-byte system descriptor, empty until the PV layer sets it */
#define GDT_RESERVED_END        0xe060 /* one past the last byte used */

/* IST slots (1-based, as in the IDT gate). */
#define IST_NMI 1
#define IST_DF  2
#define IST_MC  3
#define NR_IST  3

#ifndef __ASSEMBLER__
#include <klib/compiler.h>

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp0; /* stack for entries from ring 3 */
	uint64_t rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7]; /* ist[0] is IST slot 1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base; /* beyond the limit: no I/O bitmap, all ports denied to ring 3 */
} __packed;

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

extern struct idt_gate idt_table[256];

/*
 * Installs an interrupt gate (IF cleared on entry) for @vector pointing at @handler, callable
 * from rings <= @dpl by INT n, running on IST slot @ist (0: none). The caller makes sure no CPU
 * can take @vector while the gate changes (boot, or the vector is not in use yet).
 */
void idt_set_gate(unsigned int vector, void (*handler)(void), unsigned int dpl, unsigned int ist);

/* The entry stub for @vector (entry.S), for callers that want to re-point a gate. */
extern void (*const entry_stubs[256])(void);

/* Loads this CPU's GDT (with TSS and data segment reloads) and the IDT. */
struct percpu;
void load_cpu_tables(struct percpu *pc);
#endif

#endif
