// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/cpython/python_version.c: the micro version of a 3.9 or
 * 3.10, from sys.version, on made-up memory (a CPython 3.9 runtime,
 * interpreter, sys.modules and sys laid out here with the layout table's
 * offsets, read back through process_vm_readv on this process); kept only
 * when it is this minor version and nothing but a version.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "cpython_layout.h"
#include "python_version.h"

#define ARENA_BYTES (32 * 1024)
#define TYPE_BYTES 512
#define STR_COMPACT_ASCII_READY 0xe4	/* kind 1, compact, ascii, ready */

struct image {
	const struct cpython_layout *l;
	uint8_t *arena;
	size_t used;
	uint64_t dict_type, module_type;
	struct python_target py;
};

static uint64_t alloc(struct image *im, size_t size)
{
	uint64_t at = (uint64_t)(uintptr_t)(im->arena + im->used);

	im->used += (size + 15) & ~(size_t)15;
	assert_true(im->used <= ARENA_BYTES);
	return at;
}

static void put(uint64_t addr, uint32_t offset, uint64_t value)
{
	memcpy((void *)(uintptr_t)(addr + offset), &value, sizeof(value));
}

static uint64_t object(struct image *im, size_t size, uint64_t type)
{
	uint64_t o = alloc(im, size);

	put(o, 8, type);	/* ob_type */
	return o;
}

static uint64_t type(struct image *im, const char *name)
{
	uint64_t t = object(im, TYPE_BYTES, 0), text = alloc(im, strlen(name) + 1);

	memcpy((void *)(uintptr_t)text, name, strlen(name) + 1);
	put(t, im->l->tp_name, text);
	put(t, im->l->tp_basicsize, 64);
	return t;
}

static uint64_t str(struct image *im, const char *text)
{
	size_t len = strlen(text);
	uint64_t s = object(im, im->l->str_ascii_data + len + 1, 0);

	put(s, im->l->str_length, len);
	put(s, im->l->str_state, STR_COMPACT_ASCII_READY);
	memcpy((void *)(uintptr_t)(s + im->l->str_ascii_data), text, len + 1);
	return s;
}

/* A 3.9 dict of one str key: an 8-slot keys object, entries { hash, key, value }. */
static uint64_t dict1(struct image *im, const char *key, uint64_t value)
{
	uint64_t d = object(im, 48, im->dict_type);
	uint64_t k = alloc(im, im->l->dk_indices + 8 + 24 * 8), entries = k + im->l->dk_indices + 8;

	put(k, im->l->dk_size, 8);
	put(k, im->l->dk_nentries, 1);
	put(entries, 8, str(im, key));
	put(entries, 16, value);
	put(d, im->l->dict_keys, k);
	return d;
}

/* _PyRuntime -> interpreter -> sys.modules = {module_name: module}, module.version = version */
static void runtime_with_sys(struct image *im, const char *module_name, const char *version)
{
	uint64_t runtime = alloc(im, 1024), interp = alloc(im, 4096);
	uint64_t sys = object(im, 64, im->module_type);

	put(sys, im->l->module_dict, dict1(im, "version", str(im, version)));
	put(runtime, im->l->runtime_interp_head, interp);
	put(interp, im->l->interp_modules, dict1(im, module_name, sys));
	im->py.runtime_addr = runtime;
}

static int setup(void **state)
{
	struct image *im = calloc(1, sizeof(*im));

	if (!im || !(im->arena = calloc(1, ARENA_BYTES)))
		return -1;
	im->l = cpython_layout_table(9);
	im->dict_type = type(im, "dict");
	im->module_type = type(im, "module");
	im->py.pid = getpid();
	im->py.layout = *im->l;
	snprintf(im->py.version, sizeof(im->py.version), "3.9");
	*state = im;
	return 0;
}

static int teardown(void **state)
{
	struct image *im = *state;

	free(im->arena);
	free(im);
	return 0;
}

static void test_micro_version_from_sys_version(void **state)
{
	struct image *im = *state;

	runtime_with_sys(im, "sys", "3.9.18 (main, Nov 24 2026, 10:00:00) \n[GCC 12.2.0]");
	assert_int_equal(python_version_complete(&im->py), 0);
	assert_string_equal(im->py.version, "3.9.18");
}

static void test_prerelease_kept_whole(void **state)
{
	struct image *im = *state;

	runtime_with_sys(im, "sys", "3.9.0rc2 (default, Sep 1 2020)");
	assert_int_equal(python_version_complete(&im->py), 0);
	assert_string_equal(im->py.version, "3.9.0rc2");
}

/* what a process could plant, or another interpreter's: left as the binary said */
static void test_not_this_version_refused(void **state)
{
	struct image *im = *state;

	runtime_with_sys(im, "sys", "3.10.13 (main)");
	assert_int_equal(python_version_complete(&im->py), -EINVAL);
	assert_string_equal(im->py.version, "3.9");
	runtime_with_sys(im, "sys", "3.9.18\";rm -rf / (main)");
	assert_int_equal(python_version_complete(&im->py), -EINVAL);
	assert_string_equal(im->py.version, "3.9");
	runtime_with_sys(im, "sys", "3.9.1234567890123456789012345");
	assert_int_equal(python_version_complete(&im->py), -EINVAL);
	assert_string_equal(im->py.version, "3.9");
}

static void test_no_sys_module(void **state)
{
	struct image *im = *state;

	runtime_with_sys(im, "json", "3.9.18 (main)");
	assert_int_equal(python_version_complete(&im->py), -EIO);
	assert_string_equal(im->py.version, "3.9");
}

/* 3.11 and later: Py_Version said it all, memory is not read */
static void test_whole_version_left_alone(void **state)
{
	struct image *im = *state;

	snprintf(im->py.version, sizeof(im->py.version), "3.12.1");
	im->py.runtime_addr = 8;	/* unreadable: a read would fail */
	assert_int_equal(python_version_complete(&im->py), 0);
	assert_string_equal(im->py.version, "3.12.1");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_micro_version_from_sys_version),
		T(test_prerelease_kept_whole),
		T(test_not_this_version_refused),
		T(test_no_sys_module),
		T(test_whole_version_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
