// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * asyncio task tracking in traced CPython processes.
 *
 * Two uprobes per task, no per-step probe (each hit traps, see
 * shared/research/probe-costs.md): _asyncio's Task tp_init, where the
 * creator's Python stack is still on the thread, and TaskObj_dealloc. Whether
 * a live task is done is read by userspace from the target's memory.
 *
 * A connection is attributed to the task whose coroutine is on the thread's
 * Python stack when connect() moves the socket out of CLOSE: the frame walk
 * looks each generator-owned frame's coroutine up in coro_tasks.
 *
 * Where things are in the interpreter comes from userspace per process
 * (struct py_layout), never from constants here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "task_events.h"
#include "event_ring.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

volatile bool ready;

struct obj_key {
	__u64 addr;
	__u32 pid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, struct py_layout);
} py_procs SEC(".maps");

/* task -> its coroutine, so dealloc can drop coro_tasks' entry */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);	/* resized by userspace before load */
	__type(key, struct obj_key);
	__type(value, __u64);
} task_coros SEC(".maps");

/* coroutine -> the task driving it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);	/* resized by userspace before load */
	__type(key, struct obj_key);
	__type(value, __u64);
} coro_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_tracker_health);
} task_health SEC(".maps");

/*
 * Thread (tgid << 32 | tid) -> its PyThreadState, as last found: the thread
 * list is newest first, so an event loop's thread sits behind every worker
 * thread started after it. Checked on use; a stale entry is found again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} thread_states SEC(".maps");

/* One frame's bytes, read at once: one probe read per frame instead of one per field. */
struct frame_bytes {
	__u8 b[PY_FRAME_READ_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct frame_bytes);
} frame_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* 100k+ events/s drained every 100 ms, with room to spare */
} task_events SEC(".maps");

static __always_inline struct task_tracker_health *health(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&task_health, &zero);
}

static __always_inline __u64 read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (addr)
		bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline const struct py_layout *traced_layout(__u32 *pid)
{
	if (!ready)
		return NULL;
	*pid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&py_procs, pid);
}

/*
 * The PyThreadState of the current thread: the one whose thread_id (a
 * pthread_t, which glibc and musl make the thread pointer, fs_base on x86-64)
 * is ours. Unlike the GIL holder, this also works inside a syscall that
 * released the GIL.
 */
static __always_inline __u64 current_thread_state(const struct py_layout *l)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);
	__u64 id = bpf_get_current_pid_tgid(), interp, tstate, *known;
	int i;

	known = bpf_map_lookup_elem(&thread_states, &id);
	if (known && read_ptr(*known + l->tstate_thread_id) == fsbase)
		return *known;
	interp = read_ptr(l->runtime_addr + l->runtime_interp_head);
	tstate = interp ? read_ptr(interp + l->interp_threads_head) : 0;
	for (i = 0; i < PY_MAX_THREADS && tstate; i++) {
		if (read_ptr(tstate + l->tstate_thread_id) == fsbase) {
			bpf_map_update_elem(&thread_states, &id, &tstate, BPF_ANY);
			return tstate;
		}
		tstate = read_ptr(tstate + l->tstate_next);
	}
	return 0;
}

static __always_inline __u64 innermost_frame(const struct py_layout *l, __u64 tstate)
{
	__u64 frame = read_ptr(tstate + l->tstate_frame);

	if (l->frame_kind == PY_FRAMES_CFRAME)
		frame = read_ptr(frame + l->cframe_current_frame);
	return frame;
}

static __always_inline __u64 field_u64(const struct frame_bytes *f, __u32 off)
{
	if (off > PY_FRAME_READ_MAX - 8)
		return 0;
	return *(const __u64 *)&f->b[off];
}

static __always_inline __u8 field_u8(const struct frame_bytes *f, __u32 off)
{
	if (off > PY_FRAME_READ_MAX - 1)
		return 0;
	return f->b[off];
}

/* The coroutine a frame belongs to, or 0. */
static __always_inline __u64 frame_coroutine(const struct py_layout *l, const struct frame_bytes *f,
					     __u64 frame)
{
	if (l->frame_kind == PY_FRAMES_LEGACY)
		return field_u64(f, l->frame_gen);
	return field_u8(f, l->frame_owner) == PY_FRAME_OWNED_BY_GENERATOR ? frame - l->coro_iframe : 0;
}

static __always_inline bool is_shim_frame(const struct py_layout *l, const struct frame_bytes *f)
{
	return l->frame_kind != PY_FRAMES_LEGACY &&
	       field_u8(f, l->frame_owner) == PY_FRAME_OWNED_BY_CSTACK;
}

/* f_lasti, an int, on 3.9 and 3.10; the instruction pointer after */
static __always_inline __u64 frame_position(const struct py_layout *l, const struct frame_bytes *f)
{
	__u64 v = field_u64(f, l->frame_pos);

	return l->frame_kind == PY_FRAMES_LEGACY ? (__u64)(__s64)(__s32)v : v;
}

/*
 * Walks the current thread's Python stack, innermost first, recording up to
 * TASK_MAX_FRAMES frames in out (if not NULL), until a frame whose coroutine
 * a known task drives: that task is returned (0 if none).
 */
static __noinline __u64 walk_stack(const struct py_layout *l, __u32 pid, struct py_frame *out,
				   __u32 *n_out)
{
	struct obj_key key = { .pid = pid };
	struct task_tracker_health *h;
	__u64 tstate, frame, *task;
	struct frame_bytes *f;
	__u32 n = 0, zero = 0, size;
	int i;

	f = bpf_map_lookup_elem(&frame_scratch, &zero);
	if (!f)
		return 0;
	size = l->frame_read_size;
	if (size > PY_FRAME_READ_MAX)
		size = PY_FRAME_READ_MAX;
	tstate = current_thread_state(l);
	if (!tstate) {
		h = health();
		if (h)
			h->no_thread_state++;
		return 0;
	}
	frame = innermost_frame(l, tstate);
	for (i = 0; i < TASK_MAX_FRAMES && frame; i++) {
		if (bpf_probe_read_user(f->b, size, (void *)frame))
			break;
		if (!is_shim_frame(l, f)) {
			if (out && n < TASK_MAX_FRAMES) {
				out[n].code = field_u64(f, l->frame_code);
				out[n].pos = frame_position(l, f);
				n++;
			}
			key.addr = frame_coroutine(l, f, frame);
			task = key.addr ? bpf_map_lookup_elem(&coro_tasks, &key) : NULL;
			if (task) {
				if (n_out)
					*n_out = n;
				return *task;
			}
		}
		frame = field_u64(f, l->frame_back);
	}
	if (n_out)
		*n_out = n;
	return 0;
}

static __always_inline void *reserve(__u32 type, __u32 size)
{
	struct task_tracker_health *h = health();

	return event_reserve(&task_events, h ? &h->ringbuf_drops : NULL, type, size);
}

static __always_inline void remember_task(__u32 pid, __u64 task, __u64 coro)
{
	struct obj_key task_key = { .addr = task, .pid = pid };
	struct obj_key coro_key = { .addr = coro, .pid = pid };
	struct task_tracker_health *h;

	if (bpf_map_update_elem(&task_coros, &task_key, &coro, BPF_ANY) ||
	    bpf_map_update_elem(&coro_tasks, &coro_key, &task, BPF_ANY)) {
		bpf_map_delete_elem(&task_coros, &task_key);
		h = health();
		if (h)
			h->table_full++;
	}
}

/* int _asyncio_Task___init__(TaskObj *self, PyObject *args, PyObject *kwargs) */
SEC("uprobe")
int BPF_KPROBE(on_task_init, void *self, void *args)
{
	const struct py_layout *l;
	struct task_create_event *e;
	__u64 coro = 0, nargs;
	__u32 pid, n = 0;

	l = traced_layout(&pid);
	if (!l)
		return 0;
	/* Task(coro, ...): a tuple, ob_size at 16, ob_item at 24 (Include/cpython/tupleobject.h) */
	nargs = read_ptr((__u64)args + 16);
	if (nargs >= 1 && nargs < 16)
		coro = read_ptr((__u64)args + 24);
	e = reserve(EVENT_TASK_CREATE, sizeof(*e));
	if (!e)
		return 0;
	e->task = (__u64)self;
	e->coro = coro;
	e->qualname = coro ? read_ptr(coro + l->coro_qualname) : 0;
	e->pid = pid;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->parent_task = walk_stack(l, pid, e->frames, &n);
	e->n_frames = n;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	if (coro)
		remember_task(pid, (__u64)self, coro);
	return 0;
}

/* void TaskObj_dealloc(PyObject *self) */
SEC("uprobe")
int BPF_KPROBE(on_task_dealloc, void *self)
{
	struct obj_key task_key = { .addr = (__u64)self };
	struct obj_key coro_key = {};
	struct task_dealloc_event *e;
	const struct py_layout *l;
	__s32 state = -1;
	__u64 *coro;
	__u32 pid;

	l = traced_layout(&pid);
	if (!l)
		return 0;
	task_key.pid = coro_key.pid = pid;
	coro = bpf_map_lookup_elem(&task_coros, &task_key);
	if (coro) {
		coro_key.addr = *coro;
		bpf_map_delete_elem(&coro_tasks, &coro_key);
		bpf_map_delete_elem(&task_coros, &task_key);
	}
	bpf_probe_read_user(&state, sizeof(state), (void *)((__u64)self + l->task_state));
	e = reserve(EVENT_TASK_DEALLOC, sizeof(*e));
	if (!e)
		return 0;
	e->task = (__u64)self;
	e->pid = pid;
	e->state = state;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* connect() moves a socket out of CLOSE in the caller's context: whose task is it? */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_connect_state, const struct sock *sk, int oldstate, int newstate)
{
	const struct py_layout *l;
	struct conn_task_event *e;
	__u64 task;
	__u32 pid;

	if (oldstate != TCP_CLOSE || newstate != TCP_SYN_SENT)
		return 0;
	l = traced_layout(&pid);
	if (!l)
		return 0;
	task = walk_stack(l, pid, NULL, NULL);
	if (!task)
		return 0;
	e = reserve(EVENT_CONN_TASK, sizeof(*e));
	if (!e)
		return 0;
	e->ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	e->task = task;
	e->pid = pid;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
