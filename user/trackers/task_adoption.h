/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Tasks already pending when the probes went in, from a snapshot of the
 * target's memory into the model: where each came from, as near as memory
 * tells, and the sockets they were reading or connecting.
 */
#ifndef INFLIGHT_TASK_ADOPTION_H
#define INFLIGHT_TASK_ADOPTION_H
#include "model.h"
#include "task_snapshot.h"

/*
 * Where a task that predates the trace came from: the line its awaiting task
 * (parent, NULL if none was read) is suspended at, the gather() or the
 * create_task under a TaskGroup. A task that nothing awaits (a main task, a
 * worker kept in a list) is a line of its own: where it is suspended, with
 * its name. o->file stays NULL when no line can be given.
 */
void existing_origin(const struct snapshot_task *task, const struct snapshot_task *parent,
		     struct task_origin *o);
/* Every pending task of s the model does not know yet, read at read_ns (monotonic). */
void adopt_snapshot(struct model *m, const struct task_snapshot *s, uint64_t read_ns);
/*
 * A later read of a sampled trace (TRACE_MODE_SAMPLED): every pending task of
 * s the model does not know yet was created since the last read, at a line
 * found as for a task pending at attach. Their sockets are left to the
 * connect probe's attribution. s is sampler's: a task left for a later read
 * (not started, or its parent caught moving) is described again then.
 */
void adopt_sampled_snapshot(struct model *m, const struct task_snapshot *s, uint64_t read_ns,
			    struct task_sampler *sampler);

#endif
