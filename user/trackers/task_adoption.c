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

/* adopted[]: the task was adopted by this read; and the model started tracking it then */
#define ADOPTED 1
#define NEWLY_TRACKED 2

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
	a->adopted[t - s->tasks] = ADOPTED;
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
	if (model_task_sampled(a->m, s->pid, t->addr, &origin, t->parent, a->read_ns))
		a->adopted[t - s->tasks] = NEWLY_TRACKED;
}

/* One of a site's tasks a read showed first, by its number. */
struct bracket {
	int site;
	uint64_t serial;
	uint64_t born_after_ns;
};

static int cmp_bracket(const void *a, const void *b)
{
	const struct bracket *x = a, *y = b;

	if (x->site != y->site)
		return x->site < y->site ? -1 : 1;
	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

static int cmp_serial(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* How many of sorted[0..n) are at most x. */
static size_t count_up_to(const uint64_t *sorted, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sorted[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many of sorted[0..n) lie strictly between lo and hi (lo < hi). */
static uint64_t count_between(const uint64_t *sorted, size_t n, uint64_t lo, uint64_t hi)
{
	return count_up_to(sorted, n, hi - 1) - count_up_to(sorted, n, lo);
}

/*
 * The numbers between two tasks a and b (a < b) that this read showed no
 * task pending under: tasks created after a, so after the read a's number
 * dates it from, and gone or done by this one.
 */
static uint64_t unseen_between(const struct task_snapshot *s, const uint64_t *done, size_t n_done,
			       uint64_t a, uint64_t b)
{
	uint64_t span = b - a - 1;
	uint64_t present = count_between(s->serials, s->n_serials, a, b);
	uint64_t gone = span > present ? span - present : 0;
	uint64_t finished = count_between(done, n_done, a, b);

	return gone + finished < span ? gone + finished : span;
}

/* A site's count, less the entries with no number: any of them may hold one in between. */
static void credit_site(struct model *m, const struct task_snapshot *s, int site, uint64_t n,
			uint64_t within_ns)
{
	if (site >= 0 && n > s->unnumbered)
		model_site_short_unseen(m, site, n - s->unnumbered, within_ns);
}

/*
 * A sampled trace does not see the tasks that live and die between two
 * reads, but _asyncio numbers every task it names by default, one counter in
 * creation order: the numbers between two tasks of one site that this read
 * showed first (both created since an earlier read, see born_after_ns) that
 * no task pending holds now belong to tasks created between those two and
 * already done. They are taken for that site's tasks, as a line that creates
 * tasks in a loop makes them. Only in a process whose tasks run on one event
 * loop: another loop's thread numbers its tasks in between.
 */
static void count_short_unseen(struct model *m, const struct task_snapshot *s,
			       const uint8_t *adopted, uint64_t read_ns)
{
	struct bracket *br = malloc((s->n_tasks + 1) * sizeof(*br));
	uint64_t *done = malloc((s->n_tasks + 1) * sizeof(*done));
	uint64_t n = 0, within_ns = 0;
	const struct snapshot_task *t;
	size_t i, n_br = 0, n_done = 0;

	if (!br || !done || !s->serials || !model_sampled_one_loop(m, s->pid))
		goto out;
	for (i = 0; i < s->n_tasks; i++) {
		t = &s->tasks[i];
		if (!t->serial)
			continue;
		if (t->state != SNAP_PENDING)
			done[n_done++] = t->serial;
		else if (adopted[i] == NEWLY_TRACKED && t->born_after_ns)
			br[n_br++] = (struct bracket){ .site = model_task_site(m, s->pid, t->addr),
						       .serial = t->serial,
						       .born_after_ns = t->born_after_ns };
	}
	qsort(done, n_done, sizeof(*done), cmp_serial);
	qsort(br, n_br, sizeof(*br), cmp_bracket);
	for (i = 1; i <= n_br; i++) {
		if (i == n_br || br[i].site != br[i - 1].site) {
			credit_site(m, s, br[i - 1].site, n, within_ns);
			n = within_ns = 0;
			continue;
		}
		if (br[i].serial - br[i - 1].serial <= 1)
			continue;
		n += unseen_between(s, done, n_done, br[i - 1].serial, br[i].serial);
		if (read_ns - br[i - 1].born_after_ns > within_ns)
			within_ns = read_ns - br[i - 1].born_after_ns;
	}
out:
	free(br);
	free(done);
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
	if (sampled)
		count_short_unseen(m, s, a.adopted, read_ns);
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
