/*
 * Log-linear latency histogram over nanoseconds (HDR-like).
 *
 * Values below 256 ns have one bucket per nanosecond (exact). Above, each power-of-two
 * range [2^e, 2^(e+1)) is split into 128 equal buckets of width 2^(e-7), so a bucket is at
 * most 1/128 of its lower bound wide. A percentile is reported as the middle of its bucket
 * (clamped to the exact min and max), so its relative error is at most 1/256 = 0.39 %
 * (well under the 1 % required). Range: 0 .. 2^34 ns (17.2 s, covering 10 ns .. 10 s);
 * larger values land in the last bucket and are counted in `clamped`. min, max and mean are
 * exact. Memory: 3584 buckets * 8 bytes = 28 KiB.
 */
#ifndef ICPERF_HIST_H
#define ICPERF_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7                       /* 128 buckets per power of two */
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_LINEAR (2u * HIST_SUB)           /* 0..255 ns: exact */
#define HIST_MAX_EXP 34                       /* values < 2^34 ns */
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_EXP - HIST_SUB_BITS - 1) * HIST_SUB)

struct hist {
	uint64_t count, sum, min, max, clamped;
	uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);

static inline unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_LINEAR)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* 2^e <= v, e >= 8 */
	if (e >= HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	return HIST_LINEAR + (e - HIST_SUB_BITS - 1) * HIST_SUB +
	       (unsigned)((v >> (e - HIST_SUB_BITS)) - HIST_SUB);
}

static inline void hist_add(struct hist *h, uint64_t v)
{
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	if (v >> HIST_MAX_EXP)
		h->clamped++;
	h->count++;
	h->sum += v;
	h->b[hist_index(v)]++;
}

/* Lowest value of bucket i and its width. */
void hist_bucket(unsigned i, uint64_t *lo, uint64_t *width);

/* Value (ns) at percentile p (0 < p <= 100): the middle of the bucket holding the sample of
 * rank ceil(p/100 * count), clamped to [min, max]. 0 when empty. */
double hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);

#endif
