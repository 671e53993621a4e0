/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The asyncio task tracker: finds each target's CPython, loads
 * bpf/task_tracker.bpf.c, probes Task creation and destruction, reads
 * whether live tasks are done from the target's memory, and feeds the model.
 * A target that is not a supported CPython is reported as such; one that has
 * not imported asyncio yet is looked at again until it does.
 */
#ifndef INFLIGHT_TASK_TRACKER_H
#define INFLIGHT_TASK_TRACKER_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "model.h"

struct task_tracker;

/*
 * Opens and loads the BPF programs: 0 or -errno. TRACE_MODE_LEAN: probe Task
 * creation only, and learn that tasks ended from their memory on each poll.
 * TRACE_MODE_SAMPLED: no probe on Task creation either; the tasks created
 * since the last poll are read from memory at each.
 */
int task_tracker_load(struct task_tracker **out, struct model *m, enum trace_mode mode);
/*
 * Looks at pid's interpreter and attaches if it can; the model's hook status
 * says how it went. pidfd (kept open by the caller while tracing) tells when
 * the process has exited: its PID is then never looked at again.
 */
int task_tracker_add_process(struct task_tracker *tt, pid_t pid, int pidfd);
/* The process has exited: detaches its probes and drops what was read of it. NULL-safe. */
void task_tracker_remove_process(struct task_tracker *tt, pid_t pid);
/*
 * The process has exec()ed. forget_program drains the old program's events
 * and drops its probes and what was read of it; read_new_program then looks
 * at the new one as at a new process. NULL-safe.
 */
void task_tracker_forget_program(struct task_tracker *tt, pid_t pid);
void task_tracker_read_new_program(struct task_tracker *tt, pid_t pid);
/* The kernel's map of interpreter layouts, for the exit tracker to empty. */
int task_tracker_py_procs_fd(const struct task_tracker *tt);
/* The same layouts by slot, which the exit tracker clears with py_procs. */
int task_tracker_py_layouts_fd(const struct task_tracker *tt);
/* Starts attribution of connections to tasks and every probe: 0 or -errno. */
int task_tracker_attach(struct task_tracker *tt);
/* Adds the tasks pending before the probes, from a snapshot of each target's memory. */
void task_tracker_adopt_existing(struct task_tracker *tt);
/*
 * For a process added (task_tracker_add_process) after task_tracker_attach,
 * as inflight sweep adds those it finds late: adopts the tasks it had
 * pending, once its sockets are known. NULL-safe.
 */
void task_tracker_adopt_joined(struct task_tracker *tt, pid_t pid);
/* Handles the events sent so far, and nothing else. */
void task_tracker_drain(struct task_tracker *tt);
/* Drains events into the model, refreshes task states, retries targets waiting for asyncio. */
void task_tracker_poll(struct task_tracker *tt);
/* TRACE_MODE_SAMPLED: when the next target is due a read (monotonic); else UINT64_MAX */
uint64_t task_tracker_next_read_ns(const struct task_tracker *tt);
/* Detaches and frees; NULL-safe. */
void task_tracker_destroy(struct task_tracker *tt);

#endif
