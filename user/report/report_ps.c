// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* inflight ps and pstree output; the JSON is documented in docs/report-schema.md. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "report.h"
#include "report_ps.h"
#include "task_tree.h"

#define MAX_TEXT_DEPTH 64

/* A target's string as text shows it, "-" if there is none */
static const char *or_dash(const char *s)
{
	return s && *s ? text_shown(s) : "-";
}

/* --- text ---------------------------------------------------------------- */

static void frame_text(FILE *f, const struct snapshot_frame *fr)
{
	if (fr)
		fprintf(f, "%s:%d", text_shown(fr->file), fr->line);
	else
		fputs("-", f);
}

static void header_text(FILE *f, const struct task_snapshot *s, const struct loop_count *loops,
			size_t n_loops)
{
	size_t i, by_state[3] = { 0 };

	for (i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].state <= SNAP_FINISHED)
			by_state[s->tasks[i].state]++;
	fprintf(f, "process %d: CPython %s, %zu tasks in %zu event loop%s "
		"(%zu pending, %zu finished, %zu cancelled)\n", s->pid, s->python_version, s->n_tasks,
		n_loops,
		n_loops == 1 ? "" : "s", by_state[SNAP_PENDING], by_state[SNAP_FINISHED],
		by_state[SNAP_CANCELLED]);
	fprintf(f, "read from %s in %.0f ms", s->method, ns_to_s(s->read_ns) * 1000);
	if (s->paused_ns)
		fprintf(f, ", the process held still for %.0f ms", ns_to_s(s->paused_ns) * 1000);
	if (s->unreadable || s->changed)
		fprintf(f, "\npartial: the process ran on while being read: %zu tasks died or finished "
			"and were left out, %zu moved on and are marked 'changed' (run it again, or on "
			"a quieter moment)", s->unreadable, s->changed);
	if (s->left_out || s->cache_full)
		fprintf(f, "\nincomplete: %zu more tasks than inflight reads at once (%u) were left "
			"out, %llu reads of code objects and names refused (cache full)", s->left_out,
			SNAPSHOT_MAX_TASKS, (unsigned long long)s->cache_full);
	fputc('\n', f);
	for (i = 0; i < n_loops; i++)
		fprintf(f, "  loop 0x%llx: %zu pending (%zu tasks)\n", (unsigned long long)loops[i].loop,
			loops[i].pending, loops[i].tasks);
}

static int no_asyncio_text(FILE *f, const struct task_snapshot *s)
{
	fprintf(f, "process %d: CPython %s, asyncio is not imported: no tasks\n", s->pid,
		s->python_version);
	return ferror(f) ? -EIO : 0;
}

static void groups_text(FILE *f, const struct task_group *g, size_t n)
{
	size_t i;

	fprintf(f, "\n%7s  %-9s  %-28s %-16s %s\n", "TASKS", "STATE", "COROUTINE", "WAITS ON",
		"SUSPENDED AT");
	for (i = 0; i < n; i++) {
		fprintf(f, "%7zu  %-9s  %-28s %-16s ", g[i].count,
			snapshot_state_name(g[i].example->state), or_dash(g[i].example->coroutine),
			or_dash(g[i].example->waits_on));
		frame_text(f, task_suspended_at(g[i].example));
		fputc('\n', f);
	}
}

static void tasks_text(FILE *f, const struct task_snapshot *s)
{
	const struct snapshot_task *t;
	size_t i;
	int k;

	fputc('\n', f);
	for (i = 0; i < s->n_tasks; i++) {
		t = &s->tasks[i];
		fprintf(f, "task 0x%llx %s: %s %s", (unsigned long long)t->addr, text_shown(t->name),
			snapshot_state_name(t->state), or_dash(t->coroutine));
		if (t->parent)
			fprintf(f, ", awaited by task 0x%llx (%s)", (unsigned long long)t->parent,
				snapshot_awaited_by_name(t->awaited_by));
		fprintf(f, "%s%s\n", t->flags & SNAP_RUNNING ? ", running" : "",
			t->flags & SNAP_CHANGED ? ", changed while read" : "");
		for (k = 0; k < t->n_frames; k++)
			fprintf(f, "    %s:%d in %s\n", text_shown(t->frames[k].file),
				t->frames[k].line, text_shown(t->frames[k].function));
		if (t->flags & SNAP_CHAIN_CUT)
			fputs("    ...\n", f);
		if (t->waits_on)
			fprintf(f, "    waits on %s%s", text_shown(t->waits_on),
				t->socket_fd >= 0 ? "" : "\n");
		if (t->socket_fd >= 0)
			fprintf(f, "%s%s socket fd %d\n", t->waits_on ? ", " : "    ",
				t->flags & SNAP_CONNECTING ? "connecting" : "reading", t->socket_fd);
	}
}

int report_ps_text(FILE *f, const struct task_snapshot *s, bool per_task)
{
	struct task_group *groups = NULL;
	struct loop_count *loops = NULL;
	size_t n_groups = 0, n_loops = 0;
	int err;

	if (!s->asyncio_loaded)
		return no_asyncio_text(f, s);
	err = task_groups(s, &groups, &n_groups);
	if (!err)
		err = task_loops(s, &loops, &n_loops);
	if (!err) {
		header_text(f, s, loops, n_loops);
		if (n_groups)
			groups_text(f, groups, n_groups);
		if (per_task)
			tasks_text(f, s);
	}
	free(groups), free(loops);
	return err ? err : ferror(f) ? -EIO : 0;
}

static void node_text(FILE *f, const struct tree_node *n, char *prefix, size_t len, bool last,
		      int depth)
{
	const struct snapshot_frame *at = task_suspended_at(n->task);
	size_t i;

	fprintf(f, "%s%s", prefix, depth ? (last ? "└── " : "├── ") : "");
	if (n->count > 1)
		fprintf(f, "%zu × ", n->count);
	fprintf(f, "%s ", or_dash(n->task->coroutine));
	frame_text(f, at);
	if (n->count == 1)
		fprintf(f, " (%s)", text_shown(n->task->name));
	if (n->task->state != SNAP_PENDING)
		fprintf(f, " [%s]", snapshot_state_name(n->task->state));
	if (n->task->awaited_by == AWAITED_BY_GATHER || n->task->awaited_by == AWAITED_BY_TASKGROUP)
		fprintf(f, " [%s]", snapshot_awaited_by_name(n->task->awaited_by));
	fputc('\n', f);
	if (depth >= MAX_TEXT_DEPTH)
		return;
	if (depth)
		snprintf(prefix + len, 8, "%s", last ? "    " : "│   ");
	for (i = 0; i < n->n_children; i++)
		node_text(f, &n->children[i], prefix, strlen(prefix), i + 1 == n->n_children,
			  depth + 1);
	prefix[len] = '\0';
}

int report_pstree_text(FILE *f, const struct task_snapshot *s)
{
	char prefix[MAX_TEXT_DEPTH * 8 + 8] = "";
	struct tree_node *roots = NULL;
	size_t n = 0, i;
	int err;

	if (!s->asyncio_loaded)
		return no_asyncio_text(f, s);
	err = task_tree_build(s, &roots, &n);
	if (err)
		return err;
	fprintf(f, "process %d: CPython %s, %zu tasks, read from %s in %.0f ms", s->pid,
		s->python_version, s->n_tasks, s->method, ns_to_s(s->read_ns) * 1000);
	if (s->paused_ns)
		fprintf(f, ", the process held still for %.0f ms", ns_to_s(s->paused_ns) * 1000);
	fputc('\n', f);
	if (s->unreadable || s->changed)
		fprintf(f, "(partial: the process ran on while being read: %zu tasks left out, %zu "
			"moved on)\n", s->unreadable, s->changed);
	if (s->left_out || s->cache_full)
		fprintf(f, "(incomplete: %zu tasks past the %u read at once, %llu reads of code "
			"objects and names refused)\n", s->left_out, SNAPSHOT_MAX_TASKS,
			(unsigned long long)s->cache_full);
	for (i = 0; i < n; i++)
		node_text(f, &roots[i], prefix, 0, true, 0);
	task_tree_free(roots, n);
	return ferror(f) ? -EIO : 0;
}

/* --- JSON ------------------------------------------------------------------ */

static json_object *addr_json(uint64_t addr)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)addr);
	return json_object_new_string(buf);
}

static json_object *opt_str(const char *s)
{
	return s ? json_str(s) : NULL;
}

static json_object *frame_json(const struct snapshot_frame *fr)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "function", json_str(fr->function));
	json_object_object_add(o, "file", json_str(fr->file));
	json_object_object_add(o, "line", json_object_new_int(fr->line));
	return o;
}

/* The fields every form shares: what the task runs and where it is. */
static void doing_json(json_object *o, const struct snapshot_task *t)
{
	const struct snapshot_frame *at = task_suspended_at(t);

	json_object_object_add(o, "state", json_str(snapshot_state_name(t->state)));
	json_object_object_add(o, "coroutine", opt_str(t->coroutine));
	json_object_object_add(o, "file", at ? json_str(at->file) : NULL);
	json_object_object_add(o, "line", at ? json_object_new_int(at->line) : NULL);
}

static json_object *task_json(const struct snapshot_task *t)
{
	json_object *o = json_object_new_object(), *chain = json_object_new_array(), *by = NULL;
	int k;

	json_object_object_add(o, "id", addr_json(t->addr));
	json_object_object_add(o, "name", json_str(t->name));
	json_object_object_add(o, "loop", addr_json(t->loop));
	doing_json(o, t);
	json_object_object_add(o, "waits_on", opt_str(t->waits_on));
	json_object_object_add(o, "running", json_object_new_boolean(t->flags & SNAP_RUNNING));
	json_object_object_add(o, "changed", json_object_new_boolean(t->flags & SNAP_CHANGED));
	json_object_object_add(o, "socket_fd", t->socket_fd >= 0 ? json_object_new_int(t->socket_fd) : NULL);
	json_object_object_add(o, "socket_connecting",
			       json_object_new_boolean(t->flags & SNAP_CONNECTING));
	if (t->parent) {
		by = json_object_new_object();
		json_object_object_add(by, "task", addr_json(t->parent));
		json_object_object_add(by, "how", json_str(snapshot_awaited_by_name(t->awaited_by)));
	}
	json_object_object_add(o, "awaited_by", by);
	for (k = 0; k < t->n_frames; k++)
		json_object_array_add(chain, frame_json(&t->frames[k]));
	json_object_object_add(o, "await_chain", chain);
	json_object_object_add(o, "await_chain_cut", json_object_new_boolean(t->flags & SNAP_CHAIN_CUT));
	return o;
}

static json_object *snapshot_header_json(const struct task_snapshot *s, const char *command)
{
	json_object *root = json_object_new_object(), *tool = json_object_new_object();

	json_object_object_add(root, "schema_version", json_object_new_int(REPORT_SCHEMA_VERSION));
	json_object_object_add(tool, "name", json_str("inflight"));
	json_object_object_add(tool, "version", json_str(INFLIGHT_VERSION));
	json_object_object_add(root, "tool", tool);
	json_object_object_add(root, "command", json_str(command));
	json_object_object_add(root, "pid", json_object_new_int(s->pid));
	json_object_object_add(root, "python", json_str(s->python_version));
	json_object_object_add(root, "asyncio_loaded", json_object_new_boolean(s->asyncio_loaded));
	json_object_object_add(root, "method", json_str(s->method));
	json_object_object_add(root, "read_s", json_fixed(ns_to_s(s->read_ns), 6));
	json_object_object_add(root, "paused_s", json_fixed(ns_to_s(s->paused_ns), 6));
	json_object_object_add(root, "complete", json_object_new_boolean(!s->unreadable && !s->changed &&
									  !s->left_out && !s->cache_full));
	json_object_object_add(root, "skipped", json_object_new_uint64(s->unreadable));
	json_object_object_add(root, "changed", json_object_new_uint64(s->changed));
	json_object_object_add(root, "left_out", json_object_new_uint64(s->left_out));
	json_object_object_add(root, "cache_full", json_object_new_uint64(s->cache_full));
	json_object_object_add(root, "tasks_total", json_object_new_uint64(s->n_tasks));
	return root;
}

static int write_json(FILE *f, json_object *root)
{
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = 0;

	if (!text || fputs(text, f) < 0 || fputc('\n', f) < 0)
		err = -EIO;
	json_object_put(root);
	return err;
}

/*
 * The document, then its "tasks" array written one task at a time, one per
 * line: 100,000 tasks as one json-c tree would take hundreds of MiB.
 */
static int write_json_with_tasks(FILE *f, json_object *root, const struct task_snapshot *s)
{
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	const char *end = text ? strrchr(text, '}') : NULL;
	json_object *o;
	size_t i;
	int err = 0;

	/* the document without its closing brace, then the array and the brace */
	while (end && end > text && (end[-1] == ' ' || end[-1] == '\n'))
		end--;
	if (!end || fwrite(text, 1, (size_t)(end - text), f) != (size_t)(end - text) ||
	    fputs(",\n  \"tasks\": [", f) < 0)
		err = -EIO;
	for (i = 0; !err && i < s->n_tasks; i++) {
		o = task_json(&s->tasks[i]);
		text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!text || fprintf(f, "%s\n    %s", i ? "," : "", text) < 0)
			err = -EIO;
		json_object_put(o);
	}
	if (!err && fputs("\n  ]\n}\n", f) < 0)
		err = -EIO;
	json_object_put(root);
	return err;
}

int report_ps_json(FILE *f, const struct task_snapshot *s, bool per_task)
{
	json_object *root = snapshot_header_json(s, "ps"), *arr, *o;
	struct task_group *groups = NULL;
	struct loop_count *loops = NULL;
	size_t n_groups = 0, n_loops = 0, i;

	if (task_groups(s, &groups, &n_groups) || task_loops(s, &loops, &n_loops)) {
		free(groups), free(loops);
		json_object_put(root);
		return -ENOMEM;
	}
	arr = json_object_new_array();
	for (i = 0; i < n_loops; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "loop", addr_json(loops[i].loop));
		json_object_object_add(o, "pending", json_object_new_uint64(loops[i].pending));
		json_object_object_add(o, "tasks", json_object_new_uint64(loops[i].tasks));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "loops", arr);
	arr = json_object_new_array();
	for (i = 0; i < n_groups; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "count", json_object_new_uint64(groups[i].count));
		doing_json(o, groups[i].example);
		json_object_object_add(o, "waits_on", opt_str(groups[i].example->waits_on));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "groups", arr);
	free(groups), free(loops);
	return per_task ? write_json_with_tasks(f, root, s) : write_json(f, root);
}

static json_object *node_json(const struct tree_node *n, int depth)
{
	json_object *o = json_object_new_object(), *children = json_object_new_array();
	size_t i;

	json_object_object_add(o, "count", json_object_new_uint64(n->count));
	doing_json(o, n->task);
	json_object_object_add(o, "awaited_by", json_str(snapshot_awaited_by_name(n->task->awaited_by)));
	if (n->count == 1) {
		json_object_object_add(o, "id", addr_json(n->task->addr));
		json_object_object_add(o, "name", json_str(n->task->name));
	}
	for (i = 0; i < n->n_children && depth < MAX_TEXT_DEPTH; i++)
		json_object_array_add(children, node_json(&n->children[i], depth + 1));
	json_object_object_add(o, "children", children);
	return o;
}

int report_pstree_json(FILE *f, const struct task_snapshot *s)
{
	json_object *root = snapshot_header_json(s, "pstree"), *arr = json_object_new_array();
	struct tree_node *roots = NULL;
	size_t n = 0, i;

	if (task_tree_build(s, &roots, &n)) {
		json_object_put(root), json_object_put(arr);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		json_object_array_add(arr, node_json(&roots[i], 0));
	json_object_object_add(root, "roots", arr);
	task_tree_free(roots, n);
	return write_json(f, root);
}
