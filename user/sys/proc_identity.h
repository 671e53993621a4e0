/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Who a process is, for a sweep of the host: the processes there are, and of
 * each its executable, command line, cgroup, and a name for the service it
 * runs that outlives its PID (see proc_identity_service).
 */
#ifndef INFLIGHT_PROC_IDENTITY_H
#define INFLIGHT_PROC_IDENTITY_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "container_name.h"
#include "proc_cgroup.h"

#define SERVICE_NAME_MAX 256

struct proc_identity {
	pid_t pid;
	unsigned long long start_time;	/* with pid, names this process */
	char exe[PATH_MAX];		/* "" if not readable */
	char **argv;			/* its command line, argc strings */
	size_t argc;
	struct cgroup_identity cgroup;
	char container_name[CONTAINER_NAME_MAX];	/* as its runtime names it; "" if not known */
};

/* The PIDs of every process on the host, ascending: 0 or -errno; free(*pids). */
int proc_list_pids(pid_t **pids, size_t *n);
/* Whether pid is a kernel thread (no program of its own); false if unknown. */
bool proc_is_kernel_thread(pid_t pid);
/*
 * What tells a process apart cheaply, to look again only when it changed:
 * when it started, and its executable ("" if not readable). 0 or -ESRCH.
 */
int proc_identity_peek(pid_t pid, unsigned long long *start_time, char *exe, size_t size);
/* Reads pid's identity: 0, -ESRCH if there is no such process, or -errno. */
int proc_identity_read(pid_t pid, struct proc_identity *id);
void proc_identity_free(struct proc_identity *id);
/*
 * The name of the service the process runs, and what it comes from: its
 * container's name where the runtime keeps one ("docker:<name>",
 * "container"), else its ID ("docker:<first 12 digits of its ID>",
 * "podman:...", "containerd:...", "kubernetes:pod-<uid>"; "container-id": it
 * changes when the container is re-created), else its systemd unit or a
 * cgroup of its own ("cgroup"), else its executable and arguments
 * ("command"; truncated to size).
 */
const char *proc_identity_service(const struct proc_identity *id, char *buf, size_t size);
/* Splits NUL-separated text (a /proc/PID/cmdline) into strings: 0 or -ENOMEM. */
int proc_cmdline_split(const char *text, size_t len, char ***argv, size_t *argc);

#endif
