/*
 * The guest kernel's common declarations: console output, panic, the timer tick and the kernel's
 * entry from a platform. Platform-independent code includes this and platform.h only.
 */
#ifndef GK_KERNEL_H
#define GK_KERNEL_H

#include <klib/compiler.h>
#include <stdarg.h>

#define KERNEL_NAME    "hvguest"
#define KERNEL_VERSION "0.1"

/* Print a formatted message on the platform console (whole lines are written at once). */
int printk(const char *fmt, ...) __printf(1, 2);
int vprintk(const char *fmt, va_list ap);

/* Report an internal inconsistency and stop the machine (shutdown reason: crash). */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

/* Called by the platform for every timer interrupt (events masked). */
void kernel_timer_tick(void);
extern volatile uint64_t kernel_ticks;

/* Every entry from user mode (kernel/proc.c); see there. Returns 1 when the platform may use
 * its fast system-call return. f is updated to the frame to resume. */
struct trap_frame;
int kernel_user_trap(struct trap_frame *f, int kind, uint64_t cr2);

/* Pages the page allocator had when processes started (for `free`). */
extern uint64_t kernel_total_pages;

/* Entry of platform-independent code, once the platform is up. Never returns. */
__noreturn void kernel_main(void);

/* Find `key` or `key=value` in a space-separated command line; returns the value (or "" for a
 * bare key) in buf, or -1 if absent. */
int cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);

#endif
