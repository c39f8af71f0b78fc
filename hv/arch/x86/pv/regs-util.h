/* General-register access by encoding number (0 = RAX ... 15 = R15) in a trap frame. */
#ifndef HV_PV_REGS_UTIL_H
#define HV_PV_REGS_UTIL_H

#include <asm/regs.h>

static inline uint64_t *gpr_slot(struct cpu_user_regs *r, unsigned int n)
{
	switch (n & 15) {
	case 0:
		return &r->rax;
	case 1:
		return &r->rcx;
	case 2:
		return &r->rdx;
	case 3:
		return &r->rbx;
	case 4:
		return &r->rsp;
	case 5:
		return &r->rbp;
	case 6:
		return &r->rsi;
	case 7:
		return &r->rdi;
	case 8:
		return &r->r8;
	case 9:
		return &r->r9;
	case 10:
		return &r->r10;
	case 11:
		return &r->r11;
	case 12:
		return &r->r12;
	case 13:
		return &r->r13;
	case 14:
		return &r->r14;
	default:
		return &r->r15;
	}
}

#endif
