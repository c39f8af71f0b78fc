/*
 * Console output. printk() formats with klib's vsnprintf and writes whole lines to the console
 * under the console lock, so lines from different CPUs never interleave. A message may start
 * with a level prefix (KERN_ERR ... KERN_DEBUG); messages above the `loglvl=` level are dropped.
 * Messages without a prefix are KERN_INFO.
 */
#ifndef HV_PRINTK_H
#define HV_PRINTK_H

#include <stdarg.h>
#include <klib/compiler.h>

#define KERN_ERR                                                                                   \
	"\001"                                                                                     \
	"0"
#define KERN_WARN                                                                                  \
	"\001"                                                                                     \
	"1"
#define KERN_INFO                                                                                  \
	"\001"                                                                                     \
	"2"
#define KERN_DEBUG                                                                                 \
	"\001"                                                                                     \
	"3"

enum loglevel { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

int printk(const char *fmt, ...) __printf(1, 2);
int vprintk(const char *fmt, va_list ap);

/* Sets up the console from the command line (console=, loglvl=). Before it, printk is silent. */
void console_init(void);

/*
 * Used only by the panic path: from now on printk ignores the console lock when the lock is held
 * by a CPU that will never release it (the panicking CPU itself or a stopped one).
 */
void console_force_unlock(void);

/* Raw output of a string to the console device, no lock, no level: for the panic path. */
void console_puts_raw(const char *s);

#endif
