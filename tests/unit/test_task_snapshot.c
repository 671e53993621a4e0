// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for the snapshot reader's walk to asyncio's task registry
 * (user/cpython/task_snapshot.c) on made-up memory: a CPython 3.9 runtime,
 * interpreter, sys.modules, _asyncio and its WeakSet of tasks, laid out
 * here with the layout table's offsets and read back through
 * process_vm_readv on this process, as a target is read. What it must do on
 * each shape: find the tasks, say asyncio is not imported, or refuse with a
 * reason, never crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "cpython_layout.h"
#include "memory_image.h"
#include "python_target.h"
#include "task_snapshot.h"

#define ARENA_BYTES (64 * 1024)
#define TYPE_BYTES 512
#define STR_COMPACT_ASCII_READY 0xe4	/* kind 1, compact, ascii, ready */

struct image {
	const struct cpython_layout *l;
	uint8_t *arena;
	size_t used;
	uint64_t nowhere;	/* a page with no access */
	uint64_t dict_type, set_type, module_type, weakset_type, weakref_type, none;
	struct python_target py;
};

static uint64_t alloc(struct image *im, size_t size)
{
	uint64_t at = (uint64_t)(uintptr_t)(im->arena + im->used);

	im->used += (size + 15) & ~(size_t)15;
	assert_true(im->used <= ARENA_BYTES);
	return at;
}

static void put(uint64_t addr, uint32_t offset, uint64_t value)
{
	memcpy((void *)(uintptr_t)(addr + offset), &value, sizeof(value));
}

static uint64_t object(struct image *im, size_t size, uint64_t type)
{
	uint64_t o = alloc(im, size);

	put(o, 8, type);	/* ob_type */
	return o;
}

static uint64_t type(struct image *im, const char *name, int64_t dictoffset)
{
	uint64_t t = object(im, TYPE_BYTES, 0), text = alloc(im, strlen(name) + 1);

	memcpy((void *)(uintptr_t)text, name, strlen(name) + 1);
	put(t, im->l->tp_name, text);
	put(t, im->l->tp_basicsize, 64);
	put(t, im->l->tp_dictoffset, (uint64_t)dictoffset);
	return t;
}

static uint64_t str(struct image *im, const char *text)
{
	size_t len = strlen(text);
	uint64_t s = object(im, im->l->str_ascii_data + len + 1, 0);

	put(s, im->l->str_length, len);
	put(s, im->l->str_state, STR_COMPACT_ASCII_READY);
	memcpy((void *)(uintptr_t)(s + im->l->str_ascii_data), text, len + 1);
	return s;
}

/* A 3.9 dict of str keys: an 8-slot keys object, entries { hash, key, value }. */
static uint64_t dict(struct image *im, const char *const *keys, const uint64_t *values, size_t n)
{
	uint64_t d = object(im, 48, im->dict_type);
	uint64_t k = alloc(im, im->l->dk_indices + 8 + 24 * 8), entries = k + im->l->dk_indices + 8;
	size_t i;

	assert_true(n <= 5);
	put(k, im->l->dk_size, 8);
	put(k, im->l->dk_nentries, n);
	for (i = 0; i < n; i++) {
		put(entries, (uint32_t)(24 * i + 8), str(im, keys[i]));
		put(entries, (uint32_t)(24 * i + 16), values[i]);
	}
	put(d, im->l->dict_keys, k);
	return d;
}

/* A set holding items (at most 7), in an 8-slot table. */
static uint64_t set(struct image *im, const uint64_t *items, size_t n)
{
	uint64_t s = object(im, 64, im->set_type), table = alloc(im, 8 * 16);
	size_t i;

	for (i = 0; i < n; i++) {
		put(table, (uint32_t)(16 * i), items[i]);
		put(table, (uint32_t)(16 * i + 8), 1000 + i);	/* any hash but -1 */
	}
	put(s, im->l->set_mask, 7);
	put(s, im->l->set_table, table);
	return s;
}

/* A WeakSet instance: its __dict__ at tp_dictoffset holds "data", the set of weakrefs. */
static uint64_t weakset(struct image *im, uint64_t data)
{
	static const char *const keys[] = { "data" };
	uint64_t w = object(im, 64, im->weakset_type);

	put(w, 48, dict(im, keys, &data, 1));
	return w;
}

static uint64_t weakref_to(struct image *im, uint64_t target)
{
	uint64_t r = object(im, 64, im->weakref_type);

	put(r, im->l->weakref_object, target);
	return r;
}

/* _PyRuntime -> the main interpreter -> sys.modules = modules */
static void runtime_with_modules(struct image *im, uint64_t modules)
{
	uint64_t runtime = alloc(im, 1024), interp = alloc(im, 4096);

	put(runtime, im->l->runtime_interp_head, interp);
	put(interp, im->l->interp_modules, modules);
	im->py.runtime_addr = runtime;
}

/* sys.modules holding an _asyncio module whose _all_tasks is registry */
static void asyncio_with_registry(struct image *im, uint64_t registry)
{
	static const char *const md_keys[] = { "Task", "_all_tasks" };
	static const char *const mod_keys[] = { "sys", "_asyncio" };
	uint64_t md_values[] = { type(im, "_asyncio.Task", 0), registry };
	uint64_t module = object(im, 64, im->module_type);
	uint64_t mod_values[] = { object(im, 64, im->module_type), module };

	put(module, im->l->module_dict, dict(im, md_keys, md_values, 2));
	runtime_with_modules(im, dict(im, mod_keys, mod_values, 2));
}

static int setup(void **state)
{
	struct image *im = calloc(1, sizeof(*im));
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!im || page == MAP_FAILED || !(im->arena = calloc(1, ARENA_BYTES)))
		return -1;
	im->l = cpython_layout_table(9);
	im->nowhere = (uint64_t)(uintptr_t)page;
	im->dict_type = type(im, "dict", 0);
	im->set_type = type(im, "set", 0);
	im->module_type = type(im, "module", 0);
	im->weakset_type = type(im, "WeakSet", 48);
	im->weakref_type = type(im, "weakref", 0);
	im->none = object(im, 16, type(im, "NoneType", 0));
	im->py.pid = getpid();
	im->py.layout = *im->l;
	im->py.none_addr = im->none;
	*state = im;
	return 0;
}

static int teardown(void **state)
{
	struct image *im = *state;

	munmap((void *)(uintptr_t)im->nowhere, 4096);
	free(im->arena);
	free(im);
	return 0;
}

static void test_asyncio_not_imported(void **state)
{
	struct image *im = *state;
	static const char *const keys[] = { "sys", "json" };
	uint64_t values[] = { object(im, 64, im->module_type), object(im, 64, im->module_type) };
	struct task_snapshot s;
	char problem[256] = "";

	runtime_with_modules(im, dict(im, keys, values, 2));
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), 0);
	assert_false(s.asyncio_loaded);
	assert_int_equal(s.n_tasks, 0);
	assert_string_equal(s.method, "sys.modules: asyncio is not imported");
	task_snapshot_free(&s);
}

/* every task of the registry is dead (its weakref points at None): none left */
static void test_registry_of_dead_tasks(void **state)
{
	struct image *im = *state;
	uint64_t refs[] = { weakref_to(im, im->none), weakref_to(im, im->none) };
	struct task_snapshot s;
	char problem[256] = "";

	asyncio_with_registry(im, weakset(im, set(im, refs, 2)));
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), 0);
	assert_true(s.asyncio_loaded);
	assert_int_equal(s.n_tasks, 0);
	assert_string_equal(s.method, "registry: _asyncio._all_tasks");
	task_snapshot_free(&s);
}

static void test_sys_modules_nowhere(void **state)
{
	struct image *im = *state;
	struct task_snapshot s;
	char problem[256] = "";

	runtime_with_modules(im, im->nowhere);
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), -EIO);
	assert_non_null(strstr(problem, "sys.modules"));
	task_snapshot_free(&s);
}

/* sys.modules that is not a dict (a set, say): refused, not walked */
static void test_sys_modules_not_a_dict(void **state)
{
	struct image *im = *state;
	struct task_snapshot s;
	char problem[256] = "";

	runtime_with_modules(im, set(im, NULL, 0));
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), -EIO);
	assert_non_null(strstr(problem, "sys.modules"));
	task_snapshot_free(&s);
}

/* a registry whose set table points nowhere, or whose size is absurd: refused with why */
static void test_registry_nowhere_or_absurd(void **state)
{
	struct image *im = *state;
	uint64_t data = set(im, NULL, 0);
	struct task_snapshot s;
	char problem[256] = "";

	put(data, im->l->set_table, im->nowhere);
	asyncio_with_registry(im, weakset(im, data));
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), -EIO);
	assert_non_null(strstr(problem, "task registry"));
	task_snapshot_free(&s);
	put(data, im->l->set_mask, 1ULL << 40);
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), -EIO);
	task_snapshot_free(&s);
}

/* a module dict whose keys table claims a billion entries */
static void test_absurd_dict_refused(void **state)
{
	struct image *im = *state;
	static const char *const keys[] = { "_asyncio" };
	uint64_t values[] = { object(im, 64, im->module_type) };
	uint64_t modules = dict(im, keys, values, 1), k;
	struct task_snapshot s;
	char problem[256] = "";

	memcpy(&k, (void *)(uintptr_t)(modules + im->l->dict_keys), sizeof(k));
	put(k, im->l->dk_nentries, 1000000000);
	runtime_with_modules(im, modules);
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), -EIO);
	task_snapshot_free(&s);
}

/*
 * A registry holding more tasks than a snapshot reads: it reads its cap and
 * counts the rest, its memory bounded whatever size the target claims.
 */
static void test_registry_past_the_cap_read_up_to_it_and_counted(void **state)
{
	struct image *im = *state;
	const struct cpython_layout *l = im->l;
	size_t n = SNAPSHOT_MAX_TASKS + 5, slots = 2 * SNAPSHOT_MAX_TASKS, i;
	uint64_t task_type = type(im, "_asyncio.Task", 0), data = set(im, NULL, 0), at;
	uint8_t *tasks = calloc(n, l->task_basicsize), *refs = calloc(n, 64);
	uint64_t *table = calloc(2 * slots, sizeof(uint64_t));
	static const char *const md_keys[] = { "Task", "_all_tasks" };
	static const char *const mod_keys[] = { "_asyncio" };
	uint64_t md_values[2], module;
	struct task_snapshot s;
	char problem[256] = "";

	assert_non_null(tasks);
	assert_non_null(refs);
	assert_non_null(table);
	for (i = 0; i < n; i++) {
		at = (uint64_t)(uintptr_t)(tasks + i * l->task_basicsize);
		put(at, 8, task_type);
		put((uint64_t)(uintptr_t)(refs + 64 * i), 8, im->weakref_type);
		put((uint64_t)(uintptr_t)(refs + 64 * i), l->weakref_object, at);
		table[2 * i] = (uint64_t)(uintptr_t)(refs + 64 * i);
		table[2 * i + 1] = i + 1;
	}
	put(data, l->set_mask, slots - 1);
	put(data, l->set_table, (uint64_t)(uintptr_t)table);
	md_values[0] = task_type;
	md_values[1] = weakset(im, data);
	module = object(im, 64, im->module_type);
	put(module, l->module_dict, dict(im, md_keys, md_values, 2));
	runtime_with_modules(im, dict(im, mod_keys, &module, 1));
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), 0);
	assert_int_equal(s.n_tasks, SNAPSHOT_MAX_TASKS);
	assert_int_equal(s.left_out, 5);
	assert_int_equal(s.unreadable, 0);
	task_snapshot_free(&s);
	free(tasks);
	free(refs);
	free(table);
}

/* A task whose coroutine has not started: 3.9's frame object with f_lasti -1. */
static uint64_t unstarted_task(struct image *im, uint64_t task_type, const char *coroutine,
			       const char *file, int32_t firstlineno, const char *name)
{
	const struct cpython_layout *l = im->l;
	uint64_t task = object(im, l->task_basicsize, task_type);
	uint64_t coro = object(im, 256, type(im, "coroutine", 0));
	uint64_t frame = object(im, 512, type(im, "frame", 0));
	uint64_t code = object(im, 256, type(im, "code", 0));
	uint64_t table = object(im, l->bytes_data + 8, type(im, "bytes", 0));
	int32_t lasti = -1;

	put(code, l->code_filename, str(im, file));
	put(code, l->code_name, str(im, coroutine));
	memcpy((void *)(uintptr_t)(code + l->code_firstlineno), &firstlineno, sizeof(firstlineno));
	put(code, l->code_linetable, table);
	put(frame, l->frame_code, code);
	memcpy((void *)(uintptr_t)(frame + l->frame_pos), &lasti, sizeof(lasti));
	put(coro, l->coro_frame, frame);
	put(coro, l->coro_qualname, str(im, coroutine));
	put(task, l->task_coro, coro);
	put(task, l->task_name, str(im, name));
	put(task, l->fut_loop, 0x1000);
	return task;
}

/* one live task in the registry: its name, coroutine, line, and that it has not started */
static void test_one_unstarted_task(void **state)
{
	struct image *im = *state;
	static const char *const md_keys[] = { "Task", "_all_tasks" };
	static const char *const mod_keys[] = { "_asyncio" };
	uint64_t task_type = type(im, "_asyncio.Task", 0), refs[2], md_values[2], module, set_;
	struct task_snapshot s;
	char problem[256] = "";

	refs[0] = weakref_to(im, unstarted_task(im, task_type, "fetch", "/srv/app.py", 12, "Task-7"));
	refs[1] = weakref_to(im, im->none);
	set_ = set(im, refs, 2);
	md_values[0] = task_type;
	md_values[1] = weakset(im, set_);
	module = object(im, 64, im->module_type);
	put(module, im->l->module_dict, dict(im, md_keys, md_values, 2));
	runtime_with_modules(im, dict(im, mod_keys, &module, 1));
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), 0);
	assert_int_equal(s.n_tasks, 1);
	assert_int_equal(s.unreadable, 0);
	assert_string_equal(s.tasks[0].coroutine, "fetch");
	assert_string_equal(s.tasks[0].name, "Task-7");
	assert_int_equal(s.tasks[0].state, SNAP_PENDING);
	assert_int_equal(s.tasks[0].n_frames, 1);
	assert_string_equal(s.tasks[0].frames[0].file, "/srv/app.py");
	assert_int_equal(s.tasks[0].frames[0].line, 12);
	assert_true(s.tasks[0].flags & SNAP_NOT_STARTED);
	assert_int_equal(s.tasks[0].parent, 0);
	task_snapshot_free(&s);
}

/* the child's done callback wakes the parent ("await child" on 3.9): who awaits whom */
static void test_awaited_by_its_parent(void **state)
{
	struct image *im = *state;
	static const char *const md_keys[] = { "Task", "_all_tasks" };
	static const char *const mod_keys[] = { "_asyncio" };
	uint64_t task_type = type(im, "_asyncio.Task", 0), refs[2], md_values[2], module, wakeup;
	uint64_t parent = unstarted_task(im, task_type, "main", "/srv/app.py", 3, "Task-1");
	uint64_t child = unstarted_task(im, task_type, "fetch", "/srv/app.py", 12, "Task-2");
	const struct snapshot_task *t;
	struct task_snapshot s;
	char problem[256] = "";

	wakeup = object(im, 64, type(im, "TaskWakeupMethWrapper", 0));
	put(wakeup, im->l->wakeup_task, parent);
	put(child, im->l->fut_callback0, wakeup);
	refs[0] = weakref_to(im, parent);
	refs[1] = weakref_to(im, child);
	md_values[0] = task_type;
	md_values[1] = weakset(im, set(im, refs, 2));
	module = object(im, 64, im->module_type);
	put(module, im->l->module_dict, dict(im, md_keys, md_values, 2));
	runtime_with_modules(im, dict(im, mod_keys, &module, 1));
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), 0);
	assert_int_equal(s.n_tasks, 2);
	t = task_snapshot_find(&s, child);
	assert_non_null(t);
	assert_int_equal(t->parent, parent);
	assert_int_equal(t->awaited_by, AWAITED_BY_AWAIT);
	t = task_snapshot_find(&s, parent);
	assert_non_null(t);
	assert_int_equal(t->parent, 0);
	/* a wakeup that names something not a task is no parent */
	put(wakeup, im->l->wakeup_task, im->none);
	task_snapshot_free(&s);
	assert_int_equal(task_snapshot_read(&im->py, &s, problem, sizeof(problem)), 0);
	assert_int_equal(task_snapshot_find(&s, child)->parent, 0);
	task_snapshot_free(&s);
}

/* A registry of tasks: the parent first, then children whose done callbacks wake it. */
static void registry_of(struct image *im, uint64_t task_type, const uint64_t *tasks, size_t n)
{
	static const char *const md_keys[] = { "Task", "_all_tasks" };
	static const char *const mod_keys[] = { "_asyncio" };
	uint64_t refs[7], md_values[2], module;
	size_t i;

	for (i = 0; i < n; i++)
		refs[i] = weakref_to(im, tasks[i]);
	md_values[0] = task_type;
	md_values[1] = weakset(im, set(im, refs, n));
	module = object(im, 64, im->module_type);
	put(module, im->l->module_dict, dict(im, md_keys, md_values, 2));
	runtime_with_modules(im, dict(im, mod_keys, &module, 1));
}

static size_t sampled_read(struct image *im, struct memory_image *mem, struct task_sampler *ts,
			   struct task_snapshot *s)
{
	char problem[256] = "";
	size_t before = mem->bytes_read;

	assert_int_equal(task_sampler_read(ts, &im->py, s, problem, sizeof(problem)), 0);
	return mem->bytes_read - before;
}

/*
 * A sampler's second read of an unchanged registry describes no task and
 * reads a fraction of the first's bytes; a task renamed at its address is a
 * new one, read with the known task awaiting it; one asked for is read again.
 */
static void test_sampler_reads_only_what_changed(void **state)
{
	struct image *im = *state;
	uint64_t task_type = type(im, "_asyncio.Task", 0), tasks[6], wakeup;
	struct memory_image mem = {};
	const struct snapshot_task *t;
	struct task_sampler *ts;
	struct task_snapshot s;
	size_t first, second, i;
	char name[16];

	tasks[0] = unstarted_task(im, task_type, "main", "/srv/app.py", 3, "Task-1");
	wakeup = object(im, 64, type(im, "TaskWakeupMethWrapper", 0));
	put(wakeup, im->l->wakeup_task, tasks[0]);
	for (i = 1; i < 6; i++) {
		snprintf(name, sizeof(name), "Task-%zu", i + 1);
		tasks[i] = unstarted_task(im, task_type, "fetch", "/srv/app.py", 12, name);
		put(tasks[i], im->l->fut_callback0, wakeup);
	}
	registry_of(im, task_type, tasks, 6);
	image_map(&mem, (uint64_t)(uintptr_t)im->arena, im->arena, ARENA_BYTES);
	assert_int_equal(image_attach(&mem, im->py.pid), 0);
	ts = task_sampler_new(&im->py);
	assert_non_null(ts);

	first = sampled_read(im, &mem, ts, &s);
	assert_int_equal(s.n_tasks, 6);
	assert_int_equal(task_snapshot_find(&s, tasks[3])->parent, tasks[0]);
	task_snapshot_free(&s);

	second = sampled_read(im, &mem, ts, &s);
	assert_true(second * 3 < first);
	assert_int_equal(s.n_tasks, 0);
	assert_true(s.asyncio_loaded);
	task_snapshot_free(&s);

	/* another task at a known address: new, and so is where its parent is now */
	put(tasks[4], im->l->task_name, str(im, "Task-99"));
	sampled_read(im, &mem, ts, &s);
	assert_int_equal(s.n_tasks, 2);
	t = task_snapshot_find(&s, tasks[4]);
	assert_non_null(t);
	assert_string_equal(t->name, "Task-99");
	assert_int_equal(t->parent, tasks[0]);
	assert_non_null(task_snapshot_find(&s, tasks[0]));
	task_snapshot_free(&s);

	task_sampler_read_again(ts, tasks[2]);
	sampled_read(im, &mem, ts, &s);
	assert_non_null(task_snapshot_find(&s, tasks[2]));
	assert_null(task_snapshot_find(&s, tasks[1]));
	task_snapshot_free(&s);

	sampled_read(im, &mem, ts, &s);
	assert_int_equal(s.n_tasks, 0);
	task_snapshot_free(&s);
	task_sampler_free(ts);
	image_detach(im->py.pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_asyncio_not_imported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_of_dead_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sys_modules_nowhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sys_modules_not_a_dict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_nowhere_or_absurd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absurd_dict_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_past_the_cap_read_up_to_it_and_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_unstarted_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_awaited_by_its_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampler_reads_only_what_changed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
