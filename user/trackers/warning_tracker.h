/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The warning tracker: finds each target's warn_explicit() (user/cpython's
 * warn_funnel), loads bpf/warnings.bpf.c, probes it, and hands every warning,
 * shown or filtered out, to the model. A target whose funnel cannot be found
 * is reported as such in its "warnings" hook; nothing else depends on it.
 */
#ifndef INFLIGHT_WARNING_TRACKER_H
#define INFLIGHT_WARNING_TRACKER_H
#include <sys/types.h>
#include "model.h"

struct warning_tracker;

/* Opens and loads the BPF program: 0 or -errno. */
int warning_tracker_load(struct warning_tracker **out, struct model *m);
/* Looks for pid's warn_explicit and probes it; the model's hook status says how it went. */
void warning_tracker_add_process(struct warning_tracker *wt, pid_t pid);
/* The process has exited: its probe goes. NULL-safe. */
void warning_tracker_remove_process(struct warning_tracker *wt, pid_t pid);
/* Starts counting: 0 or -errno. */
int warning_tracker_attach(struct warning_tracker *wt);
/* Hands the warnings sent so far to the model. NULL-safe. */
void warning_tracker_poll(struct warning_tracker *wt);
/* Detaches and frees; NULL-safe. */
void warning_tracker_destroy(struct warning_tracker *wt);

#endif
