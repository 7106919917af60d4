#include <string.h>

#include "seq.h"

#define MASK (SEQ_WINDOW - 1)

static inline void bit_set(struct seqtrack *s, uint64_t n)
{
	s->bits[(n & MASK) >> 6] |= 1ULL << (n & 63);
}

static inline void bit_clear(struct seqtrack *s, uint64_t n)
{
	s->bits[(n & MASK) >> 6] &= ~(1ULL << (n & 63));
}

static inline int bit_test(const struct seqtrack *s, uint64_t n)
{
	return (int)((s->bits[(n & MASK) >> 6] >> (n & 63)) & 1);
}

void seq_init(struct seqtrack *s)
{
	memset(s, 0, sizeof(*s));
}

void seq_add(struct seqtrack *s, uint64_t seq)
{
	if (!s->any) {
		s->any = 1;
		s->first = s->max = seq;
		bit_set(s, seq);
		s->distinct = 1;
		return;
	}
	if (seq > s->max) {
		uint64_t gap = seq - s->max;

		if (gap >= SEQ_WINDOW) {
			memset(s->bits, 0, sizeof(s->bits));
		} else {
			/* numbers max+1 .. seq-1 enter the window as "not seen" */
			for (uint64_t n = s->max + 1; n < seq; n++)
				bit_clear(s, n);
		}
		bit_set(s, seq);
		s->max = seq;
		s->distinct++;
		return;
	}
	if (s->max - seq < SEQ_WINDOW) {
		if (bit_test(s, seq)) {
			s->duplicated++;
			return;
		}
		bit_set(s, seq);
	}
	s->reordered++;
	s->distinct++;
}

uint64_t seq_lost(const struct seqtrack *s)
{
	if (!s->any || s->distinct > s->max + 1)
		return 0;
	return s->max + 1 - s->distinct;
}
