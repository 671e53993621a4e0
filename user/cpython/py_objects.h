/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Python objects read out of a live target's memory (through memory_source.h):
 * strings, code objects and their lines, a task's state. Everything read is
 * bounded and checked; a failed or implausible read gives an error, never a
 * crash. Caches what does not change (code objects, interned strings).
 */
#ifndef INFLIGHT_PY_OBJECTS_H
#define INFLIGHT_PY_OBJECTS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cpython_layout.h"

struct py_code {
	uint64_t addr;
	char filename[256];
	char name[128];		/* qualified where the version has co_qualname */
	int firstlineno;
	uint8_t *linetable;
	size_t linetable_len;
};

struct py_reader {
	pid_t pid;
	struct cpython_layout layout;	/* a copy: the reader may move */
	void *codes;		/* tsearch tree of struct py_code */
	void *strings;		/* tsearch tree of cached strings, by address */
	void *type_names;	/* tsearch tree of types' tp_name, by type address */
	size_t n_cached, cached_bytes;
	uint64_t cache_full;	/* reads refused: the caches held PY_CACHE_MAX_* already */
};

/* What the caches of one reader may hold: entries, and bytes (a line table is up to 64 KiB) */
#define PY_CACHE_MAX_ENTRIES 200000
#define PY_CACHE_MAX_BYTES (64u << 20)

void py_reader_init(struct py_reader *r, pid_t pid, const struct cpython_layout *layout);
void py_reader_free(struct py_reader *r);

/* Copies len bytes at addr in the target: 0 or -errno (-EFAULT if partial). */
int py_read_memory(pid_t pid, uint64_t addr, void *buf, size_t len);
/*
 * Reads n objects of size bytes, the i-th at addrs[i] into out + i * size,
 * in as few system calls as it can; ok[i] says whether the i-th was read.
 * Returns how many were.
 */
int py_read_many(pid_t pid, const uint64_t *addrs, size_t n, size_t size, void *out, uint8_t *ok);
/*
 * The str object at addr as UTF-8 (cached): a pointer valid until
 * py_reader_free, or NULL (unreadable, or the caches full).
 */
const char *py_str(struct py_reader *r, uint64_t addr);
/* Text kept under an address in one of the reader's caches (a tsearch tree), or NULL. */
const char *py_cached_text(void *const *tree, uint64_t addr);
/*
 * Keeps a copy of text under addr in one of r's trees: the copy, or NULL
 * without memory or when the caches are full (counted in r->cache_full).
 */
const char *py_cache_text(struct py_reader *r, void **tree, uint64_t addr, const char *text);
/*
 * A str object already read (have bytes of it at obj) as UTF-8 into out: 0,
 * -ERANGE if its characters lie beyond have, -EINVAL if it is no compact str.
 */
int py_str_decode(const struct cpython_layout *l, const uint8_t *obj, size_t have, char *out,
		  size_t size);
/* The str object at addr as UTF-8 into out, not cached (names that are seen once): 0 or -errno. */
int py_str_copy(const struct py_reader *r, uint64_t addr, char *out, size_t size);
/* The code object at addr (cached), or NULL (unreadable, or the caches full). */
const struct py_code *py_code(struct py_reader *r, uint64_t addr);
/* The source line of a frame position (f_lasti, or the instruction pointer on 3.11+), or -1. */
int py_code_line(const struct py_reader *r, const struct py_code *c, uint64_t pos);

#endif
