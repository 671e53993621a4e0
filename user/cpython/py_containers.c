// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "py_containers.h"

#define MAX_TYPE_NAME 96
#define MAX_BASES 16
#define MAX_DICT_ENTRIES (1 << 18)
#define MAX_SET_SLOTS (1 << 24)
#define SET_CHUNK_SLOTS 4096	/* a set's table is read this many slots at a time */
#define SET_READ_TRIES 5
#define HEAD_MAX 64
#define LONG_HEAD 32	/* the bytes of an int py_long_decode is given */

static int read_u64(const struct py_reader *r, uint64_t addr, uint64_t *v)
{
	return py_read_memory(r->pid, addr, v, sizeof(*v));
}

/* Two words of the object at addr, at offsets at_a and at_b, in one read. */
static int read_words(const struct py_reader *r, uint64_t addr, uint32_t at_a, uint64_t *a,
		      uint32_t at_b, uint64_t *b)
{
	uint8_t head[HEAD_MAX];
	size_t len = (at_a > at_b ? at_a : at_b) + 8;

	if (len > sizeof(head) || py_read_memory(r->pid, addr, head, len))
		return -EFAULT;
	memcpy(a, head + at_a, 8);
	memcpy(b, head + at_b, 8);
	return 0;
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
	if (read_u64(r, type + r->layout.tp_name, &name_addr) ||
	    read_c_string(r, name_addr, name, sizeof(name)))
		return NULL;
	return py_cache_text(r, &r->type_names, type, name);
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
		if (read_u64(r, type + r->layout.tp_base, &type))
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

/* Where the entries start after the indices; each entry { hash, key, value } or { key, value } */
static int read_keys(const struct py_reader *r, uint64_t keys, struct keys_view *v)
{
	const struct cpython_layout *l = &r->layout;
	uint8_t head[48];
	int64_t size, nentries;
	uint32_t width;

	if (py_read_memory(r->pid, keys, head, sizeof(head)))
		return -EFAULT;
	memcpy(&nentries, head + l->dk_nentries, 8);
	if (l->dict_keys_format == DICT_KEYS_SIZED) {
		/* index width from the size */
		memcpy(&size, head + l->dk_size, 8);
		if (size <= 0 || size > MAX_DICT_ENTRIES * 2)
			return -EINVAL;
		width = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		v->entries = keys + l->dk_indices + (uint64_t)size * width;
		v->entry_size = 24, v->key_at = 8, v->value_at = 16;
	} else {
		if (head[l->dk_log2_index_bytes] > 24 || head[l->dk_kind] > 2)
			return -EINVAL;
		v->entries = keys + l->dk_indices + (1ULL << head[l->dk_log2_index_bytes]);
		if (head[l->dk_kind] == 0)	/* DICT_KEYS_GENERAL: { hash, key, value } */
			v->entry_size = 24, v->key_at = 8, v->value_at = 16;
		else			/* UNICODE and SPLIT: { key, value } */
			v->entry_size = 16, v->key_at = 0, v->value_at = 8;
	}
	if (nentries < 0 || nentries > MAX_DICT_ENTRIES)
		return -EINVAL;
	v->n = (uint32_t)nentries;
	return 0;
}

/*
 * A dict's keys are read KEY_CHUNK at a time, the first KEY_HEAD bytes of each
 * in as few system calls as can be: a name that long fits, header and all.
 */
#define KEY_CHUNK 256
#define KEY_HEAD 128
#define KEY_TEXT (1024 * 4 + 1)	/* as long as py_str_decode writes */

/* Whether the str at addr is name; head: its first KEY_HEAD bytes, or NULL if unread. */
static bool key_is(struct py_reader *r, uint64_t addr, const uint8_t *head, const char *name)
{
	char text[KEY_TEXT];
	const char *key;
	int err = head ? py_str_decode(&r->layout, head, KEY_HEAD, text, sizeof(text)) : -ERANGE;

	if (!err)
		return !strcmp(text, name);
	if (err != -ERANGE)
		return false;	/* not a str */
	key = py_str(r, addr);	/* longer than its head, or near the end of a mapping */
	return key && !strcmp(key, name);
}

/* Among the keys at addrs (n of them, at most KEY_CHUNK), the one that is name, or -1. */
static int match_key(struct py_reader *r, const uint64_t *addrs, size_t n, const char *name,
		     uint8_t *heads)
{
	uint8_t ok[KEY_CHUNK];
	size_t i;

	if (py_read_many(r->pid, addrs, n, KEY_HEAD, heads, ok) < 0)
		memset(ok, 0, n);
	for (i = 0; i < n; i++)
		if (key_is(r, addrs[i], ok[i] ? heads + i * KEY_HEAD : NULL, name))
			return (int)i;
	return -1;
}

/* The index of the entry whose str key is name, and its value slot: 0 or -errno. */
static int find_entry(struct py_reader *r, const struct keys_view *v, const char *name,
		      uint32_t *index, uint64_t *value)
{
	uint8_t *buf = malloc((size_t)v->n * v->entry_size + 1), *heads = malloc(KEY_CHUNK * KEY_HEAD);
	uint32_t at[KEY_CHUNK], i;
	uint64_t addrs[KEY_CHUNK];
	int err = -ENOENT, hit;
	size_t n = 0;

	if (!buf || !heads) {
		err = -ENOMEM;
		goto out;
	}
	if (py_read_memory(r->pid, v->entries, buf, (size_t)v->n * v->entry_size)) {
		err = -EFAULT;
		goto out;
	}
	for (i = 0; i < v->n && err == -ENOENT; i++) {
		memcpy(&addrs[n], buf + (size_t)i * v->entry_size + v->key_at, 8);
		if (addrs[n])	/* else a deleted entry */
			at[n++] = i;
		if (n < KEY_CHUNK && i + 1 < v->n)
			continue;
		hit = match_key(r, addrs, n, name, heads);
		if (hit >= 0) {
			*index = at[hit];
			memcpy(value, buf + (size_t)at[hit] * v->entry_size + v->value_at, 8);
			err = 0;
		}
		n = 0;
	}
out:
	free(heads);
	free(buf);
	return err;
}

/* Split tables keep their values apart, after a header in some versions. */
static uint64_t split_value_addr(const struct py_reader *r, uint64_t values, uint32_t index)
{
	return values + r->layout.dict_values_items + (uint64_t)index * 8;
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
	uint64_t keys, values;

	if (!dict || read_words(r, dict, r->layout.dict_keys, &keys, r->layout.dict_values, &values))
		return -EFAULT;
	return value_in(r, keys, values, key, value);
}

/* Values kept outside any dict: 0 with *values set, -ENOENT when there is a dict instead. */
static int managed_values(const struct py_reader *r, uint64_t obj, uint64_t flags, uint64_t basicsize,
			  uint64_t *values, uint64_t *dict)
{
	const struct cpython_layout *l = &r->layout;
	uint64_t word;
	uint8_t valid;

	*values = *dict = 0;
	switch (l->managed_dict) {
	case MANAGED_DICT_NONE:
		return -ENOENT;
	case MANAGED_VALUES_POINTER:
		if (read_u64(r, obj + l->managed_values_at, values) ||
		    (!*values && read_u64(r, obj + l->managed_dict_at, dict)))
			return -EFAULT;
		return 0;
	case MANAGED_DICT_OR_VALUES:	/* values tagged with bit 0 (stored minus one) */
		if (read_u64(r, obj + l->managed_dict_at, &word))
			return -EFAULT;
		if (word & 1)
			*values = word + 1;
		else
			*dict = word;
		return 0;
	case MANAGED_INLINE_VALUES:
		if (read_u64(r, obj + l->managed_dict_at, dict))
			return -EFAULT;
		if (*dict || !(flags & l->tpflags_inline_values))
			return 0;
		if (py_read_memory(r->pid, obj + basicsize + l->dict_values_valid, &valid, 1) || !valid)
			return -ENOENT;	/* not valid: nowhere to look */
		*values = obj + basicsize;
		return 0;
	}
	return -ENOENT;
}

int py_attr_get(struct py_reader *r, uint64_t obj, const char *name, uint64_t *value)
{
	uint64_t type = py_type_of(r, obj), flags, keys, values, dict;
	int64_t basicsize, dictoffset;
	int err;

	if (!type || read_u64(r, type + r->layout.tp_flags, &flags) ||
	    py_read_memory(r->pid, type + r->layout.tp_basicsize, &basicsize, 8) ||
	    py_read_memory(r->pid, type + r->layout.tp_dictoffset, &dictoffset, 8))
		return -EFAULT;
	if (flags & r->layout.tpflags_managed_dict) {
		err = managed_values(r, obj, flags, (uint64_t)basicsize, &values, &dict);
		if (err)
			return err;
		if (dict)
			return py_dict_get(r, dict, name, value);
		if (!values || read_u64(r, type + r->layout.type_cached_keys, &keys))
			return -ENOENT;
		return value_in(r, keys, values, name, value);
	}
	if (dictoffset <= 0 || read_u64(r, obj + (uint64_t)dictoffset, &dict) || !dict)
		return -ENOENT;
	return py_dict_get(r, dict, name, value);
}

static int read_set_head(const struct py_reader *r, uint64_t set, uint64_t *mask, uint64_t *table)
{
	return read_words(r, set, r->layout.set_mask, mask, r->layout.set_table, table);
}

/*
 * The used keys among the slots of a set's table, read a chunk at a time:
 * the first max go to keys, the others are counted in *left_out.
 */
static int read_used_keys(const struct py_reader *r, uint64_t table, size_t slots, size_t max,
			  uint64_t *keys, size_t *n, size_t *left_out)
{
	size_t entry = r->layout.set_entry_size, i, k, chunk;
	uint8_t *buf = malloc(SET_CHUNK_SLOTS * entry);
	uint64_t key, hash;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	*n = *left_out = 0;
	for (i = 0; i < slots && !err; i += chunk) {
		chunk = slots - i < SET_CHUNK_SLOTS ? slots - i : SET_CHUNK_SLOTS;
		err = py_read_memory(r->pid, table + i * entry, buf, chunk * entry);
		for (k = 0; k < chunk && !err; k++) {
			memcpy(&key, buf + k * entry, 8);	/* setentry { key, hash } */
			memcpy(&hash, buf + k * entry + 8, 8);
			if (!key || hash == UINT64_MAX)
				continue;	/* empty, or a deleted "dummy" */
			if (*n < max)
				keys[(*n)++] = key;
			else
				(*left_out)++;
		}
	}
	free(buf);
	return err;
}

uint64_t *py_set_items(const struct py_reader *r, uint64_t set, size_t max, size_t *n,
		       size_t *left_out)
{
	uint64_t mask, at, mask_again, at_again, *keys = NULL;
	int tries, err;

	for (tries = 0; tries < SET_READ_TRIES; tries++) {
		free(keys);
		keys = NULL;
		if (read_set_head(r, set, &mask, &at) || mask >= MAX_SET_SLOTS) {
			errno = EFAULT;
			return NULL;
		}
		keys = malloc(((mask + 1 < max ? mask + 1 : max) + 1) * sizeof(*keys));
		if (!keys)
			return NULL;
		err = read_used_keys(r, at, mask + 1, max, keys, n, left_out);
		if (err == -ENOMEM) {
			free(keys);
			errno = ENOMEM;
			return NULL;
		}
		if (!err && !read_set_head(r, set, &mask_again, &at_again) && mask_again == mask &&
		    at_again == at)
			return keys;
	}
	free(keys);
	errno = EAGAIN;	/* resized under us every time */
	return NULL;
}

int py_long_decode(const struct cpython_layout *l, const uint8_t *obj, int64_t *value)
{
	uint64_t size;
	uint32_t digits[2];
	int64_t ndigits, sign = 1;

	/* from 3.13 the target publishes where these are: maybe past the bytes given */
	if (l->long_size + sizeof(size) > LONG_HEAD || l->long_digits + sizeof(digits) > LONG_HEAD)
		return -ERANGE;
	memcpy(&size, obj + l->long_size, sizeof(size));
	if (l->long_tagged) {
		/* lv_tag: digit count above 3 bits, sign in the low 2 (0 +, 1 zero, 2 -) */
		ndigits = (int64_t)(size >> 3);
		sign = (size & 3) == 2 ? -1 : 1;
	} else {
		ndigits = (int64_t)size;
		if (ndigits < -2 || ndigits > 2)
			return -ERANGE;
		if (ndigits < 0)
			ndigits = -ndigits, sign = -1;
	}
	if (ndigits > 2)
		return -ERANGE;
	memcpy(digits, obj + l->long_digits, sizeof(digits));
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

	if (py_read_memory(r->pid, tuple + r->layout.var_size, &size, 8))
		return -EFAULT;
	return var_items(r, tuple + r->layout.tuple_items, size, items, max);
}

int py_list_items(const struct py_reader *r, uint64_t list, uint64_t *items, int max)
{
	uint64_t at, size;

	if (read_words(r, list, r->layout.list_items, &at, r->layout.var_size, &size))
		return -EFAULT;
	return var_items(r, at, (int64_t)size, items, max);
}
