// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "py_containers.h"

/* PyTypeObject (Include/cpython/object.h), the same in 3.9-3.13 */
#define TP_NAME 24
#define TP_BASICSIZE 32
#define TP_FLAGS 168
#define TP_BASE 256
#define TP_DICTOFFSET 288
/* tp_flags (Include/object.h) */
#define FLAG_INLINE_VALUES (1UL << 2)	/* 3.13 */
#define FLAG_MANAGED_DICT (1UL << 4)	/* 3.11+ */
/* PyDictObject: ma_keys, ma_values */
#define DICT_KEYS 32
#define DICT_VALUES 40
/* PySetObject: mask, table; setentry { key, hash } */
#define SET_MASK 32
#define SET_TABLE 40
#define SET_ENTRY 16
/* PyVarObject.ob_size; PyTupleObject.ob_item; PyListObject.ob_item */
#define VAR_SIZE 16
#define TUPLE_ITEMS 24
#define LIST_ITEMS 24

#define MAX_TYPE_NAME 96
#define MAX_BASES 16
#define MAX_DICT_ENTRIES (1 << 18)
#define MAX_SET_SLOTS (1 << 24)
#define SET_READ_TRIES 5

static int read_u64(const struct py_reader *r, uint64_t addr, uint64_t *v)
{
	return py_read_memory(r->pid, addr, v, sizeof(*v));
}

uint64_t py_type_of(const struct py_reader *r, uint64_t obj)
{
	uint64_t type;

	return obj && !read_u64(r, obj + PY_OB_TYPE, &type) ? type : 0;
}

/* A C string in the target, however close to the end of its mapping it lies. */
static int read_c_string(const struct py_reader *r, uint64_t addr, char *out, size_t size)
{
	size_t len;

	for (len = size - 1; len >= 8; len /= 2)
		if (!py_read_memory(r->pid, addr, out, len)) {
			out[len] = '\0';
			return 0;
		}
	return -EFAULT;
}

const char *py_type_name(struct py_reader *r, uint64_t type)
{
	const char *cached = type ? py_cached_text(&r->type_names, type) : NULL;
	char name[MAX_TYPE_NAME];
	uint64_t name_addr;

	if (cached || !type)
		return cached;
	if (read_u64(r, type + TP_NAME, &name_addr) || read_c_string(r, name_addr, name, sizeof(name)))
		return NULL;
	return py_cache_text(&r->type_names, type, name);
}

const char *py_object_type_name(struct py_reader *r, uint64_t obj)
{
	return py_type_name(r, py_type_of(r, obj));
}

int py_type_is(struct py_reader *r, uint64_t type, const char *name)
{
	const char *n;
	int depth;

	for (depth = 0; type && depth < MAX_BASES; depth++) {
		n = py_type_name(r, type);
		if (!n)
			return 0;
		if (!strcmp(n, name))
			return 1;
		if (read_u64(r, type + TP_BASE, &type))
			return 0;
	}
	return 0;
}

/* Where a dict keys object keeps its entries, and how they are laid out. */
struct keys_view {
	uint64_t entries;
	uint32_t n;
	uint32_t entry_size, key_at, value_at;
};

static int read_keys(const struct py_reader *r, uint64_t keys, struct keys_view *v)
{
	uint8_t head[48];
	int64_t size, nentries;
	uint32_t width;

	if (py_read_memory(r->pid, keys, head, sizeof(head)))
		return -EFAULT;
	if (r->layout->dicts == DICTS_39) {
		/* dk_size 8, dk_nentries 32, dk_indices 40; index width from the size */
		memcpy(&size, head + 8, 8);
		memcpy(&nentries, head + 32, 8);
		if (size <= 0 || size > MAX_DICT_ENTRIES * 2)
			return -EINVAL;
		width = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		v->entries = keys + 40 + (uint64_t)size * width;
		v->entry_size = 24, v->key_at = 8, v->value_at = 16;
	} else {
		/* u8 dk_log2_index_bytes 9, u8 dk_kind 10, dk_nentries 24, dk_indices 32 */
		memcpy(&nentries, head + 24, 8);
		if (head[9] > 24 || head[10] > 2)
			return -EINVAL;
		v->entries = keys + 32 + (1ULL << head[9]);
		if (head[10] == 0)	/* DICT_KEYS_GENERAL: { hash, key, value } */
			v->entry_size = 24, v->key_at = 8, v->value_at = 16;
		else			/* UNICODE and SPLIT: { key, value } */
			v->entry_size = 16, v->key_at = 0, v->value_at = 8;
	}
	if (nentries < 0 || nentries > MAX_DICT_ENTRIES)
		return -EINVAL;
	v->n = (uint32_t)nentries;
	return 0;
}

/* The index of the entry whose str key is name, and its value slot: 0 or -errno. */
static int find_entry(struct py_reader *r, const struct keys_view *v, const char *name,
		      uint32_t *index, uint64_t *value)
{
	uint8_t *buf = malloc((size_t)v->n * v->entry_size + 1);
	const char *key;
	uint64_t k;
	uint32_t i;
	int err = -ENOENT;

	if (!buf)
		return -ENOMEM;
	if (py_read_memory(r->pid, v->entries, buf, (size_t)v->n * v->entry_size)) {
		free(buf);
		return -EFAULT;
	}
	for (i = 0; i < v->n && err == -ENOENT; i++) {
		memcpy(&k, buf + (size_t)i * v->entry_size + v->key_at, 8);
		if (!k)
			continue;
		key = py_str(r, k);
		if (key && !strcmp(key, name)) {
			*index = i;
			memcpy(value, buf + (size_t)i * v->entry_size + v->value_at, 8);
			err = 0;
		}
	}
	free(buf);
	return err;
}

/* Split tables keep their values apart; 3.13 puts a header before them. */
static uint64_t split_value_addr(const struct py_reader *r, uint64_t values, uint32_t index)
{
	return values + (r->layout->dicts == DICTS_313 ? 8 : 0) + (uint64_t)index * 8;
}

static int value_in(struct py_reader *r, uint64_t keys, uint64_t values, const char *name,
		    uint64_t *value)
{
	struct keys_view v;
	uint32_t index;
	int err;

	err = read_keys(r, keys, &v);
	if (!err)
		err = find_entry(r, &v, name, &index, value);
	if (!err && values)
		err = read_u64(r, split_value_addr(r, values, index), value);
	if (!err && !*value)
		err = -ENOENT;	/* a deleted attribute of a split table */
	return err;
}

int py_dict_get(struct py_reader *r, uint64_t dict, const char *key, uint64_t *value)
{
	uint64_t head[6];

	if (!dict || py_read_memory(r->pid, dict, head, sizeof(head)))
		return -EFAULT;
	return value_in(r, head[DICT_KEYS / 8], head[DICT_VALUES / 8], key, value);
}

/* 3.11+ values kept outside any dict: 0 with *values set, -ENOENT when there is a dict instead. */
static int managed_values(const struct py_reader *r, uint64_t obj, uint64_t flags, uint64_t basicsize,
			  uint64_t *values, uint64_t *dict)
{
	uint64_t word;
	uint8_t header[4];

	*values = *dict = 0;
	switch (r->layout->minor) {
	case 11:	/* _PyObject_ValuesPointer at -4 words, the dict at -3 */
		if (read_u64(r, obj - 32, values) || (!*values && read_u64(r, obj - 24, dict)))
			return -EFAULT;
		return 0;
	case 12:	/* PyDictOrValues at -3 words: values tagged with bit 0 (stored minus one) */
		if (read_u64(r, obj - 24, &word))
			return -EFAULT;
		if (word & 1)
			*values = word + 1;
		else
			*dict = word;
		return 0;
	default:	/* 3.13: the dict at -3 words, else inline values after the object */
		if (read_u64(r, obj - 24, dict))
			return -EFAULT;
		if (*dict || !(flags & FLAG_INLINE_VALUES))
			return 0;
		if (py_read_memory(r->pid, obj + basicsize, header, sizeof(header)) || !header[3])
			return -ENOENT;	/* not valid: nowhere to look */
		*values = obj + basicsize;
		return 0;
	}
}

int py_attr_get(struct py_reader *r, uint64_t obj, const char *name, uint64_t *value)
{
	uint64_t type = py_type_of(r, obj), flags, keys, values, dict;
	int64_t basicsize, dictoffset;
	int err;

	if (!type || read_u64(r, type + TP_FLAGS, &flags) ||
	    py_read_memory(r->pid, type + TP_BASICSIZE, &basicsize, 8) ||
	    py_read_memory(r->pid, type + TP_DICTOFFSET, &dictoffset, 8))
		return -EFAULT;
	if (r->layout->minor >= 11 && (flags & FLAG_MANAGED_DICT)) {
		err = managed_values(r, obj, flags, (uint64_t)basicsize, &values, &dict);
		if (err)
			return err;
		if (dict)
			return py_dict_get(r, dict, name, value);
		if (!values || read_u64(r, type + r->layout->type_cached_keys, &keys))
			return -ENOENT;
		return value_in(r, keys, values, name, value);
	}
	if (dictoffset <= 0 || read_u64(r, obj + (uint64_t)dictoffset, &dict) || !dict)
		return -ENOENT;
	return py_dict_get(r, dict, name, value);
}

uint64_t *py_set_items(const struct py_reader *r, uint64_t set, size_t *n)
{
	uint64_t head[6], again[6], *table = NULL, *items;
	size_t slots = 0, i, k;
	int tries;

	for (tries = 0; tries < SET_READ_TRIES; tries++) {
		free(table);
		table = NULL;
		if (py_read_memory(r->pid, set, head, sizeof(head)) ||
		    head[SET_MASK / 8] >= MAX_SET_SLOTS) {
			errno = EFAULT;
			return NULL;
		}
		slots = head[SET_MASK / 8] + 1;
		table = malloc(slots * SET_ENTRY);
		if (!table)
			return NULL;
		if (!py_read_memory(r->pid, head[SET_TABLE / 8], table, slots * SET_ENTRY) &&
		    !py_read_memory(r->pid, set, again, sizeof(again)) &&
		    again[SET_MASK / 8] == head[SET_MASK / 8] &&
		    again[SET_TABLE / 8] == head[SET_TABLE / 8])
			break;
	}
	if (tries == SET_READ_TRIES) {
		free(table);
		errno = EAGAIN;	/* resized under us every time */
		return NULL;
	}
	/* in place: a used slot has a key and a hash that is not -1 (a deleted "dummy") */
	items = table;
	for (i = k = 0; i < slots; i++)
		if (table[2 * i] && table[2 * i + 1] != UINT64_MAX)
			items[k++] = table[2 * i];
	*n = k;
	return items;
}

int py_long_decode(const struct cpython_layout *l, const uint8_t *obj, int64_t *value)
{
	uint64_t size;
	uint32_t digits[2];
	int64_t ndigits, sign = 1;

	memcpy(&size, obj + VAR_SIZE, sizeof(size));
	if (l->minor >= 12) {
		/* lv_tag: digit count above 3 bits, sign in the low 2 (0 +, 1 zero, 2 -) */
		ndigits = (int64_t)(size >> 3);
		sign = (size & 3) == 2 ? -1 : 1;
	} else {
		ndigits = (int64_t)size;
		if (ndigits < 0)
			ndigits = -ndigits, sign = -1;
	}
	if (ndigits > 2)
		return -ERANGE;
	memcpy(digits, obj + 24, sizeof(digits));
	*value = 0;
	if (ndigits > 1)
		*value = (int64_t)(digits[1] & 0x3fffffff) << 30;
	if (ndigits > 0)
		*value |= digits[0] & 0x3fffffff;
	*value *= sign;
	return 0;
}

static int var_items(const struct py_reader *r, uint64_t items_at, int64_t size, uint64_t *items,
		     int max)
{
	int n;

	if (size < 0 || size > (1 << 24))
		return -EINVAL;
	n = size < max ? (int)size : max;
	if (n && py_read_memory(r->pid, items_at, items, (size_t)n * 8))
		return -EFAULT;
	return (int)size;
}

int py_tuple_items(const struct py_reader *r, uint64_t tuple, uint64_t *items, int max)
{
	int64_t size;

	if (py_read_memory(r->pid, tuple + VAR_SIZE, &size, 8))
		return -EFAULT;
	return var_items(r, tuple + TUPLE_ITEMS, size, items, max);
}

int py_list_items(const struct py_reader *r, uint64_t list, uint64_t *items, int max)
{
	uint64_t head[4];

	if (py_read_memory(r->pid, list, head, sizeof(head)))
		return -EFAULT;
	return var_items(r, head[LIST_ITEMS / 8], (int64_t)head[VAR_SIZE / 8], items, max);
}
