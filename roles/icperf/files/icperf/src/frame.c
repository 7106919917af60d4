#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"

#define ETH_LEN 14
#define IP_LEN 20
#define UDP_LEN 8

uint16_t inet_csum(const void *data, size_t len, uint32_t seed)
{
	const uint8_t *p = data;
	uint64_t sum = seed;

	while (len >= 2) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum; /* host order value of the big-endian checksum field */
}

uint16_t udp4_csum(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
	uint32_t seed = 0;
	uint16_t c;

	/* pseudo header: src, dst, zero, protocol, UDP length */
	seed += (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]);
	seed += (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]);
	seed += 17 + (uint32_t)udp_len;
	c = inet_csum(udp, udp_len, seed);
	return c ? c : 0xffff; /* 0 means "no checksum" on the wire */
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void frame_build(uint8_t *f, unsigned size, const struct frame_addr *a)
{
	uint8_t *ip = f + ETH_LEN, *udp = ip + IP_LEN;

	memset(f, 0, size);
	memcpy(f, a->dst_mac, 6);
	memcpy(f + 6, a->src_mac, 6);
	put16(f + 12, 0x0800);

	ip[0] = 0x45;                    /* IPv4, 5 words of header */
	ip[1] = 0;                       /* DSCP/ECN */
	put16(ip + 2, (uint16_t)(size - ETH_LEN));
	put16(ip + 4, 0);                /* id */
	put16(ip + 6, 0x4000);           /* DF, no fragment offset */
	ip[8] = 64;                      /* TTL */
	ip[9] = 17;                      /* UDP */
	memcpy(ip + 12, &a->src_ip, 4);
	memcpy(ip + 16, &a->dst_ip, 4);
	put16(ip + 10, inet_csum(ip, IP_LEN, 0));

	put16(udp, a->sport);
	put16(udp + 2, a->dport);
	put16(udp + 4, (uint16_t)(size - ETH_LEN - IP_LEN));
	put16(udp + 6, 0);               /* no checksum */
}

int frame_udp_payload(const uint8_t *f, uint32_t len, uint16_t dport, uint32_t *off,
		      uint32_t *plen)
{
	const uint8_t *ip = f + ETH_LEN, *udp;
	uint32_t ihl, tot, ulen;

	if (len < ETH_LEN + IP_LEN + UDP_LEN || get16(f + 12) != 0x0800)
		return -1;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < IP_LEN || ip[9] != 17 || (get16(ip + 6) & 0x3fff))
		return -1; /* not IPv4 UDP, or a fragment */
	tot = get16(ip + 2);
	if (tot < ihl + UDP_LEN || ETH_LEN + tot > len)
		return -1;
	udp = ip + ihl;
	if (dport && get16(udp + 2) != dport)
		return -1;
	ulen = get16(udp + 4);
	if (ulen < UDP_LEN || ulen > tot - ihl)
		return -1;
	*off = ETH_LEN + ihl + UDP_LEN;
	*plen = ulen - UDP_LEN;
	return 0;
}

void frame_reflect(uint8_t *f)
{
	uint8_t tmp[6], *ip = f + ETH_LEN, *udp;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;

	memcpy(tmp, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, tmp, 6);
	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	udp = ip + ihl;
	memcpy(tmp, udp, 2);
	memcpy(udp, udp + 2, 2);
	memcpy(udp + 2, tmp, 2);
	put16(ip + 10, 0);
	put16(ip + 10, inet_csum(ip, ihl, 0));
}

int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char extra;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}
