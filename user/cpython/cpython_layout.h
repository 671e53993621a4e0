/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Where things are inside each supported CPython, in one table: the offsets
 * the BPF side walks (struct py_layout) and the ones userspace needs to decode
 * code objects, strings and tasks. Values verified against each build's DWARF
 * (shared/research/cpython-asyncio-internals.md, section 2); each table is
 * checked at attach against the Task type's basicsize in the target's binary.
 */
#ifndef INFLIGHT_CPYTHON_LAYOUT_H
#define INFLIGHT_CPYTHON_LAYOUT_H
#include <stdint.h>
#include "task_events.h"

enum line_table_format {
	LINES_LNOTAB_39,	/* co_lnotab: (byte delta, line delta) pairs, byte offsets */
	LINES_LINETABLE_310,	/* co_linetable, PEP 626: (byte delta, line delta) pairs */
	LINES_LOCATIONS_311,	/* co_linetable, the 3.11 location table (Objects/locations.md) */
};

enum dict_format {
	DICTS_39,	/* dk_size, 24-byte entries, split values as a plain array */
	DICTS_311,	/* dk_log2_index_bytes and dk_kind, 16-byte unicode entries */
	DICTS_313,	/* as 3.11, split values after an 8-byte PyDictValues header */
};

struct cpython_layout {
	unsigned int minor;		/* 3.<minor> */
	uint32_t task_basicsize;	/* sizeof(TaskObj): the layout's fingerprint */
	struct py_layout bpf;		/* runtime_addr left 0: it is per process */

	/* code objects */
	uint32_t code_filename, code_name, code_qualname;	/* qualname 0 before 3.11 */
	uint32_t code_firstlineno;
	uint32_t code_linetable;	/* co_lnotab on 3.9 */
	uint32_t code_adaptive;		/* co_code_adaptive, 3.11+: where instructions start */
	enum line_table_format lines;
	/* strings: PyASCIIObject.length/state, and where compact data starts */
	uint32_t str_length, str_state, str_ascii_data, str_compact_data;
	/* tasks */
	uint32_t task_name;
	uint32_t task_fut_waiter;

	/* snapshots: reading a process's tasks from its memory (task_snapshot.c) */
	uint32_t interp_modules;	/* sys.modules: PyInterpreterState.modules / imports.modules */
	uint32_t type_cached_keys;	/* PyHeapTypeObject.ht_cached_keys */
	uint32_t func_qualname, func_closure;	/* PyFunctionObject */
	uint32_t coro_frame;		/* cr_frame, a PyFrameObject * (3.9, 3.10) */
	uint32_t coro_frame_state;	/* cr_frame_state, an int8 (3.11+) */
	int8_t frame_created, frame_suspended_min, frame_suspended_max;	/* frame states */
	uint32_t frame_state;		/* f_state (3.10): the legacy frame's own state */
	uint32_t frame_stack;		/* f_stacktop (3.9), f_valuestack (3.10), localsplus (3.11+) */
	uint32_t frame_stack_depth;	/* f_stackdepth (3.10), stacktop (3.11+); 0 on 3.9 */
	uint32_t frame_localsplus;	/* the first local ("self" of a method) */
	enum dict_format dicts;
};

/* The layout for CPython 3.<minor>, or NULL if that version is not supported. */
const struct cpython_layout *cpython_layout_for(unsigned int minor);
uint32_t cpython_frame_read_size(const struct cpython_layout *l);
/* "3.9 to 3.13" */
const char *cpython_supported_versions(void);

#endif
