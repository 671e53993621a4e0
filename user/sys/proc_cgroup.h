/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Which cgroup a process is in, from /proc/PID/cgroup, and what its path
 * says of it: the container it runs in (the runtimes name their cgroups
 * docker-<id>.scope, libpod-<id>.scope, cri-containerd-<id>.scope, and
 * Kubernetes its pods kubepods...pod<uid>), or the systemd unit.
 */
#ifndef INFLIGHT_PROC_CGROUP_H
#define INFLIGHT_PROC_CGROUP_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum cgroup_runtime {
	CGROUP_RUNTIME_NONE,
	CGROUP_RUNTIME_DOCKER,
	CGROUP_RUNTIME_PODMAN,
	CGROUP_RUNTIME_CONTAINERD,
	CGROUP_RUNTIME_KUBERNETES,
	CGROUP_RUNTIME_SYSTEMD,
};

#define CGROUP_PATH_MAX 4096
#define CGROUP_ID_MAX 65	/* a 64-hex-digit container ID and its NUL */

struct cgroup_identity {
	char path[CGROUP_PATH_MAX];	/* "/system.slice/foo.service"; "" if not known */
	enum cgroup_runtime runtime;
	char id[CGROUP_ID_MAX];		/* the container's ID; "" if none */
	char pod_uid[40];		/* Kubernetes: the pod's UID; "" if none */
	char unit[256];			/* systemd: the service unit; "" if none */
};

/*
 * The cgroup path in the text of a /proc/PID/cgroup file: the unified (v2)
 * hierarchy's "0::" line, else the v1 "name=systemd" one. 0, or -ENOENT.
 */
int cgroup_path_parse(const char *text, char *path, size_t size);
/* What the path says: sets every field but path from it. */
void cgroup_identify(const char *path, struct cgroup_identity *id);
/* Both, for pid: 0, -ESRCH if there is no such process, or -errno. */
int proc_cgroup_read(pid_t pid, struct cgroup_identity *id);
/* "docker", "podman", "containerd", "kubernetes", "systemd"; NULL for none */
const char *cgroup_runtime_name(enum cgroup_runtime r);

#endif
