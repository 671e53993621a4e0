/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* A process to trace: who it is, and whether it is still there. */
#ifndef INFLIGHT_TARGET_H
#define INFLIGHT_TARGET_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "proc_identity.h"

struct target {
	pid_t pid;
	int pidfd;		/* becomes readable when the process exits */
	char comm[16];
	char exe[PATH_MAX];
	/* the name its metrics carry, as a sweep names it (proc_identity_service) */
	char service[SERVICE_NAME_MAX];
	unsigned long long start_time;	/* clock ticks after boot: with pid, names this process */
	unsigned int execs;	/* exec()s seen so far */
	bool exited;
	bool reuse_noted;	/* its PID was seen taken by another process */
};

/*
 * Opens the process: 0, or -ESRCH (no such process), -EPERM/-EACCES (not
 * allowed), -EINVAL (a thread, not a process), or another -errno.
 */
int target_open(struct target *t, pid_t pid);
/* true once the process has exited (it may be a zombie) */
bool target_has_exited(struct target *t);
/* Reads comm, exe and service again: after an exec(), the new program's. */
void target_reread_identity(struct target *t);
/* Whether the PID now names another process (started after this one); comm gets its name. */
bool target_pid_reused(const struct target *t, char *comm, size_t size);
void target_close(struct target *t);

#endif
