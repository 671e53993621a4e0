// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "bpf_setup.h"
#include "log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_verbosity < 2)
		return 0;
	if (level == LIBBPF_INFO && log_verbosity < 1)
		return 0;
	/* warnings are printed at -v: libbpf's own messages are for diagnosis */
	if (level == LIBBPF_WARN && log_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void bpf_setup_logging(void)
{
	libbpf_set_print(libbpf_log);
}

static int has_capability(const struct __user_cap_data_struct *caps, int cap)
{
	return (caps[cap / 32].effective >> (cap % 32)) & 1;
}

int bpf_check_environment(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2] = {};
	int can_bpf, can_trace;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		log_error("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
			  "inflight needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)");
		return -ENOTSUP;
	}
	if (syscall(SYS_capget, &hdr, caps)) {
		log_error("failed to read capabilities: %s", strerror(errno));
		return -errno;
	}
	can_bpf = has_capability(caps, CAP_SYS_ADMIN) || has_capability(caps, CAP_BPF);
	can_trace = has_capability(caps, CAP_SYS_ADMIN) || has_capability(caps, CAP_PERFMON);
	if (!can_bpf || !can_trace || !has_capability(caps, CAP_SYS_PTRACE)) {
		log_error("not enough privileges to trace: run as root, or grant "
			  "CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE");
		return -EPERM;
	}
	return 0;
}

#define TRACEFS "/sys/kernel/tracing"

/*
 * In a mount namespace of our own, keeps what we mount from propagating to
 * the host's mounts. In a chroot "/" is no mount point (EINVAL): then /sys,
 * the mount tracefs goes under, is made private instead.
 */
static int make_mounts_private(void)
{
	if (!mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 0;
	if (errno != EINVAL)
		return -errno;
	return mount(NULL, "/sys", NULL, MS_REC | MS_PRIVATE, NULL) ? -errno : 0;
}

/*
 * libbpf looks up syscall tracepoint IDs in tracefs, which a fresh machine
 * may not have mounted. Rather than change the host's mounts, mount it in a
 * mount namespace of our own: it goes away with us.
 */
int bpf_ensure_tracefs(void)
{
	struct stat st;

	if (!stat(TRACEFS "/events", &st))
		return 0;
	if (unshare(CLONE_NEWNS) || make_mounts_private() ||
	    mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		log_error("tracefs is not mounted at " TRACEFS " and mounting it failed: %s; "
			  "mount it with 'mount -t tracefs tracefs " TRACEFS "'", strerror(errno));
		return -errno;
	}
	log_info("mounted tracefs at " TRACEFS " in inflight's own mount namespace");
	return 0;
}

const char *bpf_libbpf_version(void)
{
	static char version[32];

	snprintf(version, sizeof(version), "%u.%u", libbpf_major_version(),
		 libbpf_minor_version());
	return version;
}
