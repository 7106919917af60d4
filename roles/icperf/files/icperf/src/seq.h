/*
 * Sequence number accounting of a receiver.
 *
 * Senders number packets 0, 1, 2 ... (a number is only used once it was handed to the
 * backend: numbers of packets the backend refused are reused, so gaps mean network loss).
 *
 *  - duplicated: a number already seen. Detected exactly inside a window of the
 *    SEQ_WINDOW (65536) numbers up to the highest seen (a bitmap of 8 KiB).
 *  - reordered: arrived lower than the highest number seen and not a duplicate. A number
 *    older than the window cannot be checked: it is counted as reordered (and not as a
 *    duplicate), so a duplicate that late would be miscounted, and lost undercounted by one.
 *  - lost: numbers from 0 to the highest seen that never arrived = highest + 1 - distinct.
 *    Counting from 0 (not from the first number received) includes packets lost before
 *    the first arrival; first_seq in the summary shows where reception started. Packets
 *    after the highest number received (the tail of the run) are not counted as lost.
 *  A sender restarting its numbering during a run shows up as a large reordered count.
 */
#ifndef ICPERF_SEQ_H
#define ICPERF_SEQ_H

#include <stdint.h>

#define SEQ_WINDOW_BITS 16
#define SEQ_WINDOW (1ULL << SEQ_WINDOW_BITS)

struct seqtrack {
	int any;
	uint64_t first, max;
	uint64_t distinct, reordered, duplicated;
	uint64_t bits[SEQ_WINDOW / 64];
};

void seq_init(struct seqtrack *s);
void seq_add(struct seqtrack *s, uint64_t seq);
uint64_t seq_lost(const struct seqtrack *s);

#endif
