// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <stddef.h>
#include "cpython_layout.h"

/*
 * Sources: Include/cpython/{pystate,frameobject,code,unicodeobject}.h,
 * Include/internal/pycore_{frame,runtime,interp}.h and
 * Modules/_asynciomodule.c of each version; x86-64 offsets.
 */
static const struct cpython_layout layouts[] = {
	{
		.minor = 9, .task_basicsize = 184,
		.bpf = {
			.frame_kind = PY_FRAMES_LEGACY,
			.runtime_interp_head = 32, .interp_threads_head = 8,
			.tstate_next = 8, .tstate_thread_id = 176, .tstate_frame = 24,
			.frame_code = 32, .frame_back = 24, .frame_pos = 104, .frame_gen = 96,
			.coro_qualname = 56, .task_coro = 152, .task_state = 80,
		},
		.code_filename = 104, .code_name = 112, .code_firstlineno = 40,
		.code_linetable = 120, .lines = LINES_LNOTAB_39,
		.str_length = 16, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
		.task_name = 160,
		.task_fut_waiter = 144,
		.interp_modules = 856, .type_cached_keys = 864, .func_qualname = 104, .func_closure = 48,
		.coro_frame = 16, .frame_stack = 72, .frame_localsplus = 360, .dicts = DICTS_39,
	},
	{
		.minor = 10, .task_basicsize = 192,
		.bpf = {
			.frame_kind = PY_FRAMES_LEGACY,
			.runtime_interp_head = 32, .interp_threads_head = 8,
			.tstate_next = 8, .tstate_thread_id = 176, .tstate_frame = 24,
			.frame_code = 32, .frame_back = 24, .frame_pos = 96, .frame_gen = 88,
			.coro_qualname = 48, .task_coro = 160, .task_state = 88,
		},
		.code_filename = 104, .code_name = 112, .code_firstlineno = 40,
		.code_linetable = 120, .lines = LINES_LINETABLE_310,
		.str_length = 16, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
		.task_name = 168,
		.task_fut_waiter = 152,
		.interp_modules = 856, .type_cached_keys = 872, .func_qualname = 40, .func_closure = 72,
		.coro_frame = 16, .frame_state = 108, .frame_created = -2, .frame_suspended_min = -1,
		.frame_suspended_max = -1, .frame_stack = 64, .frame_stack_depth = 80,
		.frame_localsplus = 352, .dicts = DICTS_39,
	},
	{
		.minor = 11, .task_basicsize = 176,
		.bpf = {
			.frame_kind = PY_FRAMES_CFRAME,
			.runtime_interp_head = 40, .interp_threads_head = 16,
			.tstate_next = 8, .tstate_thread_id = 152, .tstate_frame = 56,
			.cframe_current_frame = 8,
			.frame_code = 32, .frame_back = 48, .frame_pos = 56, .frame_owner = 69,
			.coro_iframe = 80, .coro_qualname = 40, .task_coro = 136, .task_state = 88,
		},
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 72, .code_linetable = 136, .code_adaptive = 184,
		.lines = LINES_LOCATIONS_311,
		.str_length = 16, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
		.task_name = 144,
		.task_fut_waiter = 128,
		.interp_modules = 888, .type_cached_keys = 872, .func_qualname = 40, .func_closure = 72,
		.coro_frame_state = 75, .frame_created = -2, .frame_suspended_min = -1,
		.frame_suspended_max = -1, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72, .dicts = DICTS_311,
	},
	{
		.minor = 12, .task_basicsize = 176,
		.bpf = {
			.frame_kind = PY_FRAMES_CFRAME,
			.runtime_interp_head = 40, .interp_threads_head = 72,
			.tstate_next = 8, .tstate_thread_id = 136, .tstate_frame = 56,
			.cframe_current_frame = 0,
			.frame_code = 0, .frame_back = 8, .frame_pos = 56, .frame_owner = 70,
			.coro_iframe = 72, .coro_qualname = 32, .task_coro = 136, .task_state = 88,
		},
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 192,
		.lines = LINES_LOCATIONS_311,
		.str_length = 16, .str_state = 32, .str_ascii_data = 40, .str_compact_data = 56,
		.task_name = 144,
		.task_fut_waiter = 128,
		.interp_modules = 944, .type_cached_keys = 880, .func_qualname = 40, .func_closure = 72,
		.coro_frame_state = 67, .frame_created = -2, .frame_suspended_min = -1,
		.frame_suspended_max = -1, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72, .dicts = DICTS_311,
	},
	{
		.minor = 13, .task_basicsize = 144,
		.bpf = {
			.frame_kind = PY_FRAMES_DIRECT,
			.runtime_interp_head = 632, .interp_threads_head = 7344,
			.tstate_next = 8, .tstate_thread_id = 152, .tstate_frame = 72,
			.frame_code = 0, .frame_back = 8, .frame_pos = 56, .frame_owner = 70,
			.coro_iframe = 72, .coro_qualname = 32, .task_coro = 120, .task_state = 96,
		},
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 200,
		.lines = LINES_LOCATIONS_311,
		.str_length = 16, .str_state = 32, .str_ascii_data = 40, .str_compact_data = 56,
		.task_name = 128,
		.task_fut_waiter = 112,
		.interp_modules = 7656, .type_cached_keys = 880, .func_qualname = 40, .func_closure = 72,
		.coro_frame_state = 67, .frame_created = -3, .frame_suspended_min = -2,
		.frame_suspended_max = -1, .frame_stack = 72, .frame_stack_depth = 64,
		.frame_localsplus = 72, .dicts = DICTS_313,
	},
};

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* The bytes of a frame the BPF walker reads at once: up to the end of its last field. */
uint32_t cpython_frame_read_size(const struct cpython_layout *l)
{
	const struct py_layout *b = &l->bpf;
	uint32_t end = max_u32(b->frame_code + 8, b->frame_back + 8);

	end = max_u32(end, b->frame_pos + (b->frame_kind == PY_FRAMES_LEGACY ? 4 : 8));
	if (b->frame_kind == PY_FRAMES_LEGACY)
		return max_u32(end, b->frame_gen + 8);
	return max_u32(end, b->frame_owner + 1);
}

const struct cpython_layout *cpython_layout_for(unsigned int minor)
{
	size_t i;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].minor == minor)
			return &layouts[i];
	return NULL;
}

const char *cpython_supported_versions(void)
{
	return "CPython 3.9 to 3.13";
}
