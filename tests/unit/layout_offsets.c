// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The layout table of the CPython whose headers this is compiled against,
 * field by field with offsetof and the headers' own enums and flags.
 * layout_offsets.sh builds and runs it once per installed version, with
 * -DPy_BUILD_CORE and that version's internal headers. Fields defined in
 * .c files (FutureObj, TaskObj, the socket object; the dict keys object
 * before 3.11, the module object before 3.11) are not here: each target's
 * Task basicsize checks those at attach.
 */
#include <Python.h>
#include <frameobject.h>
#include "pycore_interp.h"
#include "pycore_runtime.h"
#if PY_VERSION_HEX >= 0x030b0000
#include "pycore_code.h"
#include "pycore_dict.h"
#include "pycore_frame.h"
#include "pycore_moduleobject.h"
#endif
#if PY_VERSION_HEX >= 0x030e0000
#include "pycore_debug_offsets.h"
#include "pycore_interpframe.h"
#include "pycore_tstate.h"
#include "pycore_stackref.h"
#endif
#include <stdio.h>
#include <string.h>
#include "cpython_layout.h"

static int checked, failed;

static void expect(const char *what, long long headers, long long table)
{
	checked++;
	if (headers == table)
		return;
	failed++;
	printf("FAIL 3.%d %s: the headers say %lld, the table %lld\n", PY_MINOR_VERSION, what,
	       headers, table);
}

#define AT(field, type, member) expect(#field, offsetof(type, member), l->field)
#define IS(field, value) expect(#field, (long long)(value), (long long)l->field)

static void check_objects(const struct cpython_layout *l)
{
	AT(tp_name, PyTypeObject, tp_name);
	AT(tp_basicsize, PyTypeObject, tp_basicsize);
	AT(tp_dealloc, PyTypeObject, tp_dealloc);
	AT(tp_flags, PyTypeObject, tp_flags);
	AT(tp_base, PyTypeObject, tp_base);
	AT(tp_dictoffset, PyTypeObject, tp_dictoffset);
	AT(tp_init, PyTypeObject, tp_init);
	AT(tp_finalize, PyTypeObject, tp_finalize);
	AT(type_cached_keys, PyHeapTypeObject, ht_cached_keys);
	AT(dict_keys, PyDictObject, ma_keys);
	AT(dict_values, PyDictObject, ma_values);
	AT(set_mask, PySetObject, mask);
	IS(set_entry_size, sizeof(setentry));
	AT(var_size, PyVarObject, ob_size);
	AT(tuple_items, PyTupleObject, ob_item);
	AT(set_table, PySetObject, table);
	AT(list_items, PyListObject, ob_item);
	AT(bytes_size, PyBytesObject, ob_base.ob_size);
	AT(bytes_data, PyBytesObject, ob_sval);
	AT(str_length, PyASCIIObject, length);
	AT(str_state, PyASCIIObject, state);
	IS(str_ascii_data, sizeof(PyASCIIObject));
	IS(str_compact_data, sizeof(PyCompactUnicodeObject));
	AT(weakref_object, PyWeakReference, wr_object);
	AT(cell_ref, PyCellObject, ob_ref);
	AT(cfunc_ml, PyCFunctionObject, m_ml);
	AT(cfunc_self, PyCFunctionObject, m_self);
	AT(method_func, PyMethodObject, im_func);
	AT(method_self, PyMethodObject, im_self);
	AT(func_qualname, PyFunctionObject, func_qualname);
	AT(func_closure, PyFunctionObject, func_closure);
	AT(coro_qualname, PyCoroObject, cr_qualname);
#if PY_VERSION_HEX >= 0x030c0000
	IS(long_tagged, 1);
	AT(long_size, PyLongObject, long_value.lv_tag);
	AT(long_digits, PyLongObject, long_value.ob_digit);
#else
	IS(long_tagged, 0);
	AT(long_size, PyLongObject, ob_base.ob_size);
	AT(long_digits, PyLongObject, ob_digit);
#endif
#ifdef Py_TPFLAGS_MANAGED_DICT
	IS(tpflags_managed_dict, Py_TPFLAGS_MANAGED_DICT);
#else
	IS(tpflags_managed_dict, 0);
#endif
#ifdef Py_TPFLAGS_INLINE_VALUES
	IS(tpflags_inline_values, Py_TPFLAGS_INLINE_VALUES);
#else
	IS(tpflags_inline_values, 0);
#endif
}

static void check_code(const struct cpython_layout *l)
{
	AT(code_filename, PyCodeObject, co_filename);
	AT(code_name, PyCodeObject, co_name);
	AT(code_firstlineno, PyCodeObject, co_firstlineno);
#if PY_VERSION_HEX >= 0x030b0000
	AT(code_qualname, PyCodeObject, co_qualname);
	AT(code_adaptive, PyCodeObject, co_code_adaptive);
#else
	IS(code_qualname, 0);
#endif
#if PY_VERSION_HEX >= 0x030a0000
	AT(code_linetable, PyCodeObject, co_linetable);
#else
	AT(code_linetable, PyCodeObject, co_lnotab);
#endif
}

static void check_threads(const struct cpython_layout *l)
{
	AT(runtime_interp_head, _PyRuntimeState, interpreters.head);
	AT(tstate_next, PyThreadState, next);
	AT(tstate_thread_id, PyThreadState, thread_id);
#if PY_VERSION_HEX >= 0x030b0000
	AT(interp_threads_head, PyInterpreterState, threads.head);
#else
	AT(interp_threads_head, PyInterpreterState, tstate_head);
#endif
#if PY_VERSION_HEX >= 0x030c0000
	AT(interp_modules, PyInterpreterState, imports.modules);
#else
	AT(interp_modules, PyInterpreterState, modules);
#endif
#if PY_VERSION_HEX >= 0x030e0000
	IS(registry, TASKS_IN_THREAD_LISTS);
	AT(tstate_tasks_head, _PyThreadStateImpl, asyncio_tasks_head);
	AT(tstate_running_task, _PyThreadStateImpl, asyncio_running_task);
	AT(interp_tasks_head, PyInterpreterState, asyncio_tasks_head);
#else
	IS(registry, TASKS_IN_WEAKSET);
#endif
#if PY_VERSION_HEX >= 0x030d0000
	IS(frames, CPY_FRAME_DIRECT);
	AT(tstate_frame, PyThreadState, current_frame);
#elif PY_VERSION_HEX >= 0x030b0000
	IS(frames, CPY_FRAME_VIA_CFRAME);
	AT(tstate_frame, PyThreadState, cframe);
	AT(cframe_current_frame, _PyCFrame, current_frame);
#else
	IS(frames, CPY_FRAME_OBJECTS);
	AT(tstate_frame, PyThreadState, frame);
#endif
}

#if PY_VERSION_HEX >= 0x030b0000
/* _PyInterpreterFrame, inside the coroutine */
static void check_frames(const struct cpython_layout *l)
{
#if PY_VERSION_HEX >= 0x030f0000
	IS(frame_suspended_max, FRAME_SUSPENDED_YIELD_FROM_LOCKED);
#elif PY_VERSION_HEX >= 0x030d0000
	IS(frame_suspended_max, FRAME_SUSPENDED_YIELD_FROM);
#endif
#if PY_VERSION_HEX >= 0x030d0000
	AT(frame_code, _PyInterpreterFrame, f_executable);
	AT(frame_pos, _PyInterpreterFrame, instr_ptr);
	IS(frame_awaiting, FRAME_SUSPENDED_YIELD_FROM);
	IS(frame_executing, FRAME_EXECUTING);
#else
	AT(frame_code, _PyInterpreterFrame, f_code);
	AT(frame_pos, _PyInterpreterFrame, prev_instr);
	IS(frame_suspended_max, FRAME_SUSPENDED);
	IS(frame_awaiting, FRAME_SUSPENDED);
	IS(frame_executing, FRAME_EXECUTING);
#endif
#if PY_VERSION_HEX >= 0x030e0000
	/* every owner from FRAME_OWNED_BY_INTERPRETER up is a shim (_PyFrame_IsIncomplete) */
	IS(first_shim_owner, FRAME_OWNED_BY_INTERPRETER);
	IS(stackref_tag_bits, 3);
	IS(frame_stack_kind, CPY_STACK_POINTER);
	AT(frame_stack_pointer, _PyInterpreterFrame, stackpointer);
	AT(coro_iframe, PyGenObject, gi_iframe);
	AT(coro_frame_state, PyGenObject, gi_frame_state);
#else
#if PY_VERSION_HEX >= 0x030c0000
	IS(first_shim_owner, FRAME_OWNED_BY_CSTACK);
#else
	IS(first_shim_owner, CPY_NO_OWNER);
#endif
	IS(stackref_tag_bits, 0);
	IS(frame_stack_kind, CPY_STACK_DEPTH);
	AT(frame_stack_depth, _PyInterpreterFrame, stacktop);
	AT(coro_iframe, PyCoroObject, cr_iframe);
	AT(coro_frame_state, PyCoroObject, cr_frame_state);
#endif
	AT(frame_back, _PyInterpreterFrame, previous);
	AT(frame_owner, _PyInterpreterFrame, owner);
	AT(frame_stack, _PyInterpreterFrame, localsplus);
	AT(frame_localsplus, _PyInterpreterFrame, localsplus);
	IS(owned_by_generator, FRAME_OWNED_BY_GENERATOR);
	IS(frame_created, FRAME_CREATED);
	IS(frame_suspended_min, FRAME_SUSPENDED);
#if PY_VERSION_HEX < 0x030f0000
	/* 3.15 keeps what a coroutine awaits one slot deeper: not in its headers, so the
	 * integration tests check it against python -m asyncio ps */
	IS(await_slot, 1);
#endif
}
#else
/* PyFrameObject, which the coroutine points to */
static void check_frames(const struct cpython_layout *l)
{
	AT(frame_code, PyFrameObject, f_code);
	AT(frame_back, PyFrameObject, f_back);
	AT(frame_pos, PyFrameObject, f_lasti);
	AT(frame_gen, PyFrameObject, f_gen);
	AT(frame_localsplus, PyFrameObject, f_localsplus);
	AT(coro_frame, PyCoroObject, cr_frame);
#if PY_VERSION_HEX >= 0x030a0000
	IS(frame_stack_kind, CPY_STACK_DEPTH);
	AT(frame_stack, PyFrameObject, f_valuestack);
	AT(frame_stack_depth, PyFrameObject, f_stackdepth);
	AT(frame_state, PyFrameObject, f_state);
	IS(frame_created, FRAME_CREATED);
	IS(frame_suspended_min, FRAME_SUSPENDED);
	IS(frame_suspended_max, FRAME_SUSPENDED);
#else
	IS(frame_stack_kind, CPY_STACK_TOP_POINTER);
	AT(frame_stack, PyFrameObject, f_stacktop);
	AT(frame_valuestack, PyFrameObject, f_valuestack);
#endif
}
#endif

#if PY_VERSION_HEX >= 0x030b0000
static void check_dicts(const struct cpython_layout *l)
{
	IS(dict_keys_format, DICT_KEYS_KINDED);
	AT(dk_log2_index_bytes, PyDictKeysObject, dk_log2_index_bytes);
	AT(dk_kind, PyDictKeysObject, dk_kind);
	AT(dk_nentries, PyDictKeysObject, dk_nentries);
	AT(dk_indices, PyDictKeysObject, dk_indices);
	AT(dict_values_items, PyDictValues, values);
#if PY_VERSION_HEX >= 0x030d0000
	AT(dict_values_valid, PyDictValues, valid);
#endif
	AT(module_dict, PyModuleObject, md_dict);
}
#else
static void check_dicts(const struct cpython_layout *l)
{
	IS(dict_keys_format, DICT_KEYS_SIZED);
}
#endif

#if PY_VERSION_HEX >= 0x030d0000
/* A value of _Py_DebugOffsets: its position, and its section's size's */
#define POS(section, member) \
	{ #section "." #member, offsetof(_Py_DebugOffsets, section.member), \
	  offsetof(_Py_DebugOffsets, section.size) }

static const struct { const char *name; size_t at, size_at; } positions[] = {
	POS(runtime_state, interpreters_head), POS(interpreter_state, threads_head),
	POS(interpreter_state, imports_modules), POS(thread_state, next),
	POS(thread_state, current_frame), POS(thread_state, thread_id),
	POS(interpreter_frame, previous), POS(interpreter_frame, executable),
	POS(interpreter_frame, instr_ptr), POS(interpreter_frame, localsplus),
	POS(interpreter_frame, owner), POS(code_object, filename), POS(code_object, name),
	POS(code_object, qualname), POS(code_object, linetable), POS(code_object, firstlineno),
	POS(code_object, co_code_adaptive), POS(type_object, tp_name), POS(type_object, tp_flags),
	POS(tuple_object, ob_item), POS(list_object, ob_item), POS(list_object, ob_size),
	POS(dict_object, ma_keys), POS(dict_object, ma_values), POS(long_object, lv_tag),
	POS(long_object, ob_digit), POS(bytes_object, ob_size), POS(bytes_object, ob_sval),
	POS(unicode_object, state), POS(unicode_object, length),
#if PY_VERSION_HEX >= 0x030e0000
	POS(interpreter_frame, stackpointer), POS(set_object, table), POS(set_object, mask),
	POS(gen_object, gi_iframe), POS(gen_object, gi_frame_state),
#endif
};

/* Where cpython_layout.c reads the target's _Py_DebugOffsets, against the headers' struct */
static void check_debug_offsets(const struct cpython_layout *l)
{
	const char *name;
	unsigned int at, size_at;
	size_t i, k;

	IS(has_debug_offsets, 1);
	expect("sizeof(_Py_DebugOffsets)", sizeof(_Py_DebugOffsets),
	       cpython_debug_offsets_size(PY_MINOR_VERSION));
	expect("_PyRuntime.debug_offsets", offsetof(_PyRuntimeState, debug_offsets), 0);
	for (i = 0; !cpython_debug_field(PY_MINOR_VERSION, i, &name, &at, &size_at); i++) {
		for (k = 0; k < sizeof(positions) / sizeof(positions[0]); k++)
			if (!strcmp(positions[k].name, name))
				break;
		if (k == sizeof(positions) / sizeof(positions[0])) {
			expect(name, -1, at);	/* read by inflight, not checked here */
			continue;
		}
		expect(name, positions[k].at, at);
		expect(name, positions[k].size_at, size_at);
	}
}
#else
static void check_debug_offsets(const struct cpython_layout *l)
{
	IS(has_debug_offsets, 0);
}
#endif

int main(void)
{
	const struct cpython_layout *l = cpython_layout_table(PY_MINOR_VERSION);

	if (!l) {
		printf("FAIL 3.%d: no table for a version the headers are of\n", PY_MINOR_VERSION);
		return 1;
	}
	check_objects(l);
	check_code(l);
	check_threads(l);
	check_frames(l);
	check_dicts(l);
	check_debug_offsets(l);
	printf("%s 3.%d: %d of %d table entries match %s's headers\n", failed ? "FAIL" : "ok",
	       PY_MINOR_VERSION, checked - failed, checked, PY_VERSION);
	return failed ? 1 : 0;
}
