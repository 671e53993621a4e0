// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bpf_setup.h"
#include "clock.h"
#include "conn_tracker.h"
#include "exit_tracker.h"
#include "log.h"
#include "model.h"
#include "output.h"
#include "report.h"
#include "target.h"
#include "task_tracker.h"
#include "warning_tracker.h"
#include "trace_session.h"

#define EXIT_BAD_INPUT 2
#define POLL_PERIOD_NS (100 * NSEC_PER_MSEC)
#define MIN_POLL_WAIT_NS (5 * NSEC_PER_MSEC)
#define MAX_TRACKED_CONNECTIONS (256 * 1024)

static volatile sig_atomic_t stop_requested;

/* The first Ctrl-C ends the trace cleanly; a second one kills. */
static void on_stop_signal(int sig)
{
	if (stop_requested)
		signal(sig, SIG_DFL), raise(sig);
	stop_requested = 1;
}

static void install_signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed terminal ends the trace as Ctrl-C does: detached, the report written */
	sigaction(SIGHUP, &sa, NULL);
	/* a reader gone: the write fails with EPIPE and says so, rather than killing us mid-report */
	signal(SIGPIPE, SIG_IGN);
}

#define CONNECTIONS_HOOK_DETAIL \
	"tracepoints: sock:inet_sock_set_state; syscalls socket, connect, accept, accept4, close, dup2, dup3"

struct session {
	const struct trace_opts *opts;
	struct target *targets;
	size_t n_targets, cap_targets;
	struct model model;
	struct conn_tracker *conns;
	struct task_tracker *tasks;	/* NULL when task tracking could not load */
	struct exit_tracker *exits;	/* NULL when the kernel would not tell how processes end */
	struct warning_tracker *warnings;	/* NULL when its program did not load */
	struct output out;
};

/* Opens pid as the next target: 0 or -errno, with nothing added on failure. */
static int open_target(struct session *s, pid_t pid, struct target **out)
{
	struct target *grown;
	size_t cap;
	int err;

	if (s->n_targets == s->cap_targets) {
		cap = s->cap_targets ? s->cap_targets * 2 : 16;
		grown = reallocarray(s->targets, cap, sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->targets = grown;
		s->cap_targets = cap;
	}
	*out = &s->targets[s->n_targets];
	err = target_open(*out, pid);
	if (err) {
		target_close(*out);
		return err;
	}
	s->n_targets++;
	return 0;
}

static int open_targets(struct session *s)
{
	const struct trace_opts *o = s->opts;
	struct target *t;
	size_t i;
	int err;

	for (i = 0; i < o->n_pids; i++) {
		err = open_target(s, o->pids[i], &t);
		if (err == -ESRCH)
			log_error("no process with PID %d: it may have exited; check it with 'ps -p %d'",
				  o->pids[i], o->pids[i]);
		else if (err == -EINVAL)
			log_error("PID %d is a thread, not a process: pass its process ID "
				  "(the Tgid line of /proc/%d/status)", o->pids[i], o->pids[i]);
		else if (err)
			log_error("failed to open PID %d: %s", o->pids[i], strerror(-err));
		if (err)
			return err;
		if (!model_add_process(&s->model, o->pids[i], t->comm, t->exe))
			return -ENOMEM;
	}
	return 0;
}

/* Task tracking is best effort: without it, connections are still traced. */
static void load_task_tracking(struct session *s)
{
	size_t i;

	if (task_tracker_load(&s->tasks, &s->model, s->opts->mode))
		for (i = 0; i < s->model.n_procs; i++)
			model_set_hook(&s->model.procs[i], "asyncio_tasks", false,
				       "the task tracker's BPF programs did not load");
}

/* The warning funnel is best effort too: without it, everything else is still traced. */
static void load_warning_tracking(struct session *s)
{
	size_t i;

	if (warning_tracker_load(&s->warnings, &s->model))
		for (i = 0; i < s->model.n_procs; i++)
			model_set_hook(&s->model.procs[i], "warnings", false,
				       "the warning tracker's BPF program did not load");
	for (i = 0; s->warnings && i < s->n_targets; i++)
		warning_tracker_add_process(s->warnings, s->targets[i].pid);
}

static void start_warning_tracking(struct session *s)
{
	size_t i;

	if (s->warnings && warning_tracker_attach(s->warnings)) {
		warning_tracker_destroy(s->warnings);
		s->warnings = NULL;
		for (i = 0; i < s->model.n_procs; i++)
			model_set_hook(&s->model.procs[i], "warnings", false,
				       "the warning tracker did not start");
	}
}

/*
 * Placing the uprobes (the slow part) happens before the trace starts; the
 * probes count nothing until start_task_tracking.
 */
static void prepare_task_tracking(struct session *s)
{
	size_t i;

	for (i = 0; s->tasks && i < s->n_targets; i++)
		task_tracker_add_process(s->tasks, s->targets[i].pid, s->targets[i].pidfd);
}

/*
 * After the other tracers are loaded: the exit tracker empties their maps of
 * a target as it exits, in the kernel, before its PID can be reused.
 */
static void start_exit_tracking(struct session *s)
{
	int py_procs_fd = s->tasks ? task_tracker_py_procs_fd(s->tasks) : -1;
	int py_layouts_fd = s->tasks ? task_tracker_py_layouts_fd(s->tasks) : -1;
	size_t i;

	if (exit_tracker_start(&s->exits, conn_tracker_targets_fd(s->conns), py_procs_fd,
			       py_layouts_fd))
		return;
	for (i = 0; i < s->n_targets; i++)
		exit_tracker_add_target(s->exits, s->targets[i].pid);
}

static void start_task_tracking(struct session *s)
{
	size_t i;

	if (s->tasks && task_tracker_attach(s->tasks)) {
		task_tracker_destroy(s->tasks);
		s->tasks = NULL;
		for (i = 0; i < s->model.n_procs; i++)
			model_set_hook(&s->model.procs[i], "asyncio_tasks", false,
				       "the task tracker did not attach");
	}
}

static int attach(struct session *s)
{
	struct conn_tracker_config cfg = {
		.max_sockets = s->opts->max_sockets,
		.ringbuf_bytes = s->opts->ring_bytes,
	};
	size_t i;
	int err;

	err = conn_tracker_load(&s->conns, &cfg, &s->model);
	for (i = 0; !err && i < s->n_targets; i++)
		err = conn_tracker_add_target(s->conns, s->targets[i].pid);
	if (err)
		return err;
	load_task_tracking(s);
	start_exit_tracking(s);
	prepare_task_tracking(s);
	load_warning_tracking(s);
	s->model.start_ns = monotonic_ns();
	err = conn_tracker_attach(s->conns);
	if (err)
		return err;
	start_task_tracking(s);
	start_warning_tracking(s);
	for (i = 0; i < s->n_targets; i++) {
		struct proc_model *p = model_process(&s->model, s->targets[i].pid);

		if (target_has_exited(&s->targets[i])) {
			log_error("PID %d exited while inflight was attaching: nothing to trace",
				  s->targets[i].pid);
			return -ESRCH;
		}
		err = conn_tracker_scan_existing(s->conns, s->targets[i].pid);
		if (err) {
			log_error("failed to read the open sockets of PID %d: %s", s->targets[i].pid,
				  strerror(-err));
			return err;
		}
		model_set_hook(p, "connections", true, CONNECTIONS_HOOK_DETAIL);
	}
	conn_tracker_scan_end(s->conns);
	/* after the sockets: a task found reading one is attributed it */
	task_tracker_adopt_existing(s->tasks);
	return 0;
}

/*
 * A process found while the trace runs (inflight sweep): followed as the
 * first ones are, in the order attach() follows, from now on (its sockets
 * and tasks are read by scan_joined_target). 0, or -errno when it could not
 * be opened (it is then not in the model).
 */
static int add_joined_target(struct session *s, pid_t pid)
{
	uint64_t now = monotonic_ns();
	struct proc_model *p;
	struct target *t;
	int err;

	err = open_target(s, pid, &t);
	if (err)
		return err;
	/* -E2BIG: the kernel's target maps are full */
	err = conn_tracker_add_target(s->conns, pid);
	p = err ? NULL : model_add_process(&s->model, pid, t->comm, t->exe);
	if (!p) {
		if (!err)
			conn_tracker_remove_target(s->conns, pid);
		target_close(t);
		s->n_targets--;
		return err ? err : -ENOMEM;
	}
	model_process_joined(&s->model, p, now);
	exit_tracker_add_target(s->exits, pid);
	if (s->warnings)
		warning_tracker_add_process(s->warnings, pid);
	else
		model_set_hook(p, "warnings", false, "the warning tracker is not running");
	if (s->tasks)
		task_tracker_add_process(s->tasks, pid, t->pidfd);
	else
		model_set_hook(p, "asyncio_tasks", false, "the task tracker is not running");
	return 0;
}

/* The sockets and tasks a joined target had before it was followed. */
static void scan_joined_target(struct session *s, pid_t pid)
{
	int err = conn_tracker_scan_existing(s->conns, pid);
	struct proc_model *p = model_process(&s->model, pid);

	if (err)
		model_set_hook(p, "connections", false, "failed to read the sockets it had open: %s",
			       strerror(-err));
	else
		model_set_hook(p, "connections", true, CONNECTIONS_HOOK_DETAIL);
	task_tracker_adopt_joined(s->tasks, pid);
}

/*
 * inflight sweep: the processes found since the last look, a batch at a
 * time: all of a batch are followed before any is scanned, so that the scans
 * share each network namespace's socket table.
 */
static void add_found_targets(struct session *s)
{
	const struct trace_sweep *sw = s->opts->sweep;
	pid_t pids[64];
	int errs[64];
	size_t n, i;

	do {
		n = sw->find(sw->ctx, pids, sizeof(pids) / sizeof(pids[0]));
		for (i = 0; i < n; i++)
			errs[i] = add_joined_target(s, pids[i]);
		for (i = 0; i < n; i++)
			if (!errs[i])
				scan_joined_target(s, pids[i]);
		conn_tracker_scan_end(s->conns);
		for (i = 0; i < n; i++)
			sw->added(sw->ctx, pids[i], errs[i]);
	} while (n == sizeof(pids) / sizeof(pids[0]) && !stop_requested);
}

static void announce(const struct session *s)
{
	size_t i;

	if (s->opts->sweep)
		return;

	fprintf(stderr, "Tracing PID%s", s->opts->n_pids > 1 ? "s" : "");
	for (i = 0; i < s->opts->n_pids; i++)
		fprintf(stderr, "%s %d (%s)", i ? "," : "", s->targets[i].pid, s->targets[i].comm);
	fprintf(stderr, "... Hit Ctrl-C to end.\n");
}

/*
 * A target that has just exited: what its rings still hold comes first (the
 * events of its last moments), then its exit, at the time the kernel gives.
 */
static void record_exit(struct session *s, pid_t pid, uint64_t now)
{
	struct proc_end end = {};
	uint64_t ts = now;

	warning_tracker_poll(s->warnings);
	conn_tracker_poll(s->conns);
	task_tracker_poll(s->tasks);
	if (exit_tracker_lookup(s->exits, pid, &end, &ts) || ts > now)
		ts = now;
	model_process_exited(&s->model, pid, ts, &end);
	conn_tracker_remove_target(s->conns, pid);
	task_tracker_remove_process(s->tasks, pid);
	warning_tracker_remove_process(s->warnings, pid);
}

/* Said once: with -p PID, the target is the process, not whatever has its number now. */
static void note_pid_reuse(struct target *t)
{
	char comm[16];

	if (t->reuse_noted || !target_pid_reused(t, comm, sizeof(comm)))
		return;
	t->reuse_noted = true;
	log_error("PID %d (%s) exited and its PID now belongs to another process (%s), "
		  "which is not traced; the report keeps what PID %d did until it exited",
		  t->pid, t->comm, comm, t->pid);
}

static bool all_targets_exited(struct session *s, uint64_t now)
{
	struct target *t;
	struct proc_model *p;
	bool all = true;
	size_t i;

	for (i = 0; i < s->n_targets; i++) {
		t = &s->targets[i];
		p = model_process(&s->model, t->pid);
		if (!target_has_exited(t)) {
			all = false;
			continue;
		}
		if (p && !p->exited)
			record_exit(s, t->pid, now);
		note_pid_reuse(t);
	}
	return all;
}

/*
 * The target exec()ed: the old program's events come first, then its tasks
 * end with it, and the new program is looked at as a new interpreter.
 */
static void record_exec(struct session *s, struct target *t, unsigned int execs, uint64_t ts)
{
	const struct proc_model *p = model_process(&s->model, t->pid);
	const struct hook_status *h = NULL;
	size_t i;

	conn_tracker_poll(s->conns);
	/* while the old program's code objects are still in the cache */
	task_tracker_drain(s->tasks);
	task_tracker_forget_program(s->tasks, t->pid);
	t->execs = execs;
	target_reread_identity(t);
	model_process_exec(&s->model, t->pid, ts, t->comm, t->exe);
	task_tracker_read_new_program(s->tasks, t->pid);
	for (i = 0; p && i < p->n_hooks; i++)
		if (!strcmp(p->hooks[i].name, "asyncio_tasks"))
			h = &p->hooks[i];
	if (h && h->attached)
		log_error("PID %d exec()ed %s: its asyncio tasks are now tracked in the new program",
			  t->pid, t->exe);
	else
		log_error("PID %d exec()ed %s: its asyncio tasks are no longer tracked: %s; its "
			  "connections still are", t->pid, t->exe, h ? h->detail : "task tracking is off");
}

static void check_execs(struct session *s)
{
	struct target *t;
	unsigned int execs;
	uint64_t ts = 0;
	size_t i;

	for (i = 0; i < s->n_targets; i++) {
		t = &s->targets[i];
		execs = exit_tracker_exec_count(s->exits, t->pid, &ts);
		if (execs != t->execs && !target_has_exited(t))
			record_exec(s, t, execs, ts);
	}
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC };

	nanosleep(&ts, NULL);	/* a signal ends it early, as it should */
}

/*
 * Until the next poll: a poll period, less if the deadline or a target's read
 * is due sooner, and never less than MIN_POLL_WAIT_NS: a tracer behind on its
 * reads still leaves the host's CPU to the services between its polls.
 */
static uint64_t poll_wait_ns(const struct session *s, uint64_t deadline, uint64_t now)
{
	uint64_t wait = POLL_PERIOD_NS, read = task_tracker_next_read_ns(s->tasks);

	if (read != UINT64_MAX && read < now + wait)
		wait = read > now + MIN_POLL_WAIT_NS ? read - now : MIN_POLL_WAIT_NS;
	if (deadline && deadline < now + wait)
		wait = deadline > now ? deadline - now : 0;
	return wait;
}

/* Follows the targets until it is time to stop; returns why it stopped. */
static const char *follow(struct session *s)
{
	const struct trace_opts *o = s->opts;
	/* a sweep's time runs from when the processes there at its start are all followed */
	uint64_t start = o->sweep ? monotonic_ns() : s->model.start_ns, now = start;
	uint64_t deadline = o->duration_s > 0 ? start + (uint64_t)(o->duration_s * NSEC_PER_SEC) : 0;
	uint64_t interval = (uint64_t)(o->interval_s * NSEC_PER_SEC), next_summary = start + interval;
	uint64_t rescan = o->sweep ? (uint64_t)(o->sweep->rescan_s * NSEC_PER_SEC) : 0;
	uint64_t next_rescan = start + rescan;

	for (;;) {
		/* first: a warning that names a connection comes before the close that ends it */
		warning_tracker_poll(s->warnings);
		conn_tracker_poll(s->conns);
		now = monotonic_ns();
		check_execs(s);
		task_tracker_poll(s->tasks);
		model_sample(&s->model, now);
		if (interval && now >= next_summary) {
			report_live_summary(stderr, &s->model, now);
			next_summary += interval;
		}
		if (rescan && now >= next_rescan) {
			add_found_targets(s);
			o->sweep->progress(o->sweep->ctx, deadline ? ns_to_s(deadline - now) : -1);
			next_rescan = monotonic_ns() + rescan;
		}
		if (stop_requested)
			return "interrupted";
		/* a sweep waits for processes to start: only time or the user ends it */
		if (all_targets_exited(s, now) && !o->sweep)
			return "targets_exited";
		if (deadline && now >= deadline)
			return "duration";
		sleep_ns(poll_wait_ns(s, deadline, monotonic_ns()));
	}
}

/* Tracing is per process: the children each target started are counted, not followed. */
static void record_forks(struct session *s)
{
	struct proc_model *p;
	size_t i;

	for (i = 0; i < s->n_targets; i++)
		if ((p = model_process(&s->model, s->targets[i].pid)))
			p->processes_forked = exit_tracker_fork_count(s->exits, s->targets[i].pid);
}

/* What the live targets still hold, against what the model thinks they hold. */
static void reconcile_connections(struct session *s)
{
	size_t i;

	warning_tracker_poll(s->warnings);
	conn_tracker_poll(s->conns);
	for (i = 0; i < s->n_targets; i++)
		if (!target_has_exited(&s->targets[i]))
			conn_tracker_reconcile(s->conns, s->targets[i].pid);
}

/*
 * The name a process's series carry across restarts, as a sweep names it:
 * its container, else its systemd unit, else its command line.
 */
static const char *service_name(const struct session *s, const struct proc_model *p)
{
	size_t i;

	for (i = 0; i < s->n_targets; i++)
		if (s->targets[i].pid == p->pid)
			return s->targets[i].service;
	return p->exe;
}

/* Every traced process under host and service labels, for Prometheus. */
static int write_metrics(struct session *s, const struct report_meta *meta,
			 const struct findings *fs)
{
	struct metrics_source src = {
		.meta = meta,
		.model = &s->model,
		.findings = fs,
		.n_services = s->model.n_procs,
	};
	/* one more than needed: never an allocation of 0 */
	struct metrics_service *svc = calloc(s->model.n_procs + 1, sizeof(*svc));
	char host[HOST_NAME_MAX + 1] = "";
	size_t i;
	int err;

	if (!svc)
		return -ENOMEM;
	for (i = 0; i < s->model.n_procs; i++) {
		svc[i].service = service_name(s, &s->model.procs[i]);
		svc[i].pid_label = true;
		svc[i].proc = &s->model.procs[i];
	}
	gethostname(host, sizeof(host) - 1);
	src.host = host;
	src.services = svc;
	err = report_write_metrics(s->out.f, s->opts->format == REPORT_OPENMETRICS ?
				   METRICS_OPENMETRICS : METRICS_PROMETHEUS, &src, 1);
	free(svc);
	return err;
}

static int write_report(struct session *s, const char *end_reason)
{
	struct report_meta meta = {
		.version = INFLIGHT_VERSION,
		.end_reason = end_reason,
		.now_ns = s->model.end_ns,
		.thresholds = &s->opts->thresholds,
	};
	struct findings fs;
	int err;

	err = findings_compute(&s->model, &s->opts->thresholds, meta.now_ns, &fs);
	if (err)
		return err;
	if (s->opts->sweep)
		err = s->opts->sweep->write(s->opts->sweep->ctx, s->out.f, &meta, &s->model, &fs);
	else if (s->opts->format == REPORT_JSON)
		err = report_write_json(s->out.f, &meta, &s->model, &fs);
	else if (s->opts->format == REPORT_OPENMETRICS || s->opts->format == REPORT_PROMETHEUS)
		err = write_metrics(s, &meta, &fs);
	else
		err = report_write_text(s->out.f, &meta, &s->model, &fs);
	findings_free(&fs);
	if (!err)
		err = output_commit(&s->out);
	return err;
}

static void session_cleanup(struct session *s)
{
	size_t i;

	task_tracker_destroy(s->tasks);
	s->tasks = NULL;
	warning_tracker_destroy(s->warnings);
	s->warnings = NULL;
	exit_tracker_destroy(s->exits);
	s->exits = NULL;
	conn_tracker_destroy(s->conns);
	s->conns = NULL;
	for (i = 0; i < s->n_targets; i++)
		target_close(&s->targets[i]);
	free(s->targets);
	output_abort(&s->out);
	model_free(&s->model);
}

int trace_session_run(const struct trace_opts *opts)
{
	struct session s = { .opts = opts };
	const char *end_reason;
	int err;

	bpf_setup_logging();
	if (bpf_check_environment() || bpf_ensure_tracefs())
		return EXIT_BAD_INPUT;
	if (model_init(&s.model, monotonic_ns(), MAX_TRACKED_CONNECTIONS)) {
		log_error("out of memory");
		model_free(&s.model);
		return 1;
	}
	s.model.mode = opts->mode;
	s.model.sample_period_ns = (uint64_t)(opts->sample_period_s * NSEC_PER_SEC);
	/* shorter stays in CLOSE_WAIT are no finding: not worth keeping */
	s.model.close_wait_keep_ns = (uint64_t)(opts->thresholds.close_wait_min_age_s * NSEC_PER_SEC);
	err = output_open(&s.out, opts->output);
	if (err) {
		log_error("cannot write the report to '%s': %s; choose a writable path with -o",
			  opts->output, output_strerror(err));
		goto bad_input;
	}
	if (opts->sweep && opts->sweep->open(opts->sweep->ctx))
		goto bad_input;
	install_signal_handlers();
	if (open_targets(&s) || attach(&s))
		goto bad_input;
	announce(&s);
	if (opts->sweep) {
		/* the processes there at the start, at once */
		add_found_targets(&s);
		opts->sweep->progress(opts->sweep->ctx, opts->duration_s > 0 ? opts->duration_s : -1);
	}

	end_reason = follow(&s);
	reconcile_connections(&s);
	record_forks(&s);
	task_tracker_poll(s.tasks);
	model_finish(&s.model, monotonic_ns());
	/*
	 * The report first, then the detach (in session_cleanup): each probe's
	 * detach waits ~90 ms in the kernel, one after another, which would keep
	 * the user from the report for 0.7 s with one target and ~12 s with 50,
	 * and lose it to a second Ctrl-C in that wait.
	 */
	err = write_report(&s, end_reason);
	if (err) {
		log_error("failed to write the report%s%s: %s", opts->output ? " to " : "",
			  opts->output ? opts->output : "", strerror(-err));
		session_cleanup(&s);
		return 1;
	}
	session_cleanup(&s);
	return 0;

bad_input:
	session_cleanup(&s);
	return EXIT_BAD_INPUT;
}
