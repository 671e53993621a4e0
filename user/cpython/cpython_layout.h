/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Everything inflight knows about how one CPython version lays out its
 * objects, as data: offsets, the values of its enums and flags, and
 * capabilities (how frames are reached, how the task registry is kept...).
 * Only cpython_layout.c knows which version has which; everything else reads
 * a struct cpython_layout. Values come from each version's headers and
 * Modules/_asynciomodule.c (x86-64); tests/unit/layout_offsets.c checks them
 * against the installed headers with offsetof, and each target is checked at
 * attach against its Task basicsize and, where published, _Py_DebugOffsets.
 */
#ifndef INFLIGHT_CPYTHON_LAYOUT_H
#define INFLIGHT_CPYTHON_LAYOUT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The versions there is a table for: 3.<OLDEST> to 3.<NEWEST>. */
#define CPYTHON_OLDEST_MINOR 9
#define CPYTHON_NEWEST_MINOR 15
#define CPYTHON_STR_(x) #x
#define CPYTHON_STR(x) CPYTHON_STR_(x)
#define CPYTHON_VERSIONS \
	"3." CPYTHON_STR(CPYTHON_OLDEST_MINOR) " to 3." CPYTHON_STR(CPYTHON_NEWEST_MINOR)

/* How a thread's current frame is reached, and what a frame is. */
enum cpy_frames {
	CPY_FRAME_OBJECTS,	/* tstate->frame: a chain of PyFrameObject */
	CPY_FRAME_VIA_CFRAME,	/* tstate->cframe->current_frame: _PyInterpreterFrame */
	CPY_FRAME_DIRECT,	/* tstate->current_frame: _PyInterpreterFrame */
};

/* Where a PyFrameObject keeps the top of its value stack. */
enum cpy_frame_stack {
	CPY_STACK_TOP_POINTER,	/* f_stacktop, NULL while the frame runs; no f_state */
	CPY_STACK_DEPTH,	/* a base and a depth (and a frame state elsewhere) */
	CPY_STACK_POINTER,	/* a base and stackpointer, just past the top (3.14+) */
};

/* Where the pending tasks of a process are listed. */
enum task_registry {
	TASKS_IN_WEAKSET,	/* _asyncio's module dict: a WeakSet (and a set of eager ones) */
	TASKS_IN_THREAD_LISTS,	/* a linked list per thread, and the interpreter's (3.14+) */
};

enum line_table_format {
	LINES_LNOTAB_39,	/* co_lnotab: (byte delta, line delta) pairs, byte offsets */
	LINES_LINETABLE_310,	/* co_linetable, PEP 626: (byte delta, line delta) pairs */
	LINES_LOCATIONS_311,	/* co_linetable, the 3.11 location table (Objects/locations.md) */
};

/* How a dict keys object says where its entries are. */
enum dict_keys_format {
	DICT_KEYS_SIZED,	/* dk_size slots; every entry { hash, key, value } */
	DICT_KEYS_KINDED,	/* dk_log2_index_bytes and dk_kind (unicode entries: { key, value }) */
};

/* Where an instance of a Py_TPFLAGS_MANAGED_DICT type keeps its attributes. */
enum managed_dict_format {
	MANAGED_DICT_NONE,		/* no such flag: tp_dictoffset */
	MANAGED_VALUES_POINTER,		/* values pointer and dict in the two words before */
	MANAGED_DICT_OR_VALUES,		/* one word before: a dict, or values tagged with bit 0 */
	MANAGED_INLINE_VALUES,		/* a dict word before, else values inline after the object */
};

/* An owner no frame has: for a kind of frame the version does not have */
#define CPY_NO_OWNER 0xff

struct cpython_layout {
	const char *version;		/* "3.11" */
	uint32_t task_basicsize;	/* sizeof(TaskObj): the layout's fingerprint */
	bool task_type_from_spec;	/* _asyncio.Task is made from a PyType_Spec, not static */
	bool has_debug_offsets;		/* _PyRuntime starts with _Py_DebugOffsets */
	bool has_asyncio_debug;		/* _asyncio publishes its offsets in .AsyncioDebug */
	enum task_registry registry;
	/* TASKS_IN_WEAKSET: a WeakSet of tasks, and a set of eager ones (NULL if none) */
	const char *registry_weakset, *registry_eager_set;
	/* TASKS_IN_THREAD_LISTS: list heads, and the list node in a Task */
	uint32_t tstate_tasks_head, interp_tasks_head, task_node;
	uint32_t tstate_running_task;	/* the task running on a thread now */

	/* threads and frames, as the BPF side walks them */
	enum cpy_frames frames;
	uint32_t runtime_interp_head;	/* _PyRuntime.interpreters.head */
	uint32_t interp_threads_head;	/* PyInterpreterState.tstate_head / threads.head */
	uint32_t tstate_next, tstate_thread_id;
	uint32_t tstate_frame;		/* frame / cframe / current_frame */
	uint32_t cframe_current_frame;
	uint32_t frame_code;		/* f_code / f_executable */
	uint32_t frame_back;		/* f_back / previous */
	uint32_t frame_pos;		/* f_lasti (an int) / prev_instr / instr_ptr */
	uint32_t frame_owner;		/* _PyInterpreterFrame.owner */
	uint32_t frame_gen;		/* PyFrameObject.f_gen */
	uint8_t owned_by_generator;	/* enum _frameowner: a coroutine's frame */
	uint8_t first_shim_owner;	/* owners from here up: entry shims with no code of their own */
	uint64_t stackref_tag_bits;	/* low bits of a frame's _PyStackRef that are tags (3.14+) */
	uint32_t coro_iframe;		/* cr_iframe: the frame inside the coroutine */
	uint32_t coro_qualname;

	/* code objects */
	uint32_t code_filename, code_name, code_qualname;	/* qualname 0 where there is none */
	uint32_t code_firstlineno;
	uint32_t code_linetable;	/* co_lnotab / co_linetable */
	uint32_t code_adaptive;		/* co_code_adaptive: where instructions start */
	enum line_table_format lines;
	/* strings: PyASCIIObject.length/state, and where compact data starts */
	uint32_t str_length, str_state, str_ascii_data, str_compact_data;
	uint32_t bytes_size, bytes_data;	/* PyBytesObject ob_size, ob_sval */

	/* futures and tasks */
	uint32_t fut_loop, fut_callback0, fut_callbacks;
	uint32_t task_state;		/* fut_state: 0 pending, 1 cancelled, 2 finished */
	uint32_t task_coro, task_name, task_fut_waiter;
	uint32_t futureiter_future;	/* what "await future" leaves on the stack */
	uint32_t wakeup_task;		/* TaskWakeupMethWrapper.ww_task, where there is one */

	/* snapshots: reading a process's tasks from its memory (task_snapshot.c) */
	uint32_t interp_modules;	/* sys.modules: PyInterpreterState.modules / imports.modules */
	uint32_t module_dict;		/* PyModuleObject.md_dict */
	uint32_t func_qualname, func_closure;	/* PyFunctionObject */
	uint32_t cfunc_ml, cfunc_self;	/* PyCFunctionObject */
	uint32_t method_func, method_self;	/* PyMethodObject */
	uint32_t weakref_object, cell_ref;	/* PyWeakReference.wr_object, PyCellObject.ob_ref */
	uint32_t socket_fd;		/* PySocketSockObject.sock_fd, an int */
	uint32_t coro_frame;		/* cr_frame, a PyFrameObject * */
	uint32_t coro_frame_state;	/* cr_frame_state, an int8 */
	int8_t frame_created, frame_suspended_min, frame_suspended_max;	/* frame states */
	int8_t frame_executing;
	int8_t frame_awaiting;		/* suspended in a yield from / await: its target on the stack */
	uint8_t await_slot;		/* that target's slot, counted down from the top (1 = top) */
	enum cpy_frame_stack frame_stack_kind;
	uint32_t frame_state;		/* PyFrameObject.f_state */
	uint32_t frame_stack;		/* f_stacktop / f_valuestack / localsplus */
	uint32_t frame_valuestack;	/* the bottom of the stack when frame_stack is its top */
	uint32_t frame_stack_depth;	/* f_stackdepth / stacktop */
	uint32_t frame_stack_pointer;	/* stackpointer (CPY_STACK_POINTER) */
	uint32_t frame_localsplus;	/* the first local ("self" of a method) */

	/* containers (py_containers.c) */
	uint32_t tp_name, tp_basicsize, tp_flags, tp_base, tp_dictoffset;
	uint32_t tp_dealloc, tp_init, tp_finalize;
	uint32_t type_cached_keys;	/* PyHeapTypeObject.ht_cached_keys */
	uint64_t tpflags_managed_dict, tpflags_inline_values;	/* 0 where there is none */
	enum managed_dict_format managed_dict;
	int32_t managed_dict_at, managed_values_at;	/* before the object: negative */
	uint32_t dict_keys, dict_values;	/* PyDictObject ma_keys, ma_values */
	enum dict_keys_format dict_keys_format;
	uint32_t dk_size, dk_log2_index_bytes, dk_kind, dk_nentries, dk_indices;
	uint32_t dict_values_items;	/* where a split table's values start in PyDictValues */
	uint32_t dict_values_valid;	/* PyDictValues.valid: inline values in use */
	uint32_t set_mask, set_table, set_entry_size;
	uint32_t var_size, tuple_items, list_items;	/* ob_size; ob_item */
	bool long_tagged;		/* lv_tag holds the digit count and the sign */
	uint32_t long_size, long_digits;	/* ob_size or lv_tag; ob_digit */
};

/* The table for CPython 3.<minor>, or NULL if that version is not supported. */
const struct cpython_layout *cpython_layout_table(unsigned int minor);
/* "CPython 3.9 to 3.13" */
const char *cpython_supported_versions(void);

/* The bytes at the start of _PyRuntime cpython_layout_build wants to see. */
#define CPYTHON_DEBUG_OFFSETS_READ 1024
/*
 * A target's layout: the table for 3.<minor>, with every offset the target
 * publishes in the _Py_DebugOffsets at the start of its _PyRuntime (debug,
 * len bytes; NULL if unreadable) taken from there, once its cookie, version
 * and sizes are sane. 0, or -ENOTSUP with why saying what is wrong
 * (a free-threaded build among them).
 */
int cpython_layout_build(unsigned int minor, const uint8_t *debug, size_t len,
			 struct cpython_layout *out, char *why, size_t size);

/*
 * For tests/unit/layout_offsets.c: the i-th value inflight reads from
 * 3.<minor>'s _Py_DebugOffsets (name as "section.member"), its position and
 * its section's size's; -ENOENT past the last. And the struct's size.
 */
int cpython_debug_field(unsigned int minor, size_t i, const char **name, unsigned int *at,
			unsigned int *size_at);
size_t cpython_debug_offsets_size(unsigned int minor);

/* The size of _asyncio's .AsyncioDebug section (3.14+): 13 uint64_t. */
#define CPYTHON_ASYNCIO_DEBUG_SIZE 104
/*
 * The Task, thread and interpreter offsets _asyncio publishes in its
 * .AsyncioDebug section (sec, len bytes), into l after checking them:
 * 0, or -ENOTSUP with why.
 */
int cpython_layout_apply_asyncio(struct cpython_layout *l, const uint8_t *sec, size_t len,
				 char *why, size_t size);

#endif
