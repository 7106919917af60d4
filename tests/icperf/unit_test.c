/*
 * Unit tests of icperf's histogram, sequence accounting and frame code. Built and run by
 * run_tests.sh:  cc -O2 -I$SRC/src unit_test.c $SRC/src/{hist,seq,frame}.c -lm
 * Prints one "ok"/"FAIL" line per check and exits non-zero when one failed.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "hist.h"
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

int main(void)
{
	test_hist();
	test_seq();
	test_frame();
	printf("unit: %d checks passed, %d failed\n", passed, failed);
	return failed != 0;
}
