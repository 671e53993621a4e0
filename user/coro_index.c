// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <search.h>
#include <stdlib.h>
#include "coro_index.h"

struct coro_entry {
	pid_t pid;
	uint64_t task, coro;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int by_coro(const void *a, const void *b)
{
	const struct coro_entry *x = a, *y = b;

	return x->pid != y->pid ? (x->pid < y->pid ? -1 : 1) : cmp_u64(x->coro, y->coro);
}

static int by_task(const void *a, const void *b)
{
	const struct coro_entry *x = a, *y = b;

	return x->pid != y->pid ? (x->pid < y->pid ? -1 : 1) : cmp_u64(x->task, y->task);
}

void coro_index_init(struct coro_index *x, size_t max)
{
	x->by_coro = x->by_task = NULL;
	x->n = 0;
	x->max = max;
	x->full = 0;
}

static struct coro_entry *find(void *const *tree, const struct coro_entry *key,
			       int (*cmp)(const void *, const void *))
{
	void *node = tfind(key, tree, cmp);

	return node ? *(struct coro_entry **)node : NULL;
}

static void drop(struct coro_index *x, struct coro_entry *e)
{
	tdelete(e, &x->by_coro, by_coro);
	tdelete(e, &x->by_task, by_task);
	free(e);
	x->n--;
}

void coro_index_add(struct coro_index *x, pid_t pid, uint64_t task, uint64_t coro)
{
	struct coro_entry key = { .pid = pid, .task = task, .coro = coro }, *e;

	/* an address reused before its dealloc was seen: the old owner is gone */
	if ((e = find(&x->by_task, &key, by_task)))
		drop(x, e);
	if ((e = find(&x->by_coro, &key, by_coro)))
		drop(x, e);
	if (!coro)
		return;
	if (x->n >= x->max || !(e = malloc(sizeof(*e)))) {
		x->full++;
		return;
	}
	*e = key;
	if (!tsearch(e, &x->by_coro, by_coro)) {
		free(e);
		x->full++;
		return;
	}
	if (!tsearch(e, &x->by_task, by_task)) {
		tdelete(e, &x->by_coro, by_coro);
		free(e);
		x->full++;
		return;
	}
	x->n++;
}

void coro_index_remove_task(struct coro_index *x, pid_t pid, uint64_t task)
{
	struct coro_entry key = { .pid = pid, .task = task }, *e = find(&x->by_task, &key, by_task);

	if (e)
		drop(x, e);
}

uint64_t coro_index_task(const struct coro_index *x, pid_t pid, uint64_t coro)
{
	struct coro_entry key = { .pid = pid, .coro = coro }, *e;

	if (!coro)
		return 0;
	e = find(&x->by_coro, &key, by_coro);
	return e ? e->task : 0;
}

static void no_free(void *node)
{
	(void)node;
}

void coro_index_free(struct coro_index *x)
{
	/* every entry is in both trees: free them once */
	tdestroy(x->by_coro, no_free);
	tdestroy(x->by_task, free);
	coro_index_init(x, x->max);
}
