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

/* a parent no task has: a gather() still creating its children, see gather_parent */
#define GATHER_BEING_BUILT 1
#define MAX_CALLBACKS 16
#define MAX_GATHER_DEPTH 8
#define MAX_CLOSURE 16
#define MAX_STACK_DEPTH (1 << 16)

enum frame_status { FRAME_UNKNOWN, FRAME_CREATED, FRAME_SUSPENDED, FRAME_RUNNING, FRAME_DONE };

/* What one coroutine's frame says: where it is, and where what it awaits is (its stack's top). */
struct frame_view {
	enum frame_status status;
	uint64_t code, pos;
	uint64_t top_slot;
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
	bool gather_being_built;	/* a task read was a child of a gather() being built */
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
			   size_t *n, size_t *left_out)
{
	uint64_t data, *refs, *objs;
	uint8_t *ok;
	size_t i, k, count, more;

	if (py_attr_get(&rd->py, weakset, "data", &data))
		return -EIO;
	refs = py_set_items(&rd->py, data, SNAPSHOT_MAX_TASKS, &count, &more);
	if (!refs)
		return -EIO;
	*left_out += more;
	for (i = 0; i < count; i++)
		refs[i] += rd->py.layout.weakref_object;
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

/* The tasks of _asyncio's WeakSet of scheduled tasks, and of its set of eager ones. */
static int weakset_registry(struct reader *rd, const struct python_target *py,
			    struct task_snapshot *s, uint64_t md, uint64_t **all, size_t *n)
{
	const struct cpython_layout *l = &py->layout;
	uint64_t set, *found;
	size_t nfound = 0, more = 0;
	int err;

	err = py_dict_get(&rd->py, md, l->registry_weakset, &set);
	if (!err)
		err = weakset_members(rd, set, py->none_addr, all, n, &s->left_out);
	if (!err && l->registry_eager_set && !py_dict_get(&rd->py, md, l->registry_eager_set, &set)) {
		found = py_set_items(&rd->py, set, SNAPSHOT_MAX_TASKS, &nfound, &more);
		err = found ? append(all, n, found, nfound) : -EIO;
		s->left_out += more;
		free(found);
	}
	snprintf(s->method, sizeof(s->method), "registry: _asyncio.%s%s%s", l->registry_weakset,
		 l->registry_eager_set ? " + " : "", l->registry_eager_set ? l->registry_eager_set : "");
	return err;
}

#define MAX_LISTED_TASKS (1u << 21)
#define MAX_THREADS 4096

/*
 * The tasks on one circular list whose head node is at head
 * (Include/internal/pycore_llist.h); those past SNAPSHOT_MAX_TASKS are
 * counted in *left_out, up to MAX_LISTED_TASKS in all (a cycle, or absurd).
 */
static int list_tasks(struct reader *rd, uint64_t head, uint64_t **all, size_t *n, size_t *cap,
		      size_t *left_out)
{
	uint64_t node, *grown;

	if (read_u64(rd, head, &node))
		return -EIO;
	while (node && node != head) {
		if (*n + *left_out == MAX_LISTED_TASKS)
			return -E2BIG;
		if (*n < SNAPSHOT_MAX_TASKS && *n == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			grown = realloc(*all, *cap * sizeof(**all));
			if (!grown)
				return -ENOMEM;
			*all = grown;
		}
		if (*n < SNAPSHOT_MAX_TASKS)
			(*all)[(*n)++] = node - rd->py.layout.task_node;
		else
			(*left_out)++;
		if (read_u64(rd, node, &node))
			return -EIO;
	}
	return 0;
}

/* 3.14+: each thread's list of its pending tasks, and the interpreter's (tasks of threads gone). */
static int thread_list_registry(struct reader *rd, const struct python_target *py,
				struct task_snapshot *s, uint64_t interp, uint64_t **all, size_t *n)
{
	const struct cpython_layout *l = &py->layout;
	uint64_t tstate;
	size_t cap = 0, threads = 0;
	int err;

	err = list_tasks(rd, interp + l->interp_tasks_head, all, n, &cap, &s->left_out);
	if (!err)
		err = read_u64(rd, interp + l->interp_threads_head, &tstate);
	while (!err && tstate && threads++ < MAX_THREADS) {
		err = list_tasks(rd, tstate + l->tstate_tasks_head, all, n, &cap, &s->left_out);
		if (!err)
			err = read_u64(rd, tstate + l->tstate_next, &tstate);
	}
	snprintf(s->method, sizeof(s->method), "registry: the task lists of %zu thread%s and "
		 "the interpreter", threads, threads == 1 ? "" : "s");
	return err;
}

/* The addresses of every task the registry holds, sorted and unique. */
static int registry_tasks(struct reader *rd, const struct python_target *py,
			  struct task_snapshot *s, uint64_t **out, size_t *n, char *problem,
			  size_t size)
{
	const struct cpython_layout *l = &py->layout;
	uint64_t interp, modules, module, md, *all = NULL;
	size_t i, k;
	int err;

	*n = 0;
	if (read_u64(rd, py->runtime_addr + l->runtime_interp_head, &interp) ||
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
	if (err || read_u64(rd, module + l->module_dict, &md) ||
	    py_dict_get(&rd->py, md, "Task", &rd->task_type)) {
		snprintf(problem, size, "cannot read the _asyncio module of process %d", py->pid);
		return -EIO;
	}
	s->asyncio_loaded = true;
	err = l->registry == TASKS_IN_THREAD_LISTS ? thread_list_registry(rd, py, s, interp, &all, n) :
						      weakset_registry(rd, py, s, md, &all, n);
	if (err) {
		free(all);
		snprintf(problem, size, "cannot read asyncio's task registry in process %d "
			 "(it changed too fast, or its layout is not CPython %s's)", py->pid,
			 l->version);
		return -EIO;
	}
	if (*n)
		qsort(all, *n, sizeof(*all), cmp_u64);
	for (i = k = 0; i < *n; i++)
		if (!k || all[k - 1] != all[i])
			all[k++] = all[i];
	*n = k;
	/* the registry's two sets, each within the cap, may pass it together */
	if (*n > SNAPSHOT_MAX_TASKS) {
		s->left_out += *n - SNAPSHOT_MAX_TASKS;
		*n = SNAPSHOT_MAX_TASKS;
	}
	*out = all;
	return 0;
}

/* --- one coroutine's frame --------------------------------------------- */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static uint32_t field_end(uint32_t end, uint32_t offset, uint32_t size)
{
	return offset + size > end ? offset + size : end;
}

/*
 * How many bytes of a coroutine hold everything read from it, its embedded
 * frame's fields included: from 3.13 the target publishes those offsets,
 * so none may be assumed to lie below another.
 */
static uint32_t coro_read_size(const struct cpython_layout *l)
{
	uint32_t end = field_end(0, l->coro_qualname, 8), f = l->coro_iframe;

	end = field_end(end, l->coro_frame, 8);
	if (l->frames == CPY_FRAME_OBJECTS)
		return end;
	end = field_end(end, l->coro_frame_state, 1);
	end = field_end(end, f + l->frame_stack, 0);
	end = field_end(end, f + l->frame_code, 8);
	end = field_end(end, f + l->frame_pos, 8);
	end = field_end(end, f + l->frame_stack_pointer, 8);
	return field_end(end, f + l->frame_stack_depth, 4);
}

/* How many bytes of a PyFrameObject hold every field read from it. */
static uint32_t frame_object_read_size(const struct cpython_layout *l)
{
	uint32_t end = field_end(0, l->frame_code, 8);

	end = field_end(end, l->frame_pos, 4);
	end = field_end(end, l->frame_stack, 8);
	end = field_end(end, l->frame_valuestack, 8);
	end = field_end(end, l->frame_stack_depth, 4);
	return field_end(end, l->frame_state, 1);
}

static enum frame_status status_of(const struct cpython_layout *l, int8_t state)
{
	if (state == l->frame_created)
		return FRAME_CREATED;
	if (state >= l->frame_suspended_min && state <= l->frame_suspended_max)
		return FRAME_SUSPENDED;
	return state == l->frame_executing ? FRAME_RUNNING : FRAME_DONE;
}

/*
 * The slot of a _PyInterpreterFrame inside the coroutine that holds what it
 * awaits, 0 if none: stacktop indexes localsplus; stackpointer (3.14+) points
 * just past the top.
 */
static uint64_t awaited_slot(const struct cpython_layout *l, uint64_t coro, const uint8_t *bytes)
{
	uint32_t f = l->coro_iframe;
	uint64_t base = coro + f + l->frame_stack, top_addr;
	int32_t top;

	if (l->frame_stack_kind == CPY_STACK_POINTER) {
		top_addr = u64_at(bytes, f + l->frame_stack_pointer);
		if (top_addr < base + 8 * (uint64_t)l->await_slot ||
		    top_addr > base + 8 * (uint64_t)MAX_STACK_DEPTH)
			return 0;
		return top_addr - 8 * (uint64_t)l->await_slot;
	}
	memcpy(&top, bytes + f + l->frame_stack_depth, sizeof(top));
	if (top < (int32_t)l->await_slot || top > MAX_STACK_DEPTH)
		return 0;
	return base + 8 * (uint64_t)(top - l->await_slot);
}

/* A _PyInterpreterFrame inside the coroutine */
static void parse_embedded_frame(const struct cpython_layout *l, uint64_t coro,
				 const uint8_t *bytes, struct frame_view *v)
{
	uint32_t f = l->coro_iframe;
	int8_t state = (int8_t)bytes[l->coro_frame_state];

	v->status = status_of(l, state);
	v->code = u64_at(bytes, f + l->frame_code) & ~l->stackref_tag_bits;
	v->pos = u64_at(bytes, f + l->frame_pos);
	/* only a yield-from suspension has its awaitable on the stack */
	if (state == l->frame_awaiting)
		v->top_slot = awaited_slot(l, coro, bytes);
}

/* The coroutine points at a PyFrameObject, read into f. */
static void parse_legacy_frame(const struct cpython_layout *l, const uint8_t *f,
			       struct frame_view *v)
{
	uint64_t stack = u64_at(f, l->frame_stack);
	int32_t lasti, depth;

	v->code = u64_at(f, l->frame_code);
	memcpy(&lasti, f + l->frame_pos, sizeof(lasti));
	v->pos = (uint64_t)(int64_t)lasti;
	if (l->frame_stack_kind == CPY_STACK_TOP_POINTER) {
		/* f_stacktop is NULL while the frame runs; f_lasti -1 before it first does */
		v->status = lasti < 0 ? FRAME_CREATED : !stack ? FRAME_RUNNING : FRAME_SUSPENDED;
		if (stack > u64_at(f, l->frame_valuestack))
			v->top_slot = stack - 8;
	} else {
		v->status = status_of(l, (int8_t)f[l->frame_state]);
		memcpy(&depth, f + l->frame_stack_depth, sizeof(depth));
		if (depth >= 1 && depth <= MAX_STACK_DEPTH)
			v->top_slot = stack + 8 * (uint64_t)(depth - 1);
	}
	if (v->status != FRAME_SUSPENDED)
		v->top_slot = 0;
}

static bool add_frame(struct reader *rd, struct snapshot_task *t, const struct frame_view *v)
{
	const struct py_code *c;
	struct snapshot_frame *f;
	int line;

	if (v->status == FRAME_DONE || v->status == FRAME_UNKNOWN)
		return false;
	c = py_code(&rd->py, v->code);
	if (!c)
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
	if (v->status == FRAME_RUNNING)
		t->flags |= SNAP_RUNNING;
	if (v->status == FRAME_CREATED && t->n_frames == 1)
		t->flags |= SNAP_NOT_STARTED;
	return true;
}

/*
 * Await chains, followed for every task at once one level per round, each
 * step one batched read for all: the coroutines' frames (3.9, 3.10), the
 * objects on top of their stacks, those objects' heads; a coroutine there is
 * the next level, a FutureIter the end (its future is what the task waits on).
 */
struct chain_walk {
	size_t n;		/* tasks still following their chain */
	size_t *task;		/* which task each is */
	uint64_t *coro;		/* the coroutine it has reached */
	uint8_t *bytes;		/* csize bytes of each coroutine */
	uint8_t *frames;	/* fsize bytes of each PyFrameObject, where frames are objects */
	size_t fsize;
	uint64_t *addrs, *awaiting;
	uint8_t *heads;		/* OBJECT_HEAD bytes of each awaited object */
	uint8_t *ok;
	uint64_t *leaf;		/* per task: the future at the end of its chain */
	uint64_t *socket_slot;	/* per task: the local of an asyncio frame that leads to its socket */
	uint8_t *socket_holder;	/* per task: what that local is (enum socket_holder) */
};

#define OBJECT_HEAD 24

static void chain_walk_free(struct chain_walk *w)
{
	free(w->task), free(w->coro), free(w->bytes), free(w->frames), free(w->addrs);
	free(w->awaiting), free(w->heads), free(w->ok), free(w->leaf), free(w->socket_slot);
	free(w->socket_holder);
}

static int chain_walk_init(struct chain_walk *w, size_t n, size_t csize, size_t fsize)
{
	memset(w, 0, sizeof(*w));
	w->fsize = fsize;
	w->task = malloc((n + 1) * sizeof(size_t));
	w->coro = malloc((n + 1) * 8);
	w->bytes = malloc((n + 1) * csize);
	w->frames = malloc((n + 1) * fsize);
	w->addrs = malloc((n + 1) * 8);
	w->awaiting = malloc((n + 1) * 8);
	w->heads = malloc((n + 1) * OBJECT_HEAD);
	w->ok = malloc(n + 1);
	w->leaf = calloc(n + 1, 8);
	w->socket_slot = calloc(n + 1, 8);
	w->socket_holder = calloc(n + 1, 1);
	if (!w->task || !w->coro || !w->bytes || !w->frames || !w->addrs || !w->awaiting ||
	    !w->heads || !w->ok || !w->leaf || !w->socket_slot || !w->socket_holder) {
		chain_walk_free(w);
		return -ENOMEM;
	}
	return 0;
}

enum socket_holder { HOLDER_NONE, HOLDER_STREAM_READER, HOLDER_SOCKET };

/*
 * The asyncio frames a task waits in with a socket in hand, and which of
 * their arguments leads to it: every read of a stream waits in
 * StreamReader._wait_for_data (self), a connection being set up in
 * sock_connect, then _create_connection_transport (sock), in 3.9-3.13.
 */
static const struct socket_wait {
	const char *file, *function;
	uint32_t argument;
	enum socket_holder holder;
} socket_waits[] = {
	{ "/asyncio/streams.py", "_wait_for_data", 0, HOLDER_STREAM_READER },
	{ "/asyncio/selector_events.py", "sock_connect", 1, HOLDER_SOCKET },
	{ "/asyncio/base_events.py", "_create_connection_transport", 1, HOLDER_SOCKET },
};

static const struct socket_wait *socket_wait_of(const struct snapshot_frame *f)
{
	size_t i;

	for (i = 0; i < sizeof(socket_waits) / sizeof(socket_waits[0]); i++)
		if (has_suffix(f->file, socket_waits[i].file) &&
		    has_suffix(f->function, socket_waits[i].function))
			return &socket_waits[i];
	return NULL;
}

/* Each coroutine's frame, added to its task's chain; afterwards w->addrs[i] is its top slot. */
static void walk_frames(struct reader *rd, struct snapshot_task *tasks, struct chain_walk *w,
			size_t csize)
{
	const struct cpython_layout *l = &rd->py.layout;
	bool legacy = l->frames == CPY_FRAME_OBJECTS;
	const struct socket_wait *sw;
	struct snapshot_task *t;
	struct frame_view v;
	uint64_t locals;
	size_t i;

	if (legacy) {
		for (i = 0; i < w->n; i++)
			w->addrs[i] = u64_at(w->bytes + i * csize, l->coro_frame);
		py_read_many(rd->py.pid, w->addrs, w->n, w->fsize, w->frames, w->ok);
	}
	for (i = 0; i < w->n; i++) {
		memset(&v, 0, sizeof(v));
		if (!legacy)
			parse_embedded_frame(l, w->coro[i], w->bytes + i * csize, &v);
		else if (w->addrs[i] && w->ok[i])
			parse_legacy_frame(l, w->frames + i * w->fsize, &v);
		t = &tasks[w->task[i]];
		if (!add_frame(rd, t, &v)) {
			w->addrs[i] = 0;
			continue;
		}
		sw = socket_wait_of(&t->frames[t->n_frames - 1]);
		if (sw && !w->socket_slot[w->task[i]]) {
			locals = legacy ? w->addrs[i] + l->frame_localsplus :
				w->coro[i] + l->coro_iframe + l->frame_localsplus;
			w->socket_slot[w->task[i]] = locals + 8 * (uint64_t)sw->argument;
			w->socket_holder[w->task[i]] = sw->holder;
		}
		w->addrs[i] = v.top_slot;
	}
}

/* One level down every chain: returns how many reached another coroutine. */
static size_t walk_level(struct reader *rd, struct snapshot_task *tasks, struct chain_walk *w,
			 size_t csize)
{
	const char *kind;
	size_t i, k = 0;

	walk_frames(rd, tasks, w, csize);
	py_read_many(rd->py.pid, w->addrs, w->n, 8, w->awaiting, w->ok);
	for (i = 0; i < w->n; i++)
		if (!w->addrs[i] || !w->ok[i])
			w->awaiting[i] = 0;
		else
			w->awaiting[i] &= ~rd->py.layout.stackref_tag_bits;
	py_read_many(rd->py.pid, w->awaiting, w->n, OBJECT_HEAD, w->heads, w->ok);
	for (i = 0; i < w->n; i++) {
		if (!w->awaiting[i] || !w->ok[i])
			continue;
		kind = py_type_name(&rd->py, u64_at(w->heads + i * OBJECT_HEAD, PY_OB_TYPE));
		if (kind && !strcmp(kind, "_asyncio.FutureIter")) {
			w->leaf[w->task[i]] = u64_at(w->heads + i * OBJECT_HEAD,
						     rd->py.layout.futureiter_future);
		} else if (kind && (!strcmp(kind, "coroutine") || !strcmp(kind, "generator"))) {
			w->task[k] = w->task[i];
			w->coro[k++] = w->awaiting[i];
		}
	}
	w->n = k;
	py_read_many(rd->py.pid, w->coro, k, csize, w->bytes, w->ok);
	for (i = k = 0; i < w->n; i++)
		if (w->ok[i]) {
			w->task[k] = w->task[i], w->coro[k] = w->coro[i];
			memmove(w->bytes + k * csize, w->bytes + i * csize, csize);
			k++;
		}
	w->n = k;
	return k;
}

/* --- awaited-by ---------------------------------------------------------- */

static uint64_t parent_of_future(struct reader *rd, uint64_t fut, int depth, uint8_t *how);

static const char *function_qualname(struct reader *rd, uint64_t func)
{
	uint64_t name;

	if (read_u64(rd, func + rd->py.layout.func_qualname, &name))
		return NULL;
	return py_str(&rd->py, name);
}

/* gather's _done_callback closes over the outer _GatheringFuture: who awaits that? */
static uint64_t gather_parent(struct reader *rd, uint64_t func, int depth, uint8_t *how)
{
	uint64_t closure, cells[MAX_CLOSURE], ref, parent;
	const char *kind;
	int n, i;

	if (read_u64(rd, func + rd->py.layout.func_closure, &closure))
		return 0;
	n = py_tuple_items(&rd->py, closure, cells, MAX_CLOSURE);
	for (i = 0; i < n && i < MAX_CLOSURE; i++) {
		if (read_u64(rd, cells[i] + rd->py.layout.cell_ref, &ref))
			continue;
		kind = py_object_type_name(&rd->py, ref);
		if (kind && !strcmp(kind, "_GatheringFuture")) {
			parent = parent_of_future(rd, ref, depth + 1, how);
			*how = AWAITED_BY_GATHER;
			return parent;
		}
	}
	/* no outer future yet: gather() is still creating its children, in the running task */
	*how = AWAITED_BY_GATHER;
	return n > 0 ? GATHER_BEING_BUILT : 0;
}

/* The task a done-callback wakes when its future completes, and how it awaits it. */
static uint64_t callback_parent(struct reader *rd, uint64_t cb, int depth, uint8_t *how)
{
	const struct cpython_layout *l = &rd->py.layout;
	const char *kind = py_object_type_name(&rd->py, cb), *name;
	uint64_t ml, ml_name, self, func, parent = 0;
	char cname[32];

	if (!kind)
		return 0;
	*how = AWAITED_BY_AWAIT;
	if (!strcmp(kind, "TaskWakeupMethWrapper") && l->wakeup_task) {
		read_u64(rd, cb + l->wakeup_task, &parent);
	} else if (!strcmp(kind, "builtin_function_or_method")) {	/* Task.task_wakeup */
		/* PyMethodDef.ml_name is its first field */
		if (!read_u64(rd, cb + l->cfunc_ml, &ml) && !read_u64(rd, ml, &ml_name) &&
		    !py_read_memory(rd->py.pid, ml_name, cname, sizeof("task_wakeup")) &&
		    !memcmp(cname, "task_wakeup", sizeof("task_wakeup")))
			read_u64(rd, cb + l->cfunc_self, &parent);
	} else if (!strcmp(kind, "function")) {
		name = function_qualname(rd, cb);
		if (name && has_suffix(name, "._done_callback") &&
		    (!strncmp(name, "gather.", 7) || !strncmp(name, "_gather.", 8)))
			parent = gather_parent(rd, cb, depth, how);
	} else if (!strcmp(kind, "method")) {
		if (!read_u64(rd, cb + l->method_func, &func) &&
		    !read_u64(rd, cb + l->method_self, &self) &&
		    (name = function_qualname(rd, func)) && !strcmp(name, "TaskGroup._on_task_done") &&
		    !py_attr_get(&rd->py, self, "_parent_task", &parent))
			*how = AWAITED_BY_TASKGROUP;
	}
	if (parent == GATHER_BEING_BUILT)
		return parent;
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

/* A future's callbacks: callback0, then the (callback, context) tuples of its list. */
static uint64_t parent_from_callbacks(struct reader *rd, uint64_t cb0, uint64_t list, int depth,
				      uint8_t *how)
{
	uint64_t entries[MAX_CALLBACKS], pair[2], parent;
	int n, i;

	if (cb0 && (parent = remembered_parent(rd, cb0, depth, how)))
		return parent;
	if (!list)
		return 0;
	n = py_list_items(&rd->py, list, entries, MAX_CALLBACKS);
	for (i = 0; i < n && i < MAX_CALLBACKS; i++)
		if (py_tuple_items(&rd->py, entries[i], pair, 2) == 2 &&
		    (parent = remembered_parent(rd, pair[0], depth, how)))
			return parent;
	return 0;
}

static uint64_t parent_of_future(struct reader *rd, uint64_t fut, int depth, uint8_t *how)
{
	uint64_t cb0, list;

	if (depth > MAX_GATHER_DEPTH || read_u64(rd, fut + rd->py.layout.fut_callback0, &cb0) ||
	    read_u64(rd, fut + rd->py.layout.fut_callbacks, &list))
		return 0;
	return parent_from_callbacks(rd, cb0, list, depth, how);
}

/* --- per task ------------------------------------------------------------- */

#define NAME_READ 128

/* A task's name: a str, or on 3.12+ an int counter until someone asks for it. */
static void decode_name(struct reader *rd, uint64_t addr, const uint8_t *obj, bool ok,
			struct snapshot_task *t)
{
	const char *kind = ok ? py_type_name(&rd->py, u64_at(obj, PY_OB_TYPE)) : NULL;
	int64_t counter;

	if (kind && !strcmp(kind, "int")) {
		if (!py_long_decode(&rd->py.layout, obj, &counter))
			snprintf(t->name, sizeof(t->name), "Task-%lld", (long long)counter);
		return;
	}
	if ((!ok || py_str_decode(&rd->py.layout, obj, NAME_READ, t->name, sizeof(t->name))) &&
	    py_str_copy(&rd->py, addr, t->name, sizeof(t->name)))
		snprintf(t->name, sizeof(t->name), "?");
}

/* The number in a default task name, "Task-<n>", as _asyncio counts its tasks; else 0. */
static uint64_t name_serial(const char *name)
{
	unsigned long long n;
	char *end;

	if (strncmp(name, "Task-", 5) || name[5] < '1' || name[5] > '9')
		return 0;
	errno = 0;
	n = strtoull(name + 5, &end, 10);
	return *end || errno ? 0 : n;
}

/* Scratch for reading every task at once. */
struct task_batch {
	size_t n;
	const uint64_t *addrs;
	uint8_t *tasks, *coros, *tok, *cok;
	uint64_t *ptrs;		/* per task: the next thing to read */
	uint8_t *names;
};

static void task_batch_free(struct task_batch *b)
{
	free(b->tasks), free(b->coros), free(b->tok), free(b->cok), free(b->ptrs), free(b->names);
}

static int task_batch_init(struct task_batch *b, const uint64_t *addrs, size_t n, size_t tsize,
			   size_t csize)
{
	memset(b, 0, sizeof(*b));
	b->n = n;
	b->addrs = addrs;
	b->tasks = malloc(n * tsize + 1);
	b->coros = malloc(n * csize + 1);
	b->tok = malloc(n + 1);
	b->cok = malloc(n + 1);
	b->ptrs = malloc((n + 1) * 8);
	b->names = malloc(n * NAME_READ + 1);
	if (!b->tasks || !b->coros || !b->tok || !b->cok || !b->ptrs || !b->names) {
		task_batch_free(b);
		return -ENOMEM;
	}
	return 0;
}

/* The Task objects, keeping those still tasks (their addresses into out); then their coroutines. */
static size_t read_tasks(struct reader *rd, struct task_batch *b, struct snapshot_task *out,
			 size_t tsize, size_t csize)
{
	const struct cpython_layout *l = &rd->py.layout;
	size_t i, k = 0;

	py_read_many(rd->py.pid, b->addrs, b->n, tsize, b->tasks, b->tok);
	for (i = 0; i < b->n; i++) {
		/* a task freed since the registry was read is no longer a task */
		if (b->tok[i] && !is_task_type(rd, u64_at(b->tasks + i * tsize, PY_OB_TYPE)))
			b->tok[i] = 0;
		if (!b->tok[i])
			continue;
		if (k != i)
			memmove(b->tasks + k * tsize, b->tasks + i * tsize, tsize);
		out[k].addr = b->addrs[i];
		out[k].coro = b->ptrs[k] = u64_at(b->tasks + k * tsize, l->task_coro);
		k++;
	}
	py_read_many(rd->py.pid, b->ptrs, k, csize, b->coros, b->cok);
	return k;
}

/* What follow_chains found for each task, besides its frames. */
struct chain_ends {
	uint64_t *leaf, *socket_slot;
	uint8_t *socket_holder;
};

static int follow_chains(struct reader *rd, struct snapshot_task *tasks, struct task_batch *b,
			 size_t n, size_t csize, struct chain_ends *ends)
{
	struct chain_walk w;
	size_t i, level;

	if (chain_walk_init(&w, n, csize, frame_object_read_size(&rd->py.layout)))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (b->cok[i] && b->ptrs[i]) {
			w.task[w.n] = i;
			w.coro[w.n] = b->ptrs[i];
			memcpy(w.bytes + w.n * csize, b->coros + i * csize, csize);
			w.n++;
		}
	for (level = 0; level <= SNAPSHOT_MAX_CHAIN && w.n; level++)
		walk_level(rd, tasks, &w, csize);
	ends->leaf = w.leaf;
	ends->socket_slot = w.socket_slot;
	ends->socket_holder = w.socket_holder;
	w.leaf = w.socket_slot = NULL;
	w.socket_holder = NULL;
	chain_walk_free(&w);
	return 0;
}

static const char *short_type_name(const char *name)
{
	if (name && !strncmp(name, "_asyncio.", 9))
		return name + 9;
	return name;
}

/*
 * What a wait is for, from the asyncio function the chain ends in; function
 * names match as suffixes, so 3.11+ qualified names and 3.9/3.10 plain ones
 * both do ("Semaphore.acquire" and "acquire").
 */
static const struct {
	const char *file, *function, *label;
} asyncio_waits[] = {
	{ "/asyncio/tasks.py", "sleep", "sleep" },
	{ "/asyncio/tasks.py", "wait_for", "wait_for" },
	{ "/asyncio/tasks.py", "_wait", "wait" },
	{ "/asyncio/streams.py", "_wait_for_data", "stream read" },
	{ "/asyncio/streams.py", "_drain_helper", "stream write" },
	{ "/asyncio/taskgroups.py", "__aexit__", "TaskGroup" },
	{ "/asyncio/taskgroups.py", "_aexit", "TaskGroup" },	/* 3.13.1 and later */
	{ "/asyncio/queues.py", "get", "Queue.get" },
	{ "/asyncio/queues.py", "put", "Queue.put" },
	{ "/asyncio/locks.py", "Semaphore.acquire", "Semaphore" },
	{ "/asyncio/locks.py", "Lock.acquire", "Lock" },
	{ "/asyncio/locks.py", "Event.wait", "Event" },
	{ "/asyncio/locks.py", "Condition.wait", "Condition" },
	{ "/asyncio/locks.py", "acquire", "Lock/Semaphore" },
	{ "/asyncio/locks.py", "wait", "Event/Condition" },
};

static const char *wait_label(const struct snapshot_task *t, const char *type)
{
	const struct snapshot_frame *inner = t->n_frames ? &t->frames[t->n_frames - 1] : NULL;
	size_t i;

	for (i = 0; inner && i < sizeof(asyncio_waits) / sizeof(asyncio_waits[0]); i++)
		if (has_suffix(inner->file, asyncio_waits[i].file) &&
		    has_suffix(inner->function, asyncio_waits[i].function))
			return asyncio_waits[i].label;
	if (type && !strcmp(type, "_GatheringFuture"))
		return "gather";
	return short_type_name(type);
}

/* What each pending task waits on: its fut_waiter, else the future ending its chain. */
static void read_waits_on(struct reader *rd, struct snapshot_task *tasks, struct task_batch *b,
			  size_t n, size_t tsize, const uint64_t *leaf)
{
	uint64_t waiter;
	size_t i;

	for (i = 0; i < n; i++) {
		waiter = u64_at(b->tasks + i * tsize, rd->py.layout.task_fut_waiter);
		b->ptrs[i] = tasks[i].state == SNAP_PENDING ? (waiter ? waiter : leaf[i]) : 0;
	}
	py_read_many(rd->py.pid, b->ptrs, n, OBJECT_HEAD, b->names, b->cok);
	for (i = 0; i < n; i++)
		if (b->ptrs[i] && b->cok[i])
			tasks[i].waits_on = wait_label(&tasks[i],
				py_type_name(&rd->py, u64_at(b->names + i * OBJECT_HEAD, PY_OB_TYPE)));
}

static void read_names(struct reader *rd, struct snapshot_task *tasks, struct task_batch *b,
		       size_t n, size_t tsize)
{
	size_t i;

	for (i = 0; i < n; i++)
		b->ptrs[i] = u64_at(b->tasks + i * tsize, rd->py.layout.task_name);
	py_read_many(rd->py.pid, b->ptrs, n, NAME_READ, b->names, b->cok);
	for (i = 0; i < n; i++) {
		decode_name(rd, b->ptrs[i], b->names + i * NAME_READ, b->cok[i], &tasks[i]);
		tasks[i].serial = name_serial(tasks[i].name);
	}
}

/* The object a frame's local or stack slot refers to (3.14+: a tagged _PyStackRef). */
static int read_slot(struct reader *rd, uint64_t slot, uint64_t *object)
{
	if (read_u64(rd, slot, object))
		return -EIO;
	*object &= ~rd->py.layout.stackref_tag_bits;
	return 0;
}

/* The fd of the socket a StreamReader reads: self._transport._sock_fd. */
static int32_t stream_socket_fd(struct reader *rd, uint64_t self_slot)
{
	uint64_t self, transport, fd;
	uint8_t head[32];
	int64_t value;

	if (read_slot(rd, self_slot, &self) || py_attr_get(&rd->py, self, "_transport", &transport) ||
	    py_attr_get(&rd->py, transport, "_sock_fd", &fd) ||
	    py_read_memory(rd->py.pid, fd, head, sizeof(head)) ||
	    !py_type_is(&rd->py, u64_at(head, PY_OB_TYPE), "int") ||
	    py_long_decode(&rd->py.layout, head, &value) || value < 0 || value > INT32_MAX)
		return -1;
	return (int32_t)value;
}

/* The fd of a socket.socket object. */
static int32_t socket_object_fd(struct reader *rd, uint64_t sock_slot)
{
	uint32_t fd_at = rd->py.layout.socket_fd;
	uint64_t sock;
	uint8_t head[64];
	int32_t fd;

	if (fd_at + sizeof(fd) > sizeof(head) || read_slot(rd, sock_slot, &sock) ||
	    py_read_memory(rd->py.pid, sock, head, fd_at + sizeof(fd)) ||
	    !py_type_is(&rd->py, u64_at(head, PY_OB_TYPE), "_socket.socket"))
		return -1;
	memcpy(&fd, head + fd_at, sizeof(fd));
	return fd >= 0 ? fd : -1;
}

static void read_socket(struct reader *rd, struct snapshot_task *t, enum socket_holder holder,
			uint64_t slot)
{
	t->socket_fd = -1;
	if (holder == HOLDER_STREAM_READER)
		t->socket_fd = stream_socket_fd(rd, slot);
	if (holder == HOLDER_SOCKET && (t->socket_fd = socket_object_fd(rd, slot)) >= 0)
		t->flags |= SNAP_CONNECTING;
}

/* The words of a Task that say what it is doing: if one moved, what was read of it is stale. */
static bool task_moved(const struct cpython_layout *l, const uint8_t *then, const uint8_t *now)
{
	const uint32_t words[] = { l->fut_callback0, l->fut_callbacks, l->task_coro, l->task_fut_waiter };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (u64_at(then, words[i]) != u64_at(now, words[i]))
			return true;
	return false;
}

/*
 * The process ran on while it was read: each task is read again at the end.
 * One that died or finished meanwhile is dropped (counted as skipped); one
 * that moved on is kept, flagged as changed.
 */
static int recheck_tasks(struct reader *rd, struct task_snapshot *s, struct task_batch *b,
			 size_t tsize)
{
	const struct cpython_layout *l = &rd->py.layout;
	uint8_t *now = malloc(s->n_tasks * tsize + 1), *then;
	uint64_t *addrs = malloc((s->n_tasks + 1) * sizeof(uint64_t));
	size_t i, k = 0;

	if (!now || !addrs) {
		free(now), free(addrs);
		return -ENOMEM;
	}
	for (i = 0; i < s->n_tasks; i++)
		addrs[i] = s->tasks[i].addr;
	py_read_many(rd->py.pid, addrs, s->n_tasks, tsize, now, b->tok);
	for (i = 0; i < s->n_tasks; i++) {
		then = b->tasks + i * tsize;
		if (!b->tok[i] || u64_at(then, PY_OB_TYPE) != u64_at(now + i * tsize, PY_OB_TYPE) ||
		    memcmp(then + l->task_state, now + i * tsize + l->task_state, 4)) {
			s->unreadable++;
			continue;
		}
		if (task_moved(l, then, now + i * tsize)) {
			s->tasks[i].flags |= SNAP_CHANGED;
			s->changed++;
		}
		s->tasks[k++] = s->tasks[i];
	}
	s->n_tasks = k;
	free(now), free(addrs);
	return 0;
}

/* The task whose coroutine was executing on loop when read, or 0. */
static uint64_t running_task(const struct task_snapshot *s, uint64_t loop)
{
	size_t i;

	for (i = 0; i < s->n_tasks; i++)
		if ((s->tasks[i].flags & SNAP_RUNNING) && s->tasks[i].loop == loop)
			return s->tasks[i].addr;
	return 0;
}

/* Whether the task at addr, running on loop, is inside a gather() still creating children. */
static bool building_gather(const struct task_snapshot *s, uint64_t addr, uint64_t loop)
{
	size_t i;

	for (i = 0; addr && i < s->n_tasks; i++)
		if (s->tasks[i].parent == addr && s->tasks[i].awaited_by == AWAITED_BY_GATHER &&
		    s->tasks[i].loop == loop && (s->tasks[i].flags & SNAP_NOT_STARTED))
			return true;
	return false;
}

/*
 * Caught between gather() creating a child and adding its done callback:
 * a task not started, with no callback at all, on a loop whose running task
 * is building a gather, is that gather's newest child. A task created by a
 * loop callback (a server's handler) waits unstarted too, but has no gather
 * being built beside it.
 */
static void claim_newest_gather_child(const struct cpython_layout *l, struct task_snapshot *s,
				      const struct task_batch *b, size_t tsize)
{
	const uint8_t *task;
	struct snapshot_task *t;
	uint64_t runner;
	size_t i;

	for (i = 0, t = s->tasks; i < s->n_tasks; i++, t++) {
		task = b->tasks + i * tsize;
		if (t->parent || t->state != SNAP_PENDING || !(t->flags & SNAP_NOT_STARTED) ||
		    u64_at(task, l->fut_callback0) || u64_at(task, l->fut_callbacks))
			continue;
		runner = running_task(s, t->loop);
		if (runner != t->addr && building_gather(s, runner, t->loop)) {
			t->parent = runner;
			t->awaited_by = AWAITED_BY_GATHER;
		}
	}
}

/* Every candidate at once, a batched read per step; then who awaits each pending one. */
static int describe_tasks(struct reader *rd, struct task_snapshot *s, const uint64_t *addrs,
			  size_t n)
{
	const struct cpython_layout *l = &rd->py.layout;
	size_t tsize = l->task_basicsize, csize = coro_read_size(l), i, k;
	struct snapshot_task *t;
	int err;
	struct task_batch b;
	struct chain_ends ends;
	int32_t state;
	const uint8_t *task;

	s->tasks = calloc(n + 1, sizeof(*s->tasks));
	if (!s->tasks || task_batch_init(&b, addrs, n, tsize, csize))
		return -ENOMEM;
	k = read_tasks(rd, &b, s->tasks, tsize, csize);
	s->unreadable = n - k;
	for (i = 0, t = s->tasks; i < k; i++, t++) {
		task = b.tasks + i * tsize;
		t->loop = u64_at(task, l->fut_loop);
		memcpy(&state, task + l->task_state, sizeof(state));
		t->state = (uint8_t)state;
		if (b.cok[i] && b.ptrs[i])
			t->coroutine = py_str(&rd->py, u64_at(b.coros + i * csize, l->coro_qualname));
	}
	s->n_tasks = k;
	if (follow_chains(rd, s->tasks, &b, k, csize, &ends)) {
		task_batch_free(&b);
		return -ENOMEM;
	}
	read_waits_on(rd, s->tasks, &b, k, tsize, ends.leaf);
	read_names(rd, s->tasks, &b, k, tsize);
	for (i = 0, t = s->tasks; i < k; i++, t++) {
		task = b.tasks + i * tsize;
		if (t->state == SNAP_PENDING)
			t->parent = parent_from_callbacks(rd, u64_at(task, l->fut_callback0),
							  u64_at(task, l->fut_callbacks), 0, &t->awaited_by);
		if (t->parent == GATHER_BEING_BUILT) {
			rd->gather_being_built = true;
			t->parent = running_task(s, t->loop);
		}
		if (!t->parent)
			t->awaited_by = AWAITED_BY_NONE;
		read_socket(rd, t, ends.socket_holder[i], ends.socket_slot[i]);
	}
	claim_newest_gather_child(l, s, &b, tsize);
	free(ends.leaf), free(ends.socket_slot), free(ends.socket_holder);
	err = recheck_tasks(rd, s, &b, tsize);
	task_batch_free(&b);
	return err;
}

static void reader_init(struct reader *rd, const struct python_target *py)
{
	memset(rd, 0, sizeof(*rd));
	py_reader_init(&rd->py, py->pid, &py->layout);
}

static void reader_release(struct reader *rd)
{
	tdestroy(rd->kinds, free);
	tdestroy(rd->parents, free);
	py_reader_free(&rd->py);
	rd->kinds = rd->parents = NULL;
}

static void snapshot_start(const struct python_target *py, struct task_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = py->pid;
	s->python_version = py->layout.version;
	s->started_ns = monotonic_ns();
}

int task_snapshot_read(const struct python_target *py, struct task_snapshot *s, char *problem,
		       size_t size)
{
	uint64_t start = monotonic_ns(), *addrs = NULL;
	struct reader *rd;
	size_t n = 0;
	int err;

	snapshot_start(py, s);
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	reader_init(rd, py);
	s->reader = rd;
	err = registry_tasks(rd, py, s, &addrs, &n, problem, size);
	if (!err && n)
		err = describe_tasks(rd, s, addrs, n);
	free(addrs);
	s->cache_full = rd->py.cache_full;
	s->read_ns = monotonic_ns() - start;
	return err;
}

int task_snapshot_take(pid_t pid, struct task_snapshot *s, char *problem, size_t size)
{
	struct python_target py;
	uint64_t start = monotonic_ns();
	int err;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	err = python_runtime_discover(pid, &py);
	if (err) {
		snprintf(problem, size, "process %d: %s", pid, py.problem);
		return err;
	}
	err = task_snapshot_read(&py, s, problem, size);
	s->read_ns = monotonic_ns() - start;
	return err;
}

void task_snapshot_free(struct task_snapshot *s)
{
	struct reader *rd = s->reader;

	if (rd) {
		reader_release(rd);
		free(rd);
	}
	free(s->tasks);
	free(s->serials);
	memset(s, 0, sizeof(*s));
}

/* --- repeated reads ------------------------------------------------------- */

/* What tells a task from the next one allocated at its address. */
struct identity {
	uint64_t coro;
	uint64_t name;		/* FNV-1a of its name */
};

/* A task a sampler has described, by address. */
struct known_task {
	uint64_t addr;
	struct identity id;
	bool again;		/* the caller wants it described at the next read */
};

/* What one read's registry held, as numbers: a task numbered above them all came after it. */
struct read_mark {
	uint64_t started_ns;
	uint64_t highest;	/* the highest number among its entries */
	bool complete;		/* every entry's name was read: none could hide a higher number */
};

struct task_sampler {
	struct reader rd;
	struct known_task *known;	/* in address order */
	size_t n_known;
	struct read_mark marks[2];	/* of the last two reads, the latest first */
	size_t n_marks;
};

static uint64_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ULL;
	return h;
}

static struct identity identity_of(const struct snapshot_task *t)
{
	return (struct identity){ .coro = t->coro, .name = name_hash(t->name) };
}

/*
 * Every task's coroutine and name: two batched reads of a few words each;
 * with each name's number (0 if none), *unread counting names not read.
 */
static int read_identities(struct reader *rd, const uint64_t *addrs, size_t n,
			   struct identity *ids, uint64_t *serials, size_t *unread)
{
	const struct cpython_layout *l = &rd->py.layout;
	uint32_t lo = l->task_coro < l->task_name ? l->task_coro : l->task_name;
	uint32_t span = (l->task_coro > l->task_name ? l->task_coro : l->task_name) - lo + 8;
	uint8_t *words = malloc(n * span + 1), *names = malloc(n * NAME_READ + 1), *ok = malloc(n + 1);
	uint64_t *at = calloc(n + 1, sizeof(*at));
	struct snapshot_task scratch;
	size_t i;

	if (!words || !names || !ok || !at) {
		free(words), free(names), free(ok), free(at);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		at[i] = addrs[i] + lo;
	py_read_many(rd->py.pid, at, n, span, words, ok);
	for (i = 0; i < n; i++) {
		ids[i].coro = ok[i] ? u64_at(words + i * span, l->task_coro - lo) : 0;
		at[i] = ok[i] ? u64_at(words + i * span, l->task_name - lo) : 0;
	}
	py_read_many(rd->py.pid, at, n, NAME_READ, names, ok);
	*unread = 0;
	for (i = 0; i < n; i++) {
		scratch.name[0] = '\0';
		if (at[i])
			decode_name(rd, at[i], names + i * NAME_READ, ok[i], &scratch);
		ids[i].name = name_hash(scratch.name);
		serials[i] = name_serial(scratch.name);
		if (!scratch.name[0] || !strcmp(scratch.name, "?"))
			(*unread)++;
	}
	free(words), free(names), free(ok), free(at);
	return 0;
}

static int cmp_known(const void *key, const void *entry)
{
	uint64_t x = *(const uint64_t *)key, y = ((const struct known_task *)entry)->addr;

	return x < y ? -1 : x > y;
}

static struct known_task *known_at(const struct task_sampler *ts, uint64_t addr)
{
	return ts->n_known ? bsearch(&addr, ts->known, ts->n_known, sizeof(*ts->known), cmp_known) :
			     NULL;
}

/* Each registry task's known entry if it is still that task, else NULL (both in address order). */
static void match_known(const struct task_sampler *ts, const uint64_t *addrs,
			const struct identity *ids, size_t n, const struct known_task **match)
{
	const struct known_task *k = ts->known, *end = k ? k + ts->n_known : NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		while (k < end && k->addr < addrs[i])
			k++;
		match[i] = k < end && k->addr == addrs[i] && !k->again && k->id.coro == ids[i].coro &&
			   k->id.name == ids[i].name ? k : NULL;
	}
}

static int cmp_task_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct snapshot_task *)a)->addr;
	uint64_t y = ((const struct snapshot_task *)b)->addr;

	return x < y ? -1 : x > y;
}

static bool in_sorted(const uint64_t *addrs, size_t n, uint64_t addr)
{
	return n && bsearch(&addr, addrs, n, sizeof(*addrs), cmp_u64);
}

/*
 * The known tasks that await a task just described, read afresh: where they
 * are now is where that task was created.
 */
static int describe_parents(struct reader *rd, struct task_snapshot *s, const uint64_t *registry,
			    size_t n)
{
	uint64_t *parents = malloc((s->n_tasks + 1) * sizeof(*parents));
	struct task_snapshot more = { 0 };
	struct snapshot_task *grown;
	size_t i, m = 0, unique = 0;
	int err;

	if (!parents)
		return -ENOMEM;
	for (i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].parent && !task_snapshot_find(s, s->tasks[i].parent) &&
		    in_sorted(registry, n, s->tasks[i].parent))
			parents[m++] = s->tasks[i].parent;
	qsort(parents, m, sizeof(*parents), cmp_u64);
	for (i = 0; i < m; i++)
		if (!unique || parents[unique - 1] != parents[i])
			parents[unique++] = parents[i];
	err = unique ? describe_tasks(rd, &more, parents, unique) : 0;
	free(parents);
	s->unreadable += more.unreadable;
	s->changed += more.changed;
	if (err || !more.n_tasks) {
		free(more.tasks);
		return err;
	}
	grown = realloc(s->tasks, (s->n_tasks + more.n_tasks + 1) * sizeof(*grown));
	if (grown) {
		memcpy(grown + s->n_tasks, more.tasks, more.n_tasks * sizeof(*grown));
		s->tasks = grown;
		s->n_tasks += more.n_tasks;
		qsort(s->tasks, s->n_tasks, sizeof(*s->tasks), cmp_task_addr);
	}
	free(more.tasks);
	return grown ? 0 : -ENOMEM;
}

/* Who is known after a read: the tasks it described, and those it found unchanged. */
static int remember_tasks(struct task_sampler *ts, const struct task_snapshot *s,
			  const uint64_t *addrs, const struct known_task **match, size_t n)
{
	struct known_task *known = malloc((n + 1) * sizeof(*known));
	const struct snapshot_task *t = s->tasks, *end = t ? t + s->n_tasks : NULL;
	size_t i, k = 0;

	if (!known)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		while (t < end && t->addr < addrs[i])
			t++;
		if (t < end && t->addr == addrs[i])
			known[k++] = (struct known_task){ .addr = addrs[i], .id = identity_of(t) };
		else if (match[i])
			known[k++] = *match[i];
	}
	free(ts->known);
	ts->known = known;
	ts->n_known = k;
	return 0;
}

/* The numbers of this read's registry, ascending, and how many entries had none. */
static int note_serials(struct task_snapshot *s, const uint64_t *serials, size_t n)
{
	size_t i;

	s->serials = malloc((n + 1) * sizeof(*s->serials));
	if (!s->serials)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (serials[i])
			s->serials[s->n_serials++] = serials[i];
		else
			s->unnumbered++;
	}
	qsort(s->serials, s->n_serials, sizeof(*s->serials), cmp_u64);
	return 0;
}

/*
 * Since when each task described is known to exist: the start of the latest
 * earlier read whose registry was wholly read and held no number as high as
 * its own. Registries hold a task from its creation on, so it came after.
 */
static void date_tasks(const struct task_sampler *ts, struct task_snapshot *s)
{
	struct snapshot_task *t;
	size_t i, k;

	for (i = 0; i < s->n_tasks; i++) {
		t = &s->tasks[i];
		for (k = 0; t->serial && k < ts->n_marks; k++) {
			if (ts->marks[k].complete && t->serial > ts->marks[k].highest) {
				t->born_after_ns = ts->marks[k].started_ns;
				break;
			}
		}
	}
}

/*
 * A task's number only where its two reads agree (the registry's, then its
 * description's): a task that moves on under the read may show the bytes of
 * another object for its name.
 */
static void check_serials(struct task_snapshot *s, const uint64_t *addrs, const uint64_t *serials,
			  size_t n)
{
	const uint64_t *at;
	size_t i;

	for (i = 0; i < s->n_tasks; i++) {
		at = n ? bsearch(&s->tasks[i].addr, addrs, n, sizeof(*addrs), cmp_u64) : NULL;
		if (!at || serials[at - addrs] != s->tasks[i].serial)
			s->tasks[i].serial = 0;
	}
}

static void push_mark(struct task_sampler *ts, uint64_t started_ns, uint64_t highest,
		      bool complete)
{
	ts->marks[1] = ts->marks[0];
	ts->marks[0] = (struct read_mark){ .started_ns = started_ns, .highest = highest,
					   .complete = complete };
	if (ts->n_marks < 2)
		ts->n_marks++;
}

void task_sampler_follow(struct task_sampler *ts, const struct task_snapshot *s)
{
	uint64_t highest = 0;
	size_t i;

	for (i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].serial > highest)
			highest = s->tasks[i].serial;
	push_mark(ts, s->started_ns, highest, !s->unreadable && !s->left_out);
}

/*
 * The tasks of the registry the sampler does not know yet, or asked to read
 * again; with them, the known tasks awaiting them. A task caught in a gather()
 * still being built needs the task running its loop: then every task is read.
 */
static int describe_changes(struct task_sampler *ts, struct task_snapshot *s,
			    const uint64_t *addrs, size_t n)
{
	struct identity *ids = malloc((n + 1) * sizeof(*ids));
	const struct known_task **match = malloc((n + 1) * sizeof(*match));
	uint64_t *fresh = malloc((n + 1) * sizeof(*fresh));
	uint64_t *serials = malloc((n + 1) * sizeof(*serials));
	size_t i, n_fresh = 0, unread;
	int err = -ENOMEM;

	if (!ids || !match || !fresh || !serials ||
	    read_identities(&ts->rd, addrs, n, ids, serials, &unread) ||
	    note_serials(s, serials, n))
		goto out;
	match_known(ts, addrs, ids, n, match);
	for (i = 0; i < n; i++)
		if (!match[i])
			fresh[n_fresh++] = addrs[i];
	ts->rd.gather_being_built = false;
	err = n_fresh ? describe_tasks(&ts->rd, s, fresh, n_fresh) : 0;
	if (!err && ts->rd.gather_being_built) {
		free(s->tasks);
		s->tasks = NULL;
		s->n_tasks = s->changed = 0;
		err = describe_tasks(&ts->rd, s, addrs, n);
	} else if (!err && s->n_tasks) {
		err = describe_parents(&ts->rd, s, addrs, n);
	}
	if (!err)
		err = remember_tasks(ts, s, addrs, match, n);
	if (!err) {
		check_serials(s, addrs, serials, n);
		date_tasks(ts, s);
		push_mark(ts, s->started_ns, s->n_serials ? s->serials[s->n_serials - 1] : 0,
			  !unread && !s->left_out);
	}
out:
	free(ids), free(match), free(fresh), free(serials);
	return err;
}

struct task_sampler *task_sampler_new(const struct python_target *py)
{
	struct task_sampler *ts = calloc(1, sizeof(*ts));

	if (ts)
		reader_init(&ts->rd, py);
	return ts;
}

int task_sampler_read(struct task_sampler *ts, const struct python_target *py,
		      struct task_snapshot *s, char *problem, size_t size)
{
	uint64_t start = monotonic_ns(), *addrs = NULL;
	size_t n = 0;
	int err;

	snapshot_start(py, s);
	/* caches that filled up start over: a read is refused nothing for long */
	if (ts->rd.py.cache_full) {
		reader_release(&ts->rd);
		reader_init(&ts->rd, py);
	}
	/* a callback's address may hold another object by now */
	tdestroy(ts->rd.parents, free);
	ts->rd.parents = NULL;
	err = registry_tasks(&ts->rd, py, s, &addrs, &n, problem, size);
	if (!err)
		err = describe_changes(ts, s, addrs, n);
	free(addrs);
	s->cache_full = ts->rd.py.cache_full;
	s->read_ns = monotonic_ns() - start;
	return err;
}

void task_sampler_read_again(struct task_sampler *ts, uint64_t addr)
{
	struct known_task *k = known_at(ts, addr);

	if (k)
		k->again = true;
}

void task_sampler_free(struct task_sampler *ts)
{
	if (!ts)
		return;
	reader_release(&ts->rd);
	free(ts->known);
	free(ts);
}

const struct snapshot_task *task_snapshot_find(const struct task_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n_tasks, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (s->tasks[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_tasks && s->tasks[lo].addr == addr ? &s->tasks[lo] : NULL;
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
