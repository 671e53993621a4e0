/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* A process to trace: who it is, and whether it is still there. */
#ifndef INFLIGHT_TARGET_H
#define INFLIGHT_TARGET_H
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct target {
	pid_t pid;
	int pidfd;		/* becomes readable when the process exits */
	char comm[16];
	char exe[PATH_MAX];
	bool exited;
};

/*
 * Opens the process: 0, or -ESRCH (no such process), -EPERM/-EACCES (not
 * allowed), -EINVAL (a thread, not a process), or another -errno.
 */
int target_open(struct target *t, pid_t pid);
/* true once the process has exited (it may be a zombie) */
bool target_has_exited(struct target *t);
void target_close(struct target *t);

#endif
