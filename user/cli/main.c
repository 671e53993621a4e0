// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* inflight's command line: one subcommand per verb. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "cpython_layout.h"
#include "doctor_session.h"
#include "log.h"
#include "parse.h"
#include "ps_session.h"
#include "sweep_session.h"
#include "trace_session.h"
#include "trend_cmd.h"
#include "version.h"

#define EXIT_USAGE 2
#define MAX_DURATION_S (30.0 * 24 * 3600)

static const char main_usage[] =
	"Usage: inflight COMMAND [OPTIONS]\n"
	"\n"
	"See what a live Python asyncio service has in flight, from the kernel:\n"
	"no restart, no code change.\n"
	"\n"
	"Commands:\n"
	"  trace     attach to running processes and report on them when done\n"
	"  sweep     trace every CPython process on the host for a while, into a snapshot\n"
	"  ps        list the asyncio tasks a process has now, grouped by what they do\n"
	"  pstree    the same tasks as a tree: who awaits whom\n"
	"  trend     what changed between sweep snapshots, per host, service and site\n"
	"  doctor    whether this host, and the processes named, can be traced, and why not\n"
	"\n"
	"Options:\n"
	"  -h, --help     show this help (inflight COMMAND --help for a command's)\n"
	"  -V, --version  show the version, the git revision and the libbpf it was\n"
	"                 built from, and how it is linked\n"
	"\n"
	"Run as root (or with CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, and CAP_SYS_ADMIN\n"
	"for the uprobes of task tracking). 'inflight doctor' says what is missing.\n"
	"See inflight(8).\n";

static const char trace_usage[] =
	"Usage: inflight trace -p PID [-p PID ...] [OPTIONS]\n"
	"\n"
	"Attach to running processes, follow their asyncio tasks (CPython\n"
	CPYTHON_VERSIONS ") and TCP connections, and write a report with findings\n"
	"when the trace ends: after --duration, when every target has exited, or on\n"
	"Ctrl-C (SIGINT/SIGTERM).\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID            process to trace (repeat for several)\n"
	"  -d, --duration SECONDS   stop after this long (default: until Ctrl-C)\n"
	"  -i, --interval SECONDS   print a live summary on stderr this often\n"
	"  -f, --format FORMAT      report format: text (default), json, or metrics for\n"
	"                           Prometheus: openmetrics (OpenMetrics 1.0 text) or\n"
	"                           prometheus (the text format of node_exporter's\n"
	"                           textfile collector)\n"
	"  -o, --output FILE        write the report to FILE, atomically (default: stdout)\n"
	"      --close-wait-age SECONDS\n"
	"                           a CLOSE_WAIT socket this old is a leak (default: 2)\n"
	"      --fanout-tasks N     tasks in flight at once from one line that make a\n"
	"                           fan-out (default: 100)\n"
	"      --fanout-conns N     ...if they hold this many connections at once (default: 50)\n"
	"      --stuck-age SECONDS  a pending task this old, and 10 times older than its\n"
	"                           line's tasks usually live, is stuck (default: 30)\n"
	"      --config FILE        thresholds from a JSON file; options given here win\n"
	"      --lean               one probe hit per task, not two: task ends are read\n"
	"                           from memory every 100 ms (lifetimes to that grain);\n"
	"                           a task destroyed while pending still hits a probe\n"
	"      --sampled            no probe on task creation or end: tasks are read\n"
	"                           from memory every 100 ms (a task living less is not\n"
	"                           seen; its line is where its awaiter, else its\n"
	"                           coroutine, waits); a task destroyed while pending\n"
	"                           still hits a probe\n"
	"      --sample-period SECONDS\n"
	"                           with --sampled, read the tasks this often (default:\n"
	"                           0.1; longer costs inflight less per live task and\n"
	"                           misses more short tasks)\n"
	"      --max-sockets N      connections followed in the kernel at once, and\n"
	"                           connections found open at attach (default: 65536);\n"
	"                           what does not fit is counted in the report\n"
	"      --ring-size BYTES    the connection events' ring buffer: a power of two,\n"
	"                           K/M/G allowed (default: 4M); events it has no room\n"
	"                           for are counted as ring buffer drops\n"
	"  -v, --verbose            say more (twice: libbpf's debug log too)\n"
	"  -h, --help               show this help\n"
	"\n"
	"Examples:\n"
	"  inflight trace -p 1234                 trace until Ctrl-C, text report\n"
	"  inflight trace -p 1234 -d 30 -i 5      30 seconds, a summary every 5\n"
	"  inflight trace -p 1234 -p 5678 -f json -o report.json\n"
	"  inflight trace -p 1234 -d 300 -f prometheus \\\n"
	"      -o /var/lib/prometheus/node-exporter/inflight.prom\n"
	"  inflight trace -p 1234 --lean -d 60    fewer probe hits, for heavy task churn\n"
	"  inflight trace -p 1234 --sampled -d 60 no probe on the task hot path\n"
	"\n"
	"Exit status: 0 report written; 1 failed while tracing; 2 bad input or\n"
	"environment (nothing is left attached and no report file is written).\n";

static const char sweep_usage[] =
	"Usage: inflight sweep [-d SECONDS] [-o DIR] [OPTIONS]\n"
	"\n"
	"Find every CPython process on the host, those in containers too, and those\n"
	"that start while it runs; trace them all at once for the duration (tasks,\n"
	"connections, findings, as inflight trace does); then write one snapshot:\n"
	"DIR/inflight-HOSTNAME-YYYYmmddTHHMMSSZ.json.gz, gzip'ed JSON, written\n"
	"atomically; its path is printed on stdout. Each process is named by its\n"
	"service: its container, else its systemd unit, else its command line.\n"
	"Processes that look like Python but cannot be traced (a CPython version\n"
	"other than " CPYTHON_VERSIONS ", a free-threaded build, no rights) are listed\n"
	"in the snapshot with why. Ctrl-C ends the sweep early and still writes it.\n"
	"\n"
	"Options:\n"
	"  -d, --duration SECONDS   how long to trace (default: 60)\n"
	"  -o, --output DIR         the directory to write the snapshot into; it must\n"
	"                           exist (default: the current directory)\n"
	"      --metrics FILE       also write the figures of each service for\n"
	"                           Prometheus to FILE, atomically, replacing it: the\n"
	"                           text format node_exporter's textfile collector\n"
	"                           reads (its directory, *.prom)\n"
	"      --keep N             then keep this host's newest N snapshots in DIR\n"
	"                           (the new one among them) and remove its older\n"
	"                           ones; nothing else in DIR is touched\n"
	"      --sampled            read tasks from memory every --sample-period, no\n"
	"                           probe on their creation or end (the default)\n"
	"      --probes             a uprobe on each task's creation and end instead:\n"
	"                           short tasks are seen, at a cost to busy services\n"
	"      --sample-period SECONDS\n"
	"                           with --sampled, read the tasks this often\n"
	"                           (default: 0.1)\n"
	"      --close-wait-age SECONDS, --fanout-tasks N, --fanout-conns N,\n"
	"      --stuck-age SECONDS, --config FILE\n"
	"                           what makes a finding, as for inflight trace\n"
	"      --max-sockets N, --ring-size BYTES\n"
	"                           the connection tracer's limits, as for inflight trace\n"
	"  -v, --verbose            say more (why each skipped process was skipped)\n"
	"  -h, --help               show this help\n"
	"\n"
	"Examples:\n"
	"  inflight sweep                          60 seconds, snapshot in .\n"
	"  inflight sweep -d 300 -o /var/lib/inflight --keep 26 \\\n"
	"      --metrics /var/lib/prometheus/node-exporter/inflight.prom\n"
	"\n"
	"Exit status: 0 snapshot written; 1 failed while tracing or writing, or\n"
	"removing older snapshots; 2 bad input or environment (nothing is left\n"
	"attached and no file is written).\n";

static const char ps_usage[] =
	"Usage: inflight ps -p PID [OPTIONS]\n"
	"\n"
	"Every asyncio task of a running CPython " CPYTHON_VERSIONS " process, read from its\n"
	"memory at once, with no probe attached and without stopping it: a summary\n"
	"of tasks grouped by state, coroutine, what they wait on and where they are\n"
	"suspended, then with --tasks each task: its name, event loop, await chain\n"
	"(innermost last) and the task awaiting it.\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID            the process\n"
	"  -t, --tasks              list every task after the summary\n"
	"      --pause              hold the process still while reading it (ptrace), for\n"
	"                           an exact snapshot of a busy process; it costs the\n"
	"                           process the read's time (tens of ms per 10,000 tasks)\n"
	"  -f, --format text|json   output format (default: text)\n"
	"  -o, --output FILE        write to FILE, atomically (default: stdout)\n"
	"  -v, --verbose            say more\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 written; 1 the process could not be read; 2 bad input (no\n"
	"such process, not a CPython this version can read).\n";

static const char pstree_usage[] =
	"Usage: inflight pstree -p PID [OPTIONS]\n"
	"\n"
	"The asyncio tasks of a running CPython " CPYTHON_VERSIONS " process as a tree of\n"
	"who awaits whom (await, gather, TaskGroup), identical subtrees folded into\n"
	"one line with a count: '2000 × fetch client.py:31' under the task that\n"
	"gathers them. Read from its memory, with no probe and without stopping it.\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID            the process\n"
	"      --pause              hold the process still while reading it (see ps)\n"
	"  -f, --format text|json   output format (default: text)\n"
	"  -o, --output FILE        write to FILE, atomically (default: stdout)\n"
	"  -v, --verbose            say more\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: as for inflight ps.\n";

static const char trend_usage[] =
	"Usage: inflight trend SNAPSHOT... | DIR... [OPTIONS]\n"
	"\n"
	"Line up sweep snapshots (inflight-HOST-TIME.json.gz; a directory stands for\n"
	"every *.json.gz in it) in time per host, service and site, and say what the\n"
	"newest snapshot of each host has against the baseline: new and resolved\n"
	"findings, sites whose peak tasks, peak connections or leak slope grew past\n"
	"a threshold, new and vanished sites and services. Several hosts make one\n"
	"fleet report. A snapshot that cannot be read (not gzip, truncated, corrupt,\n"
	"another schema or version, larger than 64 MiB or 256 MiB decompressed) is\n"
	"named on stderr with why and left out; the report is written from the rest.\n"
	"\n"
	"Options:\n"
	"      --baseline FILE      compare against this snapshot (default: each host's\n"
	"                           oldest); it need not be among those named\n"
	"  -f, --format text|json|html\n"
	"                           report format (default: text); html is one\n"
	"                           self-contained page with charts, nothing fetched\n"
	"  -o, --output FILE        write the report to FILE, atomically (default: stdout)\n"
	"      --grow-tasks PCT     a site's peak tasks in flight grew by more than PCT\n"
	"                           percent (default: 50)\n"
	"      --grow-conns PCT     ...its peak connections (default: 50)\n"
	"      --grow-leak-slope PCT\n"
	"                           ...its leak slope, tasks per minute (default: 50)\n"
	"      --grow-min N         and by N at least, N per minute for a slope, so small\n"
	"                           figures do not make noise (default: 10)\n"
	"      --config FILE        these thresholds from a JSON file (grow_tasks_pct,\n"
	"                           grow_conns_pct, grow_leak_slope_pct, grow_min); options\n"
	"                           given here win\n"
	"  -h, --help               show this help\n"
	"\n"
	"Examples:\n"
	"  inflight trend /var/lib/inflight          every snapshot there\n"
	"  inflight trend -f html -o trend.html host1/ host2/\n"
	"  inflight trend --baseline last-release.json.gz snapshots/ --grow-tasks 20\n"
	"\n"
	"Exit status: 0 report written; 1 report written, but some snapshots were\n"
	"skipped (stderr says which and why); 2 bad input: no readable snapshot, a\n"
	"baseline that cannot be read, or the report could not be written (then no\n"
	"report file is written).\n";

static const char doctor_usage[] =
	"Usage: inflight doctor [-p PID ...] [OPTIONS]\n"
	"\n"
	"Check whether inflight can work here, by trying: the kernel, its BTF (or\n"
	"VMLINUX_BTF's file), lockdown, the capabilities held and lacking, tracefs,\n"
	"Yama's ptrace scope, whether inflight runs in a container; then inflight's\n"
	"own BPF programs are loaded and attached (tracepoints, a uprobe on inflight\n"
	"itself, ring buffers) and detached. With -p, each process: Python or not,\n"
	"its CPython version and build, where _asyncio is and how it would be\n"
	"hooked, the root its files are read through, whether its memory can be\n"
	"read. Ends with one verdict per capability (trace, tasks, warnings, ps), for\n"
	"the host and for each process: 'tasks: ready' or 'tasks: no (why)'.\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID            a process to check (repeat for several)\n"
	"  -f, --format text|json   output format (default: text)\n"
	"  -o, --output FILE        write to FILE, atomically (default: stdout)\n"
	"  -v, --verbose            say more (libbpf's messages)\n"
	"  -h, --help               show this help\n"
	"\n"
	"Environment:\n"
	"  VMLINUX_BTF              a kernel BTF file to use in place of\n"
	"                           /sys/kernel/btf/vmlinux (trace and sweep too)\n"
	"\n"
	"Examples:\n"
	"  inflight doctor                        can this host trace at all?\n"
	"  inflight doctor -p 1234                and this process?\n"
	"  inflight doctor -p 1234 -f json -o doctor.json\n"
	"\n"
	"Exit status: 0 every verdict is ready; 1 some are not; 2 bad input (a bad\n"
	"option, no such process).\n";

/* cmd is "trace " for a subcommand's error, "" for the top level's */
static int __attribute__((format(printf, 2, 3))) usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("inflight: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'inflight %s--help' for more information.\n", cmd);
	return EXIT_USAGE;
}

/* getopt_long's '?': an unknown option, or a flag given a value ("--lean=1") */
static int unknown_option(const char *cmd, const struct option *opts, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;

	for (; eq && len > 2 && opts->name; opts++)
		if (!strncmp(arg, "--", 2) && strlen(opts->name) == len - 2 &&
		    !strncmp(opts->name, arg + 2, len - 2))
			return usage_error(cmd, "option '%.*s' takes no value", (int)len, arg);
	return usage_error(cmd, "invalid option '%s'", arg);
}

static int add_pid(struct trace_opts *o, const char *arg)
{
	pid_t pid;
	size_t i;
	int err = parse_pid(arg, &pid);

	if (err)
		return usage_error("trace ", "invalid PID '%s': expected a process ID from 1 to 4194304",
				   arg);
	for (i = 0; i < o->n_pids; i++)
		if (o->pids[i] == pid)
			return 0;
	if (o->n_pids == TRACE_MAX_PIDS)
		return usage_error("trace ", "too many PIDs (at most %d)", TRACE_MAX_PIDS);
	o->pids[o->n_pids++] = pid;
	return 0;
}

/* metrics: whether the command writes metrics (trace does; ps and pstree do not) */
static int format_option(const char *cmd, const char *arg, bool metrics,
			 enum report_format *format)
{
	if (!strcmp(arg, "text"))
		*format = REPORT_TEXT;
	else if (!strcmp(arg, "json"))
		*format = REPORT_JSON;
	else if (metrics && !strcmp(arg, "openmetrics"))
		*format = REPORT_OPENMETRICS;
	else if (metrics && !strcmp(arg, "prometheus"))
		*format = REPORT_PROMETHEUS;
	else if (metrics)
		return usage_error(cmd, "invalid format '%s': expected text, json, openmetrics or "
				   "prometheus", arg);
	else
		return usage_error(cmd, "invalid format '%s': expected text or json", arg);
	return 0;
}

static int seconds_option(const char *cmd, const char *arg, const char *what, double min,
			  double *out)
{
	if (!parse_seconds(arg, min, MAX_DURATION_S, out))
		return 0;
	return usage_error(cmd, "invalid %s '%s': expected seconds, from %g to %.0f", what, arg,
			   min, MAX_DURATION_S);
}

enum { OPT_CLOSE_WAIT_AGE = 256, OPT_FANOUT_TASKS, OPT_FANOUT_CONNS, OPT_STUCK_AGE, OPT_CONFIG,
       OPT_PAUSE, OPT_LEAN, OPT_SAMPLED, OPT_SAMPLE_PERIOD, OPT_MAX_SOCKETS, OPT_RING_SIZE,
       OPT_PROBES, OPT_METRICS, OPT_KEEP };

#define MAX_SOCKETS_LIMIT (4ULL << 20)
#define RING_SIZE_LIMIT (1ULL << 30)

static int count_option(const char *cmd, const char *arg, const char *what, uint32_t *out)
{
	double v;

	if (parse_seconds(arg, 1, 1e9, &v) || v != (double)(uint32_t)v)
		return usage_error(cmd, "invalid %s '%s': expected a whole number from 1", what,
				   arg);
	*out = (uint32_t)v;
	return 0;
}

static int max_sockets_option(const char *cmd, const char *arg, size_t *out)
{
	unsigned long long v;

	if (parse_size(arg, 1, MAX_SOCKETS_LIMIT, &v))
		return usage_error(cmd, "invalid socket count '%s': expected a whole number "
				   "from 1 to %llu", arg, MAX_SOCKETS_LIMIT);
	*out = v;
	return 0;
}

/* The kernel takes a ring buffer of a power of two pages. */
static int ring_size_option(const char *cmd, const char *arg, size_t *out)
{
	unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE), v;

	if (parse_size(arg, page, RING_SIZE_LIMIT, &v) || (v & (v - 1)))
		return usage_error(cmd, "invalid ring buffer size '%s': expected a power of two "
				   "from %llu to 1G bytes (K, M and G allowed)", arg, page);
	*out = v;
	return 0;
}

/*
 * Threshold options are applied after --config wherever they stand on the
 * command line: the file sets the team's defaults, the options win.
 */
struct threshold_overrides {
	struct finding_thresholds values;
	bool close_wait_age, fanout_tasks, fanout_conns, stuck_age;
	const char *config;
};

static int apply_thresholds(const char *cmd, const struct threshold_overrides *ov,
			    struct finding_thresholds *t)
{
	char why[256];

	*t = default_thresholds;
	if (ov->config && config_load_thresholds(ov->config, t, why, sizeof(why)))
		return usage_error(cmd, "bad config file '%s': %s", ov->config, why);
	if (ov->close_wait_age)
		t->close_wait_min_age_s = ov->values.close_wait_min_age_s;
	if (ov->fanout_tasks)
		t->fanout_min_tasks = ov->values.fanout_min_tasks;
	if (ov->fanout_conns)
		t->fanout_min_conns = ov->values.fanout_min_conns;
	if (ov->stuck_age)
		t->stuck_min_age_s = ov->values.stuck_min_age_s;
	return 0;
}

/* The options that set what makes a finding (c, the option's code), shared by trace and sweep. */
static int threshold_option(const char *cmd, int c, const char *arg, struct threshold_overrides *ov)
{
	switch (c) {
	case OPT_CLOSE_WAIT_AGE:
		ov->close_wait_age = true;
		return seconds_option(cmd, arg, "CLOSE_WAIT age", 0, &ov->values.close_wait_min_age_s);
	case OPT_FANOUT_TASKS:
		ov->fanout_tasks = true;
		return count_option(cmd, arg, "fan-out task count", &ov->values.fanout_min_tasks);
	case OPT_FANOUT_CONNS:
		ov->fanout_conns = true;
		return count_option(cmd, arg, "fan-out connection count", &ov->values.fanout_min_conns);
	case OPT_STUCK_AGE:
		ov->stuck_age = true;
		return seconds_option(cmd, arg, "stuck age", 0, &ov->values.stuck_min_age_s);
	default:
		ov->config = arg;
		return 0;
	}
}

/* --lean and --sampled each say how tasks are followed: one of them at most */
static int mode_option(struct trace_opts *o, enum trace_mode mode)
{
	if (o->mode != TRACE_MODE_PROBES && o->mode != mode)
		return usage_error("trace ", "--lean and --sampled are two ways of following tasks: "
				   "give one of them");
	o->mode = mode;
	return 0;
}

/*
 * The options trace and sweep share: thresholds, the sample period, the
 * kernel-side sizes and -v. -ENOENT when c is none of them.
 */
static int shared_trace_option(const char *cmd, int c, const char *arg, struct trace_opts *o,
			       struct threshold_overrides *ov)
{
	switch (c) {
	case OPT_CLOSE_WAIT_AGE:
	case OPT_FANOUT_TASKS:
	case OPT_FANOUT_CONNS:
	case OPT_STUCK_AGE:
	case OPT_CONFIG:
		return threshold_option(cmd, c, arg, ov);
	case OPT_SAMPLE_PERIOD:
		return seconds_option(cmd, arg, "sample period", 0.1, &o->sample_period_s);
	case OPT_MAX_SOCKETS:
		return max_sockets_option(cmd, arg, &o->max_sockets);
	case OPT_RING_SIZE:
		return ring_size_option(cmd, arg, &o->ring_bytes);
	case 'v':
		log_verbosity++;
		return 0;
	}
	return -ENOENT;
}

static int trace_main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "close-wait-age", required_argument, NULL, OPT_CLOSE_WAIT_AGE },
		{ "fanout-tasks", required_argument, NULL, OPT_FANOUT_TASKS },
		{ "fanout-conns", required_argument, NULL, OPT_FANOUT_CONNS },
		{ "stuck-age", required_argument, NULL, OPT_STUCK_AGE },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "lean", no_argument, NULL, OPT_LEAN },
		{ "sampled", no_argument, NULL, OPT_SAMPLED },
		{ "sample-period", required_argument, NULL, OPT_SAMPLE_PERIOD },
		{ "max-sockets", required_argument, NULL, OPT_MAX_SOCKETS },
		{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct threshold_overrides ov = {};
	static struct trace_opts o;
	int c, err;

	memset(&o, 0, sizeof(o));
	o.max_sockets = TRACE_DEFAULT_MAX_SOCKETS;
	o.ring_bytes = TRACE_DEFAULT_RING_BYTES;
	optind = 1;
	opterr = 0;	/* we say what was wrong, in our own words */
	while ((c = getopt_long(argc, argv, ":p:d:i:f:o:vh", long_opts, NULL)) != -1) {
		err = 0;
		switch (c) {
		case 'p':
			err = add_pid(&o, optarg);
			break;
		case 'd':
			err = seconds_option("trace ", optarg, "duration", 0.001, &o.duration_s);
			break;
		case 'i':
			err = seconds_option("trace ", optarg, "interval", 0.1, &o.interval_s);
			break;
		case 'f':
			err = format_option("trace ", optarg, true, &o.format);
			break;
		case 'o':
			if (!*optarg)
				err = usage_error("trace ",
						  "empty output path: name a file, or '-' for stdout");
			o.output = optarg;
			break;
		case OPT_LEAN:
		case OPT_SAMPLED:
			err = mode_option(&o, c == OPT_LEAN ? TRACE_MODE_LEAN : TRACE_MODE_SAMPLED);
			break;
		case 'h':
			fputs(trace_usage, stdout);
			return 0;
		case ':':
			return usage_error("trace ", "option '%s' needs a value", argv[optind - 1]);
		default:
			err = shared_trace_option("trace ", c, optarg, &o, &ov);
			if (err == -ENOENT)
				return unknown_option("trace ", long_opts, argv[optind - 1]);
		}
		if (err)
			return err;
	}
	if (optind < argc)
		return usage_error("trace ", "unexpected argument '%s'", argv[optind]);
	if (!o.n_pids)
		return usage_error("trace ", "trace needs at least one process: -p PID");
	if (o.sample_period_s && o.mode != TRACE_MODE_SAMPLED)
		return usage_error("trace ", "--sample-period is how often --sampled reads the "
				   "tasks: add --sampled, or drop it");
	if (!o.sample_period_s)
		o.sample_period_s = TRACE_DEFAULT_SAMPLE_PERIOD_S;
	err = apply_thresholds("trace ", &ov, &o.thresholds);
	if (err)
		return err;
	return trace_session_run(&o);
}

/* --metrics FILE: a file, written beside the snapshot; stdout carries the snapshot's path */
static int metrics_option(const char *arg, const char **path)
{
	if (!*arg || !strcmp(arg, "-"))
		return usage_error("sweep ", "invalid metrics file '%s': name the file to write "
				   "them to, such as /var/lib/prometheus/node-exporter/inflight.prom",
				   arg);
	*path = arg;
	return 0;
}

static int keep_option(const char *arg, size_t *keep)
{
	unsigned long long n;

	if (parse_count(arg, 1, SWEEP_MAX_KEEP, &n))
		return usage_error("sweep ", "invalid number of snapshots to keep '%s': expected "
				   "1 to %d", arg, SWEEP_MAX_KEEP);
	*keep = (size_t)n;
	return 0;
}

/* --sampled or --probes: one of them at most */
static int sweep_mode_option(bool *given, enum trace_mode *mode, enum trace_mode want)
{
	if (*given && *mode != want)
		return usage_error("sweep ", "--sampled and --probes are two ways of following "
				   "tasks: give one of them");
	*given = true;
	*mode = want;
	return 0;
}

static int sweep_main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "sampled", no_argument, NULL, OPT_SAMPLED },
		{ "probes", no_argument, NULL, OPT_PROBES },
		{ "sample-period", required_argument, NULL, OPT_SAMPLE_PERIOD },
		{ "close-wait-age", required_argument, NULL, OPT_CLOSE_WAIT_AGE },
		{ "fanout-tasks", required_argument, NULL, OPT_FANOUT_TASKS },
		{ "fanout-conns", required_argument, NULL, OPT_FANOUT_CONNS },
		{ "stuck-age", required_argument, NULL, OPT_STUCK_AGE },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "max-sockets", required_argument, NULL, OPT_MAX_SOCKETS },
		{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static struct sweep_opts o;
	struct threshold_overrides ov = {};
	struct trace_opts *t = &o.trace;
	bool mode_given = false;
	int c, err;

	memset(&o, 0, sizeof(o));
	o.dir = ".";
	t->duration_s = SWEEP_DEFAULT_DURATION_S;
	/* reading tasks from memory costs the swept services least (issue 25) */
	t->mode = TRACE_MODE_SAMPLED;
	t->format = REPORT_JSON;
	t->max_sockets = TRACE_DEFAULT_MAX_SOCKETS;
	t->ring_bytes = TRACE_DEFAULT_RING_BYTES;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:o:vh", long_opts, NULL)) != -1) {
		err = 0;
		switch (c) {
		case 'd':
			err = seconds_option("sweep ", optarg, "duration", 0.001, &t->duration_s);
			break;
		case 'o':
			if (!*optarg)
				err = usage_error("sweep ", "empty output directory: name one, or leave "
						  "-o out for the current directory");
			o.dir = optarg;
			break;
		case OPT_METRICS:
			err = metrics_option(optarg, &o.metrics);
			break;
		case OPT_KEEP:
			err = keep_option(optarg, &o.keep);
			break;
		case OPT_SAMPLED:
		case OPT_PROBES:
			err = sweep_mode_option(&mode_given, &t->mode, c == OPT_SAMPLED ?
						TRACE_MODE_SAMPLED : TRACE_MODE_PROBES);
			break;
		case 'h':
			fputs(sweep_usage, stdout);
			return 0;
		case ':':
			return usage_error("sweep ", "option '%s' needs a value", argv[optind - 1]);
		default:
			err = shared_trace_option("sweep ", c, optarg, t, &ov);
			if (err == -ENOENT)
				return unknown_option("sweep ", long_opts, argv[optind - 1]);
		}
		if (err)
			return err;
	}
	if (optind < argc)
		return usage_error("sweep ", "unexpected argument '%s'", argv[optind]);
	if (t->sample_period_s && t->mode != TRACE_MODE_SAMPLED)
		return usage_error("sweep ", "--sample-period is how often --sampled reads the "
				   "tasks: drop it, or --probes");
	if (!t->sample_period_s)
		t->sample_period_s = TRACE_DEFAULT_SAMPLE_PERIOD_S;
	err = apply_thresholds("sweep ", &ov, &t->thresholds);
	if (err)
		return err;
	return sweep_session_run(&o);
}

static int ps_main(int argc, char **argv, bool tree)
{
	static const struct option long_opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "tasks", no_argument, NULL, 't' },
		{ "pause", no_argument, NULL, OPT_PAUSE },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *cmd = tree ? "pstree " : "ps ";
	struct ps_opts o = { .tree = tree };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, tree ? ":p:f:o:vh" : ":p:tf:o:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (o.pid)
				return usage_error(cmd, "one process at a time: -p was given twice");
			if (parse_pid(optarg, &o.pid))
				return usage_error(cmd, "invalid PID '%s': expected a process ID from 1 "
						   "to 4194304", optarg);
			break;
		case 't':
			o.per_task = true;
			break;
		case OPT_PAUSE:
			o.pause = true;
			break;
		case 'f':
			if (format_option(cmd, optarg, false, &o.format))
				return EXIT_USAGE;
			break;
		case 'o':
			if (!*optarg)
				return usage_error(cmd, "empty output path: name a file, or '-' for stdout");
			o.output = optarg;
			break;
		case 'v':
			log_verbosity++;
			break;
		case 'h':
			fputs(tree ? pstree_usage : ps_usage, stdout);
			return 0;
		case ':':
			return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		default:
			return unknown_option(cmd, long_opts, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!o.pid)
		return usage_error(cmd, "which process? -p PID");
	return ps_session_run(&o);
}

static int add_doctor_pid(struct doctor_opts *o, const char *arg)
{
	pid_t pid;
	size_t i;

	if (parse_pid(arg, &pid))
		return usage_error("doctor ", "invalid PID '%s': expected a process ID from 1 to "
				   "4194304", arg);
	for (i = 0; i < o->n_pids; i++)
		if (o->pids[i] == pid)
			return 0;
	if (o->n_pids == DOCTOR_MAX_PIDS)
		return usage_error("doctor ", "too many PIDs (at most %d)", DOCTOR_MAX_PIDS);
	o->pids[o->n_pids++] = pid;
	return 0;
}

static int doctor_main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static struct doctor_opts o;
	int c, err;

	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:f:o:vh", long_opts, NULL)) != -1) {
		err = 0;
		switch (c) {
		case 'p':
			err = add_doctor_pid(&o, optarg);
			break;
		case 'f':
			err = format_option("doctor ", optarg, false, &o.format);
			break;
		case 'o':
			if (!*optarg)
				err = usage_error("doctor ",
						  "empty output path: name a file, or '-' for stdout");
			o.output = optarg;
			break;
		case 'v':
			log_verbosity++;
			break;
		case 'h':
			fputs(doctor_usage, stdout);
			return 0;
		case ':':
			return usage_error("doctor ", "option '%s' needs a value", argv[optind - 1]);
		default:
			return unknown_option("doctor ", long_opts, argv[optind - 1]);
		}
		if (err)
			return err;
	}
	if (optind < argc)
		return usage_error("doctor ", "unexpected argument '%s'", argv[optind]);
	return doctor_session_run(&o);
}

enum { OPT_BASELINE = 512, OPT_GROW_TASKS, OPT_GROW_CONNS, OPT_GROW_SLOPE, OPT_GROW_MIN,
       OPT_TREND_CONFIG };

static int pct_option(const char *arg, const char *what, double *out)
{
	if (!parse_seconds(arg, 0, 1e9, out))
		return 0;
	return usage_error("trend ", "invalid %s '%s': expected a number from 0 to 1e9", what, arg);
}

/* Threshold options win over --config wherever they stand, as for trace. */
struct trend_overrides {
	struct trend_thresholds values;
	bool set[4];
	const char *config;
};

static int apply_trend_thresholds(const struct trend_overrides *ov, struct trend_thresholds *t)
{
	double *field[4] = { &t->grow_tasks_pct, &t->grow_conns_pct, &t->grow_leak_slope_pct,
			     &t->grow_min };
	const double value[4] = { ov->values.grow_tasks_pct, ov->values.grow_conns_pct,
				  ov->values.grow_leak_slope_pct, ov->values.grow_min };
	char why[256];
	int i;

	*t = trend_default_thresholds;
	if (ov->config && config_load_trend(ov->config, t, why, sizeof(why)))
		return usage_error("trend ", "bad config file '%s': %s", ov->config, why);
	for (i = 0; i < 4; i++)
		if (ov->set[i])
			*field[i] = value[i];
	return 0;
}

static int trend_option(int c, const char *arg, struct trend_opts *o, struct trend_overrides *ov)
{
	switch (c) {
	case 'f':
		if (!strcmp(arg, "text"))
			o->format = TREND_TEXT;
		else if (!strcmp(arg, "json"))
			o->format = TREND_JSON;
		else if (!strcmp(arg, "html"))
			o->format = TREND_HTML;
		else
			return usage_error("trend ", "invalid format '%s': expected text, json or html",
					   arg);
		return 0;
	case 'o':
		if (!*arg)
			return usage_error("trend ", "empty output path: name a file, or '-' for stdout");
		o->output = arg;
		return 0;
	case OPT_BASELINE:
		o->baseline = arg;
		return 0;
	case OPT_GROW_TASKS:
		ov->set[0] = true;
		return pct_option(arg, "task growth", &ov->values.grow_tasks_pct);
	case OPT_GROW_CONNS:
		ov->set[1] = true;
		return pct_option(arg, "connection growth", &ov->values.grow_conns_pct);
	case OPT_GROW_SLOPE:
		ov->set[2] = true;
		return pct_option(arg, "leak slope growth", &ov->values.grow_leak_slope_pct);
	case OPT_GROW_MIN:
		ov->set[3] = true;
		return pct_option(arg, "smallest rise", &ov->values.grow_min);
	case OPT_TREND_CONFIG:
		ov->config = arg;
		return 0;
	}
	return usage_error("trend ", "invalid option");
}

static int trend_main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "grow-tasks", required_argument, NULL, OPT_GROW_TASKS },
		{ "grow-conns", required_argument, NULL, OPT_GROW_CONNS },
		{ "grow-leak-slope", required_argument, NULL, OPT_GROW_SLOPE },
		{ "grow-min", required_argument, NULL, OPT_GROW_MIN },
		{ "config", required_argument, NULL, OPT_TREND_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct trend_overrides ov = {};
	struct trend_opts o = {};
	int c, err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(trend_usage, stdout);
			return 0;
		}
		if (c == ':')
			return usage_error("trend ", "option '%s' needs a value", argv[optind - 1]);
		if (c == '?')
			return unknown_option("trend ", long_opts, argv[optind - 1]);
		err = trend_option(c, optarg, &o, &ov);
		if (err)
			return err;
	}
	if (optind == argc)
		return usage_error("trend ", "which snapshots? name snapshot files or directories");
	o.inputs = argv + optind;
	o.n_inputs = argc - optind;
	err = apply_trend_thresholds(&ov, &o.thresholds);
	if (err)
		return err;
	return trend_run(&o);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!cmd) {
		fputs(main_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		version_print(stdout);
		return 0;
	}
	if (!strcmp(cmd, "trace"))
		return trace_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "sweep"))
		return sweep_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "ps") || !strcmp(cmd, "pstree"))
		return ps_main(argc - 1, argv + 1, !strcmp(cmd, "pstree"));
	if (!strcmp(cmd, "trend"))
		return trend_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "doctor"))
		return doctor_main(argc - 1, argv + 1);
	return usage_error("", "unknown command '%s'", cmd);
}
