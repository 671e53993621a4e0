// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * How each traced process ends. At sched_process_exit the kernel has already
 * set the exiting thread's exit_code (do_exit() sets it before the
 * tracepoint, and before it closes the process's files), so the record is in
 * the map before the process's pidfd tells userspace it is gone. The OOM
 * killer marks its victim's signal_struct (oom_mm, set by mark_victim()),
 * which every thread of the process shares.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "conn_events.h"
#include "proc_exit.h"

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

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_process_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct signal_struct *sig;
	struct proc_exit_info info = {};

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	sig = BPF_CORE_READ(p, signal);
	/* the leader, or the last thread: a thread that ends alone does not end the process */
	if (BPF_CORE_READ(p, pid) != tgid && BPF_CORE_READ(sig, live.counter) != 0)
		return 0;
	info.ts_ns = bpf_ktime_get_ns();
	info.exit_code = BPF_CORE_READ(p, exit_code);
	info.oom_killed = BPF_CORE_READ(sig, oom_mm) != NULL;
	bpf_map_update_elem(&exits, &tgid, &info, BPF_ANY);
	return 0;
}
