/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Opening, from here, a file another process has mapped. The path in its
 * /proc/PID/maps is its own: in another mount namespace (a container) it
 * names another file here or none, and " (deleted)" is not part of any name.
 * So the file is reached through /proc/PID/map_files/START-END (the mapping
 * itself), else /proc/PID/root/PATH (its own root), never by PATH from here;
 * and what is reached must be a regular file with the maps line's device and
 * inode.
 */
#ifndef INFLIGHT_MAPPED_FILE_H
#define INFLIGHT_MAPPED_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "proc_maps.h"

enum mapped_route {
	MAPPED_VIA_MAP_FILES,	/* /proc/PID/map_files/START-END: needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE */
	MAPPED_VIA_ROOT,	/* /proc/PID/root/PATH: not for a deleted file */
};

/* The path that reaches m's file by route, into buf: 0, -ENOENT, or -ENAMETOOLONG. */
int mapped_file_path(pid_t pid, const struct file_mapping *m, enum mapped_route route,
		     char *buf, size_t size);
/*
 * Whether st (of the file reached by route) is the file m maps: 0, -EINVAL
 * if it is not a regular file, -ESTALE if another file; why says so.
 */
int mapped_file_check(const struct stat *st, const struct file_mapping *m,
		      enum mapped_route route, char *why, size_t why_size);
/*
 * Opens the file pid maps at m for reading: an fd, or -errno with why saying
 * what failed. opened_by gets the path that reached it (to attach uprobes by).
 * Nothing is opened for reading before it is known to be that regular file:
 * a FIFO or a device planted under the name is neither blocked on nor woken.
 */
int mapped_file_open(pid_t pid, const struct file_mapping *m, char *opened_by, size_t size,
		     char *why, size_t why_size);

#endif
