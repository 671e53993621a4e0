// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * What discovery reads from a build's files is read once per file: a second
 * process of the same build gets it from the cache, with its own addresses;
 * another file (another inode), or the same file changed (its mtime), is read
 * again. On copies of pyenv's CPython 3.12 libpython and _asyncio made here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "file_facts.h"
#include "python_target.h"

#define PYENV_LIB "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0"
#define PYENV_ASYNCIO \
	"/root/.pyenv/versions/3.12.1/lib/python3.12/lib-dynload/_asyncio.cpython-312-x86_64-linux-gnu.so"
#define MAP_A 0x7f1200000000ull	/* where two processes map the library */
#define MAP_B 0x7f3400000000ull

static char dir[] = "/tmp/inflight-test-facts-XXXXXX";
static char lib[PATH_MAX], lib2[PATH_MAX], asyncio[PATH_MAX];

static void copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

static int setup(void **state)
{
	(void)state;
	if (access(PYENV_LIB, R_OK) || access(PYENV_ASYNCIO, R_OK))
		return 0;
	if (!mkdtemp(dir))
		return -1;
	snprintf(lib, sizeof(lib), "%s/libpython3.12.so.1.0", dir);
	snprintf(lib2, sizeof(lib2), "%s/copy-libpython3.12.so.1.0", dir);
	snprintf(asyncio, sizeof(asyncio), "%s/_asyncio.cpython-312-x86_64-linux-gnu.so", dir);
	copy_file(PYENV_LIB, lib);
	copy_file(PYENV_LIB, lib2);
	copy_file(PYENV_ASYNCIO, asyncio);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!lib[0])
		return 0;
	unlink(lib);
	unlink(lib2);
	unlink(asyncio);
	rmdir(dir);
	return 0;
}

static struct file_facts_stats stats(void)
{
	struct file_facts_stats s;

	python_file_facts_stats(&s);
	return s;
}

/* The runtime file's facts for a process mapping path at map_start: 0 or its error. */
static int read_runtime(const char *path, uint64_t map_start, uint64_t map_offset,
			struct python_target *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	memset(t, 0, sizeof(*t));
	return python_runtime_file_read(fd, path, map_start, map_offset, t);
}

static int read_tasks(struct python_target *t)
{
	int fd = open(asyncio, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	return python_task_file_read(fd, asyncio, t);
}

/* A second process of the build: the files are not read again, its addresses are its own. */
static void test_second_process_of_a_build_hits(void **state)
{
	struct python_target a, b;
	struct file_facts_stats before;

	(void)state;
	if (!lib[0])
		skip();
	before = stats();
	assert_int_equal(read_runtime(lib, MAP_A, 0, &a), 0);
	assert_int_equal(read_tasks(&a), 0);
	assert_int_equal(stats().misses, before.misses + 2);
	assert_string_equal(a.layout.version, "3.12");
	assert_true(a.runtime_addr > MAP_A && a.none_addr > MAP_A);
	assert_true(a.task_init_offset && a.task_dealloc_offset);

	assert_int_equal(read_runtime(lib, MAP_B, 0, &b), 0);
	assert_int_equal(read_tasks(&b), 0);
	assert_int_equal(stats().hits, before.hits + 2);
	assert_int_equal(stats().misses, before.misses + 2);
	assert_int_equal(b.runtime_addr - MAP_B, a.runtime_addr - MAP_A);
	assert_int_equal(b.none_addr - MAP_B, a.none_addr - MAP_A);
	assert_string_equal(b.version, a.version);
	assert_int_equal(b.layout.task_basicsize, a.layout.task_basicsize);
	assert_int_equal(b.task_init_offset, a.task_init_offset);
	assert_int_equal(b.task_dealloc_offset, a.task_dealloc_offset);
	assert_int_equal(b.task_pending_offset, a.task_pending_offset);
	assert_string_equal(b.task_init_insn, a.task_init_insn);
	assert_string_equal(b.method, a.method);
}

/* The same bytes under another inode are another file: read again, with the same result. */
static void test_another_inode_misses(void **state)
{
	struct python_target a, b;
	struct file_facts_stats before;

	(void)state;
	if (!lib[0])
		skip();
	assert_int_equal(read_runtime(lib, MAP_A, 0, &a), 0);
	before = stats();
	assert_int_equal(read_runtime(lib2, MAP_A, 0, &b), 0);
	assert_int_equal(stats().misses, before.misses + 1);
	assert_int_equal(stats().hits, before.hits);
	assert_int_equal(b.runtime_addr, a.runtime_addr);
	/* and the Task facts, whose layout came from another runtime file */
	assert_int_equal(read_tasks(&b), 0);
	assert_int_equal(stats().misses, before.misses + 2);
}

/* A file changed in place (same inode, new mtime) is read again. */
static void test_changed_mtime_misses(void **state)
{
	struct timespec times[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
	struct python_target t;
	struct file_facts_stats before;

	(void)state;
	if (!lib[0])
		skip();
	assert_int_equal(read_runtime(lib, MAP_A, 0, &t), 0);
	before = stats();
	assert_int_equal(utimensat(AT_FDCWD, lib, times, 0), 0);
	assert_int_equal(read_runtime(lib, MAP_A, 0, &t), 0);
	assert_int_equal(stats().misses, before.misses + 1);
	assert_int_equal(read_runtime(lib, MAP_A, 0, &t), 0);
	assert_int_equal(stats().hits, before.hits + 1);
}

/* The cache keeps FILE_FACTS_SLOTS entries: past that, the least recently used goes. */
static void test_cache_is_bounded(void **state)
{
	struct python_target t;
	struct file_facts_stats before;
	uint64_t i;

	(void)state;
	if (!lib[0])
		skip();
	assert_int_equal(read_runtime(lib, MAP_A, 0, &t), 0);
	/* other mapping offsets are other keys (what they say is beside the point here) */
	for (i = 1; i <= FILE_FACTS_SLOTS; i++)
		read_runtime(lib, MAP_A, i * 0x1000, &t);
	before = stats();
	assert_int_equal(read_runtime(lib, MAP_A, 0, &t), 0);
	assert_int_equal(stats().misses, before.misses + 1);
}

/* A file that is no CPython is cached as such, and said so each time. */
static void test_not_cpython_is_cached_too(void **state)
{
	struct python_target t;
	struct file_facts_stats before;

	(void)state;
	if (!lib[0])
		skip();
	assert_int_equal(read_runtime(asyncio, MAP_A, 0, &t), -ENOENT);
	before = stats();
	assert_int_equal(read_runtime(asyncio, MAP_A, 0, &t), -ENOENT);
	assert_int_equal(stats().hits, before.hits + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_process_of_a_build_hits),
		cmocka_unit_test(test_another_inode_misses),
		cmocka_unit_test(test_changed_mtime_misses),
		cmocka_unit_test(test_cache_is_bounded),
		cmocka_unit_test(test_not_cpython_is_cached_too),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
