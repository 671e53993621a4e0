/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Finding asyncio's Task functions in a stripped _asyncio (or an interpreter
 * with _asyncio built in), without symbols: through the Task type itself.
 * The type's name string "_asyncio.Task" is pointed to by the type's tp_name
 * (a static PyTypeObject) or by its PyType_Spec, as the layout says; from
 * there the tp_init, tp_dealloc and tp_finalize slots are read, as the
 * loader would relocate them.
 */
#ifndef INFLIGHT_TASK_TYPE_FINDER_H
#define INFLIGHT_TASK_TYPE_FINDER_H
#include <stdint.h>
#include "cpython_layout.h"
#include "elf_image.h"

struct task_type {
	uint64_t init;		/* virtual addresses in the file */
	uint64_t dealloc;
	uint64_t finalize;	/* 0 if the slot could not be read: it is optional */
	uint32_t basicsize;
};

/* 0 when one plausible Task type was found, -ENOENT otherwise. */
int find_task_type(struct elf_image *e, const struct cpython_layout *l, struct task_type *out);

#endif
