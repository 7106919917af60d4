/*
 * The run of one icperf mode (run.c): the state shared by the four modes and what main()
 * calls. The summary is printed from this state by report.c.
 */
#ifndef ICPERF_RUN_H
#define ICPERF_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "hist.h"
#include "pace.h"
#include "seq.h"

/* a full per-second sample, kept for the means of the summary */
struct sample_rec {
	unsigned t;
	double tx_pps, rx_pps;
};

/* the counters of a run at one instant (the two ends of the measurement window) */
struct counters {
	uint64_t t;             /* when (ns, the run's clock) */
	uint64_t sent, received, tx_dropped, rx_invalid, lost, reordered, duplicated, slips;
	uint64_t cpu_ns;        /* the process's CPU time (process_cpu_ns) */
};

/* The measurement window: from the per-second sample boundary that ends the warm-up (the run's
 * start without one) to the last full sample boundary, at or before the planned end. Every
 * figure of the summary's "window" and the latency histogram come from it. */
struct window {
	int open, closed;
	unsigned start_sample;  /* the first sample boundary (s) it may open at: ceil(warmup), 0 without one */
	unsigned open_t;        /* the boundary it opened at */
	const char *warmup_end; /* why it opened there: "time" (--warmup), "stable" (--warmup-stable
	                         * met), "limit" (--warmup-max reached first) */
	struct counters start, end;
};

struct run {
	struct icperf_cfg *cfg;
	const struct icperf_backend *be;
	void *ctx;

	uint64_t t_prog;        /* program start */
	uint64_t t_base;        /* measurement start; 0 = not started */
	uint64_t t_end;         /* measurement end (planned) */
	uint64_t t_final;       /* when the run stopped */
	uint64_t wait_ns;       /* recv/server: waited for the first packet */

	/* samples */
	unsigned next_t;
	uint64_t next_sample, last_sample_t;
	uint64_t s_sent, s_recv, s_drop, s_lost;
	struct sample_rec *samples;
	size_t nsamples, cap;

	/* counters */
	uint64_t sent, received, tx_dropped, rx_invalid;
	uint64_t next_seq, touch_sum;
	struct seqtrack seq;
	struct hist *hist;
	struct pacer pacer;
	struct window win;

	/* buffers */
	uint32_t poff;          /* payload offset in transmitted packets */
	uint32_t tx_len;        /* bytes per transmitted packet */
	uint8_t *txbuf;
	uint8_t **txslot;
	uint8_t tmpl[ICPERF_MAX_SIZE];
	struct pkt txp[ICPERF_MAX_BURST], rxp[ICPERF_MAX_BURST], rel[ICPERF_MAX_BURST];

	const char *stopped_by;
	char error[300];
};

/* SIGINT and SIGTERM end the run (the summary is still printed); SIGPIPE is ignored. */
void run_catch_signals(void);

/* Set up r for cfg (pinning, histogram, backend, transmit buffers) and run its mode. On
 * return r->t_final is set, and r->error when the run failed. */
void run_exec(struct run *r, struct icperf_cfg *cfg);

/* Close the backend and free what run_exec allocated. */
void run_close(struct run *r);

#endif
