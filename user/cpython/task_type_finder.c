// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <string.h>
#include "task_type_finder.h"

#define MAX_REFS 8
#define MAX_SLOTS 64

/* Include/object.h: PyType_Spec {name, basicsize, itemsize, flags, slots}; PyType_Slot {slot, pfunc} */
#define SPEC_BASICSIZE 8
#define SPEC_SLOTS 24
#define SLOT_SIZE 16
/* Include/typeslots.h */
#define SLOT_TP_DEALLOC 52
#define SLOT_TP_INIT 60
#define SLOT_TP_FINALIZE 80

static bool plausible_basicsize(int64_t size)
{
	return size >= 64 && size <= 1024;
}

/* A static type: tp_name points to the string, so the type starts tp_name bytes before. */
static int read_static_type(struct elf_image *e, const struct cpython_layout *l, uint64_t name_ref,
			    struct task_type *t)
{
	uint64_t type = name_ref - l->tp_name;
	int64_t basicsize;

	if (elf_image_read(e, type + l->tp_basicsize, &basicsize, sizeof(basicsize)) ||
	    !plausible_basicsize(basicsize) ||
	    elf_image_pointer_at(e, type + l->tp_init, &t->init) ||
	    elf_image_pointer_at(e, type + l->tp_dealloc, &t->dealloc))
		return -ENOENT;
	if (elf_image_pointer_at(e, type + l->tp_finalize, &t->finalize))
		t->finalize = 0;
	t->basicsize = (uint32_t)basicsize;
	return 0;
}

/* A type made from a spec: the spec's name points to the string; its slots hold the functions. */
static int read_type_spec(struct elf_image *e, uint64_t spec, struct task_type *t)
{
	uint64_t slots, pfunc;
	int32_t basicsize, id;
	int i;

	if (elf_image_read(e, spec + SPEC_BASICSIZE, &basicsize, sizeof(basicsize)) ||
	    !plausible_basicsize(basicsize) || elf_image_pointer_at(e, spec + SPEC_SLOTS, &slots))
		return -ENOENT;
	t->init = t->dealloc = t->finalize = 0;
	for (i = 0; i < MAX_SLOTS; i++) {
		if (elf_image_read(e, slots + (uint64_t)i * SLOT_SIZE, &id, sizeof(id)) || id == 0)
			break;
		if (elf_image_pointer_at(e, slots + (uint64_t)i * SLOT_SIZE + 8, &pfunc))
			continue;
		if (id == SLOT_TP_INIT)
			t->init = pfunc;
		else if (id == SLOT_TP_DEALLOC)
			t->dealloc = pfunc;
		else if (id == SLOT_TP_FINALIZE)
			t->finalize = pfunc;
	}
	if (!t->init || !t->dealloc)
		return -ENOENT;
	t->basicsize = (uint32_t)basicsize;
	return 0;
}

int find_task_type(struct elf_image *e, const struct cpython_layout *l, struct task_type *out)
{
	uint64_t name, refs[MAX_REFS];
	struct task_type t;
	int n, i, found = 0;

	if (elf_image_find_string(e, "_asyncio.Task", &name))
		return -ENOENT;
	n = elf_image_pointers_to(e, name, refs, MAX_REFS);
	for (i = 0; i < n; i++) {
		memset(&t, 0, sizeof(t));
		if (l->task_type_from_spec ? read_type_spec(e, refs[i], &t) :
					     read_static_type(e, l, refs[i], &t))
			continue;
		if (found && (t.init != out->init || t.dealloc != out->dealloc))
			return -ENOENT;	/* two different candidates: refuse to guess */
		*out = t;
		found = 1;
	}
	return found ? 0 : -ENOENT;
}
