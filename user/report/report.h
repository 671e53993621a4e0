/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* Reports: the model and its findings, as text for people or JSON for tools. */
#ifndef INFLIGHT_REPORT_H
#define INFLIGHT_REPORT_H
#include <stdbool.h>
#include <stdio.h>
#include "findings.h"
#include "model.h"

#define REPORT_SCHEMA_VERSION 1

struct report_meta {
	const char *version;
	const char *end_reason;	/* "duration", "interrupted", "targets_exited" */
	uint64_t now_ns;	/* when the report was taken (monotonic) */
	const struct finding_thresholds *thresholds;	/* what the findings were held to */
};

int report_write_text(FILE *f, const struct report_meta *meta, const struct model *m,
		      const struct findings *fs);
int report_write_json(FILE *f, const struct report_meta *meta, const struct model *m,
		      const struct findings *fs);

/*
 * Metrics: the figures as OpenMetrics 1.0 text, or as the Prometheus text format
 * (0.0.4) that node_exporter's textfile collector and promtool read. The two
 * differ in how a counter, an info metric and the end are written.
 */
enum metrics_dialect {
	METRICS_OPENMETRICS,
	METRICS_PROMETHEUS,
};

/* A traced process, as its series name it. */
struct metrics_service {
	const char *service;	/* a name stable across restarts */
	bool pid_label;		/* a trace names the process; a sweep only its service */
	const struct proc_model *proc;	/* a process of the source's model */
};

/*
 * One host's trace (or sweep): its model, findings and the processes to show.
 * Processes of one service in one source are summed into the same series.
 */
struct metrics_source {
	const char *host;
	const struct report_meta *meta;
	const struct model *model;
	const struct findings *findings;
	const struct metrics_service *services;
	size_t n_services;
};

/* The metrics of several sources, one family after another: 0, -ENOMEM or -EIO. */
int report_write_metrics(FILE *f, enum metrics_dialect dialect, const struct metrics_source *src,
			 size_t n_sources);

/* One line per process for -i: open connections by state, opened and closed so far. */
void report_live_summary(FILE *f, const struct model *m, uint64_t now_ns);

struct json_object;
/* Pieces of the JSON report, for documents that hold them (inflight sweep's snapshot). */
struct json_object *report_json_target(const struct model *m, const struct proc_model *p,
				       uint64_t now_ns);
struct json_object *report_json_finding(const struct model *m, const struct finding *fd);
struct json_object *report_json_thresholds(const struct finding_thresholds *t);
struct json_object *report_json_tracer(const struct model *m);
struct json_object *report_json_started_at(const struct model *m);
/* A JSON string of s, made valid UTF-8; a number printed with decimals digits after the point. */
struct json_object *json_str(const char *s);
struct json_object *json_fixed(double v, int decimals);

/* Copies s into a valid UTF-8 string, invalid bytes replaced by U+FFFD; free() it. */
char *utf8_sanitize(const char *s);
/*
 * s as a text report shows it: control characters and invalid UTF-8 as \xNN,
 * cut with "..." past about 1000 bytes. One of 8 buffers used in turn: good
 * until the 8th call after (enough for the arguments of one printf).
 */
const char *text_shown(const char *s);

#endif
