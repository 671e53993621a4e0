/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Records shared by bpf/task_tracker.bpf.c and user/trackers/task_tracker.c: the
 * CPython layout the BPF side walks (per traced process, filled in by
 * user/cpython/cpython_bpf.c), and the task lifecycle events.
 */
#ifndef INFLIGHT_TASK_EVENTS_H
#define INFLIGHT_TASK_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "conn_events.h"

#define TASK_MAX_FRAMES 16
/* a creation with this many frames or fewer is sent without the rest of frames[] */
#define TASK_FEW_FRAMES 4
#define PY_MAX_THREADS 32

enum py_frame_kind {
	PY_FRAMES_LEGACY = 1,	/* 3.9, 3.10: PyFrameObject chain from tstate->frame */
	PY_FRAMES_CFRAME = 2,	/* 3.11, 3.12: tstate->cframe->current_frame, _PyInterpreterFrame */
	PY_FRAMES_DIRECT = 3,	/* 3.13+: tstate->current_frame, _PyInterpreterFrame */
};

/* Where to find things in one target's interpreter; offsets in bytes. */
struct py_layout {
	__u64 runtime_addr;		/* &_PyRuntime in the target */
	__u32 frame_kind;		/* enum py_frame_kind */
	__u32 runtime_interp_head;	/* _PyRuntime.interpreters.head */
	__u32 interp_threads_head;	/* PyInterpreterState.tstate_head / threads.head */
	__u32 tstate_next;
	__u32 tstate_thread_id;		/* pthread_t, which is fs_base on x86-64 */
	__u32 tstate_frame;		/* frame / cframe / current_frame */
	__u32 cframe_current_frame;	/* 3.11, 3.12 */
	__u32 frame_code;		/* f_code / f_executable */
	__u32 frame_back;		/* f_back / previous */
	__u32 frame_pos;		/* f_lasti (int) / prev_instr / instr_ptr */
	__u32 frame_owner;		/* _PyInterpreterFrame.owner (3.11+) */
	__u32 frame_gen;		/* PyFrameObject.f_gen (3.9, 3.10) */
	__u32 coro_iframe;		/* PyCoroObject.cr_iframe (3.11+) */
	__u32 coro_frame;		/* PyCoroObject.cr_frame (3.9, 3.10) */
	__u32 coro_qualname;
	__u32 task_coro;
	__u32 task_state;		/* fut_state: 0 pending, 1 cancelled, 2 finished */
	__u32 frame_read_size;		/* bytes of a frame that hold every frame field above */
	__u8 owned_by_generator;	/* frame_owner values: a coroutine's frame, */
	__u8 first_shim_owner;		/* and from here up, entry shims with no code (0xff: none) */
	__u8 code_tag_bits;		/* low bits of frame_code that are tags (3.14+ stack refs) */
	__u8 tuple_items;		/* PyTupleObject.ob_item: 24, 32 from 3.14 */
	__u32 slot;			/* this layout's index in py_layouts */
	__u32 pid;			/* the target's */
	/*
	 * in py_layouts, the attach cookie of the task uprobes whose hits count
	 * for the target: its slot while they are placed for it alone,
	 * PROBES_SHARED once it shares them, PROBES_NONE once its program is
	 * gone (see task_tracker.c)
	 */
	__u32 probe_cookie;
};

/* attach cookies beyond any slot: links placed for every process; a slot of no program */
#define PROBES_SHARED 0xfffffffeU
#define PROBES_NONE 0xffffffffU

/* the bytes of a frame, or of a thread state from its thread id to its frame pointer */
#define PY_FRAME_READ_MAX 192

struct py_frame {
	__u64 code;	/* PyCodeObject * */
	__u64 pos;	/* f_lasti (3.9, 3.10) or the instruction pointer (3.11+) */
};

enum task_event_type {
	EVENT_TASK_CREATE = 16,
	EVENT_TASK_DEALLOC = 17,
	EVENT_CONN_TASK = 18,	/* the coroutine that was running when a connection was opened */
	EVENT_TASK_ENDED_PENDING = 19,	/* the finalizer's pending path (--lean, --sampled) */
};

struct task_create_event {
	struct event_header hdr;
	__u64 task;
	__u64 coro;
	__u64 qualname;		/* the coroutine's __qualname__ (a str object) */
	__u64 parent_coro;	/* the creator's coroutine (see walk_stack), or 0 */
	__u32 pid;
	__u32 tid;
	__u32 n_frames;
	__u32 pad;
	struct py_frame frames[TASK_MAX_FRAMES];	/* innermost first; hdr.size says how
							   many the event holds */
};

#define TASK_CREATE_EVENT_SIZE(frames) (64 + 16 * (frames))

struct task_dealloc_event {
	struct event_header hdr;
	__u64 task;
	__u32 pid;
	__s32 state;		/* fut_state at destruction */
};

/* A task destroyed while pending, with what a sampled trace that never read it needs. */
struct task_pending_end_event {
	struct event_header hdr;
	__u64 task;
	__u64 coro;
	__u64 qualname;		/* the coroutine's __qualname__ (a str object), 0 if unread */
	struct py_frame frame;	/* the coroutine's own frame (3.11+), code 0 if unread */
	__u32 pid;
	__u32 pad;
};

struct conn_task_event {
	struct event_header hdr;
	__u64 ino;
	__u64 coro;	/* the coroutine running when it was opened (see walk_stack) */
	__u64 qualname;	/* that coroutine's __qualname__ (a str object) */
	__u32 pid;
	__u32 n_frames;
	/* the opener's frames, innermost first: its line when no task is known for coro */
	struct py_frame frames[TASK_MAX_FRAMES];
};

struct task_tracker_health {
	__u64 ringbuf_drops;
	__u64 no_thread_state;	/* the thread's PyThreadState was not found */
};

_Static_assert(sizeof(struct py_layout) == 96, "py_layout layout");
_Static_assert(sizeof(struct task_create_event) == TASK_CREATE_EVENT_SIZE(TASK_MAX_FRAMES) &&
	       __builtin_offsetof(struct task_create_event, frames) == TASK_CREATE_EVENT_SIZE(0),
	       "task_create_event layout");
_Static_assert(sizeof(struct task_dealloc_event) == 32, "task_dealloc_event layout");
_Static_assert(sizeof(struct task_pending_end_event) == 64, "task_pending_end_event layout");
_Static_assert(sizeof(struct conn_task_event) == 48 + 16 * TASK_MAX_FRAMES,
	       "conn_task_event layout");

#endif /* INFLIGHT_TASK_EVENTS_H */
