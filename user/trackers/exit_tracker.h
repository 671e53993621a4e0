/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * How traced processes end: loads bpf/proc_exit.bpf.c and reads, once a
 * process is gone, its exit status or fatal signal and whether the kernel's
 * OOM killer took it.
 */
#ifndef INFLIGHT_EXIT_TRACKER_H
#define INFLIGHT_EXIT_TRACKER_H
#include <sys/types.h>
#include "model.h"

struct exit_tracker;

/* Loads and attaches the program: 0 or -errno (the trace goes on without it). */
int exit_tracker_start(struct exit_tracker **out);
int exit_tracker_add_target(struct exit_tracker *et, pid_t pid);
/* How pid ended, and when (monotonic ns): 0, or -ENOENT if the kernel did not say. */
int exit_tracker_lookup(const struct exit_tracker *et, pid_t pid, struct proc_end *end,
			uint64_t *ts_ns);
/* NULL-safe. */
void exit_tracker_destroy(struct exit_tracker *et);

#endif
