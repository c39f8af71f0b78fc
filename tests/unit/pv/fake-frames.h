/*
 * Fake machine memory for host unit tests of hv/arch/x86/pv: fake_nr_frames frames of RAM
 * (MFN 0 .. fake_nr_frames-1, frame metadata included); MFNs above are "I/O memory". Provides
 * the hooks mm.h declares, and records what hv would have done (frees, M2P writes).
 */
#ifndef TEST_FAKE_FRAMES_H
#define TEST_FAKE_FRAMES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm.h"

#define NR_FAKE_FRAMES_DEFAULT 64
#define HV_SLOT_MARK           0x0000000abc000063ull /* what the fake hv puts into L4 slots 256..271 */

extern uint64_t fake_nr_frames; /* set before run_cases to get more RAM */
extern uint64_t (*fake_mem)[512];
extern struct pv_frame *fake_frames;
extern uint64_t *fake_m2p;
extern int fake_frees;
extern struct domain *fake_domains[4];

void fake_reset(void);

/* Test bookkeeping: CHECK records a failure with the line and keeps going. */
extern int test_failures;
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			test_failures++;                                                           \
		}                                                                                  \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,      \
			        __LINE__, #a, _a, #b, _b);                                         \
			test_failures++;                                                           \
		}                                                                                  \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};
int run_cases(const struct test_case *cases, int n);

#endif
