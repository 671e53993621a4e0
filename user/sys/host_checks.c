// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "host_checks.h"
#include "proc_cgroup.h"
#include "small_file.h"

/* PROC_PID_INIT_INO (include/linux/proc_ns.h): the initial PID namespace's inode */
#define INITIAL_PID_NS_INO 0xEFFFFFFCU
#define TRACEFS_MAGIC_NUMBER 0x74726163

static int read_sysctl(const char *path)
{
	char buf[32], *end;
	long v;

	if (small_file_read(path, buf, sizeof(buf)) < 0)
		return HOST_SYSCTL_UNKNOWN;
	v = strtol(buf, &end, 10);
	if (end == buf || v < -1000 || v > 1000)
		return HOST_SYSCTL_UNKNOWN;
	return (int)v;
}

int host_parse_cap_effective(const char *status, uint64_t *caps)
{
	const char *line = strstr(status, "\nCapEff:");
	char *end;

	if (!line)
		return -EINVAL;
	line += strlen("\nCapEff:");
	while (*line == ' ' || *line == '\t')
		line++;
	errno = 0;
	*caps = strtoull(line, &end, 16);
	if (errno || end == line || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

int host_parse_lockdown(const char *text, char *mode, size_t size)
{
	const char *open = strchr(text, '['), *close;

	if (!open)
		return -EINVAL;
	close = strchr(open + 1, ']');
	if (!close || close == open + 1 || (size_t)(close - open - 1) >= size)
		return -EINVAL;
	snprintf(mode, size, "%.*s", (int)(close - open - 1), open + 1);
	return 0;
}

int host_parse_kernel_release(const char *release, unsigned int *major, unsigned int *minor)
{
	unsigned long a, b;
	char *end;

	errno = 0;
	a = strtoul(release, &end, 10);
	if (errno || end == release || *end != '.' || a > 1000)
		return -EINVAL;
	release = end + 1;
	b = strtoul(release, &end, 10);
	if (errno || end == release || b > 1000)
		return -EINVAL;
	*major = (unsigned int)a;
	*minor = (unsigned int)b;
	return 0;
}

const char *host_cap_name(int cap)
{
	switch (cap) {
	case CAP_DAC_READ_SEARCH: return "CAP_DAC_READ_SEARCH";
	case CAP_SYS_PTRACE: return "CAP_SYS_PTRACE";
	case CAP_SYS_ADMIN: return "CAP_SYS_ADMIN";
	case CAP_SYS_RESOURCE: return "CAP_SYS_RESOURCE";
	case CAP_PERFMON: return "CAP_PERFMON";
	case CAP_BPF: return "CAP_BPF";
	case CAP_CHECKPOINT_RESTORE: return "CAP_CHECKPOINT_RESTORE";
	}
	return NULL;
}

const char *host_btf_custom_path(void)
{
	const char *path = getenv("VMLINUX_BTF");

	return path && *path ? path : NULL;
}

int host_btf_check(struct host_btf *b)
{
	const char *custom = host_btf_custom_path();
	struct btf *btf;

	memset(b, 0, sizeof(*b));
	b->from_env = custom != NULL;
	snprintf(b->path, sizeof(b->path), "%s", custom ? custom : HOST_DEFAULT_BTF);
	if (access(b->path, R_OK)) {
		b->err = -errno;
		snprintf(b->why, sizeof(b->why), "%s", strerror(errno));
		return b->err;
	}
	btf = btf__parse(b->path, NULL);
	if (!btf) {
		char reason[128];

		libbpf_strerror(errno, reason, sizeof(reason));
		b->err = -EINVAL;
		snprintf(b->why, sizeof(b->why), "it is not BTF (libbpf cannot parse it: %s)", reason);
		return b->err;
	}
	btf__free(btf);
	return 0;
}

static void read_kernel(struct host_facts *h)
{
	struct utsname u;

	if (uname(&u))
		return;
	snprintf(h->kernel_release, sizeof(h->kernel_release), "%s", u.release);
	host_parse_kernel_release(u.release, &h->kernel_major, &h->kernel_minor);
}

static void read_lockdown(struct host_facts *h)
{
	char buf[128];

	if (small_file_read("/sys/kernel/security/lockdown", buf, sizeof(buf)) >= 0)
		host_parse_lockdown(buf, h->lockdown, sizeof(h->lockdown));
}

static void read_capabilities(struct host_facts *h)
{
	char buf[4096];

	if (small_file_read("/proc/self/status", buf, sizeof(buf)) >= 0)
		host_parse_cap_effective(buf, &h->cap_effective);
}

static bool tracefs_mounted(void)
{
	struct statfs st;

	return !statfs(HOST_TRACEFS, &st) && st.f_type == TRACEFS_MAGIC_NUMBER;
}

bool host_in_initial_pid_ns(void)
{
	struct stat st;

	return !stat("/proc/self/ns/pid", &st) && st.st_ino == INITIAL_PID_NS_INO;
}

static void read_container(struct host_facts *h)
{
	struct cgroup_identity *id = malloc(sizeof(*id));

	h->initial_pid_ns = host_in_initial_pid_ns();
	h->dockerenv = !access("/.dockerenv", F_OK) || !access("/run/.containerenv", F_OK);
	if (id && !proc_cgroup_read(getpid(), id))
		snprintf(h->cgroup, sizeof(h->cgroup), "%.*s", (int)sizeof(h->cgroup) - 1, id->path);
	free(id);
}

void host_facts_read(struct host_facts *h)
{
	memset(h, 0, sizeof(*h));
	read_kernel(h);
	host_btf_check(&h->btf);
	read_lockdown(h);
	read_capabilities(h);
	h->tracefs_mounted = tracefs_mounted();
	h->perf_event_paranoid = read_sysctl("/proc/sys/kernel/perf_event_paranoid");
	h->unprivileged_bpf_disabled = read_sysctl("/proc/sys/kernel/unprivileged_bpf_disabled");
	h->ptrace_scope = read_sysctl("/proc/sys/kernel/yama/ptrace_scope");
	read_container(h);
}

int host_proc_root(pid_t pid, char *buf, size_t size, bool *ours)
{
	struct stat theirs, mine;
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/root", pid);
	if (stat(link, &theirs) || stat("/", &mine))
		return -errno;
	*ours = theirs.st_dev == mine.st_dev && theirs.st_ino == mine.st_ino;
	/* in a chroot, once in a mount namespace of our own, the link reads as the host's path */
	if (*ours) {
		snprintf(buf, size, "/");
		return 0;
	}
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}
