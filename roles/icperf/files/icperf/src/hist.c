#include <math.h>
#include <string.h>

#include "hist.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hist_bucket(unsigned i, uint64_t *lo, uint64_t *width)
{
	unsigned e;

	if (i < HIST_LINEAR) {
		*lo = i;
		*width = 1;
		return;
	}
	i -= HIST_LINEAR;
	e = i / HIST_SUB + HIST_SUB_BITS + 1;
	*width = 1ULL << (e - HIST_SUB_BITS);
	*lo = (1ULL << e) + (uint64_t)(i % HIST_SUB) * *width;
}

double hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0, lo, width;
	double v;

	if (!h->count)
		return 0.0;
	if (p >= 100.0)
		return (double)h->max;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			hist_bucket(i, &lo, &width);
			v = (double)lo + (double)(width - 1) / 2.0;
			if (v < (double)h->min)
				v = (double)h->min;
			if (v > (double)h->max)
				v = (double)h->max;
			return v;
		}
	}
	return (double)h->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
