/*
 * Minimal assertions for the host unit tests of link/ and libhvctl/: a failed CHECK prints
 * where and what, and the test exits 1 at the end of main (CHECK_DONE) or at once (REQUIRE).
 */
#ifndef HV_TESTS_CHECK_H
#define HV_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ != check_b_) {                                                        \
			fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n",          \
			        __FILE__, __LINE__, #a, #b, check_a_, check_b_);                   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, #cond);       \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define CHECK_DONE()                                                                               \
	do {                                                                                       \
		if (check_failures) {                                                              \
			fprintf(stderr, "%d check(s) failed\n", check_failures);                   \
			return 1;                                                                  \
		}                                                                                  \
		printf("all checks passed\n");                                                     \
		return 0;                                                                          \
	} while (0)

#endif
