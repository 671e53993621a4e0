// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <string.h>
#include "cpython_bpf.h"

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* The bytes of a frame the BPF walker reads at once: up to the end of its last field. */
static uint32_t frame_read_size(const struct cpython_layout *l)
{
	uint32_t end = max_u32(l->frame_code + 8, l->frame_back + 8);

	if (l->frames == CPY_FRAME_OBJECTS)
		return max_u32(max_u32(end, l->frame_pos + 4), l->frame_gen + 8);
	return max_u32(max_u32(end, l->frame_pos + 8), l->frame_owner + 1);
}

static uint32_t frame_kind(enum cpy_frames frames)
{
	switch (frames) {
	case CPY_FRAME_OBJECTS:
		return PY_FRAMES_LEGACY;
	case CPY_FRAME_VIA_CFRAME:
		return PY_FRAMES_CFRAME;
	case CPY_FRAME_DIRECT:
		return PY_FRAMES_DIRECT;
	}
	return 0;
}

void cpython_bpf_layout(const struct cpython_layout *l, uint64_t runtime_addr,
			struct py_layout *out)
{
	memset(out, 0, sizeof(*out));
	out->runtime_addr = runtime_addr;
	out->frame_kind = frame_kind(l->frames);
	out->runtime_interp_head = l->runtime_interp_head;
	out->interp_threads_head = l->interp_threads_head;
	out->tstate_next = l->tstate_next;
	out->tstate_thread_id = l->tstate_thread_id;
	out->tstate_frame = l->tstate_frame;
	out->cframe_current_frame = l->cframe_current_frame;
	out->frame_code = l->frame_code;
	out->frame_back = l->frame_back;
	out->frame_pos = l->frame_pos;
	out->frame_owner = l->frame_owner;
	out->frame_gen = l->frame_gen;
	out->coro_iframe = l->coro_iframe;
	out->coro_frame = l->coro_frame;
	out->coro_qualname = l->coro_qualname;
	out->task_coro = l->task_coro;
	out->task_state = l->task_state;
	out->frame_read_size = frame_read_size(l);
	out->owned_by_generator = l->owned_by_generator;
	out->first_shim_owner = l->first_shim_owner;
	out->code_tag_bits = (uint8_t)l->stackref_tag_bits;
	out->tuple_items = (uint8_t)l->tuple_items;
}
