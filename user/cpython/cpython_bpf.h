/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* A target's CPython layout as bpf/task_tracker.bpf.c walks it (struct py_layout). */
#ifndef INFLIGHT_CPYTHON_BPF_H
#define INFLIGHT_CPYTHON_BPF_H
#include "cpython_layout.h"
#include "task_events.h"

/* Fills out for the process whose _PyRuntime is at runtime_addr. */
void cpython_bpf_layout(const struct cpython_layout *l, uint64_t runtime_addr,
			struct py_layout *out);

#endif
