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

/*
 * A file as it stands, from fstat: the same device, inode, size and times
 * mean the same bytes, whatever path or mount namespace reached it.
 */
struct file_key {
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

struct python_target {
	pid_t pid;
	struct cpython_layout layout;		/* its version's, checked against it */
	char version[24];			/* "3.11.7" where the binary says, else "3.11" */
	uint64_t runtime_addr;			/* &_PyRuntime in the process */
	uint64_t none_addr;			/* &_Py_NoneStruct: what a dead weakref points to */
	char runtime_file[PATH_MAX];		/* libpython, or the executable */
	struct file_key runtime_key;		/* runtime_file as it stood when read */
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
	bool task_symbols;			/* the Task functions found by their symbols */
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
/*
 * What discovery reads from a build's files is kept for the next process of
 * the same build (see file_facts.h). Counts for tests: lookups answered from
 * what was kept, and those that read the file.
 */
struct file_facts_stats {
	unsigned long hits, misses;
};
void python_file_facts_stats(struct file_facts_stats *out);

/*
 * The interpreter's facts from its runtime file alone, opened as fd (which
 * this closes) and named in its name "3.<minor>"; for tests, and for
 * python_runtime_discover. 0, -ENOENT (no _PyRuntime: not a CPython), or
 * -ENOTSUP with t->problem; fills t's layout, version, runtime_key and the
 * addresses for a file mapped at map_start from map_offset.
 */
int python_runtime_file_read(int fd, const char *name, uint64_t map_start, uint64_t map_offset,
			     struct python_target *t);
/*
 * The Task functions in the file opened as fd (closed by this), named name,
 * for t's layout (python_runtime_file_read first): 0, or -ENOTSUP /
 * -ENOENT with t->problem.
 */
int python_task_file_read(int fd, const char *name, struct python_target *t);

/*
 * How t's build is made, as far as discovery got: where the interpreter is
 * (a shared libpython, or the executable itself) and, once the Task
 * functions were found, whether by symbols or in a stripped file.
 */
void python_target_build(const struct python_target *t, char *buf, size_t size);

/* Cheap check for a later look: has pid mapped an _asyncio module by now? */
bool python_target_asyncio_mapped(pid_t pid);

#endif
