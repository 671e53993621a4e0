// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "proc_stat.h"
#include "small_file.h"
#include "target.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* The thread group a task belongs to, from /proc/PID/status; -ESRCH if gone. */
static pid_t thread_group_of(pid_t pid)
{
	char path[64], buf[4096], *line;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (small_file_read(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	line = strstr(buf, "\nTgid:");
	if (!line)
		return -ESRCH;
	return (pid_t)strtol(line + strlen("\nTgid:"), NULL, 10);
}

/* When the process started (clock ticks after boot), or 0 if the PID names no process. */
static unsigned long long start_time_of(pid_t pid)
{
	struct proc_stat st;

	return proc_stat_read(pid, &st) ? 0 : st.start_time;
}

/* Its container, unit or command line; its executable if those cannot be read. */
static void read_service(struct target *t)
{
	struct proc_identity *id = malloc(sizeof(*id));

	if (id && !proc_identity_read(t->pid, id)) {
		proc_identity_service(id, t->service, sizeof(t->service));
		proc_identity_free(id);
	} else {
		snprintf(t->service, sizeof(t->service), "%.*s", (int)sizeof(t->service) - 1,
			 t->exe[0] ? t->exe : t->comm);
	}
	free(id);
}

static void read_identity(struct target *t)
{
	char path[64];
	ssize_t n;
	int len;

	snprintf(path, sizeof(path), "/proc/%d/comm", t->pid);
	len = small_file_read(path, t->comm, sizeof(t->comm));
	if (len > 0 && t->comm[len - 1] == '\n')
		t->comm[len - 1] = '\0';
	else if (len <= 0)
		snprintf(t->comm, sizeof(t->comm), "?");

	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	n = readlink(path, t->exe, sizeof(t->exe) - 1);
	t->exe[n > 0 ? n : 0] = '\0';
	read_service(t);
}

int target_open(struct target *t, pid_t pid)
{
	pid_t tgid;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->pidfd = -1;
	tgid = thread_group_of(pid);
	if (tgid < 0)
		return tgid;
	if (tgid != pid)
		return -EINVAL;
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0)
		return -errno;
	read_identity(t);
	t->start_time = start_time_of(pid);
	/* identity read after the pidfd: if the PID was reused, the pidfd is the new one's */
	if (!t->start_time || target_has_exited(t))
		return -ESRCH;
	return 0;
}

bool target_has_exited(struct target *t)
{
	struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };

	if (t->exited)
		return true;
	if (t->pidfd >= 0 && poll(&pfd, 1, 0) == 1)
		t->exited = true;
	return t->exited;
}

void target_reread_identity(struct target *t)
{
	read_identity(t);
}

bool target_pid_reused(const struct target *t, char *comm, size_t size)
{
	unsigned long long start = start_time_of(t->pid);
	char path[64];
	int len;

	if (!start || start == t->start_time)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", t->pid);
	len = small_file_read(path, comm, size);
	if (len > 0 && comm[len - 1] == '\n')
		comm[len - 1] = '\0';
	else if (len <= 0)
		snprintf(comm, size, "?");
	return true;
}

void target_close(struct target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
}
