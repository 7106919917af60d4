/*
 * AF_PACKET SOCK_RAW backends: whole Ethernet frames built by icperf.
 *   raw       one send()/recv() system call per frame
 *   raw-mmsg  sendmmsg()/recvmmsg() on the packet socket: one system call per burst
 *             (PACKET_TX_RING/PACKET_RX_RING are not used: the study compared plain and
 *             mmsg raw sockets; backend_ring.c has the rings)
 *
 * The socket is bound to --iface. A send-only socket (mode send) is opened with protocol 0,
 * so it receives nothing. A receiving socket is opened for ETH_P_IP with
 * PACKET_IGNORE_OUTGOING (its own transmissions are not looped back to it) and a classic
 * BPF filter that keeps only frames addressed to this host (PACKET_HOST), IPv4, UDP, not a
 * fragment, destination port --port; everything else is dropped in the kernel.
 * The kernel's own IP stack also sees the frames (AF_PACKET is a tap): with nothing bound
 * to the UDP port it answers with rate-limited ICMP port unreachable messages.
 *
 * Defaults: --src-mac is the interface's MAC, --src-ip its first IPv4 address (needed only
 * to build transmitted frames). The frame size must fit the interface MTU (size - 14).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct raw_ctx {
	int fd;
	int absorb_fd;  /* UDP socket on --port that keeps the kernel stack quiet, or -1 */
	int mmsg;
	unsigned slots;
	struct sockaddr_ll txaddr;
	uint8_t *rxbuf;
	struct iovec rxiov[ICPERF_MAX_BURST];
	struct mmsghdr rxmsg[ICPERF_MAX_BURST];
	struct iovec txiov[ICPERF_MAX_BURST];
	struct mmsghdr txmsg[ICPERF_MAX_BURST];
};

/* sock_wait_rx reads the fd through the context pointer */
_Static_assert(offsetof(struct raw_ctx, fd) == 0, "struct raw_ctx must start with fd");

int afp_iface_info(struct icperf_cfg *cfg, int need_ip, int *mtu)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (fd < 0) {
		cfg_error(cfg, "socket(AF_INET): %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, cfg->iface, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFMTU, &ifr)) {
		cfg_error(cfg, "interface '%s': SIOCGIFMTU: %s", cfg->iface, strerror(errno));
		goto out;
	}
	*mtu = ifr.ifr_mtu;
	if (!cfg->have_src_mac) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
			cfg_error(cfg, "interface '%s': no MAC address (%s); give --src-mac",
				  cfg->iface, strerror(errno));
			goto out;
		}
		memcpy(cfg->src_mac, ifr.ifr_hwaddr.sa_data, 6);
		cfg->have_src_mac = 1;
	}
	if (need_ip && !cfg->have_src_ip) {
		if (ioctl(fd, SIOCGIFADDR, &ifr)) {
			cfg_error(cfg, "interface '%s' has no IPv4 address (%s); give --src-ip",
				  cfg->iface, strerror(errno));
			goto out;
		}
		cfg->src_ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
		cfg->have_src_ip = 1;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int afp_attach_filter(int fd, uint16_t port)
{
	/* jump offsets count the instructions skipped; DROP is instruction 12 */
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 10),
		/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),             /* ethertype */
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 8),
		/* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),             /* IP protocol */
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
		/* 6 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),             /* flags, fragment */
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
		/* 8 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),            /* X = IP header len */
		/* 9 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),             /* UDP dst port */
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

/*
 * The kernel's IP stack sees every frame a packet socket receives. With nothing bound to the
 * UDP port it would try to answer each with an ICMP port unreachable (route lookups before the
 * rate limit: about 15 % of the core that runs the receive softirq). A UDP socket bound to the
 * port with the smallest receive buffer makes the stack drop the datagrams quietly instead
 * (counted in the kernel's UDP RcvbufErrors). Best effort: if the port is taken, nothing.
 */
int afp_open_absorber(uint16_t port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), tiny = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int raw_open_common(struct icperf_cfg *cfg, void **pctx, int mmsg)
{
	struct raw_ctx *c;
	struct sockaddr_ll sll;
	int ifindex, mtu = 0, one = 1;
	uint8_t junk[64];

	if (backend_no_opts(cfg))
		return -1;
	if (!cfg->iface) {
		cfg_error(cfg, "backend %s needs --iface", cfg->backend);
		return -1;
	}
	ifindex = (int)if_nametoindex(cfg->iface);
	if (!ifindex) {
		cfg_error(cfg, "interface '%s' not found", cfg->iface);
		return -1;
	}
	if (afp_iface_info(cfg, cfg->mode == MODE_SEND || cfg->mode == MODE_CLIENT, &mtu))
		return -1;
	if (cfg->do_tx && cfg->mode != MODE_SERVER && (int)cfg->size - 14 > mtu) {
		cfg_error(cfg, "frame size %u needs MTU >= %u on %s (MTU is %d)", cfg->size,
			  cfg->size - 14, cfg->iface, mtu);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		cfg_error(cfg, "out of memory");
		return -1;
	}
	c->mmsg = mmsg;
	c->slots = cfg->burst;
	c->absorb_fd = cfg->do_rx ? afp_open_absorber(cfg->port) : -1;
	c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       cfg->do_rx ? htons(ETH_P_IP) : 0);
	if (c->fd < 0) {
		cfg_error(cfg, "socket(AF_PACKET, SOCK_RAW): %s", strerror(errno));
		goto fail;
	}
	if (cfg->do_rx) {
		if (afp_attach_filter(c->fd, cfg->port)) {
			cfg_error(cfg, "SO_ATTACH_FILTER: %s", strerror(errno));
			goto fail;
		}
		/* best effort (kernel >= 4.20) */
		setsockopt(c->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	}
	if (sock_set_bufs(c->fd, cfg->sockbuf, cfg->do_tx, cfg->do_rx, cfg))
		goto fail;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = cfg->do_rx ? htons(ETH_P_IP) : 0;
	sll.sll_ifindex = ifindex;
	if (bind(c->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		cfg_error(cfg, "bind AF_PACKET to %s: %s", cfg->iface, strerror(errno));
		goto fail;
	}
	/* frames queued between socket() and bind() may come from other interfaces */
	while (cfg->do_rx && recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT) >= 0)
		;
	c->txaddr = sll;
	c->txaddr.sll_protocol = htons(ETH_P_IP);
	c->txaddr.sll_halen = 6;
	if (cfg->do_rx) {
		c->rxbuf = malloc((size_t)c->slots * ICPERF_RX_SLOT);
		if (!c->rxbuf) {
			cfg_error(cfg, "out of memory");
			goto fail;
		}
		for (unsigned i = 0; i < c->slots; i++) {
			c->rxiov[i].iov_base = c->rxbuf + (size_t)i * ICPERF_RX_SLOT;
			c->rxiov[i].iov_len = ICPERF_RX_SLOT;
			c->rxmsg[i].msg_hdr.msg_iov = &c->rxiov[i];
			c->rxmsg[i].msg_hdr.msg_iovlen = 1;
		}
	}
	for (unsigned i = 0; i < c->slots; i++) {
		c->txmsg[i].msg_hdr.msg_iov = &c->txiov[i];
		c->txmsg[i].msg_hdr.msg_iovlen = 1;
		c->txmsg[i].msg_hdr.msg_name = &c->txaddr;
		c->txmsg[i].msg_hdr.msg_namelen = sizeof(c->txaddr);
	}
	*pctx = c;
	return 0;
fail:
	if (c->fd >= 0)
		close(c->fd);
	if (c->absorb_fd >= 0)
		close(c->absorb_fd);
	free(c->rxbuf);
	free(c);
	return -1;
}

static int raw_open(struct icperf_cfg *cfg, void **ctx)
{
	return raw_open_common(cfg, ctx, 0);
}

static int raw_mmsg_open(struct icperf_cfg *cfg, void **ctx)
{
	return raw_open_common(cfg, ctx, 1);
}

static int raw_tx(void *ctx, struct pkt *p, int n)
{
	struct raw_ctx *c = ctx;

	for (int i = 0; i < n; i++) {
		if (sendto(c->fd, p[i].data, p[i].len, 0, (struct sockaddr *)&c->txaddr,
			   sizeof(c->txaddr)) < 0) {
			if (i > 0 || sock_tx_soft_error(errno))
				return i;
			return -errno;
		}
	}
	return n;
}

static int raw_mmsg_tx(void *ctx, struct pkt *p, int n)
{
	struct raw_ctx *c = ctx;
	int r;

	for (int i = 0; i < n; i++) {
		c->txiov[i].iov_base = p[i].data;
		c->txiov[i].iov_len = p[i].len;
	}
	r = sendmmsg(c->fd, c->txmsg, (unsigned)n, 0);
	if (r < 0)
		return sock_tx_soft_error(errno) ? 0 : -errno;
	return r;
}

static int raw_rx(void *ctx, struct pkt *p, int max)
{
	struct raw_ctx *c = ctx;
	int i;

	if (max > (int)c->slots)
		max = (int)c->slots;
	for (i = 0; i < max; i++) {
		ssize_t r = recv(c->fd, c->rxiov[i].iov_base, ICPERF_RX_SLOT, 0);
		if (r < 0) {
			if (i > 0 || sock_rx_soft_error(errno))
				break;
			return -errno;
		}
		p[i].data = c->rxiov[i].iov_base;
		p[i].len = (uint32_t)r;
		p[i].use_peer = 0;
		p[i].priv = NULL;
	}
	return i;
}

static int raw_mmsg_rx(void *ctx, struct pkt *p, int max)
{
	struct raw_ctx *c = ctx;
	int r;

	if (max > (int)c->slots)
		max = (int)c->slots;
	r = recvmmsg(c->fd, c->rxmsg, (unsigned)max, MSG_DONTWAIT, NULL);
	if (r < 0)
		return sock_rx_soft_error(errno) ? 0 : -errno;
	for (int i = 0; i < r; i++) {
		p[i].data = c->rxiov[i].iov_base;
		p[i].len = c->rxmsg[i].msg_len;
		p[i].use_peer = 0;
		p[i].priv = NULL;
	}
	return r;
}

static void raw_close(void *ctx)
{
	struct raw_ctx *c = ctx;

	if (!c)
		return;
	close(c->fd);
	if (c->absorb_fd >= 0)
		close(c->absorb_fd);
	free(c->rxbuf);
	free(c);
}

const struct icperf_backend icperf_backend_raw = {
	.name = "raw",
	.help = "AF_PACKET raw socket, one send/recv system call per frame (needs --iface)",
	.needs_l2 = 1,
	.needs_iface = 1,
	.open = raw_open,
	.tx_burst = raw_tx,
	.rx_burst = raw_rx,
	.wait_rx = sock_wait_rx,
	.close = raw_close,
};

const struct icperf_backend icperf_backend_raw_mmsg = {
	.name = "raw-mmsg",
	.help = "AF_PACKET raw socket, sendmmsg/recvmmsg with the burst as batch (needs --iface)",
	.needs_l2 = 1,
	.needs_iface = 1,
	.open = raw_mmsg_open,
	.tx_burst = raw_mmsg_tx,
	.rx_burst = raw_mmsg_rx,
	.wait_rx = sock_wait_rx,
	.close = raw_close,
};
