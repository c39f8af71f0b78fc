/*
 * Entry of every user program: the kernel starts it with RDI = argc, RSI = argv and a 16-byte
 * aligned stack. Also the signal restorer, where a handler returns to.
 */
#include <uapi.h>

	.section .text.start, "ax"
	.globl _start
_start:
	xor	%ebp, %ebp
	call	user_main
	mov	%eax, %edi
	call	exit
	ud2

	.text
	.globl sig_restorer
sig_restorer:
	mov	$SYS_sigreturn, %eax
	syscall
	ud2
	.section .note.GNU-stack, "", @progbits
