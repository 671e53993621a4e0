/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Finding what task tracking needs in a live CPython process: its version and
 * layout, where _PyRuntime is, and the file offsets of the _asyncio functions
 * to probe. Knows nothing of BPF or of output.
 */
#ifndef INFLIGHT_PYTHON_TARGET_H
#define INFLIGHT_PYTHON_TARGET_H
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "cpython_layout.h"

struct python_target {
	pid_t pid;
	struct cpython_layout layout;		/* its version's, checked against it */
	char version[24];			/* "3.11.7" where the binary says, else "3.11" */
	uint64_t runtime_addr;			/* &_PyRuntime in the process */
	uint64_t none_addr;			/* &_Py_NoneStruct: what a dead weakref points to */
	char runtime_file[PATH_MAX];		/* libpython, or the executable */
	char asyncio_file[PATH_MAX];		/* the file holding _asyncio's code */
	/* the path that reached asyncio_file from here, to attach uprobes by (see mapped_file_open) */
	char asyncio_open[PATH_MAX + 32];
	/* asyncio_file as the kernel knows it, whatever its name in any mount namespace */
	dev_t asyncio_dev;
	uint64_t asyncio_ino;
	uint64_t task_init_offset;		/* file offsets, for uprobes */
	uint64_t task_dealloc_offset;
	uint64_t task_pending_offset;		/* the finalizer's pending path, 0 if not found */
	/* the instruction at each offset, which decides what a hit costs ("" if undecoded) */
	char task_init_insn[48], task_dealloc_insn[48], task_pending_insn[48];
	bool asyncio_debug;			/* offsets from _asyncio's .AsyncioDebug */
	char method[160];			/* how the functions were found */
	char problem[PATH_MAX + 768];		/* why tracking cannot start, when it cannot */
};

/*
 * The interpreter alone (version, layout, _PyRuntime), enough to read the
 * process's objects: 0, or -ENOENT / -ENOTSUP with problem saying why.
 */
int python_runtime_discover(pid_t pid, struct python_target *t);
/*
 * 0 when task tracking can start; otherwise problem says why:
 * -ENOENT not a CPython process, -ENOTSUP a CPython we cannot track,
 * -EAGAIN asyncio is not loaded yet (try again later).
 */
int python_target_discover(pid_t pid, struct python_target *t);
/*
 * Whether pid looks like a Python, hookable or not: its executable is named
 * python*, or it maps a libpython.
 */
bool python_process_lookalike(pid_t pid);
/* Cheap check for a later look: has pid mapped an _asyncio module by now? */
bool python_target_asyncio_mapped(pid_t pid);

#endif
