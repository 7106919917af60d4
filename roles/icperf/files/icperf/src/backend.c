/*
 * The backend registry (adding a backend = its file + one line in the table below), and the
 * helpers backends share.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "backend.h"
#include "frame.h"

extern const struct icperf_backend icperf_backend_udp;
extern const struct icperf_backend icperf_backend_udp_mmsg;
extern const struct icperf_backend icperf_backend_raw;
extern const struct icperf_backend icperf_backend_raw_mmsg;
extern const struct icperf_backend icperf_backend_ring;
#ifdef ICPERF_HAVE_DPDK
extern const struct icperf_backend icperf_backend_dpdk;
#endif

static const struct icperf_backend *const registry[] = {
	&icperf_backend_udp,
	&icperf_backend_udp_mmsg,
	&icperf_backend_raw,
	&icperf_backend_raw_mmsg,
	&icperf_backend_ring,
#ifdef ICPERF_HAVE_DPDK
	&icperf_backend_dpdk,
#endif
	NULL,
};

const struct icperf_backend *const *backend_list(void)
{
	return registry;
}

const struct icperf_backend *backend_find(const char *name)
{
	for (size_t i = 0; registry[i]; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const char *backend_names(void)
{
	static char buf[256];
	size_t off = 0;

	if (buf[0])
		return buf;
	for (size_t i = 0; registry[i] && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? ", " : "",
					registry[i]->name);
	return buf;
}

int backend_no_opts(struct icperf_cfg *cfg)
{
	if (!cfg->nbopts)
		return 0;
	cfg_error(cfg, "takes no --bopt options (got %s)", cfg->bopts[0]);
	return -1;
}

void cfg_error(struct icperf_cfg *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg->err, sizeof(cfg->err), fmt, ap);
	va_end(ap);
}

int sock_set_bufs(int fd, int bytes, int sndbuf, int rcvbuf, struct icperf_cfg *cfg)
{
	if (bytes <= 0)
		return 0;
	if (sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes))) {
		cfg_error(cfg, "setsockopt SO_SNDBUF %d: %s", bytes, strerror(errno));
		return -1;
	}
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes))) {
		cfg_error(cfg, "setsockopt SO_RCVBUF %d: %s", bytes, strerror(errno));
		return -1;
	}
	return 0;
}

int sock_wait_rx(void *ctx, int timeout_ms)
{
	/* ctx points to the backend's context struct, whose first member is the fd (C11
	 * 6.7.2.1: a pointer to a struct, converted, points to its first member) */
	struct pollfd pfd = { .fd = *(const int *)ctx, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms);
}

int sock_tx_soft_error(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ECONNREFUSED ||
	       e == EINTR;
}

int sock_rx_soft_error(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNREFUSED;
}

void cfg_build_template(const struct icperf_cfg *cfg, uint8_t *buf)
{
	struct frame_addr a;

	memcpy(a.src_mac, cfg->src_mac, 6);
	memcpy(a.dst_mac, cfg->dst_mac, 6);
	a.src_ip = cfg->src_ip;
	a.dst_ip = cfg->dst_ip;
	a.sport = a.dport = cfg->port;
	frame_build(buf, cfg->size, &a);
}
