/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * What changed between snapshots: per host, the snapshots in time order, and
 * against the baseline (the host's oldest unless one is given) what the
 * newest has: new and resolved findings, sites whose peaks or leak slope grew
 * past a threshold, new and vanished sites and services. Knows only
 * snapshots: nothing of BPF, /proc or the tracer.
 */
#ifndef INFLIGHT_TREND_H
#define INFLIGHT_TREND_H
#include <stdbool.h>
#include <stddef.h>
#include "snapshot.h"

struct trend_thresholds {
	double grow_tasks_pct;		/* peak tasks in flight at a site */
	double grow_conns_pct;		/* peak connections of a site's tasks */
	double grow_leak_slope_pct;	/* a site's leak slope, tasks per minute */
	double grow_min;		/* and a rise of at least this much (per minute for slopes) */
};
extern const struct trend_thresholds trend_default_thresholds;

enum trend_metric { TREND_PEAK_TASKS, TREND_PEAK_CONNS, TREND_LEAK_SLOPE, TREND_METRICS };
const char *trend_metric_name(enum trend_metric m);

/* A finding, site or service the newest snapshot has and the baseline not, or the reverse. */
struct trend_finding_change {
	const char *service;
	const struct snap_finding *f;
};

struct trend_site_change {
	const char *service;
	const struct snap_site *site;
};

struct trend_growth {
	const char *service;
	const struct snap_site *site;	/* the newest snapshot's */
	enum trend_metric metric;
	double from, to;
};

/* One site (or a service's findings without a site) across a host's snapshots. */
struct trend_series {
	const char *service;
	const struct snap_site *site;	/* the key, from the last snapshot that has it */
	const struct snap_site **at;	/* per snapshot of the host: its figures, or NULL */
	unsigned int *findings_at;	/* per snapshot: the site's findings there */
};

struct trend_host {
	const char *host;
	const struct snapshot **snaps;	/* oldest first */
	size_t n_snaps;
	size_t baseline, newest;	/* indexes into snaps */
	bool baseline_given;
	struct trend_finding_change *new_findings, *resolved_findings;
	size_t n_new_findings, n_resolved_findings;
	struct trend_growth *grown;
	size_t n_grown;
	struct trend_site_change *new_sites, *vanished_sites;
	size_t n_new_sites, n_vanished_sites;
	const char **new_services, **vanished_services;
	size_t n_new_services, n_vanished_services;
	struct trend_series *series;
	size_t n_series;
};

struct trend {
	struct trend_thresholds thresholds;
	struct trend_host *hosts;	/* by host name */
	size_t n_hosts;
	size_t n_snapshots;
};

/*
 * Lines the snapshots up and compares: baseline, when not NULL, is one of
 * snaps and the baseline of its host. The trend points into snaps, which
 * must outlive it. 0 or -ENOMEM.
 */
int trend_build(const struct snapshot *snaps, size_t n, const struct snapshot *baseline,
		const struct trend_thresholds *t, struct trend *out);
void trend_free(struct trend *t);
/*
 * The baseline and the newest followed tasks differently (probes, sampled):
 * sites are keyed by kind, created_at or seen_at, so theirs do not match.
 */
bool trend_modes_differ(const struct trend_host *h);
/* Whether from -> to is growth past pct percent and a rise of min at least. */
bool trend_grew(double from, double to, double pct, double min);

#endif
