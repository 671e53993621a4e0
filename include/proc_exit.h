/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * How a traced process ended, as bpf/proc_exit.bpf.c records it for
 * user/trackers/exit_tracker.c: the kernel's exit code (the wait status) and whether
 * the OOM killer chose the process; and the exec()s it made while traced.
 */
#ifndef INFLIGHT_PROC_EXIT_H
#define INFLIGHT_PROC_EXIT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct proc_exit_info {
	__u64 ts_ns;		/* CLOCK_MONOTONIC, when its last thread exited */
	__s32 exit_code;	/* as wait(2) reports it: status << 8, or the signal (| 0x80 if a core) */
	__u8 oom_killed;
	__u8 pad[3];
};

_Static_assert(sizeof(struct proc_exit_info) == 16, "proc_exit_info layout");

struct proc_exec_info {
	__u64 ts_ns;		/* CLOCK_MONOTONIC, of its latest exec() */
	__u32 count;		/* exec()s since it was added */
	__u32 pad;
};

_Static_assert(sizeof(struct proc_exec_info) == 16, "proc_exec_info layout");

#endif
