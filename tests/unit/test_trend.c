// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/trend: reading snapshots (and refusing broken ones),
 * and what the comparison says changed: findings keyed by service, kind,
 * reason and site, growth past a threshold, sites and services come and
 * gone, the baseline, hosts kept apart. And the HTML escaping of hostile
 * names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>
#include "snapshot.h"
#include "trend.h"
#include "trend_report.h"

/* gzip of text, as inflight sweep writes it; free() it */
static unsigned char *gz(const char *text, size_t *len)
{
	size_t cap = strlen(text) + 256;
	unsigned char *out = malloc(cap);
	z_stream z = {};

	assert_non_null(out);
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = (unsigned char *)text;
	z.avail_in = strlen(text);
	z.next_out = out;
	z.avail_out = cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* A site of the target report: peak tasks, peak connections, in flight at the end. */
static char *site(const char *file, int line, const char *coroutine, int tasks, int conns,
		  int in_flight)
{
	char *s;

	assert_true(asprintf(&s, "{\"file\":\"%s\",\"line\":%d,\"function\":\"f\",\"coroutine\":"
			     "\"%s\",\"kind\":\"created_at\",\"thread\":7,\"peak_in_flight\":%d,"
			     "\"in_flight\":%d,\"at_attach\":0,\"connections\":{\"peak_open\":%d},"
			     "\"concurrency\":{\"connections_open\":{\"max\":%d}}}", file, line,
			     coroutine, tasks, in_flight, conns, conns) > 0);
	return s;
}

#define CLOSE_WAIT "\"reason\":\"close_wait\""
#define STUCK "\"reason\":\"stuck\""
#define DESTROYED "\"reason\":\"destroyed_pending\""

/* evidence: the members of the finding's evidence object */
static char *finding(const char *kind, const char *evidence, const char *file, int line,
		     const char *coroutine)
{
	char *s;

	assert_true(asprintf(&s, "{\"kind\":\"%s\",\"severity\":\"warning\",\"pid\":1,"
			     "\"summary\":\"s\",\"evidence\":{%s},\"site\":{\"file\":\"%s\","
			     "\"line\":%d,\"function\":\"f\",\"thread\":7},\"coroutine\":\"%s\"}",
			     kind, evidence, file, line, coroutine) > 0);
	return s;
}

/* One service entry: sites and findings are comma-joined lists, consumed. */
static char *service(const char *name, int pid, char *sites, char *findings)
{
	char *s;

	assert_true(asprintf(&s, "{\"service\":\"%s\",\"pid\":%d,\"target\":{\"pid\":%d,"
			     "\"tasks\":{\"sites\":[%s]}},\"findings\":[%s]}", name, pid, pid,
			     sites ? sites : "", findings ? findings : "") > 0);
	free(sites);
	free(findings);
	return s;
}

static char *join(char *a, char *b)
{
	char *s;

	assert_true(asprintf(&s, "%s,%s", a, b) > 0);
	free(a);
	free(b);
	return s;
}

static char *snapshot_json(const char *host, const char *at, double duration_s, char *services)
{
	char *s;

	assert_true(asprintf(&s, "{\"schema\":\"inflight-snapshot\",\"schema_version\":1,"
			     "\"tool\":{\"name\":\"inflight\",\"version\":\"0.1.0\"},"
			     "\"host\":{\"hostname\":\"%s\",\"machine_id\":null,\"kernel\":\"6.1\"},"
			     "\"started_at\":\"%s\",\"duration_s\":%f,\"end_reason\":\"duration\","
			     "\"mode\":\"probes\",\"services\":[%s],\"skipped\":[],"
			     "\"some_future_key\":{\"ignored\":true}}", host, at, duration_s,
			     services ? services : "") > 0);
	free(services);
	return s;
}

static int parse(char *json, const char *path, struct snapshot *s, char *why)
{
	size_t len;
	unsigned char *data = gz(json, &len);
	int err = snapshot_parse_gzip(data, len, path, s, why, 256);

	free(data);
	free(json);
	return err;
}

static void parse_ok(char *json, const char *path, struct snapshot *s)
{
	char why[256] = "";

	if (parse(json, path, s, why))
		fail_msg("%s: %s", path, why);
}

/* A week on host h: api with a fan-out site (tasks, conns) and a leaking fetch site. */
static void week(struct snapshot *s, const char *host, const char *at, int tasks, bool leak)
{
	char *api = service("api", 10, join(site("a.py", 10, "fetch", 5, 5, 0),
					     site("a.py", 20, "call", tasks, tasks, 0)),
			    leak ? finding("connection-leak", CLOSE_WAIT, "a.py", 10, "fetch") :
				   NULL);
	char *worker = service("worker", 11, site("w.py", 3, "job", 8, 0, 0), NULL);

	parse_ok(snapshot_json(host, at, 60, join(api, worker)), at, s);
}

static void free_all(struct snapshot *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		snapshot_free(&s[i]);
}

static void test_growth_needs_the_percentage_and_the_rise(void **state)
{
	(void)state;
	assert_true(trend_grew(20, 300, 50, 10));
	assert_false(trend_grew(20, 29, 50, 10));	/* +45% */
	assert_true(trend_grew(20, 31, 50, 10));	/* +55%, by 11 */
	assert_false(trend_grew(20, 30, 50, 10));	/* exactly +50%: not past it */
	assert_false(trend_grew(2, 8, 50, 10));		/* +300%, but by 6 */
	assert_true(trend_grew(0, 10, 50, 10));
	assert_false(trend_grew(300, 20, 50, 10));	/* shrinking */
	assert_true(trend_grew(-50, 12, 50, 10));	/* a draining site counts as 0 */
}

/* The regression and the fix, and nothing else; the middle week changes nothing. */
static void test_only_the_regression_and_the_fix(void **state)
{
	struct snapshot s[3];
	struct trend t;
	struct trend_host *h;

	(void)state;
	/* given out of order: lined up by time */
	week(&s[0], "web-1", "2026-12-17T03:00:00Z", 300, false);
	week(&s[1], "web-1", "2026-12-03T03:00:00Z", 20, true);
	week(&s[2], "web-1", "2026-12-10T03:00:00Z", 22, true);
	assert_int_equal(trend_build(s, 3, NULL, &trend_default_thresholds, &t), 0);
	assert_int_equal(t.n_hosts, 1);
	h = &t.hosts[0];
	assert_int_equal(h->n_snaps, 3);
	assert_string_equal(h->snaps[h->baseline]->started_at, "2026-12-03T03:00:00Z");
	assert_string_equal(h->snaps[h->newest]->started_at, "2026-12-17T03:00:00Z");
	assert_false(h->baseline_given);

	assert_int_equal(h->n_new_findings, 0);
	assert_int_equal(h->n_resolved_findings, 1);
	assert_string_equal(h->resolved_findings[0].service, "api");
	assert_string_equal(h->resolved_findings[0].f->kind, "connection-leak");
	assert_int_equal(h->resolved_findings[0].f->site_line, 10);

	assert_int_equal(h->n_grown, 2);
	assert_int_equal(h->grown[0].metric, TREND_PEAK_TASKS);
	assert_int_equal(h->grown[1].metric, TREND_PEAK_CONNS);
	assert_int_equal(h->grown[0].site->line, 20);
	assert_true(h->grown[0].from == 20 && h->grown[0].to == 300);
	assert_int_equal(h->n_new_sites + h->n_vanished_sites, 0);
	assert_int_equal(h->n_new_services + h->n_vanished_services, 0);

	/* a series per site, in time order, findings marked where they were */
	assert_int_equal(h->n_series, 3);
	assert_string_equal(h->series[0].service, "api");
	assert_int_equal(h->series[0].site->line, 10);
	assert_int_equal(h->series[0].findings_at[0], 1);
	assert_int_equal(h->series[0].findings_at[1], 1);
	assert_int_equal(h->series[0].findings_at[2], 0);
	assert_int_equal(h->series[1].at[1]->peak_tasks, 22);
	assert_int_equal(h->series[1].at[2]->peak_tasks, 300);
	trend_free(&t);
	free_all(s, 3);
}

/* A finding is the same finding whatever its summary or severity, not at another line. */
static void test_findings_keyed_by_kind_reason_and_site(void **state)
{
	struct snapshot s[2];
	struct trend t;
	struct trend_host *h;

	(void)state;
	parse_ok(snapshot_json("h", "2026-12-03T03:00:00Z", 60,
			       service("api", 1, NULL,
				       join(join(finding("task-leak", STUCK, "a.py", 5, "c"),
						 finding("task-leak", STUCK, "a.py", 7, "c")),
					    finding("unbounded-fanout", "", "a.py", 9, "c")))),
		 "old", &s[0]);
	parse_ok(snapshot_json("h", "2026-12-10T03:00:00Z", 60,
			       service("api", 1, NULL,
				       join(join(finding("task-leak", STUCK, "a.py", 6, "c"),
						 finding("task-leak", DESTROYED, "a.py", 7, "c")),
					    finding("unbounded-fanout", "", "a.py", 9, "d")))),
		 "new", &s[1]);
	assert_int_equal(trend_build(s, 2, NULL, &trend_default_thresholds, &t), 0);
	h = &t.hosts[0];
	assert_int_equal(h->n_new_findings, 2);
	assert_int_equal(h->new_findings[0].f->site_line, 6);
	assert_string_equal(h->new_findings[1].f->reason, "destroyed_pending");
	assert_int_equal(h->n_resolved_findings, 2);
	assert_int_equal(h->resolved_findings[0].f->site_line, 5);
	assert_string_equal(h->resolved_findings[1].f->reason, "stuck");
	assert_int_equal(h->resolved_findings[1].f->site_line, 7);
	trend_free(&t);
	free_all(s, 2);
}

/*
 * Sites and services come and go; a new service's findings are new, a
 * vanished one's are not "resolved", and its sites are not listed one by one.
 */
static void test_sites_and_services_come_and_go(void **state)
{
	struct snapshot s[2];
	struct trend t;
	struct trend_host *h;

	(void)state;
	parse_ok(snapshot_json("h", "2026-12-03T03:00:00Z", 60,
			       join(service("api", 1, join(site("a.py", 1, "x", 1, 0, 0),
							   site("a.py", 2, "y", 1, 0, 0)), NULL),
				    service("old", 2, site("o.py", 1, "z", 1, 0, 0),
					    finding("task-leak", STUCK, "o.py", 1, "z")))),
		 "a", &s[0]);
	parse_ok(snapshot_json("h", "2026-12-10T03:00:00Z", 60,
			       join(service("api", 1, join(site("a.py", 1, "x", 1, 0, 0),
							   site("a.py", 3, "y", 1, 0, 0)), NULL),
				    service("new", 3, site("n.py", 1, "z", 1, 0, 0),
					    finding("task-leak", STUCK, "n.py", 1, "z")))),
		 "b", &s[1]);
	assert_int_equal(trend_build(s, 2, NULL, &trend_default_thresholds, &t), 0);
	h = &t.hosts[0];
	assert_int_equal(h->n_new_sites, 1);
	assert_int_equal(h->new_sites[0].site->line, 3);
	assert_int_equal(h->n_vanished_sites, 1);
	assert_int_equal(h->vanished_sites[0].site->line, 2);
	assert_int_equal(h->n_new_services, 1);
	assert_string_equal(h->new_services[0], "new");
	assert_int_equal(h->n_vanished_services, 1);
	assert_string_equal(h->vanished_services[0], "old");
	assert_int_equal(h->n_new_findings, 1);
	assert_string_equal(h->new_findings[0].service, "new");
	assert_int_equal(h->n_resolved_findings, 0);
	trend_free(&t);
	free_all(s, 2);
}

/* Each host is compared with its own baseline; a given baseline only for its host. */
static void test_hosts_apart_and_a_given_baseline(void **state)
{
	struct snapshot s[5];
	struct trend t;

	(void)state;
	week(&s[0], "b-host", "2026-12-03T03:00:00Z", 20, true);
	week(&s[1], "b-host", "2026-12-10T03:00:00Z", 300, true);
	week(&s[2], "a-host", "2026-12-03T03:00:00Z", 20, true);
	week(&s[3], "a-host", "2026-12-10T03:00:00Z", 300, true);
	week(&s[4], "a-host", "2026-12-17T03:00:00Z", 300, true);
	assert_int_equal(trend_build(s, 5, &s[3], &trend_default_thresholds, &t), 0);
	assert_int_equal(t.n_hosts, 2);
	assert_string_equal(t.hosts[0].host, "a-host");
	assert_true(t.hosts[0].baseline_given);
	assert_int_equal(t.hosts[0].baseline, 1);
	assert_int_equal(t.hosts[0].n_grown, 0);	/* 300 against 300 */
	assert_string_equal(t.hosts[1].host, "b-host");
	assert_false(t.hosts[1].baseline_given);
	assert_int_equal(t.hosts[1].n_grown, 2);
	trend_free(&t);
	free_all(s, 5);
}

/*
 * Processes of one service are one service: the busiest process's peak per
 * site. The leak slope comes from a growth finding only.
 */
static void test_processes_merge_and_leak_slopes(void **state)
{
	char *growth = finding("task-leak", "\"reason\":\"growth\",\"slope_per_min\":500", "g.py",
			       4, "w");
	struct snapshot s;
	const struct snap_service *svc;

	(void)state;
	/* the grower's second process has more in flight, and no finding: the finding's slope */
	parse_ok(snapshot_json("h", "2026-12-03T03:00:00Z", 30,
			       join(join(service("gunicorn", 1, site("a.py", 1, "x", 5, 2, 10), NULL),
					 service("gunicorn", 2, site("a.py", 1, "x", 9, 1, 2), NULL)),
				    join(service("grower", 3, site("g.py", 4, "w", 60, 0, 60), growth),
					 service("grower", 4, site("g.py", 4, "w", 900, 0, 900),
						 NULL)))),
		 "m", &s);
	assert_int_equal(s.n_services, 2);
	svc = snapshot_service(&s, "gunicorn");
	assert_int_equal(svc->processes, 2);
	assert_int_equal(svc->n_sites, 1);
	assert_int_equal(svc->sites[0].peak_tasks, 9);
	assert_int_equal(svc->sites[0].peak_conns, 2);
	assert_true(svc->sites[0].leak_slope_per_min == 0);	/* 10 more in flight, no finding */
	assert_false(svc->sites[0].slope_from_finding);
	svc = snapshot_service(&s, "grower");
	assert_int_equal(svc->sites[0].peak_tasks, 900);
	assert_true(svc->sites[0].leak_slope_per_min == 500);
	assert_true(svc->sites[0].slope_from_finding);
	snapshot_free(&s);
}

/* Sites are keyed by how they were seen: a switch to sampled sweeps is said, not hidden. */
static void test_a_change_of_mode_is_noted(void **state)
{
	struct snapshot s[2];
	struct trend t;
	char *sampled;

	(void)state;
	week(&s[0], "h", "2026-12-03T03:00:00Z", 20, false);
	sampled = snapshot_json("h", "2026-12-10T03:00:00Z", 60, NULL);
	memcpy(strstr(sampled, "\"probes\""), "\"sample\"", 8);
	parse_ok(sampled, "sampled", &s[1]);
	assert_int_equal(trend_build(s, 2, NULL, &trend_default_thresholds, &t), 0);
	assert_true(trend_modes_differ(&t.hosts[0]));
	trend_free(&t);
	assert_int_equal(trend_build(s, 1, NULL, &trend_default_thresholds, &t), 0);
	assert_false(trend_modes_differ(&t.hosts[0]));
	trend_free(&t);
	free_all(s, 2);
}

static void expect_refused(const void *data, size_t len, const char *why_part)
{
	char why[256] = "";
	struct snapshot s;

	assert_int_equal(snapshot_parse_gzip(data, len, "x", &s, why, sizeof(why)), -EINVAL);
	if (!strstr(why, why_part))
		fail_msg("expected '%s' in '%s'", why_part, why);
	assert_null(strchr(why, '\n'));
}

static void expect_json_refused(const char *json, const char *why_part)
{
	size_t len;
	unsigned char *data = gz(json, &len);

	expect_refused(data, len, why_part);
	free(data);
}

static void test_broken_snapshots_say_why(void **state)
{
	char *json = snapshot_json("h", "2026-12-03T03:00:00Z", 60,
				   service("api", 1, site("a.py", 1, "x", 1, 0, 0), NULL));
	unsigned char *data, *bad;
	size_t len, i;

	(void)state;
	data = gz(json, &len);
	expect_refused(json, strlen(json), "not a gzip file");
	expect_refused(data, len / 2, "truncated");
	expect_refused(data, 0, "not a gzip file");
	bad = malloc(len);
	assert_non_null(bad);
	memcpy(bad, data, len);
	for (i = 12; i < len - 8; i++)
		bad[i] ^= 0xa5;
	expect_refused(bad, len, "corrupt gzip data");
	memcpy(bad, data, len);
	bad[len - 6] ^= 1;	/* the CRC */
	expect_refused(bad, len, "corrupt gzip data");
	free(bad);
	free(data);
	free(json);

	expect_json_refused("[1]", "not a snapshot");
	expect_json_refused("{\"schema_version\":1}", "\"schema\"");
	expect_json_refused("{\"schema\":\"inflight-snapshot\",\"schema_version\":2}",
			    "schema_version 2");
	expect_json_refused("{\"schema\":\"inflight-snapshot\",\"schema_version\":\"1\"}",
			    "schema_version");
	expect_json_refused("{\"schema\":\"inflight-snapshot\",\"schema_version\":1,", "not valid JSON");
	expect_json_refused("{\"schema\":\"inflight-snapshot\",\"schema_version\":1} {}",
			    "not valid JSON");
	json = snapshot_json("h", "yesterday", 60, NULL);
	expect_json_refused(json, "started_at");
	free(json);
	json = snapshot_json("h", "2026-12-03T03:00:00Z", 60,
			     service("api", 1, site("a.py", 1, "x", -4, 0, 0), NULL));
	expect_json_refused(json, "peak_in_flight");
	free(json);
	json = snapshot_json("h", "2026-12-03T03:00:00Z", 60, strdup("{\"service\":7}"));
	expect_json_refused(json, "\"service\"");
	free(json);
	json = snapshot_json("", "2026-12-03T03:00:00Z", 60, NULL);
	expect_json_refused(json, "hostname");
	free(json);
}

/* Two gzip members are one file, as gzip(1) reads them. */
static void test_concatenated_gzip_members(void **state)
{
	const char *head = "{\"schema\":\"inflight-snapshot\",\"schema_version\":1,";
	char *tail = snapshot_json("h", "2026-12-03T03:00:00Z", 60, NULL), why[256] = "";
	unsigned char *a, *b, *both;
	size_t la, lb;
	struct snapshot s;

	(void)state;
	a = gz(head, &la);
	b = gz(tail + strlen(head), &lb);
	both = malloc(la + lb);
	assert_non_null(both);
	memcpy(both, a, la);
	memcpy(both + la, b, lb);
	assert_int_equal(snapshot_parse_gzip(both, la + lb, "two", &s, why, sizeof(why)), 0);
	assert_string_equal(s.host, "h");
	snapshot_free(&s);
	free(a);
	free(b);
	free(both);
	free(tail);
}

static void test_html_escapes_hostile_names(void **state)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	(void)state;
	assert_non_null(f);
	html_escaped(f, "<img src=x onerror='a()'>&\"\x1b[31m\xc2\x9b\xff\t");
	fclose(f);
	assert_string_equal(out, "&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;&quot;&#xFFFD;[31m"
				 "&#xFFFD;\xef\xbf\xbd\t");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_needs_the_percentage_and_the_rise),
		cmocka_unit_test(test_only_the_regression_and_the_fix),
		cmocka_unit_test(test_findings_keyed_by_kind_reason_and_site),
		cmocka_unit_test(test_sites_and_services_come_and_go),
		cmocka_unit_test(test_hosts_apart_and_a_given_baseline),
		cmocka_unit_test(test_processes_merge_and_leak_slopes),
		cmocka_unit_test(test_a_change_of_mode_is_noted),
		cmocka_unit_test(test_broken_snapshots_say_why),
		cmocka_unit_test(test_concatenated_gzip_members),
		cmocka_unit_test(test_html_escapes_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
