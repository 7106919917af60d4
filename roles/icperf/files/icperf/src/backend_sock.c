/*
 * Kernel UDP socket backends.
 *   udp       one send()/sendto() and one recvfrom() system call per packet
 *   udp-mmsg  sendmmsg()/recvmmsg(): one system call per burst
 *
 * The socket is non-blocking and bound to --src-ip (or any address) and --port; the sender
 * and client connect() it to --dst-ip:--port (the kernel then caches the route, and the
 * client only accepts replies from its server). IP_PMTUDISC_DO: a frame larger than the
 * path MTU fails with EMSGSIZE instead of being fragmented, so the frame size on the wire
 * is exactly --size. The reflector (server) answers with sendto() to each datagram's
 * source address.
 *
 * tx: a full socket buffer (EAGAIN, ENOBUFS), or an ICMP error reported on the connected
 * socket (ECONNREFUSED) ends the burst: the rest is counted as dropped by the core.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

struct sock_ctx {
	int fd;
	int mmsg;
	int want_addr; /* rx: keep the source address (reflector) */
	unsigned slots;
	uint8_t *rxbuf;
	struct sockaddr_in rxaddr[ICPERF_MAX_BURST];
	struct iovec rxiov[ICPERF_MAX_BURST];
	struct mmsghdr rxmsg[ICPERF_MAX_BURST];
	struct iovec txiov[ICPERF_MAX_BURST];
	struct mmsghdr txmsg[ICPERF_MAX_BURST];
};

/* sock_wait_rx reads the fd through the context pointer */
_Static_assert(offsetof(struct sock_ctx, fd) == 0, "struct sock_ctx must start with fd");

static int sock_open_common(struct icperf_cfg *cfg, void **pctx, int mmsg)
{
	struct sock_ctx *c;
	struct sockaddr_in sa;
	int one = 1, pmtu = IP_PMTUDISC_DO;

	if (backend_no_opts(cfg))
		return -1;
	c = calloc(1, sizeof(*c));
	if (!c) {
		cfg_error(cfg, "out of memory");
		return -1;
	}
	c->mmsg = mmsg;
	c->want_addr = cfg->mode == MODE_SERVER;
	c->slots = cfg->burst;
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		cfg_error(cfg, "socket(AF_INET, SOCK_DGRAM): %s", strerror(errno));
		goto fail;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(c->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu))) {
		cfg_error(cfg, "setsockopt IP_MTU_DISCOVER: %s", strerror(errno));
		goto fail;
	}
	if (cfg->iface) {
		if (!if_nametoindex(cfg->iface)) {
			cfg_error(cfg, "interface '%s' not found", cfg->iface);
			goto fail;
		}
		if (setsockopt(c->fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->iface,
			       (socklen_t)strlen(cfg->iface) + 1)) {
			cfg_error(cfg, "SO_BINDTODEVICE %s: %s", cfg->iface, strerror(errno));
			goto fail;
		}
	}
	if (sock_set_bufs(c->fd, cfg->sockbuf, cfg->do_tx, cfg->do_rx, cfg))
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(cfg->port);
	sa.sin_addr.s_addr = cfg->have_src_ip ? cfg->src_ip.s_addr : htonl(INADDR_ANY);
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
		cfg_error(cfg, "bind %s:%u: %s", ip, cfg->port, strerror(errno));
		goto fail;
	}
	if (cfg->mode == MODE_SEND || cfg->mode == MODE_CLIENT) {
		sa.sin_addr = cfg->dst_ip;
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
			cfg_error(cfg, "connect: %s", strerror(errno));
			goto fail;
		}
	}
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
	}
	*pctx = c;
	return 0;
fail:
	if (c->fd >= 0)
		close(c->fd);
	free(c->rxbuf);
	free(c);
	return -1;
}

static int udp_open(struct icperf_cfg *cfg, void **ctx)
{
	return sock_open_common(cfg, ctx, 0);
}

static int udp_mmsg_open(struct icperf_cfg *cfg, void **ctx)
{
	return sock_open_common(cfg, ctx, 1);
}

static int udp_tx(void *ctx, struct pkt *p, int n)
{
	struct sock_ctx *c = ctx;
	ssize_t r;

	for (int i = 0; i < n; i++) {
		if (p[i].use_peer)
			r = sendto(c->fd, p[i].data, p[i].len, 0, (struct sockaddr *)&p[i].peer,
				   sizeof(p[i].peer));
		else
			r = send(c->fd, p[i].data, p[i].len, 0);
		if (r < 0) {
			if (i > 0 || sock_tx_soft_error(errno))
				return i;
			return -errno;
		}
	}
	return n;
}

static int udp_mmsg_tx(void *ctx, struct pkt *p, int n)
{
	struct sock_ctx *c = ctx;
	int r;

	for (int i = 0; i < n; i++) {
		c->txiov[i].iov_base = p[i].data;
		c->txiov[i].iov_len = p[i].len;
		c->txmsg[i].msg_hdr.msg_name = p[i].use_peer ? &p[i].peer : NULL;
		c->txmsg[i].msg_hdr.msg_namelen = p[i].use_peer ? sizeof(p[i].peer) : 0;
	}
	r = sendmmsg(c->fd, c->txmsg, (unsigned)n, 0);
	if (r < 0)
		return sock_tx_soft_error(errno) ? 0 : -errno;
	return r;
}

static int udp_rx(void *ctx, struct pkt *p, int max)
{
	struct sock_ctx *c = ctx;
	int i;

	if (max > (int)c->slots)
		max = (int)c->slots;
	for (i = 0; i < max; i++) {
		socklen_t alen = sizeof(c->rxaddr[i]);
		ssize_t r = recvfrom(c->fd, c->rxiov[i].iov_base, ICPERF_RX_SLOT, 0,
				     c->want_addr ? (struct sockaddr *)&c->rxaddr[i] : NULL,
				     c->want_addr ? &alen : NULL);
		if (r < 0) {
			if (i > 0 || sock_rx_soft_error(errno))
				break;
			return -errno;
		}
		p[i].data = c->rxiov[i].iov_base;
		p[i].len = (uint32_t)r;
		p[i].priv = NULL;
		if (c->want_addr) {
			p[i].peer = c->rxaddr[i];
			p[i].use_peer = 1;
		} else {
			p[i].use_peer = 0;
		}
	}
	return i;
}

static int udp_mmsg_rx(void *ctx, struct pkt *p, int max)
{
	struct sock_ctx *c = ctx;
	int r;

	if (max > (int)c->slots)
		max = (int)c->slots;
	for (int i = 0; i < max; i++) {
		c->rxmsg[i].msg_hdr.msg_name = c->want_addr ? &c->rxaddr[i] : NULL;
		c->rxmsg[i].msg_hdr.msg_namelen = c->want_addr ? sizeof(c->rxaddr[i]) : 0;
	}
	r = recvmmsg(c->fd, c->rxmsg, (unsigned)max, MSG_DONTWAIT, NULL);
	if (r < 0)
		return sock_rx_soft_error(errno) ? 0 : -errno;
	for (int i = 0; i < r; i++) {
		p[i].data = c->rxiov[i].iov_base;
		p[i].len = c->rxmsg[i].msg_len;
		p[i].priv = NULL;
		if (c->want_addr) {
			p[i].peer = c->rxaddr[i];
			p[i].use_peer = 1;
		} else {
			p[i].use_peer = 0;
		}
	}
	return r;
}

static void sock_close(void *ctx)
{
	struct sock_ctx *c = ctx;

	if (!c)
		return;
	close(c->fd);
	free(c->rxbuf);
	free(c);
}

const struct icperf_backend icperf_backend_udp = {
	.name = "udp",
	.help = "kernel UDP socket, one send/recv system call per packet",
	.needs_l2 = 0,
	.open = udp_open,
	.tx_burst = udp_tx,
	.rx_burst = udp_rx,
	.wait_rx = sock_wait_rx,
	.close = sock_close,
};

const struct icperf_backend icperf_backend_udp_mmsg = {
	.name = "udp-mmsg",
	.help = "kernel UDP socket, sendmmsg/recvmmsg with the burst as batch",
	.needs_l2 = 0,
	.open = udp_mmsg_open,
	.tx_burst = udp_mmsg_tx,
	.rx_burst = udp_mmsg_rx,
	.wait_rx = sock_wait_rx,
	.close = sock_close,
};
