/*
 * The backend interface of icperf.
 *
 * A backend only moves frames (needs_l2 = 1: whole Ethernet frames) or UDP payloads
 * (needs_l2 = 0: the kernel builds the headers). Everything else (pacing, sequence numbers,
 * timestamps, touching the payload, statistics, histogram, JSON) lives in the core, so a new
 * data path (DPDK, netmap, AF_XDP ...) is ONE new file plus one line in the registry table of
 * backend.c.
 *
 * Packet descriptors (struct pkt)
 *   data/len  the bytes of one packet: the Ethernet frame (needs_l2) or the UDP payload.
 *   peer      L4 backends only: source address of a received datagram, destination of a
 *             datagram handed to tx_burst when use_peer is set (the reflector answers to it).
 *   priv      backend private handle (e.g. the struct rte_mbuf * that holds data).
 *
 * Buffer ownership
 *   TX, core buffers (tx_alloc == NULL): the core owns `burst` buffers, each prefilled once
 *     with the frame template (needs_l2) or a zeroed payload, and per packet only rewrites
 *     the sequence number, the timestamp and (with --touch) the payload bytes.
 *   TX, backend buffers (tx_alloc != NULL): before filling a burst the core calls
 *     tx_alloc(ctx, pkts, n); the backend points pkts[i].data at its own buffers (e.g. mbuf
 *     data) which already hold the frame template cfg->tmpl (e.g. written once per mbuf when
 *     the pool is created), so no extra copy is needed. It returns how many it provided.
 *   tx_burst(ctx, pkts, n) transmits a PREFIX of pkts and returns its length k (0..n), or a
 *     negative errno for a fatal error. pkts[k..n) were not sent (queue or socket buffer
 *     full); the core counts them as tx_dropped and reuses their sequence numbers. tx_burst
 *     consumes all n descriptors (a backend with its own buffers frees the unsent ones).
 *   rx_burst(ctx, pkts, max) returns 0..max received packets (never blocks) or a negative
 *     errno. Each returned descriptor must be given back exactly once: to tx_burst (the
 *     reflector sends received packets back in place) or to rx_release. The data stays
 *     valid until then (socket backends: until the next rx_burst call).
 *   wait_rx(ctx, timeout_ms) optional: block until something may be received or the
 *     timeout expires (poll(2) on a socket). Without it the core sleeps 1 ms instead.
 *
 * Options (--bopt KEY=VALUE, cfg->bopts): check_opts(cfg) (optional) validates them while the
 * arguments are read: -1 with cfg->err set ends icperf like any bad argument (exit 2). open()
 * reads them (again) and may record the options it used in cfg->backend_opts, a JSON object
 * the summary prints as "backend_opts" (null when empty).
 *
 * Errors: open() returns 0 or -1; on failure it writes a one-line reason to cfg->err.
 */
#ifndef ICPERF_BACKEND_H
#define ICPERF_BACKEND_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define ICPERF_MAX_BURST 1024
#define ICPERF_MIN_SIZE 64
#define ICPERF_MAX_SIZE 9014
#define ICPERF_HDR_LEN 42    /* Ethernet 14 + IPv4 20 + UDP 8 */
#define ICPERF_RX_SLOT 9216  /* receive buffer per packet, >= ICPERF_MAX_SIZE */
#define ICPERF_MAX_BOPTS 16

enum icperf_mode { MODE_SEND, MODE_RECV, MODE_CLIENT, MODE_SERVER };

struct icperf_cfg {
	enum icperf_mode mode;
	const char *backend;
	const char *iface;            /* NULL when not given */
	struct in_addr src_ip, dst_ip; /* network byte order */
	int have_src_ip, have_dst_ip;
	uint16_t port;                /* host byte order, used as source and destination port */
	uint8_t src_mac[6], dst_mac[6];
	int have_src_mac, have_dst_mac;
	unsigned size;                /* frame size without FCS, 64..9014 */
	double rate;                  /* pps, 0 = unpaced */
	unsigned burst;               /* 1..ICPERF_MAX_BURST */
	double duration, warmup, timeout;
	/* --warmup-stable PCT: the warm-up ends, after --warmup, at the first second whose rate is
	 * within PCT % of the second before it (0 = after --warmup in any case); --warmup-max S: at
	 * S s at the latest (0 = the planned end) */
	double warmup_stable, warmup_max;
	int touch;
	int cpu;                      /* -1 = not pinned */
	int busy;                     /* never sleep */
	int rx_block;                 /* recv/server: block in wait_rx when idle */
	int sockbuf;                  /* SO_SNDBUF/SO_RCVBUF bytes, 0 = system default */
	/* --bopt KEY=VALUE (repeatable): options only the selected backend understands (e.g.
	 * DPDK EAL arguments). A backend that takes none rejects them in open(). */
	const char *bopts[ICPERF_MAX_BOPTS];
	int nbopts;

	/* derived by the core before open() */
	int do_tx, do_rx;             /* this mode transmits / receives */

	/* filled by open() when not given (L2 backends): src_mac, src_ip */

	/* written by the core after open(), before the first tx_alloc/tx_burst: the whole
	 * frame template (size bytes; payload zero) for L2 backends. */
	const uint8_t *tmpl;

	/* filled by open() (optional): the options the backend used, one JSON object such as
	 * {"qdisc_bypass":0,...}; the summary's "backend_opts" (null when left empty) */
	char backend_opts[256];

	char err[256];                /* reason of a failure, set by open() / check_opts() */
};

struct pkt {
	uint8_t *data;
	uint32_t len;
	uint32_t use_peer;            /* tx: send to peer (L4 backends) */
	struct sockaddr_in peer;
	void *priv;
};

struct icperf_backend {
	const char *name;
	const char *help;             /* one line for --help */
	int needs_l2;                 /* 1: moves whole Ethernet frames; 0: UDP payloads */
	int needs_iface;              /* --iface is required (checked with the arguments) */
	int (*check_opts)(struct icperf_cfg *cfg);                       /* optional */
	int (*open)(struct icperf_cfg *cfg, void **ctx);
	int (*tx_alloc)(void *ctx, struct pkt *pkts, int n);             /* optional */
	int (*tx_burst)(void *ctx, struct pkt *pkts, int n);
	int (*rx_burst)(void *ctx, struct pkt *pkts, int max);
	void (*rx_release)(void *ctx, struct pkt *pkts, int n);          /* optional */
	int (*wait_rx)(void *ctx, int timeout_ms);                       /* optional */
	void (*close)(void *ctx);
};

/* registry (backend.c) */
const struct icperf_backend *backend_find(const char *name);
/* "udp | udp-mmsg | ..." for messages */
const char *backend_names(void);
const struct icperf_backend *const *backend_list(void);

/* helpers shared by backends (backend.c) */
/* open() of a backend without options: -1 (cfg->err set) when --bopt was given */
int backend_no_opts(struct icperf_cfg *cfg);
void cfg_error(struct icperf_cfg *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* SO_SNDBUF/SO_RCVBUF (the FORCE variants first, as root may exceed the sysctl limits);
 * bytes <= 0 leaves the system defaults. 0 or -1 (cfg->err set). */
int sock_set_bufs(int fd, int bytes, int sndbuf, int rcvbuf, struct icperf_cfg *cfg);
/* wait_rx of the socket backends (udp*, raw*): poll(2) for POLLIN on the socket. Their context
 * struct must start with the socket's int fd (each checks it with a static assertion). */
int sock_wait_rx(void *ctx, int timeout_ms);
/* errno of a failed non-blocking send that only ends the burst (the rest counts as tx_dropped):
 * socket buffer or device queue full (EAGAIN, ENOBUFS), a signal, or a pending ICMP error on a
 * connected UDP socket (ECONNREFUSED; a packet socket never reports one). */
int sock_tx_soft_error(int e);
/* errno of a failed non-blocking receive that means "nothing now": no datagram queued, a
 * signal, or a pending ICMP error on a connected UDP socket (ECONNREFUSED). */
int sock_rx_soft_error(int e);
/* Write the frame template of cfg (cfg->size bytes: its MACs, IPv4 addresses and port, payload
 * zero) to buf: what the core points cfg->tmpl at for L2 backends. */
void cfg_build_template(const struct icperf_cfg *cfg, uint8_t *buf);

/* helpers of the AF_PACKET backends (backend_raw.c; used by raw, raw-mmsg and ring) */
/* MTU of cfg->iface into *mtu; fills cfg->src_mac and (need_ip) cfg->src_ip when not given.
 * 0 or -1 (cfg->err set). */
int afp_iface_info(struct icperf_cfg *cfg, int need_ip, int *mtu);
/* classic BPF filter: PACKET_HOST, IPv4, UDP, not a fragment, destination port. 0 or -1. */
int afp_attach_filter(int fd, uint16_t port);
/* UDP socket on port with the smallest receive buffer, so the kernel's IP stack drops the
 * frames a packet socket also receives quietly instead of answering them with ICMP; -1 when
 * the port is taken (best effort). */
int afp_open_absorber(uint16_t port);

#endif
