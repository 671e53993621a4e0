// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cpython_layout.h"

/*
 * Sources: Include/{object,cpython/object,cpython/pystate,cpython/frameobject,
 * cpython/code,cpython/unicodeobject,cpython/funcobject}.h,
 * Include/internal/pycore_{frame,runtime,interp,dict,genobject}.h,
 * Objects/dict-common.h (3.9, 3.10) and Modules/_asynciomodule.c of each
 * version; x86-64 offsets.
 */

/* Objects whose layout did not change from 3.9 to 3.15. */
#define STABLE_OBJECTS							\
	.tp_name = 24, .tp_basicsize = 32, .tp_dealloc = 48, .tp_flags = 168,	\
	.tp_base = 256, .tp_dictoffset = 288, .tp_init = 296, .tp_finalize = 392, \
	.dict_keys = 32, .dict_values = 40,				\
	.set_mask = 32, .set_table = 40, .set_entry_size = 16,		\
	.var_size = 16, .list_items = 24,				\
	.long_size = 16, .long_digits = 24, .bytes_size = 16, .bytes_data = 32, \
	.str_length = 16, .str_state = 32, .module_dict = 16,		\
	.weakref_object = 16, .cell_ref = 16, .cfunc_ml = 16, .cfunc_self = 24, \
	.method_func = 16, .method_self = 24, .socket_fd = 16,		\
	.fut_loop = 16, .fut_callback0 = 24, .fut_callbacks = 40, .futureiter_future = 16

/* PyDictKeysObject before 3.11 (Objects/dict-common.h) and after (pycore_dict.h) */
#define DICT_KEYS_SIZED_39 \
	.dict_keys_format = DICT_KEYS_SIZED, .dk_size = 8, .dk_nentries = 32, .dk_indices = 40
#define DICT_KEYS_KINDED_311						\
	.dict_keys_format = DICT_KEYS_KINDED, .dk_log2_index_bytes = 9, .dk_kind = 10, \
	.dk_nentries = 24, .dk_indices = 32

/* Py_TPFLAGS_MANAGED_DICT; Py_TPFLAGS_INLINE_VALUES (Include/object.h) */
#define TPFLAGS_MANAGED_DICT (1ULL << 4)
#define TPFLAGS_INLINE_VALUES (1ULL << 2)

/*
 * What 3.14 and 3.15 share: tasks in per-thread lists, tagged stack
 * references, frames with a stackpointer (Include/internal/pycore_frame.h,
 * pycore_interpframe_structs.h, pycore_stackref.h; Modules/_asynciomodule.c).
 */
#define FROM_314							\
	.task_type_from_spec = true, .has_debug_offsets = true, .has_asyncio_debug = true, \
	.registry = TASKS_IN_THREAD_LISTS, .task_node = 152,		\
	.frames = CPY_FRAME_DIRECT, .tstate_next = 8, .tstate_frame = 72,	\
	.frame_code = 0, .frame_back = 8, .frame_pos = 56, .frame_owner = 74,	\
	.owned_by_generator = 1, .stackref_tag_bits = 3,		\
	.coro_iframe = 72, .coro_qualname = 32, .coro_frame_state = 67,	\
	.code_filename = 112, .code_name = 120, .code_qualname = 128,	\
	.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 208,	\
	.lines = LINES_LOCATIONS_311, .str_ascii_data = 40, .str_compact_data = 56, \
	.task_state = 104, .task_coro = 128, .task_name = 136, .task_fut_waiter = 120, \
	.func_qualname = 40, .func_closure = 72,				\
	.frame_stack_kind = CPY_STACK_POINTER, .frame_stack = 80,		\
	.frame_stack_pointer = 64, .frame_localsplus = 80,		\
	.tpflags_managed_dict = TPFLAGS_MANAGED_DICT,			\
	.tpflags_inline_values = TPFLAGS_INLINE_VALUES,			\
	.managed_dict = MANAGED_INLINE_VALUES, .managed_dict_at = -24,	\
	.dict_values_items = 8, .dict_values_valid = 3, .long_tagged = true

static const struct {
	unsigned int minor;
	struct cpython_layout layout;
} tables[] = {
	{ 9, {
		.version = "3.9", .task_basicsize = 184, STABLE_OBJECTS, DICT_KEYS_SIZED_39,
		.tuple_items = 24,
		.registry_weakset = "_all_tasks",
		.frames = CPY_FRAME_OBJECTS,
		.runtime_interp_head = 32, .interp_threads_head = 8,
		.tstate_next = 8, .tstate_thread_id = 176, .tstate_frame = 24,
		.frame_code = 32, .frame_back = 24, .frame_pos = 104, .frame_gen = 96,
		.coro_qualname = 56,
		.code_filename = 104, .code_name = 112, .code_firstlineno = 40,
		.code_linetable = 120, .lines = LINES_LNOTAB_39,
		.str_ascii_data = 48, .str_compact_data = 72,
		.task_state = 80, .task_coro = 152, .task_name = 160, .task_fut_waiter = 144,
		.wakeup_task = 16,
		.interp_modules = 856, .type_cached_keys = 864, .func_qualname = 104,
		.func_closure = 48,
		.coro_frame = 16, .frame_stack_kind = CPY_STACK_TOP_POINTER, .frame_stack = 72,
		.frame_valuestack = 64, .frame_localsplus = 360,
	} },
	{ 10, {
		.version = "3.10", .task_basicsize = 192, STABLE_OBJECTS, DICT_KEYS_SIZED_39,
		.tuple_items = 24,
		.registry_weakset = "_all_tasks",
		.frames = CPY_FRAME_OBJECTS,
		.runtime_interp_head = 32, .interp_threads_head = 8,
		.tstate_next = 8, .tstate_thread_id = 176, .tstate_frame = 24,
		.frame_code = 32, .frame_back = 24, .frame_pos = 96, .frame_gen = 88,
		.coro_qualname = 48,
		.code_filename = 104, .code_name = 112, .code_firstlineno = 40,
		.code_linetable = 120, .lines = LINES_LINETABLE_310,
		.str_ascii_data = 48, .str_compact_data = 72,
		.task_state = 88, .task_coro = 160, .task_name = 168, .task_fut_waiter = 152,
		.interp_modules = 856, .type_cached_keys = 872, .func_qualname = 40,
		.func_closure = 72,
		.coro_frame = 16, .frame_state = 108, .frame_created = -2,
		.frame_suspended_min = -1, .frame_suspended_max = -1, .frame_awaiting = -1,
		.await_slot = 1, .frame_stack_kind = CPY_STACK_DEPTH, .frame_stack = 64,
		.frame_stack_depth = 80,
		.frame_localsplus = 352,
	} },
	{ 11, {
		.version = "3.11", .task_basicsize = 176, STABLE_OBJECTS, DICT_KEYS_KINDED_311,
		.tuple_items = 24,
		.registry_weakset = "_all_tasks",
		.frames = CPY_FRAME_VIA_CFRAME,
		.runtime_interp_head = 40, .interp_threads_head = 16,
		.tstate_next = 8, .tstate_thread_id = 152, .tstate_frame = 56,
		.cframe_current_frame = 8,
		.frame_code = 32, .frame_back = 48, .frame_pos = 56, .frame_owner = 69,
		.owned_by_generator = 1, .first_shim_owner = CPY_NO_OWNER,
		.coro_iframe = 80, .coro_qualname = 40,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 72, .code_linetable = 136, .code_adaptive = 184,
		.lines = LINES_LOCATIONS_311,
		.str_ascii_data = 48, .str_compact_data = 72,
		.task_state = 88, .task_coro = 136, .task_name = 144, .task_fut_waiter = 128,
		.interp_modules = 888, .type_cached_keys = 872, .func_qualname = 40,
		.func_closure = 72,
		.coro_frame_state = 75, .frame_created = -2, .frame_suspended_min = -1,
		.frame_suspended_max = -1, .frame_awaiting = -1, .await_slot = 1,
		.frame_stack_kind = CPY_STACK_DEPTH, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72,
		.tpflags_managed_dict = TPFLAGS_MANAGED_DICT, .managed_dict = MANAGED_VALUES_POINTER,
		.managed_dict_at = -24, .managed_values_at = -32,
	} },
	{ 12, {
		.version = "3.12", .task_basicsize = 176, STABLE_OBJECTS, DICT_KEYS_KINDED_311,
		.tuple_items = 24,
		.task_type_from_spec = true,
		.registry_weakset = "_scheduled_tasks", .registry_eager_set = "_eager_tasks",
		.frames = CPY_FRAME_VIA_CFRAME,
		.runtime_interp_head = 40, .interp_threads_head = 72,
		.tstate_next = 8, .tstate_thread_id = 136, .tstate_frame = 56,
		.cframe_current_frame = 0,
		.frame_code = 0, .frame_back = 8, .frame_pos = 56, .frame_owner = 70,
		.owned_by_generator = 1, .first_shim_owner = 3,
		.coro_iframe = 72, .coro_qualname = 32,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 192,
		.lines = LINES_LOCATIONS_311,
		.str_ascii_data = 40, .str_compact_data = 56,
		.task_state = 88, .task_coro = 136, .task_name = 144, .task_fut_waiter = 128,
		.interp_modules = 944, .type_cached_keys = 880, .func_qualname = 40,
		.func_closure = 72,
		.coro_frame_state = 67, .frame_created = -2, .frame_suspended_min = -1,
		.frame_suspended_max = -1, .frame_awaiting = -1, .await_slot = 1,
		.frame_stack_kind = CPY_STACK_DEPTH, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72,
		.tpflags_managed_dict = TPFLAGS_MANAGED_DICT, .managed_dict = MANAGED_DICT_OR_VALUES,
		.managed_dict_at = -24,
		.long_tagged = true,
	} },
	{ 13, {
		.version = "3.13", .task_basicsize = 144, STABLE_OBJECTS, DICT_KEYS_KINDED_311,
		.tuple_items = 24,
		.task_type_from_spec = true, .has_debug_offsets = true,
		.registry_weakset = "_scheduled_tasks", .registry_eager_set = "_eager_tasks",
		.frames = CPY_FRAME_DIRECT,
		.runtime_interp_head = 632, .interp_threads_head = 7344,
		.tstate_next = 8, .tstate_thread_id = 152, .tstate_frame = 72,
		.frame_code = 0, .frame_back = 8, .frame_pos = 56, .frame_owner = 70,
		.owned_by_generator = 1, .first_shim_owner = 3,
		.coro_iframe = 72, .coro_qualname = 32,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 200,
		.lines = LINES_LOCATIONS_311,
		.str_ascii_data = 40, .str_compact_data = 56,
		.task_state = 96, .task_coro = 120, .task_name = 128, .task_fut_waiter = 112,
		.interp_modules = 7656, .type_cached_keys = 880, .func_qualname = 40,
		.func_closure = 72,
		.coro_frame_state = 67, .frame_created = -3, .frame_suspended_min = -2,
		.frame_suspended_max = -1, .frame_awaiting = -1, .await_slot = 1,
		.frame_stack_kind = CPY_STACK_DEPTH, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72,
		.tpflags_managed_dict = TPFLAGS_MANAGED_DICT,
		.tpflags_inline_values = TPFLAGS_INLINE_VALUES,
		.managed_dict = MANAGED_INLINE_VALUES, .managed_dict_at = -24,
		.dict_values_items = 8, .dict_values_valid = 3,
		.long_tagged = true,
	} },
	{ 14, {
		.version = "3.14", .task_basicsize = 168, STABLE_OBJECTS, DICT_KEYS_KINDED_311,
		.tuple_items = 32, FROM_314,
		.runtime_interp_head = 808, .interp_threads_head = 7344, .interp_modules = 7688,
		.tstate_thread_id = 152, .type_cached_keys = 880,
		.tstate_tasks_head = 880, .tstate_running_task = 872, .interp_tasks_head = 10880,
		.first_shim_owner = 3,	/* FRAME_OWNED_BY_INTERPRETER, then _BY_CSTACK */
		.frame_created = -3, .frame_suspended_min = -2, .frame_suspended_max = -1,
		.frame_awaiting = -1, .frame_executing = 0, .await_slot = 1,
	} },
	{ 15, {
		.version = "3.15", .task_basicsize = 168, STABLE_OBJECTS, DICT_KEYS_KINDED_311,
		.tuple_items = 32, FROM_314,
		.runtime_interp_head = 936, .interp_threads_head = 7336, .interp_modules = 7592,
		.tstate_thread_id = 176, .type_cached_keys = 888,
		.tstate_tasks_head = 1048, .tstate_running_task = 1032, .interp_tasks_head = 10856,
		.first_shim_owner = 3,	/* FRAME_OWNED_BY_INTERPRETER: no C-stack owner any more */
		/* suspended: 1, in a yield from 2, and 3 while another thread locks it */
		.frame_created = 0, .frame_suspended_min = 1, .frame_suspended_max = 3,
		/* what it awaits is one slot below the top (read off 3.15.2's frames) */
		.frame_awaiting = 2, .frame_executing = 4, .await_slot = 2,
	} },
};

_Static_assert(sizeof(tables) / sizeof(tables[0]) == CPYTHON_NEWEST_MINOR - CPYTHON_OLDEST_MINOR + 1,
	       "a table per supported version");

const struct cpython_layout *cpython_layout_table(unsigned int minor)
{
	size_t i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (tables[i].minor == minor)
			return &tables[i].layout;
	return NULL;
}

const char *cpython_supported_versions(void)
{
	return "CPython " CPYTHON_VERSIONS;
}

/*
 * One value of _Py_DebugOffsets that inflight uses: where it sits in the
 * struct, where the size of its section (the struct it is an offset into)
 * sits, and the layout field it gives. Positions come from
 * Include/internal/pycore_runtime.h (3.13) and pycore_debug_offsets.h
 * (3.14+); tests/unit/layout_offsets.c checks them with offsetof.
 */
struct debug_field {
	const char *name;
	uint16_t at, size_at;
	uint16_t field;		/* offsetof(struct cpython_layout, ...), a uint32_t */
};

#define DF(name, at, size_at, member) { name, at, size_at, offsetof(struct cpython_layout, member) }

/* The runtime, interpreter and thread state: the thread state's size at ts, next, current_frame and thread_id */
#define DEBUG_FIELDS_THREADS(ts, next, frame, tid)				\
	DF("runtime_state.interpreters_head", 40, 24, runtime_interp_head),	\
	DF("interpreter_state.threads_head", 72, 48, interp_threads_head),	\
	DF("thread_state.next", next, ts, tstate_next),			\
	DF("thread_state.current_frame", frame, ts, tstate_frame),		\
	DF("thread_state.thread_id", tid, ts, tstate_thread_id)

static const struct debug_field debug_fields_313[] = {
	DEBUG_FIELDS_THREADS(152, 168, 184, 192),
	DF("interpreter_state.imports_modules", 88, 48, interp_modules),
	DF("interpreter_frame.previous", 232, 224, frame_back),
	DF("interpreter_frame.executable", 240, 224, frame_code),
	DF("interpreter_frame.instr_ptr", 248, 224, frame_pos),
	DF("interpreter_frame.localsplus", 256, 224, frame_localsplus),
	DF("interpreter_frame.localsplus", 256, 224, frame_stack),
	DF("interpreter_frame.owner", 264, 224, frame_owner),
	DF("code_object.filename", 280, 272, code_filename),
	DF("code_object.name", 288, 272, code_name),
	DF("code_object.qualname", 296, 272, code_qualname),
	DF("code_object.linetable", 304, 272, code_linetable),
	DF("code_object.firstlineno", 312, 272, code_firstlineno),
	DF("code_object.co_code_adaptive", 344, 272, code_adaptive),
	DF("type_object.tp_name", 376, 368, tp_name),
	DF("type_object.tp_flags", 392, 368, tp_flags),
	DF("tuple_object.ob_item", 408, 400, tuple_items),
	DF("list_object.ob_item", 432, 424, list_items),
	DF("list_object.ob_size", 440, 424, var_size),
	DF("dict_object.ma_keys", 456, 448, dict_keys),
	DF("dict_object.ma_values", 464, 448, dict_values),
	DF("long_object.lv_tag", 496, 488, long_size),
	DF("long_object.ob_digit", 504, 488, long_digits),
	DF("bytes_object.ob_size", 520, 512, bytes_size),
	DF("bytes_object.ob_sval", 528, 512, bytes_data),
	DF("unicode_object.state", 544, 536, str_state),
	DF("unicode_object.length", 552, 536, str_length),
};

/* 3.14 and 3.15 differ from the thread state on; "at" is 3.14's, shifted by (d) bytes */
#define DEBUG_FIELDS_314(d)							\
	DF("interpreter_state.imports_modules", 96, 48, interp_modules),	\
	DF("interpreter_frame.previous", 256 + (d), 248 + (d), frame_back),	\
	DF("interpreter_frame.executable", 264 + (d), 248 + (d), frame_code),	\
	DF("interpreter_frame.instr_ptr", 272 + (d), 248 + (d), frame_pos),	\
	DF("interpreter_frame.localsplus", 280 + (d), 248 + (d), frame_localsplus), \
	DF("interpreter_frame.localsplus", 280 + (d), 248 + (d), frame_stack),	\
	DF("interpreter_frame.owner", 288 + (d), 248 + (d), frame_owner),	\
	DF("interpreter_frame.stackpointer", 296 + (d), 248 + (d), frame_stack_pointer), \
	DF("code_object.filename", 320 + (d), 312 + (d), code_filename),	\
	DF("code_object.name", 328 + (d), 312 + (d), code_name),		\
	DF("code_object.qualname", 336 + (d), 312 + (d), code_qualname),	\
	DF("code_object.linetable", 344 + (d), 312 + (d), code_linetable),	\
	DF("code_object.firstlineno", 352 + (d), 312 + (d), code_firstlineno),	\
	DF("code_object.co_code_adaptive", 384 + (d), 312 + (d), code_adaptive)

static const struct debug_field debug_fields_314[] = {
	DEBUG_FIELDS_THREADS(176, 192, 208, 216),
	DEBUG_FIELDS_314(0),
	DF("type_object.tp_name", 424, 416, tp_name),
	DF("type_object.tp_flags", 440, 416, tp_flags),
	DF("tuple_object.ob_item", 456, 448, tuple_items),
	DF("list_object.ob_item", 480, 472, list_items),
	DF("list_object.ob_size", 488, 472, var_size),
	DF("set_object.table", 512, 496, set_table),
	DF("set_object.mask", 520, 496, set_mask),
	DF("dict_object.ma_keys", 536, 528, dict_keys),
	DF("dict_object.ma_values", 544, 528, dict_values),
	DF("long_object.lv_tag", 576, 568, long_size),
	DF("long_object.ob_digit", 584, 568, long_digits),
	DF("bytes_object.ob_size", 600, 592, bytes_size),
	DF("bytes_object.ob_sval", 608, 592, bytes_data),
	DF("unicode_object.state", 624, 616, str_state),
	DF("unicode_object.length", 632, 616, str_length),
	DF("gen_object.gi_iframe", 680, 664, coro_iframe),
	DF("gen_object.gi_frame_state", 688, 664, coro_frame_state),
};

static const struct debug_field debug_fields_315[] = {
	DEBUG_FIELDS_THREADS(176, 192, 208, 240),
	DEBUG_FIELDS_314(64),
	DF("type_object.tp_name", 488, 480, tp_name),
	DF("type_object.tp_flags", 504, 480, tp_flags),
	DF("tuple_object.ob_item", 552, 544, tuple_items),
	DF("list_object.ob_item", 576, 568, list_items),
	DF("list_object.ob_size", 584, 568, var_size),
	DF("set_object.table", 608, 592, set_table),
	DF("set_object.mask", 616, 592, set_mask),
	DF("dict_object.ma_keys", 632, 624, dict_keys),
	DF("dict_object.ma_values", 640, 624, dict_values),
	DF("long_object.lv_tag", 672, 664, long_size),
	DF("long_object.ob_digit", 680, 664, long_digits),
	DF("bytes_object.ob_size", 696, 688, bytes_size),
	DF("bytes_object.ob_sval", 704, 688, bytes_data),
	DF("unicode_object.state", 720, 712, str_state),
	DF("unicode_object.length", 728, 712, str_length),
	DF("gen_object.gi_iframe", 808, 792, coro_iframe),
	DF("gen_object.gi_frame_state", 816, 792, coro_frame_state),
};

#define FIELDS(a) a, sizeof(a) / sizeof(a[0])

/* Each version's _Py_DebugOffsets: its size and the values inflight takes from it. */
static const struct debug_layout {
	unsigned int minor;
	size_t size;
	const struct debug_field *fields;
	size_t n;
} debug_layouts[] = {
	{ 13, 584, FIELDS(debug_fields_313) },
	{ 14, 760, FIELDS(debug_fields_314) },
	{ 15, 888, FIELDS(debug_fields_315) },
};

_Static_assert(CPYTHON_DEBUG_OFFSETS_READ >= 888, "room for the largest _Py_DebugOffsets");

static const struct debug_layout *debug_layout_of(unsigned int minor)
{
	size_t i;

	for (i = 0; i < sizeof(debug_layouts) / sizeof(debug_layouts[0]); i++)
		if (debug_layouts[i].minor == minor)
			return &debug_layouts[i];
	return NULL;
}

int cpython_debug_field(unsigned int minor, size_t i, const char **name, unsigned int *at,
			unsigned int *size_at)
{
	const struct debug_layout *d = debug_layout_of(minor);

	if (!d || i >= d->n)
		return -ENOENT;
	*name = d->fields[i].name;
	*at = d->fields[i].at;
	*size_at = d->fields[i].size_at;
	return 0;
}

size_t cpython_debug_offsets_size(unsigned int minor)
{
	const struct debug_layout *d = debug_layout_of(minor);

	return d ? d->size : 0;
}

static uint64_t u64_at(const uint8_t *p, size_t at)
{
	uint64_t v;

	memcpy(&v, p + at, sizeof(v));
	return v;
}

/* Structs inflight reads whole are under 1 MiB; an offset must fall inside its struct. */
#define MAX_STRUCT_SIZE (1u << 20)

static int take_published(const struct debug_layout *d, const uint8_t *blob,
			  struct cpython_layout *l, char *why, size_t size)
{
	uint64_t value, section;
	size_t i;

	for (i = 0; i < d->n; i++) {
		value = u64_at(blob, d->fields[i].at);
		section = u64_at(blob, d->fields[i].size_at);
		if (section == 0 || section > MAX_STRUCT_SIZE || value >= section) {
			snprintf(why, size, "its _Py_DebugOffsets says %s is at %llu in a struct of "
				 "%llu bytes: not a layout inflight can trust", d->fields[i].name,
				 (unsigned long long)value, (unsigned long long)section);
			return -ENOTSUP;
		}
		memcpy((uint8_t *)l + d->fields[i].field, &(uint32_t){ (uint32_t)value },
		       sizeof(uint32_t));
	}
	return 0;
}

/*
 * The target's own _Py_DebugOffsets, once it is 3.<minor>'s (cookie and
 * version) of a build inflight can read (not free-threaded).
 */
static int apply_debug_offsets(unsigned int minor, const uint8_t *blob, size_t len,
			       struct cpython_layout *l, char *why, size_t size)
{
	const struct debug_layout *d = debug_layout_of(minor);
	uint64_t version;

	if (!d || !blob || len < d->size || memcmp(blob, "xdebugpy", 8)) {
		snprintf(why, size, "no _Py_DebugOffsets at _PyRuntime: not the CPython %s it claims",
			 l->version);
		return -ENOTSUP;
	}
	version = u64_at(blob, 8);
	if ((version >> 24) != 3 || ((version >> 16) & 0xff) != minor) {
		snprintf(why, size, "its _Py_DebugOffsets says version %#llx, not %s",
			 (unsigned long long)version, l->version);
		return -ENOTSUP;
	}
	if (u64_at(blob, 16)) {
		snprintf(why, size, "a free-threaded build (CPython %st): inflight does not read its "
			 "tasks yet; connections are traced", l->version);
		return -ENOTSUP;
	}
	return take_published(d, blob, l, why, size);
}

int cpython_layout_build(unsigned int minor, const uint8_t *debug, size_t len,
			 struct cpython_layout *out, char *why, size_t size)
{
	const struct cpython_layout *table = cpython_layout_table(minor);

	if (!table) {
		snprintf(why, size, "CPython 3.%u is not supported (%s are)", minor,
			 cpython_supported_versions());
		return -ENOTSUP;
	}
	*out = *table;
	if (table->has_debug_offsets)
		return apply_debug_offsets(minor, debug, len, out, why, size);
	return 0;
}

/* Modules/_asynciomodule.c: Py_AsyncioModuleDebugOffsets, 13 uint64_t */
enum asyncio_debug_at {
	AD_TASK_SIZE = 0, AD_TASK_NAME = 8, AD_TASK_AWAITED_BY = 16, AD_TASK_IS_TASK = 24,
	AD_TASK_AWAITED_BY_IS_SET = 32, AD_TASK_CORO = 40, AD_TASK_NODE = 48,
	AD_INTERP_SIZE = 56, AD_INTERP_TASKS_HEAD = 64,
	AD_TSTATE_SIZE = 72, AD_TSTATE_RUNNING_LOOP = 80, AD_TSTATE_RUNNING_TASK = 88,
	AD_TSTATE_TASKS_HEAD = 96,
};

static uint64_t field_end(uint64_t end, uint32_t offset, uint32_t size)
{
	return (uint64_t)offset + size > end ? (uint64_t)offset + size : end;
}

/* Where the Task fields the section does not publish (the table's) end: a Task holds them all. */
static uint64_t unpublished_task_end(const struct cpython_layout *l)
{
	uint64_t end = field_end(0, l->task_state, 4);

	end = field_end(end, l->fut_loop, 8);
	end = field_end(end, l->fut_callback0, 8);
	end = field_end(end, l->fut_callbacks, 8);
	return field_end(end, l->task_fut_waiter, 8);
}

int cpython_layout_apply_asyncio(struct cpython_layout *l, const uint8_t *sec, size_t len,
				 char *why, size_t size)
{
	uint64_t task = len >= CPYTHON_ASYNCIO_DEBUG_SIZE ? u64_at(sec, AD_TASK_SIZE) : 0;
	uint64_t interp = task ? u64_at(sec, AD_INTERP_SIZE) : 0;
	uint64_t tstate = task ? u64_at(sec, AD_TSTATE_SIZE) : 0;
	uint64_t name = 0, coro = 0, node = 0, head = 0, running = 0, thead = 0;

	if (task) {
		name = u64_at(sec, AD_TASK_NAME), coro = u64_at(sec, AD_TASK_CORO);
		node = u64_at(sec, AD_TASK_NODE), head = u64_at(sec, AD_INTERP_TASKS_HEAD);
		running = u64_at(sec, AD_TSTATE_RUNNING_TASK);
		thead = u64_at(sec, AD_TSTATE_TASKS_HEAD);
	}
	if (!l->has_asyncio_debug || task < unpublished_task_end(l) || task > 1024 ||
	    interp > MAX_STRUCT_SIZE ||
	    tstate > MAX_STRUCT_SIZE || name + 8 > task || coro + 8 > task || node + 16 > task ||
	    head + 16 > interp || running + 8 > tstate || thead + 16 > tstate) {
		snprintf(why, size, "_asyncio's .AsyncioDebug section is not one CPython %s writes",
			 l->version);
		return -ENOTSUP;
	}
	l->task_basicsize = (uint32_t)task;
	l->task_name = (uint32_t)name;
	l->task_coro = (uint32_t)coro;
	l->task_node = (uint32_t)node;
	l->interp_tasks_head = (uint32_t)head;
	l->tstate_running_task = (uint32_t)running;
	l->tstate_tasks_head = (uint32_t)thead;
	return 0;
}
