/*
 * Host unit test of guest-time arithmetic (hv/arch/x86/pv/time-scale.h): the TSC scale of
 * vcpu_time_info for TSC frequencies from 1 MHz to 10 GHz, and the RTC calendar conversion.
 */
#include "fake-frames.h"
#include "time-scale.h"

/* mul in [2^31, 2^32); one second of ticks is 10^9 ns within 1 ppm; a day stays exact-ish. */
static void scale(void)
{
	static const uint64_t hz[] = {1000000ull,    100000000ull,  999999999ull,  1000000000ull,
	                              1000000001ull, 2000000000ull, 2793627000ull, 3673560000ull,
	                              5000000000ull, 10000000000ull};

	for (unsigned int i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		uint32_t mul;
		int8_t shift;
		uint64_t ns;

		pv_time_scale(hz[i], &mul, &shift);
		CHECK(mul >= (1u << 31));
		ns = pv_scale_delta(hz[i], mul, shift);
		CHECK(ns >= 999999000ull && ns <= 1000001000ull);
		ns = pv_scale_delta(hz[i] * 86400, mul, shift); /* one day: no overflow */
		CHECK(ns / 1000000000ull >= 86399 && ns / 1000000000ull <= 86401);
		/* Monotonic: one more tick never goes back. */
		CHECK(pv_scale_delta(hz[i] + 1, mul, shift) >= pv_scale_delta(hz[i], mul, shift));
	}
}

/* Known dates against the Unix epoch. */
static void calendar(void)
{
	CHECK_EQ(pv_days_from_civil(1970, 1, 1), 0);
	CHECK_EQ(pv_days_from_civil(1999, 12, 31), 10956);
	CHECK_EQ(pv_days_from_civil(2000, 3, 1), 11017);
	CHECK_EQ(pv_days_from_civil(2026, 11, 26), 20783);
	CHECK_EQ(pv_days_from_civil(2038, 1, 19), 24855);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"scale", scale},
	    {"calendar", calendar},
	};
	return run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
