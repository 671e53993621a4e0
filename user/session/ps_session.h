/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * inflight ps and pstree: one snapshot of a process's asyncio tasks, read
 * from its memory with nothing attached, written as a summary or a tree.
 */
#ifndef INFLIGHT_PS_SESSION_H
#define INFLIGHT_PS_SESSION_H
#include <stdbool.h>
#include <sys/types.h>
#include "trace_session.h"

struct ps_opts {
	pid_t pid;
	bool tree;		/* pstree: the awaited-by tree */
	bool per_task;		/* ps: every task, after the summary */
	bool pause;		/* hold the process still while it is read: exact, not free */
	enum report_format format;
	const char *output;	/* NULL: stdout */
};

/* Exit status: 0 written, 1 the snapshot or the output failed, 2 bad input. */
int ps_session_run(const struct ps_opts *o);

#endif
