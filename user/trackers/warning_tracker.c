// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "host_checks.h"
#include "log.h"
#include "task_events.h"
#include "warn_funnel.h"
#include "warning_tracker.h"
#include "warnings.skel.h"

#define HOOK_NAME "warnings"

/*
 * The probe on one file's warn_explicit, as task_tracker.c places its own:
 * for its first target alone while it has one, then once for every process
 * that maps the file (pid -1), the hits of processes not in warn_procs
 * dropped in the kernel; shared until its last target goes.
 */
struct probed_file {
	struct probed_file *next;
	dev_t dev;
	uint64_t ino, offset;
	pid_t owner;		/* the target it is placed for alone, 0 once shared */
	size_t users;
	struct bpf_link *link;
};

struct warn_target {
	pid_t pid;
	struct warn_funnel funnel;
	struct probed_file *probe;	/* NULL when not hooked */
};

struct warning_tracker {
	struct warnings_bpf *skel;
	struct ring_buffer *rb;
	struct model *model;
	struct warn_target *targets;
	size_t n_targets, cap_targets;
	struct probed_file *files;
	int n_cpus;
};

int warning_tracker_load(struct warning_tracker **out, struct model *m)
{
	struct warning_tracker *wt = calloc(1, sizeof(*wt));
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = host_btf_custom_path());
	int err;

	if (!wt)
		return -ENOMEM;
	wt->model = m;
	wt->n_cpus = libbpf_num_possible_cpus();
	wt->skel = warnings_bpf__open_opts(&open_opts);
	err = wt->skel ? warnings_bpf__load(wt->skel) : -errno;
	if (err) {
		log_error("failed to load the warning tracker's BPF program: %s (run with -vv for "
			  "the verifier's log); everything else is still traced", strerror(-err));
		warning_tracker_destroy(wt);
		return err;
	}
	*out = wt;
	return 0;
}

static struct warn_target *target_of(const struct warning_tracker *wt, pid_t pid)
{
	size_t i;

	for (i = 0; i < wt->n_targets; i++)
		if (wt->targets[i].pid == pid)
			return &wt->targets[i];
	return NULL;
}

static struct warn_target *new_target(struct warning_tracker *wt, pid_t pid)
{
	struct warn_target *grown;
	size_t cap;

	if (wt->n_targets == wt->cap_targets) {
		cap = wt->cap_targets ? wt->cap_targets * 2 : 8;
		grown = reallocarray(wt->targets, cap, sizeof(*grown));
		if (!grown)
			return NULL;
		wt->targets = grown;
		wt->cap_targets = cap;
	}
	grown = &wt->targets[wt->n_targets++];
	memset(grown, 0, sizeof(*grown));
	grown->pid = pid;
	return grown;
}

static int write_layout(struct warning_tracker *wt, const struct warn_target *t, __u32 cookie,
			__u64 flags)
{
	struct warn_layout l = t->funnel.bpf;
	__u32 key = t->pid;

	l.probe_cookie = cookie;
	if (bpf_map__update_elem(wt->skel->maps.warn_procs, &key, sizeof(key), &l, sizeof(l), flags))
		return -errno;
	return 0;
}

/* A uprobe for pid alone (its PID its cookie), or for every process if pid is -1. */
static struct bpf_link *attach_uprobe(struct warning_tracker *wt, const struct warn_target *t,
				      pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = pid > 0 ? (__u64)pid : PROBES_SHARED);

	return bpf_program__attach_uprobe_opts(wt->skel->progs.on_warn_explicit, pid,
					       t->funnel.open_path, t->funnel.offset, &opts);
}

static struct probed_file *probed_file_of(const struct warning_tracker *wt,
					  const struct warn_target *t)
{
	struct probed_file *f;

	for (f = wt->files; f; f = f->next)
		if (f->dev == t->funnel.dev && f->ino == t->funnel.ino &&
		    f->offset == t->funnel.offset)
			return f;
	return NULL;
}

static int probe_new_file(struct warning_tracker *wt, const struct warn_target *t,
			  struct probed_file **out)
{
	struct probed_file *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->link = attach_uprobe(wt, t, t->pid);
	if (!f->link) {
		free(f);
		return -errno;
	}
	f->dev = t->funnel.dev;
	f->ino = t->funnel.ino;
	f->offset = t->funnel.offset;
	f->owner = t->pid;
	f->next = wt->files;
	wt->files = f;
	*out = f;
	return 0;
}

/* The warnings hook of a hooked target: what was probed, where, for whom. */
static void describe_hook(struct warning_tracker *wt, const struct warn_target *t)
{
	struct proc_model *p = model_process(wt->model, t->pid);

	model_set_hook(p, HOOK_NAME, true, "CPython %s; a uprobe on warn_explicit() in %s (found by "
		       "%s): every warning, shown or filtered out, once; %s", t->funnel.layout.version,
		       t->funnel.file, t->funnel.method, t->probe->owner ?
		       "placed for this process alone" :
		       "shared by the traced processes of this file, the PID filtered in the kernel");
	model_hook_probe(p, HOOK_NAME, "warn_explicit", t->funnel.offset, t->funnel.insn);
}

/* A second target of f's file: one probe for every process, its owner's hits moved to it. */
static int share_probe(struct warning_tracker *wt, struct probed_file *f,
		       const struct warn_target *t)
{
	struct warn_target *owner = target_of(wt, f->owner);
	struct bpf_link *shared = attach_uprobe(wt, t, -1);

	if (!shared)
		return -errno;
	/* BPF_EXIST: an owner that exited is not to come back */
	if (owner)
		write_layout(wt, owner, PROBES_SHARED, BPF_EXIST);
	bpf_link__destroy(f->link);
	f->link = shared;
	f->owner = 0;
	if (owner && owner->probe)
		describe_hook(wt, owner);
	return 0;
}

/* 0 or -errno, with nothing left in the kernel for t on failure. */
static int hook(struct warning_tracker *wt, struct warn_target *t)
{
	struct probed_file *f = probed_file_of(wt, t);
	__u32 key = t->pid;
	int err;

	err = write_layout(wt, t, f ? PROBES_SHARED : (__u32)t->pid, BPF_ANY);
	if (err)
		return err;
	if (!f)
		err = probe_new_file(wt, t, &f);
	else if (f->owner)
		err = share_probe(wt, f, t);
	if (err) {
		bpf_map__delete_elem(wt->skel->maps.warn_procs, &key, sizeof(key), 0);
		return err;
	}
	f->users++;
	t->probe = f;
	return 0;
}

void warning_tracker_add_process(struct warning_tracker *wt, pid_t pid)
{
	struct proc_model *p = model_process(wt->model, pid);
	struct warn_target *t = target_of(wt, pid);
	int err;

	if (!t)
		t = new_target(wt, pid);
	if (!t) {
		model_set_hook(p, HOOK_NAME, false, "out of memory");
		return;
	}
	err = warn_funnel_discover(pid, &t->funnel);
	if (err) {
		model_set_hook(p, HOOK_NAME, false, "%s", t->funnel.problem);
		return;
	}
	err = hook(wt, t);
	if (err) {
		model_set_hook(p, HOOK_NAME, false, "failed to attach a uprobe to %s: %s",
			       t->funnel.file, strerror(-err));
		return;
	}
	describe_hook(wt, t);
}

void warning_tracker_remove_process(struct warning_tracker *wt, pid_t pid)
{
	struct warn_target *t = wt ? target_of(wt, pid) : NULL;
	struct probed_file **at;
	__u32 key = pid;

	if (!t || !t->probe)
		return;
	bpf_map__delete_elem(wt->skel->maps.warn_procs, &key, sizeof(key), 0);
	if (--t->probe->users == 0) {
		for (at = &wt->files; *at != t->probe; at = &(*at)->next)
			;
		*at = t->probe->next;
		bpf_link__destroy(t->probe->link);
		free(t->probe);
	}
	t->probe = NULL;
}

static void decode_text(const struct warn_target *t, const __u8 *obj, __u32 have, char *out,
			size_t size, bool *cut)
{
	if (have > WARN_OBJ_BYTES ||
	    warn_funnel_text(&t->funnel, obj, have, out, size, cut))
		snprintf(out, size, "%s", "");
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct warning_tracker *wt = ctx;
	const struct warn_event *e = data;
	char category[WARN_NAME_MAX], file[256], message[WARNING_MESSAGE_MAX * 2];
	struct warning_seen seen = { .category = category, .file = file, .message = message };
	const struct warn_target *t;
	bool file_cut;

	if (size < sizeof(*e) || e->hdr.type != EVENT_WARNING)
		return 0;
	t = target_of(wt, (pid_t)e->pid);
	if (!t || !model_process(wt->model, t->pid))
		return 0;
	memcpy(category, e->category, sizeof(category));
	category[sizeof(category) - 1] = '\0';
	decode_text(t, e->message, e->message_bytes, message, sizeof(message), &seen.message_cut);
	decode_text(t, e->filename, e->filename_bytes, file, sizeof(file), &file_cut);
	seen.line = e->lineno;
	seen.fd = e->fd;
	seen.fd_ino = e->fd_ino;
	model_warning(wt->model, t->pid, &seen, e->hdr.ts_ns);
	return 0;
}

int warning_tracker_attach(struct warning_tracker *wt)
{
	wt->rb = ring_buffer__new(bpf_map__fd(wt->skel->maps.warn_events), handle_event, wt, NULL);
	if (!wt->rb)
		return -errno;
	wt->skel->bss->ready = true;
	return 0;
}

static void read_drops(struct warning_tracker *wt)
{
	__u64 per_cpu[wt->n_cpus > 0 ? wt->n_cpus : 1], sum = 0;
	__u32 zero = 0;
	int i;

	if (wt->n_cpus <= 0 || bpf_map__lookup_elem(wt->skel->maps.warn_drops, &zero, sizeof(zero),
						    per_cpu, sizeof(per_cpu), 0))
		return;
	for (i = 0; i < wt->n_cpus; i++)
		sum += per_cpu[i];
	wt->model->warning_drops = sum;
}

void warning_tracker_poll(struct warning_tracker *wt)
{
	if (!wt || !wt->rb)
		return;
	ring_buffer__consume(wt->rb);
	read_drops(wt);
}

void warning_tracker_destroy(struct warning_tracker *wt)
{
	struct probed_file *f, *next;

	if (!wt)
		return;
	for (f = wt->files; f; f = next) {
		next = f->next;
		bpf_link__destroy(f->link);
		free(f);
	}
	ring_buffer__free(wt->rb);
	warnings_bpf__destroy(wt->skel);
	free(wt->targets);
	free(wt);
}
