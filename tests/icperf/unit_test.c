/*
 * Unit tests of icperf's histogram, sequence accounting, frame code and pacing. Built and run
 * by run_tests.sh:  cc -O2 -I$SRC/src unit_test.c $SRC/src/{hist,seq,frame,pace}.c -lm
 * Prints one "ok"/"FAIL" line per check and exits non-zero when one failed.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "frame.h"
#include "hist.h"
#include "pace.h"
#include "seq.h"

static int failed, passed;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (cond) {                                                                \
			passed++;                                                          \
		} else {                                                                   \
			failed++;                                                          \
			printf("FAIL unit: ");                                             \
			printf(__VA_ARGS__);                                               \
			printf("\n");                                                      \
		}                                                                          \
	} while (0)

static uint64_t rng = 88172645463325252ULL;
static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_hist(void)
{
	static struct hist h;
	enum { N = 200000 };
	static uint64_t v[N];
	double worst = 0;
	const double pcts[] = { 1, 10, 50, 90, 99, 99.9, 99.99 };

	/* every value from 10 ns to 10 s: its bucket middle is within 1 % (0.39 % designed) */
	for (uint64_t x = 10; x <= 10000000000ULL; x += x / 997 + 1) {
		uint64_t lo, w;
		unsigned i = hist_index(x);
		hist_bucket(i, &lo, &w);
		if (x < lo || x >= lo + w) {
			CHECK(0, "value %llu not in its bucket [%llu, +%llu)", (unsigned long long)x,
			      (unsigned long long)lo, (unsigned long long)w);
			return;
		}
		double mid = (double)lo + (double)(w - 1) / 2, err = fabs(mid - (double)x) / (double)x;
		if (err > worst)
			worst = err;
	}
	CHECK(worst <= 0.004, "histogram bucket relative error %.5f > 0.4 %%", worst);
	CHECK(hist_index(10000000000ULL) < HIST_BUCKETS - 1, "10 s must not be clamped");

	/* percentiles of a log-uniform sample against the exact order statistics */
	hist_init(&h);
	for (int i = 0; i < N; i++) {
		v[i] = (uint64_t)exp(log(10.0) + (double)(xorshift() % 1000000) / 1e6 * log(1e9));
		hist_add(&h, v[i]);
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		size_t rank = (size_t)ceil(pcts[k] / 100.0 * N);
		double exact = (double)v[rank - 1], got = hist_percentile(&h, pcts[k]);
		CHECK(fabs(got - exact) / exact <= 0.01, "p%g: histogram %.1f exact %.1f", pcts[k],
		      got, exact);
	}
	CHECK(h.min == v[0] && h.max == v[N - 1], "exact min/max");
	CHECK(hist_percentile(&h, 100) == (double)v[N - 1], "p100 = max");
	hist_init(&h);
	CHECK(hist_percentile(&h, 50) == 0 && hist_mean(&h) == 0, "empty histogram");
	hist_add(&h, 20000000000ULL);
	CHECK(h.clamped == 1 && hist_percentile(&h, 50) == 20000000000.0, "clamped value");
}

static void test_seq(void)
{
	static struct seqtrack s;
	uint64_t order[] = { 0, 1, 2, 5, 4, 4, 6, 3, 9, 9 };

	seq_init(&s);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		seq_add(&s, order[i]);
	/* seen 0..6 and 9: lost 7, 8; reordered 4 and 3; duplicated 4 and 9 */
	CHECK(s.duplicated == 2, "duplicated %llu != 2", (unsigned long long)s.duplicated);
	CHECK(s.reordered == 2, "reordered %llu != 2", (unsigned long long)s.reordered);
	CHECK(seq_lost(&s) == 2, "lost %llu != 2", (unsigned long long)seq_lost(&s));
	CHECK(s.first == 0 && s.max == 9, "first/max");

	/* in order from 0, one gap */
	seq_init(&s);
	for (uint64_t i = 0; i < 1000000; i++)
		if (i != 777)
			seq_add(&s, i);
	CHECK(seq_lost(&s) == 1 && !s.reordered && !s.duplicated, "one gap in 1e6");

	/* packets before the first arrival count as lost */
	seq_init(&s);
	seq_add(&s, 10);
	seq_add(&s, 11);
	CHECK(seq_lost(&s) == 10, "head loss %llu != 10", (unsigned long long)seq_lost(&s));

	/* a late arrival far beyond the window: reordered, not detectable as duplicate */
	seq_init(&s);
	seq_add(&s, 0);
	seq_add(&s, SEQ_WINDOW * 3);
	seq_add(&s, 0);
	CHECK(s.reordered == 1 && s.duplicated == 0, "beyond the window");
	/* a big jump clears the window: an old number inside the new window is not a dup */
	seq_init(&s);
	seq_add(&s, 5);
	seq_add(&s, 5 + SEQ_WINDOW + 10);
	seq_add(&s, 5 + SEQ_WINDOW);
	CHECK(s.duplicated == 0 && s.reordered == 1, "window cleared after a jump");
}

static void test_frame(void)
{
	uint8_t f[1500], g[1500];
	struct frame_addr a = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, { 0 }, { 0 }, 9000, 9001 };
	uint32_t off = 0, plen = 0;

	inet_pton(AF_INET, "198.18.0.1", &a.src_ip);
	inet_pton(AF_INET, "198.18.0.2", &a.dst_ip);
	frame_build(f, 64, &a);
	CHECK(inet_csum(f + 14, 20, 0) == 0, "IPv4 header checksum verifies");
	CHECK(frame_udp_payload(f, 64, 9001, &off, &plen) == 0 && off == 42 && plen == 22,
	      "parse 64 B frame: payload at 42, 22 bytes");
	CHECK(frame_udp_payload(f, 64, 9000, &off, &plen) == -1, "wrong port rejected");
	CHECK(frame_udp_payload(f, 40, 0, &off, &plen) == -1, "short frame rejected");
	CHECK(f[12] == 0x08 && f[13] == 0 && f[23] == 17 && f[16] == 0 && f[17] == 50,
	      "ethertype, protocol, IP total length");
	memcpy(g, f, 64);
	frame_reflect(g);
	CHECK(!memcmp(g, f + 6, 6) && !memcmp(g + 6, f, 6), "reflect swaps MACs");
	CHECK(!memcmp(g + 26, f + 30, 4) && !memcmp(g + 30, f + 26, 4), "reflect swaps IPs");
	CHECK(g[34] == f[36] && g[35] == f[37] && g[36] == f[34], "reflect swaps ports");
	CHECK(inet_csum(g + 14, 20, 0) == 0, "reflected IPv4 checksum verifies");
	frame_build(f, 1500, &a);
	payload_touch_write(f + 42, 1458, 12345);
	f[40] = 0;
	f[41] = 0;
	uint16_t c = udp4_csum(f + 14, f + 34, 1466);
	f[40] = (uint8_t)(c >> 8);
	f[41] = (uint8_t)c;
	CHECK(udp4_csum(f + 14, f + 34, 1466) == 0xffff, "UDP checksum verifies");
	uint8_t mac[6];
	CHECK(parse_mac("02:aB:03:04:05:ff", mac) == 0 && mac[1] == 0xab && mac[5] == 0xff,
	      "parse MAC");
	CHECK(parse_mac("02:ab:03:04:05", mac) == -1 && parse_mac("02:ab:03:04:05:06:07", mac) == -1,
	      "bad MACs rejected");
}

/* A sender on a simulated clock, as mode_send runs it: from now until end it sends a burst
 * whenever one is due, otherwise it waits exactly until the due time; a send takes send_ns.
 * *now is left where the run stopped. Returns the bursts sent; at most SIM_MAX_BURSTS, so
 * that a pacer that is always due with sends of 0 ns fails a check instead of hanging. */
#define SIM_MAX_BURSTS 10000000
static uint64_t sim_send(struct pacer *p, uint64_t *now, uint64_t end, uint64_t send_ns)
{
	uint64_t n = 0, due;

	while (*now < end && n < SIM_MAX_BURSTS) {
		due = pacer_due(p, *now);
		if (*now < due) {
			*now = due;
			continue;
		}
		n++;
		pacer_next(p);
		*now += send_ns;
	}
	return n;
}

/* bursts that go out at now without waiting (after a stall: the catch-up limit) */
static unsigned due_now(struct pacer *p, uint64_t now)
{
	unsigned n = 0;

	while (n < 1000 && pacer_due(p, now) <= now) {
		n++;
		pacer_next(p);
	}
	return n;
}

static void test_pace(void)
{
	const uint64_t t0 = 1000 * NS_PER_S; /* a CLOCK_MONOTONIC value some time after boot */
	struct pacer p;
	uint64_t now, n, due;

	/* bursts at t0 + k * B / R: 1000 pps in bursts of 10 = 100 bursts in a second, the
	 * first at the start, none at its end */
	pacer_init(&p, 1000, 10, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + NS_PER_S, 0);
	CHECK(p.paced && n == 100 && p.slips == 0,
	      "1000 pps burst 10, 1 s: %llu bursts, %llu slips", (unsigned long long)n,
	      (unsigned long long)p.slips);
	pacer_init(&p, 1e6, 32, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + NS_PER_S, 0);
	CHECK(n * 32 == 1000000 && p.slips == 0, "1 Mpps burst 32, 1 s: %llu packets",
	      (unsigned long long)(n * 32));
	/* 3 pps, 10.5 s: bursts at 0, 1/3, ..., 31/3 s */
	pacer_init(&p, 3, 1, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + 10 * NS_PER_S + NS_PER_S / 2, 0);
	CHECK(n == 32 && p.slips == 0, "3 pps, 10.5 s: %llu bursts", (unsigned long long)n);

	/* absolute schedule: burst k is due at t0 + k * B / R (to the ns), however many came
	 * before it: no drift */
	pacer_init(&p, 3, 1, t0);
	for (uint64_t k = 0; k <= 1000000; k++) {
		due = pacer_due(&p, t0);
		if (k == 1 || k == 1000 || k == 1000000) {
			uint64_t want = t0 + k * NS_PER_S / 3;
			CHECK(due + 1 >= want && due <= want + 1,
			      "3 pps: burst %llu due at +%llu ns, want +%llu", (unsigned long long)k,
			      (unsigned long long)(due - t0), (unsigned long long)(want - t0));
		}
		pacer_next(&p);
	}

	/* a send shorter than the interval keeps the schedule: 100 kpps, 7 us per send */
	pacer_init(&p, 100000, 1, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + NS_PER_S, 7 * NS_PER_US);
	CHECK(n == 100000 && p.slips == 0, "100 kpps, 7 us sends: %llu bursts, %llu slips",
	      (unsigned long long)n, (unsigned long long)p.slips);
	/* a sender slower than the rate sends at its own pace, re-anchoring each time: 100 kpps
	 * asked, 25 us per send = 40000 bursts in a second, not a burst more */
	pacer_init(&p, 100000, 1, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + NS_PER_S, 25 * NS_PER_US);
	CHECK(n == 40000 && p.slips == n - 1, "100 kpps, 25 us sends: %llu bursts, %llu slips",
	      (unsigned long long)n, (unsigned long long)p.slips);

	/* late by up to one interval: no re-anchoring, the burst is due at its time */
	pacer_init(&p, 1000, 1, t0);
	due = pacer_due(&p, t0 + NS_PER_MS);
	CHECK(due == t0 && p.slips == 0, "exactly one interval late: on schedule");
	due = pacer_due(&p, t0 + NS_PER_MS + 1);
	CHECK(due == t0 + 1 && p.slips == 1,
	      "more than one interval late: re-anchored one interval ago");

	/* the clock goes past several intervals (a stall of 5.5 ms at 1000 pps after 10 bursts):
	 * two bursts go out at once, the next one an interval later, the missed ones are not made
	 * up: 996 bursts in the second instead of 1000 */
	pacer_init(&p, 1000, 1, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + 10 * NS_PER_MS, 0);
	now = t0 + 15 * NS_PER_MS + NS_PER_MS / 2;
	unsigned at_once = due_now(&p, now);
	due = pacer_due(&p, now);
	CHECK(n == 10 && at_once == 2 && p.slips == 1 && due == now + NS_PER_MS,
	      "stall of 5.5 intervals: %u bursts at once, next due +%lld ns, %llu slips", at_once,
	      (long long)(due - now), (unsigned long long)p.slips);
	n += at_once + sim_send(&p, &now, t0 + NS_PER_S, 0);
	CHECK(n == 996 && p.slips == 1, "stall: %llu bursts in 1 s", (unsigned long long)n);
	/* stalls of 2, 10 and 100000 intervals: always two bursts at once, one slip each */
	pacer_init(&p, 1000, 1, t0);
	now = t0;
	const uint64_t stalls[] = { 2, 10, 100000 };
	for (size_t i = 0; i < sizeof(stalls) / sizeof(stalls[0]); i++) {
		now = pacer_due(&p, now) + stalls[i] * NS_PER_MS;
		at_once = due_now(&p, now);
		CHECK(at_once == 2 && p.slips == i + 1,
		      "stall of %llu intervals: %u bursts at once", (unsigned long long)stalls[i],
		      at_once);
	}

	/* rate 0 = unpaced: every burst is due at once, whatever the clock says */
	pacer_init(&p, 0, 32, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + NS_PER_S, NS_PER_US);
	CHECK(!p.paced && pacer_due(&p, 0) == 0 && n == 1000000 && p.slips == 0,
	      "rate 0: unpaced, %llu bursts of 1 us in 1 s", (unsigned long long)n);

	/* very high rates (1e10 pps, the largest --rate): a sender slower than the schedule is
	 * never made to wait, its own speed is the limit */
	pacer_init(&p, 1e10, 1, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + NS_PER_MS, 1);
	CHECK(n == 1000000, "1e10 pps, burst 1: %llu sends of 1 ns in 1 ms", (unsigned long long)n);
	pacer_init(&p, 1e10, 1024, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + NS_PER_MS, 200);
	CHECK(n == 5000, "1e10 pps, burst 1024: %llu sends of 200 ns in 1 ms",
	      (unsigned long long)n);
	/* ... and a sender faster than that still keeps to it: bursts of 1024 every 102.4 ns */
	pacer_init(&p, 1e10, 1024, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + NS_PER_MS, 100);
	CHECK(n == 9766 && p.slips == 0, "1e10 pps, burst 1024: %llu sends of 100 ns in 1 ms",
	      (unsigned long long)n);

	/* very low rates: 0.001 pps = a burst every 1000 s, 4 in an hour */
	pacer_init(&p, 0.001, 1, t0);
	now = t0;
	n = sim_send(&p, &now, t0 + 3600 * NS_PER_S, 0);
	CHECK(n == 4 && p.slips == 0, "0.001 pps, 1 h: %llu bursts", (unsigned long long)n);
	/* intervals beyond the 64-bit ns clock (B / R > 584 years) and an infinite one: the first
	 * burst at the start, no other in a simulated year */
	const double tiny[] = { 1e-12, 1e-300 };
	for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++) {
		pacer_init(&p, tiny[i], 32, t0);
		now = t0;
		n = sim_send(&p, &now, t0 + 365 * 86400 * NS_PER_S, 0);
		CHECK(n == 1 && p.slips == 0, "%g pps: %llu bursts in a year", tiny[i],
		      (unsigned long long)n);
	}

	/* pace_nap: no sleep for a past target or a gap of at most PACE_SLEEP_MIN_NS; a longer
	 * gap sleeps until PACE_WAKE_EARLY_NS before the target, not earlier */
	now = now_ns();
	CHECK(pace_nap(now, now - 1) == 0 && pace_nap(now, now + PACE_SLEEP_MIN_NS) == 0,
	      "pace_nap: short gaps are not slept");
	now = now_ns();
	int slept = pace_nap(now, now + 2 * NS_PER_MS);
	uint64_t woke = now_ns();
	CHECK(slept == 1 && woke >= now + 2 * NS_PER_MS - PACE_WAKE_EARLY_NS,
	      "pace_nap 2 ms: slept %d, woke after %llu ns", slept,
	      (unsigned long long)(woke - now));
}

int main(void)
{
	test_hist();
	test_seq();
	test_frame();
	test_pace();
	printf("unit: %d checks passed, %d failed\n", passed, failed);
	return failed != 0;
}
