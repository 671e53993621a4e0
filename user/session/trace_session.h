/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * A trace session: checks its inputs, attaches to the targets, follows them
 * until the duration passes, they all exit or the user interrupts, detaches,
 * and writes the report.
 */
#ifndef INFLIGHT_TRACE_SESSION_H
#define INFLIGHT_TRACE_SESSION_H
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "findings.h"

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
	REPORT_OPENMETRICS,	/* trace only: metrics for Prometheus */
	REPORT_PROMETHEUS,	/* the same in the text format node_exporter's textfile collector reads */
};

#define TRACE_MAX_PIDS 1024

struct model;
struct report_meta;

/*
 * What inflight sweep adds to a trace: processes found while it runs, news
 * of them on stderr, and a document of its own instead of the report.
 */
struct trace_sweep {
	void *ctx;
	double rescan_s;	/* how often find is called */
	/* Fills pids (at most max) with the processes to trace from now on: how many. */
	size_t (*find)(void *ctx, pid_t *pids, size_t max);
	/* How adding pid went: 0, or -errno (-ESRCH: it exited first). */
	void (*added)(void *ctx, pid_t pid, int err);
	/*
	 * Once the trace's output is open, before attaching: opens what else the
	 * sweep writes (in the mount namespace the trace runs in). 0, or -errno
	 * with why said: the trace then ends as bad input.
	 */
	int (*open)(void *ctx);
	/* After each rescan: left_s to go (negative: until interrupted). */
	void (*progress)(void *ctx, double left_s);
	/* Writes the document to f: 0 or -errno. */
	int (*write)(void *ctx, FILE *f, const struct report_meta *meta, const struct model *m,
		     const struct findings *fs);
};

struct trace_opts {
	pid_t pids[TRACE_MAX_PIDS];
	size_t n_pids;
	double duration_s;	/* 0: until interrupted or every target exits */
	double interval_s;	/* 0: no live summary */
	enum report_format format;
	const char *output;	/* NULL: stdout */
	struct finding_thresholds thresholds;
	enum trace_mode mode;	/* how tasks are followed: probes, --lean or --sampled */
	double sample_period_s;	/* --sampled: how often the tasks are read */
	size_t max_sockets;	/* connections followed in the kernel at once */
	size_t ring_bytes;	/* the connection events' ring buffer: a power of two */
	/* inflight sweep: pids may be empty, the trace ends only by duration or signal */
	const struct trace_sweep *sweep;
};

#define TRACE_DEFAULT_MAX_SOCKETS (64 * 1024)
#define TRACE_DEFAULT_RING_BYTES (4 << 20)
#define TRACE_DEFAULT_SAMPLE_PERIOD_S 0.1

/* Exit status of the session: 0 done, 1 failed while tracing, 2 bad input or environment. */
int trace_session_run(const struct trace_opts *opts);

#endif
