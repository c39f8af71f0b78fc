/*
 * Host-test stand-in for hv's ASSERT: report and abort (hosted), or trap (the freestanding
 * build check, which is compiled but never run).
 */
#ifndef SCHED_STUB_ASSERT_H
#define SCHED_STUB_ASSERT_H

#if __STDC_HOSTED__
#include <stdio.h>
#include <stdlib.h>
#define ASSERT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: ASSERT(%s) failed\n", __FILE__, __LINE__, #cond);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)
#else
#define ASSERT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)
#endif

#endif
