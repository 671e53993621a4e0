// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/report_json.c: the JSON report parses back, clean. */
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

/* Computes findings, writes the report and parses it back, strictly. */
static json_object *write_and_parse(struct fixture *fx)
{
	struct json_tokener *tok;
	size_t size = 0;
	FILE *f;

	assert_int_equal(findings_compute(&fx->m, &thr, fx->meta.now_ns, &fx->fs), 0);
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

static void test_hostile_strings_sanitized(void **state)
{
	struct fixture *fx = *state;
	struct proc_model *p;
	json_object *root;

	assert_non_null(model_add_process(&fx->m, 666, "ev\x01il\xff", "/opt/\xc0\xaf" "app"));
	p = model_process(&fx->m, 666);
	model_set_hook(p, "connections", false, "bad \xed\xa0\x80 \"quoted\"\n");
	root = write_and_parse(fx);
	assert_int_equal(get_len(root, "targets"), 2);
	assert_int_equal(get_int(root, "targets.1.pid"), 666);
	assert_string_equal(get_str(root, "targets.1.comm"), "ev\x01il" FFFD);
	assert_string_equal(get_str(root, "targets.1.exe"), "/opt/" FFFD FFFD "app");
	assert_string_equal(get_str(root, "targets.1.hooks.0.name"), "connections");
	assert_false(get_bool(root, "targets.1.hooks.0.attached"));
	assert_string_equal(get_str(root, "targets.1.hooks.0.detail"),
			    "bad " FFFD FFFD FFFD " \"quoted\"\n");
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
}

static void test_lifetimes_without_closes_has_only_count(void **state)
{
	struct fixture *fx = *state;
	json_object *root = write_and_parse(fx);

	assert_int_equal(get_int(root, "targets.0.connections.lifetimes.count"), 0);
	assert_false(has(get(root, "targets.0.connections.lifetimes"), "p50_s"));
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty_model_report),
		T(test_hostile_strings_sanitized),
		T(test_close_wait_finding_in_report),
		T(test_found_at_attach_close_wait_lower_bound_in_report),
		T(test_growth_finding_in_report),
		T(test_connections_block),
		T(test_lifetimes_without_closes_has_only_count),
		T(test_write_error_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
