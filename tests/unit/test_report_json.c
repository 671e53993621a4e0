// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/report/report_json.c: the JSON report parses back, clean, and
 * each kind of finding with the keys docs/report-schema.md gives it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
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
#define FFFD "\xef\xbf\xbd"

static const struct finding_thresholds thr = {
	.close_wait_min_age_s = 2.0,
	.close_wait_critical = 10,
	.growth_min_increase = 20,
	.growth_min_window_s = 5.0,
	.fanout_min_tasks = 100,
	.fanout_min_conns = 50,
	.fanout_memory_tasks = 10000,
	.stuck_min_age_s = 30.0,
	.stuck_lifetime_factor = 10.0,
	.task_growth_min_increase = 50,
	.pileup_min_tasks = 1000,
	.never_closed_min_conns = 200,
};

struct fixture {
	struct model m;
	struct findings fs;
	struct report_meta meta;
	char *text;		/* the report as written */
	json_object *root;	/* and parsed back */
};

static struct endpoint ep4(const char *ip, uint16_t port)
{
	struct endpoint e = { .family = AF_INET, .port = port };

	assert_int_equal(inet_pton(AF_INET, ip, e.addr), 1);
	return e;
}

static struct endpoint ep6(const char *ip, uint16_t port)
{
	struct endpoint e = { .family = AF_INET6, .port = port };

	assert_int_equal(inet_pton(AF_INET6, ip, e.addr), 1);
	return e;
}

static void open_conn(struct model *m, uint64_t ino, enum conn_source src, struct endpoint local,
		      struct endpoint remote, uint64_t ts)
{
	struct conn c = {
		.pid = PID,
		.ino = ino,
		.source = src,
		.inbound = src == CONN_SEEN_ACCEPT,
		.state = TCP_STATE_ESTABLISHED,
		.local = local,
		.remote = remote,
		.opened_ns = src == CONN_FOUND_AT_ATTACH ? m->start_ns : ts,
	};

	model_conn_open(m, &c);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	model_init(&fx->m, START_NS, 1000);
	if (!model_add_process(&fx->m, PID, "python3", "/usr/bin/python3")) {
		free(fx);
		return -1;
	}
	fx->meta.version = "0.1.0-test";
	fx->meta.end_reason = "duration";
	fx->meta.now_ns = AT(10);
	fx->meta.thresholds = &thr;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	json_object_put(fx->root);
	free(fx->text);
	findings_free(&fx->fs);
	model_free(&fx->m);
	free(fx);
	return 0;
}

/* Computes findings (to meta's thresholds), writes the report and parses it back, strictly. */
static json_object *write_and_parse(struct fixture *fx)
{
	struct json_tokener *tok;
	size_t size = 0;
	FILE *f;

	model_settle_cancels(&fx->m, fx->meta.now_ns);	/* as the trace's polls do */
	assert_int_equal(findings_compute(&fx->m, fx->meta.thresholds, fx->meta.now_ns, &fx->fs),
			 0);
	f = open_memstream(&fx->text, &size);
	assert_non_null(f);
	assert_int_equal(report_write_json(f, &fx->meta, &fx->m, &fx->fs), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(size > 0);
	assert_int_equal(strlen(fx->text), size);

	tok = json_tokener_new();
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	fx->root = json_tokener_parse_ex(tok, fx->text, (int)size);
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	json_tokener_free(tok);
	assert_non_null(fx->root);
	assert_true(json_object_is_type(fx->root, json_type_object));
	return fx->root;
}

/* The member at a dotted path ("targets.0.comm"), which must exist. */
static json_object *get(json_object *o, const char *path)
{
	char buf[256], *key, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (key = strtok_r(buf, ".", &save); key; key = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array)) {
			size_t i = strtoul(key, NULL, 10);

			assert_true(i < json_object_array_length(o));
			o = json_object_array_get_idx(o, i);
		} else {
			if (!json_object_object_get_ex(o, key, &o))
				fail_msg("no member '%s' in path '%s'", key, path);
		}
	}
	return o;
}

static const char *get_str(json_object *o, const char *path)
{
	o = get(o, path);
	assert_true(json_object_is_type(o, json_type_string));
	return json_object_get_string(o);
}

static int64_t get_int(json_object *o, const char *path)
{
	o = get(o, path);
	assert_true(json_object_is_type(o, json_type_int));
	return json_object_get_int64(o);
}

static double get_double(json_object *o, const char *path)
{
	o = get(o, path);
	assert_true(json_object_is_type(o, json_type_double) ||
		    json_object_is_type(o, json_type_int));
	return json_object_get_double(o);
}

static bool get_bool(json_object *o, const char *path)
{
	o = get(o, path);
	assert_true(json_object_is_type(o, json_type_boolean));
	return json_object_get_boolean(o);
}

static size_t get_len(json_object *o, const char *path)
{
	o = get(o, path);
	assert_true(json_object_is_type(o, json_type_array));
	return json_object_array_length(o);
}

static bool has(json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static void test_empty_model_report(void **state)
{
	struct fixture *fx = *state;
	json_object *root = write_and_parse(fx);
	const char *started;

	assert_int_equal(get_int(root, "schema_version"), 1);
	assert_string_equal(get_str(root, "tool.name"), "inflight");
	assert_string_equal(get_str(root, "tool.version"), "0.1.0-test");
	assert_string_equal(get_str(root, "end_reason"), "duration");
	assert_float_equal(get_double(root, "duration_s"), 10.0, 1e-9);
	started = get_str(root, "started_at");
	assert_int_equal(strlen(started), 20);
	assert_int_equal(started[10], 'T');
	assert_int_equal(started[19], 'Z');
	assert_int_equal(get_len(root, "targets"), 1);
	assert_int_equal(get_int(root, "targets.0.pid"), PID);
	assert_string_equal(get_str(root, "targets.0.comm"), "python3");
	assert_string_equal(get_str(root, "targets.0.exe"), "/usr/bin/python3");
	assert_false(get_bool(root, "targets.0.exited"));
	assert_int_equal(get_len(root, "findings"), 0);
	assert_int_equal(get_int(root, "totals.processes"), 1);
	assert_int_equal(get_int(root, "totals.open_connections"), 0);
	assert_int_equal(get_int(root, "tracer.events"), 0);
}

/* how a process ended: null while it runs; the kernel's word once it is gone */
static void test_ended_in_report(void **state)
{
	struct fixture *fx = *state;
	struct proc_end oom = { .known = true, .exit_status = -1, .signal = 9, .oom_killed = true };
	json_object *root;

	root = write_and_parse(fx);
	assert_true(json_object_is_type(get(root, "targets.0.ended"), json_type_null));
	json_object_put(fx->root);
	free(fx->text);
	fx->root = NULL;
	fx->text = NULL;
	findings_free(&fx->fs);
	model_process_exited(&fx->m, PID, AT(2), &oom);
	root = write_and_parse(fx);
	assert_string_equal(get_str(root, "targets.0.ended.description"),
			    "killed by SIGKILL (the kernel's OOM killer chose it)");
	assert_true(json_object_is_type(get(root, "targets.0.ended.exit_status"), json_type_null));
	assert_int_equal(get_int(root, "targets.0.ended.signal"), 9);
	assert_true(get_bool(root, "targets.0.ended.oom_killed"));
	assert_true(get_bool(root, "targets.0.ended.failure"));
	assert_float_equal(get_double(root, "targets.0.ended.at_s"), 2.0, 1e-6);
}

static void test_hostile_strings_sanitized(void **state)
{
	struct fixture *fx = *state;
	struct proc_model *p;
	json_object *root;

	assert_non_null(model_add_process(&fx->m, 666, "ev\x01il\xff", "/opt/\xc0\xaf" "app"));
	p = model_process(&fx->m, 666);
	model_set_hook(p, "connections", false, "bad \xed\xa0\x80 \"quoted\"\n");
	model_hook_probe(p, "connections", "odd\xff", 7, "push\x01");
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "targets"), 2);
	assert_int_equal(get_int(root, "targets.1.pid"), 666);
	assert_string_equal(get_str(root, "targets.1.comm"), "ev\x01il" FFFD);
	assert_string_equal(get_str(root, "targets.1.exe"), "/opt/" FFFD FFFD "app");
	assert_string_equal(get_str(root, "targets.1.hooks.0.name"), "connections");
	assert_false(get_bool(root, "targets.1.hooks.0.attached"));
	assert_string_equal(get_str(root, "targets.1.hooks.0.detail"),
			    "bad " FFFD FFFD FFFD " \"quoted\"\n");
	assert_string_equal(get_str(root, "targets.1.hooks.0.probes.0.what"), "odd" FFFD);
	assert_int_equal(get_int(root, "targets.1.hooks.0.probes.0.file_offset"), 7);
	assert_string_equal(get_str(root, "targets.1.hooks.0.probes.0.instruction"), "push\x01");
	/* the raw text holds no control or invalid byte */
	assert_null(strchr(fx->text, '\x01'));
	assert_null(strchr(fx->text, '\xff'));
	assert_null(strchr(fx->text, '\xc0'));
	assert_null(strstr(fx->text, "\xed\xa0"));
	assert_non_null(strstr(fx->text, "\\u0001"));
}

static void test_close_wait_finding_in_report(void **state)
{
	struct fixture *fx = *state;
	json_object *root, *f;

	open_conn(&fx->m, 1, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40001), ep4("10.0.0.5", 5432), AT(1));
	model_conn_state(&fx->m, PID, 1, TCP_STATE_CLOSE_WAIT, AT(3));
	root = write_and_parse(fx);
	assert_int_equal(fx->fs.len, 1);
	assert_int_equal(get_len(root, "findings"), 1);
	f = get(root, "findings.0");
	assert_true(has(f, "kind"));
	assert_true(has(f, "severity"));
	assert_true(has(f, "pid"));
	assert_true(has(f, "summary"));
	assert_true(has(f, "evidence"));
	assert_string_equal(get_str(f, "kind"), "connection-leak");
	assert_string_equal(get_str(f, "severity"), "warning");
	assert_int_equal(get_int(f, "pid"), PID);
	assert_string_equal(get_str(f, "summary"), fx->fs.items[0].summary);
	assert_string_equal(get_str(f, "remediation"), fx->fs.items[0].remediation);
	assert_true(json_object_is_type(get(f, "site"), json_type_null));
	assert_true(has(f, "coroutine"));
	assert_string_equal(get_str(f, "evidence.reason"), "close_wait");
	assert_int_equal(get_int(f, "evidence.close_wait"), 1);
	assert_float_equal(get_double(f, "evidence.oldest_age_s"), 7.0, 1e-9);
	assert_float_equal(get_double(f, "evidence.youngest_age_s"), 7.0, 1e-9);
	assert_false(get_bool(f, "evidence.age_is_lower_bound"));
	assert_int_equal(get_len(f, "evidence.endpoints"), 1);
	assert_string_equal(get_str(f, "evidence.endpoints.0.direction"), "outbound");
	assert_string_equal(get_str(f, "evidence.endpoints.0.endpoint"), "10.0.0.5:5432");
	assert_int_equal(get_int(f, "evidence.endpoints.0.count"), 1);
	assert_false(has(get(f, "evidence"), "open_first"));
}

static void test_found_at_attach_close_wait_lower_bound_in_report(void **state)
{
	struct fixture *fx = *state;
	struct conn c = {
		.pid = PID,
		.ino = 9,
		.source = CONN_FOUND_AT_ATTACH,
		.state = TCP_STATE_CLOSE_WAIT,
		.local = ep4("10.0.0.1", 8080),
		.remote = ep4("10.0.0.30", 51000),
		.opened_ns = START_NS,
	};
	json_object *root;

	model_add_listener(model_process(&fx->m, PID), 8080);
	model_conn_open(&fx->m, &c);
	fx->meta.now_ns = AT(1);
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "findings"), 1);
	assert_true(get_bool(root, "findings.0.evidence.age_is_lower_bound"));
	assert_string_equal(get_str(root, "findings.0.evidence.endpoints.0.direction"), "inbound");
	assert_string_equal(get_str(root, "findings.0.evidence.endpoints.0.endpoint"),
			    "10.0.0.1:8080");
	assert_int_equal(get_int(root, "targets.0.connections.open_at_attach"), 1);
}

static void test_growth_finding_in_report(void **state)
{
	struct fixture *fx = *state;
	json_object *root, *ev;
	uint64_t ino = 1;
	unsigned int s, k;

	for (s = 0; s <= 10; s++) {
		for (k = 0; k < 5 && s; k++, ino++)
			open_conn(&fx->m, ino, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40000),
				  ep4("10.0.0.7", 80), AT(s) - 1);
		model_sample(&fx->m, AT(s));
	}
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "findings"), 1);
	ev = get(root, "findings.0.evidence");
	assert_string_equal(get_str(ev, "reason"), "growth");
	assert_int_equal(get_int(ev, "open_first"), 0);
	assert_int_equal(get_int(ev, "open_last"), 50);
	assert_int_equal(get_int(ev, "peak_open"), 50);
	assert_float_equal(get_double(ev, "slope_per_min"), 300.0, 1e-6);
	assert_float_equal(get_double(ev, "window_start_s"), 0.0, 1e-9);
	assert_float_equal(get_double(ev, "window_end_s"), 10.0, 1e-9);
	assert_false(has(ev, "close_wait"));
	assert_int_equal(get_len(root, "targets.0.time_series.points"), 11);
	assert_float_equal(get_double(root, "targets.0.time_series.interval_s"), 1.0, 1e-9);
	assert_int_equal(get_int(root, "targets.0.time_series.points.10.open"), 50);
	assert_int_equal(get_int(root, "targets.0.time_series.points.10.opened"), 50);
	assert_float_equal(get_double(root, "targets.0.time_series.points.3.t_s"), 3.0, 1e-9);
}

static void test_connections_block(void **state)
{
	struct fixture *fx = *state;
	json_object *root, *conns;
	struct conn found = {
		.pid = PID,
		.ino = 50,
		.source = CONN_FOUND_AT_ATTACH,
		.state = TCP_STATE_ESTABLISHED,
		.local = ep6("2001:db8::2", 41000),
		.remote = ep6("2001:db8::1", 443),
		.opened_ns = START_NS,
	};

	model_conn_open(&fx->m, &found);
	open_conn(&fx->m, 1, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40001), ep4("10.0.0.5", 5432), AT(1));
	open_conn(&fx->m, 2, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40002), ep4("10.0.0.5", 5432), AT(2));
	open_conn(&fx->m, 3, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40003), ep4("10.0.0.5", 5432), AT(2));
	model_conn_state(&fx->m, PID, 2, TCP_STATE_CLOSE_WAIT, AT(9));
	model_conn_release(&fx->m, PID, 3, AT(4));
	fx->m.events = 17;
	fx->m.ringbuf_drops = 2;
	fx->m.untracked_conns = 3;
	fx->m.unmatched_events = 4;
	fx->m.site_table_full = 5;
	fx->m.code_cache_full = 6;
	fx->m.tasks_at_attach_left_out = 7;
	fx->m.found_table_full = 8;
	root = write_and_parse(fx);
	conns = get(root, "targets.0.connections");
	assert_int_equal(get_int(conns, "open"), 3);
	assert_int_equal(get_int(conns, "opened"), 3);
	assert_int_equal(get_int(conns, "closed"), 1);
	assert_int_equal(get_int(conns, "open_at_attach"), 1);
	assert_int_equal(get_int(conns, "peak_open"), 4);
	assert_float_equal(get_double(conns, "peak_at_s"), 2.0, 1e-9);
	assert_int_equal(get_int(conns, "by_state.ESTABLISHED"), 2);
	assert_int_equal(get_int(conns, "by_state.CLOSE_WAIT"), 1);
	assert_false(has(get(conns, "by_state"), "LISTEN"));
	assert_int_equal(get_len(conns, "endpoints"), 2);
	assert_string_equal(get_str(conns, "endpoints.0.endpoint"), "10.0.0.5:5432");
	assert_int_equal(get_int(conns, "endpoints.0.open"), 2);
	assert_float_equal(get_double(conns, "endpoints.0.oldest_age_s"), 9.0, 1e-9);
	assert_string_equal(get_str(conns, "endpoints.1.endpoint"), "[2001:db8::1]:443");
	assert_string_equal(get_str(conns, "endpoints.1.direction"), "outbound");
	assert_float_equal(get_double(conns, "endpoints.1.oldest_age_s"), 10.0, 1e-9);
	assert_int_equal(get_int(conns, "lifetimes.count"), 1);
	assert_float_equal(get_double(conns, "lifetimes.max_s"), 2.0, 1e-9);
	assert_float_equal(get_double(conns, "lifetimes.mean_s"), 2.0, 1e-9);
	assert_int_equal(get_int(root, "totals.open_connections"), 3);
	assert_int_equal(get_int(root, "totals.connections_open_at_attach"), 1);
	assert_int_equal(get_int(root, "tracer.events"), 17);
	assert_int_equal(get_int(root, "tracer.ringbuf_drops"), 2);
	assert_int_equal(get_int(root, "tracer.untracked_connections"), 3);
	assert_int_equal(get_int(root, "tracer.unmatched_events"), 4);
	assert_int_equal(get_int(root, "tracer.site_table_full"), 5);
	assert_int_equal(get_int(root, "tracer.code_cache_full"), 6);
	assert_int_equal(get_int(root, "tracer.tasks_at_attach_left_out"), 7);
	assert_int_equal(get_int(root, "tracer.found_table_full"), 8);
}

static void test_lifetimes_without_closes_has_only_count(void **state)
{
	struct fixture *fx = *state;
	json_object *root = write_and_parse(fx);

	assert_int_equal(get_int(root, "targets.0.connections.lifetimes.count"), 0);
	assert_false(has(get(root, "targets.0.connections.lifetimes"), "p50_s"));
}

/* --- per-site findings: unbounded-fanout and task-leak --- */

static const struct task_origin FETCH = {
	"/srv/app/client.py", 42, "fetch_all", "fetch", PID, 0, NULL, false, 0, 0 };
static const struct task_origin FETCH_T2 = { "/srv/app/client.py", 42, "fetch_all", "fetch",
					     PID + 1, 0, NULL, false, 0, 0 };
static const struct task_origin RUN = {
	"/srv/app/main.py", 10, "main", "run", PID, 0, NULL, false, 0, 0 };

/* Tasks from one origin: created in order, seen done oldest first. */
struct crowd {
	const struct task_origin *o;
	uint64_t base;		/* the address of its first task */
	uint64_t parent;	/* the task that creates them, or 0 */
	uint64_t next, first_live;
};

/* a crowd whose task addresses are in a block of its own */
#define CROWD(origin, block) \
	{ .o = (origin), .base = 0x7f0000000000ull + ((uint64_t)(block) << 28) }

static uint64_t crowd_task(const struct crowd *c, uint64_t i)
{
	return c->base + i * 0x100;
}

/* Creates tasks of c, or sees its oldest done, until exactly n are in flight. */
static void crowd_hold(struct model *m, struct crowd *c, uint32_t n, uint64_t ts)
{
	while (c->next - c->first_live < n) {
		model_task_created(m, PID, crowd_task(c, c->next), c->o, c->parent, ts);
		c->next++;
	}
	while (c->next - c->first_live > n) {
		model_task_done(m, PID, crowd_task(c, c->first_live), 2, ts);
		c->first_live++;
	}
}

/* An outbound connection to remote opened at ts by the task at addr; its ino. */
static uint64_t task_conn(struct model *m, uint64_t addr, struct endpoint remote, uint64_t ts)
{
	static uint64_t next_ino = 5000000;
	uint64_t ino = next_ino++;

	open_conn(m, ino, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40000), remote, ts);
	model_conn_task(m, PID, ino, addr);
	return ino;
}

/* the finding's site: the one of o, in the keys the schema gives */
static void assert_site_is(json_object *f, const struct task_origin *o)
{
	assert_string_equal(get_str(f, "site.file"), o->file);
	assert_int_equal(get_int(f, "site.line"), o->line);
	assert_string_equal(get_str(f, "site.function"), o->function);
	assert_int_equal(get_int(f, "site.thread"), o->tid);
	assert_false(has(get(f, "site"), "coroutine"));
	assert_string_equal(get_str(f, "coroutine"), o->coroutine);
}

static void test_fanout_finding_in_report(void **state)
{
	struct fixture *fx = *state;
	struct crowd run = CROWD(&RUN, 1), fetch = CROWD(&FETCH, 2);
	struct endpoint db = ep4("10.0.0.5", 5432), cache = ep4("10.0.0.6", 6379);
	json_object *root, *f, *ev;
	uint64_t inos[20];
	uint32_t i;

	crowd_hold(&fx->m, &run, 1, AT(0));
	fetch.parent = crowd_task(&run, 0);
	/* a first wave of 20, each with a connection to the database, over by AT(2) */
	crowd_hold(&fx->m, &fetch, 20, AT(1));
	for (i = 0; i < 20; i++)
		inos[i] = task_conn(&fx->m, crowd_task(&fetch, i), db, AT(1));
	model_tasks_refreshed(&fx->m, AT(1));
	for (i = 0; i < 20; i++)
		model_conn_release(&fx->m, PID, inos[i], AT(2));
	crowd_hold(&fx->m, &fetch, 0, AT(2));
	/* then 100 at once: 60 to the database and 30 to the cache */
	crowd_hold(&fx->m, &fetch, 100, AT(3));
	for (i = 0; i < 90; i++)
		task_conn(&fx->m, crowd_task(&fetch, 20 + i), i < 60 ? db : cache, AT(3));
	model_tasks_refreshed(&fx->m, AT(3));
	root = write_and_parse(fx);
	assert_int_equal(fx->fs.len, 1);
	assert_int_equal(get_len(root, "findings"), 1);
	f = get(root, "findings.0");
	assert_string_equal(get_str(f, "kind"), "unbounded-fanout");
	assert_string_equal(get_str(f, "severity"), "warning");
	assert_int_equal(get_int(f, "pid"), PID);
	assert_string_equal(get_str(f, "summary"), fx->fs.items[0].summary);
	assert_string_equal(get_str(f, "remediation"), fx->fs.items[0].remediation);
	assert_site_is(f, &FETCH);
	ev = get(f, "evidence");
	assert_false(has(ev, "reason"));
	assert_int_equal(get_int(ev, "tasks_created"), 120);
	assert_int_equal(get_int(ev, "peak_tasks_in_flight"), 100);
	assert_int_equal(get_int(ev, "connections_opened"), 110);
	assert_int_equal(get_int(ev, "peak_connections_open"), 90);
	assert_int_equal(get_len(ev, "endpoints"), 2);
	assert_string_equal(get_str(ev, "endpoints.0.endpoint"), "10.0.0.5:5432");
	assert_int_equal(get_int(ev, "endpoints.0.opened"), 80);
	assert_int_equal(get_int(ev, "endpoints.0.peak_open"), 60);
	assert_false(has(get(ev, "endpoints.0"), "direction"));
	assert_string_equal(get_str(ev, "endpoints.1.endpoint"), "10.0.0.6:6379");
	assert_int_equal(get_int(ev, "endpoints.1.opened"), 30);
	assert_int_equal(get_int(ev, "endpoints.1.peak_open"), 30);
	/* the site the fan-out ran inside */
	assert_string_equal(get_str(ev, "inside.file"), "/srv/app/main.py");
	assert_int_equal(get_int(ev, "inside.line"), 10);
	assert_string_equal(get_str(ev, "inside.function"), "main");
	assert_string_equal(get_str(ev, "inside.coroutine"), "run");
	assert_int_equal(get_int(ev, "inside.thread"), RUN.tid);
}

static void test_critical_fanout_without_parent_in_report(void **state)
{
	struct fixture *fx = *state;
	struct crowd fetch = CROWD(&FETCH, 1);
	json_object *root, *f;
	uint32_t i;

	crowd_hold(&fx->m, &fetch, 500, AT(1));
	for (i = 0; i < 500; i++)
		task_conn(&fx->m, crowd_task(&fetch, i), ep4("10.0.0.5", 5432), AT(1));
	model_tasks_refreshed(&fx->m, AT(1));
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "findings"), 1);
	f = get(root, "findings.0");
	assert_string_equal(get_str(f, "kind"), "unbounded-fanout");
	assert_string_equal(get_str(f, "severity"), "critical");
	assert_int_equal(get_int(f, "evidence.peak_connections_open"), 500);
	assert_true(has(get(f, "evidence"), "inside"));
	assert_true(json_object_is_type(get(f, "evidence.inside"), json_type_null));
	assert_site_is(f, &FETCH);
}

static void test_destroyed_pending_finding_in_report(void **state)
{
	struct fixture *fx = *state;
	struct crowd fetch = CROWD(&FETCH, 1);
	json_object *root, *f, *ev;

	crowd_hold(&fx->m, &fetch, 4, AT(1));
	model_task_destroyed(&fx->m, PID, crowd_task(&fetch, 0), 0, AT(2));
	model_task_destroyed(&fx->m, PID, crowd_task(&fetch, 1), 0, AT(2));
	model_task_destroyed(&fx->m, PID, crowd_task(&fetch, 2), 0, AT(2));
	model_task_destroyed(&fx->m, PID, crowd_task(&fetch, 3), 2, AT(2));
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "findings"), 1);
	f = get(root, "findings.0");
	assert_string_equal(get_str(f, "kind"), "task-leak");
	assert_string_equal(get_str(f, "severity"), "warning");
	assert_int_equal(get_int(f, "pid"), PID);
	assert_string_equal(get_str(f, "summary"), fx->fs.items[0].summary);
	assert_string_equal(get_str(f, "remediation"), fx->fs.items[0].remediation);
	assert_site_is(f, &FETCH);
	ev = get(f, "evidence");
	assert_string_equal(get_str(ev, "reason"), "destroyed_pending");
	assert_int_equal(get_int(ev, "destroyed_pending"), 3);
	assert_false(has(ev, "stuck"));
	assert_false(has(ev, "in_flight_first"));
	assert_int_equal(get_int(root, "targets.0.tasks.destroyed_pending"), 3);
}

static void test_stuck_finding_in_report(void **state)
{
	struct fixture *fx = *state;
	struct crowd quick = CROWD(&FETCH, 1), slow = CROWD(&FETCH, 2);
	json_object *root, *f, *ev;

	/* 10 tasks living 0.5s; of two pending ones, only the one 45s old is stuck */
	crowd_hold(&fx->m, &quick, 10, AT(1));
	crowd_hold(&fx->m, &quick, 0, AT(1.5));
	crowd_hold(&fx->m, &slow, 1, AT(0));
	model_task_created(&fx->m, PID, 0x1000, &FETCH, 0, AT(20));
	fx->meta.now_ns = AT(45);
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "findings"), 1);
	f = get(root, "findings.0");
	assert_string_equal(get_str(f, "kind"), "task-leak");
	assert_string_equal(get_str(f, "severity"), "warning");
	assert_string_equal(get_str(f, "summary"), fx->fs.items[0].summary);
	assert_string_equal(get_str(f, "remediation"), fx->fs.items[0].remediation);
	assert_site_is(f, &FETCH);
	ev = get(f, "evidence");
	assert_string_equal(get_str(ev, "reason"), "stuck");
	assert_int_equal(get_int(ev, "stuck"), 1);
	assert_float_equal(get_double(ev, "oldest_age_s"), 45.0, 1e-9);
	assert_float_equal(get_double(ev, "usual_lifetime_s"), 0.5, 1e-9);
	assert_false(has(ev, "destroyed_pending"));
	assert_false(has(ev, "in_flight_first"));
	/* seconds with six decimals */
	assert_non_null(strstr(fx->text, "\"oldest_age_s\":45.000000"));
	assert_non_null(strstr(fx->text, "\"usual_lifetime_s\":0.500000"));
}

static void test_task_growth_finding_in_report(void **state)
{
	struct fixture *fx = *state;
	struct crowd fetch = CROWD(&FETCH, 1);
	json_object *root, *f, *ev;
	unsigned int s;

	/* from AT(1) to AT(11): 10 more tasks in flight a second, the last sample model_finish's */
	for (s = 1; s <= 11; s++) {
		crowd_hold(&fx->m, &fetch, 10 * s, AT(s) - 1);
		model_tasks_refreshed(&fx->m, AT(s) - 1);
		if (s < 11)
			model_sample(&fx->m, AT(s));
		else
			model_finish(&fx->m, AT(s));
	}
	fx->meta.now_ns = AT(11);
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "findings"), 1);
	f = get(root, "findings.0");
	assert_string_equal(get_str(f, "kind"), "task-leak");
	assert_string_equal(get_str(f, "severity"), "warning");
	assert_string_equal(get_str(f, "summary"), fx->fs.items[0].summary);
	assert_site_is(f, &FETCH);
	ev = get(f, "evidence");
	assert_string_equal(get_str(ev, "reason"), "growth");
	assert_int_equal(get_int(ev, "in_flight_first"), 10);
	assert_int_equal(get_int(ev, "in_flight_last"), 110);
	assert_float_equal(get_double(ev, "slope_per_min"), 600.0, 1e-6);
	assert_float_equal(get_double(ev, "window_start_s"), 1.0, 1e-9);
	assert_float_equal(get_double(ev, "window_end_s"), 11.0, 1e-9);
	assert_false(has(ev, "stuck"));
	assert_false(has(ev, "open_first"));
	assert_non_null(strstr(fx->text, "\"slope_per_min\":600.000"));
}

/* one finding per thread's site, each site's thread in targets[].tasks.sites */
static void test_sites_split_by_thread_in_report(void **state)
{
	struct fixture *fx = *state;
	struct crowd main_loop = CROWD(&FETCH, 1), other_loop = CROWD(&FETCH_T2, 2);
	json_object *root, *f;
	int64_t first_thread;
	char path[32];
	size_t i;

	crowd_hold(&fx->m, &main_loop, 2, AT(1));
	crowd_hold(&fx->m, &other_loop, 1, AT(1));
	model_task_destroyed(&fx->m, PID, crowd_task(&main_loop, 0), 0, AT(2));
	model_task_destroyed(&fx->m, PID, crowd_task(&main_loop, 1), 0, AT(2));
	model_task_destroyed(&fx->m, PID, crowd_task(&other_loop, 0), 0, AT(2));
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "findings"), 2);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "findings.%zu", i);
		f = get(root, path);
		assert_int_equal(get_int(f, "site.line"), 42);
		/* two tasks dropped in the main thread's loop, one in the other's */
		if (get_int(f, "site.thread") == PID)
			assert_int_equal(get_int(f, "evidence.destroyed_pending"), 2);
		else
			assert_int_equal(get_int(f, "evidence.destroyed_pending"), 1);
	}
	assert_int_not_equal(get_int(root, "findings.0.site.thread"),
			     get_int(root, "findings.1.site.thread"));
	assert_int_equal(get_len(root, "targets.0.tasks.sites"), 2);
	first_thread = get_int(root, "targets.0.tasks.sites.0.thread");
	assert_true(first_thread == PID || first_thread == PID + 1);
	assert_int_equal(get_int(root, "targets.0.tasks.sites.1.thread"),
			 first_thread == PID ? PID + 1 : PID);
}

static void test_task_thresholds_in_report(void **state)
{
	struct fixture *fx = *state;
	json_object *root = write_and_parse(fx);

	assert_int_equal(get_int(root, "thresholds.fanout_tasks"), 100);
	assert_int_equal(get_int(root, "thresholds.fanout_connections"), 50);
	assert_int_equal(get_int(root, "thresholds.fanout_memory_tasks"), 10000);
	assert_float_equal(get_double(root, "thresholds.stuck_age_s"), 30.0, 1e-9);
	assert_float_equal(get_double(root, "thresholds.stuck_lifetime_factor"), 10.0, 1e-9);
	assert_int_equal(get_int(root, "thresholds.task_growth_min"), 50);
}

static void test_write_error_reported(void **state)
{
	struct fixture *fx = *state;
	FILE *f = fopen("/dev/null", "r");

	assert_non_null(f);
	assert_int_equal(findings_compute(&fx->m, &thr, fx->meta.now_ns, &fx->fs), 0);
	assert_int_equal(report_write_json(f, &fx->meta, &fx->m, &fx->fs), -EIO);
	fclose(f);
}

/*
 * Means and rates are over the time each process was traced: from the start,
 * or from when it joined a trace under way (a sweep finds it late), to now.
 * Tasks in flight count for the time since the refresh before the one that
 * sees them, as the trace's polls (every 100 ms) do.
 */
static void test_rates_and_means_in_report(void **state)
{
	struct fixture *fx = *state;
	const struct task_origin late = { "/srv/late.py", 3, "main", "job", PID + 1, 0, NULL,
					  false, 0, 0 };
	struct proc_model *joined;
	json_object *root;
	uint64_t i;

	for (i = 0; i < 4; i++)
		model_task_created(&fx->m, PID, 0x1000 + i * 0x100, &FETCH, 0, AT(0));
	for (i = 1; i <= 3; i++)
		open_conn(&fx->m, i, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40000 + i), ep4("10.0.0.5", 80),
			  AT(i));
	model_tasks_refreshed(&fx->m, AT(2));
	model_task_done(&fx->m, PID, 0x1000, 2, AT(4));
	model_task_done(&fx->m, PID, 0x1100, 2, AT(4));
	model_tasks_refreshed(&fx->m, AT(4));
	joined = model_add_process(&fx->m, PID + 1, "python3", "/usr/bin/python3");
	assert_non_null(joined);
	model_process_joined(&fx->m, joined, AT(5));
	model_tasks_refreshed(&fx->m, AT(6));
	model_task_created(&fx->m, PID + 1, 0x9000, &late, 0, AT(6));
	model_tasks_refreshed(&fx->m, AT(10));
	root = write_and_parse(fx);

	/*
	 * 4 tasks until 4 s, 2 after; each poll's count stands for the time since
	 * the one before, so the 2 that ended at 4 s leave at the 2 s poll: 4x2 + 2x2 + 2x6
	 */
	assert_float_equal(get_double(root, "targets.0.tasks.mean_in_flight"), 2.4, 1e-9);
	assert_float_equal(get_double(root, "targets.0.tasks.created_per_s"), 0.4, 1e-9);
	assert_float_equal(get_double(root, "targets.0.tasks.sites.0.mean_in_flight"), 2.4, 1e-9);
	assert_float_equal(get_double(root, "targets.0.tasks.sites.0.created_per_s"), 0.4, 1e-9);
	assert_float_equal(get_double(root, "targets.0.connections.opened_per_s"), 0.3, 1e-9);
	assert_float_equal(get_double(root, "targets.0.joined_at_s"), 0, 1e-9);
	assert_float_equal(get_double(root, "targets.0.traced_s"), 10, 1e-9);
	/* joined at 5 s: one task for its last 4 of 5 s */
	assert_float_equal(get_double(root, "targets.1.joined_at_s"), 5, 1e-9);
	assert_float_equal(get_double(root, "targets.1.traced_s"), 5, 1e-9);
	assert_float_equal(get_double(root, "targets.1.tasks.mean_in_flight"), 0.8, 1e-9);
	assert_float_equal(get_double(root, "targets.1.tasks.created_per_s"), 0.2, 1e-9);
	assert_float_equal(get_double(root, "targets.1.tasks.sites.0.created_per_s"), 0.2, 1e-9);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty_model_report),
		T(test_hostile_strings_sanitized),
		T(test_ended_in_report),
		T(test_close_wait_finding_in_report),
		T(test_found_at_attach_close_wait_lower_bound_in_report),
		T(test_growth_finding_in_report),
		T(test_connections_block),
		T(test_lifetimes_without_closes_has_only_count),
		T(test_fanout_finding_in_report),
		T(test_critical_fanout_without_parent_in_report),
		T(test_destroyed_pending_finding_in_report),
		T(test_stuck_finding_in_report),
		T(test_task_growth_finding_in_report),
		T(test_sites_split_by_thread_in_report),
		T(test_task_thresholds_in_report),
		T(test_write_error_reported),
		T(test_rates_and_means_in_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
