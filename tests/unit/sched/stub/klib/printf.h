/* Host-test stand-in for klib's printf.h: the C library's snprintf has the same contract. */
#ifndef SCHED_STUB_KLIB_PRINTF_H
#define SCHED_STUB_KLIB_PRINTF_H

#include <stddef.h>

#if __STDC_HOSTED__
#include <stdio.h>
#else
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

#endif
