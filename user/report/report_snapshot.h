/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * inflight sweep's snapshot: every process of a host traced at once, each
 * with who it is, its part of the trace report and its findings, as gzip'ed
 * JSON (docs/snapshot-schema.md).
 */
#ifndef INFLIGHT_REPORT_SNAPSHOT_H
#define INFLIGHT_REPORT_SNAPSHOT_H
#include <stdio.h>
#include <sys/types.h>
#include "report.h"

#define SNAPSHOT_SCHEMA_VERSION 1

/* A process swept or skipped; strings NULL where not known. */
struct snapshot_process {
	pid_t pid;
	const char *service;		/* its stable name */
	const char *service_source;	/* "container", "cgroup", "command" */
	const char *exe;
	char *const *argv;
	size_t argc;
	const char *python;		/* "3.11.7" */
	const char *cgroup;		/* its cgroup path */
	const char *runtime;		/* "docker", ..., "systemd" */
	const char *container_name, *container_id;
	const char *reason;		/* skipped: why */
};

struct snapshot_info {
	const char *hostname, *machine_id, *kernel;
	const struct snapshot_process *services;	/* traced: each a process of the model */
	size_t n_services;
	const struct snapshot_process *skipped;
	size_t n_skipped;
};

/* Writes the snapshot, gzip-compressed, to f: 0 or -errno. */
int report_write_snapshot(FILE *f, const struct report_meta *meta, const struct model *m,
			  const struct findings *fs, const struct snapshot_info *info);

#endif
