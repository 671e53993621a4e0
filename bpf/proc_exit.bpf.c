// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * How each traced process ends, and the exec()s it makes. At
 * sched_process_exit the kernel has already set the exiting thread's
 * exit_code (do_exit() sets it before the tracepoint, and before it closes
 * the process's files), so the record is in the map before the process's
 * pidfd tells userspace it is gone. The OOM killer marks its victim's
 * signal_struct (oom_mm, set by mark_victim()), which every thread of the
 * process shares.
 *
 * The other tracers' filter maps are shared with this program (userspace
 * hands their fds over before load), so a target's entries go at the moment
 * its last thread exits: its PID, once reused, is another process and never
 * matches, however late userspace polls. An exec() drops the interpreter
 * layout at once: its addresses belong to the old image. Child processes
 * are counted, not traced: tracing is per process.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "conn_events.h"
#include "proc_exit.h"
#include "task_events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, __u8);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, struct proc_exit_info);
} exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, struct proc_exec_info);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, __u32);	/* child processes it forked (threads not counted) */
} forks SEC(".maps");

/* conn_tracker.bpf.c's targets, shared */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, __u8);
} conn_targets SEC(".maps");

/* task_tracker.bpf.c's py_procs, shared */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, struct py_layout);
} py_procs SEC(".maps");

/* task_tracker.bpf.c's py_layouts, shared: a target's slot there is let go with py_procs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct py_layout);
} py_layouts SEC(".maps");

/* Drops a target's interpreter layout: its uprobes and tracepoint programs stop reading it. */
static void forget_layout(__u32 tgid)
{
	struct py_layout *l = bpf_map_lookup_elem(&py_procs, &tgid), *slot;

	if (!l)
		return;
	slot = bpf_map_lookup_elem(&py_layouts, &l->slot);
	if (slot)
		slot->probe_cookie = PROBES_NONE;
	bpf_map_delete_elem(&py_procs, &tgid);
}

/* The process has no thread left: every filter forgets its PID. */
static void forget_target(__u32 tgid)
{
	bpf_map_delete_elem(&conn_targets, &tgid);
	forget_layout(tgid);
	bpf_map_delete_elem(&targets, &tgid);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_process_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct signal_struct *sig;
	struct proc_exit_info info = {};
	bool last_thread;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	sig = BPF_CORE_READ(p, signal);
	/* do_exit() has counted this thread out of signal->live already */
	last_thread = BPF_CORE_READ(sig, live.counter) == 0;
	/* the leader, or the last thread: a thread that ends alone does not end the process */
	if (BPF_CORE_READ(p, pid) != tgid && !last_thread)
		return 0;
	info.ts_ns = bpf_ktime_get_ns();
	info.exit_code = BPF_CORE_READ(p, exit_code);
	info.oom_killed = BPF_CORE_READ(sig, oom_mm) != NULL;
	bpf_map_update_elem(&exits, &tgid, &info, BPF_ANY);
	if (last_thread)
		forget_target(tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct proc_exec_info info = {}, *prev;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	forget_layout(tgid);
	prev = bpf_map_lookup_elem(&execs, &tgid);
	info.count = prev ? prev->count + 1 : 1;
	info.ts_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&execs, &tgid, &info, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = BPF_CORE_READ(parent, tgid), one = 1, *n;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	/* a new thread shares its parent's tgid: only a new process counts */
	if (BPF_CORE_READ(child, tgid) == tgid)
		return 0;
	n = bpf_map_lookup_elem(&forks, &tgid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&forks, &tgid, &one, BPF_NOEXIST);
	return 0;
}
