/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Whether this kernel, as this process, takes inflight's BPF programs: each
 * tracer's real skeleton opened as the tracer opens it (VMLINUX_BTF too),
 * loaded (so the verifier here judges them), attached (the tracepoints; the
 * uprobes on a function of inflight's own binary, for itself alone), its
 * ring buffer opened, then everything detached and freed. Nothing is left.
 */
#ifndef INFLIGHT_BPF_TRIAL_H
#define INFLIGHT_BPF_TRIAL_H

struct bpf_trial_result {
	int err;		/* 0, or the -errno of the step that failed */
	char step[160];		/* the step that failed, or what was done */
};

struct bpf_trial {
	struct bpf_trial_result tracefs;	/* tracefs there, or mounted privately */
	struct bpf_trial_result conns;		/* conn_tracker: tracepoints, ring buffer */
	struct bpf_trial_result exits;		/* proc_exit: sched tracepoints */
	struct bpf_trial_result tasks;		/* task_tracker: uprobes, tracepoint, ring buffer */
	struct bpf_trial_result warnings;	/* warnings: a uprobe, ring buffer */
};

/* Runs every trial; each result says how it went. */
void bpf_trial_run(struct bpf_trial *t);

#endif
