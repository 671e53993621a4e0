// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "task_tree.h"

#define MAX_TREE_DEPTH 256

const struct snapshot_frame *task_suspended_at(const struct snapshot_task *t)
{
	return t->n_frames ? &t->frames[0] : NULL;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* Tasks doing the same thing compare equal. */
static int cmp_doing(const struct snapshot_task *a, const struct snapshot_task *b)
{
	const struct snapshot_frame *fa = task_suspended_at(a), *fb = task_suspended_at(b);
	int c;

	if (a->state != b->state)
		return a->state - b->state;
	if ((c = cmp_str(a->coroutine, b->coroutine)) || (c = cmp_str(a->waits_on, b->waits_on)))
		return c;
	if (!fa || !fb)
		return !!fa - !!fb;
	if ((c = strcmp(fa->file, fb->file)))
		return c;
	return fa->line - fb->line;
}

static int cmp_doing_p(const void *a, const void *b)
{
	return cmp_doing(*(const struct snapshot_task *const *)a,
			 *(const struct snapshot_task *const *)b);
}

static int cmp_group(const void *a, const void *b)
{
	const struct task_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return cmp_doing(x->example, y->example);
}

int task_groups(const struct task_snapshot *s, struct task_group **groups, size_t *n)
{
	const struct snapshot_task **sorted = malloc((s->n_tasks + 1) * sizeof(*sorted));
	struct task_group *g = calloc(s->n_tasks + 1, sizeof(*g));
	size_t i, k = 0;

	if (!sorted || !g) {
		free(sorted), free(g);
		return -ENOMEM;
	}
	for (i = 0; i < s->n_tasks; i++)
		sorted[i] = &s->tasks[i];
	qsort(sorted, s->n_tasks, sizeof(*sorted), cmp_doing_p);
	for (i = 0; i < s->n_tasks; i++) {
		if (!k || cmp_doing(g[k - 1].example, sorted[i]))
			g[k++].example = sorted[i];
		g[k - 1].count++;
	}
	qsort(g, k, sizeof(*g), cmp_group);
	free(sorted);
	*groups = g;
	*n = k;
	return 0;
}

int task_loops(const struct task_snapshot *s, struct loop_count **loops, size_t *n)
{
	struct loop_count *l = NULL, *grown;
	size_t i, j, k = 0;

	for (i = 0; i < s->n_tasks; i++) {
		for (j = 0; j < k && l[j].loop != s->tasks[i].loop; j++)
			;
		if (j == k) {
			grown = realloc(l, (k + 1) * sizeof(*l));
			if (!grown) {
				free(l);
				return -ENOMEM;
			}
			l = grown;
			l[k++] = (struct loop_count){ .loop = s->tasks[i].loop };
		}
		l[j].tasks++;
		l[j].pending += s->tasks[i].state == SNAP_PENDING;
	}
	*loops = l;
	*n = k;
	return 0;
}

/* --- the awaited-by tree --------------------------------------------------- */

struct forest {
	const struct task_snapshot *s;
	size_t *first_child;	/* per task: its first child in by_parent, and how many */
	size_t *n_child;
	size_t *by_parent;	/* task indices sorted by parent address */
	uint8_t *placed;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return mix(h, 0);
}

static uint64_t label_hash(const struct snapshot_task *t)
{
	const struct snapshot_frame *f = task_suspended_at(t);
	uint64_t h = 0xcbf29ce484222325ULL;

	h = hash_str(h, t->coroutine);
	h = mix(h, t->state);
	h = mix(h, t->awaited_by);
	if (f)
		h = mix(hash_str(h, f->file), (uint64_t)f->line);
	return h;
}

static int cmp_signature(const void *a, const void *b)
{
	uint64_t x = ((const struct tree_node *)a)->signature, y = ((const struct tree_node *)b)->signature;

	return x < y ? -1 : x > y;
}

static int cmp_count(const void *a, const void *b)
{
	const struct tree_node *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return cmp_signature(a, b);
}

/* Sorts siblings by signature and folds identical ones into one node with a count. */
static size_t fold_identical(struct tree_node *nodes, size_t n)
{
	size_t i, k = 0;

	qsort(nodes, n, sizeof(*nodes), cmp_signature);
	for (i = 0; i < n; i++) {
		if (k && nodes[k - 1].signature == nodes[i].signature) {
			nodes[k - 1].count += nodes[i].count;
			task_tree_free(nodes[i].children, nodes[i].n_children);
			continue;
		}
		nodes[k++] = nodes[i];
	}
	qsort(nodes, k, sizeof(*nodes), cmp_count);
	return k;
}

static int build_node(struct forest *f, size_t index, int depth, struct tree_node *node)
{
	size_t i, n = f->n_child[index];
	uint64_t sig;

	memset(node, 0, sizeof(*node));
	node->task = &f->s->tasks[index];
	node->count = 1;
	f->placed[index] = 1;
	sig = label_hash(node->task);
	if (n && depth < MAX_TREE_DEPTH) {
		node->children = calloc(n, sizeof(*node->children));
		if (!node->children)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			if (f->placed[f->by_parent[f->first_child[index] + i]])
				continue;	/* a cycle, read from a changing process */
			if (build_node(f, f->by_parent[f->first_child[index] + i], depth + 1,
				       &node->children[node->n_children++]))
				return -ENOMEM;
		}
		node->n_children = fold_identical(node->children, node->n_children);
		for (i = 0; i < node->n_children; i++)
			sig = mix(mix(sig, node->children[i].signature), node->children[i].count);
	}
	node->signature = sig;
	return 0;
}

static const struct task_snapshot *sort_snapshot;

static int cmp_by_parent(const void *a, const void *b)
{
	uint64_t x = sort_snapshot->tasks[*(const size_t *)a].parent;
	uint64_t y = sort_snapshot->tasks[*(const size_t *)b].parent;

	return x < y ? -1 : x > y;
}

/* The index of the task at addr, or n. */
static size_t find_task(const struct forest *f, uint64_t addr)
{
	const struct snapshot_task *t = task_snapshot_find(f->s, addr);

	return t ? (size_t)(t - f->s->tasks) : f->s->n_tasks;
}

static void link_children(struct forest *f)
{
	size_t i, n = f->s->n_tasks, parent;

	for (i = 0; i < n; i++) {
		parent = f->s->tasks[f->by_parent[i]].parent ?
			 find_task(f, f->s->tasks[f->by_parent[i]].parent) : n;
		if (parent == n)
			continue;
		if (!f->n_child[parent]++)
			f->first_child[parent] = i;
	}
}

int task_tree_build(const struct task_snapshot *s, struct tree_node **roots, size_t *n_roots)
{
	size_t n = s->n_tasks, i, k = 0;
	struct forest f = { .s = s };
	struct tree_node *r = calloc(n + 1, sizeof(*r));
	int err = -ENOMEM;

	f.by_parent = malloc((n + 1) * sizeof(size_t));
	f.first_child = calloc(n + 1, sizeof(size_t));
	f.n_child = calloc(n + 1, sizeof(size_t));
	f.placed = calloc(n + 1, 1);
	if (!r || !f.by_parent || !f.first_child || !f.n_child || !f.placed)
		goto out;
	for (i = 0; i < n; i++)
		f.by_parent[i] = i;
	sort_snapshot = s;
	qsort(f.by_parent, n, sizeof(size_t), cmp_by_parent);
	link_children(&f);
	/* roots: no parent in the snapshot; then whatever a cycle left unplaced */
	for (i = 0; i < n; i++)
		if ((!s->tasks[i].parent || find_task(&f, s->tasks[i].parent) == n) &&
		    build_node(&f, i, 0, &r[k++]))
			goto out;
	for (i = 0; i < n; i++)
		if (!f.placed[i] && build_node(&f, i, 0, &r[k++]))
			goto out;
	*n_roots = fold_identical(r, k);
	*roots = r;
	r = NULL;
	err = 0;
out:
	if (r)
		task_tree_free(r, k);
	free(f.by_parent), free(f.first_child), free(f.n_child), free(f.placed);
	return err;
}

void task_tree_free(struct tree_node *nodes, size_t n)
{
	size_t i;

	if (!nodes)
		return;
	for (i = 0; i < n; i++)
		task_tree_free(nodes[i].children, nodes[i].n_children);
	free(nodes);
}
