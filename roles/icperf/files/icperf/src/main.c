/*
 * icperf: traffic generator and reflector for inter-container networking benchmarks.
 *
 * The core (this file) does the command line, the four modes, pacing, sequence numbers,
 * timestamps, touching payloads, statistics, the latency histogram and the JSON output.
 * Backends (backend.h) only move frames or UDP payloads.
 *
 * Output: JSON lines on stdout, flushed per line: one "sample" per second of measurement
 * and a final "summary". Exit codes: 0 run completed (also when stopped by a signal or a
 * timeout), 1 runtime failure (summary has "error"), 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
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
#include "seq.h"
#include "version.h"

#define CLIENT_POLL_NS (1 * NS_PER_MS)    /* client busy-polls this long for a burst's replies */
#define CLIENT_DRAIN_NS (200 * NS_PER_MS) /* after the last probe, wait this long for replies */
#define IDLE_WAIT_MS 10                   /* receivers: poll() timeout while idle */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* ------------------------------------------------------------------------------------ */
/* command line                                                                          */

static const char *mode_names[] = { "send", "recv", "client", "server" };

static void usage(FILE *f)
{
	const struct icperf_backend *const *b = backend_list();

	fprintf(f,
		"usage: icperf MODE [options]\n"
		"  MODE: send (paced sender) | recv (counting receiver) | client (round trip "
		"probes) | server (reflector)\n"
		"options:\n"
		"  --backend NAME    data path: %s (default udp)\n"
		"  --iface IF        interface (required by raw backends; udp: SO_BINDTODEVICE)\n"
		"  --src-ip A        local IPv4 address (default: any / the interface's)\n"
		"  --dst-ip A        peer IPv4 address (required for send and client)\n"
		"  --port P          UDP port, source and destination, 1..65535 (default 9000)\n"
		"  --src-mac M       source MAC for L2 backends (default: the interface's)\n"
		"  --dst-mac M       destination MAC (required for send/client with L2 backends)\n"
		"  --size BYTES      frame size incl. 42 header bytes, no FCS: 64..9014 (default 64)\n"
		"  --rate PPS        offered packets/s, 0 or 'max' = unpaced (default max)\n"
		"  --burst N         packets per burst, 1..%d (default 32)\n"
		"  --duration S      seconds of traffic; recv/server: from the first packet "
		"(default 10)\n"
		"  --warmup S        first S per-second samples left out of the means (default 2)\n"
		"  --timeout S       recv/server: stop after S s of wall clock in any case "
		"(default duration+30)\n"
		"  --touch           sender writes every payload byte, receiver reads and sums them\n"
		"  --cpu N           pin the thread to CPU N\n"
		"  --busy            never sleep while pacing (busy-wait every gap)\n"
		"  --rx-block        recv/server: block in poll() when no packet is queued instead "
		"of busy polling\n"
		"  --sockbuf BYTES   socket send/receive buffer size (default: system default)\n"
		"  --bopt KEY=VALUE  an option of the selected backend (repeatable, up to %d)\n"
		"  --version         print the version and exit\n"
		"  --help            print this help and exit\n"
		"backends:\n",
		backend_names(), ICPERF_MAX_BURST, ICPERF_MAX_BOPTS);
	for (; *b; b++)
		fprintf(f, "  %-10s %s\n", (*b)->name, (*b)->help);
}

static void __attribute__((noreturn, format(printf, 1, 2))) bad_args(const char *fmt, ...)
{
	va_list ap;

	fputs("icperf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static int parse_u64(const char *s, unsigned long long lo, unsigned long long hi,
		     unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == ' ')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_BACKEND = 256, OPT_IFACE, OPT_SRC_IP, OPT_DST_IP, OPT_PORT, OPT_SRC_MAC, OPT_DST_MAC,
	OPT_SIZE, OPT_RATE, OPT_BURST, OPT_DURATION, OPT_WARMUP, OPT_TIMEOUT, OPT_TOUCH, OPT_CPU,
	OPT_BUSY, OPT_RX_BLOCK, OPT_SOCKBUF, OPT_BOPT, OPT_VERSION, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "src-ip", required_argument, NULL, OPT_SRC_IP },
	{ "dst-ip", required_argument, NULL, OPT_DST_IP },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
	{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "touch", no_argument, NULL, OPT_TOUCH },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "busy", no_argument, NULL, OPT_BUSY },
	{ "rx-block", no_argument, NULL, OPT_RX_BLOCK },
	{ "sockbuf", required_argument, NULL, OPT_SOCKBUF },
	{ "bopt", required_argument, NULL, OPT_BOPT },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* what each option accepts, for error messages */
static const char *allowed(int opt)
{
	static char buf[300];

	switch (opt) {
	case OPT_BACKEND:
		snprintf(buf, sizeof(buf), "one of %s", backend_names());
		return buf;
	case OPT_IFACE: return "an interface name";
	case OPT_SRC_IP: case OPT_DST_IP: return "an IPv4 address like 198.18.0.1";
	case OPT_PORT: return "1..65535";
	case OPT_SRC_MAC: case OPT_DST_MAC: return "a MAC address like 02:00:00:00:00:01";
	case OPT_SIZE: return "64..9014 (frame bytes incl. the 42 header bytes, no FCS)";
	case OPT_RATE: return "a number of packets per second >= 0, or 'max' (0 and max = unpaced)";
	case OPT_BURST: return "1..1024";
	case OPT_DURATION: return "a number of seconds > 0";
	case OPT_WARMUP: return "a number of seconds >= 0";
	case OPT_TIMEOUT: return "a number of seconds > 0";
	case OPT_CPU: return "a CPU number >= 0";
	case OPT_SOCKBUF: return "0..1073741824 bytes";
	case OPT_BOPT: return "KEY=VALUE, at most 16 times";
	default: return "see below";
	}
}

static const char *opt_name(int val)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static void parse_args(int argc, char **argv, struct icperf_cfg *cfg)
{
	unsigned long long u;
	const char *mode = NULL;
	int c, have_timeout = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = "udp";
	cfg->port = 9000;
	cfg->size = 64;
	cfg->rate = 0;
	cfg->burst = 32;
	cfg->duration = 10;
	cfg->warmup = 2;
	cfg->cpu = -1;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		const char *a = optarg;
#define BAD() bad_args("invalid value for --%s: '%s'; allowed: %s", opt_name(c), a, allowed(c))
		switch (c) {
		case OPT_BACKEND:
			if (!backend_find(a))
				BAD();
			cfg->backend = a;
			break;
		case OPT_IFACE:
			if (!*a || strlen(a) >= 16)
				BAD();
			cfg->iface = a;
			break;
		case OPT_SRC_IP:
			if (inet_pton(AF_INET, a, &cfg->src_ip) != 1)
				BAD();
			cfg->have_src_ip = 1;
			break;
		case OPT_DST_IP:
			if (inet_pton(AF_INET, a, &cfg->dst_ip) != 1)
				BAD();
			cfg->have_dst_ip = 1;
			break;
		case OPT_PORT:
			if (parse_u64(a, 1, 65535, &u))
				BAD();
			cfg->port = (uint16_t)u;
			break;
		case OPT_SRC_MAC:
			if (parse_mac(a, cfg->src_mac))
				BAD();
			cfg->have_src_mac = 1;
			break;
		case OPT_DST_MAC:
			if (parse_mac(a, cfg->dst_mac))
				BAD();
			cfg->have_dst_mac = 1;
			break;
		case OPT_SIZE:
			if (parse_u64(a, ICPERF_MIN_SIZE, ICPERF_MAX_SIZE, &u))
				BAD();
			cfg->size = (unsigned)u;
			break;
		case OPT_RATE:
			if (strcmp(a, "max") == 0)
				cfg->rate = 0;
			else if (parse_num(a, 0, 1e10, &cfg->rate))
				BAD();
			break;
		case OPT_BURST:
			if (parse_u64(a, 1, ICPERF_MAX_BURST, &u))
				BAD();
			cfg->burst = (unsigned)u;
			break;
		case OPT_DURATION:
			if (parse_num(a, 0, 1e7, &cfg->duration) || cfg->duration <= 0)
				BAD();
			break;
		case OPT_WARMUP:
			if (parse_num(a, 0, 1e7, &cfg->warmup))
				BAD();
			break;
		case OPT_TIMEOUT:
			if (parse_num(a, 0, 1e7, &cfg->timeout) || cfg->timeout <= 0)
				BAD();
			have_timeout = 1;
			break;
		case OPT_TOUCH:
			cfg->touch = 1;
			break;
		case OPT_CPU:
			if (parse_u64(a, 0, CPU_SETSIZE - 1, &u))
				BAD();
			cfg->cpu = (int)u;
			break;
		case OPT_BUSY:
			cfg->busy = 1;
			break;
		case OPT_RX_BLOCK:
			cfg->rx_block = 1;
			break;
		case OPT_SOCKBUF:
			if (parse_u64(a, 0, 1ULL << 30, &u))
				BAD();
			cfg->sockbuf = (int)u;
			break;
		case OPT_BOPT:
			if (!strchr(a, '=') || a[0] == '=' || cfg->nbopts >= ICPERF_MAX_BOPTS)
				BAD();
			cfg->bopts[cfg->nbopts++] = a;
			break;
		case 'V':
		case OPT_VERSION:
			printf("icperf %s\n", ICPERF_VERSION);
			exit(0);
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case ':':
			c = optopt;
			bad_args("option --%s needs a value; allowed: %s", opt_name(c), allowed(c));
		default:
			if (optopt && optopt < 256)
				bad_args("unknown option '-%c'; allowed: the options below", optopt);
			bad_args("unknown option '%s'; allowed: the options below", argv[optind - 1]);
		}
#undef BAD
	}
	for (; optind < argc; optind++) {
		if (mode)
			bad_args("unexpected argument '%s'; allowed: one MODE (send, recv, client, "
				 "server) and options", argv[optind]);
		mode = argv[optind];
	}
	if (!mode)
		bad_args("missing MODE; allowed: send, recv, client, server");
	for (c = 0; c < 4; c++)
		if (strcmp(mode, mode_names[c]) == 0)
			break;
	if (c == 4)
		bad_args("invalid MODE '%s'; allowed: send, recv, client, server", mode);
	cfg->mode = (enum icperf_mode)c;
	cfg->do_tx = cfg->mode != MODE_RECV;
	cfg->do_rx = cfg->mode != MODE_SEND;

	const struct icperf_backend *be = backend_find(cfg->backend);
	int sender = cfg->mode == MODE_SEND || cfg->mode == MODE_CLIENT;
	if (sender && !cfg->have_dst_ip)
		bad_args("missing --dst-ip (required for %s); allowed: an IPv4 address like "
			 "198.18.0.2", mode);
	if (be->needs_iface && !cfg->iface)
		bad_args("missing --iface (required by backend %s); allowed: an interface name",
			 be->name);
	if (be->needs_l2 && sender && !cfg->have_dst_mac)
		bad_args("missing --dst-mac (required for %s with backend %s); allowed: a MAC "
			 "address like 02:00:00:00:00:02", mode, be->name);
	cfg->timeout = have_timeout ? cfg->timeout : cfg->duration + 30;
}

/* ------------------------------------------------------------------------------------ */
/* the run                                                                              */

struct sample_rec {
	unsigned t;
	double tx_pps, rx_pps;
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
	uint64_t s_sent, s_recv, s_drop;
	struct sample_rec *samples;
	size_t nsamples, cap;

	/* counters */
	uint64_t sent, received, tx_dropped, rx_invalid;
	uint64_t next_seq, touch_sum;
	struct seqtrack seq;
	struct hist *hist;
	struct pacer pacer;

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

static void run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->stopped_by = "error";
}

/* JSON helpers: finite numbers only, escaped strings */
static const char *jnum(char *buf, size_t n, double v, int decimals)
{
	if (!isfinite(v))
		v = 0.0;
	snprintf(buf, n, "%.*f", decimals, v);
	return buf;
}

static const char *jgen(char *buf, size_t n, double v)
{
	if (!isfinite(v))
		v = 0.0;
	snprintf(buf, n, "%.15g", v);
	return buf;
}

static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void emit_sample(struct run *r, uint64_t now, unsigned t, int partial)
{
	double dt = (double)(now - r->last_sample_t) / 1e9;
	uint64_t ds = r->sent - r->s_sent, dr = r->received - r->s_recv;
	uint64_t dd = r->tx_dropped - r->s_drop;
	double txr = dt > 0 ? (double)ds / dt : 0.0, rxr = dt > 0 ? (double)dr / dt : 0.0;
	char b1[64], b2[64], b3[64];

	printf("{\"type\":\"sample\",\"t\":%u,\"elapsed_s\":%s,\"sent\":%llu,\"received\":%llu,"
	       "\"tx_dropped\":%llu,\"tx_pps\":%s,\"rx_pps\":%s,\"partial\":%s}\n",
	       t, jnum(b1, sizeof(b1), (double)(now - r->t_base) / 1e9, 6),
	       (unsigned long long)ds, (unsigned long long)dr, (unsigned long long)dd,
	       jnum(b2, sizeof(b2), txr, 3), jnum(b3, sizeof(b3), rxr, 3),
	       partial ? "true" : "false");
	fflush(stdout);
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
	}
	r->s_sent = r->sent;
	r->s_recv = r->received;
	r->s_drop = r->tx_dropped;
	r->last_sample_t = now;
}

static void measure_start(struct run *r, uint64_t now, uint64_t end)
{
	r->t_base = now;
	r->t_end = end;
	r->last_sample_t = now;
	r->next_t = 1;
	r->next_sample = now + NS_PER_S;
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
		struct frame_addr a;
		memcpy(a.src_mac, cfg->src_mac, 6);
		memcpy(a.dst_mac, cfg->dst_mac, 6);
		a.src_ip = cfg->src_ip;
		a.dst_ip = cfg->dst_ip;
		a.sport = a.dport = cfg->port;
		frame_build(r->tmpl, cfg->size, &a);
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
	if (rtt) {
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

static void mode_send(struct run *r)
{
	struct icperf_cfg *cfg = r->cfg;
	uint64_t now = now_ns(), due, target;

	measure_start(r, now, now + (uint64_t)(cfg->duration * 1e9));
	pacer_init(&r->pacer, cfg->rate, cfg->burst, now);
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

	measure_start(r, now, now + (uint64_t)(cfg->duration * 1e9));
	pacer_init(&r->pacer, cfg->rate, cfg->burst, now);
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

/* ---- summary ---- */

static void print_summary(struct run *r)
{
	struct icperf_cfg *cfg = r->cfg;
	char b[16][64];
	double tx_mean = 0, rx_mean = 0, rx_std = 0, elapsed;
	size_t used = 0;
	int warmup_applied = cfg->duration > cfg->warmup;
	int is_sender = cfg->mode == MODE_SEND;

	elapsed = r->t_base ? (double)(r->t_final - r->t_base) / 1e9 : 0.0;
	if (!r->t_base && (cfg->mode == MODE_RECV || cfg->mode == MODE_SERVER))
		r->wait_ns = r->t_final - r->t_prog; /* never got a packet */
	for (size_t i = 0; i < r->nsamples; i++) {
		if (warmup_applied && (double)r->samples[i].t - 1.0 < cfg->warmup)
			continue;
		used++;
		tx_mean += r->samples[i].tx_pps;
		rx_mean += r->samples[i].rx_pps;
	}
	if (used) {
		tx_mean /= (double)used;
		rx_mean /= (double)used;
		for (size_t i = 0; i < r->nsamples; i++) {
			if (warmup_applied && (double)r->samples[i].t - 1.0 < cfg->warmup)
				continue;
			rx_std += (r->samples[i].rx_pps - rx_mean) * (r->samples[i].rx_pps - rx_mean);
		}
		rx_std = used > 1 ? sqrt(rx_std / (double)(used - 1)) : 0.0;
	} else if (elapsed > 0) {
		/* no full steady-state second (short or interrupted run): whole-run rates */
		tx_mean = (double)r->sent / elapsed;
		rx_mean = (double)r->received / elapsed;
	}

	printf("{\"type\":\"summary\",\"tool\":\"icperf\",\"version\":\"%s\",\"mode\":\"%s\","
	       "\"backend\":",
	       ICPERF_VERSION, mode_names[cfg->mode]);
	jstr(stdout, cfg->backend);
	printf(",\"size\":%u,\"rate_pps\":%s,\"burst\":%u,\"duration_s\":%s,\"warmup_s\":%s,"
	       "\"touch\":%s,\"elapsed_s\":%s,\"sent\":%llu,\"received\":%llu,\"tx_dropped\":%llu,"
	       "\"lost\":%llu,\"reordered\":%llu,\"duplicated\":%llu,\"tx_pps_mean\":%s,"
	       "\"rx_pps_mean\":%s,\"rx_pps_std\":%s,\"samples_used\":%zu,",
	       cfg->size, jgen(b[0], 64, cfg->rate), cfg->burst, jgen(b[1], 64, cfg->duration),
	       jgen(b[2], 64, cfg->warmup), cfg->touch ? "true" : "false",
	       jnum(b[3], 64, elapsed, 6), (unsigned long long)r->sent,
	       (unsigned long long)r->received, (unsigned long long)r->tx_dropped,
	       (unsigned long long)seq_lost(&r->seq), (unsigned long long)r->seq.reordered,
	       (unsigned long long)r->seq.duplicated, jnum(b[4], 64, tx_mean, 3),
	       jnum(b[5], 64, rx_mean, 3), jnum(b[6], 64, rx_std, 3), used);
	if (is_sender) {
		if (r->sent)
			printf("\"first_seq\":0,\"last_seq\":%llu,",
			       (unsigned long long)(r->next_seq - 1));
		else
			printf("\"first_seq\":null,\"last_seq\":null,");
	} else if (r->seq.any) {
		printf("\"first_seq\":%llu,\"last_seq\":%llu,", (unsigned long long)r->seq.first,
		       (unsigned long long)r->seq.max);
	} else {
		printf("\"first_seq\":null,\"last_seq\":null,");
	}
	printf("\"touch_sum\":%llu,\"stopped_by\":\"%s\",\"error\":",
	       (unsigned long long)r->touch_sum, r->stopped_by ? r->stopped_by : "error");
	if (r->error[0])
		jstr(stdout, r->error);
	else
		fputs("null", stdout);
	fputs(",\"rtt_us\":", stdout);
	if (cfg->mode == MODE_CLIENT && r->hist) {
		const struct hist *h = r->hist;
		printf("{\"count\":%llu,\"min\":%s,\"mean\":%s,\"p50\":%s,\"p90\":%s,\"p99\":%s,"
		       "\"p999\":%s,\"max\":%s}",
		       (unsigned long long)h->count,
		       jnum(b[7], 64, h->count ? (double)h->min / 1e3 : 0.0, 3),
		       jnum(b[8], 64, hist_mean(h) / 1e3, 3),
		       jnum(b[9], 64, hist_percentile(h, 50) / 1e3, 3),
		       jnum(b[10], 64, hist_percentile(h, 90) / 1e3, 3),
		       jnum(b[11], 64, hist_percentile(h, 99) / 1e3, 3),
		       jnum(b[12], 64, hist_percentile(h, 99.9) / 1e3, 3),
		       jnum(b[13], 64, (double)h->max / 1e3, 3));
	} else {
		fputs("null", stdout);
	}
	printf(",\"warmup_applied\":%s,\"sched_slips\":%llu,\"rx_invalid\":%llu,\"wait_s\":%s,"
	       "\"cpu\":%d}\n",
	       warmup_applied ? "true" : "false", (unsigned long long)r->pacer.slips,
	       (unsigned long long)r->rx_invalid, jnum(b[14], 64, (double)r->wait_ns / 1e9, 6),
	       cfg->cpu);
	fflush(stdout);
}

/* ------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static struct icperf_cfg cfg;
	static struct run r;
	struct sigaction sa;

	parse_args(argc, argv, &cfg);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	r.cfg = &cfg;
	r.be = backend_find(cfg.backend);
	r.t_prog = now_ns();
	seq_init(&r.seq);
	pacer_init(&r.pacer, 0, 1, r.t_prog);
	pace_setup();

	if (cfg.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cfg.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			run_fail(&r, "cannot pin to CPU %d: %s", cfg.cpu, strerror(errno));
			goto out;
		}
	}
	if (cfg.mode == MODE_CLIENT) {
		r.hist = malloc(sizeof(*r.hist));
		if (!r.hist) {
			run_fail(&r, "out of memory");
			goto out;
		}
		hist_init(r.hist);
	}
	if (r.be->open(&cfg, &r.ctx)) {
		run_fail(&r, "backend %s: %s", r.be->name, cfg.err[0] ? cfg.err : "open failed");
		r.ctx = NULL;
		goto out;
	}
	if (setup_tx(&r))
		goto out;

	switch (cfg.mode) {
	case MODE_SEND:
		mode_send(&r);
		break;
	case MODE_CLIENT:
		mode_client(&r);
		break;
	case MODE_RECV:
		mode_receive(&r, 0);
		break;
	case MODE_SERVER:
		mode_receive(&r, 1);
		break;
	}
	final_sample(&r, r.t_final);
out:
	if (!r.t_final)
		r.t_final = now_ns();
	if (r.error[0])
		fprintf(stderr, "icperf: %s\n", r.error);
	print_summary(&r);
	if (r.ctx)
		r.be->close(r.ctx);
	free(r.txbuf);
	free(r.txslot);
	free(r.samples);
	free(r.hist);
	return r.error[0] ? 1 : 0;
}
