/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The snapshot files of a sweep in their directory: the name each gets,
 * inflight-HOST-YYYYmmddTHHMMSSZ.json.gz, and keeping a host's newest ones.
 */
#ifndef INFLIGHT_SNAPSHOT_FILES_H
#define INFLIGHT_SNAPSHOT_FILES_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The host part of the names: the host name, '/' made '_'; "unknown" if there is none. */
void snapshot_host_name(const char *hostname, char *buf, size_t size);
/* host's snapshot name for a sweep started at when: 0, or -ENAMETOOLONG. */
int snapshot_file_name(const char *host, time_t when, char *buf, size_t size);
/* Whether name is one snapshot_file_name gives host, at any time. */
bool snapshot_file_is_of_host(const char *name, const char *host);
/*
 * Leaves keep (at least 1) snapshots of host in dir: written (the file name
 * just written, never removed) and the newest others, by the time in their
 * names; removes the older ones. Only regular files named as host's
 * snapshots are looked at. 0, or -errno (of the first failure; the
 * removals that could be done are done). *removed: how many went.
 */
int snapshot_keep_newest(const char *dir, const char *host, const char *written, size_t keep,
			 size_t *removed);

#endif
