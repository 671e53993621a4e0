// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The ELF reader (user/sys/elf_image.c) on hostile files: the input is the
 * file. Everything inflight asks of a target's libpython or _asyncio is
 * asked of it: symbols, sections (.PyRuntime, .AsyncioDebug and what they
 * hold), bytes at addresses, load bias, strings, relocations and the Task
 * type found through them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cpython_layout.h"
#include "elf_image.h"
#include "fuzz_file.h"
#include "task_type_finder.h"

#define MAX_POINTERS 16

static void check(int ok)
{
	if (!ok)
		abort();
}

static void read_symbol(struct elf_image *e, const char *name)
{
	uint8_t code[64];
	uint64_t vaddr, offset;
	ssize_t n;

	if (elf_image_symbol(e, name, &vaddr))
		return;
	n = elf_image_read_upto(e, vaddr, code, sizeof(code));
	check(n < 0 || (size_t)n <= sizeof(code));
	elf_image_file_offset(e, vaddr, &offset);
}

/* _PyRuntime's _Py_DebugOffsets, as python_target.c reads them, into each version's layout */
static void read_runtime(struct elf_image *e)
{
	uint8_t debug[CPYTHON_DEBUG_OFFSETS_READ];
	struct cpython_layout l;
	uint64_t vaddr, size;
	char why[256];
	ssize_t n;
	unsigned int minor;

	if (elf_image_section(e, ".PyRuntime", &vaddr, &size) &&
	    elf_image_symbol(e, "_PyRuntime", &vaddr))
		return;
	n = elf_image_read_upto(e, vaddr, debug, sizeof(debug));
	if (n < 0)
		return;
	for (minor = CPYTHON_OLDEST_MINOR; minor <= CPYTHON_NEWEST_MINOR; minor++)
		cpython_layout_build(minor, debug, (size_t)n, &l, why, sizeof(why));
}

static void read_asyncio_debug(struct elf_image *e)
{
	uint8_t sec[CPYTHON_ASYNCIO_DEBUG_SIZE];
	struct cpython_layout l = *cpython_layout_table(CPYTHON_NEWEST_MINOR);
	uint64_t vaddr, size;
	char why[256];

	if (elf_image_section(e, ".AsyncioDebug", &vaddr, &size) || size < sizeof(sec) ||
	    elf_image_read(e, vaddr, sec, sizeof(sec)))
		return;
	cpython_layout_apply_asyncio(&l, sec, sizeof(sec), why, sizeof(why));
}

static void read_task_type(struct elf_image *e)
{
	uint64_t name, refs[MAX_POINTERS], value;
	struct task_type t;
	unsigned int minor;
	int i, n;

	if (!elf_image_find_string(e, "_asyncio.Task", &name)) {
		n = elf_image_pointers_to(e, name, refs, MAX_POINTERS);
		check(n <= MAX_POINTERS);
		for (i = 0; i < n; i++)
			elf_image_pointer_at(e, refs[i], &value);
	}
	for (minor = CPYTHON_OLDEST_MINOR; minor <= CPYTHON_NEWEST_MINOR; minor++)
		find_task_type(e, cpython_layout_table(minor), &t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image *e;
	uint64_t bias;

	if (elf_image_open(fuzz_file_of(data, size), &e))
		return 0;
	read_symbol(e, "PyInit__asyncio");
	read_symbol(e, "TaskObj_finalize");
	read_runtime(e);
	read_asyncio_debug(e);
	read_task_type(e);
	elf_image_load_bias(e, 0x7f0000000000ULL, 0, &bias);
	elf_image_load_bias(e, 0x7f0000001000ULL, 0x1000, &bias);
	elf_image_close(e);
	return 0;
}
