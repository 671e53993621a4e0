/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * A sweep's snapshot (gzip JSON, schema "inflight-snapshot" version 1) as the
 * trend needs it: per service, its sites' peaks and leak slope, and its
 * findings. Snapshots are untrusted files read as root: sizes are capped, and
 * a file that is not one says why rather than being half read.
 */
#ifndef INFLIGHT_SNAPSHOT_H
#define INFLIGHT_SNAPSHOT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SNAPSHOT_SCHEMA "inflight-snapshot"
#define SNAPSHOT_SCHEMA_VERSION 1
/* A sweep of a few hundred processes compresses to a few MiB: these leave room. */
#define SNAPSHOT_MAX_FILE_BYTES (64u << 20)
#define SNAPSHOT_MAX_JSON_BYTES (256u << 20)

/* A site is keyed across snapshots by file, line, coroutine and kind. */
struct snap_site {
	char *file;
	char *coroutine;
	char *kind;		/* "created_at" or "suspended_at" */
	char *function;
	int64_t line;
	uint64_t peak_tasks;	/* peak_in_flight */
	uint64_t peak_conns;	/* connections.peak_open, or concurrency's max if higher */
	double leak_slope_per_min;	/* tasks per minute, see slope_from_finding */
	bool slope_from_finding;	/* a task-leak growth finding's slope, else in-flight growth */
};

/* A finding is keyed by kind, reason and site file:line within its service. */
struct snap_finding {
	char *kind;
	char *reason;		/* "" when the evidence has none */
	char *severity;
	char *summary;
	char *site_file;	/* NULL when the finding has no site */
	char *function;
	char *coroutine;	/* NULL when the finding has none */
	int64_t site_line;
	bool has_slope;
	double slope_per_min;	/* a growth finding's evidence */
};

/* Every process of one service name merged: the busiest process's peak per site. */
struct snap_service {
	char *name;
	unsigned int processes;
	struct snap_site *sites;
	size_t n_sites;
	struct snap_finding *findings;
	size_t n_findings;
};

struct snapshot {
	char *path;
	char *host;
	char *started_at;	/* as written: "2026-12-03T16:45:31Z" */
	char *mode;		/* how tasks were followed: "probes", "sampled"; NULL if not said */
	time_t started;
	double duration_s;
	struct snap_service *services;
	size_t n_services;
};

/*
 * Reads and checks one snapshot file: 0, or -errno / -EINVAL with a one-line
 * reason in why (not gzip, truncated, corrupt, too large, not JSON, wrong
 * schema or version, a key of the wrong type).
 */
int snapshot_read_file(const char *path, struct snapshot *s, char *why, size_t why_size);
/* The same from gzip bytes in memory; path is only recorded. */
int snapshot_parse_gzip(const void *data, size_t size, const char *path, struct snapshot *s,
			char *why, size_t why_size);
void snapshot_free(struct snapshot *s);

/* The service of that name, or NULL. */
const struct snap_service *snapshot_service(const struct snapshot *s, const char *name);
/* The site of that key in a service, or NULL. */
const struct snap_site *service_site(const struct snap_service *svc, const struct snap_site *key);
bool snap_site_same(const struct snap_site *a, const struct snap_site *b);
bool snap_finding_same(const struct snap_finding *a, const struct snap_finding *b);
/* The finding is about that site (file, line and, where it has one, coroutine). */
bool snap_finding_at_site(const struct snap_finding *f, const struct snap_site *site);

#endif
