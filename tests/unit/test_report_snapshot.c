// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/report/report_snapshot.c: the sweep's snapshot is gzip,
 * its JSON parses back, each service holds its own target and findings only,
 * and what is not known is null.
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
#include <zlib.h>
#include <cmocka.h>
#include "clock.h"
#include "report_snapshot.h"

#define START_NS (100 * NSEC_PER_SEC)
#define AT(s) (START_NS + (uint64_t)((s) * (double)NSEC_PER_SEC))
#define LEAKY 4242
#define HEALTHY 5151
#define OLD 6161

static const struct finding_thresholds thr = {
	.close_wait_min_age_s = 2.0, .close_wait_critical = 10, .growth_min_increase = 20,
	.growth_min_window_s = 5.0, .fanout_min_tasks = 100, .fanout_min_conns = 50,
	.fanout_memory_tasks = 10000, .stuck_min_age_s = 30.0, .stuck_lifetime_factor = 10.0,
	.task_growth_min_increase = 50, .pileup_min_tasks = 1000, .never_closed_min_conns = 200,
};

/* a connection of LEAKY left in CLOSE_WAIT for 7 s: one finding, of LEAKY's */
static void leak_one(struct model *m)
{
	struct conn c = {
		.pid = LEAKY, .ino = 1, .source = CONN_SEEN_CONNECT, .state = TCP_STATE_ESTABLISHED,
		.local = { .family = AF_INET, .port = 40001 },
		.remote = { .family = AF_INET, .port = 5432 }, .opened_ns = AT(1),
	};

	model_conn_open(m, &c);
	model_conn_state(m, LEAKY, 1, TCP_STATE_CLOSE_WAIT, AT(3));
}

/* The gzip member in buf, inflated and parsed, strictly. */
static json_object *gunzip_json(const unsigned char *buf, size_t len)
{
	static unsigned char out[1 << 20];
	struct json_tokener *tok;
	z_stream z = {};
	json_object *root;

	assert_int_equal(len > 2 && buf[0] == 0x1f && buf[1] == 0x8b, 1);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)buf;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = sizeof(out);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);	/* one member, nothing after it */
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, (const char *)out, (int)z.total_out);
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	json_tokener_free(tok);
	inflateEnd(&z);
	return root;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no member '%s'", key);
	return v;
}

static const char *str(json_object *o, const char *key)
{
	return json_object_get_string(member(o, key));
}

static bool is_null(json_object *o, const char *key)
{
	return json_object_is_type(member(o, key), json_type_null);
}

static void test_snapshot_of_two_services_and_a_skipped_one(void **state)
{
	static char *argv[] = { "python3", "app.py" };
	const struct snapshot_process services[] = {
		{ .pid = HEALTHY, .service = "billing.service", .service_source = "cgroup",
		  .exe = "/usr/bin/python3.11", .argv = argv, .argc = 2, .python = "3.11.2",
		  .cgroup = "/system.slice/billing.service", .runtime = "systemd",
		  .container_name = "billing.service" },
		{ .pid = LEAKY, .service = "/usr/bin/python3.12 app.py", .service_source = "command",
		  .exe = "/usr/bin/python3.12", .argv = argv, .argc = 2 },
	};
	const struct snapshot_process skipped[] = {
		{ .pid = OLD, .service = "docker:4f1e9c2b7a0d", .service_source = "container",
		  .exe = "/usr/bin/python3.8", .argv = argv, .argc = 1,
		  .reason = "CPython 3.8 is not supported (CPython 3.9 to 3.15 are)" },
	};
	const struct snapshot_info info = {
		.hostname = "web1", .machine_id = NULL, .kernel = "6.1.0-13-amd64",
		.services = services, .n_services = 2, .skipped = skipped, .n_skipped = 1,
	};
	struct report_meta meta = { .version = "0.1.0-test", .end_reason = "interrupted",
				    .now_ns = AT(10), .thresholds = &thr };
	json_object *root, *s, *a;
	struct findings fs;
	struct model m;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(model_init(&m, START_NS, 1000), 0);
	m.mode = TRACE_MODE_SAMPLED;
	assert_non_null(model_add_process(&m, LEAKY, "python3", "/usr/bin/python3.12"));
	assert_non_null(model_add_process(&m, HEALTHY, "python3", "/usr/bin/python3.11"));
	leak_one(&m);
	assert_int_equal(findings_compute(&m, &thr, meta.now_ns, &fs), 0);
	assert_int_equal(fs.len, 1);
	f = open_memstream(&buf, &len);
	assert_int_equal(report_write_snapshot(f, &meta, &m, &fs, &info), 0);
	assert_int_equal(fclose(f), 0);
	root = gunzip_json((unsigned char *)buf, len);

	assert_string_equal(str(root, "schema"), "inflight-snapshot");
	assert_int_equal(json_object_get_int(member(root, "schema_version")), 1);
	assert_string_equal(str(member(root, "tool"), "version"), "0.1.0-test");
	assert_string_equal(str(member(root, "host"), "hostname"), "web1");
	assert_true(is_null(member(root, "host"), "machine_id"));
	assert_string_equal(str(member(root, "host"), "kernel"), "6.1.0-13-amd64");
	assert_string_equal(str(root, "end_reason"), "interrupted");
	assert_string_equal(str(root, "mode"), "sampled");
	assert_float_equal(json_object_get_double(member(root, "duration_s")), 10.0, 1e-9);
	assert_string_equal(str(member(root, "tracer"), "mode"), "sampled");
	assert_float_equal(json_object_get_double(member(member(root, "thresholds"),
							 "close_wait_age_s")), 2.0, 1e-9);

	a = member(root, "services");
	assert_int_equal(json_object_array_length(a), 2);
	s = json_object_array_get_idx(a, 0);
	assert_string_equal(str(s, "service"), "billing.service");
	assert_string_equal(str(s, "service_source"), "cgroup");
	assert_int_equal(json_object_get_int(member(s, "pid")), HEALTHY);
	assert_string_equal(str(s, "python"), "3.11.2");
	assert_string_equal(str(member(s, "container"), "runtime"), "systemd");
	assert_string_equal(str(member(s, "container"), "name"), "billing.service");
	assert_true(is_null(member(s, "container"), "id"));
	assert_int_equal(json_object_get_int(member(member(s, "target"), "pid")), HEALTHY);
	assert_int_equal(json_object_array_length(member(s, "findings")), 0);
	assert_int_equal(json_object_array_length(member(s, "cmdline")), 2);
	s = json_object_array_get_idx(a, 1);
	assert_int_equal(json_object_get_int(member(member(s, "target"), "pid")), LEAKY);
	assert_true(is_null(s, "python"));
	assert_true(is_null(member(s, "container"), "cgroup"));
	assert_true(is_null(member(s, "container"), "runtime"));
	assert_int_equal(json_object_array_length(member(s, "findings")), 1);
	assert_string_equal(str(json_object_array_get_idx(member(s, "findings"), 0), "kind"),
			    "connection-leak");

	a = member(root, "skipped");
	assert_int_equal(json_object_array_length(a), 1);
	s = json_object_array_get_idx(a, 0);
	assert_int_equal(json_object_get_int(member(s, "pid")), OLD);
	assert_string_equal(str(s, "service"), "docker:4f1e9c2b7a0d");
	assert_string_equal(str(s, "reason"), skipped[0].reason);
	assert_string_equal(str(s, "exe"), "/usr/bin/python3.8");
	assert_int_equal(json_object_array_length(member(s, "cmdline")), 1);
	assert_false(json_object_object_get_ex(s, "target", NULL));

	json_object_put(root);
	free(buf);
	findings_free(&fs);
	model_free(&m);
}

/* a full disk: the write fails, and says so */
static void test_write_error_reported(void **state)
{
	const struct snapshot_info info = { .hostname = "web1", .kernel = "6.1" };
	struct report_meta meta = { .version = "0.1.0-test", .end_reason = "duration",
				    .now_ns = AT(1), .thresholds = &thr };
	struct findings fs = {};
	struct model m;
	FILE *f = fopen("/dev/full", "w");

	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(model_init(&m, START_NS, 10), 0);
	assert_int_equal(report_write_snapshot(f, &meta, &m, &fs, &info), -EIO);
	fclose(f);
	model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_of_two_services_and_a_skipped_one),
		cmocka_unit_test(test_write_error_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
