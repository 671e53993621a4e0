/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Holding a process still for an exact snapshot: every thread seized and
 * interrupted with ptrace (PTRACE_SEIZE, PTRACE_INTERRUPT), not stopped with
 * SIGSTOP. If inflight dies meanwhile, the kernel detaches and the process
 * runs on by itself; its parent sees no stop.
 */
#ifndef INFLIGHT_PROCESS_PAUSE_H
#define INFLIGHT_PROCESS_PAUSE_H
#include <stddef.h>
#include <sys/types.h>

struct process_pause {
	pid_t *tids;
	int *signals;	/* one each was about to take when stopped: handed back at resume */
	size_t n;
};

/* 0 with every thread of pid stopped, or -errno with none left stopped. */
int process_pause(pid_t pid, struct process_pause *p);
/* Lets every thread run again. */
void process_resume(struct process_pause *p);

#endif
