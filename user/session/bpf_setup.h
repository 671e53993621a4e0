/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* What every BPF tracer needs before its first load: one log callback, and a
 * check that this kernel and this user can run BPF at all. */
#ifndef INFLIGHT_BPF_SETUP_H
#define INFLIGHT_BPF_SETUP_H

/* Routes libbpf's log through our verbosity (-v, -vv). */
void bpf_setup_logging(void);
/*
 * 0 when BTF is present and we hold the privileges to load and attach;
 * otherwise prints what is missing and what to do, and returns -errno.
 */
int bpf_check_environment(void);
/* Makes tracefs available to libbpf, without touching the host's mounts: 0 or -errno. */
int bpf_ensure_tracefs(void);
/* The version of the libbpf linked in, "1.1". */
const char *bpf_libbpf_version(void);

#endif
