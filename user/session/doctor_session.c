// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bpf_trial.h"
#include "cpython_layout.h"
#include "doctor.h"
#include "doctor_session.h"
#include "host_checks.h"
#include "log.h"
#include "output.h"
#include "python_target.h"
#include "python_version.h"
#include "target.h"
#include "task_snapshot.h"
#include "warn_funnel.h"

#define EXIT_BAD_INPUT 2

/* Every text here is cut to its field (DOCTOR_TEXT_MAX) by design: a path that long is cut. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define FOUND(c, ...) snprintf((c)->found, sizeof((c)->found), __VA_ARGS__)
#define ADVICE(c, ...) snprintf((c)->advice, sizeof((c)->advice), __VA_ARGS__)

/* --- the host ------------------------------------------------------------- */

/* What the host can do, as verdicts say it: ready, or why not. */
struct host_verdicts {
	bool trace, tasks, warnings, ps;
	char trace_why[DOCTOR_TEXT_MAX], tasks_why[DOCTOR_TEXT_MAX];
	char warnings_why[DOCTOR_TEXT_MAX], ps_why[DOCTOR_TEXT_MAX];
};

static void kernel_check(struct doctor_checks *cs, const struct host_facts *h)
{
	unsigned int v = h->kernel_major * 1000 + h->kernel_minor;
	struct doctor_check *c;

	c = doctor_check_add(cs, "kernel", v >= 5017 ? DOCTOR_OK :
			     v >= 5008 ? DOCTOR_NOTE : DOCTOR_PROBLEM);
	FOUND(c, "Linux %s", h->kernel_release);
	if (v < 5008)
		ADVICE(c, "inflight needs Linux 5.8 or later (BPF ring buffers, CAP_BPF)");
	else if (v < 5017)
		ADVICE(c, "task tracking needs Linux 5.17 (bpf_loop); connections are traced");
}

static void btf_check(struct doctor_checks *cs, const struct host_facts *h)
{
	const struct host_btf *b = &h->btf;
	struct doctor_check *c = doctor_check_add(cs, "btf", b->err ? DOCTOR_PROBLEM : DOCTOR_OK);

	if (!b->err) {
		FOUND(c, "%s%s: BTF, parsed by libbpf", b->path, b->from_env ? " (VMLINUX_BTF)" : "");
		return;
	}
	FOUND(c, "%s%s: %s", b->path, b->from_env ? " (VMLINUX_BTF)" : "", b->why);
	if (b->from_env)
		ADVICE(c, "the BPF programs are relocated against this file (CO-RE): point "
		       "VMLINUX_BTF at this kernel's BTF (such as one from btfhub), or unset it");
	else
		ADVICE(c, "the BPF programs are relocated against the kernel's BTF (CO-RE): use a "
		       "kernel built with CONFIG_DEBUG_INFO_BTF=y, or set VMLINUX_BTF to a BTF file "
		       "of this kernel (such as one from btfhub)");
}

static void lockdown_check(struct doctor_checks *cs, const struct host_facts *h)
{
	bool strict = !strcmp(h->lockdown, "confidentiality");
	struct doctor_check *c = doctor_check_add(cs, "lockdown", strict ? DOCTOR_NOTE : DOCTOR_OK);

	if (!h->lockdown[0])
		FOUND(c, "no lockdown LSM (/sys/kernel/security/lockdown absent)");
	else
		FOUND(c, "%s", h->lockdown);
	if (strict)
		ADVICE(c, "confidentiality lockdown refuses BPF reads of kernel memory; the BPF "
		       "checks below say whether inflight's programs still load");
}

struct cap_need {
	int cap;
	int stands_in;		/* another capability that serves as well, -1 if none */
	const char *without;	/* what fails without it */
};

static const struct cap_need cap_needs[] = {
	{ CAP_BPF, CAP_SYS_ADMIN,
	  "no BPF program loads: inflight trace and sweep cannot start" },
	{ CAP_PERFMON, CAP_SYS_ADMIN,
	  "no tracepoint or uprobe attaches: inflight trace and sweep cannot start" },
	{ CAP_SYS_ADMIN, -1,
	  "no uprobe attaches on this kernel (EACCES even with CAP_PERFMON), so asyncio tasks and "
	  "warnings are not traced; tracefs cannot be mounted when it is not; a target's files are "
	  "not read through /proc/PID/map_files (without CAP_CHECKPOINT_RESTORE too)" },
	{ CAP_SYS_PTRACE, -1,
	  "other users' processes cannot be read (ps, pstree, --sampled, task discovery): "
	  "inflight trace and sweep refuse to start" },
	{ CAP_DAC_READ_SEARCH, -1,
	  "root-only files (another user's /proc/PID/root, tracefs) cannot be read" },
};

static void capabilities_check(struct doctor_checks *cs, const struct host_facts *h)
{
	char has[256] = "", lacks[256] = "", advice[DOCTOR_TEXT_MAX] = "";
	struct doctor_check *c;
	bool problem = false;
	size_t i;

	for (i = 0; i < sizeof(cap_needs) / sizeof(cap_needs[0]); i++) {
		const struct cap_need *n = &cap_needs[i];
		bool held = host_has_cap(h, n->cap);
		char *list = held ? has : lacks;

		snprintf(list + strlen(list), 256 - strlen(list), "%s%s", list[0] ? " " : "",
			 host_cap_name(n->cap));
		if (held || (n->stands_in >= 0 && host_has_cap(h, n->stands_in)))
			continue;
		problem = true;
		snprintf(advice + strlen(advice), sizeof(advice) - strlen(advice), "%swithout %s: %s",
			 advice[0] ? "; " : "", host_cap_name(n->cap), n->without);
	}
	c = doctor_check_add(cs, "capabilities", problem ? DOCTOR_PROBLEM : DOCTOR_OK);
	FOUND(c, "has %s%s%s", has[0] ? has : "none of those inflight uses",
	      lacks[0] ? "; lacks " : "", lacks);
	if (problem)
		ADVICE(c, "%s. Run as root, or grant what is missing", advice);
}

static void tracefs_check(struct doctor_checks *cs, const struct host_facts *h,
			  const struct bpf_trial *t)
{
	struct doctor_check *c;

	if (h->tracefs_mounted) {
		c = doctor_check_add(cs, "tracefs", DOCTOR_OK);
		FOUND(c, "mounted at " HOST_TRACEFS " (libbpf reads the syscall tracepoints' IDs "
		      "there)");
	} else if (!t->tracefs.err) {
		c = doctor_check_add(cs, "tracefs", DOCTOR_NOTE);
		FOUND(c, "not mounted at " HOST_TRACEFS "; inflight mounts it in a mount namespace "
		      "of its own when it traces, the host's mounts untouched: nothing to do");
	} else {
		c = doctor_check_add(cs, "tracefs", DOCTOR_PROBLEM);
		FOUND(c, "not mounted at " HOST_TRACEFS ", and inflight could not mount it: %s",
		      strerror(-t->tracefs.err));
		ADVICE(c, "libbpf needs it to attach the syscall tracepoints: mount it with "
		       "'mount -t tracefs tracefs " HOST_TRACEFS "', or grant CAP_SYS_ADMIN");
	}
}

static void sysctl_checks(struct doctor_checks *cs, const struct host_facts *h)
{
	struct doctor_check *c;

	c = doctor_check_add(cs, "perf_paranoid", DOCTOR_OK);
	if (h->perf_event_paranoid == HOST_SYSCTL_UNKNOWN)
		FOUND(c, "kernel.perf_event_paranoid absent");
	else
		FOUND(c, "kernel.perf_event_paranoid = %d: limits users without CAP_PERFMON only, "
		      "not inflight", h->perf_event_paranoid);
	c = doctor_check_add(cs, "unpriv_bpf", DOCTOR_OK);
	if (h->unprivileged_bpf_disabled == HOST_SYSCTL_UNKNOWN)
		FOUND(c, "kernel.unprivileged_bpf_disabled absent");
	else
		FOUND(c, "kernel.unprivileged_bpf_disabled = %d: limits users without CAP_BPF only, "
		      "not inflight", h->unprivileged_bpf_disabled);
}

static void ptrace_check(struct doctor_checks *cs, const struct host_facts *h)
{
	bool blocked = h->ptrace_scope == 3;
	bool needs_cap = h->ptrace_scope >= 1 && !host_has_cap(h, CAP_SYS_PTRACE);
	struct doctor_check *c = doctor_check_add(cs, "ptrace_scope", blocked || needs_cap ?
						  DOCTOR_PROBLEM : DOCTOR_OK);

	if (h->ptrace_scope == HOST_SYSCTL_UNKNOWN)
		FOUND(c, "Yama not enabled: reading a process's memory needs CAP_SYS_PTRACE, or "
		      "its own user");
	else
		FOUND(c, "Yama ptrace_scope = %d", h->ptrace_scope);
	if (blocked)
		ADVICE(c, "3 lets no process read another's memory, whatever its capabilities: "
		       "ps, pstree, --sampled and task tracking cannot read targets; it can only "
		       "be lowered by a reboot");
	else if (needs_cap)
		ADVICE(c, "at %d only CAP_SYS_PTRACE reads other processes' memory (ps, pstree, "
		       "--sampled, task discovery): grant it", h->ptrace_scope);
}

static void container_check(struct doctor_checks *cs, const struct host_facts *h)
{
	struct doctor_check *c = doctor_check_add(cs, "container", h->initial_pid_ns ?
						  DOCTOR_OK : DOCTOR_PROBLEM);

	if (h->initial_pid_ns)
		FOUND(c, "in the host's PID namespace%s%s%s: every process is visible",
		      h->dockerenv ? " (though /.dockerenv or /run/.containerenv is there)" : "",
		      h->cgroup[0] ? "; cgroup " : "", h->cgroup);
	else
		FOUND(c, "in a PID namespace of its own (a container%s%s)",
		      h->cgroup[0] ? ", cgroup " : "", h->cgroup);
	if (!h->initial_pid_ns)
		ADVICE(c, "the BPF programs know processes by the host's PIDs, which differ from "
		       "the PIDs seen here, so inflight trace and sweep would see nothing; and "
		       "processes of other PID namespaces are not visible at all. Run inflight in "
		       "the host's PID namespace (docker run --pid=host, or on the host); ps and "
		       "pstree work here");
}

static void trial_check(struct doctor_checks *cs, const char *name,
			const struct bpf_trial_result *r, const char *without)
{
	struct doctor_check *c = doctor_check_add(cs, name, r->err ? DOCTOR_PROBLEM : DOCTOR_OK);

	if (!r->err) {
		FOUND(c, "%s", r->step);
		return;
	}
	FOUND(c, "failed to %s: %s", r->step, strerror(-r->err));
	ADVICE(c, "%s; run 'inflight trace -vv' for libbpf's log", without);
}

static void host_checks(struct doctor_checks *cs, const struct host_facts *h,
			const struct bpf_trial *t)
{
	kernel_check(cs, h);
	btf_check(cs, h);
	lockdown_check(cs, h);
	capabilities_check(cs, h);
	tracefs_check(cs, h, t);
	sysctl_checks(cs, h);
	ptrace_check(cs, h);
	container_check(cs, h);
	trial_check(cs, "bpf:conns", &t->conns, "connections are not traced: inflight trace "
		    "cannot start");
	trial_check(cs, "bpf:exits", &t->exits, "reports will not say how processes ended, nor "
		    "notice an exec()");
	trial_check(cs, "bpf:tasks", &t->tasks, "asyncio tasks are not tracked (connections are)");
	trial_check(cs, "bpf:warnings", &t->warnings, "Python warnings are not counted");
}

/* The verdicts' reasons: the first thing that stands in the way, with what to do. */
static void trace_verdict(struct host_verdicts *v, const struct host_facts *h,
			  const struct bpf_trial *t)
{
	bool can_bpf = host_has_cap(h, CAP_BPF) || host_has_cap(h, CAP_SYS_ADMIN);
	bool can_perf = host_has_cap(h, CAP_PERFMON) || host_has_cap(h, CAP_SYS_ADMIN);

	v->trace = false;
	if (h->btf.err)
		snprintf(v->trace_why, sizeof(v->trace_why), "no BTF: %s %s; see the btf check",
			 h->btf.path, h->btf.why);
	else if (!can_bpf || !can_perf || !host_has_cap(h, CAP_SYS_PTRACE))
		snprintf(v->trace_why, sizeof(v->trace_why), "lacks %s: run as root, or grant "
			 "CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE (and CAP_SYS_ADMIN for tasks)",
			 !can_bpf ? "CAP_BPF" : !can_perf ? "CAP_PERFMON" : "CAP_SYS_PTRACE");
	else if (!h->initial_pid_ns)
		snprintf(v->trace_why, sizeof(v->trace_why), "inflight runs in a PID namespace of "
			 "its own, whose PIDs its BPF programs do not see: run it in the host's "
			 "(docker run --pid=host)");
	else if (t->tracefs.err)
		snprintf(v->trace_why, sizeof(v->trace_why), "tracefs is not mounted and could not "
			 "be: mount it at " HOST_TRACEFS);
	else if (t->conns.err)
		snprintf(v->trace_why, sizeof(v->trace_why), "failed to %s: %s", t->conns.step,
			 strerror(-t->conns.err));
	else
		v->trace = true;
}

/* tasks and warnings: the tracer's, then their own programs' */
static bool probe_verdict(const struct host_verdicts *v, const struct bpf_trial_result *r,
			  char *why, size_t size)
{
	if (!v->trace)
		snprintf(why, size, "inflight trace is not ready here: %s", v->trace_why);
	else if (r->err == -EACCES || r->err == -EPERM)
		snprintf(why, size, "failed to %s: %s; uprobes need CAP_SYS_ADMIN here", r->step,
			 strerror(-r->err));
	else if (r->err)
		snprintf(why, size, "failed to %s: %s", r->step, strerror(-r->err));
	return v->trace && !r->err;
}

static void ps_verdict(struct host_verdicts *v, const struct host_facts *h)
{
	v->ps = false;
	if (h->ptrace_scope == 3)
		snprintf(v->ps_why, sizeof(v->ps_why), "Yama's ptrace_scope is 3: no process's "
			 "memory can be read");
	else if (!host_has_cap(h, CAP_SYS_PTRACE))
		snprintf(v->ps_why, sizeof(v->ps_why), "lacks CAP_SYS_PTRACE: only processes of "
			 "this user can be read%s", h->ptrace_scope >= 1 ?
			 ", and Yama's ptrace_scope forbids even that" : "");
	else
		v->ps = true;
}

static void host_verdicts(struct host_verdicts *v, const struct host_facts *h,
			  const struct bpf_trial *t)
{
	trace_verdict(v, h, t);
	v->tasks = probe_verdict(v, &t->tasks, v->tasks_why, sizeof(v->tasks_why));
	/* the tasks pending at attach, and --sampled's, are read from memory */
	if (v->tasks && h->ptrace_scope == 3) {
		v->tasks = false;
		snprintf(v->tasks_why, sizeof(v->tasks_why), "Yama's ptrace_scope is 3: no "
			 "process's memory can be read, which task tracking needs");
	}
	v->warnings = probe_verdict(v, &t->warnings, v->warnings_why, sizeof(v->warnings_why));
	ps_verdict(v, h);
}

static bool add_host_verdicts(struct doctor_report *r, const struct host_verdicts *v)
{
	return doctor_verdict_add(r, "trace", 0, v->trace, "%s", v->trace_why) &&
	       doctor_verdict_add(r, "tasks", 0, v->tasks, "%s", v->tasks_why) &&
	       doctor_verdict_add(r, "warnings", 0, v->warnings, "%s", v->warnings_why) &&
	       doctor_verdict_add(r, "ps", 0, v->ps, "%s", v->ps_why);
}

/* --- each target ---------------------------------------------------------- */

/* What was found of one target, as the tracer and ps would find it. */
struct target_findings {
	struct python_target py;
	int py_err;
	struct warn_funnel funnel;
	int funnel_err;
	char ps_problem[512];
	int ps_err;
	size_t n_tasks;
};

static void identity_checks(struct doctor_target *dt, const struct target *t,
			    const struct target_findings *f)
{
	struct doctor_check *c;

	dt->python = f->py_err != -ENOENT || python_process_lookalike(t->pid);
	if (f->py_err != -ENOENT && dt->version[0]) {
		c = doctor_check_add(&dt->checks, "python", DOCTOR_OK);
		FOUND(c, "CPython %s", dt->version);
	} else if (f->py_err != -ENOENT) {
		/* refused before its version was known: unsupported, free-threaded, unreadable */
		c = doctor_check_add(&dt->checks, "python", DOCTOR_PROBLEM);
		FOUND(c, "CPython, refused: %s", f->py.problem);
		ADVICE(c, "its connections are traced; tasks, warnings and ps need CPython "
		       CPYTHON_VERSIONS ", not free-threaded");
	} else if (dt->python) {
		c = doctor_check_add(&dt->checks, "python", DOCTOR_PROBLEM);
		FOUND(c, "looks like Python, but %s", f->py.problem);
		ADVICE(c, "only CPython is traced (not PyPy, nor a build without _PyRuntime)");
	} else {
		c = doctor_check_add(&dt->checks, "python", DOCTOR_NOTE);
		FOUND(c, "not a Python process: %s runs %s", t->comm,
		      t->exe[0] ? t->exe : "an executable that cannot be read");
		ADVICE(c, "its connections can be traced; tasks, warnings and ps are for CPython");
	}
}

/* Where the target's files are read from, and through which path. */
static void root_check(struct doctor_target *dt, pid_t pid, const char *opened)
{
	struct doctor_check *c;
	char via[64];
	bool ours = true;
	int err = host_proc_root(pid, dt->root, sizeof(dt->root), &ours);

	snprintf(via, sizeof(via), "/proc/%d/map_files/", pid);
	c = doctor_check_add(&dt->checks, "root",
			     err ? DOCTOR_PROBLEM : ours ? DOCTOR_OK : DOCTOR_NOTE);
	if (err) {
		FOUND(c, "/proc/%d/root cannot be read: %s", pid, strerror(-err));
		ADVICE(c, "its files are out of reach: grant CAP_SYS_PTRACE (and "
		       "CAP_DAC_READ_SEARCH), or run as root");
		dt->root[0] = '\0';
		return;
	}
	FOUND(c, "%s%s%s%s", dt->root, ours ? " (the same as inflight's)" :
	      " (not inflight's: a container or chroot)",
	      opened[0] ? "; its files opened through " : "",
	      !opened[0] ? "" : !strncmp(opened, via, strlen(via)) ? "/proc/PID/map_files" :
	      "/proc/PID/root");
}

static void build_checks(struct doctor_target *dt, const struct target_findings *f)
{
	const struct python_target *py = &f->py;
	struct doctor_check *c;

	if (f->py_err == -ENOENT)
		return;
	python_target_build(py, dt->build, sizeof(dt->build));
	snprintf(dt->runtime_file, sizeof(dt->runtime_file), "%s", py->runtime_file);
	c = doctor_check_add(&dt->checks, "build", DOCTOR_OK);
	FOUND(c, "%s; _PyRuntime in %s", dt->build, py->runtime_file);
	snprintf(dt->asyncio_file, sizeof(dt->asyncio_file), "%s", py->asyncio_file);
	snprintf(dt->asyncio_hook, sizeof(dt->asyncio_hook), "%s", py->method);
	if (!dt->version[0])
		return;		/* the python check said why */
	if (!f->py_err) {
		c = doctor_check_add(&dt->checks, "asyncio", DOCTOR_OK);
		FOUND(c, "%s %s; hooked by %s",
		      !strcmp(py->asyncio_file, py->runtime_file) ? "built into the interpreter," :
		      "module", py->asyncio_file, py->method);
	} else if (f->py_err == -EAGAIN) {
		c = doctor_check_add(&dt->checks, "asyncio", DOCTOR_NOTE);
		FOUND(c, "not imported yet");
		ADVICE(c, "inflight trace waits for it and hooks it when the process imports "
		       "asyncio; ps has no tasks to show until then");
	} else {
		c = doctor_check_add(&dt->checks, "asyncio", DOCTOR_PROBLEM);
		FOUND(c, "cannot be hooked: %s", py->problem);
		ADVICE(c, "its tasks are not tracked; its connections still are");
	}
}

static void memory_check(struct doctor_target *dt, const struct target_findings *f)
{
	struct doctor_check *c;

	if (f->py_err == -ENOENT)
		return;
	dt->memory_readable = !f->ps_err;
	c = doctor_check_add(&dt->checks, "memory", f->ps_err ? DOCTOR_PROBLEM : DOCTOR_OK);
	if (!f->ps_err)
		FOUND(c, "read: %zu asyncio task%s there now, as inflight ps reads them", f->n_tasks,
		      f->n_tasks == 1 ? "" : "s");
	else
		FOUND(c, "cannot be read as ps reads it: %s", f->ps_problem);
}

static void examine(const struct target *t, struct target_findings *f)
{
	struct task_snapshot s;

	f->py_err = python_target_discover(t->pid, &f->py);
	if (f->py_err != -ENOENT)
		python_version_complete(&f->py);
	f->funnel_err = f->py_err == -ENOENT ? -ENOENT : warn_funnel_discover(t->pid, &f->funnel);
	f->ps_err = task_snapshot_take(t->pid, &s, f->ps_problem, sizeof(f->ps_problem));
	f->n_tasks = s.n_tasks;
	task_snapshot_free(&s);
}

static bool add_target_verdicts(struct doctor_report *r, pid_t pid, const struct host_verdicts *v,
				const struct target_findings *f)
{
	const char *not_python = "not a CPython process";
	bool cpython = f->py_err != -ENOENT;
	char tasks_why[DOCTOR_TEXT_MAX];

	if (f->py_err == -EAGAIN)
		snprintf(tasks_why, sizeof(tasks_why), "%s: inflight trace hooks it when the "
			 "process imports it; run the doctor again then", f->py.problem);
	else
		snprintf(tasks_why, sizeof(tasks_why), "%s", f->py.problem);

	if (!doctor_verdict_add(r, "trace", pid, v->trace, "%s", v->trace_why))
		return false;
	if (!doctor_verdict_add(r, "tasks", pid, v->tasks && !f->py_err, "%s",
				!cpython ? not_python : !v->tasks ? v->tasks_why : tasks_why))
		return false;
	if (!doctor_verdict_add(r, "warnings", pid, v->warnings && !f->funnel_err, "%s",
				!cpython ? not_python : !v->warnings ? v->warnings_why :
				f->funnel.problem))
		return false;
	return doctor_verdict_add(r, "ps", pid, !f->ps_err, "%s",
				  !cpython ? not_python : f->ps_problem);
}

static int doctor_target(struct doctor_report *r, struct doctor_target *dt, const struct target *t,
			 const struct host_verdicts *v)
{
	struct target_findings *f = calloc(1, sizeof(*f));
	int err = 0;

	if (!f)
		return -ENOMEM;
	dt->pid = t->pid;
	snprintf(dt->comm, sizeof(dt->comm), "%s", t->comm);
	snprintf(dt->exe, sizeof(dt->exe), "%s", t->exe);
	examine(t, f);
	snprintf(dt->version, sizeof(dt->version), "%s", f->py.version);
	identity_checks(dt, t, f);
	build_checks(dt, f);
	root_check(dt, t->pid, f->py.asyncio_open);
	memory_check(dt, f);
	if (!add_target_verdicts(r, t->pid, v, f))
		err = -ENOMEM;
	free(f);
	return err;
}

/* --- the run -------------------------------------------------------------- */

/* Opens every target first: a PID that names no process is bad input (exit 2). */
static int open_targets(const struct doctor_opts *o, struct target *ts)
{
	size_t i;
	int err;

	for (i = 0; i < o->n_pids; i++) {
		err = target_open(&ts[i], o->pids[i]);
		if (err == -ESRCH)
			log_error("no process with PID %d: it may have exited; check it with "
				  "'ps -p %d'", o->pids[i], o->pids[i]);
		else if (err == -EINVAL)
			log_error("PID %d is a thread, not a process: pass its process ID (the Tgid "
				  "line of /proc/%d/status)", o->pids[i], o->pids[i]);
		else if (err)
			log_error("failed to open PID %d: %s", o->pids[i], strerror(-err));
		if (err)
			return err;
	}
	return 0;
}

static int examine_all(struct doctor_report *r, const struct doctor_opts *o,
		       const struct target *ts)
{
	struct host_facts h;
	struct host_verdicts v;
	struct bpf_trial trial;
	size_t i;
	int err;

	host_facts_read(&h);
	bpf_trial_run(&trial);
	snprintf(r->kernel_release, sizeof(r->kernel_release), "%s", h.kernel_release);
	host_checks(&r->host, &h, &trial);
	host_verdicts(&v, &h, &trial);
	if (!add_host_verdicts(r, &v))
		return -ENOMEM;
	r->targets = calloc(o->n_pids ? o->n_pids : 1, sizeof(*r->targets));
	if (!r->targets)
		return -ENOMEM;
	for (i = 0; i < o->n_pids; i++) {
		err = doctor_target(r, &r->targets[i], &ts[i], &v);
		if (err)
			return err;
		r->n_targets++;
	}
	return 0;
}

static int write_report(const struct doctor_opts *o, struct output *out,
			const struct doctor_report *r)
{
	int err = o->format == REPORT_JSON ? doctor_write_json(out->f, r) :
					     doctor_write_text(out->f, r);

	if (!err)
		err = output_commit(out);
	if (err)
		log_error("failed to write the doctor's report%s%s: %s", o->output ? " to " : "",
			  o->output ? o->output : "", strerror(-err));
	return err;
}

int doctor_session_run(const struct doctor_opts *o)
{
	struct doctor_report r = { .version = INFLIGHT_VERSION };
	struct target *ts = calloc(DOCTOR_MAX_PIDS, sizeof(*ts));
	struct output out = {};
	int err, status = EXIT_BAD_INPUT;
	size_t i;

	if (!ts) {
		log_error("out of memory");
		return 1;
	}
	for (i = 0; i < DOCTOR_MAX_PIDS; i++)
		ts[i].pidfd = -1;
	if (open_targets(o, ts))
		goto out;
	output_remove_on_signals();
	err = output_open(&out, o->output);
	if (err) {
		log_error("cannot write to '%s': %s; choose a writable path with -o", o->output,
			  output_strerror(err));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	err = examine_all(&r, o, ts);
	if (err) {
		log_error("failed to examine the host: %s", strerror(-err));
		status = 1;
	} else {
		status = write_report(o, &out, &r) ? 1 : doctor_all_ready(&r) ? 0 : 1;
	}
out:
	output_abort(&out);
	for (i = 0; i < o->n_pids; i++)
		target_close(&ts[i]);
	free(ts);
	doctor_report_free(&r);
	return status;
}
