// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <stdlib.h>
#include <string.h>
#include "creation_site.h"
#include "proc_net.h"
#include "task_adoption.h"

/* The innermost frame of t's await chain outside asyncio, or NULL. */
static const struct snapshot_frame *innermost_own_frame(const struct snapshot_task *t)
{
	int k;

	for (k = t->n_frames - 1; k >= 0; k--)
		if (!in_asyncio_package(t->frames[k].file))
			return &t->frames[k];
	return NULL;
}

/* FNV-1a of a task's name ("Task-1234" unless named): 0 for none */
static uint64_t name_identity(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	if (!name[0] || !strcmp(name, "?"))
		return 0;
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ULL;
	return h;
}

void existing_origin(const struct snapshot_task *task, const struct snapshot_task *parent,
			    struct task_origin *o)
{
	const struct snapshot_frame *at = innermost_own_frame(parent ? parent : task);

	memset(o, 0, sizeof(*o));
	o->coroutine = task->coroutine;
	o->coro_addr = task->coro;
	o->identity = name_identity(task->name);
	/* awaited by a task the snapshot could not read: no line to give it */
	if (!at || (!parent && task->parent))
		return;
	o->file = at->file;
	o->line = at->line;
	o->function = at->function;
	if (!parent)
		o->task_name = task->name;
}

#define MAX_ADOPT_DEPTH 64

struct adoption {
	struct model *m;
	const struct task_snapshot *s;
	uint8_t *adopted;
	uint64_t read_ns;
	bool sampled;	/* a later read of a sampled trace: the tasks it adds were created since */
	struct task_sampler *sampler;	/* what read s, told of the tasks left for its next read */
};

/* A pending task into the model, the task awaiting it first: a site then knows its parent's. */
static void adopt_task(const struct adoption *a, const struct snapshot_task *t, int depth)
{
	const struct task_snapshot *s = a->s;
	const struct snapshot_task *parent = task_snapshot_find(s, t->parent);
	struct task_origin origin;

	if (a->adopted[t - s->tasks] || t->state != SNAP_PENDING)
		return;
	a->adopted[t - s->tasks] = 1;
	if (parent && depth < MAX_ADOPT_DEPTH)
		adopt_task(a, parent, depth + 1);
	/*
	 * A parent read while it ran is at no line for long, and a task not yet
	 * started is at none of its own: the next read places the task.
	 */
	if (a->sampled && ((t->flags & SNAP_NOT_STARTED) ||
			   (parent && (parent->flags & (SNAP_RUNNING | SNAP_CHANGED))))) {
		task_sampler_read_again(a->sampler, t->addr);
		return;
	}
	existing_origin(t, parent, &origin);
	if (!a->sampled) {
		model_task_existing(a->m, s->pid, t->addr, &origin, t->parent, a->read_ns);
		return;
	}
	/* not pending at attach: no task name stands for its line */
	origin.task_name = NULL;
	origin.sampled = true;
	origin.loop = t->loop;
	model_task_sampled(a->m, s->pid, t->addr, &origin, t->parent, a->read_ns);
}

static void adopt(struct model *m, const struct task_snapshot *s, uint64_t read_ns,
		  struct task_sampler *sampler)
{
	bool sampled = sampler;
	struct adoption a = { .m = m, .s = s, .read_ns = read_ns, .sampled = sampled,
			      .sampler = sampler };
	const struct snapshot_task *t;
	uint64_t ino;
	size_t i;

	if (!sampled)
		m->tasks_at_attach_left_out += s->left_out;
	m->code_cache_full += s->cache_full;
	a.adopted = calloc(s->n_tasks + 1, 1);
	if (!a.adopted)
		return;
	for (i = 0; i < s->n_tasks; i++)
		adopt_task(&a, &s->tasks[i], 0);
	free(a.adopted);
	/* during a sampled trace, connect's own attribution (a walk of the stack) comes first */
	for (i = 0; !sampled && i < s->n_tasks; i++) {
		t = &s->tasks[i];
		if (t->state == SNAP_PENDING && t->socket_fd >= 0 &&
		    (ino = proc_socket_inode(s->pid, t->socket_fd)))
			model_conn_task_existing(m, s->pid, ino, t->addr);
	}
}

void adopt_snapshot(struct model *m, const struct task_snapshot *s, uint64_t read_ns)
{
	adopt(m, s, read_ns, NULL);
}

void adopt_sampled_snapshot(struct model *m, const struct task_snapshot *s, uint64_t read_ns,
			    struct task_sampler *sampler)
{
	adopt(m, s, read_ns, sampler);
}
