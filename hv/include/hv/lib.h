/*
 * What almost every hv file needs: klib (strings, printf, lists, bitops), printk, panic and
 * ASSERT. ASSERT is for hv's own invariants only, never for checking guest input: a guest
 * mistake gets an error code, not a panic.
 */
#ifndef HV_LIB_H
#define HV_LIB_H

#include <klib/compiler.h>
#include <klib/string.h>
#include <klib/printf.h>
#include <klib/list.h>
#include <klib/bitops.h>
#include <hv/printk.h>

struct cpu_user_regs;

/* Prints "PANIC on cpu N: <message>", a backtrace of the caller, and stops the machine (or
 * exits QEMU with on_panic=exit). Callable from any context, with or without locks held. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;
/* Same, with the register dump and backtrace of the trap frame @regs (NULL: the caller's). */
void panic_regs(const struct cpu_user_regs *regs, const char *fmt, ...) __printf(2, 3) __noreturn;

#define ASSERT(cond)                                                                               \
	do {                                                                                       \
		if (unlikely(!(cond)))                                                             \
			panic("assertion '%s' failed at %s:%d", #cond, __FILE__, __LINE__);        \
	} while (0)

#define BUG() panic("BUG at %s:%d", __FILE__, __LINE__)

#endif
