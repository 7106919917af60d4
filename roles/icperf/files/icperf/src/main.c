/*
 * icperf: traffic generator and reflector for inter-container networking benchmarks.
 *
 * The parts: cli.c reads the command line into a struct icperf_cfg, run.c runs the mode
 * (send, recv, client, server: pacing, sequence numbers, timestamps, touching payloads,
 * statistics, the latency histogram), report.c writes the JSON lines. Backends (backend.h)
 * only move frames or UDP payloads.
 *
 * Output: JSON lines on stdout, flushed per line: one "sample" per second of measurement
 * and a final "summary". Exit codes: 0 run completed (also when stopped by a signal or a
 * timeout), 1 runtime failure (summary has "error"), 2 bad arguments.
 */
#include <stdio.h>

#include "backend.h"
#include "cli.h"
#include "report.h"
#include "run.h"

int main(int argc, char **argv)
{
	/* static: struct run holds the frame template and three bursts of descriptors */
	static struct icperf_cfg cfg;
	static struct run r;

	cli_parse(argc, argv, &cfg);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	run_catch_signals();

	run_exec(&r, &cfg);
	if (r.error[0])
		fprintf(stderr, "icperf: %s\n", r.error);
	report_summary(&r);
	run_close(&r);
	return r.error[0] ? 1 : 0;
}
