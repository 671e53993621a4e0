/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * What /proc/PID/stat says of a process that inflight needs: when it started
 * (with the PID, that names one process: a later one that takes the PID
 * started later) and whether it is on its way out.
 */
#ifndef INFLIGHT_PROC_STAT_H
#define INFLIGHT_PROC_STAT_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc_stat {
	char state;			/* field 3: R, S, D, Z, X, ... */
	unsigned long flags;		/* field 9: the kernel's PF_* flags */
	unsigned long long start_time;	/* field 22: clock ticks after boot */
};

/* Parses the text of a /proc/PID/stat file: 0, or -EINVAL if it is not one. */
int proc_stat_parse(const char *text, struct proc_stat *st);
/* Reads /proc/PID/stat: 0, or -ESRCH if there is no such process, or -errno. */
int proc_stat_read(pid_t pid, struct proc_stat *st);
/*
 * Whether the process is exiting or has exited: a process whose memory is
 * being torn down reads as empty before its pidfd says it is gone.
 */
bool proc_stat_exiting(const struct proc_stat *st);

#endif
