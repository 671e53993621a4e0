// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/cli/output.c: a report file appears whole or not at all. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include "output.h"

struct fixture {
	char dir[64];
	char path[128];		/* dir/report.json */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/inflight-test-output-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/report.json", fx->dir);
	*state = fx;
	return 0;
}

/* Empties the directory (whatever a failing test left) and removes it. */
static int teardown(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(fx->dir);

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Entries in dir, other than . and ..; the last one's name in name. */
static int count_entries(const char *dir, char *name, size_t size)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (name)
			snprintf(name, size, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

static bool exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return true;
	assert_int_equal(errno, ENOENT);
	return false;
}

static void assert_file_content(const char *path, const char *want)
{
	char buf[256];
	size_t n;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, want);
}

/* the report is written to an unnamed file: killed with SIGKILL, nothing is left */
static void test_open_creates_no_visible_file(void **state)
{
	struct fixture *fx = *state;
	struct output o;

	assert_int_equal(output_open(&o, fx->path), 0);
	assert_non_null(o.f);
	assert_non_null(o.path);
	assert_string_equal(o.path, fx->path);
	assert_true(o.unnamed);
	assert_null(o.tmp_path);
	assert_int_equal(count_entries(fx->dir, NULL, 0), 0);
	output_abort(&o);
}

static void test_nothing_at_final_path_while_writing(void **state)
{
	struct fixture *fx = *state;
	struct output o;

	assert_int_equal(output_open(&o, fx->path), 0);
	assert_true(fputs("{\"partial\": ", o.f) >= 0);
	assert_int_equal(fflush(o.f), 0);
	assert_false(exists(fx->path));
	output_abort(&o);
}

static void test_commit_renames_into_place(void **state)
{
	struct fixture *fx = *state;
	struct output o;
	char name[256];
	struct stat st;

	assert_int_equal(output_open(&o, fx->path), 0);
	assert_true(fputs("{\"schema_version\": 1}\n", o.f) >= 0);
	assert_int_equal(output_commit(&o), 0);
	assert_true(exists(fx->path));
	assert_file_content(fx->path, "{\"schema_version\": 1}\n");
	assert_int_equal(count_entries(fx->dir, name, sizeof(name)), 1);
	assert_string_equal(name, "report.json");
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_null(o.f);
	assert_null(o.path);
	assert_null(o.tmp_path);
	/* abort after commit does not remove the report */
	output_abort(&o);
	assert_true(exists(fx->path));
}

static void test_commit_replaces_existing_file(void **state)
{
	struct fixture *fx = *state;
	struct output o;
	FILE *old = fopen(fx->path, "w");

	assert_non_null(old);
	fputs("old report\n", old);
	fclose(old);
	assert_int_equal(output_open(&o, fx->path), 0);
	fputs("new report\n", o.f);
	fflush(o.f);
	assert_file_content(fx->path, "old report\n");
	assert_int_equal(output_commit(&o), 0);
	assert_file_content(fx->path, "new report\n");
	assert_int_equal(count_entries(fx->dir, NULL, 0), 1);
}

static void test_abort_leaves_no_file(void **state)
{
	struct fixture *fx = *state;
	struct output o;

	assert_int_equal(output_open(&o, fx->path), 0);
	fputs("half a report", o.f);
	output_abort(&o);
	assert_false(exists(fx->path));
	assert_int_equal(count_entries(fx->dir, NULL, 0), 0);
	assert_null(o.f);
	assert_null(o.path);
	assert_null(o.tmp_path);
	/* twice is harmless */
	output_abort(&o);
}

static void test_abort_on_zeroed_struct_is_safe(void **state)
{
	struct output o = {};

	output_abort(&o);
	assert_null(o.f);
	assert_null(o.path);
	assert_null(o.tmp_path);
}

static void test_open_in_missing_directory_fails(void **state)
{
	struct fixture *fx = *state;
	struct output o;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/missing/report.json", fx->dir);
	memset(&o, 0x5a, sizeof(o));
	assert_int_equal(output_open(&o, path), -ENOENT);
	assert_null(o.f);
	assert_null(o.path);
	assert_null(o.tmp_path);
	assert_int_equal(count_entries(fx->dir, NULL, 0), 0);
	/* the struct is left safe to abort */
	output_abort(&o);
}

static void test_open_under_a_file_fails(void **state)
{
	struct fixture *fx = *state;
	struct output o;
	char path[PATH_MAX];
	FILE *f = fopen(fx->path, "w");

	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/report.json/x", fx->dir);
	assert_int_equal(output_open(&o, path), -ENOTDIR);
	assert_null(o.f);
	assert_int_equal(count_entries(fx->dir, NULL, 0), 1);
}

/* a directory would only fail at the rename, after the whole trace */
static void test_open_on_a_directory_fails_at_once(void **state)
{
	struct fixture *fx = *state;
	struct output o;
	char path[PATH_MAX];

	assert_int_equal(output_open(&o, fx->dir), -EISDIR);
	snprintf(path, sizeof(path), "%s/", fx->dir);
	assert_int_equal(output_open(&o, path), -EISDIR);
	assert_int_equal(count_entries(fx->dir, NULL, 0), 0);
}

/* two writers of one path: each report arrives whole, the last one stays, nothing else */
static void test_two_outputs_same_path_last_commit_wins(void **state)
{
	struct fixture *fx = *state;
	struct output a, b;
	char name[256];

	assert_int_equal(output_open(&a, fx->path), 0);
	assert_int_equal(output_open(&b, fx->path), 0);
	fputs("report a\n", a.f);
	fputs("report b\n", b.f);
	assert_int_equal(output_commit(&a), 0);
	assert_file_content(fx->path, "report a\n");
	assert_int_equal(output_commit(&b), 0);
	assert_file_content(fx->path, "report b\n");
	assert_int_equal(count_entries(fx->dir, name, sizeof(name)), 1);
	assert_string_equal(name, "report.json");
}

static void test_stdout_for_dash_and_null(void **state)
{
	struct output o;

	assert_int_equal(output_open(&o, "-"), 0);
	assert_ptr_equal(o.f, stdout);
	assert_null(o.path);
	assert_null(o.tmp_path);
	assert_int_equal(output_commit(&o), 0);
	output_abort(&o);
	assert_int_equal(output_open(&o, NULL), 0);
	assert_ptr_equal(o.f, stdout);
	output_abort(&o);
	assert_null(o.f);
	/* stdout was not closed */
	assert_int_not_equal(fcntl(STDOUT_FILENO, F_GETFD), -1);
}

/* A character device is written through, never replaced (as root, -o /dev/null) */
static void test_a_character_device_is_written_through(void **state)
{
	struct output o;
	struct stat st;

	(void)state;
	assert_int_equal(output_open(&o, "/dev/null"), 0);
	assert_null(o.tmp_path);
	assert_int_not_equal(fputs("{}\n", o.f), EOF);
	assert_int_equal(output_commit(&o), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

/* A FIFO with a reader gets the report; one without fails at once, left as it was */
static void test_a_fifo_is_written_through_or_refused_without_a_reader(void **state)
{
	struct fixture *fx = *state;
	struct output o;
	struct stat st;
	char got[8] = "";
	int reader;

	assert_int_equal(mkfifo(fx->path, 0600), 0);
	assert_int_equal(output_open(&o, fx->path), -ENXIO);
	assert_non_null(strstr(output_strerror(-ENXIO), "FIFO no process is reading"));
	reader = open(fx->path, O_RDONLY | O_NONBLOCK);
	assert_true(reader >= 0);
	assert_int_equal(output_open(&o, fx->path), 0);
	assert_int_not_equal(fputs("{}\n", o.f), EOF);
	assert_int_equal(output_commit(&o), 0);
	assert_int_equal(read(reader, got, sizeof(got) - 1), 3);
	assert_string_equal(got, "{}\n");
	close(reader);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(count_entries(fx->dir, NULL, 0), 1);
}

static void test_a_socket_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct output o;
	int sock = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(sock >= 0);
	assert_true(strlen(fx->path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, fx->path, strlen(fx->path) + 1);
	assert_int_equal(bind(sock, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(output_open(&o, fx->path), -EINVAL);
	assert_non_null(strstr(output_strerror(-EINVAL), "neither a regular file"));
	close(sock);
	assert_int_equal(count_entries(fx->dir, NULL, 0), 1);
}

/* The report's mode is what open(2) would give under the umask, not a fixed 0644 */
static void test_the_umask_is_honoured(void **state)
{
	struct fixture *fx = *state;
	struct output o;
	struct stat st;
	mode_t was = umask(077);

	assert_int_equal(output_open(&o, fx->path), 0);
	assert_int_equal(output_commit(&o), 0);
	umask(was);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* In a directory others can write, another user's symbolic link is not followed */
static void test_a_link_planted_by_another_user_is_refused(void **state)
{
	struct fixture *fx = *state;
	char victim[PATH_MAX];
	struct output o;
	struct stat st;

	if (geteuid() != 0)
		skip();	/* a link owned by someone else needs root to make */
	snprintf(victim, sizeof(victim), "%s/victim", fx->dir);
	assert_int_equal(close(open(victim, O_CREAT | O_WRONLY, 0600)), 0);
	assert_int_equal(symlink("/dev/null", fx->path), 0);
	assert_int_equal(lchown(fx->path, 65534, 65534), 0);
	assert_int_equal(chmod(fx->dir, 01777), 0);
	assert_int_equal(output_open(&o, fx->path), -EPERM);
	assert_non_null(strstr(output_strerror(-EPERM), "not followed"));
	/* one of our own there is followed as the user asked */
	assert_int_equal(lchown(fx->path, 0, 0), 0);
	assert_int_equal(output_open(&o, fx->path), 0);
	output_abort(&o);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_creates_no_visible_file),
		T(test_a_character_device_is_written_through),
		T(test_a_fifo_is_written_through_or_refused_without_a_reader),
		T(test_a_socket_is_refused),
		T(test_the_umask_is_honoured),
		T(test_a_link_planted_by_another_user_is_refused),
		T(test_nothing_at_final_path_while_writing),
		T(test_commit_renames_into_place),
		T(test_commit_replaces_existing_file),
		T(test_abort_leaves_no_file),
		cmocka_unit_test(test_abort_on_zeroed_struct_is_safe),
		T(test_open_in_missing_directory_fails),
		T(test_open_under_a_file_fails),
		T(test_open_on_a_directory_fails_at_once),
		T(test_two_outputs_same_path_last_commit_wins),
		cmocka_unit_test(test_stdout_for_dash_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
