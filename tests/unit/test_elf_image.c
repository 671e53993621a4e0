// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Reading code from an ELF file by virtual address: this test's own binary,
 * against its code in memory, and a minimal hand-made file whose one
 * segment claims more bytes than the file holds (a target's file is
 * hostile input).
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "elf_image.h"

#define SEGMENT_VADDR 0x400000u
#define CODE_BYTES 8

/* Looked up by name in this binary's symbol table. */
__attribute__((noinline, used)) int elf_image_test_marker(int x)
{
	return x * 7 + 3;
}

static void test_read_upto_reads_a_function_as_it_is_in_memory(void **state)
{
	struct elf_image *e;
	uint64_t vaddr;
	uint8_t buf[32];

	(void)state;
	assert_int_equal(elf_image_open("/proc/self/exe", &e), 0);
	assert_int_equal(elf_image_symbol(e, "elf_image_test_marker", &vaddr), 0);
	assert_int_equal(elf_image_read_upto(e, vaddr, buf, sizeof(buf)), sizeof(buf));
	assert_memory_equal(buf, (const void *)(uintptr_t)&elf_image_test_marker, sizeof(buf));
	assert_int_equal(elf_image_read_upto(e, 0xffffffffffff0000ull, buf, sizeof(buf)), -ENOENT);
	elf_image_close(e);
}

/* An ELF header, one PT_LOAD that claims 4096 bytes, then only CODE_BYTES of them. */
static void write_short_file(const char *path)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
		uint8_t code[CODE_BYTES];
	} f;
	FILE *out;

	memset(&f, 0, sizeof(f));
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_ident[EI_VERSION] = EV_CURRENT;
	f.eh.e_type = ET_EXEC;
	f.eh.e_machine = EM_X86_64;
	f.eh.e_version = EV_CURRENT;
	f.eh.e_phoff = sizeof(f.eh);
	f.eh.e_ehsize = sizeof(f.eh);
	f.eh.e_phentsize = sizeof(f.ph);
	f.eh.e_phnum = 1;
	f.ph.p_type = PT_LOAD;
	f.ph.p_offset = offsetof(__typeof__(f), code);
	f.ph.p_vaddr = SEGMENT_VADDR;
	f.ph.p_filesz = f.ph.p_memsz = 4096;
	memset(f.code, 0x90, sizeof(f.code));
	out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(&f, sizeof(f), 1, out), 1);
	fclose(out);
}

static void test_read_upto_stops_where_the_file_ends(void **state)
{
	char path[] = "/tmp/inflight-elf-XXXXXX";
	struct elf_image *e;
	uint8_t buf[32];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_short_file(path);
	assert_int_equal(elf_image_open(path, &e), 0);
	assert_int_equal(elf_image_read_upto(e, SEGMENT_VADDR, buf, sizeof(buf)), CODE_BYTES);
	assert_int_equal(buf[0], 0x90);
	assert_int_equal(elf_image_read_upto(e, SEGMENT_VADDR + 6, buf, sizeof(buf)), 2);
	/* within the segment, past the file: nothing to read */
	assert_int_equal(elf_image_read_upto(e, SEGMENT_VADDR + CODE_BYTES, buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(elf_image_read(e, SEGMENT_VADDR, buf, sizeof(buf)), -ENOENT);
	elf_image_close(e);
	unlink(path);
}

/* A FIFO planted where a target's file should be is refused at once, not waited on */
static void test_a_fifo_is_refused_without_blocking(void **state)
{
	char dir[] = "/tmp/inflight-test-elf-XXXXXX", path[64];
	struct elf_image *e = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(elf_image_open(path, &e), -EINVAL);
	assert_null(e);
	assert_int_equal(elf_image_open("/dev/null", &e), -EINVAL);
	unlink(path);
	rmdir(dir);
}

/* A file cut short while it is read (its owner can): errors, never SIGBUS */
static void test_a_file_truncated_while_read_is_an_error(void **state)
{
	char path[] = "/tmp/inflight-test-elf-XXXXXX";
	char cmd[PATH_MAX + 64];
	struct elf_image *e;
	uint64_t vaddr;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe %s", getpid(), path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(elf_image_open(path, &e), 0);
	assert_int_equal(truncate(path, 4096), 0);
	assert_int_not_equal(elf_image_symbol(e, "elf_image_test_marker", &vaddr), 0);
	elf_image_close(e);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_upto_reads_a_function_as_it_is_in_memory),
		cmocka_unit_test(test_read_upto_stops_where_the_file_ends),
		cmocka_unit_test(test_a_fifo_is_refused_without_blocking),
		cmocka_unit_test(test_a_file_truncated_while_read_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
