// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/sys/mapped_file.c: opening the file a process maps, as it maps it. */
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include "mapped_file.h"

#define CONTENT "the file this process maps"

static struct file_mapping mapping(const char *path, uint64_t inode, unsigned int major,
				   unsigned int minor)
{
	struct file_mapping m = { .start = 0x7f0000001000, .end = 0x7f0000003000,
				  .inode = inode, .dev_major = major, .dev_minor = minor };

	snprintf(m.path, sizeof(m.path), "%s", path);
	m.deleted = strstr(path, " (deleted)") != NULL;
	return m;
}

static struct file_mapping mapping_of(const char *path, const struct stat *st)
{
	return mapping(path, st->st_ino, major(st->st_dev), minor(st->st_dev));
}

static void test_path_map_files(void **state)
{
	struct file_mapping m = mapping("/usr/bin/python3.11", 1, 8, 1);
	char buf[128];

	(void)state;
	assert_int_equal(mapped_file_path(42, &m, MAPPED_VIA_MAP_FILES, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/42/map_files/7f0000001000-7f0000003000");
}

static void test_path_root(void **state)
{
	struct file_mapping m = mapping("/opt/my app/bin/python3.11", 1, 8, 1);
	char buf[128];

	(void)state;
	assert_int_equal(mapped_file_path(42, &m, MAPPED_VIA_ROOT, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/42/root/opt/my app/bin/python3.11");
}

static void test_path_root_none_for_deleted_or_relative(void **state)
{
	struct file_mapping gone = mapping("/tmp/python3.11 (deleted)", 1, 8, 1);
	struct file_mapping relative = mapping("python3.11", 1, 8, 1);
	char buf[128];

	(void)state;
	assert_int_equal(mapped_file_path(42, &gone, MAPPED_VIA_ROOT, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(mapped_file_path(42, &relative, MAPPED_VIA_ROOT, buf, sizeof(buf)),
			 -ENOENT);
	/* the mapping itself still leads to a deleted file */
	assert_int_equal(mapped_file_path(42, &gone, MAPPED_VIA_MAP_FILES, buf, sizeof(buf)), 0);
}

static void test_path_too_long(void **state)
{
	struct file_mapping m = mapping("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", 1, 8, 1);
	char buf[24];

	(void)state;
	assert_int_equal(mapped_file_path(42, &m, MAPPED_VIA_ROOT, buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_int_equal(mapped_file_path(42, &m, MAPPED_VIA_MAP_FILES, buf, sizeof(buf)),
			 -ENAMETOOLONG);
}

static struct stat stat_of(mode_t type, uint64_t ino, unsigned int major, unsigned int minor)
{
	struct stat st = { .st_mode = type | 0644, .st_ino = ino,
			   .st_dev = makedev(major, minor) };

	return st;
}

static void test_check_same_file(void **state)
{
	struct file_mapping m = mapping("/usr/bin/python3.11", 1234, 0xfe, 0);
	struct stat st = stat_of(S_IFREG, 1234, 0xfe, 0);
	char why[256] = "";

	(void)state;
	assert_int_equal(mapped_file_check(&st, &m, MAPPED_VIA_ROOT, why, sizeof(why)), 0);
	assert_int_equal(mapped_file_check(&st, &m, MAPPED_VIA_MAP_FILES, why, sizeof(why)), 0);
}

static void test_check_not_regular(void **state)
{
	struct file_mapping m = mapping("/usr/bin/python3.11", 1234, 0xfe, 0);
	struct stat fifo = stat_of(S_IFIFO, 1234, 0xfe, 0), chr = stat_of(S_IFCHR, 1234, 0xfe, 0);
	struct stat dir = stat_of(S_IFDIR, 1234, 0xfe, 0);
	char why[256];

	(void)state;
	assert_int_equal(mapped_file_check(&fifo, &m, MAPPED_VIA_ROOT, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "it is a FIFO, not a regular file");
	/* not even the mapping's own link makes a device a file to read */
	assert_int_equal(mapped_file_check(&chr, &m, MAPPED_VIA_MAP_FILES, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "it is a character device, not a regular file");
	assert_int_equal(mapped_file_check(&dir, &m, MAPPED_VIA_ROOT, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "it is a directory, not a regular file");
}

static void test_check_another_inode(void **state)
{
	struct file_mapping m = mapping("/usr/bin/python3.11", 1234, 0xfe, 0);
	struct stat st = stat_of(S_IFREG, 1235, 0xfe, 0);
	char why[256];

	(void)state;
	assert_int_equal(mapped_file_check(&st, &m, MAPPED_VIA_ROOT, why, sizeof(why)), -ESTALE);
	assert_string_equal(why, "it is another file (device fe:0 inode 1235; the process maps "
				 "fe:0 inode 1234)");
	assert_int_equal(mapped_file_check(&st, &m, MAPPED_VIA_MAP_FILES, why, sizeof(why)),
			 -ESTALE);
}

static void test_check_another_device(void **state)
{
	struct file_mapping m = mapping("/usr/bin/python3.11", 1234, 0x103, 2);
	struct stat st = stat_of(S_IFREG, 1234, 0, 0x31);
	char why[256];

	(void)state;
	/* by name: the same inode number on another filesystem is another file */
	assert_int_equal(mapped_file_check(&st, &m, MAPPED_VIA_ROOT, why, sizeof(why)), -ESTALE);
	assert_string_equal(why, "it is another file (device 0:31 inode 1234; the process maps "
				 "103:2 inode 1234)");
	/* by the mapping's own link: a filesystem whose stat names a subvolume (btrfs) */
	assert_int_equal(mapped_file_check(&st, &m, MAPPED_VIA_MAP_FILES, why, sizeof(why)), 0);
}

struct fixture {
	char dir[64], file[96];
	void *map;
	size_t size;
};

/* A file of our own, mapped: what a target's interpreter is to inflight. */
static int setup_mapped(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/inflight-mapped-file-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->file, sizeof(f->file), "%s/libpython3.11.so.1.0", f->dir);
	fd = open(f->file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, CONTENT, strlen(CONTENT)) != (ssize_t)strlen(CONTENT))
		return -1;
	close(fd);
	fd = open(f->file, O_RDONLY);
	f->size = strlen(CONTENT);
	f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f->map == MAP_FAILED)
		return -1;
	*state = f;
	return 0;
}

static int teardown_mapped(void **state)
{
	struct fixture *f = *state;
	char name[160];

	munmap(f->map, f->size);
	unlink(f->file);
	snprintf(name, sizeof(name), "%s (deleted)", f->file);
	unlink(name);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Our own mapping of the fixture's file, as /proc/self/maps has it now. */
static struct file_mapping own_mapping(const struct fixture *f)
{
	const struct file_mapping *found = NULL;
	struct file_mapping m;
	struct proc_maps maps;
	size_t i;

	assert_int_equal(proc_maps_read(getpid(), &maps), 0);
	for (i = 0; i < maps.len; i++)
		if (maps.maps[i].start == (uintptr_t)f->map)
			found = &maps.maps[i];
	assert_non_null(found);
	m = *found;
	proc_maps_free(&maps);
	return m;
}

static void assert_reads_content(int fd)
{
	char buf[64] = "";

	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(CONTENT));
	assert_string_equal(buf, CONTENT);
	close(fd);
}

static void test_open_own_mapping(void **state)
{
	struct fixture *f = *state;
	struct file_mapping m = own_mapping(f);
	char by[PATH_MAX + 32], why[PATH_MAX + 512];

	assert_false(m.deleted);
	assert_reads_content(mapped_file_open(getpid(), &m, by, sizeof(by), why, sizeof(why)));
	assert_true(!strncmp(by, "/proc/", 6));
}

/*
 * The name now holds a FIFO: the mapping is marked deleted and is read, if at
 * all, through map_files (root); never by the name, which would block.
 */
static void test_open_deleted_mapping_never_by_name(void **state)
{
	struct fixture *f = *state;
	struct file_mapping m;
	char by[PATH_MAX + 32], why[PATH_MAX + 512], fifo[160];
	int fd;

	assert_int_equal(unlink(f->file), 0);
	assert_int_equal(mkfifo(f->file, 0600), 0);
	snprintf(fifo, sizeof(fifo), "%s (deleted)", f->file);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	m = own_mapping(f);
	assert_true(m.deleted);
	fd = mapped_file_open(getpid(), &m, by, sizeof(by), why, sizeof(why));
	if (fd >= 0) {
		assert_non_null(strstr(by, "/map_files/"));
		assert_reads_content(fd);
	} else {
		assert_non_null(strstr(why, "deleted since process"));
		assert_non_null(strstr(why, "map_files"));
	}
}

/* A mapping whose range no longer exists (map_files fails) and whose name holds f. */
static int open_by_name(const char *name, const struct stat *mapped, char *why, size_t size)
{
	struct file_mapping m = mapping_of(name, mapped);
	char by[PATH_MAX + 32];

	m.start = 0x1000;
	m.end = 0x2000;
	return mapped_file_open(getpid(), &m, by, sizeof(by), why, size);
}

static void test_open_by_name_refuses_fifo_and_device(void **state)
{
	struct fixture *f = *state;
	char fifo[160], why[PATH_MAX + 512];
	struct stat st;

	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(stat(fifo, &st), 0);
	assert_int_equal(open_by_name(fifo, &st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "through /proc/"));
	assert_non_null(strstr(why, "it is a FIFO, not a regular file"));
	unlink(fifo);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_int_equal(open_by_name("/dev/null", &st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "it is a character device"));
}

static void test_open_by_name_refuses_another_file(void **state)
{
	struct fixture *f = *state;
	char why[PATH_MAX + 512];
	struct stat st;

	assert_int_equal(stat(f->file, &st), 0);
	st.st_ino++;
	assert_int_equal(open_by_name(f->file, &st, why, sizeof(why)), -ESTALE);
	assert_non_null(strstr(why, "it is another file"));
	st.st_ino--;
	assert_reads_content(open_by_name(f->file, &st, why, sizeof(why)));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_mapped, teardown_mapped)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_map_files),
		cmocka_unit_test(test_path_root),
		cmocka_unit_test(test_path_root_none_for_deleted_or_relative),
		cmocka_unit_test(test_path_too_long),
		cmocka_unit_test(test_check_same_file),
		cmocka_unit_test(test_check_not_regular),
		cmocka_unit_test(test_check_another_inode),
		cmocka_unit_test(test_check_another_device),
		T(test_open_own_mapping),
		T(test_open_deleted_mapping_never_by_name),
		T(test_open_by_name_refuses_fifo_and_device),
		T(test_open_by_name_refuses_another_file),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
