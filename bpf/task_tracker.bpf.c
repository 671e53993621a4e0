// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * asyncio task tracking in traced CPython processes.
 *
 * Two uprobes per task, no per-step probe (each hit traps: see make bench's
 * per-hit figures): _asyncio's Task tp_init, where the
 * creator's Python stack is still on the thread, and TaskObj_dealloc. Whether
 * a live task is done is read by userspace from the target's memory. With
 * --lean, one: tp_init, and a probe on the finalizer's path for a task
 * destroyed while pending, which other tasks never take.
 *
 * Which task created a task, or opened a connection, is the one driving the
 * coroutine frames on the thread's Python stack: the walk reports the
 * outermost coroutine of the innermost run of generator-owned frames (a
 * task's coroutine and the coroutines it awaits stack up contiguously), and
 * userspace, which knows every task's coroutine, names the task. No map is
 * kept per task here: map updates cost more than the rest of a hit.
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

/* shared with proc_exit.bpf.c, which deletes a target at its exit: keep both alike */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, struct py_layout);
} py_procs SEC(".maps");

/*
 * The same layouts by slot, for the task uprobes: a link placed for one
 * target carries its slot as its cookie, and an array lookup costs next to
 * nothing where hashing the PID costs a tenth of on_task_dealloc. A slot's
 * probe_cookie says which links' hits count for its target (see
 * probed_layout); proc_exit.bpf.c, sharing this map, sets it to PROBES_NONE
 * as it drops the target from py_procs (at an exec or the exit).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct py_layout);
} py_layouts SEC(".maps");

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

/* A frame's bytes (or a thread state's), read at once: one probe read, not one per field. */
struct frame_bytes {
	__u8 b[PY_FRAME_READ_MAX];
};

/*
 * Bytes of a thread's frame stack read at once, ending with the innermost
 * frame: from 3.11 on, a function's frame is pushed right above its caller's
 * in the thread's data stack, so one read usually holds several frames.
 */
#define STACK_WINDOW 2048

/* What a stack walk reads into and records, per CPU: too big for the BPF stack. */
struct walk_scratch {
	struct py_frame frames[TASK_MAX_FRAMES];
	__u8 window[STACK_WINDOW];
	/* right after the window, so a frame parsed in place never reads past the map value */
	struct frame_bytes f;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_scratch);
} walk_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	/*
	 * ~176 bytes a task (creation and dealloc): 8 MiB hold half a second of
	 * 100k tasks/s, drained every 100 ms. The consumer maps the data twice
	 * (for wrap-around), so this costs inflight twice its size in RSS.
	 */
	__uint(max_entries, 8 << 20);
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
 * The layout of the target a task uprobe's hit counts for, by the link's
 * attach cookie (see task_tracker.c). A link placed for one target alone
 * carries the target's slot: the kernel has filtered the hit by the target's
 * PID already, so the slot is all there is to look up (its pid is checked
 * only because a slot given back may be another target's by now). A link
 * placed for every process that maps the file carries PROBES_SHARED: the
 * PID's py_procs entry says which slot, and an untraced process returns
 * there. Either way the hit counts only if the slot's probe_cookie is the
 * link's: one word, so a target moving from its own links to shared ones
 * counts each hit through exactly one, and proc_exit.bpf.c sets it to
 * PROBES_NONE at an exec or the exit, before any hit can read the new
 * program's memory with the old program's layout.
 */
static __always_inline const struct py_layout *probed_layout(void *ctx, __u32 *pid)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	const struct py_layout *l;
	__u32 slot = cookie;

	if (!ready)
		return NULL;
	*pid = bpf_get_current_pid_tgid() >> 32;
	if (cookie == PROBES_SHARED) {
		l = bpf_map_lookup_elem(&py_procs, pid);
		if (!l)
			return NULL;
		slot = l->slot;
	}
	l = bpf_map_lookup_elem(&py_layouts, &slot);
	if (!l || l->probe_cookie != cookie || l->pid != *pid)
		return NULL;
	return l;
}

static __always_inline __u64 field_u64(const struct frame_bytes *f, __u64 off)
{
	if (off > PY_FRAME_READ_MAX - 8)
		return 0;
	return *(const __u64 *)&f->b[off];
}

static __always_inline __u8 field_u8(const struct frame_bytes *f, __u64 off)
{
	if (off > PY_FRAME_READ_MAX - 1)
		return 0;
	return f->b[off];
}

/*
 * Reads tstate's thread id and frame pointer in one probe read; true if the
 * thread id is ours (a pthread_t, which glibc and musl make the thread
 * pointer, fs_base on x86-64: unlike the GIL holder, this also holds inside
 * a syscall that released the GIL).
 */
static __always_inline bool read_thread_state(const struct py_layout *l, struct frame_bytes *f,
					      __u64 tstate, __u64 fsbase, __u64 *frame)
{
	/* in 64 bits throughout: the verifier must see the bounds checked on what is used */
	__u64 id_off = l->tstate_thread_id, frame_off = l->tstate_frame;
	__u64 lo = id_off < frame_off ? id_off : frame_off;
	__u64 size = (id_off < frame_off ? frame_off : id_off) + 8 - lo;

	if (size > PY_FRAME_READ_MAX || bpf_probe_read_user(f->b, size, (void *)(tstate + lo)))
		return false;
	if (field_u64(f, id_off - lo) != fsbase)
		return false;
	*frame = field_u64(f, frame_off - lo);
	return true;
}

/*
 * The frame (or 3.11/3.12 cframe) pointer of the current thread's
 * PyThreadState, which is looked for in the interpreter's thread list when
 * the cached one is not ours; false if none is.
 */
static __noinline bool current_thread_frame(const struct py_layout *l, struct frame_bytes *f,
						 __u64 *frame)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);
	__u64 id = bpf_get_current_pid_tgid(), interp, tstate, *known;
	int i;

	known = bpf_map_lookup_elem(&thread_states, &id);
	if (known && read_thread_state(l, f, *known, fsbase, frame))
		return true;
	interp = read_ptr(l->runtime_addr + l->runtime_interp_head);
	tstate = interp ? read_ptr(interp + l->interp_threads_head) : 0;
	for (i = 0; i < PY_MAX_THREADS && tstate; i++) {
		if (read_ptr(tstate + l->tstate_thread_id) == fsbase) {
			bpf_map_update_elem(&thread_states, &id, &tstate, BPF_ANY);
			return read_thread_state(l, f, tstate, fsbase, frame);
		}
		tstate = read_ptr(tstate + l->tstate_next);
	}
	return false;
}

/* The coroutine a frame belongs to, or 0. */
static __always_inline __u64 frame_coroutine(const struct py_layout *l, const struct frame_bytes *f,
					     __u64 frame)
{
	if (l->frame_kind == PY_FRAMES_LEGACY)
		return field_u64(f, l->frame_gen);
	return field_u8(f, l->frame_owner) == l->owned_by_generator ? frame - l->coro_iframe : 0;
}

static __always_inline bool is_shim_frame(const struct py_layout *l, const struct frame_bytes *f)
{
	return l->frame_kind != PY_FRAMES_LEGACY &&
	       field_u8(f, l->frame_owner) >= l->first_shim_owner;
}

/* f_lasti, an int, on 3.9 and 3.10; the instruction pointer after */
static __always_inline __u64 frame_position(const struct py_layout *l, const struct frame_bytes *f)
{
	__u64 v = field_u64(f, l->frame_pos);

	return l->frame_kind == PY_FRAMES_LEGACY ? (__u64)(__s64)(__s32)v : v;
}

struct walk {
	const struct py_layout *l;
	struct walk_scratch *s;
	__u64 frame;		/* the next frame to read */
	__u64 window_start;	/* the address window[0] was read from, 0 if not read */
	__u64 outermost;	/* the outermost coroutine of the run so far */
	__u32 n;		/* frames recorded */
};

/* The next frame's bytes: in the window if it holds them, else read into f; NULL if unreadable. */
static __always_inline const struct frame_bytes *next_frame(struct walk *w, __u64 size)
{
	__u64 off = w->frame - w->window_start;

	if (w->window_start && w->frame >= w->window_start && size <= STACK_WINDOW &&
	    off <= STACK_WINDOW - size)
		return (const struct frame_bytes *)&w->s->window[off];
	if (bpf_probe_read_user(w->s->f.b, size, (void *)w->frame))
		return NULL;
	return &w->s->f;
}

/* One frame of walk_stack, as a bpf_loop callback: 1 stops the walk. */
static long walk_frame(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	const struct py_layout *l = w->l;
	const struct frame_bytes *f;
	__u32 size = l->frame_read_size, n = w->n;
	__u64 coro;

	if (size > PY_FRAME_READ_MAX)
		size = PY_FRAME_READ_MAX;
	if (!w->frame || !(f = next_frame(w, size)))
		return 1;
	if (!is_shim_frame(l, f)) {
		if (n < TASK_MAX_FRAMES) {
			w->s->frames[n].code = field_u64(f, l->frame_code) &
					       ~(__u64)l->code_tag_bits;
			w->s->frames[n].pos = frame_position(l, f);
			w->n = n + 1;
		}
		coro = frame_coroutine(l, f, w->frame);
		if (coro)
			w->outermost = coro;
		else if (w->outermost)
			return 1;	/* the run is over */
	}
	w->frame = field_u64(f, l->frame_back);
	return 0;
}

/* The window ending with the innermost frame (3.11+; older frames are objects on the heap). */
static __always_inline void read_window(struct walk *w)
{
	__u64 end = w->frame + w->l->frame_read_size;

	if (w->l->frame_kind == PY_FRAMES_LEGACY || end < STACK_WINDOW ||
	    bpf_probe_read_user(w->s->window, STACK_WINDOW, (void *)(end - STACK_WINDOW)))
		return;
	w->window_start = end - STACK_WINDOW;
}

/*
 * Walks the current thread's Python stack, innermost first, recording up to
 * TASK_MAX_FRAMES frames in the CPU's walk_scratch (*n_frames of them), to
 * the end of the innermost run of generator-owned frames. Returns that run's
 * outermost coroutine, which is the running task's own when the run is its
 * await chain; 0 if there was no run.
 */
static __noinline __u64 walk_stack(const struct py_layout *l, struct walk_scratch **scratch,
				   __u32 *n_frames)
{
	struct walk w = { .l = l };
	struct task_tracker_health *h;
	__u32 zero = 0;

	w.s = bpf_map_lookup_elem(&walk_scratch, &zero);
	if (!w.s)
		return 0;
	if (!current_thread_frame(l, &w.s->f, &w.frame)) {
		h = health();
		if (h)
			h->no_thread_state++;
		return 0;
	}
	if (l->frame_kind == PY_FRAMES_CFRAME)
		w.frame = read_ptr(w.frame + l->cframe_current_frame);
	read_window(&w);
	/* a callback is verified once, where an unrolled walk's states multiply */
	bpf_loop(TASK_MAX_FRAMES, walk_frame, &w, 0);
	*scratch = w.s;
	*n_frames = w.n;
	return w.outermost;
}

static __always_inline void *reserve(__u32 type, __u32 size)
{
	struct task_tracker_health *h = health();

	return event_reserve(&task_events, h ? &h->ringbuf_drops : NULL, type, size);
}

/* int _asyncio_Task___init__(TaskObj *self, PyObject *args, PyObject *kwargs) */
SEC("uprobe")
int BPF_KPROBE(on_task_init, void *self, void *args)
{
	struct walk_scratch *walked = NULL;
	const struct py_layout *l;
	struct task_create_event *e;
	__u64 tuple[3] = {}, coro = 0, parent;
	__u32 pid, n = 0;

	l = probed_layout(ctx, &pid);
	if (!l)
		return 0;
	/*
	 * Task(coro, ...): a tuple, ob_size at 16 and ob_item at 24, or 32 from
	 * 3.14 (Include/cpython/tupleobject.h): one read holds both
	 */
	bpf_probe_read_user(tuple, sizeof(tuple), (void *)((__u64)args + 16));
	if (tuple[0] >= 1 && tuple[0] < 16)
		coro = l->tuple_items == 32 ? tuple[2] : tuple[1];
	parent = walk_stack(l, &walked, &n);	/* n stays 0 if it could not walk */
	/* most creations are a few frames from their creator's coroutine: a smaller event */
	if (n <= TASK_FEW_FRAMES)
		e = reserve(EVENT_TASK_CREATE, TASK_CREATE_EVENT_SIZE(TASK_FEW_FRAMES));
	else
		e = reserve(EVENT_TASK_CREATE, sizeof(*e));
	if (!e)
		return 0;
	e->task = (__u64)self;
	e->coro = coro;
	e->qualname = coro ? read_ptr(coro + l->coro_qualname) : 0;
	e->pid = pid;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->parent_coro = parent;
	e->n_frames = n;
	if (walked && n <= TASK_FEW_FRAMES)
		__builtin_memcpy(e->frames, walked->frames, TASK_FEW_FRAMES * sizeof(e->frames[0]));
	else if (walked)
		__builtin_memcpy(e->frames, walked->frames, sizeof(e->frames));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* A task object's end, with its fut_state then (-1 if unread): what both end probes send. */
static __always_inline void send_task_end(void *task, __u32 pid, __s32 state)
{
	struct task_dealloc_event *e = reserve(EVENT_TASK_DEALLOC, sizeof(*e));

	if (!e)
		return;
	e->task = (__u64)task;
	e->pid = pid;
	e->state = state;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* void TaskObj_dealloc(PyObject *self) */
SEC("uprobe")
int BPF_KPROBE(on_task_dealloc, void *self)
{
	const struct py_layout *l;
	__s32 state = -1;
	__u32 pid;

	l = probed_layout(ctx, &pid);
	if (!l)
		return 0;
	bpf_probe_read_user(&state, sizeof(state), (void *)((__u64)self + l->task_state));
	send_task_end(self, pid, state);
	return 0;
}

/* The code and position of a coroutine's own frame: embedded in it from 3.11 on. */
static __always_inline void coroutine_frame(const struct py_layout *l, __u64 coro,
					    struct py_frame *out)
{
	struct walk_scratch *s;
	__u32 zero = 0, size = l->frame_read_size;
	__u64 frame = l->frame_kind == PY_FRAMES_LEGACY ? read_ptr(coro + l->coro_frame) :
			coro + l->coro_iframe;

	s = bpf_map_lookup_elem(&walk_scratch, &zero);
	if (!s || !frame || size > PY_FRAME_READ_MAX ||
	    bpf_probe_read_user(s->f.b, size, (void *)frame))
		return;
	out->code = field_u64(&s->f, l->frame_code) & ~(__u64)l->code_tag_bits;
	out->pos = frame_position(l, &s->f);
}

/*
 * --lean's and --sampled's only probe on a task's end: the first
 * instruction of the path TaskObj_finalize takes for a task still pending
 * (see user/sys/x86_code.h, which also checks that rdi holds the task
 * there). It says which coroutine the task ran and where that was
 * suspended: a sampled trace may never have read the task.
 */
SEC("uprobe")
int BPF_KPROBE(on_task_destroyed_pending, void *self)
{
	const struct py_layout *l;
	struct task_pending_end_event *e;
	struct task_tracker_health *h;
	__u64 coro;
	__u32 pid;

	l = probed_layout(ctx, &pid);
	if (!l)
		return 0;
	h = health();
	e = event_reserve(&task_events, h ? &h->ringbuf_drops : NULL, EVENT_TASK_ENDED_PENDING,
			  sizeof(*e));
	if (!e)
		return 0;
	coro = read_ptr((__u64)self + l->task_coro);
	e->task = (__u64)self;
	e->coro = coro;
	e->qualname = coro ? read_ptr(coro + l->coro_qualname) : 0;
	e->frame.code = e->frame.pos = 0;
	if (coro)
		coroutine_frame(l, coro, &e->frame);
	e->pid = pid;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* connect() moves a socket out of CLOSE in the caller's context: whose task is it? */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_connect_state, const struct sock *sk, int oldstate, int newstate)
{
	const struct py_layout *l;
	struct walk_scratch *walked;
	struct conn_task_event *e;
	__u64 coro;
	__u32 pid, n;

	if (oldstate != TCP_CLOSE || newstate != TCP_SYN_SENT)
		return 0;
	l = traced_layout(&pid);
	if (!l)
		return 0;
	coro = walk_stack(l, &walked, &n);
	if (!coro)
		return 0;
	e = reserve(EVENT_CONN_TASK, sizeof(*e));
	if (!e)
		return 0;
	e->ino = sk->sk_socket->file->f_inode->i_ino;	/* typed pointers: plain loads */
	e->coro = coro;
	e->qualname = read_ptr(coro + l->coro_qualname);
	e->pid = pid;
	e->n_frames = n;
	__builtin_memcpy(e->frames, walked->frames, sizeof(e->frames));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
