// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <string.h>
#include "task_type_finder.h"

#define MAX_REFS 8
#define MAX_SLOTS 64

/* Include/cpython/object.h: offsets in PyTypeObject */
#define TYPE_NAME 24
#define TYPE_BASICSIZE 32
#define TYPE_DEALLOC 48
#define TYPE_INIT 296
#define TYPE_FINALIZE 392
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

/* 3.9-3.11: tp_name points to the string; the type starts 24 bytes before. */
static int read_static_type(struct elf_image *e, uint64_t name_ref, struct task_type *t)
{
	uint64_t type = name_ref - TYPE_NAME;
	int64_t basicsize;

	if (elf_image_read(e, type + TYPE_BASICSIZE, &basicsize, sizeof(basicsize)) ||
	    !plausible_basicsize(basicsize) ||
	    elf_image_pointer_at(e, type + TYPE_INIT, &t->init) ||
	    elf_image_pointer_at(e, type + TYPE_DEALLOC, &t->dealloc))
		return -ENOENT;
	if (elf_image_pointer_at(e, type + TYPE_FINALIZE, &t->finalize))
		t->finalize = 0;
	t->basicsize = (uint32_t)basicsize;
	return 0;
}

/* 3.12+: the spec's name points to the string; its slots hold the functions. */
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

int find_task_type(struct elf_image *e, unsigned int minor, struct task_type *out)
{
	uint64_t name, refs[MAX_REFS];
	struct task_type t;
	int n, i, found = 0;

	if (elf_image_find_string(e, "_asyncio.Task", &name))
		return -ENOENT;
	n = elf_image_pointers_to(e, name, refs, MAX_REFS);
	for (i = 0; i < n; i++) {
		memset(&t, 0, sizeof(t));
		if (minor <= 11 ? read_static_type(e, refs[i], &t) : read_type_spec(e, refs[i], &t))
			continue;
		if (found && (t.init != out->init || t.dealloc != out->dealloc))
			return -ENOENT;	/* two different candidates: refuse to guess */
		*out = t;
		found = 1;
	}
	return found ? 0 : -ENOENT;
}
