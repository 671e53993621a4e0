// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "py_containers.h"
#include "python_target.h"
#include "task_snapshot.h"

/* FutureObj (Modules/_asynciomodule.c): the same head in 3.9-3.13 */
#define FUT_LOOP 16
#define FUT_CALLBACK0 24
#define FUT_CALLBACKS 40
/* PyModuleObject.md_dict; PyWeakReference.wr_object; PyCellObject.ob_ref */
#define MODULE_DICT 16
#define WEAKREF_OBJECT 16
#define CELL_REF 16
/* awaited-by callbacks: TaskWakeupMethWrapper (3.9) ww_task; PyCFunctionObject
 * m_ml, m_self (and PyMethodDef.ml_name at 0); PyMethodObject im_func, im_self */
#define WAKEUP_TASK 16
#define CFUNC_ML 16
#define CFUNC_SELF 24
#define METHOD_FUNC 16
#define METHOD_SELF 24
/* futureiterobject.future: what "await future" leaves on the awaiting frame's stack */
#define FUTUREITER_FUTURE 16
/* PyFrameObject (3.9, 3.10) fields read at once: up to f_state */
#define LEGACY_FRAME_READ 112
#define LEGACY_39_VALUESTACK 64

#define MAX_CALLBACKS 16
#define MAX_GATHER_DEPTH 8
#define MAX_CLOSURE 16
#define MAX_STACK_DEPTH (1 << 16)

enum frame_status { FRAME_UNKNOWN, FRAME_CREATED, FRAME_SUSPENDED, FRAME_RUNNING, FRAME_DONE };

/* What one coroutine's frame says: where it is, and what it awaits (top of its stack). */
struct frame_view {
	enum frame_status status;
	uint64_t code, pos;
	uint64_t awaiting;
};

struct remembered {
	uint64_t key;
	uint64_t value;
	uint8_t how;
};

struct reader {
	struct py_reader py;
	uint64_t task_type;	/* _asyncio.Task, from the module */
	void *kinds;		/* type -> is a Task (sub)type */
	void *parents;		/* callback -> the task it wakes, and how */
};

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = ((const struct remembered *)a)->key, y = ((const struct remembered *)b)->key;

	return x < y ? -1 : x > y;
}

static struct remembered *recall(void **tree, uint64_t key)
{
	struct remembered probe = { .key = key };
	void *node = tfind(&probe, tree, cmp_key);

	return node ? *(struct remembered **)node : NULL;
}

static void remember(void **tree, uint64_t key, uint64_t value, uint8_t how)
{
	struct remembered *m = malloc(sizeof(*m));

	if (!m)
		return;
	*m = (struct remembered){ .key = key, .value = value, .how = how };
	if (!tsearch(m, tree, cmp_key))
		free(m);
}

static uint64_t u64_at(const uint8_t *buf, uint32_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

static int read_u64(struct reader *rd, uint64_t addr, uint64_t *v)
{
	return py_read_memory(rd->py.pid, addr, v, sizeof(*v));
}

static bool is_task_type(struct reader *rd, uint64_t type)
{
	struct remembered *m;
	bool yes;

	if (!type)
		return false;
	if (type == rd->task_type)
		return true;
	m = recall(&rd->kinds, type);
	if (m)
		return m->value;
	yes = py_type_is(&rd->py, type, "_asyncio.Task");
	remember(&rd->kinds, type, yes, 0);
	return yes;
}

static bool is_task(struct reader *rd, uint64_t obj)
{
	return is_task_type(rd, py_type_of(&rd->py, obj));
}

/* --- the registry ------------------------------------------------------- */

/* The live members of a WeakSet: its "data" set holds weakrefs. */
static int weakset_members(struct reader *rd, uint64_t weakset, uint64_t none, uint64_t **out,
			   size_t *n)
{
	uint64_t data, *refs, *objs;
	uint8_t *ok;
	size_t i, k, count;

	if (py_attr_get(&rd->py, weakset, "data", &data))
		return -EIO;
	refs = py_set_items(&rd->py, data, &count);
	if (!refs)
		return -EIO;
	for (i = 0; i < count; i++)
		refs[i] += WEAKREF_OBJECT;
	objs = malloc((count ? count : 1) * sizeof(*objs));
	ok = malloc(count ? count : 1);
	if (!objs || !ok) {
		free(refs), free(objs), free(ok);
		return -ENOMEM;
	}
	py_read_many(rd->py.pid, refs, count, sizeof(uint64_t), objs, ok);
	/* a weakref whose task died points at None until the set drops it */
	for (i = k = 0; i < count; i++)
		if (ok[i] && objs[i] && objs[i] != none)
			objs[k++] = objs[i];
	free(refs), free(ok);
	*out = objs;
	*n = k;
	return 0;
}

static int append(uint64_t **all, size_t *n, const uint64_t *more, size_t m)
{
	uint64_t *grown = realloc(*all, (*n + m + 1) * sizeof(**all));

	if (!grown)
		return -ENOMEM;
	memcpy(grown + *n, more, m * sizeof(*more));
	*all = grown;
	*n += m;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The addresses of every task the registry holds, sorted and unique. */
static int registry_tasks(struct reader *rd, const struct python_target *py,
			  struct task_snapshot *s, uint64_t **out, size_t *n, char *problem,
			  size_t size)
{
	const struct cpython_layout *l = py->layout;
	uint64_t interp, modules, module, md, set, *found = NULL, *all = NULL;
	size_t nfound = 0, i, k;
	int err;

	*n = 0;
	if (read_u64(rd, py->runtime_addr + l->bpf.runtime_interp_head, &interp) ||
	    read_u64(rd, interp + l->interp_modules, &modules) ||
	    !py_type_is(&rd->py, py_type_of(&rd->py, modules), "dict")) {
		snprintf(problem, size, "cannot read the interpreter's sys.modules in process %d", py->pid);
		return -EIO;
	}
	err = py_dict_get(&rd->py, modules, "_asyncio", &module);
	if (err == -ENOENT) {
		snprintf(s->method, sizeof(s->method), "sys.modules: asyncio is not imported");
		*out = NULL;
		return 0;
	}
	if (err || read_u64(rd, module + MODULE_DICT, &md) ||
	    py_dict_get(&rd->py, md, "Task", &rd->task_type)) {
		snprintf(problem, size, "cannot read the _asyncio module of process %d", py->pid);
		return -EIO;
	}
	s->asyncio_loaded = true;
	err = py_dict_get(&rd->py, md, py->minor >= 12 ? "_scheduled_tasks" : "_all_tasks", &set);
	if (!err)
		err = weakset_members(rd, set, py->none_addr, &all, n);
	if (!err && py->minor >= 12 && !py_dict_get(&rd->py, md, "_eager_tasks", &set)) {
		found = py_set_items(&rd->py, set, &nfound);
		err = found ? append(&all, n, found, nfound) : -EIO;
		free(found);
	}
	if (err) {
		free(all);
		snprintf(problem, size, "cannot read asyncio's task registry in process %d "
			 "(it changed too fast, or its layout is not %s's)", py->pid,
			 py->minor >= 12 ? "3.12+" : "3.9-3.11");
		return -EIO;
	}
	snprintf(s->method, sizeof(s->method), "registry: _asyncio.%s",
		 py->minor >= 12 ? "_scheduled_tasks + _eager_tasks" : "_all_tasks");
	qsort(all, *n, sizeof(*all), cmp_u64);
	for (i = k = 0; i < *n; i++)
		if (!k || all[k - 1] != all[i])
			all[k++] = all[i];
	*n = k;
	*out = all;
	return 0;
}

/* --- one coroutine's frame --------------------------------------------- */

/* How many bytes of a coroutine hold everything read from it. */
static uint32_t coro_read_size(const struct cpython_layout *l)
{
	uint32_t end = l->bpf.coro_qualname + 8;

	if (l->coro_frame + 8 > end)
		end = l->coro_frame + 8;
	if (l->bpf.frame_kind != PY_FRAMES_LEGACY && l->bpf.coro_iframe + l->frame_stack > end)
		end = l->bpf.coro_iframe + l->frame_stack;
	return end;
}

static enum frame_status status_of(const struct cpython_layout *l, int8_t state)
{
	if (state == l->frame_created)
		return FRAME_CREATED;
	if (state >= l->frame_suspended_min && state <= l->frame_suspended_max)
		return FRAME_SUSPENDED;
	return state == 0 ? FRAME_RUNNING : FRAME_DONE;
}

/* 3.11+: the frame lives inside the coroutine; stacktop indexes localsplus. */
static void view_embedded_frame(struct reader *rd, uint64_t coro, const uint8_t *bytes,
				struct frame_view *v)
{
	const struct cpython_layout *l = rd->py.layout;
	uint32_t f = l->bpf.coro_iframe;
	int8_t state = (int8_t)bytes[l->coro_frame_state];
	int32_t top;

	v->status = status_of(l, state);
	v->code = u64_at(bytes, f + l->bpf.frame_code);
	v->pos = u64_at(bytes, f + l->bpf.frame_pos);
	memcpy(&top, bytes + f + l->frame_stack_depth, sizeof(top));
	/* only a yield-from suspension (state -1 in every version) has its awaitable on top */
	if (state == l->frame_suspended_max && top >= 1 && top <= MAX_STACK_DEPTH)
		read_u64(rd, coro + f + l->frame_stack + 8 * (uint64_t)(top - 1), &v->awaiting);
}

/* 3.9 and 3.10: the coroutine points at a PyFrameObject. */
static void view_legacy_frame(struct reader *rd, uint64_t frame, struct frame_view *v)
{
	const struct cpython_layout *l = rd->py.layout;
	uint8_t f[LEGACY_FRAME_READ];
	uint64_t stack, top_addr = 0;
	int32_t lasti, depth;

	if (!frame) {
		v->status = FRAME_DONE;
		return;
	}
	if (py_read_memory(rd->py.pid, frame, f, sizeof(f)))
		return;
	v->code = u64_at(f, l->bpf.frame_code);
	memcpy(&lasti, f + l->bpf.frame_pos, sizeof(lasti));
	v->pos = (uint64_t)(int64_t)lasti;
	stack = u64_at(f, l->frame_stack);
	if (l->minor == 9) {
		/* f_stacktop is NULL while the frame runs; f_lasti -1 before it first does */
		v->status = lasti < 0 ? FRAME_CREATED : !stack ? FRAME_RUNNING : FRAME_SUSPENDED;
		if (stack > u64_at(f, LEGACY_39_VALUESTACK))
			top_addr = stack - 8;
	} else {
		v->status = status_of(l, (int8_t)f[l->frame_state]);
		memcpy(&depth, f + l->frame_stack_depth, sizeof(depth));
		if (depth >= 1 && depth <= MAX_STACK_DEPTH)
			top_addr = stack + 8 * (uint64_t)(depth - 1);
	}
	if (v->status == FRAME_SUSPENDED && top_addr)
		read_u64(rd, top_addr, &v->awaiting);
}

static void view_coroutine(struct reader *rd, uint64_t coro, const uint8_t *bytes,
			   struct frame_view *v)
{
	memset(v, 0, sizeof(*v));
	if (rd->py.layout->bpf.frame_kind == PY_FRAMES_LEGACY)
		view_legacy_frame(rd, u64_at(bytes, rd->py.layout->coro_frame), v);
	else
		view_embedded_frame(rd, coro, bytes, v);
}

static bool add_frame(struct reader *rd, struct snapshot_task *t, const struct frame_view *v)
{
	const struct py_code *c = py_code(&rd->py, v->code);
	struct snapshot_frame *f;
	int line;

	if (!c || v->status == FRAME_DONE || v->status == FRAME_UNKNOWN)
		return false;
	if (t->n_frames == SNAPSHOT_MAX_CHAIN) {
		t->flags |= SNAP_CHAIN_CUT;
		return false;
	}
	line = v->status == FRAME_CREATED ? -1 : py_code_line(&rd->py, c, v->pos);
	f = &t->frames[t->n_frames++];
	f->file = c->filename;
	f->function = c->name;
	f->line = line >= 0 ? line : c->firstlineno;
	return true;
}

/* The task's coroutine, then whatever each coroutine of the chain awaits in turn. */
static void follow_await_chain(struct reader *rd, struct snapshot_task *t, uint64_t coro,
			       const uint8_t *first)
{
	uint32_t size = coro_read_size(rd->py.layout);
	uint8_t bytes[512];
	struct frame_view v;
	const char *kind;
	uint64_t fut;

	view_coroutine(rd, coro, first, &v);
	while (add_frame(rd, t, &v)) {
		if (v.status == FRAME_RUNNING)
			t->flags |= SNAP_RUNNING;
		if (v.status != FRAME_SUSPENDED || !v.awaiting)
			return;
		kind = py_object_type_name(&rd->py, v.awaiting);
		if (kind && !strcmp(kind, "_asyncio.FutureIter")) {
			if (!t->waits_on && !read_u64(rd, v.awaiting + FUTUREITER_FUTURE, &fut))
				t->waits_on = py_object_type_name(&rd->py, fut);
			return;
		}
		if (!kind || (strcmp(kind, "coroutine") && strcmp(kind, "generator")))
			return;
		coro = v.awaiting;
		if (size > sizeof(bytes) || py_read_memory(rd->py.pid, coro, bytes, size))
			return;
		view_coroutine(rd, coro, bytes, &v);
	}
}

/* --- awaited-by ---------------------------------------------------------- */

static uint64_t parent_of_future(struct reader *rd, uint64_t fut, int depth, uint8_t *how);

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static const char *function_qualname(struct reader *rd, uint64_t func)
{
	uint64_t name;

	if (read_u64(rd, func + rd->py.layout->func_qualname, &name))
		return NULL;
	return py_str(&rd->py, name);
}

/* gather's _done_callback closes over the outer _GatheringFuture: who awaits that? */
static uint64_t gather_parent(struct reader *rd, uint64_t func, int depth, uint8_t *how)
{
	uint64_t closure, cells[MAX_CLOSURE], ref, parent;
	const char *kind;
	int n, i;

	if (read_u64(rd, func + rd->py.layout->func_closure, &closure))
		return 0;
	n = py_tuple_items(&rd->py, closure, cells, MAX_CLOSURE);
	for (i = 0; i < n && i < MAX_CLOSURE; i++) {
		if (read_u64(rd, cells[i] + CELL_REF, &ref))
			continue;
		kind = py_object_type_name(&rd->py, ref);
		if (kind && !strcmp(kind, "_GatheringFuture")) {
			parent = parent_of_future(rd, ref, depth + 1, how);
			*how = AWAITED_BY_GATHER;
			return parent;
		}
	}
	return 0;
}

/* The task a done-callback wakes when its future completes, and how it awaits it. */
static uint64_t callback_parent(struct reader *rd, uint64_t cb, int depth, uint8_t *how)
{
	const char *kind = py_object_type_name(&rd->py, cb), *name;
	uint64_t ml, ml_name, self, func, parent = 0;
	char cname[32];

	if (!kind)
		return 0;
	*how = AWAITED_BY_AWAIT;
	if (!strcmp(kind, "TaskWakeupMethWrapper")) {		/* 3.9 */
		read_u64(rd, cb + WAKEUP_TASK, &parent);
	} else if (!strcmp(kind, "builtin_function_or_method")) {	/* 3.10+: Task.task_wakeup */
		if (!read_u64(rd, cb + CFUNC_ML, &ml) && !read_u64(rd, ml, &ml_name) &&
		    !py_read_memory(rd->py.pid, ml_name, cname, sizeof("task_wakeup")) &&
		    !memcmp(cname, "task_wakeup", sizeof("task_wakeup")))
			read_u64(rd, cb + CFUNC_SELF, &parent);
	} else if (!strcmp(kind, "function")) {
		name = function_qualname(rd, cb);
		if (name && has_suffix(name, "._done_callback") &&
		    (!strncmp(name, "gather.", 7) || !strncmp(name, "_gather.", 8)))
			parent = gather_parent(rd, cb, depth, how);
	} else if (!strcmp(kind, "method")) {
		if (!read_u64(rd, cb + METHOD_FUNC, &func) && !read_u64(rd, cb + METHOD_SELF, &self) &&
		    (name = function_qualname(rd, func)) && !strcmp(name, "TaskGroup._on_task_done") &&
		    !py_attr_get(&rd->py, self, "_parent_task", &parent))
			*how = AWAITED_BY_TASKGROUP;
	}
	return parent && is_task(rd, parent) ? parent : 0;
}

static uint64_t remembered_parent(struct reader *rd, uint64_t cb, int depth, uint8_t *how)
{
	struct remembered *m = recall(&rd->parents, cb);
	uint64_t parent;

	if (m) {
		*how = m->how;
		return m->value;
	}
	parent = callback_parent(rd, cb, depth, how);
	remember(&rd->parents, cb, parent, *how);
	return parent;
}

/* Its callbacks: callback0, then the (callback, context) tuples of the callbacks list. */
static uint64_t parent_of_future(struct reader *rd, uint64_t fut, int depth, uint8_t *how)
{
	uint64_t cb, list, entries[MAX_CALLBACKS], pair[2], parent;
	int n, i;

	if (depth > MAX_GATHER_DEPTH)
		return 0;
	if (!read_u64(rd, fut + FUT_CALLBACK0, &cb) && cb &&
	    (parent = remembered_parent(rd, cb, depth, how)))
		return parent;
	if (read_u64(rd, fut + FUT_CALLBACKS, &list) || !list)
		return 0;
	n = py_list_items(&rd->py, list, entries, MAX_CALLBACKS);
	for (i = 0; i < n && i < MAX_CALLBACKS; i++)
		if (py_tuple_items(&rd->py, entries[i], pair, 2) == 2 &&
		    (parent = remembered_parent(rd, pair[0], depth, how)))
			return parent;
	return 0;
}

/* --- per task ------------------------------------------------------------- */

static void read_name(struct reader *rd, uint64_t name, struct snapshot_task *t)
{
	const char *kind = py_object_type_name(&rd->py, name);
	int64_t counter;

	/* 3.12+ names a task lazily: a counter until someone asks for its name */
	if (kind && !strcmp(kind, "int") && !py_long_value(&rd->py, name, &counter))
		snprintf(t->name, sizeof(t->name), "Task-%lld", (long long)counter);
	else if (py_str_copy(&rd->py, name, t->name, sizeof(t->name)))
		snprintf(t->name, sizeof(t->name), "?");
}

static void describe_task(struct reader *rd, uint64_t addr, const uint8_t *task,
			  const uint8_t *coro, bool coro_ok, struct snapshot_task *t)
{
	const struct cpython_layout *l = rd->py.layout;
	uint64_t coro_addr = u64_at(task, l->bpf.task_coro), waiter;
	int32_t state;

	memset(t, 0, sizeof(*t));
	t->addr = addr;
	t->loop = u64_at(task, FUT_LOOP);
	memcpy(&state, task + l->bpf.task_state, sizeof(state));
	t->state = (uint8_t)state;
	read_name(rd, u64_at(task, l->task_name), t);
	if (coro_addr && coro_ok) {
		t->coroutine = py_str(&rd->py, u64_at(coro, l->bpf.coro_qualname));
		follow_await_chain(rd, t, coro_addr, coro);
	}
	if (t->state != SNAP_PENDING)
		return;
	waiter = u64_at(task, l->task_fut_waiter);
	if (waiter)
		t->waits_on = py_object_type_name(&rd->py, waiter);
	t->parent = parent_of_future(rd, addr, 0, &t->awaited_by);
	if (!t->parent)
		t->awaited_by = AWAITED_BY_NONE;
}

static const char *short_type_name(const char *name)
{
	if (name && !strncmp(name, "_asyncio.", 9))
		return name + 9;
	return name;
}

/* Reads every candidate task, then their coroutines, in batches; then each one's details. */
static int describe_tasks(struct reader *rd, struct task_snapshot *s, const uint64_t *addrs,
			  size_t n)
{
	const struct cpython_layout *l = rd->py.layout;
	size_t tsize = l->task_basicsize, csize = coro_read_size(l), i, k;
	uint8_t *tasks = malloc(n * tsize + 1), *coros = malloc(n * csize + 1);
	uint8_t *tok = malloc(n + 1), *cok = malloc(n + 1);
	uint64_t *coro_addrs = malloc((n + 1) * sizeof(uint64_t));
	int err = -ENOMEM;

	s->tasks = calloc(n + 1, sizeof(*s->tasks));
	if (!tasks || !coros || !tok || !cok || !coro_addrs || !s->tasks)
		goto out;
	py_read_many(rd->py.pid, addrs, n, tsize, tasks, tok);
	for (i = 0; i < n; i++) {
		/* a task freed since the registry was read is no longer a task */
		if (tok[i] && !is_task_type(rd, u64_at(tasks + i * tsize, PY_OB_TYPE)))
			tok[i] = 0;
		coro_addrs[i] = tok[i] ? u64_at(tasks + i * tsize, l->bpf.task_coro) : 0;
	}
	py_read_many(rd->py.pid, coro_addrs, n, csize, coros, cok);
	for (i = k = 0; i < n; i++) {
		if (!tok[i]) {
			s->unreadable++;
			continue;
		}
		describe_task(rd, addrs[i], tasks + i * tsize, coros + i * csize, cok[i],
			      &s->tasks[k]);
		s->tasks[k].waits_on = short_type_name(s->tasks[k].waits_on);
		k++;
	}
	s->n_tasks = k;
	err = 0;
out:
	free(tasks), free(coros), free(tok), free(cok), free(coro_addrs);
	return err;
}

int task_snapshot_take(pid_t pid, struct task_snapshot *s, char *problem, size_t size)
{
	uint64_t start = monotonic_ns(), *addrs = NULL;
	struct python_target py;
	struct reader *rd;
	size_t n = 0;
	int err;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	err = python_runtime_discover(pid, &py);
	if (err) {
		snprintf(problem, size, "process %d: %s", pid, py.problem);
		return err;
	}
	s->minor = py.minor;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	py_reader_init(&rd->py, pid, py.layout);
	s->reader = rd;
	err = registry_tasks(rd, &py, s, &addrs, &n, problem, size);
	if (!err && n)
		err = describe_tasks(rd, s, addrs, n);
	free(addrs);
	s->read_ns = monotonic_ns() - start;
	return err;
}

void task_snapshot_free(struct task_snapshot *s)
{
	struct reader *rd = s->reader;

	if (rd) {
		tdestroy(rd->kinds, free);
		tdestroy(rd->parents, free);
		py_reader_free(&rd->py);
		free(rd);
	}
	free(s->tasks);
	memset(s, 0, sizeof(*s));
}

const char *snapshot_state_name(enum snapshot_state state)
{
	switch (state) {
	case SNAP_PENDING:
		return "pending";
	case SNAP_CANCELLED:
		return "cancelled";
	case SNAP_FINISHED:
		return "finished";
	}
	return "unknown";
}

const char *snapshot_awaited_by_name(enum snapshot_awaited_by how)
{
	switch (how) {
	case AWAITED_BY_AWAIT:
		return "await";
	case AWAITED_BY_GATHER:
		return "gather";
	case AWAITED_BY_TASKGROUP:
		return "taskgroup";
	case AWAITED_BY_NONE:
		break;
	}
	return "none";
}
