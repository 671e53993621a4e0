// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/cpython/cpython_layout.c and cpython_bpf.c: a target's
 * layout checked against the _Py_DebugOffsets it publishes, and the layout
 * as the BPF side receives it.
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
#include "debug_offsets_313.h"

/* What a 3.13.0 build publishes (pyenv's, as decoded in shared/research). */
static struct debug_offsets_313 published_313(void)
{
	struct debug_offsets_313 d = { .version = 0x030d00f0 };

	memcpy(d.cookie, "xdebugpy", 8);
	d.runtime_state.interpreters_head = 632;
	d.interpreter_state.threads_head = 7344;
	d.interpreter_state.imports_modules = 7656;
	d.thread_state.next = 8;
	d.thread_state.current_frame = 72;
	d.thread_state.thread_id = 152;
	d.interpreter_frame.previous = 8;
	d.interpreter_frame.executable = 0;
	d.interpreter_frame.instr_ptr = 56;
	d.interpreter_frame.localsplus = 72;
	d.interpreter_frame.owner = 70;
	d.code_object.filename = 112;
	d.code_object.name = 120;
	d.code_object.qualname = 128;
	d.code_object.linetable = 136;
	d.code_object.firstlineno = 68;
	d.code_object.co_code_adaptive = 200;
	d.type_object.tp_name = 24;
	d.type_object.tp_flags = 168;
	d.tuple_object.ob_item = 24;
	d.tuple_object.ob_size = 16;
	d.list_object.ob_item = 24;
	d.list_object.ob_size = 16;
	d.dict_object.ma_keys = 32;
	d.dict_object.ma_values = 40;
	d.long_object.lv_tag = 16;
	d.long_object.ob_digit = 24;
	d.bytes_object.ob_size = 16;
	d.bytes_object.ob_sval = 32;
	d.unicode_object.state = 32;
	d.unicode_object.length = 16;
	d.unicode_object.asciiobject_size = 40;
	return d;
}

static int build_313(const struct debug_offsets_313 *d, struct cpython_layout *l, char *why,
		     size_t size)
{
	return cpython_layout_build(13, (const uint8_t *)d, sizeof(*d), l, why, size);
}

static void test_313_agrees_with_what_it_publishes(void **state)
{
	struct debug_offsets_313 d = published_313();
	struct cpython_layout l;
	char why[256] = "";

	(void)state;
	assert_int_equal(build_313(&d, &l, why, sizeof(why)), 0);
	assert_string_equal(l.version, "3.13");
	assert_true(l.has_debug_offsets);
}

static void test_313_refuses_an_offset_it_does_not_know(void **state)
{
	struct debug_offsets_313 d = published_313();
	struct cpython_layout l;
	char why[256];

	(void)state;
	d.interpreter_frame.owner = 71;
	assert_int_equal(build_313(&d, &l, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "interpreter_frame.owner is at 71"));
}

static void test_313_refuses_another_version_or_no_cookie(void **state)
{
	struct debug_offsets_313 d = published_313();
	struct cpython_layout l;
	char why[256];

	(void)state;
	d.free_threaded = 1;
	assert_int_equal(build_313(&d, &l, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "free-threaded"));
	d = published_313();
	d.version = 0x030e00f0;
	assert_int_equal(build_313(&d, &l, why, sizeof(why)), -ENOTSUP);
	d = published_313();
	d.cookie[0] = 'y';
	assert_int_equal(build_313(&d, &l, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "no _Py_DebugOffsets"));
	assert_int_equal(cpython_layout_build(13, NULL, 0, &l, why, sizeof(why)), -ENOTSUP);
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
	assert_int_equal(b.owned_by_cstack, CPY_NO_OWNER);
	cpython_bpf_layout(cpython_layout_table(13), 0, &b);
	assert_int_equal(b.frame_kind, PY_FRAMES_DIRECT);
	assert_int_equal(b.frame_read_size, 71);	/* owner at 70 */
	assert_int_equal(b.owned_by_generator, 1);
	assert_int_equal(b.owned_by_cstack, 3);
	assert_int_equal(b.task_coro, 120);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_313_agrees_with_what_it_publishes),
		cmocka_unit_test(test_313_refuses_an_offset_it_does_not_know),
		cmocka_unit_test(test_313_refuses_another_version_or_no_cookie),
		cmocka_unit_test(test_versions_without_debug_offsets_take_the_table),
		cmocka_unit_test(test_bpf_layout_from_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
