/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The connection tracker: loads bpf/conn_tracker.bpf.c, attaches it, hands it
 * the sockets that were open at attach, and feeds what it sees to the model.
 */
#ifndef INFLIGHT_CONN_TRACKER_H
#define INFLIGHT_CONN_TRACKER_H
#include <sys/types.h>
#include "model.h"

struct conn_tracker;

struct conn_tracker_config {
	size_t max_sockets;	/* sockets followed in the kernel at once */
	size_t ringbuf_bytes;	/* a power of two */
};

/* Opens and loads the BPF programs (nothing attached yet): 0 or -errno. */
int conn_tracker_load(struct conn_tracker **out, const struct conn_tracker_config *cfg,
		      struct model *m);
int conn_tracker_add_target(struct conn_tracker *ct, pid_t pid);
/* Attaches every program, then starts counting: 0 or -errno. */
int conn_tracker_attach(struct conn_tracker *ct);
/*
 * Records the TCP sockets pid holds now (call after attach): listeners as
 * such, connections into the model as found at attach, and their inodes to
 * the kernel side so it follows them from here on. The scans of one round
 * (the targets added before it) read each network namespace's table once.
 * 0 or -errno.
 */
int conn_tracker_scan_existing(struct conn_tracker *ct, pid_t pid);
/* The round of scans is over: the tables it read are let go. */
void conn_tracker_scan_end(struct conn_tracker *ct);
/*
 * The connections the model holds that a live pid no longer does (their close
 * event was lost) leave the model; those it holds are marked seen. Done at
 * the end of a trace, and by conn_tracker_poll after events were dropped.
 * 0 or -errno.
 */
int conn_tracker_reconcile(struct conn_tracker *ct, pid_t pid);
/*
 * Drains the ring buffer into the model, refreshes kernel counters, and after
 * dropped events reconciles the live targets (see conn_tracker_reconcile):
 * events read or -errno.
 */
int conn_tracker_poll(struct conn_tracker *ct);
/*
 * The target has exited: its PID is no longer traced (the exit tracker has
 * done so in the kernel already, where it could load).
 */
void conn_tracker_remove_target(struct conn_tracker *ct, pid_t pid);
/* The kernel's map of target PIDs, for the exit tracker to empty as they exit. */
int conn_tracker_targets_fd(const struct conn_tracker *ct);
/* Detaches and frees; NULL-safe. */
void conn_tracker_destroy(struct conn_tracker *ct);

#endif
