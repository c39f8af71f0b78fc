/*
 * hv's first instructions, on the boot CPU.
 *
 * Both loaders enter start32 in 32-bit protected mode with paging off, flat segments, EAX the
 * multiboot magic and EBX the physical address of the information block:
 *   - QEMU -kernel reads the multiboot1 header below; it refuses 64-bit ELF files, so the header
 *     carries the a.out-kludge address fields and QEMU loads the file as a flat image;
 *   - GRUB reads the multiboot2 header, loads the ELF segments at their physical addresses and
 *     jumps to the entry-address tag.
 * start32 reads the TSC (hv's time zero), builds the boot page tables, enters long mode and jumps
 * to start64 in the high image, which calls start_hv(magic, info) on the boot stack.
 *
 * Boot page tables (all in the image, so below 4 GiB, as 32-bit code needs):
 *   L4[0]   low identity: physical 0..1 GiB (needed until the jump high; also used by the AP
 *           trampoline), 2 MiB pages
 *   L4[261] hv image slot: physical 0..1 GiB at HV_VIRT_START, 2 MiB pages
 *   L4[262] direct map: physical 0..4 GiB at DIRECTMAP_VIRT_START, 2 MiB pages
 * paging_init() later replaces the image and direct-map parts and drops the low identity.
 */
#include <hv/layout.h>
#include <asm/processor.h>
#include <asm/paging.h>

#define PA(x) ((x) - HV_VIRT_START)

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00010003 /* page-aligned modules, memory info, address fields valid */

#define MB2_MAGIC 0xe85250d6

	.section .text.head, "ax", @progbits
	.code32

	/* Multiboot1 header: within the first 8 KiB of the file, 4-byte aligned. */
	.balign 8
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long PA(mb1_header)            /* header_addr */
	.long PA(__image_start)         /* load_addr */
	.long PA(__data_end)            /* load_end_addr */
	.long PA(__bss_end)             /* bss_end_addr */
	.long PA(start32)               /* entry_addr */

	/* Multiboot2 header: within the first 32 KiB, 8-byte aligned, tags 8-byte aligned. */
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long 0                         /* architecture: i386 protected mode */
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
	/* entry address tag */
	.balign 8
	.short 3, 0
	.long 12
	.long PA(start32)
	/* module alignment tag: modules page-aligned */
	.balign 8
	.short 6, 0
	.long 8
	/* end tag */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

	.globl start32
start32:
	mov %eax, %edi                  /* magic, first argument of start_hv */
	mov %ebx, %esi                  /* info, second argument */
	rdtsc
	mov %eax, PA(boot_tsc)
	mov %edx, PA(boot_tsc) + 4
	cli
	cld
	mov $PA(boot_stack_top), %esp

	/* Zero .bss (loaders do it too, but the spec does not promise it for the a.out kludge). */
	mov %edi, %ebp                  /* the stack is in .bss: keep the magic in a register */
	mov $PA(__bss_start), %edi
	mov $PA(__bss_end), %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl
	mov %ebp, %edi

	/* 2048 2 MiB entries: physical 0..4 GiB. */
	mov $PA(boot_l2), %ebx
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $(_PAGE_PRESENT | _PAGE_RW | _PAGE_PSE | _PAGE_ACCESSED | _PAGE_DIRTY), %eax
	mov %eax, (%ebx, %ecx, 8)
	movl $0, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 1b

	/* Direct-map L3: four entries, one per 1 GiB of L2 tables. */
	mov $PA(boot_l3_dmap), %ebx
	mov $PA(boot_l2) + PAGE_TABLE, %eax
	mov %eax, 0(%ebx)
	add $4096, %eax
	mov %eax, 8(%ebx)
	add $4096, %eax
	mov %eax, 16(%ebx)
	add $4096, %eax
	mov %eax, 24(%ebx)

	/* Identity and image slots share the first L2 table (physical 0..1 GiB). */
	movl $PA(boot_l2) + PAGE_TABLE, PA(boot_l3_ident)
	movl $PA(boot_l2) + PAGE_TABLE, PA(boot_l3_image) + (((HV_VIRT_START >> 30) & 511) * 8)

	movl $PA(boot_l3_ident) + PAGE_TABLE, PA(idle_pg_table)
	movl $PA(boot_l3_image) + PAGE_TABLE, PA(idle_pg_table) + (((HV_VIRT_START >> 39) & 511) * 8)
	movl $PA(boot_l3_dmap) + PAGE_TABLE, PA(idle_pg_table) + (((DIRECTMAP_VIRT_START >> 39) & 511) * 8)

	/* Long mode: PAE, page table, EFER.LME, then paging. */
	mov %cr4, %eax
	or $X86_CR4_PAE, %eax
	mov %eax, %cr4
	mov $PA(idle_pg_table), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(X86_CR0_PG | X86_CR0_WP | X86_CR0_PE), %eax
	mov %eax, %cr0

	lgdt PA(boot_gdt_ptr)
	ljmp $0x08, $PA(start64_low)

	.code64
start64_low:
	movabs $start64, %rax
	jmp *%rax

	.text
start64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	/* Reload GDTR with its high address: the low identity map goes away later. */
	movabs $boot_gdt_ptr_high, %rax
	lgdt (%rax)
	movabs $boot_stack_top, %rsp
	mov %edi, %edi                  /* the upper halves are undefined after the mode switch */
	mov %esi, %esi
	xor %ebp, %ebp                  /* end of the backtrace chain */
	call start_hv
	ud2

	.section .rodata
	/* Boot GDT: 0x08 64-bit code, 0x10 data. Also used by the AP trampoline's long-mode jump. */
	.balign 16
	.globl boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9b000000ffff
	.quad 0x00cf93000000ffff
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long PA(boot_gdt)
	.balign 8
boot_gdt_ptr_high:
	.short boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.data
	.balign 8
	.globl boot_tsc
boot_tsc:
	.quad 0

	.section .bss.page_aligned, "aw", @nobits
	.balign 4096
	.globl idle_pg_table
idle_pg_table:
	.skip 4096
	.globl boot_l3_ident
boot_l3_ident:
	.skip 4096
	.globl boot_l3_image
boot_l3_image:
	.skip 4096
boot_l3_dmap:
	.skip 4096
	.globl boot_l2
boot_l2:
	.skip 4096 * 4
	.globl boot_stack
boot_stack:
	.skip STACK_SIZE
	.globl boot_stack_top
boot_stack_top:
