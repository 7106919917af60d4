/*
 * The JSON output of icperf: the per-second samples and the summary with its means over the
 * samples after the warm-up.
 */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "hist.h"
#include "report.h"
#include "run.h"
#include "seq.h"
#include "version.h"

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

void report_sample(unsigned t, double elapsed_s, uint64_t sent, uint64_t received,
		   uint64_t tx_dropped, long long lost, double tx_pps, double rx_pps, int partial)
{
	char b1[64], b2[64], b3[64];

	printf("{\"type\":\"sample\",\"t\":%u,\"elapsed_s\":%s,\"sent\":%llu,\"received\":%llu,"
	       "\"tx_dropped\":%llu,\"lost\":%lld,\"tx_pps\":%s,\"rx_pps\":%s,\"partial\":%s}\n",
	       t, jnum(b1, sizeof(b1), elapsed_s, 6), (unsigned long long)sent,
	       (unsigned long long)received, (unsigned long long)tx_dropped, lost,
	       jnum(b2, sizeof(b2), tx_pps, 3), jnum(b3, sizeof(b3), rx_pps, 3),
	       partial ? "true" : "false");
	fflush(stdout);
}

/* Whether a full sample is one of the means': after the warm-up (the window's opening once it
 * opened: a warm-up that ended on a condition may be longer than --warmup) */
static int in_means(const struct run *r, const struct sample_rec *s, int warmup_applied)
{
	if (!warmup_applied)
		return 1;
	if (r->win.open)
		return s->t > r->win.open_t;
	return (double)s->t - 1.0 >= r->cfg->warmup;
}

void report_summary(const struct run *r)
{
	const struct icperf_cfg *cfg = r->cfg;
	char b[17][64];
	double tx_mean = 0, rx_mean = 0, rx_std = 0, elapsed;
	size_t used = 0;
	int warmup_applied = cfg->duration > cfg->warmup;
	int is_sender = cfg->mode == MODE_SEND;
	uint64_t wait_ns = r->wait_ns;

	elapsed = r->t_base ? (double)(r->t_final - r->t_base) / 1e9 : 0.0;
	if (!r->t_base && (cfg->mode == MODE_RECV || cfg->mode == MODE_SERVER))
		wait_ns = r->t_final - r->t_prog; /* never got a packet */
	for (size_t i = 0; i < r->nsamples; i++) {
		if (!in_means(r, &r->samples[i], warmup_applied))
			continue;
		used++;
		tx_mean += r->samples[i].tx_pps;
		rx_mean += r->samples[i].rx_pps;
	}
	if (used) {
		tx_mean /= (double)used;
		rx_mean /= (double)used;
		for (size_t i = 0; i < r->nsamples; i++) {
			if (!in_means(r, &r->samples[i], warmup_applied))
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
	       ICPERF_VERSION, cli_mode_name(cfg->mode));
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
	fputs(",\"window\":", stdout);
	if (r->win.open && r->win.end.t > r->win.start.t) {
		const struct counters *a = &r->win.start, *e = &r->win.end;
		printf("{\"start_s\":%s,\"end_s\":%s,\"closed\":%s,\"sent\":%llu,\"received\":%llu,"
		       "\"tx_dropped\":%llu,\"rx_invalid\":%llu,\"lost\":%llu,\"reordered\":%llu,"
		       "\"duplicated\":%llu,\"sched_slips\":%llu,\"cpu_s\":%s,\"warmup_end\":\"%s\"}",
		       jnum(b[14], 64, (double)(a->t - r->t_base) / 1e9, 6),
		       jnum(b[15], 64, (double)(e->t - r->t_base) / 1e9, 6), r->win.closed ? "true" : "false",
		       (unsigned long long)(e->sent - a->sent), (unsigned long long)(e->received - a->received),
		       (unsigned long long)(e->tx_dropped - a->tx_dropped),
		       (unsigned long long)(e->rx_invalid - a->rx_invalid),
		       (unsigned long long)(e->lost >= a->lost ? e->lost - a->lost : 0),
		       (unsigned long long)(e->reordered - a->reordered),
		       (unsigned long long)(e->duplicated - a->duplicated),
		       (unsigned long long)(e->slips - a->slips),
		       jnum(b[16], 64, (double)(e->cpu_ns - a->cpu_ns) / 1e9, 6), r->win.warmup_end);
	} else {
		fputs("null", stdout);
	}
	printf(",\"warmup_applied\":%s,\"sched_slips\":%llu,\"rx_invalid\":%llu,\"wait_s\":%s,"
	       "\"cpu\":%d,\"backend_opts\":%s}\n",
	       warmup_applied ? "true" : "false", (unsigned long long)r->pacer.slips,
	       (unsigned long long)r->rx_invalid, jnum(b[14], 64, (double)wait_ns / 1e9, 6),
	       cfg->cpu, cfg->backend_opts[0] ? cfg->backend_opts : "null");
	fflush(stdout);
}
