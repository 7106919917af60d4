/*
 * Ethernet + IPv4 + UDP frames (42 bytes of headers, no VLAN, no IP options on transmit).
 *
 * The frames icperf builds carry UDP checksum 0 ("no checksum", legal for IPv4 per
 * RFC 768): the payload changes per packet and computing a checksum would cost CPU the
 * study's tool did not spend either; receivers (kernel or icperf) accept it.
 * The IPv4 header checksum is computed once in the template (nothing in the IP header
 * changes per packet: id 0, DF set, TTL 64).
 *
 * Payload layout (host byte order, all peers run on one host):
 *   [0, 8)   sequence number (uint64)
 *   [8, 16)  send timestamp, CLOCK_MONOTONIC ns (uint64)
 *   [16, ..) padding: zero, or with --touch a pattern derived from the sequence number
 */
#ifndef ICPERF_FRAME_H
#define ICPERF_FRAME_H

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#define PAYLOAD_SEQ_OFF 0
#define PAYLOAD_TS_OFF 8
#define PAYLOAD_MIN 16

struct frame_addr {
	uint8_t src_mac[6], dst_mac[6];
	struct in_addr src_ip, dst_ip; /* network order */
	uint16_t sport, dport;          /* host order */
};

/* One's complement sum of len bytes folded to 16 bits and inverted (RFC 1071). */
uint16_t inet_csum(const void *data, size_t len, uint32_t seed);

/* UDP checksum with the IPv4 pseudo header over the UDP header + payload (for tests and
 * backends that want it; the generator sends 0). */
uint16_t udp4_csum(const uint8_t *ip_hdr, const uint8_t *udp, size_t udp_len);

/* Write a size-byte frame (size >= 42) with a zero payload. */
void frame_build(uint8_t *buf, unsigned size, const struct frame_addr *a);

/* Find the UDP payload of an IPv4/UDP frame to dport (host order, 0 = any port).
 * Returns 0 and sets *off and *plen, or -1 when the frame is not one of ours. */
int frame_udp_payload(const uint8_t *f, uint32_t len, uint16_t dport, uint32_t *off,
		      uint32_t *plen);

/* Turn a received frame around: swap MACs, IPv4 addresses and UDP ports, refresh the IPv4
 * header checksum (the UDP checksum is invariant under these swaps). f must have passed
 * frame_udp_payload(). */
void frame_reflect(uint8_t *f);

static inline void payload_put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline uint64_t payload_get_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* --touch: write every byte after the 16-byte header with a pattern derived from seq. */
static inline void payload_touch_write(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint8_t b = (uint8_t)(seq * 0x9Du);
	for (uint32_t i = PAYLOAD_MIN; i < len; i++)
		p[i] = (uint8_t)(b + i);
}

/* --touch: read and sum every payload byte. */
static inline uint64_t payload_touch_sum(const uint8_t *p, uint32_t len)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s += p[i];
	return s;
}

/* Parse "aa:bb:cc:dd:ee:ff". Returns 0 or -1. */
int parse_mac(const char *s, uint8_t mac[6]);

#endif
