// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The snapshot reader (user/cpython/task_snapshot.c, and py_objects.c,
 * py_containers.c, code_lines.c under it), and a sampler's repeated reads
 * following it (task numbers included), on a made-up target memory: the
 * input (see snapshot_image.h) is one byte choosing the CPython version,
 * then the image, read through the memory_source seam as a process's
 * memory would be. Cycles, absurd sizes and pointers to nowhere must give
 * a snapshot or an error, never a crash, a hang or unbounded memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cpython_layout.h"
#include "python_target.h"
#include "snapshot_image.h"
#include "task_snapshot.h"
#include "../unit/memory_image.h"

/* a PID no process has: only the image answers for it */
#define FAKE_PID 0x3fffffff

/*
 * The version's table, or for 3.13+ the layout the image's own
 * _Py_DebugOffsets give when they pass the checks; for 3.14+ with the
 * offsets of the .AsyncioDebug section held by the image's last bytes,
 * when they pass theirs (a target whose section does not is not read).
 */
static void layout_of(unsigned int minor, const uint8_t *image, size_t len,
		      struct cpython_layout *l)
{
	char why[256];

	if (cpython_layout_build(minor, image, len, l, why, sizeof(why)))
		*l = *cpython_layout_table(minor);
	if (l->has_asyncio_debug && len >= CPYTHON_ASYNCIO_DEBUG_SIZE)
		cpython_layout_apply_asyncio(l, image + len - CPYTHON_ASYNCIO_DEBUG_SIZE,
					     CPYTHON_ASYNCIO_DEBUG_SIZE, why, sizeof(why));
}

/* Two reads of a sampler dated by the snapshot s: its numbers in order, none dated wrong. */
static void sample_twice(const struct python_target *py, const struct task_snapshot *s)
{
	struct task_sampler *ts = task_sampler_new(py);
	struct task_snapshot r;
	char problem[256];
	size_t i, read;

	if (!ts)
		return;
	task_sampler_follow(ts, s);
	for (read = 0; read < 2; read++) {
		if (!task_sampler_read(ts, py, &r, problem, sizeof(problem))) {
			for (i = 1; i < r.n_serials; i++)
				if (r.serials[i - 1] > r.serials[i])
					abort();
			for (i = 0; i < r.n_tasks; i++)
				if (r.tasks[i].born_after_ns > r.started_ns ||
				    (r.tasks[i].born_after_ns && !r.tasks[i].serial))
					abort();
		}
		task_snapshot_free(&r);
	}
	task_sampler_free(ts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct python_target py;
	unsigned int minor;
	struct memory_image im = { 0 };
	struct task_snapshot s;
	char problem[256];
	size_t i;

	if (size < 2)
		return 0;
	minor = CPYTHON_OLDEST_MINOR + data[0] % (CPYTHON_NEWEST_MINOR - CPYTHON_OLDEST_MINOR + 1);
	data++, size--;
	memset(&py, 0, sizeof(py));
	py.pid = FAKE_PID;
	layout_of(minor, data, size, &py.layout);
	py.runtime_addr = SNAPSHOT_IMAGE_BASE;
	py.none_addr = SNAPSHOT_NONE_ADDR;
	image_map(&im, SNAPSHOT_IMAGE_BASE, data, size);
	if (image_attach(&im, FAKE_PID))
		abort();
	if (!task_snapshot_read(&py, &s, problem, sizeof(problem))) {
		for (i = 1; i < s.n_tasks; i++)
			if (s.tasks[i - 1].addr >= s.tasks[i].addr)
				abort();	/* in address order, each once */
		for (i = 0; i < s.n_tasks; i++)
			if (s.tasks[i].n_frames > SNAPSHOT_MAX_CHAIN)
				abort();
		sample_twice(&py, &s);
	}
	task_snapshot_free(&s);
	image_detach(FAKE_PID);
	return 0;
}
