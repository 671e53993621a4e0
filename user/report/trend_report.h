/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The trend across snapshots, as text for people, JSON for tools
 * (docs/trend-schema.md), or one self-contained HTML page with charts.
 * Every string in a snapshot is hostile data: shown escaped in each format.
 */
#ifndef INFLIGHT_TREND_REPORT_H
#define INFLIGHT_TREND_REPORT_H
#include <stdio.h>
#include "trend.h"

#define TREND_SCHEMA "inflight-trend"
#define TREND_SCHEMA_VERSION 1

/* A file given that was not read, and why. */
struct trend_skip {
	const char *path;
	const char *why;
};

struct trend_report_meta {
	const char *version;
	const struct trend_skip *skipped;
	size_t n_skipped;
};

int trend_write_text(FILE *f, const struct trend_report_meta *meta, const struct trend *t);
int trend_write_json(FILE *f, const struct trend_report_meta *meta, const struct trend *t);
int trend_write_html(FILE *f, const struct trend_report_meta *meta, const struct trend *t);

/* s for HTML text or a quoted attribute: valid UTF-8, markup and control bytes escaped. */
void html_escaped(FILE *f, const char *s);

#endif
