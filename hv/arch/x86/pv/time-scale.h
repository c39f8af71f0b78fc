/*
 * The arithmetic of guest time, shared by hv (time-pv.c) and its unit test: the TSC scale a
 * guest extrapolates with (reference §6.1, as Xen's set_time_scale computes it) and the
 * calendar conversion for the wallclock read from the CMOS RTC.
 */
#ifndef HV_PV_TIME_SCALE_H
#define HV_PV_TIME_SCALE_H

#include <stdint.h>

/*
 * mul and shift such that ns = ((ticks shifted by shift) * mul) >> 32 for a TSC of hz:
 * hz is halved (shift--) while above 2 GHz and doubled (shift++) while at most 1 GHz, so
 * mul = 10^9 * 2^32 / hz lies in [2^31, 2^32).
 */
static inline void pv_time_scale(uint64_t hz, uint32_t *mul, int8_t *shift)
{
	int8_t s = 0;

	while (hz > 2000000000ULL) {
		hz >>= 1;
		s--;
	}
	while (hz <= 1000000000ULL) {
		hz <<= 1;
		s++;
	}
	*mul = (uint32_t)((1000000000ULL << 32) / hz);
	*shift = s;
}

/* Ticks to ns with that scale; the 128-bit product keeps large deltas exact. */
static inline uint64_t pv_scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift >= 0)
		delta <<= shift;
	else
		delta >>= -shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (m 1-12, d 1-31). */
static inline int64_t pv_days_from_civil(int y, unsigned int m, unsigned int d)
{
	int era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

#endif
