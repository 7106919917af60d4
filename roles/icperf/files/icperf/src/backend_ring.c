/*
 * AF_PACKET backend with PACKET_MMAP rings ("ring"): whole Ethernet frames built by icperf,
 * exchanged with the kernel through memory shared with it instead of one copy per system call.
 *
 * Transmit: a send-only packet socket (protocol 0: it receives nothing) with a TPACKET_V2 TX
 *   ring (PACKET_TX_RING) of tx_frames slots. Each slot holds the frame template from open()
 *   on (written once per slot, like the core's own buffers for raw); tx_alloc hands the core
 *   the free slots at the ring's head, the core writes sequence number, timestamp (and the
 *   --touch bytes) into them, tx_burst marks them TP_STATUS_SEND_REQUEST and kicks the kernel
 *   with one sendto(fd, NULL, 0, MSG_DONTWAIT) per burst, which transmits every requested slot
 *   in order and hands it back (TP_STATUS_AVAILABLE) when its skb is freed. A slot that is not
 *   free when the core asks is refused: the rest of the burst counts as tx_dropped, as with
 *   the socket backends' full buffers (the core reuses their sequence numbers). When the
 *   device refuses a frame (ENOBUFS, e.g. the veth peer's backlog full), the kernel leaves it
 *   requested in the ring and the next kick sends it: those frames are delayed, not lost.
 *   PACKET_QDISC_BYPASS with --bopt qdisc_bypass=1. The server copies each frame to reflect
 *   into a free slot. The kernel copies only the Ethernet header of a slot into the skb and
 *   attaches the rest as (zero-copy) page fragments of the ring; --bopt tx_linear=N puts a
 *   virtio_net_hdr (PACKET_VNET_HDR, no offload) before each frame whose hdr_len makes it copy
 *   the first N bytes instead (software paths such as veth copy the fragments again).
 * Receive: a second packet socket, filtered like raw's (PACKET_IGNORE_OUTGOING, the classic BPF
 *   filter of backend_raw.c, the absorbing UDP socket), with a TPACKET_V3 RX ring
 *   (PACKET_RX_RING) of rx_blocks blocks of rx_block_size bytes. The kernel fills a block and
 *   hands it over (TP_STATUS_USER) when it is full or after rx_tov_ms milliseconds (the block
 *   retire timer); rx_burst walks the current block and returns up to --burst of its frames
 *   (data in the ring, no copy); the block goes back to the kernel (TP_STATUS_KERNEL) once all
 *   its frames were handed back (rx_release, or tx_burst for the server's reflected frames).
 *   A frame therefore waits up to rx_tov_ms in a block that is not full: round trips include
 *   that on both sides (raw is the backend for latency).
 *
 * Options (--bopt KEY=VALUE, repeatable; checked with the arguments):
 *   qdisc_bypass=0|1  PACKET_QDISC_BYPASS on the transmit socket (default 0)
 *   tx_frames=N       TX ring slots (default 4096; rounded up to whole blocks)
 *   tx_linear=N       bytes of each frame copied into the skb head (default 0: the minimum)
 *   rx_block_size=N   RX ring block bytes, a multiple of the page size (default 1 MiB)
 *   rx_blocks=N       RX ring blocks (default 64)
 *   rx_tov_ms=N       block retire timeout in ms (default 1; 0 = the kernel's choice)
 * The summary records what was used: "backend_opts":{"qdisc_bypass":B,"tx_frames":N,
 * "tx_frame_size":N,"tx_linear":N,"rx_blocks":N,"rx_block_size":N,"rx_tov_ms":N} (0 for a ring
 * the mode does not use: no TX ring for recv, no RX ring for send).
 *
 * Slot size: the TX ring's frames are a power of two holding the 32-byte tpacket2_hdr, the
 * virtio_net_hdr with tx_linear, and the frame (--size; the server: the interface MTU + 18, at
 * most 9014, what it may reflect).
 * Interface, addresses and MTU as raw (--iface; --src-mac/--src-ip default to the
 * interface's).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define RING_DEF_TX_FRAMES 4096
#define RING_DEF_RX_BLOCK_SIZE (1UL << 20)
#define RING_DEF_RX_BLOCKS 64
#define RING_DEF_RX_TOV_MS 1
/* V3 RX rings have variable-sized frames; the kernel only checks tp_frame_size/tp_frame_nr
 * for consistency (frames per block x blocks) */
#define RING_RX_FRAME_SIZE 2048
/* where a V2 TX frame's data start without PACKET_TX_HAS_OFF: tp_hdrlen less the sockaddr_ll */
#define RING_TX_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define RING_FLUSH_MS 100          /* close(): at most this long for slots still requested */

#define RING_OPT_KEYS "qdisc_bypass, tx_frames, tx_linear, rx_block_size, rx_blocks, rx_tov_ms"

struct ring_opts {
	int qdisc_bypass;
	unsigned long tx_frames, tx_linear, rx_block_size, rx_blocks, rx_tov_ms;
};

struct ring_ctx {
	int fd;                   /* the receiving socket, else the transmitting one (sock_wait_rx) */
	int txfd, rxfd, absorb_fd;
	struct ring_opts o;
	struct icperf_cfg *cfg;   /* cfg->tmpl is set by the core after open() */
	struct sockaddr_ll txaddr;

	/* TX ring (TPACKET_V2) */
	uint8_t *tx_map;
	size_t tx_map_len;
	unsigned tx_frames, tx_frame_size, tx_room, tx_head;
	unsigned tx_vnet;         /* tx_linear: bytes of the virtio_net_hdr before each frame */
	unsigned tx_off;          /* where a slot's frame starts */
	int tmpl_ready;
	uint8_t *tmpl;            /* what the slots hold (open), checked at the first tx_alloc */

	/* RX ring (TPACKET_V3) */
	uint8_t *rx_map;
	size_t rx_map_len;
	unsigned rx_blocks, rx_block_size, rx_cur;
	int rx_open;              /* block rx_cur is being walked */
	unsigned rx_left;         /* its frames not handed out yet */
	unsigned rx_out;          /* its frames handed out and not given back */
	uint8_t *rx_pkt;          /* its next frame (struct tpacket3_hdr) */
};

/* sock_wait_rx reads the fd through the context pointer */
_Static_assert(offsetof(struct ring_ctx, fd) == 0, "struct ring_ctx must start with fd");

/* descriptor tags (pkt.priv): a received frame (in the RX ring) or a TX slot */
static char rx_tag, tx_tag;

/* ---- options ---- */

static int opt_ulong(struct icperf_cfg *cfg, const char *key, const char *v, unsigned long lo,
		     unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (!*v || *v == '-' || *v == '+' || *v == ' ' || errno || *end || x < lo || x > hi) {
		cfg_error(cfg, "invalid value for --bopt %s: '%s'; allowed: %lu..%lu", key, v, lo,
			  hi);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_opts(struct icperf_cfg *cfg, struct ring_opts *o)
{
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE), b;

	memset(o, 0, sizeof(*o));
	o->tx_frames = RING_DEF_TX_FRAMES;
	o->rx_block_size = RING_DEF_RX_BLOCK_SIZE;
	o->rx_blocks = RING_DEF_RX_BLOCKS;
	o->rx_tov_ms = RING_DEF_RX_TOV_MS;
	for (int i = 0; i < cfg->nbopts; i++) {
		const char *kv = cfg->bopts[i], *eq = strchr(kv, '='), *v = eq + 1;
		size_t klen = (size_t)(eq - kv);
		char key[32];

		if (klen >= sizeof(key)) {
			cfg_error(cfg, "unknown --bopt '%s' for backend ring; allowed keys: "
				  RING_OPT_KEYS, kv);
			return -1;
		}
		memcpy(key, kv, klen);
		key[klen] = 0;
		if (!strcmp(key, "qdisc_bypass")) {
			if (strcmp(v, "0") && strcmp(v, "1")) {
				cfg_error(cfg, "invalid value for --bopt qdisc_bypass: '%s'; allowed: "
					  "0 or 1", v);
				return -1;
			}
			o->qdisc_bypass = *v == '1';
		} else if (!strcmp(key, "tx_frames")) {
			if (opt_ulong(cfg, key, v, 1, 1UL << 20, &o->tx_frames))
				return -1;
		} else if (!strcmp(key, "tx_linear")) {
			if (opt_ulong(cfg, key, v, 0, ICPERF_MAX_SIZE, &o->tx_linear))
				return -1;
		} else if (!strcmp(key, "rx_block_size")) {
			if (opt_ulong(cfg, key, v, page, 1UL << 30, &o->rx_block_size))
				return -1;
			if (o->rx_block_size % page) {
				cfg_error(cfg, "invalid value for --bopt rx_block_size: '%s'; allowed: "
					  "a multiple of the page size (%lu)", v, page);
				return -1;
			}
		} else if (!strcmp(key, "rx_blocks")) {
			if (opt_ulong(cfg, key, v, 1, 1UL << 16, &o->rx_blocks))
				return -1;
		} else if (!strcmp(key, "rx_tov_ms")) {
			if (opt_ulong(cfg, key, v, 0, 60000, &o->rx_tov_ms))
				return -1;
		} else {
			cfg_error(cfg, "unknown --bopt '%s' for backend ring; allowed keys: "
				  RING_OPT_KEYS, kv);
			return -1;
		}
	}
	b = o->rx_block_size;
	if (b * o->rx_blocks > (1UL << 32) - 1) {
		cfg_error(cfg, "invalid --bopt rx_block_size=%lu with rx_blocks=%lu: allowed: an RX "
			  "ring under 4 GiB", b, o->rx_blocks);
		return -1;
	}
	return 0;
}

static int ring_check_opts(struct icperf_cfg *cfg)
{
	struct ring_opts o;

	return parse_opts(cfg, &o);
}

/* ---- TX ring ---- */

static inline struct tpacket2_hdr *tx_slot(const struct ring_ctx *c, unsigned i)
{
	return (struct tpacket2_hdr *)(c->tx_map + (size_t)i * c->tx_frame_size);
}

static inline int slot_free(const struct tpacket2_hdr *h)
{
	/* AVAILABLE, possibly with timestamp flags */
	return !(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) &
		 (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | TP_STATUS_WRONG_FORMAT));
}

/* Have the kernel transmit the requested slots. 0, or -errno when it failed for good (a soft
 * error leaves the slot requested: the next kick retries it). */
static int kick(struct ring_ctx *c)
{
	if (sendto(c->txfd, NULL, 0, MSG_DONTWAIT, (struct sockaddr *)&c->txaddr,
		   sizeof(c->txaddr)) < 0 && !sock_tx_soft_error(errno))
		return -errno;
	return 0;
}

/* tx_linear: the virtio_net_hdr before a frame of len bytes (no offload, no GSO): the kernel
 * copies its first hdr_len bytes into the skb's head, the rest stays page fragments */
static inline void put_vnet(const struct ring_ctx *c, struct tpacket2_hdr *h, uint32_t len)
{
	struct virtio_net_hdr *v = (struct virtio_net_hdr *)((uint8_t *)h + RING_TX_OFF);
	uint32_t lin = c->o.tx_linear < len ? (uint32_t)c->o.tx_linear : len;

	v->hdr_len = htole16((uint16_t)lin);
}

static void fill_slots(struct ring_ctx *c, const uint8_t *tmpl)
{
	for (unsigned i = 0; i < c->tx_frames; i++) {
		struct tpacket2_hdr *h = tx_slot(c, i);
		if (c->tx_vnet) {
			memset((uint8_t *)h + RING_TX_OFF, 0, c->tx_vnet);
			put_vnet(c, h, c->cfg->size);
		}
		memcpy((uint8_t *)h + c->tx_off, tmpl, c->cfg->size);
		h->tp_len = c->tx_vnet + c->cfg->size;
	}
}

/* free slots from the head, at most n */
static inline int free_run(const struct ring_ctx *c, int from, int n)
{
	unsigned i = c->tx_head + (unsigned)from;

	if (i >= c->tx_frames)
		i -= c->tx_frames;
	while (from < n && slot_free(tx_slot(c, i))) {
		from++;
		if (++i == c->tx_frames)
			i = 0;
	}
	return from;
}

static int ring_tx_alloc(void *ctx, struct pkt *p, int n)
{
	struct ring_ctx *c = ctx;
	unsigned i;
	int k, rc;

	if (__builtin_expect(!c->tmpl_ready, 0)) {
		/* no slot handed out yet: they hold the template built in open(); rewrite them if
		 * the core's differs */
		if (memcmp(c->tmpl, c->cfg->tmpl, c->cfg->size))
			fill_slots(c, c->cfg->tmpl);
		c->tmpl_ready = 1;
	}
	if (n > (int)c->tx_frames)
		n = (int)c->tx_frames;
	k = free_run(c, 0, n);
	if (k < n) {
		/* the ring is full (or slots wait for a retry): kick, which also sends slots an
		 * earlier kick left requested, then look again */
		if ((rc = kick(c)))
			return rc;
		k = free_run(c, k, n);
	}
	i = c->tx_head;
	for (int j = 0; j < k; j++) {
		p[j].data = (uint8_t *)tx_slot(c, i) + c->tx_off;
		p[j].len = c->cfg->size;
		p[j].use_peer = 0;
		p[j].priv = &tx_tag;
		if (++i == c->tx_frames)
			i = 0;
	}
	return k;
}

/* ---- RX ring ---- */

static inline struct tpacket_block_desc *rx_block(const struct ring_ctx *c, unsigned i)
{
	return (struct tpacket_block_desc *)(c->rx_map + (size_t)i * c->rx_block_size);
}

/* hand the current block back once it was walked and all its frames came back */
static inline void rx_settle(struct ring_ctx *c)
{
	if (c->rx_open && !c->rx_left && !c->rx_out) {
		__atomic_store_n(&rx_block(c, c->rx_cur)->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		if (++c->rx_cur == c->rx_blocks)
			c->rx_cur = 0;
		c->rx_open = 0;
	}
}

static inline void rx_put(struct ring_ctx *c, unsigned n)
{
	c->rx_out -= n < c->rx_out ? n : c->rx_out;
	rx_settle(c);
}

static int ring_rx_burst(void *ctx, struct pkt *p, int max)
{
	struct ring_ctx *c = ctx;
	int k = 0;

	rx_settle(c);
	if (!c->rx_open) {
		struct tpacket_block_desc *bd = rx_block(c, c->rx_cur);
		if (c->rx_out)
			return 0; /* cannot happen: the core gives every frame back first */
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			return 0;
		c->rx_open = 1;
		c->rx_left = bd->hdr.bh1.num_pkts;
		c->rx_pkt = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
		if (!c->rx_left) {
			rx_settle(c);
			return 0;
		}
	}
	while (k < max && c->rx_left) {
		struct tpacket3_hdr *h = (struct tpacket3_hdr *)c->rx_pkt;
		p[k].data = c->rx_pkt + h->tp_mac;
		p[k].len = h->tp_snaplen;
		p[k].use_peer = 0;
		p[k].priv = &rx_tag;
		k++;
		c->rx_left--;
		c->rx_pkt += h->tp_next_offset;
	}
	c->rx_out += (unsigned)k;
	return k;
}

static void ring_rx_release(void *ctx, struct pkt *p, int n)
{
	(void)p;
	rx_put(ctx, (unsigned)n);
}

/* ---- transmit ---- */

static int ring_tx_burst(void *ctx, struct pkt *p, int n)
{
	struct ring_ctx *c = ctx;
	unsigned rx_given = 0;
	int i, rc = 0, kicked = 0;

	for (i = 0; i < n; i++) {
		struct tpacket2_hdr *h = tx_slot(c, c->tx_head);
		uint8_t *d = (uint8_t *)h + c->tx_off;
		if (p[i].data != d) {
			/* a received frame to reflect (server): copy it into the next free slot */
			if (p[i].len > c->tx_room)
				break;
			if (!slot_free(h)) {
				if (kicked || (rc = kick(c)) || !slot_free(h))
					break;
				kicked = 1;
			}
			memcpy(d, p[i].data, p[i].len);
		}
		if (c->tx_vnet)
			put_vnet(c, h, p[i].len);
		h->tp_len = c->tx_vnet + p[i].len;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		if (++c->tx_head == c->tx_frames)
			c->tx_head = 0;
	}
	/* every descriptor is consumed: received frames go back to the RX ring */
	for (int j = 0; j < n; j++)
		rx_given += p[j].priv == &rx_tag;
	if (rx_given)
		rx_put(c, rx_given);
	if (rc)
		return rc;
	if (i && (rc = kick(c)))
		return rc;
	return i;
}

/* ---- open / close ---- */

/* The ring of fd mapped into this process (len bytes), or NULL with the error set. */
static uint8_t *map_ring(struct icperf_cfg *cfg, int fd, size_t len, const char *which)
{
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);

	if (map == MAP_FAILED) {
		cfg_error(cfg, "mmap of the %s ring (%zu bytes): %s", which, len, strerror(errno));
		return NULL;
	}
	return map;
}

static unsigned pow2_at_least(unsigned v)
{
	unsigned p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int open_rx(struct ring_ctx *c, struct icperf_cfg *cfg, int ifindex)
{
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	int one = 1, ver = TPACKET_V3;

	/* protocol 0 until bind(): no frame of another interface reaches the ring */
	c->rxfd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->rxfd < 0) {
		cfg_error(cfg, "socket(AF_PACKET, SOCK_RAW): %s", strerror(errno));
		return -1;
	}
	if (afp_attach_filter(c->rxfd, cfg->port)) {
		cfg_error(cfg, "SO_ATTACH_FILTER: %s", strerror(errno));
		return -1;
	}
	/* best effort (kernel >= 4.20) */
	setsockopt(c->rxfd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	if (sock_set_bufs(c->rxfd, cfg->sockbuf, 0, 1, cfg))
		return -1;
	if (setsockopt(c->rxfd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver))) {
		cfg_error(cfg, "PACKET_VERSION TPACKET_V3: %s", strerror(errno));
		return -1;
	}
	c->rx_blocks = (unsigned)c->o.rx_blocks;
	c->rx_block_size = (unsigned)c->o.rx_block_size;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = c->rx_block_size;
	req.tp_block_nr = c->rx_blocks;
	req.tp_frame_size = RING_RX_FRAME_SIZE;
	req.tp_frame_nr = c->rx_block_size / RING_RX_FRAME_SIZE * c->rx_blocks;
	req.tp_retire_blk_tov = (unsigned)c->o.rx_tov_ms;
	if (setsockopt(c->rxfd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req))) {
		cfg_error(cfg, "PACKET_RX_RING (%u blocks of %u bytes): %s; try smaller --bopt "
			  "rx_blocks/rx_block_size", c->rx_blocks, c->rx_block_size, strerror(errno));
		return -1;
	}
	c->rx_map_len = (size_t)c->rx_block_size * c->rx_blocks;
	if (!(c->rx_map = map_ring(cfg, c->rxfd, c->rx_map_len, "RX")))
		return -1;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_ifindex = ifindex;
	if (bind(c->rxfd, (struct sockaddr *)&sll, sizeof(sll))) {
		cfg_error(cfg, "bind AF_PACKET to %s: %s", cfg->iface, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_tx(struct ring_ctx *c, struct icperf_cfg *cfg, int ifindex, int mtu)
{
	struct tpacket_req req;
	struct sockaddr_ll sll;
	unsigned page = (unsigned)sysconf(_SC_PAGESIZE), block, per_block;
	int ver = TPACKET_V2, one = 1;

	c->txfd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->txfd < 0) {
		cfg_error(cfg, "socket(AF_PACKET, SOCK_RAW): %s", strerror(errno));
		return -1;
	}
	if (sock_set_bufs(c->txfd, cfg->sockbuf, 1, 0, cfg))
		return -1;
	if (setsockopt(c->txfd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver))) {
		cfg_error(cfg, "PACKET_VERSION TPACKET_V2: %s", strerror(errno));
		return -1;
	}
	if (c->o.qdisc_bypass &&
	    setsockopt(c->txfd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		cfg_error(cfg, "PACKET_QDISC_BYPASS: %s", strerror(errno));
		return -1;
	}
	if (c->o.tx_linear) {
		/* before the ring (the kernel refuses it after) */
		if (setsockopt(c->txfd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one))) {
			cfg_error(cfg, "PACKET_VNET_HDR (for --bopt tx_linear): %s", strerror(errno));
			return -1;
		}
		c->tx_vnet = sizeof(struct virtio_net_hdr);
	}
	c->tx_off = (unsigned)RING_TX_OFF + c->tx_vnet;
	/* the bytes a slot carries: our frames; the server reflects what it receives, up to
	 * the MTU plus Ethernet and VLAN headers */
	c->tx_room = cfg->size;
	if (cfg->mode == MODE_SERVER) {
		unsigned rx_max = mtu + 18 < ICPERF_MAX_SIZE ? (unsigned)mtu + 18 : ICPERF_MAX_SIZE;
		if (rx_max > c->tx_room)
			c->tx_room = rx_max;
	}
	c->tx_frame_size = pow2_at_least(c->tx_off + c->tx_room);
	block = c->tx_frame_size > page ? c->tx_frame_size : page;
	per_block = block / c->tx_frame_size;
	c->tx_frames = (unsigned)((c->o.tx_frames + per_block - 1) / per_block * per_block);
	memset(&req, 0, sizeof(req));
	req.tp_block_size = block;
	req.tp_block_nr = c->tx_frames / per_block;
	req.tp_frame_size = c->tx_frame_size;
	req.tp_frame_nr = c->tx_frames;
	if (setsockopt(c->txfd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req))) {
		cfg_error(cfg, "PACKET_TX_RING (%u frames of %u bytes): %s; try a smaller --bopt "
			  "tx_frames", c->tx_frames, c->tx_frame_size, strerror(errno));
		return -1;
	}
	c->tx_map_len = (size_t)c->tx_frames * c->tx_frame_size;
	if (!(c->tx_map = map_ring(cfg, c->txfd, c->tx_map_len, "TX")))
		return -1;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = 0;
	sll.sll_ifindex = ifindex;
	if (bind(c->txfd, (struct sockaddr *)&sll, sizeof(sll))) {
		cfg_error(cfg, "bind AF_PACKET to %s: %s", cfg->iface, strerror(errno));
		return -1;
	}
	c->txaddr = sll;
	c->txaddr.sll_protocol = htons(ETH_P_IP);
	c->txaddr.sll_halen = 6;
	if (cfg->mode != MODE_SERVER) {
		/* the template the core builds after open() (cfg_build_template, same cfg),
		 * written once into every slot now; tx_alloc checks it before the first burst */
		c->tmpl = malloc(cfg->size);
		if (!c->tmpl) {
			cfg_error(cfg, "out of memory");
			return -1;
		}
		cfg_build_template(cfg, c->tmpl);
		fill_slots(c, c->tmpl);
	}
	return 0;
}

/* close(): give slots still requested (their kick was refused) a chance to go out */
static void flush_tx(struct ring_ctx *c)
{
	struct timespec nap = { 0, 1000 * 1000 };

	for (int t = 0; t < RING_FLUSH_MS; t++) {
		int pending = 0;
		for (unsigned i = 0; i < c->tx_frames && !pending; i++)
			pending = __atomic_load_n(&tx_slot(c, i)->tp_status, __ATOMIC_ACQUIRE) &
				  TP_STATUS_SEND_REQUEST;
		if (!pending || kick(c))
			return;
		nanosleep(&nap, NULL);
	}
}

static void ring_teardown(struct ring_ctx *c)
{
	if (c->tx_map) {
		flush_tx(c);
		munmap(c->tx_map, c->tx_map_len);
	}
	if (c->rx_map) {
		struct tpacket_stats_v3 st;
		socklen_t len = sizeof(st);
		if (c->cfg && c->cfg->do_rx &&
		    !getsockopt(c->rxfd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
			fprintf(stderr, "icperf: ring %s: rx ring packets %u drops %u\n",
				c->cfg->iface, st.tp_packets, st.tp_drops);
		munmap(c->rx_map, c->rx_map_len);
	}
	if (c->txfd >= 0)
		close(c->txfd);
	if (c->rxfd >= 0)
		close(c->rxfd);
	if (c->absorb_fd >= 0)
		close(c->absorb_fd);
	free(c->tmpl);
	free(c);
}

static int ring_open(struct icperf_cfg *cfg, void **pctx)
{
	struct ring_ctx *c;
	int ifindex, mtu = 0;

	c = calloc(1, sizeof(*c));
	if (!c) {
		cfg_error(cfg, "out of memory");
		return -1;
	}
	c->fd = c->txfd = c->rxfd = c->absorb_fd = -1;
	if (parse_opts(cfg, &c->o))
		goto fail;
	if (!cfg->iface) {
		cfg_error(cfg, "backend %s needs --iface", cfg->backend);
		goto fail;
	}
	ifindex = (int)if_nametoindex(cfg->iface);
	if (!ifindex) {
		cfg_error(cfg, "interface '%s' not found", cfg->iface);
		goto fail;
	}
	if (afp_iface_info(cfg, cfg->mode == MODE_SEND || cfg->mode == MODE_CLIENT, &mtu))
		goto fail;
	if (cfg->do_tx && cfg->mode != MODE_SERVER && (int)cfg->size - 14 > mtu) {
		cfg_error(cfg, "frame size %u needs MTU >= %u on %s (MTU is %d)", cfg->size,
			  cfg->size - 14, cfg->iface, mtu);
		goto fail;
	}
	c->cfg = cfg;
	if (cfg->do_rx && open_rx(c, cfg, ifindex))
		goto fail;
	if (cfg->do_tx && open_tx(c, cfg, ifindex, mtu))
		goto fail;
	/* last: harnesses (run_tests.sh) take the UDP port for "the receiver is ready", and
	 * setting up the rings takes a while (64 MiB for the default RX ring) */
	if (cfg->do_rx)
		c->absorb_fd = afp_open_absorber(cfg->port);
	c->fd = cfg->do_rx ? c->rxfd : c->txfd;
	snprintf(cfg->backend_opts, sizeof(cfg->backend_opts),
		 "{\"qdisc_bypass\":%d,\"tx_frames\":%u,\"tx_frame_size\":%u,\"tx_linear\":%lu,"
		 "\"rx_blocks\":%u,\"rx_block_size\":%u,\"rx_tov_ms\":%lu}",
		 c->o.qdisc_bypass, c->tx_frames, c->tx_map ? c->tx_frame_size : 0,
		 c->tx_map ? c->o.tx_linear : 0, c->rx_blocks,
		 c->rx_map ? c->rx_block_size : 0, c->rx_map ? c->o.rx_tov_ms : 0);
	*pctx = c;
	return 0;
fail:
	c->cfg = NULL; /* no statistics line for a ring that never ran */
	ring_teardown(c);
	return -1;
}

static void ring_close(void *ctx)
{
	if (ctx)
		ring_teardown(ctx);
}

const struct icperf_backend icperf_backend_ring = {
	.name = "ring",
	.help = "AF_PACKET PACKET_MMAP: TPACKET_V2 TX ring, TPACKET_V3 RX ring (needs --iface; "
		"--bopt qdisc_bypass=0|1, tx_frames=, tx_linear=, rx_block_size=, rx_blocks=, "
		"rx_tov_ms=)",
	.needs_l2 = 1,
	.needs_iface = 1,
	.check_opts = ring_check_opts,
	.open = ring_open,
	.tx_alloc = ring_tx_alloc,
	.tx_burst = ring_tx_burst,
	.rx_burst = ring_rx_burst,
	.rx_release = ring_rx_release,
	.wait_rx = sock_wait_rx,
	.close = ring_close,
};
