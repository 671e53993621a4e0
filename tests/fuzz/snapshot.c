// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The snapshot reader (user/trend/snapshot.c) on any bytes, as inflight
 * trend reads them as root: a refused input says why in one line; an
 * accepted one goes through the comparison and the text and HTML writers,
 * which must take whatever strings it holds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256] = "";
	struct snapshot s;

	if (snapshot_parse_gzip(data, size, "fuzz", &s, why, sizeof(why))) {
		if (!why[0] || strchr(why, '\n'))
			abort();
		return 0;
	}
	if (!s.host || !*s.host || !s.started_at || s.duration_s < 0)
		abort();
	write_reports(&s);
	snapshot_free(&s);
	return 0;
}
