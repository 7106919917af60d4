/*
 * Burst pacing, as in the study: bursts of B packets, burst k due at
 * start + k * B / R seconds (an absolute schedule: no drift from sleep or send jitter).
 *
 * Catch-up limit: when the sender is more than one burst period late for burst k (it was
 * descheduled, or R is above what it can send), the schedule is re-anchored so that burst
 * k is due one period ago: k goes out now, k+1 right after it, k+2 one period later. So
 * after a stall the sender sends at most one extra burst back to back; the bursts it
 * missed are not made up (the offered rate of that second is lower, visible as tx_pps),
 * and each re-anchoring is counted in `sched_slips`.
 *
 * Waiting: gaps longer than PACE_SLEEP_MIN_NS (200 us) are slept with clock_nanosleep
 * (absolute, CLOCK_MONOTONIC, 1 ns timer slack) until PACE_WAKE_EARLY_NS (50 us) before
 * the target; the rest is a busy wait on clock_gettime (vDSO). --busy never sleeps.
 */
#ifndef ICPERF_PACE_H
#define ICPERF_PACE_H

#include <stdint.h>

#define PACE_SLEEP_MIN_NS 200000ULL
#define PACE_WAKE_EARLY_NS 50000ULL
/* Longest interval between bursts (31.7 years): B / R above it (R below B * 1e-9 pps) is cut
 * to it, so that due times stay inside the 64-bit nanosecond clock. */
#define PACE_MAX_INTERVAL_NS 1e18

struct pacer {
	int paced;
	double interval_ns;   /* B / R seconds, in ns */
	uint64_t anchor_t, anchor_k, k, slips;
};

void pacer_init(struct pacer *p, double rate, unsigned burst, uint64_t start_ns);

/* Due time of the next burst (p->k), after applying the catch-up limit at time now. */
uint64_t pacer_due(struct pacer *p, uint64_t now);

/* The burst p->k was sent. */
static inline void pacer_next(struct pacer *p)
{
	p->k++;
}

/* Sleep until shortly before target when the gap is long. Returns 1 when it slept (the
 * caller should re-read the clock), 0 when the gap is short (the caller busy-waits).
 * Signals interrupt the sleep. */
int pace_nap(uint64_t now, uint64_t target);

/* Reduce the timer slack of the thread so sleeps end on time. */
void pace_setup(void);

#endif
