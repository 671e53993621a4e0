// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "process_pause.h"

#define MAX_PASSES 16

static bool seized_already(const struct process_pause *p, pid_t tid)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->tids[i] == tid)
			return true;
	return false;
}

/* Seizes and stops one thread: 0, 1 if it is gone, or -errno. */
static int stop_thread(pid_t tid, int *signal)
{
	int status;

	*signal = 0;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0))
		return errno == ESRCH ? 1 : -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) || waitpid(tid, &status, __WALL) < 0) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return errno == ESRCH || errno == ECHILD ? 1 : -errno;
	}
	if (!WIFSTOPPED(status))
		return 1;	/* it exited */
	/* not our interrupt's stop but a signal on its way: keep it for the thread */
	if (status >> 16 != PTRACE_EVENT_STOP)
		*signal = WSTOPSIG(status);
	return 0;
}

/* One pass over /proc/PID/task: how many threads it newly stopped, or -errno. */
static int stop_new_threads(pid_t pid, struct process_pause *p)
{
	char path[64];
	struct dirent *d;
	int stopped = 0, err = 0, sig, *grown_sig;
	pid_t tid, *grown;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (d = readdir(dir))) {
		tid = (pid_t)atoi(d->d_name);
		if (tid <= 0 || seized_already(p, tid))
			continue;
		err = stop_thread(tid, &sig);
		if (err == 1) {
			err = 0;
			continue;
		}
		if (err)
			break;
		grown = realloc(p->tids, (p->n + 1) * sizeof(*grown));
		grown_sig = realloc(p->signals, (p->n + 1) * sizeof(*grown_sig));
		if (grown)
			p->tids = grown;
		if (grown_sig)
			p->signals = grown_sig;
		if (!grown || !grown_sig) {
			ptrace(PTRACE_DETACH, tid, 0, sig);
			err = -ENOMEM;
			break;
		}
		p->tids[p->n] = tid;
		p->signals[p->n++] = sig;
		stopped++;
	}
	closedir(dir);
	return err ? err : stopped;
}

int process_pause(pid_t pid, struct process_pause *p)
{
	int passes, n = 1;

	p->tids = NULL;
	p->signals = NULL;
	p->n = 0;
	/* a thread not yet stopped may start another: look again until none is new */
	for (passes = 0; passes < MAX_PASSES && n > 0; passes++)
		n = stop_new_threads(pid, p);
	if (n < 0 || (n > 0 && passes == MAX_PASSES) || !p->n) {
		process_resume(p);
		return n < 0 ? n : -ESRCH;
	}
	return 0;
}

void process_resume(struct process_pause *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		ptrace(PTRACE_DETACH, p->tids[i], 0, p->signals[i]);
	free(p->tids);
	free(p->signals);
	p->tids = NULL;
	p->signals = NULL;
	p->n = 0;
}
