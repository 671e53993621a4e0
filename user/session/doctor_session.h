/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * inflight doctor: whether this host, and each process named, can be traced,
 * and why not. Checks by trying: the real BPF programs are loaded and
 * attached (bpf_trial.h), each target is discovered as the tracer discovers
 * it and its memory read as ps reads it.
 */
#ifndef INFLIGHT_DOCTOR_SESSION_H
#define INFLIGHT_DOCTOR_SESSION_H
#include <stddef.h>
#include <sys/types.h>
#include "trace_session.h"

#define DOCTOR_MAX_PIDS 64

struct doctor_opts {
	pid_t pids[DOCTOR_MAX_PIDS];
	size_t n_pids;
	enum report_format format;	/* text or json */
	const char *output;		/* NULL: stdout */
};

/* The exit status: 0 every verdict ready, 1 some not, 2 bad input. */
int doctor_session_run(const struct doctor_opts *o);

#endif
