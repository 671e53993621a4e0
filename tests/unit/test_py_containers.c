// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for the container readers (user/cpython/py_containers.c) on
 * made-up memory: objects laid out here, in this process, and read back
 * through process_vm_readv on ourselves, as the readers read a target.
 * Hostile shapes above all: cycles, absurd sizes, pointers to nowhere.
 */
#include <errno.h>
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
#include "py_containers.h"

/* PyTypeObject and the container heads, as CPython 3.9-3.13 lay them out */
#define TP_NAME 24
#define TP_BASE 256
#define TYPE_SIZE 512
#define VAR_SIZE 16
#define TUPLE_ITEMS 24
#define LIST_ITEMS 24
#define SET_MASK 32
#define SET_TABLE 40

static uint64_t nowhere;	/* a page mapped with no access: every read of it fails */

static uint64_t addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void put_u64(void *obj, size_t at, uint64_t v)
{
	memcpy((uint8_t *)obj + at, &v, sizeof(v));
}

static int setup(void **state)
{
	struct py_reader *r = calloc(1, sizeof(*r));
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!r || page == MAP_FAILED)
		return -1;
	nowhere = addr_of(page);
	py_reader_init(r, getpid(), cpython_layout_table(11));
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	py_reader_free(*state);
	free(*state);
	munmap((void *)(uintptr_t)nowhere, 4096);
	return 0;
}

/* a type named name whose tp_base is base */
static uint8_t *make_type(const char *name, uint64_t base)
{
	uint8_t *t = calloc(1, TYPE_SIZE);

	put_u64(t, TP_NAME, addr_of(name));
	put_u64(t, TP_BASE, base);
	return t;
}

static void test_type_names_and_bases(void **state)
{
	struct py_reader *r = *state;
	uint8_t *future = make_type("_asyncio.Future", 0);
	uint8_t *task = make_type("_asyncio.Task", addr_of(future));
	uint8_t obj[16] = {};

	put_u64(obj, PY_OB_TYPE, addr_of(task));
	assert_string_equal(py_object_type_name(r, addr_of(obj)), "_asyncio.Task");
	assert_true(py_type_is(r, addr_of(task), "_asyncio.Future"));
	assert_false(py_type_is(r, addr_of(task), "dict"));
	free(task);
	free(future);
}

/* a type that is its own base: the walk ends, with no answer */
static void test_type_base_cycle_ends(void **state)
{
	struct py_reader *r = *state;
	uint8_t *t = make_type("Loop", 0);

	put_u64(t, TP_BASE, addr_of(t));
	assert_false(py_type_is(r, addr_of(t), "object"));
	free(t);
}

static void test_type_name_nowhere(void **state)
{
	struct py_reader *r = *state;
	uint8_t *t = make_type("", 0);
	uint8_t obj[16] = {};

	put_u64(t, TP_NAME, nowhere);
	assert_null(py_type_name(r, addr_of(t)));
	put_u64(obj, PY_OB_TYPE, nowhere);
	assert_null(py_object_type_name(r, addr_of(obj)));
	assert_int_equal(py_type_of(r, nowhere), 0);
	assert_int_equal(py_type_of(r, 0), 0);
	free(t);
}

static void test_tuple_and_list_items(void **state)
{
	struct py_reader *r = *state;
	uint64_t tuple[3 + 3] = {}, list[4] = {}, items[3] = { 11, 22, 33 }, got[8];

	tuple[VAR_SIZE / 8] = 3;
	memcpy(&tuple[TUPLE_ITEMS / 8], items, sizeof(items));
	assert_int_equal(py_tuple_items(r, addr_of(tuple), got, 8), 3);
	assert_memory_equal(got, items, sizeof(items));
	assert_int_equal(py_tuple_items(r, addr_of(tuple), got, 2), 3);	/* size, 2 copied */
	list[VAR_SIZE / 8] = 3;
	list[LIST_ITEMS / 8] = addr_of(items);
	assert_int_equal(py_list_items(r, addr_of(list), got, 8), 3);
	assert_memory_equal(got, items, sizeof(items));
}

/* An int's size taken from the target: INT64_MIN digits is refused, not negated */
static void test_int_with_absurd_digit_counts_refused(void **state)
{
	const struct cpython_layout *l = cpython_layout_table(11);
	uint8_t obj[32] = { 0 };
	int64_t size = INT64_MIN, value;

	(void)state;
	memcpy(obj + l->long_size, &size, sizeof(size));
	assert_int_equal(py_long_decode(l, obj, &value), -ERANGE);
	size = -3;
	memcpy(obj + l->long_size, &size, sizeof(size));
	assert_int_equal(py_long_decode(l, obj, &value), -ERANGE);
	size = -1;
	memcpy(obj + l->long_size, &size, sizeof(size));
	obj[l->long_digits] = 7;
	assert_int_equal(py_long_decode(l, obj, &value), 0);
	assert_int_equal(value, -7);
}

static void test_absurd_sizes_refused(void **state)
{
	struct py_reader *r = *state;
	uint64_t tuple[4] = {}, list[4] = {}, got[4];

	tuple[VAR_SIZE / 8] = (uint64_t)-1;
	assert_int_equal(py_tuple_items(r, addr_of(tuple), got, 4), -EINVAL);
	tuple[VAR_SIZE / 8] = 1ULL << 40;
	assert_int_equal(py_tuple_items(r, addr_of(tuple), got, 4), -EINVAL);
	list[VAR_SIZE / 8] = 1ULL << 40;
	list[LIST_ITEMS / 8] = addr_of(got);
	assert_int_equal(py_list_items(r, addr_of(list), got, 4), -EINVAL);
}

static void test_items_nowhere_fail(void **state)
{
	struct py_reader *r = *state;
	uint64_t list[4] = {}, got[4];

	list[VAR_SIZE / 8] = 2;
	list[LIST_ITEMS / 8] = nowhere;
	assert_int_equal(py_list_items(r, addr_of(list), got, 4), -EFAULT);
	assert_int_equal(py_list_items(r, nowhere, got, 4), -EFAULT);
	assert_int_equal(py_tuple_items(r, nowhere, got, 4), -EFAULT);
}

/* a set of 8 slots: 3 keys, one deleted ("dummy", hash -1), the rest empty */
static void test_set_items(void **state)
{
	struct py_reader *r = *state;
	uint64_t set[8] = {}, table[16] = {}, *items;
	size_t n, left_out;

	table[2 * 1] = 0x1000, table[2 * 1 + 1] = 7;
	table[2 * 4] = 0x2000, table[2 * 4 + 1] = 9;
	table[2 * 5] = 0x3000, table[2 * 5 + 1] = UINT64_MAX;
	table[2 * 7] = 0x4000, table[2 * 7 + 1] = 3;
	set[SET_MASK / 8] = 7;
	set[SET_TABLE / 8] = addr_of(table);
	items = py_set_items(r, addr_of(set), 16, &n, &left_out);
	assert_non_null(items);
	assert_int_equal(n, 3);
	assert_int_equal(items[0], 0x1000);
	assert_int_equal(items[1], 0x2000);
	assert_int_equal(items[2], 0x4000);
	assert_int_equal(left_out, 0);
	free(items);
}

static void test_set_absurd_or_nowhere(void **state)
{
	struct py_reader *r = *state;
	uint64_t set[8] = {};
	size_t n, left_out;

	set[SET_MASK / 8] = 1ULL << 40;		/* a trillion slots: refused before any read */
	set[SET_TABLE / 8] = nowhere;
	errno = 0;
	assert_null(py_set_items(r, addr_of(set), 16, &n, &left_out));
	assert_int_equal(errno, EFAULT);
	set[SET_MASK / 8] = 7;			/* a plausible head over a table that is not there */
	assert_null(py_set_items(r, addr_of(set), 16, &n, &left_out));
	assert_null(py_set_items(r, nowhere, 16, &n, &left_out));
}

#define IMAGE_PID 0x7ffffff0	/* no process: the image answers for it */

/* the same readers through the seam, on an image at made-up addresses */
static void test_set_and_list_from_an_image(void **state)
{
	struct memory_image im = {};
	struct py_reader r;
	uint64_t set[8] = {}, table[8] = {}, list[4] = {}, items[2] = { 0xa0, 0xb0 }, got[4], *keys;
	size_t n, left_out;

	(void)state;
	table[2 * 2] = 0x5000, table[2 * 2 + 1] = 1;
	set[SET_MASK / 8] = 3;
	set[SET_TABLE / 8] = 0x20000;
	list[VAR_SIZE / 8] = 2;
	list[LIST_ITEMS / 8] = 0x30000;
	image_map(&im, 0x10000, set, sizeof(set));
	image_map(&im, 0x20000, table, sizeof(table));
	image_map(&im, 0x30000, items, sizeof(items));
	image_map(&im, 0x40000, list, sizeof(list));
	assert_int_equal(image_attach(&im, IMAGE_PID), 0);
	py_reader_init(&r, IMAGE_PID, cpython_layout_table(11));
	keys = py_set_items(&r, 0x10000, 16, &n, &left_out);
	assert_non_null(keys);
	assert_int_equal(n, 1);
	assert_int_equal(keys[0], 0x5000);
	free(keys);
	assert_int_equal(py_list_items(&r, 0x40000, got, 4), 2);
	assert_memory_equal(got, items, sizeof(items));
	list[LIST_ITEMS / 8] = 0x30008;		/* its second item runs off the region's end */
	assert_int_equal(py_list_items(&r, 0x40000, got, 4), -EFAULT);
	assert_null(py_set_items(&r, 0x90000, 16, &n, &left_out));	/* nothing mapped there */
	py_reader_free(&r);
	image_detach(IMAGE_PID);
}

/*
 * A set of 65536 slots (a 1 MiB table): read in bounded pieces, never in
 * one; the keys past the most asked for are counted, not kept.
 */
static void test_large_set_read_in_pieces_and_keys_past_max_counted(void **state)
{
	size_t slots = 1 << 16, n, left_out;
	uint64_t set[8] = {}, *table = calloc(2 * slots, sizeof(uint64_t)), *keys;
	struct memory_image im = {};
	struct py_reader r;
	size_t at[] = { 3, 4096, 40000, 65535 };
	size_t i;

	(void)state;
	assert_non_null(table);
	for (i = 0; i < 4; i++)
		table[2 * at[i]] = 0x1000 * (i + 1), table[2 * at[i] + 1] = 5;
	set[SET_MASK / 8] = slots - 1;
	set[SET_TABLE / 8] = 0x1000000;
	image_map(&im, 0x10000, set, sizeof(set));
	image_map(&im, 0x1000000, table, 2 * slots * sizeof(uint64_t));
	assert_int_equal(image_attach(&im, IMAGE_PID), 0);
	py_reader_init(&r, IMAGE_PID, cpython_layout_table(11));
	keys = py_set_items(&r, 0x10000, 3, &n, &left_out);
	assert_non_null(keys);
	assert_int_equal(n, 3);
	assert_int_equal(left_out, 1);
	assert_int_equal(keys[0], 0x1000);
	assert_int_equal(keys[2], 0x3000);
	assert_true(im.largest_read <= 64 * 1024);
	free(keys);
	py_reader_free(&r);
	image_detach(IMAGE_PID);
	free(table);
}

/*
 * A short ASCII str whose object ends where its mapping does: shorter than
 * the header of a non-ASCII str, and read all the same (3.11 lays these out
 * with ASCII data at 48, other compact data at 72).
 */
static void test_short_str_at_the_end_of_its_mapping(void **state)
{
	const struct cpython_layout *l = cpython_layout_table(11);
	struct memory_image im = {};
	uint8_t obj[56] = {};
	struct py_reader r;
	const char *text;

	(void)state;
	put_u64(obj, l->str_length, 3);
	obj[l->str_state] = 0xe4;	/* kind 1, compact, ascii, ready */
	memcpy(obj + l->str_ascii_data, "sys", 4);
	image_map(&im, 0x10000, obj, sizeof(obj));
	assert_int_equal(image_attach(&im, IMAGE_PID), 0);
	py_reader_init(&r, IMAGE_PID, l);
	text = py_str(&r, 0x10000);
	assert_non_null(text);
	assert_string_equal(text, "sys");
	py_reader_free(&r);
	image_detach(IMAGE_PID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names_and_bases),
		cmocka_unit_test(test_int_with_absurd_digit_counts_refused),
		cmocka_unit_test(test_type_base_cycle_ends),
		cmocka_unit_test(test_type_name_nowhere),
		cmocka_unit_test(test_tuple_and_list_items),
		cmocka_unit_test(test_absurd_sizes_refused),
		cmocka_unit_test(test_items_nowhere_fail),
		cmocka_unit_test(test_set_items),
		cmocka_unit_test(test_set_absurd_or_nowhere),
		cmocka_unit_test(test_set_and_list_from_an_image),
		cmocka_unit_test(test_large_set_read_in_pieces_and_keys_past_max_counted),
		cmocka_unit_test(test_short_str_at_the_end_of_its_mapping),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
