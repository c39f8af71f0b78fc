/* The user programs (guest-kernel/user/userland.elf), linked into the kernel image. */
	.section .rodata.userland, "a"
	.balign 4096
	.globl userland_elf_start, userland_elf_end
userland_elf_start:
	.incbin "guest-kernel/user/userland.elf"
userland_elf_end:
	.section .note.GNU-stack, "", @progbits
