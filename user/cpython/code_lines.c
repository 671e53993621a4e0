// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <limits.h>
#include "code_lines.h"

/*
 * Lines are summed in 64 bits: the first line and the deltas come from the
 * target, and a line outside int's range is no line.
 */
static int line_or_none(int64_t line)
{
	return line < INT_MIN || line > INT_MAX ? -1 : (int)line;
}

int lines_lnotab39(const uint8_t *t, size_t n, int firstlineno, int offset)
{
	int64_t line = firstlineno, addr = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		addr += t[i];
		if (addr > offset)
			break;
		line += (int8_t)t[i + 1];
	}
	return line_or_none(line);
}

int lines_linetable310(const uint8_t *t, size_t n, int firstlineno, int offset)
{
	int64_t line = firstlineno, start, end = 0;
	int8_t delta;
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		start = end;
		end += t[i];
		delta = (int8_t)t[i + 1];
		if (delta != -128)
			line += delta;
		if (offset >= start && offset < end)
			return delta == -128 ? -1 : line_or_none(line);
	}
	return -1;
}

/* 6-bit chunks, bit 6 set when another chunk follows */
static int read_varint(const uint8_t *t, size_t n, size_t *i, unsigned int *out)
{
	unsigned int v = 0, shift = 0;
	uint8_t b;

	do {
		if (*i >= n || shift > 24)
			return -1;
		b = t[(*i)++];
		v |= (unsigned int)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	*out = v;
	return 0;
}

static int read_svarint(const uint8_t *t, size_t n, size_t *i, int *out)
{
	unsigned int v;

	if (read_varint(t, n, i, &v))
		return -1;
	*out = v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
	return 0;
}

int lines_locations311(const uint8_t *t, size_t n, int firstlineno, int index)
{
	int64_t line = firstlineno, start = 0;
	int delta, has_line;
	unsigned int skip;
	size_t i = 0;
	uint8_t head, code;

	while (i < n) {
		head = t[i++];
		if (!(head & 0x80))
			return -1;	/* not at the start of an entry: malformed */
		code = (head >> 3) & 15;
		delta = 0;
		has_line = 1;
		if (code == 15) {
			has_line = 0;			/* no location */
		} else if (code == 14) {		/* long form */
			if (read_svarint(t, n, &i, &delta) || read_varint(t, n, &i, &skip) ||
			    read_varint(t, n, &i, &skip) || read_varint(t, n, &i, &skip))
				return -1;
		} else if (code == 13) {		/* no column */
			if (read_svarint(t, n, &i, &delta))
				return -1;
		} else if (code >= 10) {		/* one line: delta in the code, two columns */
			delta = code - 10;
			if (n - i < 2)
				return -1;
			i += 2;
		} else {				/* short form: same line, one column byte */
			if (n - i < 1)
				return -1;
			i += 1;
		}
		line += delta;
		if (index >= start && index < start + (head & 7) + 1)
			return has_line ? line_or_none(line) : -1;
		start += (head & 7) + 1;
	}
	return -1;
}
