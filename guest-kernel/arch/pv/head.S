/*
 * Entry point of the PV kernel and its Xen ELF notes.
 *
 * The domain builder enters at _start in guest kernel mode with RSI = start_info (a virtual
 * address), RSP on a one-page boot stack, events masked. We clear BSS (the builder already
 * zeroes it; a native boot will not), move to our own stack and call pv_start(start_info).
 */
#include <public/xen.h>
#include <public/elfnote.h>

#define VIRT_BASE 0xffffffff80000000

	/* One note: namesz, descsz, type, "Xen", then the descriptor, each padded to 4 bytes. */
	.macro ELFNOTE_BEGIN type
	.pushsection .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f
	.long 4f - 3f
	.long \type
1:	.asciz "Xen"
2:	.balign 4
3:
	.endm
	.macro ELFNOTE_END
4:	.balign 4
	.popsection
	.endm
	.macro ELFNOTE_STR type, str
	ELFNOTE_BEGIN \type
	.asciz "\str"
	ELFNOTE_END
	.endm
	.macro ELFNOTE_QUAD type, value
	ELFNOTE_BEGIN \type
	.quad \value
	ELFNOTE_END
	.endm

	ELFNOTE_STR XEN_ELFNOTE_GUEST_OS, "hvguest"
	ELFNOTE_STR XEN_ELFNOTE_GUEST_VERSION, "0.1"
	ELFNOTE_STR XEN_ELFNOTE_XEN_VERSION, "xen-3.0"
	ELFNOTE_STR XEN_ELFNOTE_LOADER, "generic"
	ELFNOTE_QUAD XEN_ELFNOTE_VIRT_BASE, VIRT_BASE
	ELFNOTE_QUAD XEN_ELFNOTE_PADDR_OFFSET, 0
	ELFNOTE_QUAD XEN_ELFNOTE_ENTRY, _start
	ELFNOTE_QUAD XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page
	ELFNOTE_STR XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb"

	.section .text.head, "ax"
	.code64
	.globl _start
_start:
	cld
	mov	%rsi, %r12			/* start_info */
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb
	lea	boot_stack_top(%rip), %rsp
	xor	%ebp, %ebp
	mov	%r12, %rdi
	call	pv_start
	ud2

/*
 * The hypercall page: the builder overwrites it with 128 stubs of 32 bytes when it honours the
 * note. We never need it (hypercalls are issued inline); a self-test checks it was filled.
 */
	.section .data.hypercall_page, "aw"
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.fill 4096, 1, 0xc3

	.section .bss.stack, "aw", @nobits
	.balign 4096
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:
	/* Kernel stack for user->kernel transitions, registered with stack_switch. */
	.balign 4096
	.skip 16384
	.globl pv_kernel_stack_top
pv_kernel_stack_top:
