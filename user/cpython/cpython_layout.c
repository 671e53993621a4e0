// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cpython_layout.h"
#include "debug_offsets_313.h"

/*
 * Sources: Include/{object,cpython/object,cpython/pystate,cpython/frameobject,
 * cpython/code,cpython/unicodeobject,cpython/funcobject}.h,
 * Include/internal/pycore_{frame,runtime,interp,dict,genobject}.h,
 * Objects/dict-common.h (3.9, 3.10) and Modules/_asynciomodule.c of each
 * version; x86-64 offsets.
 */

/* Objects whose layout did not change from 3.9 to 3.13. */
#define STABLE_OBJECTS							\
	.tp_name = 24, .tp_basicsize = 32, .tp_dealloc = 48, .tp_flags = 168,	\
	.tp_base = 256, .tp_dictoffset = 288, .tp_init = 296, .tp_finalize = 392, \
	.dict_keys = 32, .dict_values = 40,				\
	.set_mask = 32, .set_table = 40, .set_entry_size = 16,		\
	.var_size = 16, .tuple_items = 24, .list_items = 24,		\
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

static const struct {
	unsigned int minor;
	struct cpython_layout layout;
} tables[] = {
	{ 9, {
		.version = "3.9", .task_basicsize = 184, STABLE_OBJECTS, DICT_KEYS_SIZED_39,
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
		.frame_suspended_min = -1, .frame_suspended_max = -1,
		.frame_stack_kind = CPY_STACK_DEPTH, .frame_stack = 64, .frame_stack_depth = 80,
		.frame_localsplus = 352,
	} },
	{ 11, {
		.version = "3.11", .task_basicsize = 176, STABLE_OBJECTS, DICT_KEYS_KINDED_311,
		.registry_weakset = "_all_tasks",
		.frames = CPY_FRAME_VIA_CFRAME,
		.runtime_interp_head = 40, .interp_threads_head = 16,
		.tstate_next = 8, .tstate_thread_id = 152, .tstate_frame = 56,
		.cframe_current_frame = 8,
		.frame_code = 32, .frame_back = 48, .frame_pos = 56, .frame_owner = 69,
		.owned_by_generator = 1, .owned_by_cstack = CPY_NO_OWNER,
		.coro_iframe = 80, .coro_qualname = 40,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 72, .code_linetable = 136, .code_adaptive = 184,
		.lines = LINES_LOCATIONS_311,
		.str_ascii_data = 48, .str_compact_data = 72,
		.task_state = 88, .task_coro = 136, .task_name = 144, .task_fut_waiter = 128,
		.interp_modules = 888, .type_cached_keys = 872, .func_qualname = 40,
		.func_closure = 72,
		.coro_frame_state = 75, .frame_created = -2, .frame_suspended_min = -1,
		.frame_suspended_max = -1,
		.frame_stack_kind = CPY_STACK_DEPTH, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72,
		.tpflags_managed_dict = TPFLAGS_MANAGED_DICT, .managed_dict = MANAGED_VALUES_POINTER,
		.managed_dict_at = -24, .managed_values_at = -32,
	} },
	{ 12, {
		.version = "3.12", .task_basicsize = 176, STABLE_OBJECTS, DICT_KEYS_KINDED_311,
		.task_type_from_spec = true,
		.registry_weakset = "_scheduled_tasks", .registry_eager_set = "_eager_tasks",
		.frames = CPY_FRAME_VIA_CFRAME,
		.runtime_interp_head = 40, .interp_threads_head = 72,
		.tstate_next = 8, .tstate_thread_id = 136, .tstate_frame = 56,
		.cframe_current_frame = 0,
		.frame_code = 0, .frame_back = 8, .frame_pos = 56, .frame_owner = 70,
		.owned_by_generator = 1, .owned_by_cstack = 3,
		.coro_iframe = 72, .coro_qualname = 32,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 192,
		.lines = LINES_LOCATIONS_311,
		.str_ascii_data = 40, .str_compact_data = 56,
		.task_state = 88, .task_coro = 136, .task_name = 144, .task_fut_waiter = 128,
		.interp_modules = 944, .type_cached_keys = 880, .func_qualname = 40,
		.func_closure = 72,
		.coro_frame_state = 67, .frame_created = -2, .frame_suspended_min = -1,
		.frame_suspended_max = -1,
		.frame_stack_kind = CPY_STACK_DEPTH, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72,
		.tpflags_managed_dict = TPFLAGS_MANAGED_DICT, .managed_dict = MANAGED_DICT_OR_VALUES,
		.managed_dict_at = -24,
		.long_tagged = true,
	} },
	{ 13, {
		.version = "3.13", .task_basicsize = 144, STABLE_OBJECTS, DICT_KEYS_KINDED_311,
		.task_type_from_spec = true, .has_debug_offsets = true,
		.registry_weakset = "_scheduled_tasks", .registry_eager_set = "_eager_tasks",
		.frames = CPY_FRAME_DIRECT,
		.runtime_interp_head = 632, .interp_threads_head = 7344,
		.tstate_next = 8, .tstate_thread_id = 152, .tstate_frame = 72,
		.frame_code = 0, .frame_back = 8, .frame_pos = 56, .frame_owner = 70,
		.owned_by_generator = 1, .owned_by_cstack = 3,
		.coro_iframe = 72, .coro_qualname = 32,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 200,
		.lines = LINES_LOCATIONS_311,
		.str_ascii_data = 40, .str_compact_data = 56,
		.task_state = 96, .task_coro = 120, .task_name = 128, .task_fut_waiter = 112,
		.interp_modules = 7656, .type_cached_keys = 880, .func_qualname = 40,
		.func_closure = 72,
		.coro_frame_state = 67, .frame_created = -3, .frame_suspended_min = -2,
		.frame_suspended_max = -1,
		.frame_stack_kind = CPY_STACK_DEPTH, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72,
		.tpflags_managed_dict = TPFLAGS_MANAGED_DICT,
		.tpflags_inline_values = TPFLAGS_INLINE_VALUES,
		.managed_dict = MANAGED_INLINE_VALUES, .managed_dict_at = -24,
		.dict_values_items = 8, .dict_values_valid = 3,
		.long_tagged = true,
	} },
};

_Static_assert(sizeof(tables) / sizeof(tables[0]) == CPYTHON_NEWEST_MINOR - CPYTHON_OLDEST_MINOR + 1,
	       "a table per supported version");
_Static_assert(sizeof(struct debug_offsets_313) == CPYTHON_DEBUG_OFFSETS_READ,
	       "_Py_DebugOffsets of 3.13");

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

/* One offset the target publishes, and the table's value for it. */
struct published {
	const char *name;
	uint64_t published, table;
};

static int refuse_mismatch(const struct published *p, size_t n, const char *version, char *why,
			   size_t size)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].published != p[i].table) {
			snprintf(why, size, "its _Py_DebugOffsets says %s is at %llu, the table for %s "
				 "says %llu: a build this version of inflight does not know", p[i].name,
				 (unsigned long long)p[i].published, version,
				 (unsigned long long)p[i].table);
			return -ENOTSUP;
		}
	return 0;
}

/* The offsets inflight uses that 3.13's _Py_DebugOffsets covers (coroutines and tasks it does not). */
static int check_published_313(const struct debug_offsets_313 *d, const struct cpython_layout *l,
			       char *why, size_t size)
{
	const struct published all[] = {
		{ "runtime_state.interpreters_head", d->runtime_state.interpreters_head,
		  l->runtime_interp_head },
		{ "interpreter_state.threads_head", d->interpreter_state.threads_head,
		  l->interp_threads_head },
		{ "interpreter_state.imports_modules", d->interpreter_state.imports_modules,
		  l->interp_modules },
		{ "thread_state.next", d->thread_state.next, l->tstate_next },
		{ "thread_state.current_frame", d->thread_state.current_frame, l->tstate_frame },
		{ "thread_state.thread_id", d->thread_state.thread_id, l->tstate_thread_id },
		{ "interpreter_frame.previous", d->interpreter_frame.previous, l->frame_back },
		{ "interpreter_frame.executable", d->interpreter_frame.executable, l->frame_code },
		{ "interpreter_frame.instr_ptr", d->interpreter_frame.instr_ptr, l->frame_pos },
		{ "interpreter_frame.localsplus", d->interpreter_frame.localsplus, l->frame_localsplus },
		{ "interpreter_frame.localsplus", d->interpreter_frame.localsplus, l->frame_stack },
		{ "interpreter_frame.owner", d->interpreter_frame.owner, l->frame_owner },
		{ "code_object.filename", d->code_object.filename, l->code_filename },
		{ "code_object.name", d->code_object.name, l->code_name },
		{ "code_object.qualname", d->code_object.qualname, l->code_qualname },
		{ "code_object.linetable", d->code_object.linetable, l->code_linetable },
		{ "code_object.firstlineno", d->code_object.firstlineno, l->code_firstlineno },
		{ "code_object.co_code_adaptive", d->code_object.co_code_adaptive, l->code_adaptive },
		{ "type_object.tp_name", d->type_object.tp_name, l->tp_name },
		{ "type_object.tp_flags", d->type_object.tp_flags, l->tp_flags },
		{ "tuple_object.ob_item", d->tuple_object.ob_item, l->tuple_items },
		{ "tuple_object.ob_size", d->tuple_object.ob_size, l->var_size },
		{ "list_object.ob_item", d->list_object.ob_item, l->list_items },
		{ "list_object.ob_size", d->list_object.ob_size, l->var_size },
		{ "dict_object.ma_keys", d->dict_object.ma_keys, l->dict_keys },
		{ "dict_object.ma_values", d->dict_object.ma_values, l->dict_values },
		{ "long_object.lv_tag", d->long_object.lv_tag, l->long_size },
		{ "long_object.ob_digit", d->long_object.ob_digit, l->long_digits },
		{ "bytes_object.ob_size", d->bytes_object.ob_size, l->bytes_size },
		{ "bytes_object.ob_sval", d->bytes_object.ob_sval, l->bytes_data },
		{ "unicode_object.state", d->unicode_object.state, l->str_state },
		{ "unicode_object.length", d->unicode_object.length, l->str_length },
		{ "unicode_object.asciiobject_size", d->unicode_object.asciiobject_size,
		  l->str_ascii_data },
	};

	return refuse_mismatch(all, sizeof(all) / sizeof(all[0]), l->version, why, size);
}

/* The target's own _Py_DebugOffsets must be 3.<minor>'s and agree with the table at every offset used. */
static int check_debug_offsets(unsigned int minor, const uint8_t *blob, size_t len,
			       const struct cpython_layout *l, char *why, size_t size)
{
	struct debug_offsets_313 d;

	if (!blob || len < sizeof(d) || memcmp(blob, "xdebugpy", 8)) {
		snprintf(why, size, "no _Py_DebugOffsets at _PyRuntime: not the CPython %s it claims",
			 l->version);
		return -ENOTSUP;
	}
	memcpy(&d, blob, sizeof(d));
	if ((d.version >> 24) != 3 || ((d.version >> 16) & 0xff) != minor || d.free_threaded) {
		snprintf(why, size, "CPython %#llx%s: not supported", (unsigned long long)d.version,
			 d.free_threaded ? ", free-threaded" : "");
		return -ENOTSUP;
	}
	return check_published_313(&d, l, why, size);
}

int cpython_layout_build(unsigned int minor, const uint8_t *debug, size_t len,
			 struct cpython_layout *out, char *why, size_t size)
{
	const struct cpython_layout *table = cpython_layout_table(minor);
	int err;

	if (!table) {
		snprintf(why, size, "CPython 3.%u is not supported (%s are)", minor,
			 cpython_supported_versions());
		return -ENOTSUP;
	}
	if (table->has_debug_offsets) {
		err = check_debug_offsets(minor, debug, len, table, why, size);
		if (err)
			return err;
	}
	*out = *table;
	return 0;
}
