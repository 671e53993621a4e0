// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/report/report_openmetrics.c: hostile strings stay inside
 * their label value, the two dialects name counters, info metrics and the end
 * as their readers expect, and series with the same labels are folded.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "clock.h"
#include "findings.h"
#include "report.h"

#define START_NS (100 * NSEC_PER_SEC)
#define AT(s) (START_NS + (uint64_t)((s) * (double)NSEC_PER_SEC))
#define PID 4242
#define PID2 4343
#define FFFD "\xef\xbf\xbd"

struct fixture {
	struct model m;
	struct findings fs;
	struct finding finding;
	struct report_meta meta;
	struct metrics_service svc[2];
	pid_t pids[2];		/* svc's processes, found again before each write: adding one
				   to the model may move the others */
	struct metrics_source src;
	char *text;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || model_init(&fx->m, START_NS, 1000))
		return -1;
	fx->m.start_wall.tv_sec = 1796313600;	/* 2026-12-03T16:00:00Z */
	fx->m.start_wall.tv_nsec = 250000000;
	fx->meta.now_ns = AT(60);
	fx->src = (struct metrics_source){
		.host = "web-1",
		.meta = &fx->meta,
		.model = &fx->m,
		.findings = &fx->fs,
		.services = fx->svc,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->text);
	model_free(&fx->m);
	free(fx);
	return 0;
}

static void add_service(struct fixture *fx, pid_t pid, const char *comm, const char *service,
			bool pid_label)
{
	struct proc_model *p = model_add_process(&fx->m, pid, comm, "/usr/bin/python3.11");

	assert_non_null(p);
	snprintf(p->python, sizeof(p->python), "3.11");
	fx->pids[fx->src.n_services] = pid;
	fx->svc[fx->src.n_services++] = (struct metrics_service){
		.service = service,
		.pid_label = pid_label,
		.proc = p,
	};
}

/* n tasks of pid created at file:line running coroutine, none done */
static void add_tasks(struct fixture *fx, pid_t pid, const char *file, int line,
		      const char *coroutine, unsigned int n)
{
	struct task_origin o = {
		.file = file,
		.line = line,
		.function = "main",
		.coroutine = coroutine,
		.tid = pid,
	};
	unsigned int i;

	for (i = 0; i < n; i++)
		model_task_created(&fx->m, pid, 0x10000 + 0x100 * i, &o, 0, AT(1));
}

static const char *write_sources(struct fixture *fx, enum metrics_dialect dialect,
				 const struct metrics_source *src, size_t n_src)
{
	size_t size = 0, i;
	FILE *f;

	for (i = 0; i < fx->src.n_services; i++)
		fx->svc[i].proc = model_process(&fx->m, fx->pids[i]);
	free(fx->text);
	f = open_memstream(&fx->text, &size);
	assert_non_null(f);
	assert_int_equal(report_write_metrics(f, dialect, src, n_src), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(fx->text), size);
	return fx->text;
}

static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);
	const char *at = text;

	while ((at = strstr(at, line))) {
		if ((at == text || at[-1] == '\n') && at[len] == '\n')
			return true;
		at += len;
	}
	return false;
}

static void assert_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("no line\n%s\nin\n%s", line, text);
}

static unsigned int count_lines_starting(const char *text, const char *prefix)
{
	unsigned int n = 0;
	const char *line;

	for (line = text; *line; line = strchr(line, '\n') + 1) {
		if (!strncmp(line, prefix, strlen(prefix)))
			n++;
		if (!strchr(line, '\n'))
			break;
	}
	return n;
}

/* A backslash, a quote, a line feed and invalid UTF-8 from the target stay in their label. */
static void test_hostile_strings_are_escaped(void **state)
{
	struct fixture *fx = *state;
	const char *text;

	add_service(fx, PID, "ev\"il\\", "svc\nname", true);
	add_tasks(fx, PID, "/srv/a\"pp\\x\n.py", 7, "co\xffro", 3);
	text = write_sources(fx, METRICS_OPENMETRICS, &fx->src, 1);

	assert_line(text, "inflight_tasks_in_flight{host=\"web-1\",service=\"svc\\nname\","
		    "pid=\"4242\",site=\"/srv/a\\\"pp\\\\x\\n.py:7\",coroutine=\"co" FFFD "ro\"} 3");
	assert_line(text, "inflight_process_info{host=\"web-1\",service=\"svc\\nname\","
		    "pid=\"4242\",comm=\"ev\\\"il\\\\\",exe=\"/usr/bin/python3.11\",python=\"3.11\"} 1");
	/* every line is a comment or a sample of the family its TYPE line named */
	assert_int_equal(count_lines_starting(text, "inflight_tasks_created_total{"), 1);
	assert_int_equal(count_lines_starting(text, "inflight_tasks_in_flight{"), 1);
}

/* OpenMetrics: counters named without _total, units, an info type and # EOF at the end. */
static void test_openmetrics_dialect(void **state)
{
	struct fixture *fx = *state;
	const char *text;
	size_t len;

	add_service(fx, PID, "api", "api", true);
	add_tasks(fx, PID, "app.py", 12, "fetch", 2);
	fx->m.ringbuf_drops = 5;
	text = write_sources(fx, METRICS_OPENMETRICS, &fx->src, 1);

	assert_line(text, "# TYPE inflight_tasks_created counter");
	assert_line(text, "inflight_tasks_created_total{host=\"web-1\",service=\"api\",pid=\"4242\","
		    "site=\"app.py:12\",coroutine=\"fetch\"} 2");
	assert_line(text, "# TYPE inflight_trace_duration_seconds gauge");
	assert_line(text, "# UNIT inflight_trace_duration_seconds seconds");
	assert_line(text, "inflight_trace_duration_seconds{host=\"web-1\"} 60");
	assert_line(text, "inflight_trace_start_time_seconds{host=\"web-1\"} 1796313600.25");
	assert_line(text, "# TYPE inflight_process info");
	assert_line(text, "inflight_tracer_dropped_events_total{host=\"web-1\",ring=\"connections\"} 5");
	assert_false(strstr(text, "# TYPE inflight_tasks_created_total"));
	len = strlen(text);
	assert_true(len > 6);
	assert_string_equal(text + len - 6, "# EOF\n");
	assert_int_equal(count_lines_starting(text, "# EOF"), 1);
}

/* The Prometheus text format: TYPE and HELP name the samples, info is a gauge, no units, no EOF. */
static void test_prometheus_dialect(void **state)
{
	struct fixture *fx = *state;
	const char *text;

	add_service(fx, PID, "api", "api", true);
	add_tasks(fx, PID, "app.py", 12, "fetch", 2);
	text = write_sources(fx, METRICS_PROMETHEUS, &fx->src, 1);

	assert_line(text, "# TYPE inflight_tasks_created_total counter");
	assert_line(text, "# HELP inflight_tasks_created_total Asyncio tasks created at this line "
		    "during the trace.");
	assert_line(text, "# TYPE inflight_process_info gauge");
	assert_int_equal(count_lines_starting(text, "# UNIT"), 0);
	assert_int_equal(count_lines_starting(text, "# EOF"), 0);
}

/*
 * Without a pid label the workers of one service are one series: counts
 * summed, the info metric kept at 1; a finding is 1 per finding, and the
 * families of two hosts' sources are written once each.
 */
static void test_services_fold_and_sources_share_families(void **state)
{
	struct fixture *fx = *state;
	struct metrics_source two[2];
	const char *text;

	add_service(fx, PID, "gunicorn", "shop", false);
	add_service(fx, PID2, "gunicorn", "shop", false);
	add_tasks(fx, PID, "app.py", 30, "fetch", 4);
	add_tasks(fx, PID2, "app.py", 30, "fetch", 6);
	fx->finding = (struct finding){ .kind = FINDING_UNBOUNDED_FANOUT,
					.severity = SEVERITY_WARNING, .pid = PID2, .site = 1 };
	fx->fs = (struct findings){ .items = &fx->finding, .len = 1, .cap = 1 };
	two[0] = fx->src;
	two[1] = fx->src;
	two[1].host = "web-2";
	text = write_sources(fx, METRICS_OPENMETRICS, two, 2);

	assert_line(text, "inflight_tasks_in_flight{host=\"web-1\",service=\"shop\",site=\"app.py:30\","
		    "coroutine=\"fetch\"} 10");
	assert_line(text, "inflight_tasks_in_flight{host=\"web-2\",service=\"shop\",site=\"app.py:30\","
		    "coroutine=\"fetch\"} 10");
	assert_line(text, "inflight_process_info{host=\"web-1\",service=\"shop\",comm=\"gunicorn\","
		    "exe=\"/usr/bin/python3.11\",python=\"3.11\"} 1");
	assert_line(text, "inflight_findings{host=\"web-2\",service=\"shop\",kind=\"unbounded-fanout\","
		    "severity=\"warning\",site=\"app.py:30\",coroutine=\"fetch\"} 1");
	assert_int_equal(count_lines_starting(text, "# TYPE inflight_tasks_in_flight gauge"), 1);
	assert_int_equal(count_lines_starting(text, "inflight_tasks_in_flight{"), 2);
	assert_int_equal(count_lines_starting(text, "inflight_process_info{"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hostile_strings_are_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openmetrics_dialect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prometheus_dialect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_services_fold_and_sources_share_families, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
