// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "cpython_bpf.h"
#include "creation_site.h"
#include "host_checks.h"
#include "log.h"
#include "proc_net.h"
#include "proc_stat.h"
#include "process_pause.h"
#include "py_objects.h"
#include "python_target.h"
#include "python_version.h"
#include "task_events.h"
#include "task_adoption.h"
#include "task_refresh.h"
#include "task_snapshot.h"
#include "task_tracker.h"
#include "task_tracker.skel.h"

#define HOOK_NAME "asyncio_tasks"

enum target_status {
	TASKS_WAITING_FOR_ASYNCIO,
	TASKS_ATTACHED,
	TASKS_UNAVAILABLE,
	TASKS_GONE,	/* exited: its PID may be another process's by now */
};

struct probe_links {
	struct bpf_link *init, *dealloc;
	/* --lean, where the finalizer's pending path was found: task ends are read from memory */
	struct bpf_link *pending;
};

/*
 * The uprobes on one file that holds _asyncio's code, known by device, inode
 * and offsets, not by a path (a container names it otherwise): a uprobe is
 * placed on a file, not on a process. While one target maps the file they
 * are placed for that process alone, the target's slot in py_layouts their
 * attach cookie, so that a hit finds its layout without hashing the PID;
 * from the second on, once for every process (pid -1, cookie PROBES_SHARED),
 * and the programs drop the hits of processes not in py_procs. Both ways
 * cost: a probe per process costs an attach and a detach (the detach about
 * 0.15 s in the kernel) per process, which a fleet of one
 * build would pay hundreds of times over; a pid -1 probe traps in every
 * process that maps the file, traced or not (a trap, 1-1.8 us, then the
 * early return), which a lone target's untraced neighbours are spared.
 * Shared probes stay shared until their last target goes: going back to one
 * process would cost that detach again.
 */
struct probed_file {
	struct probed_file *next;
	dev_t dev;
	uint64_t ino, init_offset, dealloc_offset, pending_offset;
	pid_t owner;		/* the target they are placed for alone, 0 once shared */
	size_t users;		/* the targets hooked by them */
	struct probe_links links;
	/* the first target's own, detached off the poll loop once shared (see retire_links) */
	struct probe_links retired;
	pthread_t retirer;
	bool retiring;
};

struct task_target {
	pid_t pid;
	int pidfd;	/* the session's, not ours: readable once the process has exited */
	enum target_status status;
	struct python_target py;
	struct py_reader reader;
	struct probed_file *probes;	/* NULL while not attached */
	int slot;	/* where its layout is in py_layouts, and its own links' cookie; -1: none */
	/* attached on a late import: its tasks are read once more at the next poll */
	bool read_again;
	struct task_sampler *sampler;	/* TRACE_MODE_SAMPLED: its reads, from the first on */
	uint64_t next_read_ns;		/* TRACE_MODE_SAMPLED: when its tasks are next due a read */
};

/* A connection whose opening task no read had shown yet, and where it was opened. */
struct held_conn {
	pid_t pid;
	uint64_t ino, coro;
	struct task_origin opened_at;	/* strings from the target's reader: they outlive this */
};

struct task_tracker {
	struct task_tracker_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *connect_link;
	struct model *model;
	struct task_target *targets;
	size_t n_targets;
	struct probed_file *files;	/* the files probed, each once */
	bool slot_used[INFLIGHT_MAX_TARGETS];	/* py_layouts' slots held by targets */
	int n_cpus;
	/*
	 * TRACE_MODE_LEAN: no dealloc probe where the finalizer's pending path can
	 * be probed; TRACE_MODE_SAMPLED: no Task init probe either, tasks are read
	 * from memory at each poll
	 */
	enum trace_mode mode;
	/* connections whose opener's coroutine no read had shown yet (TRACE_MODE_SAMPLED) */
	struct held_conn *unresolved;
	size_t n_unresolved;
	size_t read_cursor;	/* TRACE_MODE_SAMPLED: the target whose turn to be read is next */
	/* the tasks not yet seen done, gathered for reading their states */
	struct pending_task *pending;
	size_t n_pending, cap_pending;
};

/* how long one poll reads targets' tasks at most (TRACE_MODE_SAMPLED) */
#define READ_BUDGET_NS (50 * NSEC_PER_MSEC)

/* connects by tasks created since the last read, held until the next: more are counted lost */
#define MAX_UNRESOLVED 4096

int task_tracker_load(struct task_tracker **out, struct model *m, enum trace_mode mode)
{
	struct task_tracker *tt;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = host_btf_custom_path());
	int err;

	tt = calloc(1, sizeof(*tt));
	if (!tt)
		return -ENOMEM;
	tt->model = m;
	tt->mode = mode;
	if (mode == TRACE_MODE_SAMPLED &&
	    !(tt->unresolved = calloc(MAX_UNRESOLVED, sizeof(*tt->unresolved)))) {
		err = -ENOMEM;
		goto fail;
	}
	tt->n_cpus = libbpf_num_possible_cpus();
	tt->skel = task_tracker_bpf__open_opts(&open_opts);
	if (!tt->skel) {
		err = -errno;
		goto fail;
	}
	/* dealloc's program stays: a build whose pending path is not found needs it */
	bpf_program__set_autoload(tt->skel->progs.on_task_destroyed_pending,
				  mode != TRACE_MODE_PROBES);
	bpf_program__set_autoload(tt->skel->progs.on_task_init, mode != TRACE_MODE_SAMPLED);
	err = task_tracker_bpf__load(tt->skel);
	if (err)
		goto fail;
	*out = tt;
	return 0;
fail:
	log_error("failed to load the task tracker's BPF programs: %s (run with -vv for the "
		  "verifier's log); connections are still traced", strerror(-err));
	task_tracker_destroy(tt);
	return err;
}

static struct task_target *target_of(struct task_tracker *tt, pid_t pid)
{
	size_t i;

	for (i = 0; i < tt->n_targets; i++)
		if (tt->targets[i].pid == pid)
			return &tt->targets[i];
	return NULL;
}

/* Whether the process the target was opened as has exited: its PID may name another by now. */
static bool has_exited(const struct task_target *t)
{
	struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };

	return t->status == TASKS_GONE || (t->pidfd >= 0 && poll(&pfd, 1, 0) == 1);
}

/*
 * After a read of its memory failed: whether that is because the process is
 * exiting (its memory goes before its pidfd says it is gone) or has exited.
 */
static bool is_going(const struct task_target *t)
{
	struct proc_stat st;
	int err;

	if (has_exited(t))
		return true;
	err = proc_stat_read(t->pid, &st);
	return err == -ESRCH || (!err && proc_stat_exiting(&st));
}

static void drop_links(struct probe_links *l)
{
	bpf_link__destroy(l->init);
	bpf_link__destroy(l->dealloc);
	bpf_link__destroy(l->pending);
	memset(l, 0, sizeof(*l));
}

static void *drop_retired_links(void *arg)
{
	drop_links(arg);
	return NULL;
}

/*
 * Detaches f's superseded links in a thread of their own: each detach waits
 * about 0.15 s in the kernel, and the poll loop, held that long, would let a
 * churning target fill the task ring. Signals stay with the main thread.
 */
static void retire_links(struct probed_file *f)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	f->retiring = !pthread_create(&f->retirer, NULL, drop_retired_links, &f->retired);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!f->retiring)
		drop_links(&f->retired);
}

/* The last target hooked by f's probes has gone: they go too. */
static void drop_probed_file(struct task_tracker *tt, struct probed_file *f)
{
	struct probed_file **p;

	for (p = &tt->files; *p != f; p = &(*p)->next)
		;
	*p = f->next;
	if (f->retiring)
		pthread_join(f->retirer, NULL);
	drop_links(&f->links);
	free(f);
}

static void release_probes(struct task_tracker *tt, struct task_target *t)
{
	struct probed_file *f = t->probes;

	t->probes = NULL;
	if (f && --f->users == 0)
		drop_probed_file(tt, f);
}

/* Takes a free slot of py_layouts for t: 0, or -ENOSPC. */
static int take_slot(struct task_tracker *tt, struct task_target *t)
{
	int i;

	for (i = 0; i < INFLIGHT_MAX_TARGETS; i++) {
		if (!tt->slot_used[i]) {
			tt->slot_used[i] = true;
			t->slot = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Marks t's slot as of no program (no link's hits count through it) and gives it back. */
static void release_slot(struct task_tracker *tt, struct task_target *t)
{
	struct py_layout none = { .probe_cookie = PROBES_NONE };
	__u32 key = t->slot;

	if (t->slot < 0)
		return;
	bpf_map__update_elem(tt->skel->maps.py_layouts, &key, sizeof(key), &none, sizeof(none),
			     BPF_ANY);
	tt->slot_used[t->slot] = false;
	t->slot = -1;
}

static void detach_probes(struct task_tracker *tt, struct task_target *t)
{
	__u32 key = t->pid;

	bpf_map__delete_elem(tt->skel->maps.py_procs, &key, sizeof(key), 0);
	release_probes(tt, t);
	release_slot(tt, t);
	py_reader_free(&t->reader);
	task_sampler_free(t->sampler);
	t->sampler = NULL;
	t->read_again = false;
}

/* t's layout, for the programs to count hits through the probes whose cookie is cookie. */
static int write_layout(struct task_tracker *tt, const struct task_target *t, __u32 cookie,
			__u64 flags)
{
	struct py_layout layout;
	__u32 key = t->pid, slot = t->slot;

	cpython_bpf_layout(&t->py.layout, t->py.runtime_addr, &layout);
	layout.slot = slot;
	layout.pid = t->pid;
	layout.probe_cookie = cookie;
	/* py_procs first: the slot is written only while the kernel still holds the target */
	if (bpf_map__update_elem(tt->skel->maps.py_procs, &key, sizeof(key), &layout,
				 sizeof(layout), flags) ||
	    bpf_map__update_elem(tt->skel->maps.py_layouts, &slot, sizeof(slot), &layout,
				 sizeof(layout), BPF_ANY))
		return -errno;
	return 0;
}

/* A uprobe for pid alone, or for every process if pid is -1 (cookie: see probed_layout). */
static struct bpf_link *attach_uprobe(const struct bpf_program *prog, pid_t pid, __u32 cookie,
				      const char *path, uint64_t offset)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie);

	return bpf_program__attach_uprobe_opts(prog, pid, path, offset, &opts);
}

/*
 * The probes t's interpreter build needs, for pid (t's, or -1 for all): 0 or
 * -errno. Placed for t alone, their cookie is t's slot, for every process
 * PROBES_SHARED.
 */
static int place_links(struct task_tracker *tt, const struct task_target *t, pid_t pid,
		       struct probe_links *l)
{
	__u32 cookie = pid > 0 ? (__u32)t->slot : PROBES_SHARED;
	const char *path = t->py.asyncio_open;
	int err;

	memset(l, 0, sizeof(*l));
	if (tt->mode != TRACE_MODE_SAMPLED) {
		l->init = attach_uprobe(tt->skel->progs.on_task_init, pid, cookie, path,
					t->py.task_init_offset);
		if (!l->init)
			return -errno;
	}
	if (tt->mode != TRACE_MODE_PROBES && t->py.task_pending_offset) {
		l->pending = attach_uprobe(tt->skel->progs.on_task_destroyed_pending, pid, cookie,
					   path, t->py.task_pending_offset);
		if (l->pending)
			return 0;
	}
	/* memory alone cannot tell which tasks were destroyed pending: without that probe, dealloc's */
	l->dealloc = attach_uprobe(tt->skel->progs.on_task_dealloc, pid, cookie, path,
				   t->py.task_dealloc_offset);
	if (!l->dealloc) {
		err = -errno;
		drop_links(l);
		return err;
	}
	return 0;
}

static struct probed_file *probed_file_of(const struct task_tracker *tt,
					  const struct task_target *t)
{
	struct probed_file *f;

	for (f = tt->files; f; f = f->next)
		if (f->dev == t->py.asyncio_dev && f->ino == t->py.asyncio_ino &&
		    f->init_offset == t->py.task_init_offset &&
		    f->dealloc_offset == t->py.task_dealloc_offset &&
		    f->pending_offset == t->py.task_pending_offset)
			return f;
	return NULL;
}

/* The first target to map its file: probes for it alone. */
static int probe_new_file(struct task_tracker *tt, const struct task_target *t,
			  struct probed_file **out)
{
	struct probed_file *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	err = place_links(tt, t, t->pid, &f->links);
	if (err) {
		free(f);
		return err;
	}
	f->dev = t->py.asyncio_dev;
	f->ino = t->py.asyncio_ino;
	f->init_offset = t->py.task_init_offset;
	f->dealloc_offset = t->py.task_dealloc_offset;
	f->pending_offset = t->py.task_pending_offset;
	f->owner = t->pid;
	f->next = tt->files;
	tt->files = f;
	*out = f;
	return 0;
}

static void describe_hook(struct task_tracker *tt, struct task_target *t);

/*
 * A second target maps f's file: its probes are placed again for every
 * process, and the first target's hits move to them before its own probes
 * go, so that none is lost or counted twice: the programs count a hit
 * through the links whose cookie is in the target's slot, one word rewritten
 * at once (but for a hit under way while it is, which either may count).
 */
static int share_probes(struct task_tracker *tt, struct probed_file *f,
			const struct task_target *t)
{
	struct task_target *owner = target_of(tt, f->owner);
	struct probe_links shared;
	int err;

	err = place_links(tt, t, -1, &shared);
	if (err)
		return err;
	/* BPF_EXIST: the kernel dropped an owner that exited, which is not to come back */
	if (owner)
		write_layout(tt, owner, PROBES_SHARED, BPF_EXIST);
	f->retired = f->links;
	f->links = shared;
	retire_links(f);
	f->owner = 0;
	if (owner && owner->status == TASKS_ATTACHED)
		describe_hook(tt, owner);
	return 0;
}

static int attach_probes(struct task_tracker *tt, struct task_target *t)
{
	struct probed_file *f = probed_file_of(tt, t);
	__u32 key = t->pid;
	int err;

	err = take_slot(tt, t);
	if (!err)
		err = write_layout(tt, t, f ? PROBES_SHARED : (__u32)t->slot, BPF_ANY);
	if (!err && !f)
		err = probe_new_file(tt, t, &f);
	else if (!err && f->owner)
		err = share_probes(tt, f, t);
	if (err) {
		bpf_map__delete_elem(tt->skel->maps.py_procs, &key, sizeof(key), 0);
		release_slot(tt, t);
		return err;
	}
	f->users++;
	t->probes = f;
	return 0;
}

static const char *probes_description(const struct task_tracker *tt, const struct task_target *t)
{
	if (tt->mode == TRACE_MODE_SAMPLED && t->probes->links.pending)
		return "tasks read from memory at each poll (--sampled), a uprobe on the "
		       "finalizer's path for tasks destroyed pending";
	if (tt->mode == TRACE_MODE_SAMPLED)
		return "tasks read from memory at each poll (--sampled), a uprobe on Task dealloc "
		       "(this build's finalizer has no pending path that can be probed)";
	if (t->probes->links.pending)
		return "uprobes on Task init and on the finalizer's path for tasks destroyed pending, "
		       "task ends read from memory (--lean)";
	if (tt->mode == TRACE_MODE_LEAN)
		return "uprobes on Task init and dealloc (--lean, but this build's finalizer has no "
		       "pending path that can be probed)";
	return "uprobes on Task init and dealloc";
}

/* The asyncio_tasks hook of an attached target: what was probed, where, for whom. */
static void describe_hook(struct task_tracker *tt, struct task_target *t)
{
	struct proc_model *p = model_process(tt->model, t->pid);
	const struct probe_links *l = &t->probes->links;

	model_set_hook(p, HOOK_NAME, true, "CPython %s; %s in %s (found by %s), %s",
		       t->py.layout.version, probes_description(tt, t), t->py.asyncio_file,
		       t->py.method, t->probes->owner ?
		       "placed for this process alone (the only traced process of this file)" :
		       "shared by the traced processes of this file (placed once for every process "
		       "that maps it, the PID filtered in the kernel)");
	if (l->init)
		model_hook_probe(p, HOOK_NAME, "Task init", t->py.task_init_offset,
				 t->py.task_init_insn);
	if (l->dealloc)
		model_hook_probe(p, HOOK_NAME, "Task dealloc", t->py.task_dealloc_offset,
				 t->py.task_dealloc_insn);
	if (l->pending)
		model_hook_probe(p, HOOK_NAME, "Task finalizer, pending path",
				 t->py.task_pending_offset, t->py.task_pending_insn);
}

/* Looks at the target's interpreter (again) and attaches when it can. */
static void discover(struct task_tracker *tt, struct task_target *t)
{
	struct proc_model *p = model_process(tt->model, t->pid);
	int err;

	err = python_target_discover(t->pid, &t->py);
	/* a process mid-exit has no maps left: "not a CPython" would be a wrong reason */
	if (err && is_going(t)) {
		t->status = TASKS_GONE;
		model_set_hook(p, HOOK_NAME, false, "the process exited while its interpreter was read");
		return;
	}
	if (err == -EAGAIN) {
		t->status = TASKS_WAITING_FOR_ASYNCIO;
		model_set_hook(p, HOOK_NAME, false, "waiting: %s", t->py.problem);
		return;
	}
	if (err) {
		t->status = TASKS_UNAVAILABLE;
		model_set_hook(p, HOOK_NAME, false, "%s", t->py.problem);
		log_info("PID %d: no task tracking: %s", t->pid, t->py.problem);
		return;
	}
	/* "3.10.13": where the binary says only "3.10", from sys.version (best effort) */
	python_version_complete(&t->py);
	snprintf(p->python, sizeof(p->python), "%s", t->py.version);
	py_reader_init(&t->reader, t->pid, &t->py.layout);
	err = attach_probes(tt, t);
	if (err) {
		t->status = TASKS_UNAVAILABLE;
		model_set_hook(p, HOOK_NAME, false, "failed to attach uprobes to %s: %s",
			       t->py.asyncio_file, strerror(-err));
		return;
	}
	/* what was read may be of a process that took the PID since: undo, leave its status */
	if (has_exited(t)) {
		detach_probes(tt, t);
		t->status = TASKS_GONE;
		return;
	}
	t->status = TASKS_ATTACHED;
	describe_hook(tt, t);
}

int task_tracker_add_process(struct task_tracker *tt, pid_t pid, int pidfd)
{
	struct task_target *grown, *t;

	grown = reallocarray(tt->targets, tt->n_targets + 1, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	tt->targets = grown;
	t = &tt->targets[tt->n_targets++];
	memset(t, 0, sizeof(*t));
	t->slot = -1;
	t->pid = pid;
	t->pidfd = pidfd;
	discover(tt, t);
	return 0;
}

void task_tracker_remove_process(struct task_tracker *tt, pid_t pid)
{
	struct task_target *t = tt ? target_of(tt, pid) : NULL;

	if (!t || t->status == TASKS_GONE)
		return;
	detach_probes(tt, t);
	t->status = TASKS_GONE;
}

/* Where the first frame outside asyncio of n (innermost first) is: file stays NULL if none. */
static void site_from_frames(struct task_tracker *tt, struct task_target *t,
			     const struct py_frame *raw, __u32 n, struct task_origin *origin)
{
	struct frame_ref frames[TASK_MAX_FRAMES];
	uint64_t cache_full = t->reader.cache_full;
	__u32 i;
	int at;

	n = n < TASK_MAX_FRAMES ? n : TASK_MAX_FRAMES;
	for (i = 0; i < n; i++) {
		frames[i].code = py_code(&t->reader, raw[i].code);
		frames[i].pos = raw[i].pos;
	}
	at = creation_site_frame(frames, n);
	if (at >= 0) {
		origin->file = frames[at].code->filename;
		origin->function = frames[at].code->name;
		origin->line = py_code_line(&t->reader, frames[at].code, frames[at].pos);
	}
	tt->model->code_cache_full += t->reader.cache_full - cache_full;
}

/* The task's creation site, from the creator's frames the event holds. */
static void handle_create(struct task_tracker *tt, const struct task_create_event *e, __u32 size)
{
	struct task_target *t = target_of(tt, e->pid);
	/* the frames the event holds: fewer than TASK_MAX_FRAMES in a short one */
	__u32 held = (size - TASK_CREATE_EVENT_SIZE(0)) / sizeof(e->frames[0]);
	struct task_origin origin = {};

	if (!t || t->status == TASKS_GONE)
		return;
	origin.coroutine = py_str(&t->reader, e->qualname);
	origin.tid = (pid_t)e->tid;
	origin.coro_addr = e->coro;
	site_from_frames(tt, t, e->frames, e->n_frames < held ? e->n_frames : held, &origin);
	model_task_created(tt->model, e->pid, e->task, &origin,
			   model_task_of_coroutine(tt->model, e->pid, e->parent_coro), e->hdr.ts_ns);
}

/*
 * A connection opened by a task no read has shown yet (one created since the
 * last): kept for the read after this poll's.
 */
static void hold_unresolved(struct task_tracker *tt, const struct conn_task_event *c)
{
	struct task_target *t = target_of(tt, c->pid);
	struct held_conn *h;

	if (tt->mode != TRACE_MODE_SAMPLED || !t || t->status != TASKS_ATTACHED)
		return;
	if (tt->n_unresolved == MAX_UNRESOLVED) {
		tt->model->conn_tasks_unresolved++;
		return;
	}
	h = &tt->unresolved[tt->n_unresolved++];
	memset(h, 0, sizeof(*h));
	h->pid = c->pid;
	h->ino = c->ino;
	h->coro = c->coro;
	h->opened_at.coroutine = py_str(&t->reader, c->qualname);
	h->opened_at.sampled = true;
	site_from_frames(tt, t, c->frames, c->n_frames, &h->opened_at);
}

static void attribute_conn(struct task_tracker *tt, const struct conn_task_event *c)
{
	uint64_t task = model_task_of_coroutine(tt->model, c->pid, c->coro);

	if (task)
		model_conn_task(tt->model, c->pid, c->ino, task);
	else
		hold_unresolved(tt, c);
}

/*
 * After a read of pid: the connections held for it go to their tasks; one
 * whose task it did not show either (the task ended first) goes to where it
 * was opened. Those of the other processes wait for their own reads.
 */
static void resolve_held_conns(struct task_tracker *tt, pid_t pid)
{
	const struct held_conn *h;
	uint64_t task;
	size_t i, kept = 0;

	for (i = 0; i < tt->n_unresolved; i++) {
		h = &tt->unresolved[i];
		if (h->pid != pid) {
			tt->unresolved[kept++] = *h;
			continue;
		}
		task = model_task_of_coroutine(tt->model, h->pid, h->coro);
		if (task) {
			model_conn_task(tt->model, h->pid, h->ino, task);
			continue;
		}
		tt->model->conn_tasks_unresolved++;
		model_conn_opened_at(tt->model, h->pid, h->ino, &h->opened_at);
	}
	tt->n_unresolved = kept;
}

/*
 * A task destroyed while pending. A sampled trace that never read it (it
 * lived less than a poll) counts it created there, at the await its
 * coroutine was suspended at.
 */
static void handle_ended_pending(struct task_tracker *tt, const struct task_pending_end_event *e)
{
	struct task_target *t = target_of(tt, e->pid);
	struct task_origin origin = { .sampled = true, .coro_addr = e->coro };
	const struct py_code *code;

	/* model_task_sampled leaves a task the model holds as it is */
	if (tt->mode == TRACE_MODE_SAMPLED && t && t->status == TASKS_ATTACHED) {
		origin.coroutine = py_str(&t->reader, e->qualname);
		if (e->frame.code)
			site_from_frames(tt, t, &e->frame, 1, &origin);
		/*
		 * at its 'def' line: never started, or (3.15) closed by the cyclic
		 * GC before its task, which leaves no await to name
		 */
		code = e->frame.code ? py_code(&t->reader, e->frame.code) : NULL;
		if (code && origin.line == code->firstlineno)
			origin.file = NULL;
		model_task_sampled(tt->model, e->pid, e->task, &origin, 0, e->hdr.ts_ns);
	}
	model_task_destroyed(tt->model, e->pid, e->task, 0, e->hdr.ts_ns);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct task_tracker *tt = ctx;
	const struct event_header *hdr = data;
	const struct task_dealloc_event *d = data;
	const struct conn_task_event *c = data;

	tt->model->task_events++;
	if (size < sizeof(*hdr) || hdr->size > size)
		return 0;
	switch (hdr->type) {
	case EVENT_TASK_CREATE:
		if (hdr->size >= TASK_CREATE_EVENT_SIZE(0))
			handle_create(tt, data, hdr->size);
		break;
	case EVENT_TASK_DEALLOC:
		if (hdr->size >= sizeof(*d))
			model_task_destroyed(tt->model, d->pid, d->task, d->state, hdr->ts_ns);
		break;
	case EVENT_TASK_ENDED_PENDING:
		if (hdr->size >= sizeof(struct task_pending_end_event))
			handle_ended_pending(tt, data);
		break;
	case EVENT_CONN_TASK:
		if (hdr->size >= sizeof(*c))
			attribute_conn(tt, c);
		break;
	}
	return 0;
}

/*
 * Held still when asked and ptrace allows: read while it runs, a process
 * that fans out moves its tasks on under the read, which then loses their
 * await chains, so their sockets.
 */
static int read_existing_tasks(const struct task_target *t, bool hold_still,
			       struct task_snapshot *s, char *problem, size_t size)
{
	struct process_pause pause;
	uint64_t start = monotonic_ns();
	bool paused = hold_still && !process_pause(t->pid, &pause);
	int err = task_snapshot_read(&t->py, s, problem, size);

	if (paused) {
		process_resume(&pause);
		s->paused_ns = monotonic_ns() - start;
	}
	return err;
}

/* The tasks pending before the probes went in, read from the target's memory. */
/* Reads the tasks from memory and adopts those the model does not know: 0 or -errno. */
static int read_and_adopt(struct task_tracker *tt, const struct task_target *t, bool hold_still,
			  struct task_snapshot *s, char *problem, size_t size)
{
	int err = read_existing_tasks(t, hold_still, s, problem, size);

	/* the tasks' create events still in the ring are older than this: see model_task_existing */
	if (!err)
		adopt_snapshot(tt->model, s, monotonic_ns());
	return err;
}

static void adopt_existing_tasks(struct task_tracker *tt, struct task_target *t, bool hold_still)
{
	struct proc_model *p = model_process(tt->model, t->pid);
	struct task_snapshot s;
	char problem[512];
	int err;

	err = read_and_adopt(tt, t, hold_still, &s, problem, sizeof(problem));

	/* the sampler's first read tells the tasks created since this one by their numbers */
	if (!err && tt->mode == TRACE_MODE_SAMPLED && !t->sampler)
		t->sampler = task_sampler_new(&t->py);
	if (!err && t->sampler)
		task_sampler_follow(t->sampler, &s);
	if (err)
		model_set_hook(p, "existing_tasks", false, "%s", is_going(t) ?
			       "the process exited while its tasks were read" : problem);
	else
		model_set_hook(p, "existing_tasks", true,
			       "%llu tasks pending at attach, read from the %s in %.0f ms%s%s",
			       (unsigned long long)(p ? p->tasks_at_attach : 0), s.method,
			       ns_to_s(s.read_ns) * 1000, s.paused_ns ? ", the process held still" : "",
			       s.unreadable || s.changed ? " (partial: the process was busy)" : "");
	task_snapshot_free(&s);
}

/*
 * After a late import: a task whose creation straddled the probes going in
 * and the first read (its thread stopped between the two, on a busy host)
 * was in neither; the registry has it now, the model not yet.
 */
static void adopt_stragglers(struct task_tracker *tt, struct task_target *t)
{
	struct task_snapshot s;
	char problem[512];

	t->read_again = false;
	read_and_adopt(tt, t, false, &s, problem, sizeof(problem));
	task_snapshot_free(&s);
}

void task_tracker_adopt_existing(struct task_tracker *tt)
{
	size_t i;

	if (!tt || !tt->rb)
		return;
	/* tasks the probes saw first are theirs: the snapshot skips them */
	ring_buffer__consume(tt->rb);
	for (i = 0; i < tt->n_targets; i++)
		if (tt->targets[i].status == TASKS_ATTACHED)
			adopt_existing_tasks(tt, &tt->targets[i], false);
}

void task_tracker_adopt_joined(struct task_tracker *tt, pid_t pid)
{
	struct task_target *t = tt ? target_of(tt, pid) : NULL;

	if (!t || !tt->rb || t->status != TASKS_ATTACHED)
		return;
	/* as at attach: tasks the probes saw first are theirs */
	ring_buffer__consume(tt->rb);
	adopt_existing_tasks(tt, t, false);
}

int task_tracker_attach(struct task_tracker *tt)
{
	int err;

	tt->connect_link = bpf_program__attach(tt->skel->progs.on_connect_state);
	if (!tt->connect_link) {
		err = -errno;
		log_error("failed to attach connection attribution: %s", strerror(-err));
		return err;
	}
	tt->rb = ring_buffer__new(bpf_map__fd(tt->skel->maps.task_events), handle_event, tt, NULL);
	if (!tt->rb) {
		err = -errno;
		log_error("failed to open the task ring buffer: %s", strerror(-err));
		return err;
	}
	tt->skel->bss->ready = true;
	return 0;
}

static void collect_pending(const struct pending_task *task, void *ctx)
{
	struct task_tracker *tt = ctx;
	size_t cap;

	if (tt->n_pending == tt->cap_pending) {
		cap = tt->cap_pending ? tt->cap_pending * 2 : 1024;
		tt->pending = reallocarray(tt->pending, cap, sizeof(*tt->pending));
		if (!tt->pending)
			abort();	/* out of memory in a root tool: stop rather than misreport */
		tt->cap_pending = cap;
	}
	tt->pending[tt->n_pending++] = *task;
}

static void drain_ring(void *ctx)
{
	struct task_tracker *tt = ctx;

	ring_buffer__consume(tt->rb);
}

/*
 * The kernel drops a target's layout the moment it exec()s or exits: until
 * the session has seen that, its tasks' addresses are not to be read.
 */
static bool layout_in_kernel(const struct task_tracker *tt, const struct task_target *t)
{
	struct py_layout layout;
	__u32 key = t->pid;

	return !bpf_map__lookup_elem(tt->skel->maps.py_procs, &key, sizeof(key), &layout,
				     sizeof(layout), 0);
}

/* Reads the state of every task not yet seen done, process by process. */
static void refresh_task_states(struct task_tracker *tt, uint64_t now_ns)
{
	struct task_target *t;
	size_t i, start;

	tt->n_pending = 0;
	model_foreach_pending_task(tt->model, collect_pending, tt);
	for (start = 0; start < tt->n_pending; start = i) {
		/* the walk is ordered by pid: one run per process */
		for (i = start; i < tt->n_pending && tt->pending[i].pid == tt->pending[start].pid; i++)
			;
		t = target_of(tt, tt->pending[start].pid);
		if (!t || t->status != TASKS_ATTACHED || !layout_in_kernel(tt, t))
			continue;
		if (t->probes->links.pending)
			task_refresh_by_memory(tt->model, t->pid, &t->py.layout, tt->pending + start,
					       i - start, now_ns, drain_ring, tt);
		else
			task_refresh_by_state(tt->model, t->pid, &t->py.layout, tt->pending + start,
					      i - start, now_ns);
	}
	model_tasks_refreshed(tt->model, now_ns);
}

static void read_health(struct task_tracker *tt)
{
	struct task_tracker_health per_cpu[tt->n_cpus];
	__u32 key = 0;
	int cpu;

	if (bpf_map__lookup_elem(tt->skel->maps.task_health, &key, sizeof(key), per_cpu,
				 sizeof(per_cpu), 0))
		return;
	tt->model->no_thread_state = tt->model->task_ringbuf_drops = 0;
	for (cpu = 0; cpu < tt->n_cpus; cpu++) {
		tt->model->task_ringbuf_drops += per_cpu[cpu].ringbuf_drops;
		tt->model->no_thread_state += per_cpu[cpu].no_thread_state;
	}
}

/* TRACE_MODE_SAMPLED: t's tasks created since its last read, from memory. */
static void read_new_tasks(struct task_tracker *tt, struct task_target *t)
{
	struct task_snapshot s;
	char problem[512];

	if (!t->sampler && !(t->sampler = task_sampler_new(&t->py))) {
		tt->model->task_reads_failed++;
		return;
	}
	if (!task_sampler_read(t->sampler, &t->py, &s, problem, sizeof(problem))) {
		adopt_sampled_snapshot(tt->model, &s, monotonic_ns(), t->sampler);
		model_task_read(tt->model, t->pid, monotonic_ns());
	} else {
		tt->model->task_reads_failed++;
	}
	task_snapshot_free(&s);
	resolve_held_conns(tt, t->pid);
}

static bool read_due(const struct task_tracker *tt, const struct task_target *t, uint64_t now_ns)
{
	return t->status == TASKS_ATTACHED && layout_in_kernel(tt, t) && t->next_read_ns <= now_ns;
}

/*
 * TRACE_MODE_SAMPLED: the targets due a read, each on its own cadence, in
 * turn from where the last poll stopped. A poll reads for READ_BUDGET_NS at
 * most, so that many targets or a slow read hold back neither the events nor
 * the targets after it: those are read first at the next poll.
 */
static void read_due_targets(struct task_tracker *tt)
{
	uint64_t period = tt->model->sample_period_ns, start = monotonic_ns(), now = start;
	struct task_target *t;
	size_t k;

	for (k = 0; k < tt->n_targets && now - start < READ_BUDGET_NS; k++) {
		t = &tt->targets[(tt->read_cursor + k) % tt->n_targets];
		if (!read_due(tt, t, now))
			continue;
		read_new_tasks(tt, t);
		now = monotonic_ns();
		/* the next read a period after this one was due; one behind is read at its next turn */
		t->next_read_ns = t->next_read_ns + period > now ? t->next_read_ns + period : now;
	}
	if (tt->n_targets)
		tt->read_cursor = (tt->read_cursor + k) % tt->n_targets;
}

uint64_t task_tracker_next_read_ns(const struct task_tracker *tt)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	for (i = 0; tt && tt->mode == TRACE_MODE_SAMPLED && i < tt->n_targets; i++)
		if (tt->targets[i].next_read_ns < next && read_due(tt, &tt->targets[i], UINT64_MAX))
			next = tt->targets[i].next_read_ns;
	return next;
}

void task_tracker_drain(struct task_tracker *tt)
{
	if (tt && tt->rb)
		ring_buffer__consume(tt->rb);
}

void task_tracker_poll(struct task_tracker *tt)
{
	struct task_target *t;
	size_t i;

	if (!tt || !tt->rb)
		return;
	ring_buffer__consume(tt->rb);
	refresh_task_states(tt, monotonic_ns());
	if (tt->mode == TRACE_MODE_SAMPLED)
		read_due_targets(tt);
	read_health(tt);
	for (i = 0; i < tt->n_targets; i++) {
		t = &tt->targets[i];
		if (t->read_again)
			adopt_stragglers(tt, t);
		/* a module imported since the last poll: attach now */
		if (t->status != TASKS_WAITING_FOR_ASYNCIO || has_exited(t) ||
		    !python_target_asyncio_mapped(t->pid))
			continue;
		discover(tt, t);
		/* tasks created between the import and now, most likely still being set up */
		if (t->status == TASKS_ATTACHED) {
			adopt_existing_tasks(tt, t, true);
			t->read_again = true;
		}
	}
}

void task_tracker_forget_program(struct task_tracker *tt, pid_t pid)
{
	struct task_target *t = tt ? target_of(tt, pid) : NULL;

	if (!t || t->status == TASKS_GONE)
		return;
	/* the old program's last events first; its tasks' memory is not read again */
	if (tt->rb)
		ring_buffer__consume(tt->rb);
	detach_probes(tt, t);
	memset(&t->py, 0, sizeof(t->py));
	t->status = TASKS_UNAVAILABLE;
	/* what was read at attach was the old program's: the new one's is read once attached */
	model_set_hook(model_process(tt->model, pid), "existing_tasks", false,
		       "not read since the process exec()ed");
}

void task_tracker_read_new_program(struct task_tracker *tt, pid_t pid)
{
	struct task_target *t = tt ? target_of(tt, pid) : NULL;

	if (!t || t->status == TASKS_GONE)
		return;
	discover(tt, t);
	if (t->status == TASKS_ATTACHED && tt->rb)
		adopt_existing_tasks(tt, t, true);
}

int task_tracker_py_procs_fd(const struct task_tracker *tt)
{
	return bpf_map__fd(tt->skel->maps.py_procs);
}

int task_tracker_py_layouts_fd(const struct task_tracker *tt)
{
	return bpf_map__fd(tt->skel->maps.py_layouts);
}

void task_tracker_destroy(struct task_tracker *tt)
{
	size_t i;

	if (!tt)
		return;
	for (i = 0; i < tt->n_targets; i++)
		detach_probes(tt, &tt->targets[i]);
	bpf_link__destroy(tt->connect_link);
	ring_buffer__free(tt->rb);
	task_tracker_bpf__destroy(tt->skel);
	free(tt->targets);
	free(tt->pending);
	free(tt->unresolved);
	free(tt);
}
