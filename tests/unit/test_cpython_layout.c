// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/cpython/cpython_layout.c and cpython_bpf.c: a target's
 * layout from its table and the _Py_DebugOffsets and .AsyncioDebug it
 * publishes, and the layout as the BPF side receives it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "cpython_bpf.h"
#include "cpython_layout.h"
/*
 * 3.<minor>'s _Py_DebugOffsets with every value inflight reads set to
 * fill(i) for the i-th, and every section 1 MiB: how long it is.
 */
static size_t published(unsigned int minor, uint8_t *blob, size_t size, uint64_t (*fill)(size_t))
{
	uint64_t version = (3ULL << 24) | ((uint64_t)minor << 16) | 0xf0, section = 1 << 20, value;
	unsigned int at, size_at;
	const char *name;
	size_t i, n = cpython_debug_offsets_size(minor);

	assert_true(n && n <= size);
	memset(blob, 0, size);
	memcpy(blob, "xdebugpy", 8);
	memcpy(blob + 8, &version, 8);
	for (i = 0; !cpython_debug_field(minor, i, &name, &at, &size_at); i++) {
		assert_true(at + 8 <= n && size_at + 8 <= n && at != size_at);
		memcpy(blob + size_at, &section, 8);
	}
	for (i = 0; !cpython_debug_field(minor, i, &name, &at, &size_at); i++) {
		value = fill(i);
		memcpy(blob + at, &value, 8);
	}
	return n;
}

static uint64_t distinct(size_t i)
{
	return 900000 + 8 * i;	/* no table has such offsets */
}

/* How many values inflight reads from position at of 3.<minor>'s _Py_DebugOffsets */
static unsigned int fields_at(unsigned int minor, unsigned int at)
{
	unsigned int other, size_at, n = 0;
	const char *name;
	size_t i;

	for (i = 0; !cpython_debug_field(minor, i, &name, &other, &size_at); i++)
		n += other == at;
	return n;
}

/* Each published value lands in as many fields of struct cpython_layout as read it */
static void test_every_published_offset_is_taken(void **state)
{
	uint8_t blob[CPYTHON_DEBUG_OFFSETS_READ];
	struct cpython_layout l;
	const uint32_t *words;
	unsigned int minor, at, size_at, found;
	const char *name;
	char why[256] = "";
	uint64_t value;
	size_t i, n, k;

	(void)state;
	for (minor = 13; minor <= CPYTHON_NEWEST_MINOR; minor++) {
		n = published(minor, blob, sizeof(blob), distinct);
		assert_int_equal(cpython_layout_build(minor, blob, n, &l, why, sizeof(why)), 0);
		words = (const uint32_t *)&l;
		for (i = 0; !cpython_debug_field(minor, i, &name, &at, &size_at); i++) {
			memcpy(&value, blob + at, 8);
			found = 0;
			for (k = 0; k < sizeof(l) / 4; k++)
				found += words[k] == value;
			assert_int_equal(found, fields_at(minor, at));
		}
	}
}

static void test_a_build_that_publishes_other_offsets_is_read_by_them(void **state)
{
	uint8_t blob[CPYTHON_DEBUG_OFFSETS_READ];
	const struct cpython_layout *table = cpython_layout_table(14);
	struct cpython_layout l;
	unsigned int at, size_at;
	const char *name;
	uint64_t moved = 160;
	char why[256] = "";
	size_t i, n;

	(void)state;
	n = published(14, blob, sizeof(blob), distinct);
	for (i = 0; !cpython_debug_field(14, i, &name, &at, &size_at); i++)
		if (!strcmp(name, "thread_state.thread_id"))
			memcpy(blob + at, &moved, 8);
	assert_int_equal(cpython_layout_build(14, blob, n, &l, why, sizeof(why)), 0);
	assert_int_equal(l.tstate_thread_id, 160);
	/* what _Py_DebugOffsets does not say comes from the table */
	assert_int_equal(l.task_state, table->task_state);
	assert_int_equal(l.frame_awaiting, table->frame_awaiting);
}

static uint64_t past_the_struct(size_t i)
{
	return i == 3 ? 1 << 20 : 8;
}

static void test_an_offset_past_its_struct_is_refused(void **state)
{
	uint8_t blob[CPYTHON_DEBUG_OFFSETS_READ];
	struct cpython_layout l;
	char why[256];
	size_t n;

	(void)state;
	n = published(15, blob, sizeof(blob), past_the_struct);
	assert_int_equal(cpython_layout_build(15, blob, n, &l, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "in a struct of 1048576 bytes"));
}

static void test_refuses_free_threaded_another_version_or_no_cookie(void **state)
{
	uint8_t blob[CPYTHON_DEBUG_OFFSETS_READ];
	struct cpython_layout l;
	uint64_t one = 1, other = 0x030d00f0;
	char why[256];
	size_t n;

	(void)state;
	n = published(14, blob, sizeof(blob), distinct);
	memcpy(blob + 16, &one, 8);
	assert_int_equal(cpython_layout_build(14, blob, n, &l, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "free-threaded build (CPython 3.14t)"));
	assert_non_null(strstr(why, "connections are traced"));
	n = published(14, blob, sizeof(blob), distinct);
	memcpy(blob + 8, &other, 8);
	assert_int_equal(cpython_layout_build(14, blob, n, &l, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "version 0x30d00f0"));
	n = published(13, blob, sizeof(blob), distinct);
	blob[0] = 'y';
	assert_int_equal(cpython_layout_build(13, blob, n, &l, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "no _Py_DebugOffsets"));
	assert_int_equal(cpython_layout_build(13, NULL, 0, &l, why, sizeof(why)), -ENOTSUP);
	assert_int_equal(cpython_layout_build(15, blob, 584, &l, why, sizeof(why)), -ENOTSUP);
}

/* .AsyncioDebug of Debian's 3.14.10 (shared/research/cpython-314-315.md), moved a little */
static void test_asyncio_debug_gives_the_task_and_list_offsets(void **state)
{
	uint64_t sec[13] = { 176, 136, 96, 108, 109, 128, 160, 225864, 10880, 936, 864, 872, 888 };
	struct cpython_layout l = *cpython_layout_table(14);
	char why[256] = "";

	(void)state;
	assert_int_equal(cpython_layout_apply_asyncio(&l, (const uint8_t *)sec, sizeof(sec), why,
						      sizeof(why)), 0);
	assert_int_equal(l.task_basicsize, 176);
	assert_int_equal(l.task_node, 160);
	assert_int_equal(l.interp_tasks_head, 10880);
	assert_int_equal(l.tstate_running_task, 872);
	assert_int_equal(l.tstate_tasks_head, 888);
	sec[6] = 170;	/* a list node past the end of the Task */
	assert_int_equal(cpython_layout_apply_asyncio(&l, (const uint8_t *)sec, sizeof(sec), why,
						      sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, ".AsyncioDebug"));
	sec[6] = 160;
	assert_int_equal(cpython_layout_apply_asyncio(&l, (const uint8_t *)sec, 96, why,
						      sizeof(why)), -ENOTSUP);
	l = *cpython_layout_table(13);
	assert_int_equal(cpython_layout_apply_asyncio(&l, (const uint8_t *)sec, sizeof(sec), why,
						      sizeof(why)), -ENOTSUP);
}

/* fut_state, the loop, the callbacks and fut_waiter are the table's: the Task must hold them */
static void test_asyncio_debug_task_too_small_for_the_table_fields(void **state)
{
	uint64_t sec[13] = { 64, 16, 96, 108, 109, 24, 32, 225864, 10880, 936, 864, 872, 888 };
	struct cpython_layout l = *cpython_layout_table(14);
	char why[256] = "";

	(void)state;
	assert_int_equal(cpython_layout_apply_asyncio(&l, (const uint8_t *)sec, sizeof(sec), why,
						      sizeof(why)), -ENOTSUP);
	assert_int_equal(l.task_basicsize, cpython_layout_table(14)->task_basicsize);
}


static void test_versions_without_debug_offsets_take_the_table(void **state)
{
	struct cpython_layout l;
	char why[256];
	unsigned int minor;

	(void)state;
	for (minor = CPYTHON_OLDEST_MINOR; minor < 13; minor++) {
		assert_int_equal(cpython_layout_build(minor, NULL, 0, &l, why, sizeof(why)), 0);
		assert_false(l.has_debug_offsets);
	}
	assert_int_equal(cpython_layout_build(CPYTHON_NEWEST_MINOR + 1, NULL, 0, &l, why,
					      sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "(CPython " CPYTHON_VERSIONS " are)"));
	assert_int_equal(cpython_layout_build(CPYTHON_OLDEST_MINOR - 1, NULL, 0, &l, why,
					      sizeof(why)), -ENOTSUP);
}

static void test_bpf_layout_from_the_table(void **state)
{
	struct py_layout b;

	(void)state;
	cpython_bpf_layout(cpython_layout_table(10), 0x1000, &b);
	assert_int_equal(b.runtime_addr, 0x1000);
	assert_int_equal(b.frame_kind, PY_FRAMES_LEGACY);
	assert_int_equal(b.frame_read_size, 100);	/* f_lasti at 96, an int */
	cpython_bpf_layout(cpython_layout_table(11), 0, &b);
	assert_int_equal(b.frame_kind, PY_FRAMES_CFRAME);
	assert_int_equal(b.first_shim_owner, CPY_NO_OWNER);
	assert_int_equal(b.tuple_items, 24);
	cpython_bpf_layout(cpython_layout_table(13), 0, &b);
	assert_int_equal(b.frame_kind, PY_FRAMES_DIRECT);
	assert_int_equal(b.frame_read_size, 71);	/* owner at 70 */
	assert_int_equal(b.owned_by_generator, 1);
	assert_int_equal(b.first_shim_owner, 3);
	assert_int_equal(b.task_coro, 120);
	assert_int_equal(b.code_tag_bits, 0);
	cpython_bpf_layout(cpython_layout_table(14), 0, &b);
	assert_int_equal(b.frame_read_size, 75);	/* owner at 74 */
	assert_int_equal(b.code_tag_bits, 3);
	assert_int_equal(b.tuple_items, 32);
	assert_int_equal(b.task_coro, 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_published_offset_is_taken),
		cmocka_unit_test(test_a_build_that_publishes_other_offsets_is_read_by_them),
		cmocka_unit_test(test_an_offset_past_its_struct_is_refused),
		cmocka_unit_test(test_refuses_free_threaded_another_version_or_no_cookie),
		cmocka_unit_test(test_asyncio_debug_gives_the_task_and_list_offsets),
		cmocka_unit_test(test_asyncio_debug_task_too_small_for_the_table_fields),
		cmocka_unit_test(test_versions_without_debug_offsets_take_the_table),
		cmocka_unit_test(test_bpf_layout_from_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
