#include <errno.h>
#include <sys/prctl.h>
#include <time.h>

#include "clock.h"
#include "pace.h"

void pacer_init(struct pacer *p, double rate, unsigned burst, uint64_t start_ns)
{
	p->paced = rate > 0.0;
	p->interval_ns = p->paced ? (double)burst * 1e9 / rate : 0.0;
	/* with a longer (or infinite) interval, (k - anchor_k) * interval_ns leaves the range of
	 * uint64_t (or is NaN for k = 0): undefined conversions, which sent the bursts back to
	 * back or none at all. Cut, the first burst goes at the start, the next after any run. */
	if (p->interval_ns > PACE_MAX_INTERVAL_NS)
		p->interval_ns = PACE_MAX_INTERVAL_NS;
	p->anchor_t = start_ns;
	p->anchor_k = 0;
	p->k = 0;
	p->slips = 0;
}

uint64_t pacer_due(struct pacer *p, uint64_t now)
{
	uint64_t due;

	if (!p->paced)
		return 0;
	due = p->anchor_t + (uint64_t)((double)(p->k - p->anchor_k) * p->interval_ns);
	if (now > due && (double)(now - due) > p->interval_ns) {
		p->anchor_t = now - (uint64_t)p->interval_ns;
		p->anchor_k = p->k;
		p->slips++;
		due = p->anchor_t;
	}
	return due;
}

int pace_nap(uint64_t now, uint64_t target)
{
	struct timespec ts;
	uint64_t wake;

	if (target <= now || target - now <= PACE_SLEEP_MIN_NS)
		return 0;
	wake = target - PACE_WAKE_EARLY_NS;
	ts.tv_sec = (time_t)(wake / NS_PER_S);
	ts.tv_nsec = (long)(wake % NS_PER_S);
	/* EINTR (a signal) simply ends the nap; the caller checks its stop flag */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	return 1;
}

void pace_setup(void)
{
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}
