/*
 * Host-test stand-in for hv's <hv/lib.h>: klib's compiler helpers and lists (the real ones),
 * snprintf from the C library (the same contract as klib's), and an ASSERT that reports and
 * aborts.
 */
#ifndef SCHED_STUB_HV_LIB_H
#define SCHED_STUB_HV_LIB_H

#include <stdio.h>
#include <stdlib.h>

#include <klib/compiler.h>
#include <klib/list.h>

#define ASSERT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: ASSERT(%s) failed\n", __FILE__, __LINE__, #cond);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
