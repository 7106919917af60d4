/*
 * The run: the four modes (send, recv, client, server) with pacing, sequence numbers,
 * timestamps, touching payloads, counters, the latency histogram and the per-second samples.
 * The lines of output are written by report.c; backends (backend.h) only move frames or UDP
 * payloads.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "clock.h"
#include "frame.h"
#include "hist.h"
#include "pace.h"
#include "report.h"
#include "run.h"
#include "seq.h"

#define CLIENT_POLL_NS (1 * NS_PER_MS)    /* client busy-polls this long for a burst's replies */
#define CLIENT_DRAIN_NS (200 * NS_PER_MS) /* after the last probe, wait this long for replies */
#define IDLE_WAIT_MS 10                   /* receivers: poll() timeout while idle */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

void run_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->stopped_by = "error";
}

/* ---- samples and the measurement window ---- */

static void snapshot(const struct run *r, struct counters *c, uint64_t now)
{
	c->t = now;
	c->sent = r->sent;
	c->received = r->received;
	c->tx_dropped = r->tx_dropped;
	c->rx_invalid = r->rx_invalid;
	c->lost = seq_lost(&r->seq);
	c->reordered = r->seq.reordered;
	c->duplicated = r->seq.duplicated;
	c->slips = r->pacer.slips;
	c->cpu_ns = process_cpu_ns();
}

/* Whether the warm-up is over at full sample boundary t (the sample ending at t is the last
 * of r->samples): after --warmup, and with --warmup-stable once the side's own rate (the
 * sender's tx, the others' rx) of second t is within that percentage of second t-1's, or at
 * --warmup-max. Sets r->win.warmup_end. */
static int warmed_up(struct run *r, unsigned t)
{
	const struct icperf_cfg *cfg = r->cfg;
	const struct sample_rec *s = r->nsamples ? &r->samples[r->nsamples - 1] : NULL;

	if (t < r->win.start_sample)
		return 0;
	if (cfg->warmup_stable <= 0) {
		r->win.warmup_end = "time";
		return 1;
	}
	if (s && s->t == t && r->nsamples >= 2 && s[-1].t == t - 1) {
		double now_r = cfg->mode == MODE_SEND ? s->tx_pps : s->rx_pps;
		double was_r = cfg->mode == MODE_SEND ? s[-1].tx_pps : s[-1].rx_pps;
		double top = now_r > was_r ? now_r : was_r;
		if (top > 0 && fabs(now_r - was_r) <= top * cfg->warmup_stable / 100.0) {
			r->win.warmup_end = "stable";
			return 1;
		}
	}
	if (cfg->warmup_max > 0 && (double)t >= cfg->warmup_max) {
		r->win.warmup_end = "limit";
		return 1;
	}
	return 0;
}

/* At a full sample boundary t (s): open the window once the warm-up is over, move its end. */
static void window_at(struct run *r, uint64_t now, unsigned t)
{
	if (r->win.closed)
		return;
	if (!r->win.open && warmed_up(r, t)) {
		r->win.open = 1;
		r->win.open_t = t;
		snapshot(r, &r->win.start, now);
	}
	if (r->win.open)
		snapshot(r, &r->win.end, now);
}

static inline int in_window(const struct run *r)
{
	return r->win.open && !r->win.closed;
}

static void emit_sample(struct run *r, uint64_t now, unsigned t, int partial)
{
	double dt = (double)(now - r->last_sample_t) / 1e9;
	uint64_t ds = r->sent - r->s_sent, dr = r->received - r->s_recv;
	uint64_t dd = r->tx_dropped - r->s_drop, lost = seq_lost(&r->seq);
	/* gaps that opened in this second, less those a late frame closed: may be negative */
	long long dl = (long long)lost - (long long)r->s_lost;
	double txr = dt > 0 ? (double)ds / dt : 0.0, rxr = dt > 0 ? (double)dr / dt : 0.0;

	report_sample(t, (double)(now - r->t_base) / 1e9, ds, dr, dd, dl, txr, rxr, partial);
	if (!partial) {
		if (r->nsamples == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct sample_rec *s = realloc(r->samples, cap * sizeof(*s));
			if (s) {
				r->samples = s;
				r->cap = cap;
			}
		}
		if (r->nsamples < r->cap)
			r->samples[r->nsamples++] = (struct sample_rec){ t, txr, rxr };
		window_at(r, now, t);
	}
	r->s_sent = r->sent;
	r->s_recv = r->received;
	r->s_drop = r->tx_dropped;
	r->s_lost = lost;
	r->last_sample_t = now;
}

static void measure_start(struct run *r, uint64_t now, uint64_t end)
{
	r->t_base = now;
	r->t_end = end;
	r->last_sample_t = now;
	r->next_t = 1;
	r->next_sample = now + NS_PER_S;
	/* the samples the summary's means leave out (report.c) end at this boundary */
	r->win.start_sample = r->cfg->duration > r->cfg->warmup ? (unsigned)ceil(r->cfg->warmup) : 0;
	window_at(r, now, 0);
}

/* Emit the per-second sample when a boundary (not after the planned end) was crossed. A
 * stall longer than a second yields one sample covering the whole stall (t skips). */
static inline void maybe_sample(struct run *r, uint64_t now)
{
	uint64_t k;

	if (now < r->next_sample || r->next_sample > r->t_end)
		return;
	k = (now - r->t_base) / NS_PER_S; /* >= next_t */
	if (r->t_base + k * NS_PER_S > r->t_end)
		k = (r->t_end - r->t_base) / NS_PER_S;
	emit_sample(r, now, (unsigned)k, 0);
	r->next_t = (unsigned)k + 1;
	r->next_sample = r->t_base + (uint64_t)r->next_t * NS_PER_S;
	if (r->next_sample > r->t_end && r->win.open)
		r->win.closed = 1; /* the last full sample: what follows is the run's tail */
}

static void final_sample(struct run *r, uint64_t now)
{
	if (!r->t_base)
		return;
	if (now >= r->next_sample && r->next_sample <= r->t_end)
		maybe_sample(r, now);
	if (r->sent != r->s_sent || r->received != r->s_recv || r->tx_dropped != r->s_drop ||
	    now - r->last_sample_t >= NS_PER_MS)
		emit_sample(r, now, r->next_t, 1);
}

/* ---- transmit ---- */

static int setup_tx(struct run *r)
{
	struct icperf_cfg *cfg = r->cfg;
	size_t stride;

	r->poff = r->be->needs_l2 ? ICPERF_HDR_LEN : 0;
	r->tx_len = r->be->needs_l2 ? cfg->size : cfg->size - ICPERF_HDR_LEN;
	if (r->be->needs_l2) {
		cfg_build_template(cfg, r->tmpl);
		cfg->tmpl = r->tmpl;
	}
	if (!cfg->do_tx || cfg->mode == MODE_SERVER || r->be->tx_alloc)
		return 0;
	stride = (r->tx_len + 63) & ~(size_t)63;
	r->txbuf = aligned_alloc(64, stride * cfg->burst);
	r->txslot = calloc(cfg->burst, sizeof(*r->txslot));
	if (!r->txbuf || !r->txslot) {
		run_fail(r, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < cfg->burst; i++) {
		r->txslot[i] = r->txbuf + i * stride;
		if (r->be->needs_l2)
			memcpy(r->txslot[i], r->tmpl, cfg->size);
		else
			memset(r->txslot[i], 0, r->tx_len);
	}
	return 0;
}

/* Build and send one burst stamped ts. Returns 0, or -1 on a fatal error. */
static int send_burst(struct run *r, uint64_t ts)
{
	struct icperf_cfg *cfg = r->cfg;
	struct pkt *p = r->txp;
	int n = (int)cfg->burst, k;
	uint32_t plen = r->tx_len - r->poff;

	if (r->be->tx_alloc) {
		n = r->be->tx_alloc(r->ctx, p, n);
		if (n < 0) {
			run_fail(r, "tx buffer allocation: %s", strerror(-n));
			return -1;
		}
	} else {
		for (int i = 0; i < n; i++) {
			p[i].data = r->txslot[i];
			p[i].len = r->tx_len;
			p[i].use_peer = 0;
			p[i].priv = NULL;
		}
	}
	for (int i = 0; i < n; i++) {
		uint8_t *pl = p[i].data + r->poff;
		uint64_t seq = r->next_seq + (uint64_t)i;
		payload_put_u64(pl + PAYLOAD_SEQ_OFF, seq);
		payload_put_u64(pl + PAYLOAD_TS_OFF, ts);
		if (cfg->touch)
			payload_touch_write(pl, plen, seq);
	}
	k = n ? r->be->tx_burst(r->ctx, p, n) : 0;
	if (k < 0) {
		if (k == -EMSGSIZE)
			run_fail(r, "send: frame size %u does not fit the MTU of the path (%s)",
				 cfg->size, strerror(-k));
		else
			run_fail(r, "send: %s", strerror(-k));
		return -1;
	}
	r->sent += (uint64_t)k;
	r->next_seq += (uint64_t)k;
	r->tx_dropped += cfg->burst - (unsigned)k;
	return 0;
}

/* ---- receive ---- */

/* Account one received packet. Returns 0, or -1 when it is not one of ours. */
static inline int rx_one(struct run *r, struct pkt *p, uint64_t now, int rtt)
{
	const uint8_t *pl = p->data;
	uint32_t off = 0, plen = p->len;

	if (r->be->needs_l2) {
		if (frame_udp_payload(p->data, p->len, r->cfg->port, &off, &plen))
			goto invalid;
		pl += off;
	}
	if (plen < PAYLOAD_MIN)
		goto invalid;
	seq_add(&r->seq, payload_get_u64(pl + PAYLOAD_SEQ_OFF));
	r->received++;
	if (r->cfg->touch)
		r->touch_sum += payload_touch_sum(pl, plen);
	if (rtt && in_window(r)) {
		uint64_t ts = payload_get_u64(pl + PAYLOAD_TS_OFF);
		if (now >= ts)
			hist_add(r->hist, now - ts);
	}
	return 0;
invalid:
	r->rx_invalid++;
	return -1;
}

static void release(struct run *r, struct pkt *p, int n)
{
	if (n > 0 && r->be->rx_release)
		r->be->rx_release(r->ctx, p, n);
}

/* Receive and account one burst; keep: the caller reflects the packets (no release).
 * Returns packets received (>= 0) or -1 (fatal). */
static int rx_poll(struct run *r, uint64_t *now, int rtt, int keep)
{
	int n = r->be->rx_burst(r->ctx, r->rxp, (int)r->cfg->burst);

	*now = now_ns();
	if (n < 0) {
		run_fail(r, "receive: %s", strerror(-n));
		return -1;
	}
	if (!n)
		return 0;
	if (!r->t_base) /* caller starts the measurement first */
		return n;
	for (int i = 0; i < n; i++)
		rx_one(r, &r->rxp[i], *now, rtt);
	if (!keep)
		release(r, r->rxp, n);
	return n;
}

/*
 * Nothing was received by a busy-polling loop. With kernel backends the packets of the peer
 * are delivered by softirqs, which the kernel may hand to ksoftirqd on this CPU; a poller that
 * never gives the CPU away would starve it until the end of its time slice (milliseconds of
 * added latency). sched_yield() lets it run and costs well under a microsecond otherwise.
 */
static inline void poll_idle(void)
{
	sched_yield();
}

static void idle_wait(struct run *r, uint64_t now, uint64_t until)
{
	int ms = IDLE_WAIT_MS;

	if (until > now && (until - now) / NS_PER_MS + 1 < (uint64_t)ms)
		ms = (int)((until - now) / NS_PER_MS) + 1;
	if (r->be->wait_rx) {
		r->be->wait_rx(r->ctx, ms);
	} else {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* ---- modes ---- */

/* send and client: the measurement and the burst schedule both start at now */
static void paced_start(struct run *r, uint64_t now)
{
	measure_start(r, now, now + (uint64_t)(r->cfg->duration * 1e9));
	pacer_init(&r->pacer, r->cfg->rate, r->cfg->burst, now);
}

static void mode_send(struct run *r)
{
	struct icperf_cfg *cfg = r->cfg;
	uint64_t now = now_ns(), due, target;

	paced_start(r, now);
	for (;;) {
		if (g_stop) {
			r->stopped_by = "signal";
			break;
		}
		now = now_ns();
		maybe_sample(r, now);
		if (now >= r->t_end) {
			r->stopped_by = "duration";
			break;
		}
		if (r->pacer.paced) {
			due = pacer_due(&r->pacer, now);
			if (now < due) {
				target = due < r->next_sample ? due : r->next_sample;
				target = target < r->t_end ? target : r->t_end;
				if (!cfg->busy && pace_nap(now, target))
					continue;
				cpu_relax();
				continue;
			}
		}
		if (send_burst(r, now))
			break;
		pacer_next(&r->pacer);
	}
	r->t_final = now_ns();
}

static void mode_client(struct run *r)
{
	struct icperf_cfg *cfg = r->cfg;
	uint64_t now = now_ns(), due, target, drain_end = 0, burst_t = 0, burst_last = 0;
	int sending = 1, have_burst = 0, n;

	paced_start(r, now);
	for (;;) {
		if (g_stop) {
			r->stopped_by = "signal";
			break;
		}
		n = rx_poll(r, &now, 1, 0);
		if (n < 0)
			break;
		if (sending) {
			maybe_sample(r, now);
			if (now >= r->t_end) {
				sending = 0;
				drain_end = now + CLIENT_DRAIN_NS;
			}
		}
		if (!sending) {
			if (r->seq.distinct >= r->sent || now >= drain_end) {
				r->stopped_by = "duration";
				break;
			}
			if (!n)
				poll_idle();
			continue;
		}
		due = pacer_due(&r->pacer, now);
		if (now >= due) {
			if (send_burst(r, now))
				break;
			pacer_next(&r->pacer);
			if (r->sent) {
				have_burst = 1;
				burst_last = r->next_seq - 1;
				burst_t = now;
			}
			continue;
		}
		/* between bursts: keep polling while the last burst's replies are due, sleep
		 * through the rest of a long gap */
		if (!cfg->busy && !n &&
		    !(have_burst && (!r->seq.any || r->seq.max < burst_last) &&
		      now - burst_t < CLIENT_POLL_NS)) {
			target = due < r->next_sample ? due : r->next_sample;
			target = target < r->t_end ? target : r->t_end;
			if (pace_nap(now, target))
				continue;
		}
		if (!n)
			poll_idle();
	}
	r->t_final = now_ns();
}

/* recv and server */
static void mode_receive(struct run *r, int reflect)
{
	struct icperf_cfg *cfg = r->cfg;
	uint64_t now = r->t_prog, timeout_at = r->t_prog + (uint64_t)(cfg->timeout * 1e9);
	uint64_t dur = (uint64_t)(cfg->duration * 1e9);
	int n, end_is_timeout = 0;

	for (;;) {
		if (g_stop) {
			r->stopped_by = "signal";
			break;
		}
		n = rx_poll(r, &now, 0, reflect);
		if (n < 0)
			break;
		if (!r->t_base) {
			if (!n) {
				if (now >= timeout_at) {
					r->stopped_by = "timeout";
					break;
				}
				idle_wait(r, now, timeout_at);
				continue;
			}
			r->wait_ns = now - r->t_prog;
			end_is_timeout = now + dur > timeout_at;
			measure_start(r, now, end_is_timeout ? timeout_at : now + dur);
			for (int i = 0; i < n; i++)
				rx_one(r, &r->rxp[i], now, 0);
			if (!reflect)
				release(r, r->rxp, n);
		}
		if (n && reflect) {
			/* rx_poll accounted them; send the valid ones back in place */
			int m = 0, q = 0, k;
			for (int i = 0; i < n; i++) {
				struct pkt *p = &r->rxp[i];
				uint32_t off, plen;
				if (r->be->needs_l2) {
					if (frame_udp_payload(p->data, p->len, cfg->port, &off,
							      &plen)) {
						r->rel[q++] = *p;
						continue;
					}
					frame_reflect(p->data);
				} else if (p->len < PAYLOAD_MIN) {
					r->rel[q++] = *p;
					continue;
				}
				r->txp[m++] = *p;
			}
			release(r, r->rel, q);
			k = m ? r->be->tx_burst(r->ctx, r->txp, m) : 0;
			if (k < 0) {
				run_fail(r, "send: %s", strerror(-k));
				break;
			}
			r->sent += (uint64_t)k;
			r->tx_dropped += (uint64_t)(m - k);
		}
		maybe_sample(r, now);
		if (now >= r->t_end) {
			r->stopped_by = end_is_timeout ? "timeout" : "duration";
			break;
		}
		if (!n) {
			if (cfg->rx_block)
				idle_wait(r, now, r->next_sample < r->t_end ? r->next_sample : r->t_end);
			else
				poll_idle();
		}
	}
	r->t_final = now_ns();
}

/* ---- set-up, the mode, clean-up ---- */

/* Pin the thread, allocate the histogram, open the backend, prepare the transmit buffers.
 * Returns 0, or -1 (r->error set). */
static int run_open(struct run *r)
{
	struct icperf_cfg *cfg = r->cfg;

	if (cfg->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cfg->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			run_fail(r, "cannot pin to CPU %d: %s", cfg->cpu, strerror(errno));
			return -1;
		}
	}
	if (cfg->mode == MODE_CLIENT) {
		r->hist = malloc(sizeof(*r->hist));
		if (!r->hist) {
			run_fail(r, "out of memory");
			return -1;
		}
		hist_init(r->hist);
	}
	if (r->be->open(cfg, &r->ctx)) {
		run_fail(r, "backend %s: %s", r->be->name, cfg->err[0] ? cfg->err : "open failed");
		r->ctx = NULL;
		return -1;
	}
	return setup_tx(r);
}

void run_exec(struct run *r, struct icperf_cfg *cfg)
{
	r->cfg = cfg;
	r->be = backend_find(cfg->backend);
	r->t_prog = now_ns();
	seq_init(&r->seq);
	pacer_init(&r->pacer, 0, 1, r->t_prog);
	pace_setup();

	if (!run_open(r)) {
		switch (cfg->mode) {
		case MODE_SEND:
			mode_send(r);
			break;
		case MODE_CLIENT:
			mode_client(r);
			break;
		case MODE_RECV:
			mode_receive(r, 0);
			break;
		case MODE_SERVER:
			mode_receive(r, 1);
			break;
		}
		final_sample(r, r->t_final);
	}
	if (!r->t_final)
		r->t_final = now_ns();
}

void run_close(struct run *r)
{
	if (r->ctx)
		r->be->close(r->ctx);
	free(r->txbuf);
	free(r->txslot);
	free(r->samples);
	free(r->hist);
}
