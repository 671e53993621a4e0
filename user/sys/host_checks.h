/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * What this host and this process are allowed and able to do, read from
 * the kernel's files: its release, its BTF, lockdown, our capabilities,
 * tracefs, the sysctls that gate perf, BPF and ptrace, and whether we run
 * in a container. Facts only: what they mean for inflight is decided above.
 */
#ifndef INFLIGHT_HOST_CHECKS_H
#define INFLIGHT_HOST_CHECKS_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/capability.h>

#define HOST_DEFAULT_BTF "/sys/kernel/btf/vmlinux"
#define HOST_TRACEFS "/sys/kernel/tracing"
#define HOST_SYSCTL_UNKNOWN INT_MIN	/* a sysctl this kernel does not have */

/* newer than some distributions' headers */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

/* The kernel BTF the tracer would use, and whether it is BTF. */
struct host_btf {
	char path[PATH_MAX];
	bool from_env;		/* named by VMLINUX_BTF */
	int err;		/* 0, -ENOENT missing, -EINVAL not BTF, or another -errno */
	char why[256];		/* when err: what is wrong with it */
};

struct host_facts {
	char kernel_release[65];
	unsigned int kernel_major, kernel_minor;
	struct host_btf btf;
	char lockdown[32];		/* "none", "integrity", "confidentiality"; "" without the LSM */
	uint64_t cap_effective;		/* bit N: capability N */
	bool tracefs_mounted;
	int perf_event_paranoid;	/* HOST_SYSCTL_UNKNOWN when absent */
	int unprivileged_bpf_disabled;
	int ptrace_scope;		/* Yama's; HOST_SYSCTL_UNKNOWN without Yama */
	bool initial_pid_ns;		/* our PID namespace is the host's */
	bool dockerenv;			/* /.dockerenv or /run/.containerenv exists */
	char cgroup[256];		/* our own cgroup path, "" if unknown */
};

/*
 * The kernel BTF file the tracer opens its programs with: VMLINUX_BTF when
 * set (a kernel without /sys/kernel/btf/vmlinux, traced with a file from
 * elsewhere), else NULL for the running kernel's own.
 */
const char *host_btf_custom_path(void);
/* Which BTF the tracer would use, parsed with libbpf to know it is BTF: 0 or b->err. */
int host_btf_check(struct host_btf *b);

/* Whether we run in the host's (the initial) PID namespace. */
bool host_in_initial_pid_ns(void);
/* Every fact above, each read on its own: a file that cannot be read leaves its default. */
void host_facts_read(struct host_facts *h);
static inline bool host_has_cap(const struct host_facts *h, int cap)
{
	return (h->cap_effective >> cap) & 1;
}

/*
 * The root pid sees its files under, as a path from here (readlink of
 * /proc/PID/root), and whether it is our own root: 0 or -errno.
 */
int host_proc_root(pid_t pid, char *buf, size_t size, bool *ours);

/* Parsers, for tests: 0 or -EINVAL. */
/* CapEff from the text of a /proc/PID/status file */
int host_parse_cap_effective(const char *status, uint64_t *caps);
/* the mode in brackets of /sys/kernel/security/lockdown ("none [integrity] confidentiality") */
int host_parse_lockdown(const char *text, char *mode, size_t size);
/* major and minor of a kernel release ("6.1.0-18-amd64") */
int host_parse_kernel_release(const char *release, unsigned int *major, unsigned int *minor);
/* The name of capability cap ("CAP_BPF"), or NULL if it has none here. */
const char *host_cap_name(int cap);

#endif
