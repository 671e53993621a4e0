// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The snapshot reader (user/trend/snapshot.c) on any bytes, as inflight
 * trend reads them as root: a refused input says why in one line; an
 * accepted one goes through the comparison and the text and HTML writers,
 * which must take whatever strings it holds. An input that starts with '{'
 * is gzipped here first: mutations of a deflate stream seldom inflate, so
 * this is how the JSON reader behind it gets fuzzed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "snapshot.h"
#include "trend.h"
#include "trend_report.h"

static void write_reports(const struct snapshot *s)
{
	const struct trend_report_meta meta = { .version = "fuzz" };
	FILE *sink = fopen("/dev/null", "w");
	struct trend t;

	if (!sink)
		abort();
	/* twice: the same snapshot as baseline and newest */
	if (!trend_build(s, 1, s, &trend_default_thresholds, &t)) {
		if (trend_write_text(sink, &meta, &t) || trend_write_html(sink, &meta, &t))
			abort();
		trend_free(&t);
	}
	fclose(sink);
}

/* data as one gzip member; NULL when zlib cannot */
static unsigned char *gzipped(const uint8_t *data, size_t size, size_t *out_size)
{
	size_t cap = deflateBound(NULL, size) + 32;
	unsigned char *out = malloc(cap);
	z_stream z = {};

	if (!out || deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY)) {
		free(out);
		return NULL;
	}
	z.next_in = (unsigned char *)data;
	z.avail_in = size;
	z.next_out = out;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*out_size = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static void parse(const uint8_t *data, size_t size)
{
	char why[256] = "";
	struct snapshot s;

	if (snapshot_parse_gzip(data, size, "fuzz", &s, why, sizeof(why))) {
		if (!why[0] || strchr(why, '\n'))
			abort();
		return;
	}
	if (!s.host || !*s.host || !s.started_at || s.duration_s < 0)
		abort();
	write_reports(&s);
	snapshot_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *gz;
	size_t gz_size;

	if (!size || data[0] != '{') {
		parse(data, size);
		return 0;
	}
	gz = gzipped(data, size, &gz_size);
	if (!gz)
		abort();
	parse(gz, gz_size);
	free(gz);
	return 0;
}
