// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <search.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "code_lines.h"
#include "memory_source.h"
#include "py_objects.h"

#define MAX_STR_CHARS 1024
#define MAX_LINETABLE (64 * 1024)
/* what a tsearch node and malloc's header cost besides the entry itself */
#define CACHE_ENTRY_OVERHEAD 48
/* iovecs per process_vm_readv call (UIO_MAXIOV) */
#define READ_BATCH 1024

struct cached_str {
	uint64_t addr;
	char text[];
};

int py_read_memory(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (!addr)
		return -EFAULT;
	n = memory_readv(pid, &local, 1, &remote, 1);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/*
 * Reads close to the previous one share its remote iovec: the kernel pins the
 * pages of each iovec, and at 100k task states that cost 14 times what
 * copying the bytes in between does.
 */
#define MERGE_GAP 1024			/* bytes between two reads that still merge */
#define MERGE_SPAN (64 * 1024)		/* the most one merged read covers */
#define BOUNCE_BYTES (2 * 1024 * 1024)	/* merged reads land here, then are spread */

struct read_group {
	uint64_t start;
	size_t len;
	size_t first, end;	/* the reads [first, end) */
	uint8_t *bounce;	/* NULL: a lone read, straight into its place */
};

/* The reads from first on that one range of the target covers: ascending and close. */
static size_t group_reads(const uint64_t *addrs, size_t first, size_t n, size_t size,
			  struct read_group *g)
{
	uint64_t start = addrs[first], end = start + size;
	size_t j = first + 1;

	/* an address near the top of the address space stays alone (and fails) */
	if (start <= UINT64_MAX - 4 * (uint64_t)MERGE_SPAN && size <= MERGE_SPAN)
		for (; j < n && addrs[j] >= start && addrs[j] <= end + MERGE_GAP &&
		       addrs[j] + size - start <= MERGE_SPAN; j++)
			if (addrs[j] + size > end)
				end = addrs[j] + size;
	g->start = start;
	g->len = j - first > 1 ? end - start : size;
	g->first = first;
	g->end = j;
	return j;
}

/* Copies a group's reads from its bounce buffer to their places. */
static void spread_group(const struct read_group *g, const uint64_t *addrs, size_t size,
			 uint8_t *dst, uint8_t *ok)
{
	size_t k;

	for (k = g->first; k < g->end; k++) {
		if (g->bounce)
			memcpy(dst + k * size, g->bounce + (addrs[k] - g->start), size);
		ok[k] = 1;
	}
}

/* After a fault: each group alone, and the reads of a group that faults one by one. */
static void read_groups_singly(pid_t pid, const struct read_group *groups, size_t n_groups,
			       const uint64_t *addrs, size_t size, uint8_t *dst, uint8_t *ok)
{
	const struct read_group *g;
	size_t k;

	for (g = groups; g < groups + n_groups; g++) {
		if (!py_read_memory(pid, g->start, g->bounce ? g->bounce : dst + g->first * size,
				    g->len)) {
			spread_group(g, addrs, size, dst, ok);
			continue;
		}
		for (k = g->first; k < g->end && g->bounce; k++)
			ok[k] = !py_read_memory(pid, addrs[k], dst + k * size, size);
	}
}

int py_read_many(pid_t pid, const uint64_t *addrs, size_t n, size_t size, void *out, uint8_t *ok)
{
	struct read_group groups[READ_BATCH];
	struct iovec local[READ_BATCH], remote[READ_BATCH];
	uint8_t *dst = out, *bounce = malloc(BOUNCE_BYTES);
	size_t i, k, n_groups, used, expected, done = 0, good = 0;
	struct read_group *g;

	if (!bounce)
		return -ENOMEM;
	memset(ok, 0, n);
	while (done < n) {
		for (i = done, n_groups = used = expected = 0; i < n && n_groups < READ_BATCH;) {
			g = &groups[n_groups];
			group_reads(addrs, i, n, size, g);
			g->bounce = NULL;
			if (g->end - g->first > 1) {
				if (used + g->len > BOUNCE_BYTES)
					break;
				g->bounce = bounce + used;
				used += g->len;
			}
			local[n_groups].iov_base = g->bounce ? g->bounce : dst + i * size;
			local[n_groups].iov_len = g->len;
			remote[n_groups].iov_base = (void *)(uintptr_t)g->start;
			remote[n_groups].iov_len = g->len;
			expected += g->len;
			n_groups++;
			i = g->end;
		}
		if (memory_readv(pid, local, n_groups, remote, n_groups) == (ssize_t)expected)
			for (k = 0; k < n_groups; k++)
				spread_group(&groups[k], addrs, size, dst, ok);
		else	/* a fault stops the call where it happens */
			read_groups_singly(pid, groups, n_groups, addrs, size, dst, ok);
		done = i;
	}
	free(bounce);
	for (i = 0; i < n; i++)
		good += ok[i];
	return (int)(good < (size_t)INT32_MAX ? good : INT32_MAX);
}

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void py_reader_init(struct py_reader *r, pid_t pid, const struct cpython_layout *layout)
{
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->layout = *layout;
}

static void free_code(void *p)
{
	struct py_code *c = p;

	free(c->linetable);
	free(c);
}

void py_reader_free(struct py_reader *r)
{
	tdestroy(r->codes, free_code);
	tdestroy(r->strings, free);
	tdestroy(r->type_names, free);
	r->codes = r->strings = r->type_names = NULL;
}

static void put_utf8(char *out, size_t *o, size_t size, uint32_t cp)
{
	char enc[4];
	size_t len;

	if (cp < 0x80)
		enc[0] = (char)cp, len = 1;
	else if (cp < 0x800)
		enc[0] = (char)(0xc0 | cp >> 6), enc[1] = (char)(0x80 | (cp & 63)), len = 2;
	else if (cp < 0x10000 && (cp < 0xd800 || cp > 0xdfff))
		enc[0] = (char)(0xe0 | cp >> 12), enc[1] = (char)(0x80 | ((cp >> 6) & 63)),
		enc[2] = (char)(0x80 | (cp & 63)), len = 3;
	else if (cp >= 0x10000 && cp <= 0x10ffff)
		enc[0] = (char)(0xf0 | cp >> 18), enc[1] = (char)(0x80 | ((cp >> 12) & 63)),
		enc[2] = (char)(0x80 | ((cp >> 6) & 63)), enc[3] = (char)(0x80 | (cp & 63)), len = 4;
	else
		return put_utf8(out, o, size, 0xfffd);
	if (*o + len < size) {
		memcpy(out + *o, enc, len);
		*o += len;
	}
}

int py_str_decode(const struct cpython_layout *l, const uint8_t *obj, size_t have, char *out,
		  size_t size)
{
	uint32_t state, kind, cp;
	int64_t length;
	size_t i, o = 0, data;

	/* from 3.13 the target publishes where state and length are: maybe past what was read */
	if (have < l->str_state + 4 || have < l->str_length + 8)
		return -ERANGE;
	memcpy(&length, obj + l->str_length, sizeof(length));
	memcpy(&state, obj + l->str_state, sizeof(state));
	kind = (state >> 2) & 7;
	if (!(state & (1 << 5)) || length < 0 || (kind != 1 && kind != 2 && kind != 4))
		return -EINVAL;	/* not compact: not a string we expect here */
	if (length > MAX_STR_CHARS)
		length = MAX_STR_CHARS;
	data = state & (1 << 6) ? l->str_ascii_data : l->str_compact_data;
	if (data + (size_t)length * kind > have)
		return -ERANGE;
	for (i = 0; i < (size_t)length; i++) {
		if (kind == 1)
			cp = obj[data + i];
		else if (kind == 2)
			cp = (uint32_t)obj[data + 2 * i] | (uint32_t)obj[data + 2 * i + 1] << 8;
		else
			memcpy(&cp, obj + data + 4 * i, 4);
		put_utf8(out, &o, size, cp);
	}
	out[o] = '\0';
	return 0;
}

/* Where a compact str's characters end, from its header. */
static size_t str_end(const struct cpython_layout *l, const uint8_t *head)
{
	uint32_t state;
	int64_t length;

	memcpy(&length, head + l->str_length, sizeof(length));
	memcpy(&state, head + l->str_state, sizeof(state));
	if (length < 0 || length > MAX_STR_CHARS)
		length = MAX_STR_CHARS;
	return (state & (1 << 6) ? l->str_ascii_data : l->str_compact_data) +
	       (size_t)length * ((state >> 2) & 7);
}

/* A compact str (every identifier and file name is one) decoded to UTF-8. */
static int read_str(const struct py_reader *r, uint64_t addr, char *out, size_t size)
{
	const struct cpython_layout *l = &r->layout;
	uint8_t head[128], *obj;
	size_t need;
	int err;

	if (l->str_state + 4 > sizeof(head) || l->str_length + 8 > sizeof(head))
		return -EINVAL;	/* a header no CPython has */
	/*
	 * most names fit in one small read; one near the end of a mapping gets an
	 * exact one, from a header no longer than the shortest str's (ASCII)
	 */
	if (!py_read_memory(r->pid, addr, head, sizeof(head))) {
		err = py_str_decode(l, head, sizeof(head), out, size);
		if (err != -ERANGE)
			return err;
	} else if (py_read_memory(r->pid, addr, head, l->str_ascii_data)) {
		return -EFAULT;
	}
	need = str_end(l, head);
	obj = malloc(need);
	if (!obj)
		return -ENOMEM;
	err = py_read_memory(r->pid, addr, obj, need);
	if (!err)
		err = py_str_decode(l, obj, need, out, size);
	free(obj);
	return err;
}

int py_str_copy(const struct py_reader *r, uint64_t addr, char *out, size_t size)
{
	char text[MAX_STR_CHARS * 4 + 1];
	int err = addr ? read_str(r, addr, text, sizeof(text)) : -EFAULT;

	if (!err)
		snprintf(out, size, "%s", text);
	return err;
}

const char *py_cached_text(void *const *tree, uint64_t addr)
{
	struct cached_str key = { .addr = addr };
	void *node = tfind(&key, tree, cmp_addr);

	return node ? (*(struct cached_str **)node)->text : NULL;
}

static bool cache_has_room(const struct py_reader *r, size_t bytes)
{
	return r->n_cached < PY_CACHE_MAX_ENTRIES &&
	       bytes + CACHE_ENTRY_OVERHEAD <= PY_CACHE_MAX_BYTES - r->cached_bytes;
}

/* Takes room for an entry of bytes in r's caches: 0, or -ENOSPC (counted) when they are full. */
static int cache_reserve(struct py_reader *r, size_t bytes)
{
	if (!cache_has_room(r, bytes)) {
		r->cache_full++;
		return -ENOSPC;
	}
	bytes += CACHE_ENTRY_OVERHEAD;
	r->n_cached++;
	r->cached_bytes += bytes;
	return 0;
}

static void cache_release(struct py_reader *r, size_t bytes)
{
	r->n_cached--;
	r->cached_bytes -= bytes + CACHE_ENTRY_OVERHEAD;
}

const char *py_cache_text(struct py_reader *r, void **tree, uint64_t addr, const char *text)
{
	size_t size = sizeof(struct cached_str) + strlen(text) + 1;
	struct cached_str *s;

	if (cache_reserve(r, size))
		return NULL;
	s = malloc(size);
	if (s) {
		s->addr = addr;
		memcpy(s->text, text, strlen(text) + 1);
	}
	if (!s || !tsearch(s, tree, cmp_addr)) {
		free(s);
		cache_release(r, size);
		return NULL;
	}
	return s->text;
}

const char *py_str(struct py_reader *r, uint64_t addr)
{
	char text[MAX_STR_CHARS * 4 + 1];
	const char *cached = py_cached_text(&r->strings, addr);

	if (cached)
		return cached;
	if (!addr || read_str(r, addr, text, sizeof(text)))
		return NULL;
	return py_cache_text(r, &r->strings, addr, text);
}

static int read_linetable(const struct py_reader *r, uint64_t bytes, struct py_code *c)
{
	int64_t size;

	if (py_read_memory(r->pid, bytes + r->layout.bytes_size, &size, sizeof(size)) || size < 0 ||
	    size > MAX_LINETABLE)
		return -EINVAL;
	c->linetable = malloc(size ? (size_t)size : 1);
	if (!c->linetable)
		return -ENOMEM;
	c->linetable_len = (size_t)size;
	return py_read_memory(r->pid, bytes + r->layout.bytes_data, c->linetable, (size_t)size);
}

static struct py_code *read_code(struct py_reader *r, uint64_t addr)
{
	const struct cpython_layout *l = &r->layout;
	uint64_t filename, name, table;
	struct py_code *c;
	const char *s;
	int32_t first;

	if (py_read_memory(r->pid, addr + l->code_filename, &filename, 8) ||
	    py_read_memory(r->pid, addr + (l->code_qualname ? l->code_qualname : l->code_name), &name, 8) ||
	    py_read_memory(r->pid, addr + l->code_linetable, &table, 8) ||
	    py_read_memory(r->pid, addr + l->code_firstlineno, &first, 4))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->addr = addr;
	c->firstlineno = first;
	s = py_str(r, filename);
	snprintf(c->filename, sizeof(c->filename), "%s", s ? s : "?");
	s = py_str(r, name);
	snprintf(c->name, sizeof(c->name), "%s", s ? s : "?");
	if (read_linetable(r, table, c)) {
		free_code(c);
		return NULL;
	}
	return c;
}

const struct py_code *py_code(struct py_reader *r, uint64_t addr)
{
	struct py_code key = { .addr = addr }, *c;
	void *node;

	if (!addr)
		return NULL;
	node = tfind(&key, &r->codes, cmp_addr);
	if (node)
		return *(struct py_code **)node;
	/* full even for a code object without a line table: not worth reading */
	if (!cache_has_room(r, sizeof(*c))) {
		r->cache_full++;
		return NULL;
	}
	c = read_code(r, addr);
	if (!c)
		return NULL;
	if (cache_reserve(r, sizeof(*c) + c->linetable_len)) {
		free_code(c);
		return NULL;
	}
	if (!tsearch(c, &r->codes, cmp_addr)) {
		cache_release(r, sizeof(*c) + c->linetable_len);
		free_code(c);
		return NULL;
	}
	return c;
}

int py_code_line(const struct py_reader *r, const struct py_code *c, uint64_t pos)
{
	const struct cpython_layout *l = &r->layout;
	int64_t lasti = (int64_t)pos;	/* f_lasti, an int, before 3.11 */
	uint64_t first_instr;

	if (l->lines != LINES_LOCATIONS_311 && (lasti < INT32_MIN / 2 || lasti > INT32_MAX / 2))
		return -1;
	switch (l->lines) {
	case LINES_LNOTAB_39:
		return lines_lnotab39(c->linetable, c->linetable_len, c->firstlineno, (int)pos);
	case LINES_LINETABLE_310:
		return lines_linetable310(c->linetable, c->linetable_len, c->firstlineno,
					  (int)pos * 2);
	case LINES_LOCATIONS_311:
		first_instr = c->addr + l->code_adaptive;
		if (pos < first_instr || pos - first_instr > (uint64_t)INT32_MAX)
			return -1;
		return lines_locations311(c->linetable, c->linetable_len, c->firstlineno,
					  (int)((pos - first_instr) / 2));
	}
	return -1;
}
