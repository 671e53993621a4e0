// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "bpf_setup.h"
#include "bpf_trial.h"
#include "conn_tracker.skel.h"
#include "host_checks.h"
#include "proc_exit.skel.h"
#include "proc_maps.h"
#include "task_tracker.skel.h"
#include "warnings.skel.h"

/* What the uprobes are attached to: never called while they are. */
__attribute__((noinline, used)) void bpf_trial_probe_site(void)
{
	__asm__ volatile("" ::: "memory");
}

static int fail(struct bpf_trial_result *r, int err, const char *step)
{
	r->err = err < 0 ? err : -EINVAL;
	snprintf(r->step, sizeof(r->step), "%s", step);
	return r->err;
}

static void done(struct bpf_trial_result *r, const char *what)
{
	r->err = 0;
	snprintf(r->step, sizeof(r->step), "%s", what);
}

static int count_programs(const struct bpf_object *obj)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, obj)
		n++;
	return n;
}

/*
 * bpf_trial_probe_site's offset in our own executable. The file is named by
 * /proc/self/exe: the path in our maps can be wrong in a chroot (once
 * inflight has a mount namespace of its own, the kernel prints it from the
 * host's root).
 */
static int probe_site_offset(uint64_t *offset)
{
	uint64_t addr = (uint64_t)(uintptr_t)bpf_trial_probe_site;
	struct proc_maps maps;
	size_t i;
	int err = -ENOENT;

	if (proc_maps_read(getpid(), &maps))
		return -ENOENT;
	for (i = 0; i < maps.len; i++) {
		const struct file_mapping *m = &maps.maps[i];

		if (addr >= m->start && addr < m->end) {
			*offset = addr - m->start + m->offset;
			err = 0;
			break;
		}
	}
	proc_maps_free(&maps);
	return err;
}

/* A uprobe of prog on our own probe site, for this process alone, then detached. */
static int try_uprobe(struct bpf_program *prog)
{
	struct bpf_link *link;
	uint64_t offset;
	int err;

	err = probe_site_offset(&offset);
	if (err)
		return err;
	link = bpf_program__attach_uprobe(prog, false, getpid(), "/proc/self/exe", offset);
	if (!link)
		return -errno;
	bpf_link__destroy(link);
	return 0;
}

static int try_ring_buffer(struct bpf_map *map)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(map), NULL, NULL, NULL);

	if (!rb)
		return -errno;
	ring_buffer__free(rb);
	return 0;
}

#define OPEN_OPTS LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = host_btf_custom_path())

static void try_conns(struct bpf_trial_result *r)
{
	OPEN_OPTS;
	struct conn_tracker_bpf *skel = conn_tracker_bpf__open_opts(&opts);
	int err;

	if (!skel) {
		fail(r, -errno, "open the connection tracker's BPF object");
		return;
	}
	err = conn_tracker_bpf__load(skel);
	if (err)
		fail(r, err, "load the connection tracker's programs (the verifier said no)");
	else if ((err = conn_tracker_bpf__attach(skel)))
		fail(r, err, "attach the tracepoints sock:inet_sock_set_state and syscalls' "
		     "socket, connect, accept, close, dup");
	else if ((err = try_ring_buffer(skel->maps.events)))
		fail(r, err, "open the connection events' ring buffer");
	else {
		snprintf(r->step, sizeof(r->step), "loaded, attached %d tracepoints and a ring "
			 "buffer, detached", count_programs(skel->obj));
		r->err = 0;
	}
	conn_tracker_bpf__destroy(skel);
}

static void try_exits(struct bpf_trial_result *r)
{
	OPEN_OPTS;
	struct proc_exit_bpf *skel = proc_exit_bpf__open_opts(&opts);
	int err;

	if (!skel) {
		fail(r, -errno, "open the process exit tracker's BPF object");
		return;
	}
	err = proc_exit_bpf__load(skel);
	if (err)
		fail(r, err, "load the process exit tracker's programs (the verifier said no)");
	else if ((err = proc_exit_bpf__attach(skel)))
		fail(r, err, "attach the tracepoints sched_process_exit, _exec and _fork");
	else
		done(r, "loaded, attached 3 tracepoints, detached");
	proc_exit_bpf__destroy(skel);
}

static void try_tasks(struct bpf_trial_result *r)
{
	OPEN_OPTS;
	struct task_tracker_bpf *skel = task_tracker_bpf__open_opts(&opts);
	struct bpf_link *link = NULL;
	int err;

	if (!skel) {
		fail(r, -errno, "open the task tracker's BPF object");
		return;
	}
	err = task_tracker_bpf__load(skel);
	if (err)
		fail(r, err, "load the task tracker's programs (the verifier said no; "
		     "its stack walk needs bpf_loop, Linux 5.17)");
	else if ((err = try_uprobe(skel->progs.on_task_init)) ||
		 (err = try_uprobe(skel->progs.on_task_dealloc)) ||
		 (err = try_uprobe(skel->progs.on_task_destroyed_pending)))
		fail(r, err, "attach a uprobe (to a function of inflight's own binary)");
	else if (!(link = bpf_program__attach(skel->progs.on_connect_state)))
		fail(r, -errno, "attach the tracepoint sock:inet_sock_set_state");
	else if ((err = try_ring_buffer(skel->maps.task_events)))
		fail(r, err, "open the task events' ring buffer");
	else
		done(r, "loaded, attached 3 uprobes, a tracepoint and a ring buffer, detached");
	bpf_link__destroy(link);
	task_tracker_bpf__destroy(skel);
}

static void try_warnings(struct bpf_trial_result *r)
{
	OPEN_OPTS;
	struct warnings_bpf *skel = warnings_bpf__open_opts(&opts);
	int err;

	if (!skel) {
		fail(r, -errno, "open the warning tracker's BPF object");
		return;
	}
	err = warnings_bpf__load(skel);
	if (err)
		fail(r, err, "load the warning tracker's program (the verifier said no)");
	else if ((err = try_uprobe(skel->progs.on_warn_explicit)))
		fail(r, err, "attach a uprobe (to a function of inflight's own binary)");
	else if ((err = try_ring_buffer(skel->maps.warn_events)))
		fail(r, err, "open the warning events' ring buffer");
	else
		done(r, "loaded, attached a uprobe and a ring buffer, detached");
	warnings_bpf__destroy(skel);
}

void bpf_trial_run(struct bpf_trial *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	bpf_setup_logging();
	err = bpf_ensure_tracefs();
	if (err)
		fail(&t->tracefs, err, "mount tracefs in a mount namespace of inflight's own");
	else
		done(&t->tracefs, "available");
	try_conns(&t->conns);
	try_exits(&t->exits);
	try_tasks(&t->tasks);
	try_warnings(&t->warnings);
}
