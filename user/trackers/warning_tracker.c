// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "warn_funnel.h"
#include "warning_tracker.h"
#include "warnings.skel.h"

#define HOOK_NAME "warnings"

struct warn_target {
	pid_t pid;
	struct warn_funnel funnel;
	struct bpf_link *link;	/* NULL when not hooked */
};

struct warning_tracker {
	struct warnings_bpf *skel;
	struct ring_buffer *rb;
	struct model *model;
	struct warn_target *targets;
	size_t n_targets, cap_targets;
	int n_cpus;
};

int warning_tracker_load(struct warning_tracker **out, struct model *m)
{
	struct warning_tracker *wt = calloc(1, sizeof(*wt));
	int err;

	if (!wt)
		return -ENOMEM;
	wt->model = m;
	wt->n_cpus = libbpf_num_possible_cpus();
	wt->skel = warnings_bpf__open_and_load();
	if (!wt->skel) {
		err = -errno;
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

/* A probe for t's process alone, its PID its cookie: 0 or -errno. */
static int hook(struct warning_tracker *wt, struct warn_target *t)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = (__u64)t->pid);
	__u32 key = t->pid;

	t->funnel.bpf.probe_cookie = t->pid;
	if (bpf_map__update_elem(wt->skel->maps.warn_procs, &key, sizeof(key), &t->funnel.bpf,
				 sizeof(t->funnel.bpf), BPF_ANY))
		return -errno;
	t->link = bpf_program__attach_uprobe_opts(wt->skel->progs.on_warn_explicit, t->pid,
						   t->funnel.open_path, t->funnel.offset, &opts);
	if (!t->link) {
		bpf_map__delete_elem(wt->skel->maps.warn_procs, &key, sizeof(key), 0);
		return -errno;
	}
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
	model_set_hook(p, HOOK_NAME, true, "CPython %s; a uprobe on warn_explicit() in %s (found by "
		       "%s): every warning, shown or filtered out, once", t->funnel.layout.version,
		       t->funnel.file, t->funnel.method);
	model_hook_probe(p, HOOK_NAME, "warn_explicit", t->funnel.offset, t->funnel.insn);
}

void warning_tracker_remove_process(struct warning_tracker *wt, pid_t pid)
{
	struct warn_target *t = wt ? target_of(wt, pid) : NULL;
	__u32 key = pid;

	if (!t || !t->link)
		return;
	bpf_link__destroy(t->link);
	t->link = NULL;
	bpf_map__delete_elem(wt->skel->maps.warn_procs, &key, sizeof(key), 0);
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
	size_t i;

	if (!wt)
		return;
	for (i = 0; i < wt->n_targets; i++)
		bpf_link__destroy(wt->targets[i].link);
	ring_buffer__free(wt->rb);
	warnings_bpf__destroy(wt->skel);
	free(wt->targets);
	free(wt);
}
