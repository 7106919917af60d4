/*
 * The command line of icperf: the options, the usage text and the checks that turn argv into
 * a struct icperf_cfg. Bad arguments end the program here (exit 2), so everything after
 * cli_parse() can rely on a valid configuration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cli.h"
#include "frame.h"
#include "version.h"

static const char *mode_names[] = { "send", "recv", "client", "server" };

const char *cli_mode_name(enum icperf_mode mode)
{
	return mode_names[mode];
}

static void usage(FILE *f)
{
	const struct icperf_backend *const *b = backend_list();

	fprintf(f,
		"usage: icperf MODE [options]\n"
		"  MODE: send (paced sender) | recv (counting receiver) | client (round trip "
		"probes) | server (reflector)\n"
		"options:\n"
		"  --backend NAME    data path: %s (default udp)\n"
		"  --iface IF        interface (required by raw backends and ring; udp: SO_BINDTODEVICE)\n"
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
		"  --warmup-stable PCT  after --warmup, the warm-up lasts until a second's rate is\n"
		"                    within PCT %% of the one before (default 0: it ends at --warmup)\n"
		"  --warmup-max S    with --warmup-stable: the warm-up ends at S s at the latest\n"
		"                    (default 0: the planned end)\n"
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
	OPT_SIZE, OPT_RATE, OPT_BURST, OPT_DURATION, OPT_WARMUP, OPT_WARMUP_STABLE, OPT_WARMUP_MAX, OPT_TIMEOUT, OPT_TOUCH, OPT_CPU,
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
	{ "warmup-stable", required_argument, NULL, OPT_WARMUP_STABLE },
	{ "warmup-max", required_argument, NULL, OPT_WARMUP_MAX },
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
	case OPT_WARMUP_STABLE: return "a percentage from 0 to 100";
	case OPT_WARMUP_MAX: return "a number of seconds >= 0";
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

void cli_parse(int argc, char **argv, struct icperf_cfg *cfg)
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
		case OPT_WARMUP_STABLE:
			if (parse_num(a, 0, 100, &cfg->warmup_stable))
				BAD();
			break;
		case OPT_WARMUP_MAX:
			if (parse_num(a, 0, 1e7, &cfg->warmup_max))
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
	if (be->check_opts && be->check_opts(cfg))
		bad_args("%s", cfg->err);
	cfg->timeout = have_timeout ? cfg->timeout : cfg->duration + 30;
}
