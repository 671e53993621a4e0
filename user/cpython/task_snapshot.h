/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Every asyncio task of a live CPython process, read from its memory without
 * stopping it or attaching a probe: the registry _asyncio keeps (a WeakSet of
 * tasks, and a set of eager ones where there is one), then per task its
 * name, state, coroutine, await chain and the task awaiting it. A running
 * process changes under the reader: what cannot be read consistently is
 * skipped and counted, never guessed.
 */
#ifndef INFLIGHT_TASK_SNAPSHOT_H
#define INFLIGHT_TASK_SNAPSHOT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SNAPSHOT_MAX_CHAIN 8
/* the most tasks one snapshot reads (each costs about 1.2 KiB while read); the rest are counted */
#define SNAPSHOT_MAX_TASKS (1u << 17)

enum snapshot_state {
	SNAP_PENDING = 0,	/* fut_state values */
	SNAP_CANCELLED = 1,
	SNAP_FINISHED = 2,
};

enum snapshot_awaited_by {
	AWAITED_BY_NONE,
	AWAITED_BY_AWAIT,	/* the parent does "await task" */
	AWAITED_BY_GATHER,	/* the parent awaits a gather() holding this task */
	AWAITED_BY_TASKGROUP,	/* the parent owns the TaskGroup that created this task */
};

enum snapshot_flags {
	SNAP_RUNNING = 1 << 0,		/* its coroutine was executing when read */
	SNAP_CHAIN_CUT = 1 << 1,	/* the await chain is deeper than SNAPSHOT_MAX_CHAIN */
	SNAP_CHANGED = 1 << 2,		/* it moved on while being read: what it awaits may be stale */
	SNAP_CONNECTING = 1 << 3,	/* its socket_fd is a connection it is still setting up */
	SNAP_NOT_STARTED = 1 << 4,	/* its coroutine has not run yet */
};

/* One coroutine of an await chain; strings live as long as the snapshot. */
struct snapshot_frame {
	const char *file;
	const char *function;
	int32_t line;
};

struct snapshot_task {
	uint64_t addr;			/* the Task object: its id() */
	uint64_t coro;			/* its coroutine object */
	uint64_t loop;			/* its event loop's id() */
	uint64_t parent;		/* the awaiting task's addr, 0 if none found */
	const char *coroutine;		/* qualified name, NULL if it has none (finished eagerly) */
	const char *waits_on;		/* what its innermost await waits for: "sleep", "stream
					   read", "Semaphore", "gather", "Task", "Future"... or NULL */
	char name[48];
	/* the number _asyncio gave it in its default name "Task-<n>" (one counter per
	   interpreter, in creation order), 0 if it has another name; a sampler's: 0
	   too where its registry entry's name read otherwise */
	uint64_t serial;
	/* a sampler's: it was created after this read started (monotonic), because that
	   read's registry held no number as high as its own; 0 if no read tells */
	uint64_t born_after_ns;
	int32_t socket_fd;		/* the socket its asyncio stream read (or connect, see
					   SNAP_CONNECTING) waits on, or -1 */
	uint8_t state;			/* enum snapshot_state */
	uint8_t awaited_by;		/* enum snapshot_awaited_by */
	uint8_t flags;			/* enum snapshot_flags */
	uint8_t n_frames;
	struct snapshot_frame frames[SNAPSHOT_MAX_CHAIN];	/* the task's coroutine first */
};

struct task_snapshot {
	pid_t pid;
	const char *python_version;	/* "3.11" */
	char method[96];		/* where the tasks were found */
	struct snapshot_task *tasks;	/* in address order */
	size_t n_tasks;
	size_t unreadable;		/* registry entries that could not be read as tasks, or died
					   or finished while being read: left out */
	size_t changed;			/* tasks that moved on while being read: kept, flagged */
	size_t left_out;		/* registry entries past SNAPSHOT_MAX_TASKS: not read */
	uint64_t started_ns;		/* when the read began (monotonic) */
	/* a sampler's: the numbers (serial) of every registry entry it read, any state,
	   ascending; and how many entries it could give no number (another name, or none read) */
	uint64_t *serials;
	size_t n_serials, unnumbered;
	uint64_t cache_full;		/* reads of code objects and names refused: the reader's caches
					   were full (py_objects.h) */
	bool asyncio_loaded;		/* false: no _asyncio in sys.modules, so no tasks */
	uint64_t read_ns;		/* how long the read took */
	uint64_t paused_ns;		/* how long the process was held still for it, 0 if not */
	void *reader;			/* owns the strings the tasks point to */
};

/*
 * Reads pid's tasks: 0, or -ENOENT (not CPython) / -ENOTSUP (a CPython we
 * cannot read) / -EIO (its memory could not be read), with problem saying why.
 */
int task_snapshot_take(pid_t pid, struct task_snapshot *s, char *problem, size_t size);
/* The same for an interpreter already found (python_target.h): no ELF file read again. */
struct python_target;
int task_snapshot_read(const struct python_target *py, struct task_snapshot *s, char *problem,
		       size_t size);
void task_snapshot_free(struct task_snapshot *s);
/* The task at addr, or NULL. */
const struct snapshot_task *task_snapshot_find(const struct task_snapshot *s, uint64_t addr);
/*
 * The repeated reads of a trace (--sampled): the reader's caches and the
 * tasks already described are kept from one read to the next, so a read
 * costs the registry, a task's coroutine and name, and a full description
 * only of the tasks new since the last (a task at a known address with
 * another coroutine or name is new) and of the known tasks awaiting them.
 * Its snapshots hold those tasks only; their strings live as long as the
 * sampler.
 */
struct task_sampler;
struct task_sampler *task_sampler_new(const struct python_target *py);
int task_sampler_read(struct task_sampler *ts, const struct python_target *py,
		      struct task_snapshot *s, char *problem, size_t size);
/*
 * The read a trace made at attach (s, read by task_snapshot_read): a task of
 * the sampler's first read numbered above all of its tasks was created since.
 */
void task_sampler_follow(struct task_sampler *ts, const struct task_snapshot *s);
/* Describe the task at addr again at the next read, though it has not changed. */
void task_sampler_read_again(struct task_sampler *ts, uint64_t addr);
void task_sampler_free(struct task_sampler *ts);
const char *snapshot_state_name(enum snapshot_state state);
const char *snapshot_awaited_by_name(enum snapshot_awaited_by how);

#endif
