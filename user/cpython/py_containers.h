/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The containers of a live target, read from its memory: types and their
 * names, dicts looked up by a str key, instance attributes (wherever the
 * version keeps them), sets, small ints. Layouts per version are those of
 * CPython's Include/cpython/ headers (dictobject.h, setobject.h, object.h)
 * and Objects/dictobject.c. Every size is bounded and a
 * read that fails or looks wrong is an error, never a crash.
 */
#ifndef INFLIGHT_PY_CONTAINERS_H
#define INFLIGHT_PY_CONTAINERS_H
#include <stdint.h>
#include "py_objects.h"

/* PyObject: ob_refcnt at 0, ob_type at 8, for every version here */
#define PY_OB_TYPE 8

/* The type of the object at addr, or 0 if it cannot be read. */
uint64_t py_type_of(const struct py_reader *r, uint64_t obj);
/* A type's tp_name (cached): "dict", "_asyncio.Task", ...; NULL if unreadable. */
const char *py_type_name(struct py_reader *r, uint64_t type);
/* The tp_name of the object's type, NULL if unreadable. */
const char *py_object_type_name(struct py_reader *r, uint64_t obj);
/* Is type, or one of its bases, named name? */
int py_type_is(struct py_reader *r, uint64_t type, const char *name);

/* dict[key] for a str key: 0 with *value set, -ENOENT if absent, or -errno. */
int py_dict_get(struct py_reader *r, uint64_t dict, const char *key, uint64_t *value);
/* obj.name from the instance's attributes (its __dict__ or inline values): as py_dict_get. */
int py_attr_get(struct py_reader *r, uint64_t obj, const char *name, uint64_t *value);
/*
 * The keys of a set, checked against a second look at its table (a set
 * resized meanwhile is read again): an array to free() of *n keys, at most
 * max, with *left_out more that were not kept; or NULL with errno set.
 */
uint64_t *py_set_items(const struct py_reader *r, uint64_t set, size_t max, size_t *n,
		       size_t *left_out);
/* An int of at most two digits (60 bits), from its first 32 bytes at obj: 0 or -ERANGE. */
int py_long_decode(const struct cpython_layout *l, const uint8_t *obj, int64_t *value);
/* A tuple's items: its size (at most max copied into items), or -errno. */
int py_tuple_items(const struct py_reader *r, uint64_t tuple, uint64_t *items, int max);
/* A list's items, as py_tuple_items. */
int py_list_items(const struct py_reader *r, uint64_t list, uint64_t *items, int max);

#endif
