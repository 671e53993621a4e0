// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for py_read_many (user/cpython/py_objects.c): many small reads of a
 * process's memory, merged where they lie close together. The process read
 * is this one (process_vm_readv works on oneself, without privileges).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "cpython_layout.h"
#include "memory_image.h"
#include "py_objects.h"

#define N 5000
#define STRIDE 208	/* a Task's size class: tasks packed in a pymalloc pool */

static uint8_t *memory;	/* N objects of STRIDE bytes, each holding its index at offset 88 */
static uint64_t addrs[N];
static int32_t values[N];
static uint8_t ok[N];

static int setup(void **state)
{
	int32_t v;

	(void)state;
	memory = malloc((size_t)N * STRIDE);
	if (!memory)
		return -1;
	for (v = 0; v < N; v++) {
		memcpy(memory + (size_t)v * STRIDE + 88, &v, sizeof(v));
		addrs[v] = (uint64_t)(uintptr_t)(memory + (size_t)v * STRIDE + 88);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(memory);
	return 0;
}

static void test_close_reads_all_land_in_their_places(void **state)
{
	(void)state;
	memset(values, 0xff, sizeof(values));
	assert_int_equal(py_read_many(getpid(), addrs, N, sizeof(int32_t), values, ok), N);
	for (int32_t i = 0; i < N; i++) {
		assert_int_equal(ok[i], 1);
		assert_int_equal(values[i], i);
	}
}

static void test_reads_in_any_order(void **state)
{
	uint64_t shuffled[N];
	size_t i;

	(void)state;
	for (i = 0; i < N; i++)	/* descending, then a stride that jumps about */
		shuffled[i] = addrs[i < N / 2 ? N / 2 - 1 - i : (i * 7919) % N];
	assert_int_equal(py_read_many(getpid(), shuffled, N, sizeof(int32_t), values, ok), N);
	for (i = 0; i < N; i++) {
		assert_int_equal(ok[i], 1);
		assert_int_equal((uint64_t)values[i], (shuffled[i] - addrs[0]) / STRIDE);
	}
}

static void test_unmapped_page_fails_only_its_reads(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *pages = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0);
	uint64_t at[6];
	int32_t got[6];
	uint8_t fine[6];
	int i;

	(void)state;
	assert_true(pages != MAP_FAILED);
	for (i = 0; i < 6; i++) {
		memcpy(pages + (i / 2) * page + (i % 2) * 512, &i, sizeof(i));
		at[i] = (uint64_t)(uintptr_t)(pages + (i / 2) * page + (i % 2) * 512);
	}
	munmap(pages + page, page);	/* the middle page: reads 2 and 3 */
	assert_int_equal(py_read_many(getpid(), at, 6, sizeof(int32_t), got, fine), 4);
	for (i = 0; i < 6; i++) {
		assert_int_equal(fine[i], i != 2 && i != 3);
		if (fine[i])
			assert_int_equal(got[i], i);
	}
	munmap(pages, 3 * page);
}

static void test_hostile_addresses_fail_without_harm(void **state)
{
	uint64_t at[5] = { 0, UINT64_MAX - 2, UINT64_MAX - 100, addrs[0], 16 };
	int32_t got[5];
	uint8_t fine[5];

	(void)state;
	assert_int_equal(py_read_many(getpid(), at, 5, sizeof(int32_t), got, fine), 1);
	assert_int_equal(fine[3], 1);
	assert_int_equal(got[3], 0);
	assert_int_equal(fine[0] + fine[1] + fine[2] + fine[4], 0);
}

static void test_large_reads_are_not_merged_past_the_span(void **state)
{
	size_t size = 100 * 1024;
	uint8_t *big = malloc(2 * size), *got = malloc(2 * size);
	uint64_t at[2];
	uint8_t fine[2];

	(void)state;
	assert_non_null(big);
	assert_non_null(got);
	for (size_t i = 0; i < 2 * size; i++)
		big[i] = (uint8_t)(i * 31);
	at[0] = (uint64_t)(uintptr_t)big;
	at[1] = (uint64_t)(uintptr_t)(big + size);
	assert_int_equal(py_read_many(getpid(), at, 2, size, got, fine), 2);
	assert_memory_equal(got, big, 2 * size);
	free(big);
	free(got);
}

/* An instruction position from a frame (an int before 3.11) that no code has: no line, no overflow */
static void test_absurd_positions_have_no_line(void **state)
{
	static uint8_t table[] = { 2, 1 };	/* 3.10: 2 bytes of code on line +1 */
	struct py_code c = { .firstlineno = 10, .linetable = table, .linetable_len = 2 };
	struct py_reader r;

	(void)state;
	py_reader_init(&r, getpid(), cpython_layout_table(10));
	assert_int_equal(py_code_line(&r, &c, 0), 11);
	assert_int_equal(py_code_line(&r, &c, 0x7fffffff), -1);
	assert_int_equal(py_code_line(&r, &c, (uint64_t)INT64_MIN), -1);
	py_reader_init(&r, getpid(), cpython_layout_table(9));
	assert_int_equal(py_code_line(&r, &c, 0x7fffffffffffffffULL), -1);
}

#define IMAGE_PID 0x7ffffff0	/* no process: the image answers for it */
#define LINETABLE (64 * 1024)	/* the largest line table read */
#define CODE_STRIDE 256

/*
 * Many code objects sharing one 64 KiB line table, as a hostile target can
 * make them: the cache keeps no more than its bytes allow and counts the
 * rest; what it kept is still found.
 */
static void test_code_cache_capped_by_bytes_and_refusals_counted(void **state)
{
	const struct cpython_layout *l = cpython_layout_table(11);
	size_t n = PY_CACHE_MAX_BYTES / LINETABLE + 100, kept = 0, i;
	uint8_t *codes = calloc(n, CODE_STRIDE), *bytes = calloc(1, l->bytes_data + LINETABLE);
	const struct py_code *first;
	struct memory_image im = {};
	struct py_reader r;
	int64_t size = LINETABLE;
	uint64_t table = 0x100000;

	(void)state;
	assert_non_null(codes);
	assert_non_null(bytes);
	memcpy(bytes + l->bytes_size, &size, sizeof(size));
	for (i = 0; i < n; i++)
		memcpy(codes + i * CODE_STRIDE + l->code_linetable, &table, sizeof(table));
	image_map(&im, table, bytes, l->bytes_data + LINETABLE);
	image_map(&im, 0x10000000, codes, n * CODE_STRIDE);
	assert_int_equal(image_attach(&im, IMAGE_PID), 0);
	py_reader_init(&r, IMAGE_PID, l);
	first = py_code(&r, 0x10000000);
	assert_non_null(first);
	for (i = 0; i < n; i++)
		kept += py_code(&r, 0x10000000 + i * CODE_STRIDE) != NULL;
	assert_true(kept < PY_CACHE_MAX_BYTES / LINETABLE);
	assert_true(kept > PY_CACHE_MAX_BYTES / LINETABLE / 2);
	assert_true(r.cached_bytes <= PY_CACHE_MAX_BYTES);
	assert_int_equal(r.cache_full, n - kept);
	assert_ptr_equal(py_code(&r, 0x10000000), first);
	py_reader_free(&r);
	image_detach(IMAGE_PID);
	free(codes);
	free(bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_reads_all_land_in_their_places),
		cmocka_unit_test(test_reads_in_any_order),
		cmocka_unit_test(test_absurd_positions_have_no_line),
		cmocka_unit_test(test_unmapped_page_fails_only_its_reads),
		cmocka_unit_test(test_hostile_addresses_fail_without_harm),
		cmocka_unit_test(test_large_reads_are_not_merged_past_the_span),
		cmocka_unit_test(test_code_cache_capped_by_bytes_and_refusals_counted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
