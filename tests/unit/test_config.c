// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/cli/config.c: the thresholds file is read as strict JSON, whole. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "config.h"

static char path[64];

static void write_file(const char *text, size_t pad)
{
	FILE *f = fopen(path, "w");
	size_t i;

	assert_non_null(f);
	fputs(text, f);
	for (i = 0; i < pad; i++)
		fputc(' ', f);
	assert_int_equal(fclose(f), 0);
}

static int load(const char *text, size_t pad, char *why, size_t size)
{
	struct finding_thresholds t = default_thresholds;
	int fd;

	snprintf(path, sizeof(path), "/tmp/inflight-test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(text, pad);
	fd = config_load_thresholds(path, &t, why, size);
	unlink(path);
	return fd;
}

/*
 * What follows the object is read as a string: a short file after a long one
 * (whose spaces the reader's buffer still holds) is read by its own bytes.
 */
static void test_a_short_file_after_a_long_one(void **state)
{
	char why[256] = "";

	(void)state;
	assert_int_equal(load("{}", 60000, why, sizeof(why)), 0);
	assert_int_equal(load("{}", 0, why, sizeof(why)), 0);
	assert_int_equal(load("{\"stuck_age_s\": 5}\n", 0, why, sizeof(why)), 0);
}

static void test_text_after_the_object_is_refused(void **state)
{
	char why[256] = "";

	(void)state;
	assert_int_equal(load("{} x", 0, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not valid JSON"));
	assert_int_equal(load("", 0, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "empty"));
	assert_int_equal(load("{}", 70000, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "larger than"));
}

/* json-c cuts a key at an escaped NUL: "fanout_tasks\u0000x" is not fanout_tasks */
static void test_a_key_cut_at_an_escaped_nul_is_refused(void **state)
{
	char why[256] = "";

	(void)state;
	assert_int_equal(load("{\"fanout_tasks\\u0000junk\": 7}", 0, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "\\u0000"));
}

static int load_trend(const char *text, struct trend_thresholds *t, char *why, size_t size)
{
	int fd;

	*t = trend_default_thresholds;
	snprintf(path, sizeof(path), "/tmp/inflight-test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(text, 0);
	fd = config_load_trend(path, t, why, size);
	unlink(path);
	return fd;
}

/* One file for a fleet: trace takes its thresholds, trend its own, each leaves the other's. */
static void test_one_file_for_trace_and_trend(void **state)
{
	const char *both = "{\"fanout_tasks\": 7, \"grow_tasks_pct\": 20, \"grow_min\": 0.5}";
	struct trend_thresholds t;
	char why[256] = "";

	(void)state;
	assert_int_equal(load(both, 0, why, sizeof(why)), 0);
	assert_int_equal(load_trend(both, &t, why, sizeof(why)), 0);
	assert_true(t.grow_tasks_pct == 20 && t.grow_min == 0.5);
	assert_true(t.grow_conns_pct == trend_default_thresholds.grow_conns_pct);
	assert_int_equal(load_trend("{\"grow_task_pct\": 20}", &t, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "unknown key 'grow_task_pct'"));
	assert_int_equal(load_trend("{\"grow_conns_pct\": -1}", &t, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "a percentage from 0"));
	assert_int_equal(load_trend("{\"grow_leak_slope_pct\": \"50\"}", &t, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "must be a number"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_short_file_after_a_long_one),
		cmocka_unit_test(test_text_after_the_object_is_refused),
		cmocka_unit_test(test_a_key_cut_at_an_escaped_nul_is_refused),
		cmocka_unit_test(test_one_file_for_trace_and_trend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
