// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "clock.h"
#include "log.h"
#include "output.h"
#include "process_pause.h"
#include "ps_session.h"
#include "report_ps.h"
#include "target.h"
#include "task_snapshot.h"

#define EXIT_BAD_INPUT 2

/* Opens the target, whose pidfd stays open while it is read: 0 or -errno, said. */
static int open_target(struct target *t, pid_t pid)
{
	int err = target_open(t, pid);

	if (err == -ESRCH)
		log_error("no process with PID %d: it may have exited; check it with 'ps -p %d'",
			  pid, pid);
	else if (err == -EINVAL)
		log_error("PID %d is a thread, not a process: pass its process ID "
			  "(the Tgid line of /proc/%d/status)", pid, pid);
	else if (err)
		log_error("failed to open PID %d: %s", pid, strerror(-err));
	return err;
}

static int write_snapshot(FILE *f, const struct ps_opts *o, const struct task_snapshot *s)
{
	if (o->tree)
		return o->format == REPORT_JSON ? report_pstree_json(f, s) : report_pstree_text(f, s);
	return o->format == REPORT_JSON ? report_ps_json(f, s, o->per_task) :
					  report_ps_text(f, s, o->per_task);
}

static int take_snapshot(const struct ps_opts *o, struct task_snapshot *s, char *problem,
			 size_t size)
{
	struct process_pause pause;
	uint64_t start;
	int err;

	if (!o->pause)
		return task_snapshot_take(o->pid, s, problem, size);
	start = monotonic_ns();
	err = process_pause(o->pid, &pause);
	if (err) {
		memset(s, 0, sizeof(*s));
		snprintf(problem, size, "cannot pause process %d: %s (ptrace: is it traced already, "
			 "or is ptrace restricted here?); run without --pause", o->pid, strerror(-err));
		return -EPERM;
	}
	err = task_snapshot_take(o->pid, s, problem, size);
	process_resume(&pause);
	s->paused_ns = monotonic_ns() - start;
	return err;
}

/*
 * The memory was read by PID: if the process exited meanwhile, what was read
 * may be of another process that took its PID, so it is thrown away.
 */
static int check_still_there(struct target *t, char *problem, size_t size)
{
	if (!target_has_exited(t))
		return 0;
	snprintf(problem, size, "PID %d exited while its tasks were read (its PID may be another "
		 "process's by now): no snapshot; run it again on a live process", t->pid);
	return -ESRCH;
}

int ps_session_run(const struct ps_opts *o)
{
	struct target t = { .pidfd = -1 };
	struct task_snapshot s;
	struct output out = {};
	char problem[512];
	int err;

	if (open_target(&t, o->pid)) {
		target_close(&t);
		return EXIT_BAD_INPUT;
	}
	output_remove_on_signals();
	err = output_open(&out, o->output);
	if (err) {
		log_error("cannot write to '%s': %s; choose a writable path with -o", o->output,
			  output_strerror(err));
		target_close(&t);
		return EXIT_BAD_INPUT;
	}
	signal(SIGPIPE, SIG_IGN);	/* a reader gone: EPIPE, said as a write error */
	err = take_snapshot(o, &s, problem, sizeof(problem));
	if (check_still_there(&t, problem, sizeof(problem)))
		err = -ESRCH;
	target_close(&t);
	if (err) {
		log_error("%s", problem);
		task_snapshot_free(&s);
		output_abort(&out);
		/* not a Python we can read: the input was wrong, not the read */
		return err == -EIO || err == -ENOMEM ? 1 : EXIT_BAD_INPUT;
	}
	err = write_snapshot(out.f, o, &s);
	if (!err)
		err = output_commit(&out);
	output_abort(&out);
	task_snapshot_free(&s);
	if (err) {
		log_error("failed to write the snapshot%s%s: %s", o->output ? " to " : "",
			  o->output ? o->output : "", strerror(-err));
		return 1;
	}
	return 0;
}
