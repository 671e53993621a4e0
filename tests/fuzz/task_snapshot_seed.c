// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Writes a seed for the task_snapshot fuzzer per CPython version into the
 * directory given: the version byte, then a memory image at
 * SNAPSHOT_IMAGE_BASE holding what the snapshot reader walks, laid out with
 * that version's offsets (cpython_layout.c): _PyRuntime, the interpreter,
 * sys.modules, _asyncio and its registry (a WeakSet, or 3.14+'s per-thread
 * lists), and three pending tasks with their names, coroutines and code,
 * one awaiting another and a gather() of the third.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpython_layout.h"
#include "snapshot_image.h"

#define IMAGE_BYTES (32 * 1024)
#define TYPE_BYTES 512
#define STR_COMPACT_ASCII_READY 0xe4	/* kind 1, compact, ascii, ready */

struct image {
	const struct cpython_layout *l;
	uint8_t bytes[IMAGE_BYTES];
	size_t used;
	uint64_t dict_type, str_type;
};

static uint64_t alloc(struct image *im, size_t size)
{
	uint64_t at = SNAPSHOT_IMAGE_BASE + im->used;

	im->used += (size + 15) & ~(size_t)15;
	if (im->used > IMAGE_BYTES) {
		fprintf(stderr, "inflight: failed to lay out a seed: more than %d bytes\n", IMAGE_BYTES);
		exit(2);
	}
	return at;
}

static void put(struct image *im, uint64_t addr, int64_t offset, uint64_t value)
{
	memcpy(im->bytes + (addr - SNAPSHOT_IMAGE_BASE) + offset, &value, sizeof(value));
}

static void put_byte(struct image *im, uint64_t addr, uint32_t offset, uint8_t value)
{
	im->bytes[addr - SNAPSHOT_IMAGE_BASE + offset] = value;
}

static uint64_t object(struct image *im, size_t size, uint64_t type)
{
	uint64_t o = alloc(im, size);

	put(im, o, 0, 1);	/* ob_refcnt */
	put(im, o, 8, type);	/* ob_type */
	return o;
}

static uint64_t text(struct image *im, const char *s)
{
	uint64_t at = alloc(im, strlen(s) + 1);

	memcpy(im->bytes + (at - SNAPSHOT_IMAGE_BASE), s, strlen(s) + 1);
	return at;
}

static uint64_t type(struct image *im, const char *name, int64_t dictoffset)
{
	uint64_t t = object(im, TYPE_BYTES, 0);

	put(im, t, im->l->tp_name, text(im, name));
	put(im, t, im->l->tp_basicsize, im->l->task_basicsize);
	put(im, t, im->l->tp_dictoffset, (uint64_t)dictoffset);
	return t;
}

static uint64_t str(struct image *im, const char *s)
{
	size_t len = strlen(s);
	uint64_t o = object(im, im->l->str_ascii_data + len + 1, im->str_type);

	put(im, o, im->l->str_length, len);
	put_byte(im, o, im->l->str_state, STR_COMPACT_ASCII_READY);
	memcpy(im->bytes + (o - SNAPSHOT_IMAGE_BASE) + im->l->str_ascii_data, s, len + 1);
	return o;
}

/* A dict of str keys in an 8-slot keys object, in the version's keys format. */
static uint64_t dict(struct image *im, const char *const *keys, const uint64_t *values, size_t n)
{
	const struct cpython_layout *l = im->l;
	uint64_t d = object(im, 48, im->dict_type);
	uint64_t k = alloc(im, l->dk_indices + 8 + 24 * 8), entries = k + l->dk_indices + 8;
	size_t i, size = l->dict_keys_format == DICT_KEYS_SIZED ? 24 : 16;

	if (l->dict_keys_format == DICT_KEYS_SIZED) {
		put(im, k, l->dk_size, 8);
	} else {
		put_byte(im, k, l->dk_log2_index_bytes, 3);
		put_byte(im, k, l->dk_kind, 1);	/* DICT_KEYS_UNICODE: { key, value } */
	}
	put(im, k, l->dk_nentries, n);
	for (i = 0; i < n; i++) {
		put(im, entries, (int64_t)(size * i + size - 16), str(im, keys[i]));
		put(im, entries, (int64_t)(size * i + size - 8), values[i]);
		put_byte(im, k, l->dk_indices + (uint32_t)i, (uint8_t)i);
	}
	put(im, d, l->dict_keys, k);
	return d;
}

/* A set of items (at most 7) in an 8-slot table. */
static uint64_t set(struct image *im, uint64_t set_type, const uint64_t *items, size_t n)
{
	uint64_t s = object(im, 64, set_type), table = alloc(im, 8 * 16);
	size_t i;

	for (i = 0; i < n; i++) {
		put(im, table, (int64_t)(16 * i), items[i]);
		put(im, table, (int64_t)(16 * i + 8), 1000 + i);
	}
	put(im, s, im->l->set_mask, 7);
	put(im, s, im->l->set_table, table);
	return s;
}

/* A bytes object of n bytes */
static uint64_t bytes(struct image *im, const uint8_t *b, size_t n)
{
	uint64_t o = object(im, im->l->bytes_data + n + 1, type(im, "bytes", 0));

	put(im, o, im->l->bytes_size, n);
	memcpy(im->bytes + (o - SNAPSHOT_IMAGE_BASE) + im->l->bytes_data, b, n);
	return o;
}

static uint64_t tuple(struct image *im, const uint64_t *items, size_t n)
{
	uint64_t t = object(im, im->l->tuple_items + 8 * n, type(im, "tuple", 0));
	size_t i;

	put(im, t, im->l->var_size, n);
	for (i = 0; i < n; i++)
		put(im, t, (int64_t)(im->l->tuple_items + 8 * i), items[i]);
	return t;
}

static uint64_t list(struct image *im, const uint64_t *items, size_t n)
{
	uint64_t o = object(im, 48, type(im, "list", 0)), array = alloc(im, 8 * n);
	size_t i;

	put(im, o, im->l->var_size, n);
	put(im, o, im->l->list_items, array);
	for (i = 0; i < n; i++)
		put(im, array, (int64_t)(8 * i), items[i]);
	return o;
}

/* Task.task_wakeup bound to task: the done-callback of what task awaits */
static uint64_t task_wakeup(struct image *im, uint64_t task)
{
	uint64_t cb = object(im, 64, type(im, "builtin_function_or_method", 0)), ml = alloc(im, 32);

	put(im, ml, 0, text(im, "task_wakeup"));
	put(im, cb, im->l->cfunc_ml, ml);
	put(im, cb, im->l->cfunc_self, task);
	return cb;
}

/*
 * gather()'s _done_callback, closing over the _GatheringFuture that task
 * awaits, as the (callback, context) entry of a child's callback list.
 */
static uint64_t gather_callbacks(struct image *im, uint64_t task)
{
	const struct cpython_layout *l = im->l;
	uint64_t outer = object(im, 64, type(im, "_GatheringFuture", 0));
	uint64_t cell = object(im, 32, type(im, "cell", 0));
	uint64_t func = object(im, 128, type(im, "function", 0)), entry[2];

	put(im, outer, l->fut_callback0, task_wakeup(im, task));
	put(im, cell, l->cell_ref, outer);
	put(im, func, l->func_qualname, str(im, "gather.<locals>._done_callback"));
	put(im, func, l->func_closure, tuple(im, &cell, 1));
	entry[0] = func;
	entry[1] = object(im, 32, type(im, "Context", 0));
	entry[0] = tuple(im, entry, 2);
	return list(im, entry, 1);
}

/* A code object named name, of file "app.py", whose first line is line. */
static uint64_t code(struct image *im, const char *name, uint32_t line)
{
	/* (offset delta, line delta) pairs */
	static const uint8_t pairs[] = { 0x02, 0x01, 0x02, 0x01, 0x04, 0x02, 0x02, 0x01 };
	/* 3.11+ locations: one of each entry form (no column, long, one line, short, none) */
	static const uint8_t locations[] = { 0xe8, 0x02, 0xf0, 0x04, 0x01, 0x02, 0x03,
					     0xd9, 0x01, 0x05, 0x80, 0x07, 0xf8 };
	const struct cpython_layout *l = im->l;
	uint64_t c = object(im, l->code_adaptive + 64, type(im, "code", 0));

	if (l->lines == LINES_LOCATIONS_311)
		put(im, c, l->code_linetable, bytes(im, locations, sizeof(locations)));
	else
		put(im, c, l->code_linetable, bytes(im, pairs, sizeof(pairs)));
	put(im, c, l->code_filename, str(im, "app.py"));
	put(im, c, l->code_name, str(im, name));
	if (l->code_qualname)
		put(im, c, l->code_qualname, str(im, name));
	memcpy(im->bytes + (c - SNAPSHOT_IMAGE_BASE) + l->code_firstlineno, &line, sizeof(line));
	return c;
}

/* A coroutine suspended in a frame of code */
static uint64_t coroutine(struct image *im, uint64_t coro_type, const char *name, uint32_t line)
{
	const struct cpython_layout *l = im->l;
	uint64_t c = object(im, l->coro_iframe + l->frame_stack + 64, coro_type), f;
	uint64_t co = code(im, name, line);
	uint32_t lasti = 4;

	put(im, c, l->coro_qualname, str(im, name));
	if (l->frames == CPY_FRAME_OBJECTS) {
		f = object(im, l->frame_localsplus + 64, type(im, "frame", 0));
		put(im, f, l->frame_code, co);
		memcpy(im->bytes + (f - SNAPSHOT_IMAGE_BASE) + l->frame_pos, &lasti, sizeof(lasti));
		put(im, f, l->frame_stack, f + l->frame_localsplus + 8);	/* f_stacktop (3.9) */
		put(im, f, l->frame_valuestack, f + l->frame_localsplus);
		put_byte(im, f, l->frame_state, (uint8_t)l->frame_suspended_min);	/* 3.10 */
		put(im, c, l->coro_frame, f);
	} else {
		put(im, c, l->coro_iframe + l->frame_code, co);
		put(im, c, l->coro_iframe + l->frame_pos, co + l->code_adaptive + 4);
		put_byte(im, c, l->coro_frame_state, (uint8_t)l->frame_suspended_min);
	}
	return c;
}

static uint64_t task(struct image *im, uint64_t task_type, uint64_t coro_type, uint64_t loop,
		     const char *name, uint32_t line)
{
	const struct cpython_layout *l = im->l;
	uint64_t t = object(im, l->task_basicsize, task_type);

	put(im, t, l->fut_loop, loop);
	put(im, t, l->task_coro, coroutine(im, coro_type, name, line));
	put(im, t, l->task_name, str(im, name));
	return t;
}

/* _asyncio's WeakSet of tasks: its __dict__ (at tp_dictoffset 48) holds "data", a set of weakrefs. */
static uint64_t weakset_of(struct image *im, const uint64_t *tasks, size_t n)
{
	static const char *const keys[] = { "data" };
	uint64_t w = object(im, 64, type(im, "WeakSet", 48)), set_type = type(im, "set", 0);
	uint64_t weakref_type = type(im, "weakref", 0), refs[3], data;
	size_t i;

	for (i = 0; i < n; i++) {
		refs[i] = object(im, 64, weakref_type);
		put(im, refs[i], im->l->weakref_object, tasks[i]);
	}
	data = set(im, set_type, refs, n);
	put(im, w, 48, dict(im, keys, &data, 1));
	return w;
}

/* 3.14+: the tasks on the first thread's circular list, its head in the thread state */
static void thread_list_of(struct image *im, uint64_t interp, const uint64_t *tasks, size_t n)
{
	const struct cpython_layout *l = im->l;
	uint64_t tstate = alloc(im, l->tstate_tasks_head + 64), head = tstate + l->tstate_tasks_head;
	size_t i;

	put(im, interp, l->interp_threads_head, tstate);
	put(im, interp, l->interp_tasks_head, interp + l->interp_tasks_head);	/* empty */
	for (i = 0; i < n; i++)
		put(im, tasks[i], l->task_node, i + 1 < n ? tasks[i + 1] + l->task_node : head);
	put(im, head, 0, n ? tasks[0] + l->task_node : head);
}

#define DEBUG_MARK 0x40000u	/* below the largest struct size take_published trusts */
#define DEBUG_SECTION (1u << 20)

/* Each published value at its place in the blob, with its section's size: n of them. */
static size_t debug_values(unsigned int minor, uint8_t *blob, const uint32_t *values)
{
	unsigned int at, size_at;
	const char *name;
	size_t i;

	for (i = 0; !cpython_debug_field(minor, i, &name, &at, &size_at); i++) {
		memcpy(blob + at, &values[i], sizeof(values[i]));
		memset(blob + at + 4, 0, 4);
		memcpy(blob + size_at, &(uint64_t){ DEBUG_SECTION }, 8);
	}
	return i;
}

/*
 * 3.13+: _PyRuntime starts with _Py_DebugOffsets, which the fuzzer's
 * cpython_layout_build takes the layout from. Which layout member each
 * value sets is learnt by building once from markers; the values written
 * are then the table's, so the layout built is the one the image is laid
 * out with.
 */
static void debug_offsets(struct image *im, unsigned int minor, uint8_t *blob)
{
	uint64_t version = (uint64_t)3 << 24 | (uint64_t)minor << 16 | 0xf0;
	uint32_t values[256], member;
	struct cpython_layout probe;
	size_t i, n, k;
	char why[256];

	memcpy(blob, "xdebugpy", 8);
	memcpy(blob + 8, &version, 8);
	for (i = 0; i < 256; i++)
		values[i] = DEBUG_MARK + (uint32_t)i;
	n = debug_values(minor, blob, values);
	if (n > 256 || cpython_layout_build(minor, blob, cpython_debug_offsets_size(minor), &probe,
					    why, sizeof(why))) {
		fprintf(stderr, "inflight: failed to build 3.%u's debug offsets: %s\n", minor, why);
		exit(2);
	}
	for (i = 0; i < n; i++)
		for (k = 0; k + 4 <= sizeof(probe); k += 4) {
			memcpy(&member, (const uint8_t *)&probe + k, 4);
			if (member == DEBUG_MARK + i)
				memcpy(&values[i], (const uint8_t *)im->l + k, 4);
		}
	debug_values(minor, blob, values);
}

/* 3.14+: the image ends with _asyncio's .AsyncioDebug, holding the table's offsets */
static void asyncio_debug(struct image *im)
{
	const struct cpython_layout *l = im->l;
	uint64_t sec;

	alloc(im, CPYTHON_ASYNCIO_DEBUG_SIZE);
	sec = SNAPSHOT_IMAGE_BASE + im->used - CPYTHON_ASYNCIO_DEBUG_SIZE;	/* the last bytes */

	put(im, sec, 0, l->task_basicsize);
	put(im, sec, 8, l->task_name);
	put(im, sec, 40, l->task_coro);
	put(im, sec, 48, l->task_node);
	put(im, sec, 56, l->interp_tasks_head + 64);	/* the interpreter's size */
	put(im, sec, 64, l->interp_tasks_head);
	put(im, sec, 72, l->tstate_tasks_head + 64);	/* the thread state's size */
	put(im, sec, 88, l->tstate_running_task);
	put(im, sec, 96, l->tstate_tasks_head);
}

static void lay_out(struct image *im, unsigned int minor)
{
	const struct cpython_layout *l = im->l;
	static const char *const mod_keys[] = { "sys", "_asyncio" };
	/* 3.14+ has no registry in the module: any other name stands in */
	const char *md_keys[] = { "Task", l->registry_weakset ? l->registry_weakset : "_current_tasks" };
	uint64_t runtime = alloc(im, l->runtime_interp_head + 64);
	uint64_t interp = alloc(im, l->interp_tasks_head > l->interp_modules ?
				      l->interp_tasks_head + 64 : l->interp_modules + 64);
	uint64_t module_type, task_type, coro_type, loop, tasks[3], md_values[2], mod_values[2];

	if (runtime != SNAPSHOT_IMAGE_BASE) {
		fprintf(stderr, "inflight: failed to lay out a seed: _PyRuntime must come first\n");
		exit(2);
	}
	if (l->has_debug_offsets)
		debug_offsets(im, minor, im->bytes);
	im->dict_type = type(im, "dict", 0);
	im->str_type = type(im, "str", 0);
	module_type = type(im, "module", 0);
	task_type = type(im, "_asyncio.Task", 0);
	coro_type = type(im, "coroutine", 0);
	loop = object(im, 64, type(im, "_UnixSelectorEventLoop", 0));
	tasks[0] = task(im, task_type, coro_type, loop, "main", 10);
	tasks[1] = task(im, task_type, coro_type, loop, "worker", 20);
	tasks[2] = task(im, task_type, coro_type, loop, "child", 30);
	/* main awaits worker, and a gather() of child */
	put(im, tasks[1], l->fut_callback0, task_wakeup(im, tasks[0]));
	put(im, tasks[2], l->fut_callbacks, gather_callbacks(im, tasks[0]));
	md_values[0] = task_type;
	if (l->registry == TASKS_IN_THREAD_LISTS) {
		thread_list_of(im, interp, tasks, 3);
		md_values[1] = object(im, 64, module_type);
	} else {
		md_values[1] = weakset_of(im, tasks, 3);
	}
	mod_values[0] = object(im, 64, module_type);
	mod_values[1] = object(im, 64, module_type);
	put(im, mod_values[1], l->module_dict, dict(im, md_keys, md_values, 2));
	put(im, runtime, l->runtime_interp_head, interp);
	put(im, interp, l->interp_modules, dict(im, mod_keys, mod_values, 2));
	alloc(im, 128);	/* the last object is not at the end of the mapping */
	if (l->has_asyncio_debug)
		asyncio_debug(im);
}

static int write_seed(const char *dir, unsigned int minor)
{
	static struct image im;
	uint8_t version = (uint8_t)(minor - CPYTHON_OLDEST_MINOR);
	char path[4096];
	FILE *f;

	memset(&im, 0, sizeof(im));
	im.l = cpython_layout_table(minor);
	lay_out(&im, minor);
	snprintf(path, sizeof(path), "%s/cpython-3.%u", dir, minor);
	f = fopen(path, "we");
	if (!f || fwrite(&version, 1, 1, f) != 1 || fwrite(im.bytes, 1, im.used, f) != im.used ||
	    fclose(f)) {
		fprintf(stderr, "inflight: failed to write %s: %m\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int minor;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (minor = CPYTHON_OLDEST_MINOR; minor <= CPYTHON_NEWEST_MINOR; minor++)
		if (write_seed(argv[1], minor))
			return 1;
	return 0;
}
