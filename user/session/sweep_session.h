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
#define SWEEP_MAX_KEEP 100000

struct sweep_opts {
	const char *dir;		/* where the snapshot goes */
	/* --metrics: the services' figures for Prometheus, also written there; or NULL */
	const char *metrics;
	/* --keep: after writing, this host's newest snapshots in dir kept, the rest removed; 0: all */
	size_t keep;
	/* how to trace: duration, mode, thresholds, limits; its pids and output are the sweep's */
	struct trace_opts trace;
};

/*
 * Exit status: 0 snapshot written (its path on stdout); 1 failed while
 * tracing or writing, or removing older snapshots (the new one is then
 * written); 2 bad input.
 */
int sweep_session_run(struct sweep_opts *opts);

#endif
