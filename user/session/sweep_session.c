// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"
#include "output.h"
#include "proc_identity.h"
#include "python_target.h"
#include "python_version.h"
#include "report_snapshot.h"
#include "snapshot_files.h"
#include "sweep_session.h"

#define EXIT_BAD_INPUT 2
#define RESCAN_PERIOD_S 2.0
/* progress on stderr when the counts change, else this often */
#define PROGRESS_PERIOD_NS (10 * NSEC_PER_SEC)

enum entry_state {
	ENTRY_IGNORED,		/* not a Python, inflight itself, a kernel thread, or gone */
	ENTRY_CANDIDATE,	/* a CPython, handed to the trace to add */
	ENTRY_TRACED,
	ENTRY_SKIPPED,
};

/*
 * A process the sweep has looked at: (pid, start_time) names it; looked at
 * again if it exec()s another program while not traced. Kept in PID order,
 * a host's thousands of processes being looked up at every rescan.
 */
struct sweep_entry {
	pid_t pid;
	unsigned long long start_time;
	uint64_t exe_hash;
	enum entry_state state;
	struct proc_identity *id;	/* traced and skipped ones */
	char service[SERVICE_NAME_MAX];
	const char *service_source;
	char python[24];
	char *reason;			/* skipped: why */
};

struct sweep {
	struct output metrics;	/* --metrics FILE; metrics.f NULL without it */
	const char *metrics_path;
	struct sweep_entry *entries;
	size_t n, cap;
	size_t n_traced, n_skipped;
	pid_t self;
	struct python_target py;	/* scratch for each look */
	size_t shown_traced, shown_skipped;
	uint64_t shown_ns;
};

/* Where pid's entry is, or would go: the entries are kept in PID order. */
static size_t entry_index(const struct sweep *sw, pid_t pid)
{
	size_t lo = 0, hi = sw->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sw->entries[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct sweep_entry *entry_of(struct sweep *sw, pid_t pid)
{
	size_t i = entry_index(sw, pid);

	return i < sw->n && sw->entries[i].pid == pid ? &sw->entries[i] : NULL;
}

static struct sweep_entry *new_entry(struct sweep *sw, pid_t pid)
{
	struct sweep_entry *grown;
	size_t cap, at = entry_index(sw, pid);

	if (sw->n == sw->cap) {
		cap = sw->cap ? sw->cap * 2 : 256;
		grown = reallocarray(sw->entries, cap, sizeof(*grown));
		if (!grown)
			return NULL;
		sw->entries = grown;
		sw->cap = cap;
	}
	memmove(&sw->entries[at + 1], &sw->entries[at], (sw->n - at) * sizeof(sw->entries[0]));
	sw->n++;
	memset(&sw->entries[at], 0, sizeof(sw->entries[0]));
	sw->entries[at].pid = pid;
	return &sw->entries[at];
}

static void entry_forget(struct sweep_entry *e)
{
	if (e->id)
		proc_identity_free(e->id);
	free(e->id);
	free(e->reason);
	e->id = NULL;
	e->reason = NULL;
}

static void skip_entry(struct sweep *sw, struct sweep_entry *e, const char *why)
{
	e->state = ENTRY_SKIPPED;
	e->reason = strdup(why);
	sw->n_skipped++;
	log_info("PID %d (%s) skipped: %s", e->pid, e->id->exe, why);
}

/* Reads who the process is; false if it is gone (the entry is then ignored). */
static bool identify(struct sweep_entry *e)
{
	e->id = malloc(sizeof(*e->id));
	if (!e->id || proc_identity_read(e->pid, e->id)) {
		free(e->id);
		e->id = NULL;
		e->state = ENTRY_IGNORED;
		return false;
	}
	e->service_source = proc_identity_service(e->id, e->service, sizeof(e->service));
	return true;
}

/*
 * A process seen for the first time: a CPython inflight can hook becomes a
 * candidate; one that is, or looks like, a Python it cannot is skipped, with why.
 */
static void classify(struct sweep *sw, struct sweep_entry *e)
{
	int err;

	e->state = ENTRY_IGNORED;
	if (e->pid == sw->self || proc_is_kernel_thread(e->pid))
		return;
	err = python_runtime_discover(e->pid, &sw->py);
	if (err == -ENOENT && !python_process_lookalike(e->pid))
		return;
	if (!identify(e))
		return;
	if (err) {
		skip_entry(sw, e, sw->py.problem);
		return;
	}
	/* 3.9 and 3.10 say their micro version only in memory: without it, "3.10" */
	python_version_complete(&sw->py);
	snprintf(e->python, sizeof(e->python), "%s", sw->py.version);
	e->state = ENTRY_CANDIDATE;
}

/* FNV-1a: to tell that a process runs another program, without keeping its path */
static uint64_t hash_of(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* trace_sweep.find: the CPython processes not seen before, or running another program. */
static size_t find_new(void *ctx, pid_t *out, size_t max)
{
	struct sweep *sw = ctx;
	struct sweep_entry *e;
	unsigned long long start;
	char exe[PATH_MAX];
	size_t n = 0, i, count;
	uint64_t exe_hash;
	pid_t *pids;
	int err;

	err = proc_list_pids(&pids, &count);
	if (err) {
		log_error("failed to list the processes in /proc: %s", strerror(-err));
		return 0;
	}
	for (i = 0; i < count && n < max; i++) {
		/* the start time tells a process from an earlier one with its PID */
		if (proc_identity_peek(pids[i], &start, exe, sizeof(exe)))
			continue;
		exe_hash = hash_of(exe);
		e = entry_of(sw, pids[i]);
		/* a wrapper that exec()s python (a shell, a container's entry point) is seen again */
		if (e && e->start_time == start && e->exe_hash == exe_hash)
			continue;
		if (e && (e->state == ENTRY_TRACED || e->state == ENTRY_CANDIDATE))
			continue;	/* the trace keeps what that PID's first process did */
		if (e)
			entry_forget(e);
		else if (!(e = new_entry(sw, pids[i])))
			break;
		if (e->state == ENTRY_SKIPPED)
			sw->n_skipped--;
		e->start_time = start;
		e->exe_hash = exe_hash;
		classify(sw, e);
		if (e->state == ENTRY_CANDIDATE)
			out[n++] = e->pid;
	}
	free(pids);
	return n;
}

/* trace_sweep.added */
static void target_added(void *ctx, pid_t pid, int err)
{
	struct sweep *sw = ctx;
	struct sweep_entry *e = entry_of(sw, pid);
	char why[128];

	if (!e || e->state != ENTRY_CANDIDATE)
		return;
	if (!err) {
		e->state = ENTRY_TRACED;
		sw->n_traced++;
		log_info("PID %d (%s, CPython %s) traced as %s", pid, e->id->exe, e->python, e->service);
	} else if (err == -ESRCH) {
		e->state = ENTRY_IGNORED;	/* gone before it could be traced: not on the host */
	} else if (err == -E2BIG) {
		skip_entry(sw, e, "the sweep already traces as many processes as inflight can "
			   "follow at once");
	} else {
		snprintf(why, sizeof(why), err == -EPERM || err == -EACCES ?
			 "not allowed to trace it (%s): run inflight as root" : "failed to trace it: %s",
			 strerror(-err));
		skip_entry(sw, e, why);
	}
}

/* trace_sweep.progress */
static void show_progress(void *ctx, double left_s)
{
	struct sweep *sw = ctx;
	uint64_t now = monotonic_ns();
	char left[64] = "";

	if (sw->shown_ns && sw->n_traced == sw->shown_traced && sw->n_skipped == sw->shown_skipped &&
	    now - sw->shown_ns < PROGRESS_PERIOD_NS)
		return;
	if (left_s >= 0)
		snprintf(left, sizeof(left), "; %.0f s left", left_s);
	fprintf(stderr, "Sweeping: %zu CPython process%s traced, %zu skipped%s. Hit Ctrl-C to end "
		"early.\n", sw->n_traced, sw->n_traced == 1 ? "" : "es", sw->n_skipped, left);
	sw->shown_ns = now;
	sw->shown_traced = sw->n_traced;
	sw->shown_skipped = sw->n_skipped;
}

static void describe(const struct sweep_entry *e, struct snapshot_process *sp)
{
	const struct cgroup_identity *c = &e->id->cgroup;

	memset(sp, 0, sizeof(*sp));
	sp->pid = e->pid;
	sp->service = e->service;
	sp->service_source = e->service_source;
	sp->exe = e->id->exe;
	sp->argv = e->id->argv;
	sp->argc = e->id->argc;
	sp->python = e->python[0] ? e->python : NULL;
	sp->cgroup = c->path[0] ? c->path : NULL;
	sp->runtime = cgroup_runtime_name(c->runtime);
	sp->container_name = c->runtime == CGROUP_RUNTIME_SYSTEMD ? c->unit :
			     e->id->container_name[0] ? e->id->container_name : NULL;
	sp->container_id = c->id[0] ? c->id : NULL;
	sp->reason = e->reason ? e->reason : "";
}

/* /etc/machine-id's line, or NULL */
static const char *machine_id(char *buf, size_t size)
{
	FILE *f = fopen("/etc/machine-id", "re");
	bool ok;

	if (!f)
		return NULL;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	buf[ok ? strcspn(buf, "\n") : 0] = '\0';
	return buf[0] ? buf : NULL;
}

static int write_snapshot(const struct sweep *sw, FILE *f, const struct report_meta *meta,
			  const struct model *m, const struct findings *fs)
{
	struct snapshot_process *traced, *skipped;
	struct snapshot_info info = {};
	char host[256] = "", mid[64];
	struct utsname uts;
	size_t i;
	int err;

	traced = calloc(sw->n_traced + 1, sizeof(*traced));
	skipped = calloc(sw->n_skipped + 1, sizeof(*skipped));
	if (!traced || !skipped) {
		free(traced);
		free(skipped);
		return -ENOMEM;
	}
	for (i = 0; i < sw->n; i++) {
		if (sw->entries[i].state == ENTRY_TRACED)
			describe(&sw->entries[i], &traced[info.n_services++]);
		else if (sw->entries[i].state == ENTRY_SKIPPED)
			describe(&sw->entries[i], &skipped[info.n_skipped++]);
	}
	gethostname(host, sizeof(host) - 1);
	info.hostname = host;
	info.machine_id = machine_id(mid, sizeof(mid));
	info.kernel = uname(&uts) ? "" : uts.release;
	info.services = traced;
	info.skipped = skipped;
	err = report_write_snapshot(f, meta, m, fs, &info);
	free(traced);
	free(skipped);
	return err;
}

/*
 * The traced processes' figures for Prometheus, each under its service's
 * name, in the text format node_exporter's textfile collector reads.
 */
static int write_metrics(struct sweep *sw, const struct report_meta *meta,
			 const struct model *m, const struct findings *fs)
{
	struct metrics_service *svc = calloc(sw->n_traced + 1, sizeof(*svc));
	struct metrics_source src = { .meta = meta, .model = m, .findings = fs };
	char host[256] = "";
	const struct proc_model *p;
	size_t i;
	int err;

	if (!svc)
		return -ENOMEM;
	for (i = 0; i < sw->n; i++) {
		p = model_process(m, sw->entries[i].pid);
		if (sw->entries[i].state != ENTRY_TRACED || !p)
			continue;
		svc[src.n_services].service = sw->entries[i].service;
		svc[src.n_services++].proc = p;
	}
	gethostname(host, sizeof(host) - 1);
	src.host = host;
	src.services = svc;
	err = report_write_metrics(sw->metrics.f, METRICS_PROMETHEUS, &src, 1);
	free(svc);
	return err ? err : output_commit(&sw->metrics);
}

/*
 * trace_sweep.write: the snapshot into f, and with --metrics, the metrics
 * into their file, renamed into place here; the trace puts the snapshot in
 * place once this returns 0.
 */
static int write_result(void *ctx, FILE *f, const struct report_meta *meta, const struct model *m,
			const struct findings *fs)
{
	struct sweep *sw = ctx;
	int err;

	err = write_snapshot(sw, f, meta, m, fs);
	if (err || !sw->metrics.f)
		return err;
	err = write_metrics(sw, meta, m, fs);
	if (err)
		log_error("failed to write the metrics to '%s': %s", sw->metrics_path,
			  strerror(-err));
	return err;
}

static void sweep_free(struct sweep *sw)
{
	size_t i;

	for (i = 0; i < sw->n; i++)
		entry_forget(&sw->entries[i]);
	free(sw->entries);
	output_abort(&sw->metrics);
}

/*
 * DIR/inflight-HOSTNAME-YYYYmmddTHHMMSSZ.json.gz, one per sweep; *name, where
 * its file name starts in path. 0, or -errno with why said.
 */
static int snapshot_path(const char *dir, const char *host, char *path, size_t size,
			 const char **name)
{
	char file[NAME_MAX + 1];
	struct stat st;
	int n;

	if (stat(dir, &st)) {
		log_error("failed to open the snapshot directory '%s': %s; create it, or name "
			  "another with -o DIR", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("failed to open the snapshot directory '%s': not a directory; -o names "
			  "the directory the snapshot is written into", dir);
		return -ENOTDIR;
	}
	if (snapshot_file_name(host, time(NULL), file, sizeof(file)))
		n = -1;
	else
		n = snprintf(path, size, "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= size) {
		log_error("failed to name the snapshot in '%s': the path is too long", dir);
		return -ENAMETOOLONG;
	}
	*name = path + n - strlen(file);
	return 0;
}

/*
 * trace_sweep.open: the metrics file, before the trace starts, so one that
 * cannot be written fails the sweep before anything is attached.
 */
static int open_metrics(void *ctx)
{
	struct sweep *sw = ctx;
	int err;

	if (!sw->metrics_path)
		return 0;
	err = output_open(&sw->metrics, sw->metrics_path);
	if (err)
		log_error("failed to open the metrics file '%s': %s; choose a writable path with "
			  "--metrics", sw->metrics_path, output_strerror(err));
	return err;
}

/* --keep: after the snapshot is written, the host's older ones beyond keep go. */
static int keep_newest(const struct sweep_opts *opts, const char *host, const char *written)
{
	size_t removed;
	int err;

	err = snapshot_keep_newest(opts->dir, host, written, opts->keep, &removed);
	if (err)
		log_error("failed to remove the snapshots beyond the newest %zu in '%s': %s",
			  opts->keep, opts->dir, strerror(-err));
	else if (removed)
		log_info("removed %zu older snapshot%s of this host, keeping the newest %zu",
			 removed, removed == 1 ? "" : "s", opts->keep);
	return err;
}

int sweep_session_run(struct sweep_opts *opts)
{
	static struct sweep sw;
	struct trace_sweep hooks = {
		.ctx = &sw,
		.rescan_s = RESCAN_PERIOD_S,
		.find = find_new,
		.open = open_metrics,
		.added = target_added,
		.progress = show_progress,
		.write = write_result,
	};
	char path[PATH_MAX], hostname[256] = "", host[256];
	const char *name = NULL;
	int rc;

	gethostname(hostname, sizeof(hostname) - 1);
	snapshot_host_name(hostname, host, sizeof(host));
	if (snapshot_path(opts->dir, host, path, sizeof(path), &name))
		return EXIT_BAD_INPUT;
	memset(&sw, 0, sizeof(sw));
	sw.metrics_path = opts->metrics;
	sw.self = getpid();
	opts->trace.n_pids = 0;
	opts->trace.output = path;
	opts->trace.sweep = &hooks;
	rc = trace_session_run(&opts->trace);
	if (!rc)
		printf("%s\n", path);
	if (!rc && opts->keep && keep_newest(opts, host, name))
		rc = 1;
	sweep_free(&sw);
	return rc;
}
