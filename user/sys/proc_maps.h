/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* The file mappings of a process, from /proc/PID/maps. */
#ifndef INFLIGHT_PROC_MAPS_H
#define INFLIGHT_PROC_MAPS_H
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct file_mapping {
	uint64_t start, end;	/* addresses in the process */
	uint64_t offset;	/* file offset of start */
	uint64_t inode;		/* the file's inode number and device, as the kernel sees them */
	unsigned int dev_major, dev_minor;
	bool exec;
	bool deleted;		/* the path ends in " (deleted)": the name no longer leads to it */
	char path[PATH_MAX];	/* as the kernel names it, in the process's mount namespace */
};

struct proc_maps {
	struct file_mapping *maps;
	size_t len;
};

/* Reads the file-backed mappings of pid: 0 or -errno. */
int proc_maps_read(pid_t pid, struct proc_maps *out);
/* Parses maps text (the format of /proc/PID/maps): 0 or -ENOMEM. */
int proc_maps_parse(FILE *f, struct proc_maps *out);
void proc_maps_free(struct proc_maps *m);
/* The lowest mapping of the file whose base name starts with prefix, or NULL. */
const struct file_mapping *proc_maps_find(const struct proc_maps *m, const char *prefix);
/* The lowest mapping of the file at path, or NULL. */
const struct file_mapping *proc_maps_find_path(const struct proc_maps *m, const char *path);

#endif
