/*
 * The output of icperf (report.c): JSON lines on stdout, each flushed. One "sample" per
 * second of measurement, then one "summary" (keys, their order and number formats are read
 * by the collection's parsers: see the README's Output section).
 */
#ifndef ICPERF_REPORT_H
#define ICPERF_REPORT_H

#include <stdint.h>

#include "run.h"

/* One "sample" line: t, the seconds since the measurement started, the counts of the
 * interval and its rates; partial: the final interval, shorter than a second. */
void report_sample(unsigned t, double elapsed_s, uint64_t sent, uint64_t received,
		   uint64_t tx_dropped, long long lost, double tx_pps, double rx_pps, int partial);

/* The "summary" line of a finished run (after run_exec). */
void report_summary(const struct run *r);

#endif
