/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * How traced processes end: loads bpf/proc_exit.bpf.c and reads, once a
 * process is gone, its exit status or fatal signal and whether the kernel's
 * OOM killer took it; and how many times it has exec()ed or forked. At a target's exit
 * the kernel side also removes it from the other tracers' filter maps, so its
 * PID, reused, is not traced.
 */
#ifndef INFLIGHT_EXIT_TRACKER_H
#define INFLIGHT_EXIT_TRACKER_H
#include <stdint.h>
#include <sys/types.h>
#include "model.h"

struct exit_tracker;

/*
 * Loads and attaches the programs: 0 or -errno (the trace goes on without it).
 * conn_targets_fd and py_procs_fd: the other tracers' maps of targets, emptied
 * of a target as it exits (py_procs also at its exec; the target's slot in
 * py_layouts_fd is cleared with it); -1 when there is none.
 */
int exit_tracker_start(struct exit_tracker **out, int conn_targets_fd, int py_procs_fd,
		       int py_layouts_fd);
int exit_tracker_add_target(struct exit_tracker *et, pid_t pid);
/* How pid ended, and when (monotonic ns): 0, or -ENOENT if the kernel did not say. */
int exit_tracker_lookup(const struct exit_tracker *et, pid_t pid, struct proc_end *end,
			uint64_t *ts_ns);
/* How many times pid has exec()ed since it was added (0 if unknown), and when it last did. */
unsigned int exit_tracker_exec_count(const struct exit_tracker *et, pid_t pid, uint64_t *ts_ns);
/* How many child processes pid has forked since it was added (0 if unknown). */
unsigned int exit_tracker_fork_count(const struct exit_tracker *et, pid_t pid);
/* NULL-safe. */
void exit_tracker_destroy(struct exit_tracker *et);

#endif
