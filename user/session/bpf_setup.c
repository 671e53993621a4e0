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
#include "host_checks.h"
#include "log.h"

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

/* The kernel BTF the programs are opened with: VMLINUX_BTF's file, else the kernel's own. */
static int check_btf(void)
{
	struct host_btf b;

	if (!host_btf_check(&b))
		return 0;
	if (b.from_env) {
		log_error("failed to use VMLINUX_BTF '%s': %s; point it at a kernel BTF file "
			  "(this kernel's, such as one from btfhub) or unset it", b.path, b.why);
		return -EINVAL;
	}
	log_error("this kernel has no BTF (" HOST_DEFAULT_BTF ": %s): inflight needs a kernel "
		  "built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later), or VMLINUX_BTF naming a BTF "
		  "file of this kernel", b.why);
	return -ENOTSUP;
}

int bpf_check_environment(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2] = {};
	int can_bpf, can_trace, err;

	err = check_btf();
	if (err)
		return err;
	/* BPF programs see the host's PIDs; the ones we are given are this namespace's */
	if (!host_in_initial_pid_ns()) {
		log_error("cannot trace from a PID namespace of its own (a container?): its BPF "
			  "programs see the host's PIDs, not the ones given here, so a trace would "
			  "count nothing; run it on the host, or in a container sharing the host's "
			  "PID namespace (docker run --pid=host)");
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
