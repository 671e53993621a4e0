// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/session/snapshot_files.c: snapshot names, and --keep
 * on a real directory: only this host's snapshots go, the oldest first.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "snapshot_files.h"

static void test_name_of_a_sweep(void **state)
{
	char name[128], host[64];

	/* 2026-12-03 16:45:31 UTC */
	assert_int_equal(snapshot_file_name("web-1", 1796316331, name, sizeof(name)), 0);
	assert_string_equal(name, "inflight-web-1-20261203T164531Z.json.gz");
	assert_int_equal(snapshot_file_name("web-1", 1796316331, name, 20), -ENAMETOOLONG);
	snapshot_host_name("a/b", host, sizeof(host));
	assert_string_equal(host, "a_b");
	snapshot_host_name("", host, sizeof(host));
	assert_string_equal(host, "unknown");
}

static void test_names_of_a_host(void **state)
{
	assert_true(snapshot_file_is_of_host("inflight-web-20261203T164531Z.json.gz", "web"));
	assert_true(snapshot_file_is_of_host("inflight-web-1-20261203T164531Z.json.gz", "web-1"));
	/* another host whose name starts with this one's */
	assert_false(snapshot_file_is_of_host("inflight-web-1-20261203T164531Z.json.gz", "web"));
	assert_false(snapshot_file_is_of_host("inflight-web-20261203T164531Z.json.gz", "web-1"));
	assert_false(snapshot_file_is_of_host("inflight-web-20261203T164531Z.json", "web"));
	assert_false(snapshot_file_is_of_host("inflight-web-20261203T164531Z.json.gz.inflight-1a2b3c4d",
					      "web"));
	assert_false(snapshot_file_is_of_host("inflight-web-20261203X164531Z.json.gz", "web"));
	assert_false(snapshot_file_is_of_host("inflight-web-2026120T3164531Z.json.gz", "web"));
	assert_false(snapshot_file_is_of_host("inflight-web-20261203T16453Z.json.gz", "web"));
	assert_false(snapshot_file_is_of_host("inflight-web-latest.json.gz", "web"));
	assert_false(snapshot_file_is_of_host("xinflight-web-20261203T164531Z.json.gz", "web"));
	assert_false(snapshot_file_is_of_host("inflight-sweep.prom", "web"));
}

static void touch(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !lstat(path, &st);
}

static char *week(int w)
{
	static char name[64];

	snprintf(name, sizeof(name), "inflight-web-2026%02d%02dT031500Z.json.gz", 1 + w / 4,
		 1 + w % 4 * 7);
	return name;
}

/* dir/name as a symbolic link to target */
static void link_as(const char *dir, const char *name, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(symlink(target, path), 0);
}

static void test_keep_the_newest(void **state)
{
	static const char *const others[] = {
		"inflight-web-1-20260101T031500Z.json.gz",	/* another host */
		"notes.txt",
		"inflight-web-20260101T031500Z.json.gz.inflight-1a2b3c4d",	/* being written */
		"inflight-web-20250101T000000Z.json.gz",	/* a link, below */
		"inflight-web-20250102T000000Z.json.gz",	/* a directory, below */
	};
	char dir[] = "/tmp/inflight-keep-XXXXXX", path[512], written[64];
	size_t removed, i;
	int w;

	assert_non_null(mkdtemp(dir));
	/* created out of order: the names, not the order, say which are newest */
	for (w = 9; w >= 0; w--)
		touch(dir, week(w));
	/* the one just written, named as older than the rest (the clock went back) */
	snprintf(written, sizeof(written), "inflight-web-20251201T000000Z.json.gz");
	touch(dir, written);
	touch(dir, others[0]);
	touch(dir, others[1]);
	touch(dir, others[2]);
	link_as(dir, others[3], "notes.txt");
	snprintf(path, sizeof(path), "%s/%s", dir, others[4]);
	assert_int_equal(mkdir(path, 0755), 0);

	assert_int_equal(snapshot_keep_newest(dir, "web", written, 4, &removed), 0);
	assert_int_equal(removed, 7);
	assert_true(exists(dir, written));
	for (w = 0; w < 10; w++)
		assert_int_equal(exists(dir, week(w)), w >= 7);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_true(exists(dir, others[i]));

	/* keep 1: the one just written alone */
	assert_int_equal(snapshot_keep_newest(dir, "web", written, 1, &removed), 0);
	assert_int_equal(removed, 3);
	assert_true(exists(dir, written));
	assert_false(exists(dir, week(9)));
	assert_int_equal(snapshot_keep_newest(dir, "web", written, 0, &removed), -EINVAL);
	assert_int_equal(snapshot_keep_newest("/nonexistent-inflight", "web", written, 1, &removed),
			 -ENOENT);

	rmdir(path);
	for (i = 0; i < sizeof(others) / sizeof(others[0]) - 1; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, others[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, written);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_of_a_sweep),
		cmocka_unit_test(test_names_of_a_host),
		cmocka_unit_test(test_keep_the_newest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
