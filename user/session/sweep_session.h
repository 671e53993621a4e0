/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * A sweep: every CPython process on the host (those in containers too), and
 * those that start while it runs, traced at once for a while; one snapshot
 * of them written into a directory.
 */
#ifndef INFLIGHT_SWEEP_SESSION_H
#define INFLIGHT_SWEEP_SESSION_H
#include "trace_session.h"

#define SWEEP_DEFAULT_DURATION_S 60.0

struct sweep_opts {
	const char *dir;		/* where the snapshot goes */
	/* REPORT_JSON: the snapshot; REPORT_OPENMETRICS or REPORT_PROMETHEUS: metrics instead */
	enum report_format format;
	/* how to trace: duration, mode, thresholds, limits; its pids and output are the sweep's */
	struct trace_opts trace;
};

/* Exit status: 0 snapshot written (its path on stdout), 1 failed while tracing, 2 bad input. */
int sweep_session_run(struct sweep_opts *opts);

#endif
