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
};

/* The layout for CPython 3.<minor>, or NULL if that version is not supported. */
const struct cpython_layout *cpython_layout_for(unsigned int minor);
uint32_t cpython_frame_read_size(const struct cpython_layout *l);
/* "3.9 to 3.13" */
const char *cpython_supported_versions(void);

#endif
