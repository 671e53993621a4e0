// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/sys/proc_maps.c: the file mappings in /proc/PID/maps. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnu/libc-version.h>
#include <cmocka.h>
#include "proc_maps.h"

#define LIBPY "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"
#define ASYNCIO "/opt/my app/lib/_asyncio.cpython-311-x86_64-linux-gnu.so"

/* As the kernel prints it: padded names, a trailing space on anonymous lines. */
static const char maps_text[] =
	"55d4c0a00000-55d4c0a02000 r--p 00000000 08:01 1234                       /usr/bin/python3.11\n"
	"55d4c0a02000-55d4c0c00000 r-xp 00002000 08:01 1234                       /usr/bin/python3.11\n"
	"55d4c1000000-55d4c1100000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
	"7f1000000000-7f1000010000 r--p 00000000 08:01 5678                       " LIBPY "\n"
	"7f1000010000-7f1000200000 r-xp 00010000 08:01 5678                       " LIBPY "\n"
	"7f1000200000-7f1000300000 rw-p 00200000 08:01 5678                       " LIBPY "\n"
	"7f2000000000-7f2000004000 r--p 00000000 08:01 91011                      " ASYNCIO "\n"
	"7f2000004000-7f2000008000 r-xp 00004000 08:01 91011                      " ASYNCIO "\n"
	"7f3000000000-7f3000001000 r-xp 00000000 08:01 1213                       /tmp/libfoo.so (deleted)\n"
	"7f3000001000-7f3000002000 r--s 00000000 08:01 1214                       /usr/lib/gconv/gconv-modules.cache\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffd00100000-7ffd00102000 r--p 00000000 00:00 0                          [vvar]\n"
	"7ffd00102000-7ffd00104000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static int parse_text(const char *text, struct proc_maps *m)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int err;

	assert_non_null(f);
	err = proc_maps_parse(f, m);
	fclose(f);
	return err;
}

static int setup_maps(void **state)
{
	struct proc_maps *m = calloc(1, sizeof(*m));

	if (!m || parse_text(maps_text, m)) {
		free(m);
		return -1;
	}
	*state = m;
	return 0;
}

static int teardown_maps(void **state)
{
	struct proc_maps *m = *state;

	proc_maps_free(m);
	free(m);
	return 0;
}

static void assert_mapping(const struct file_mapping *fm, uint64_t start, uint64_t end,
			   uint64_t offset, bool exec, const char *path)
{
	assert_non_null(fm);
	assert_int_equal(fm->start, start);
	assert_int_equal(fm->end, end);
	assert_int_equal(fm->offset, offset);
	assert_int_equal(fm->exec, exec);
	assert_string_equal(fm->path, path);
}

/* --- proc_maps_parse --- */

static void test_parse_keeps_file_backed_lines_only(void **state)
{
	struct proc_maps *m = *state;
	size_t i;

	assert_int_equal(m->len, 9);
	for (i = 0; i < m->len; i++)
		assert_int_equal(m->maps[i].path[0], '/');
}

static void test_parse_fields(void **state)
{
	struct proc_maps *m = *state;

	assert_mapping(&m->maps[0], 0x55d4c0a00000, 0x55d4c0a02000, 0, false,
		       "/usr/bin/python3.11");
	assert_mapping(&m->maps[1], 0x55d4c0a02000, 0x55d4c0c00000, 0x2000, true,
		       "/usr/bin/python3.11");
	assert_mapping(&m->maps[2], 0x7f1000000000, 0x7f1000010000, 0, false, LIBPY);
	assert_mapping(&m->maps[3], 0x7f1000010000, 0x7f1000200000, 0x10000, true, LIBPY);
	assert_mapping(&m->maps[4], 0x7f1000200000, 0x7f1000300000, 0x200000, false, LIBPY);
}

static void test_parse_path_with_spaces(void **state)
{
	struct proc_maps *m = *state;

	assert_mapping(&m->maps[5], 0x7f2000000000, 0x7f2000004000, 0, false, ASYNCIO);
	assert_mapping(&m->maps[6], 0x7f2000004000, 0x7f2000008000, 0x4000, true, ASYNCIO);
}

static void test_parse_deleted_suffix_kept_in_path(void **state)
{
	struct proc_maps *m = *state;

	assert_mapping(&m->maps[7], 0x7f3000000000, 0x7f3000001000, 0, true,
		       "/tmp/libfoo.so (deleted)");
}

static void test_parse_device_and_inode(void **state)
{
	struct proc_maps *m = *state;

	assert_int_equal(m->maps[0].dev_major, 8);
	assert_int_equal(m->maps[0].dev_minor, 1);
	assert_int_equal(m->maps[0].inode, 1234);
	assert_int_equal(m->maps[5].inode, 91011);
	assert_false(m->maps[0].deleted);
	assert_false(m->maps[5].deleted);
}

static void test_parse_device_in_hex_and_large_inode(void **state)
{
	struct proc_maps m;

	(void)state;
	assert_int_equal(parse_text("7f00-7f01 r--p 00000000 fe:1a 18446744073709551615 /a\n"
				    "7f02-7f03 r--p 00000000 103:02 7 /b\n", &m), 0);
	assert_int_equal(m.len, 2);
	assert_int_equal(m.maps[0].dev_major, 0xfe);
	assert_int_equal(m.maps[0].dev_minor, 0x1a);
	assert_true(m.maps[0].inode == UINT64_MAX);
	assert_int_equal(m.maps[1].dev_major, 0x103);
	assert_int_equal(m.maps[1].dev_minor, 2);
	proc_maps_free(&m);
}

static void test_parse_deleted_marked(void **state)
{
	struct proc_maps *m = *state, d;

	assert_true(m->maps[7].deleted);
	/* only as a suffix: a name that holds the words elsewhere is a name */
	assert_int_equal(parse_text("7f00-7f01 r--p 00000000 08:01 5 /x (deleted)/lib.so\n"
				    "7f02-7f03 r--p 00000000 08:01 6 /y (deleted)x\n", &d), 0);
	assert_int_equal(d.len, 2);
	assert_false(d.maps[0].deleted);
	assert_false(d.maps[1].deleted);
	proc_maps_free(&d);
}

static void test_parse_shared_mapping(void **state)
{
	struct proc_maps *m = *state;

	assert_mapping(&m->maps[8], 0x7f3000001000, 0x7f3000002000, 0, false,
		       "/usr/lib/gconv/gconv-modules.cache");
}

static void test_parse_anonymous_and_special_skipped(void **state)
{
	static const char text[] =
		"55d4c1000000-55d4c1100000 rw-p 00000000 00:00 0                          [heap]\n"
		"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
		"7f0000021000-7f0000022000 rw-p 00000000 00:00 0\n"
		"7f0000030000-7f0000031000 rw-s 00000000 00:01 77                         anon_inode:[io_uring]\n"
		"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
		"7f0000040000-7f0000041000 rw-p 00000000 00:00 0";
	struct proc_maps m;

	assert_int_equal(parse_text(text, &m), 0);
	assert_int_equal(m.len, 0);
	proc_maps_free(&m);
}

static void test_parse_last_line_without_newline(void **state)
{
	static const char text[] =
		"7f1000010000-7f1000200000 r-xp 00010000 08:01 5678                       /usr/lib/libx.so";
	struct proc_maps m;

	assert_int_equal(parse_text(text, &m), 0);
	assert_int_equal(m.len, 1);
	assert_mapping(&m.maps[0], 0x7f1000010000, 0x7f1000200000, 0x10000, true,
		       "/usr/lib/libx.so");
	proc_maps_free(&m);
}

static void test_parse_garbage_lines_skipped(void **state)
{
	static const char text[] =
		"\n"
		"hello world\n"
		"7f1000010000-7f1000200000\n"
		"7f1000010000-7f1000200000 r-xp\n"
		"7f1000010000-7f1000200000 r-xp 00010000\n"
		"7f1000010000-7f1000200000 r-xp zzzz 08:01 5678 /usr/lib/liby.so\n"
		"7f1000010000-7f1000200000 r-xp 00010000 08:01 5678                       /usr/lib/libx.so\n"
		"/usr/lib/libz.so\n";
	struct proc_maps m;

	assert_int_equal(parse_text(text, &m), 0);
	assert_int_equal(m.len, 1);
	assert_string_equal(m.maps[0].path, "/usr/lib/libx.so");
	proc_maps_free(&m);
}

static void test_parse_perms(void **state)
{
	static const char text[] =
		"1000-2000 rwxp 00000000 08:01 1 /a\n"
		"2000-3000 r--s 00000000 08:01 1 /b\n"
		"3000-4000 --xp 00000000 08:01 1 /c\n"
		"4000-5000 ---p 00000000 08:01 1 /d\n";
	struct proc_maps m;

	assert_int_equal(parse_text(text, &m), 0);
	assert_int_equal(m.len, 4);
	assert_mapping(&m.maps[0], 0x1000, 0x2000, 0, true, "/a");
	assert_mapping(&m.maps[1], 0x2000, 0x3000, 0, false, "/b");
	assert_mapping(&m.maps[2], 0x3000, 0x4000, 0, true, "/c");
	assert_mapping(&m.maps[3], 0x4000, 0x5000, 0, false, "/d");
	proc_maps_free(&m);
}

static void test_parse_empty_file(void **state)
{
	struct proc_maps m;
	FILE *f = fopen("/dev/null", "re");

	assert_non_null(f);
	m.maps = (void *)&m;	/* whatever was there is not freed */
	m.len = 99;
	assert_int_equal(proc_maps_parse(f, &m), 0);
	fclose(f);
	assert_int_equal(m.len, 0);
	assert_null(m.maps);
}

static void test_parse_many_lines_grow(void **state)
{
	size_t n = 1000, i, size = n * 96 + 1, at = 0;
	char *text = malloc(size);
	struct proc_maps m;
	char want[64];

	assert_non_null(text);
	for (i = 0; i < n; i++)
		at += (size_t)snprintf(text + at, size - at,
				       "%llx-%llx r-xp %08llx 08:01 %zu %*s/lib/l%zu.so\n",
				       0x10000ull * (i + 1), 0x10000ull * (i + 2), 0x1000ull * i,
				       i + 100, (int)(i % 40), "", i);
	assert_true(at < size);
	assert_int_equal(parse_text(text, &m), 0);
	assert_int_equal(m.len, n);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "/lib/l%zu.so", i);
		assert_mapping(&m.maps[i], 0x10000ull * (i + 1), 0x10000ull * (i + 2),
			       0x1000ull * i, true, want);
	}
	proc_maps_free(&m);
	free(text);
}

static void test_parse_overlong_path_truncated(void **state)
{
	size_t len = PATH_MAX + 500;
	char *text = malloc(len + 64);
	const char *head = "1000-2000 r-xp 00000000 08:01 1 ";
	struct proc_maps m;
	size_t i;

	assert_non_null(text);
	strcpy(text, head);
	for (i = 0; i < len; i++)
		text[strlen(head) + i] = i % 10 ? 'a' : '/';
	strcpy(text + strlen(head) + len, "\n");
	assert_int_equal(parse_text(text, &m), 0);
	assert_int_equal(m.len, 1);
	assert_int_equal(strlen(m.maps[0].path), PATH_MAX - 1);
	assert_memory_equal(m.maps[0].path, text + strlen(head), PATH_MAX - 1);
	proc_maps_free(&m);
	free(text);
}

static void test_free_resets(void **state)
{
	struct proc_maps *m = *state;

	assert_non_null(m->maps);
	proc_maps_free(m);
	assert_null(m->maps);
	assert_int_equal(m->len, 0);
	proc_maps_free(m);	/* twice is harmless */
}

/* --- proc_maps_find, proc_maps_find_path --- */

static void test_find_by_base_name_prefix_lowest_first(void **state)
{
	struct proc_maps *m = *state;

	assert_ptr_equal(proc_maps_find(m, "libpython3."), &m->maps[2]);
	assert_ptr_equal(proc_maps_find(m, "_asyncio."), &m->maps[5]);
	assert_ptr_equal(proc_maps_find(m, "libpython3.11.so.1.0"), &m->maps[2]);
}

static void test_find_matches_base_name_not_path(void **state)
{
	struct proc_maps *m = *state;

	/* /usr/bin/python3.11, not .../libpython3.11.so.1.0 */
	assert_ptr_equal(proc_maps_find(m, "python3"), &m->maps[0]);
	assert_null(proc_maps_find(m, "usr"));
	assert_null(proc_maps_find(m, "/usr/bin/python3.11"));
	assert_null(proc_maps_find(m, "lib/_asyncio"));
}

static void test_find_prefix_longer_than_name(void **state)
{
	struct proc_maps *m = *state;

	assert_null(proc_maps_find(m, "python3.11x"));
	assert_null(proc_maps_find(m, "libpython3.11.so.1.0.debug"));
	assert_null(proc_maps_find(m, "libpython3.12"));
}

static void test_find_deleted_file(void **state)
{
	struct proc_maps *m = *state;

	assert_ptr_equal(proc_maps_find(m, "libfoo.so"), &m->maps[7]);
}

static void test_find_in_empty_maps(void **state)
{
	struct proc_maps m = { NULL, 0 };

	assert_null(proc_maps_find(&m, "libpython3."));
	assert_null(proc_maps_find_path(&m, LIBPY));
}

static void test_find_two_versions_lowest_wins(void **state)
{
	static const char text[] =
		"7f0000000000-7f0000001000 r--p 00000000 08:01 1 /opt/py312/lib/libpython3.12.so.1.0\n"
		"7f0000001000-7f0000002000 r-xp 00001000 08:01 1 /opt/py312/lib/libpython3.12.so.1.0\n"
		"7f1000000000-7f1000001000 r--p 00000000 08:01 2 /usr/lib/libpython3.11.so.1.0\n";
	struct proc_maps m;

	assert_int_equal(parse_text(text, &m), 0);
	assert_ptr_equal(proc_maps_find(&m, "libpython3."), &m.maps[0]);
	assert_ptr_equal(proc_maps_find(&m, "libpython3.11"), &m.maps[2]);
	proc_maps_free(&m);
}

static void test_find_path_exact(void **state)
{
	struct proc_maps *m = *state;

	assert_ptr_equal(proc_maps_find_path(m, LIBPY), &m->maps[2]);
	assert_ptr_equal(proc_maps_find_path(m, "/usr/bin/python3.11"), &m->maps[0]);
	assert_ptr_equal(proc_maps_find_path(m, ASYNCIO), &m->maps[5]);
	assert_ptr_equal(proc_maps_find_path(m, "/tmp/libfoo.so (deleted)"), &m->maps[7]);
}

static void test_find_path_no_partial_match(void **state)
{
	struct proc_maps *m = *state;

	assert_null(proc_maps_find_path(m, "/usr/lib/x86_64-linux-gnu/libpython3.11.so"));
	assert_null(proc_maps_find_path(m, "libpython3.11.so.1.0"));
	assert_null(proc_maps_find_path(m, "/usr/bin/python3.11 "));
	assert_null(proc_maps_find_path(m, "/tmp/libfoo.so"));
	assert_null(proc_maps_find_path(m, "[heap]"));
	assert_null(proc_maps_find_path(m, ""));
}

/* --- proc_maps_read --- */

static void test_read_self_finds_own_executable(void **state)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	uintptr_t here = (uintptr_t)&test_read_self_finds_own_executable;
	const struct file_mapping *first, *fm = NULL;
	const char *base;
	struct proc_maps m;
	size_t i;

	assert_true(len > 0);
	exe[len] = '\0';
	assert_int_equal(proc_maps_read(getpid(), &m), 0);
	assert_true(m.len > 0);
	first = proc_maps_find_path(&m, exe);
	assert_non_null(first);
	assert_string_equal(first->path, exe);
	/* the lowest mapping of the file: no mapping of it lies below */
	for (i = 0; i < m.len; i++)
		if (!strcmp(m.maps[i].path, exe))
			assert_true(m.maps[i].start >= first->start);
	/* the code running now is in an executable mapping of that file */
	for (i = 0; i < m.len; i++)
		if (m.maps[i].start <= here && here < m.maps[i].end)
			fm = &m.maps[i];
	assert_non_null(fm);
	assert_string_equal(fm->path, exe);
	assert_true(fm->exec);
	assert_true(fm->start < fm->end);
	/* by base name too */
	base = strrchr(exe, '/');
	assert_ptr_equal(proc_maps_find(&m, base ? base + 1 : exe), first);
	proc_maps_free(&m);
}

static void test_read_self_finds_libc(void **state)
{
	/* a libc function that no sanitizer intercepts */
	uintptr_t fn = (uintptr_t)&gnu_get_libc_version;
	struct proc_maps m;
	size_t i;
	bool found = false;

	assert_int_equal(proc_maps_read(getpid(), &m), 0);
	for (i = 0; i < m.len; i++)
		if (m.maps[i].start <= fn && fn < m.maps[i].end) {
			found = true;
			assert_true(m.maps[i].exec);
			assert_ptr_equal(proc_maps_find(&m, "libc."),
					 proc_maps_find_path(&m, m.maps[i].path));
		}
	assert_true(found);
	proc_maps_free(&m);
}

static void test_read_missing_process(void **state)
{
	struct proc_maps m = { NULL, 0 };

	assert_int_equal(proc_maps_read(INT_MAX, &m), -ENOENT);
	assert_null(m.maps);
	assert_int_equal(m.len, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_maps, teardown_maps)
	const struct CMUnitTest tests[] = {
		T(test_parse_keeps_file_backed_lines_only),
		T(test_parse_fields),
		T(test_parse_path_with_spaces),
		T(test_parse_deleted_suffix_kept_in_path),
		T(test_parse_device_and_inode),
		cmocka_unit_test(test_parse_device_in_hex_and_large_inode),
		T(test_parse_deleted_marked),
		T(test_parse_shared_mapping),
		cmocka_unit_test(test_parse_anonymous_and_special_skipped),
		cmocka_unit_test(test_parse_last_line_without_newline),
		cmocka_unit_test(test_parse_garbage_lines_skipped),
		cmocka_unit_test(test_parse_perms),
		cmocka_unit_test(test_parse_empty_file),
		cmocka_unit_test(test_parse_many_lines_grow),
		cmocka_unit_test(test_parse_overlong_path_truncated),
		T(test_free_resets),
		T(test_find_by_base_name_prefix_lowest_first),
		T(test_find_matches_base_name_not_path),
		T(test_find_prefix_longer_than_name),
		T(test_find_deleted_file),
		cmocka_unit_test(test_find_in_empty_maps),
		cmocka_unit_test(test_find_two_versions_lowest_wins),
		T(test_find_path_exact),
		T(test_find_path_no_partial_match),
		cmocka_unit_test(test_read_self_finds_own_executable),
		cmocka_unit_test(test_read_self_finds_libc),
		cmocka_unit_test(test_read_missing_process),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
