/*
 * klib formatted output into a buffer. Supported: flags - 0 + space #, width and precision
 * (numbers or *), length modifiers hh h l ll z t j, conversions d i u o x X p s c %.
 * %p prints 0x followed by the address in lower-case hex (no padding, "0x0" for NULL).
 * Precision applies to %s (maximum bytes) and to integers (minimum digits), as in ISO C.
 * Both functions return the length the full output would have (not counting the NUL) and
 * always NUL-terminate when size > 0.
 */
#ifndef KLIB_PRINTF_H
#define KLIB_PRINTF_H

#include <stdarg.h>
#include <klib/compiler.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
