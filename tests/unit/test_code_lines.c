// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/cpython/code_lines.c: line numbers from CPython's line tables.
 *
 * The tables below are real ones, printed by the interpreters themselves
 * (pyenv 3.9.18, 3.10.13, 3.11.7, 3.12.1, 3.13.0) for these functions,
 * compiled from a file "sample.py" laid out exactly like this:
 *
 *	1
 *	2
 *	3
 *	4  def sample(a, b):
 *	5      x = a + 1
 *	6
 *	7      y = g(x,
 *	8            b,
 *	9            a)
 *	10     for i in range(3):
 *	11         x += i
 *	12     while x > 100:
 *	13         x -= 1
 *	14     return x + y
 *
 *	1
 *	2  def exc(a):
 *	3      try:
 *	4          return a.b
 *	5      except AttributeError:
 *	6          return None
 *	7      finally:
 *	8          a = 0
 *
 * and big(a), with firstlineno 4: "x = 1" on line 5, 140 blank lines, then
 * "y = (a, a, ...)" on line 146 (150 names before 3.11, so that 3.9 and 3.10
 * need more than 255 bytes of bytecode on one line; 25 names from 3.11 on,
 * columns past 63) and "return x, y" on line 147.
 *
 * The expected line of each instruction comes from the interpreter too:
 * dis.findlinestarts() on 3.9 (per 2-byte instruction), co_lines() on 3.10
 * (per 2-byte instruction, None as -1), co_positions() on 3.11+ (per code
 * unit, None as -1; co_lines() agreed on every unit).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "code_lines.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 3.9.18: sample(), co_firstlineno 4, 34 instructions or code units */
static const uint8_t sample_39_table[] = {
	0x00, 0x01, 0x08, 0x02, 0x04, 0x01, 0x02, 0x01, 0x02, 0xfe, 0x04, 0x03,
	0x0c, 0x01, 0x0a, 0x01, 0x08, 0x01, 0x0a, 0x01,
};
static const int sample_39_lines[] = {
	5, 5, 5, 5, 7, 7, 8, 9, 7, 7, 10, 10, 10, 10, 10, 10,
	11, 11, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 13, 13, 14, 14,
	14, 14,
};
/* 3.9.18: big(), co_firstlineno 4, 158 instructions or code units */
static const uint8_t big_39_table[] = {
	0x00, 0x01, 0x04, 0x7f, 0x00, 0x0e, 0xff, 0x00, 0x31, 0x01,
};
static const int big_39_lines[] = {
	5, 5, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 147, 147, 147, 147,
};
/* 3.9.18: exc(), co_firstlineno 2, 31 instructions or code units */
static const uint8_t exc_39_table[] = {
	0x00, 0x01, 0x04, 0x01, 0x08, 0x04, 0x04, 0xfc, 0x02, 0x01, 0x0c, 0x01,
	0x04, 0x02, 0x04, 0xfe, 0x08, 0x02,
};
static const int exc_39_lines[] = {
	3, 3, 4, 4, 4, 4, 8, 8, 4, 5, 5, 5, 5, 5, 5, 6,
	6, 8, 8, 6, 6, 6, 6, 8, 8, 8, 8, 8, 8, 8, 8,
};
/* 3.10.13: sample(), co_firstlineno 4, 37 instructions or code units */
static const uint8_t sample_310_table[] = {
	0x08, 0x01, 0x04, 0x02, 0x02, 0x01, 0x02, 0x01, 0x04, 0xfe, 0x0c, 0x03,
	0x0a, 0x01, 0x08, 0x01, 0x08, 0x01, 0x08, 0xff, 0x08, 0x02,
};
static const int sample_310_lines[] = {
	5, 5, 5, 5, 7, 7, 8, 9, 7, 7, 10, 10, 10, 10, 10, 10,
	11, 11, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 13, 12, 12, 12,
	12, 14, 14, 14, 14,
};
/* 3.10.13: big(), co_firstlineno 4, 309 instructions or code units */
static const uint8_t big_310_table[] = {
	0x04, 0x01, 0x00, 0x7f, 0xfe, 0x0e, 0xfe, 0x00, 0x62, 0x00, 0x08, 0x01,
};
static const int big_310_lines[] = {
	5, 5, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 147, 147, 147, 147,
};
/* 3.10.13: exc(), co_firstlineno 2, 25 instructions or code units */
static const uint8_t exc_310_table[] = {
	0x04, 0x01, 0x08, 0x01, 0x06, 0x04, 0x0c, 0xfd, 0x04, 0x01, 0x08, 0x02,
	0x02, 0xfd, 0x06, 0x03,
};
static const int exc_310_lines[] = {
	3, 3, 4, 4, 4, 4, 8, 8, 8, 5, 5, 5, 5, 5, 5, 6,
	6, 8, 8, 8, 8, 5, 8, 8, 8,
};
/* 3.11.7: sample(), co_firstlineno 4, 68 instructions or code units */
static const uint8_t sample_311_table[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0x80, 0x41, 0xe5,
	0x08, 0x09, 0x88, 0x21, 0xd8, 0x0a, 0x0b, 0xd8, 0x0a, 0x0b, 0xf1, 0x05,
	0x02, 0x09, 0x0d, 0xf4, 0x00, 0x02, 0x09, 0x0d, 0x80, 0x41, 0xf5, 0x06,
	0x00, 0x0e, 0x13, 0x90, 0x31, 0x89, 0x58, 0x8c, 0x58, 0xf0, 0x00, 0x01,
	0x05, 0x0f, 0xf0, 0x00, 0x01, 0x05, 0x0f, 0x88, 0x01, 0xd8, 0x08, 0x09,
	0x88, 0x51, 0x89, 0x06, 0x88, 0x01, 0x88, 0x01, 0xd8, 0x0a, 0x0b, 0x88,
	0x63, 0x8a, 0x27, 0x88, 0x27, 0xd8, 0x08, 0x09, 0x88, 0x51, 0x89, 0x06,
	0x88, 0x01, 0xf0, 0x03, 0x00, 0x0b, 0x0c, 0x88, 0x63, 0x8a, 0x27, 0x88,
	0x27, 0xe0, 0x0b, 0x0c, 0x88, 0x71, 0x89, 0x35, 0x80, 0x4c,
};
static const int sample_311_lines[] = {
	4, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 8, 9, 7,
	7, 7, 7, 7, 7, 7, 7, 10, 10, 10, 10, 10, 10, 10, 10, 10,
	10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 12, 12,
	12, 12, 12, 12, 13, 13, 13, 13, 13, 12, 12, 12, 12, 12, 12, 14,
	14, 14, 14, 14,
};
/* 3.11.7: big(), co_firstlineno 4, 34 instructions or code units */
static const uint8_t big_311_table[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x80, 0x41, 0xf0, 0x5a, 0x04, 0x00, 0x0a,
	0x0b, 0x88, 0x41, 0x88, 0x71, 0x90, 0x21, 0x90, 0x51, 0x98, 0x01, 0x98,
	0x31, 0x98, 0x61, 0xa0, 0x11, 0xa0, 0x41, 0xa0, 0x71, 0xa8, 0x21, 0xa8,
	0x51, 0xb0, 0x01, 0xb0, 0x31, 0xb0, 0x61, 0xb8, 0x11, 0xb8, 0x41, 0xb8,
	0x71, 0xc0, 0x21, 0xc0, 0x51, 0xc8, 0x01, 0xc8, 0x31, 0xc8, 0x61, 0xd0,
	0x51, 0x52, 0xd0, 0x08, 0x53, 0x80, 0x41, 0xd8, 0x0b, 0x0c, 0x88, 0x61,
	0x88, 0x34, 0x80, 0x4b,
};
static const int big_311_lines[] = {
	4, 5, 5, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 147, 147,
	147, 147,
};
/* 3.11.7: exc(), co_firstlineno 2, 37 instructions or code units */
static const uint8_t exc_311_table[] = {
	0x80, 0x00, 0xf0, 0x02, 0x05, 0x05, 0x0e, 0xd8, 0x0f, 0x10, 0x8c, 0x73,
	0xf0, 0x08, 0x00, 0x0d, 0x0e, 0x88, 0x01, 0x88, 0x01, 0xf8, 0xf5, 0x07,
	0x00, 0x0c, 0x1a, 0xf0, 0x00, 0x01, 0x05, 0x14, 0xf0, 0x00, 0x01, 0x05,
	0x14, 0xf0, 0x00, 0x01, 0x05, 0x14, 0xd8, 0x0f, 0x13, 0xe0, 0x0c, 0x0d,
	0x88, 0x01, 0x88, 0x01, 0x88, 0x01, 0xf0, 0x07, 0x01, 0x05, 0x14, 0xf8,
	0xf8, 0xf8, 0xf8, 0xf0, 0x06, 0x00, 0x0d, 0x0e, 0x88, 0x01, 0x88, 0x05,
	0x88, 0x05, 0x88, 0x05, 0x88, 0x05,
};
static const int exc_311_lines[] = {
	2, 3, 4, 4, 4, 4, 4, 4, 8, 8, 8, -1, 5, 5, 5, 5,
	5, 5, 5, 5, 5, 6, 8, 8, 8, 8, 5, -1, -1, -1, -1, 8,
	8, 8, 8, 8, 8,
};
/* 3.12.1: sample(), co_firstlineno 4, 61 instructions or code units */
static const uint8_t sample_312_table[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0x80, 0x41, 0xe4,
	0x08, 0x09, 0x88, 0x21, 0xd8, 0x0a, 0x0b, 0xd8, 0x0a, 0x0b, 0xf3, 0x05,
	0x02, 0x09, 0x0d, 0x80, 0x41, 0xf4, 0x06, 0x00, 0x0e, 0x13, 0x90, 0x31,
	0x8b, 0x58, 0xf2, 0x00, 0x01, 0x05, 0x0f, 0x88, 0x01, 0xd8, 0x08, 0x09,
	0x88, 0x51, 0x89, 0x06, 0x89, 0x01, 0xf0, 0x03, 0x01, 0x05, 0x0f, 0xe0,
	0x0a, 0x0b, 0x88, 0x63, 0x8a, 0x27, 0xd8, 0x08, 0x09, 0x88, 0x51, 0x89,
	0x06, 0x88, 0x01, 0xf0, 0x03, 0x00, 0x0b, 0x0c, 0x88, 0x63, 0x8b, 0x27,
	0xe0, 0x0b, 0x0c, 0x88, 0x71, 0x89, 0x35, 0x80, 0x4c,
};
static const int sample_312_lines[] = {
	4, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 8, 9, 7, 7,
	7, 7, 7, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
	10, 11, 11, 11, 11, 11, 11, 10, 12, 12, 12, 12, 12, 13, 13, 13,
	13, 13, 12, 12, 12, 12, 12, 12, 14, 14, 14, 14, 14,
};
/* 3.12.1: big(), co_firstlineno 4, 34 instructions or code units */
static const uint8_t big_312_table[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x80, 0x41, 0xf0, 0x5a, 0x04, 0x00, 0x0a,
	0x0b, 0x88, 0x41, 0x88, 0x71, 0x90, 0x21, 0x90, 0x51, 0x98, 0x01, 0x98,
	0x31, 0x98, 0x61, 0xa0, 0x11, 0xa0, 0x41, 0xa0, 0x71, 0xa8, 0x21, 0xa8,
	0x51, 0xb0, 0x01, 0xb0, 0x31, 0xb0, 0x61, 0xb8, 0x11, 0xb8, 0x41, 0xb8,
	0x71, 0xc0, 0x21, 0xc0, 0x51, 0xc8, 0x01, 0xc8, 0x31, 0xc8, 0x61, 0xd0,
	0x51, 0x52, 0xd0, 0x08, 0x53, 0x80, 0x41, 0xd8, 0x0b, 0x0c, 0x88, 0x61,
	0x88, 0x34, 0x80, 0x4b,
};
static const int big_312_lines[] = {
	4, 5, 5, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 147, 147,
	147, 147,
};
/* 3.12.1: exc(), co_firstlineno 2, 40 instructions or code units */
static const uint8_t exc_312_table[] = {
	0x80, 0x00, 0xf0, 0x02, 0x05, 0x05, 0x0e, 0xd8, 0x0f, 0x10, 0x8f, 0x73,
	0x89, 0x73, 0xf0, 0x08, 0x00, 0x0d, 0x0e, 0x89, 0x01, 0xf8, 0xf4, 0x07,
	0x00, 0x0c, 0x1a, 0xf2, 0x00, 0x01, 0x05, 0x14, 0xd8, 0x0f, 0x13, 0xe0,
	0x0c, 0x0d, 0x89, 0x01, 0xf0, 0x07, 0x01, 0x05, 0x14, 0xfb, 0xf0, 0x06,
	0x00, 0x0d, 0x0e, 0x89, 0x01, 0xfa,
};
static const int exc_312_lines[] = {
	2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 8,
	-1, 5, 5, 5, 5, 5, 5, 5, 5, 6, 8, 8, 8, 5, -1, -1,
	-1, -1, 8, 8, 8, -1, -1, -1,
};
/* 3.13.0: sample(), co_firstlineno 4, 64 instructions or code units */
static const uint8_t sample_313_table[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0x80, 0x41, 0xe4,
	0x08, 0x09, 0x88, 0x21, 0xd8, 0x0a, 0x0b, 0xd8, 0x0a, 0x0b, 0xf3, 0x05,
	0x02, 0x09, 0x0d, 0x80, 0x41, 0xf4, 0x06, 0x00, 0x0e, 0x13, 0x90, 0x31,
	0x8e, 0x58, 0x88, 0x01, 0xd8, 0x08, 0x09, 0x89, 0x06, 0x8a, 0x01, 0xf1,
	0x03, 0x00, 0x0e, 0x16, 0xe0, 0x0a, 0x0b, 0x88, 0x63, 0x8b, 0x27, 0xd8,
	0x08, 0x09, 0x88, 0x51, 0x89, 0x06, 0x88, 0x01, 0xf0, 0x03, 0x00, 0x0b,
	0x0c, 0x88, 0x63, 0x8d, 0x27, 0xe0, 0x0b, 0x0c, 0x89, 0x35, 0x80, 0x4c,
};
static const int sample_313_lines[] = {
	4, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 8, 9, 7, 7,
	7, 7, 7, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
	10, 11, 11, 11, 11, 11, 11, 10, 10, 12, 12, 12, 12, 12, 12, 13,
	13, 13, 13, 13, 12, 12, 12, 12, 12, 12, 12, 12, 14, 14, 14, 14,
};
/* 3.13.0: big(), co_firstlineno 4, 21 instructions or code units */
static const uint8_t big_313_table[] = {
	0x80, 0x00, 0xd8, 0x08, 0x09, 0x80, 0x41, 0xf0, 0x5a, 0x04, 0x00, 0x0a,
	0x0b, 0x88, 0x71, 0x90, 0x51, 0x98, 0x31, 0xa0, 0x11, 0xa0, 0x71, 0xa8,
	0x51, 0xb0, 0x31, 0xb8, 0x11, 0xb8, 0x71, 0xc0, 0x51, 0xc8, 0x31, 0xd0,
	0x51, 0x52, 0xd0, 0x08, 0x53, 0x80, 0x41, 0xd8, 0x0b, 0x0c, 0x88, 0x34,
	0x80, 0x4b,
};
static const int big_313_lines[] = {
	4, 5, 5, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,
	146, 146, 147, 147, 147,
};
/* 3.13.0: exc(), co_firstlineno 2, 41 instructions or code units */
static const uint8_t exc_313_table[] = {
	0x80, 0x00, 0xf0, 0x02, 0x05, 0x05, 0x0e, 0xd8, 0x0f, 0x10, 0x8f, 0x73,
	0x89, 0x73, 0xf0, 0x08, 0x00, 0x0d, 0x0e, 0x89, 0x01, 0xf8, 0xf4, 0x07,
	0x00, 0x0c, 0x1a, 0xf3, 0x00, 0x01, 0x05, 0x14, 0xd8, 0x0f, 0x13, 0xe0,
	0x0c, 0x0d, 0x89, 0x01, 0xf0, 0x07, 0x01, 0x05, 0x14, 0xfb, 0xf0, 0x06,
	0x00, 0x0d, 0x0e, 0x89, 0x01, 0xfa,
};
static const int exc_313_lines[] = {
	2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 8,
	-1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 8, 8, 8, 5, -1,
	-1, -1, -1, 8, 8, 8, -1, -1, -1,
};

typedef int (*line_fn)(const uint8_t *t, size_t n, int firstlineno, int pos);

struct real_table {
	const char *name;
	const uint8_t *table;
	size_t n;
	int firstlineno;
	const int *lines;	/* per instruction (3.9, 3.10) or code unit (3.11+) */
	size_t n_lines;
};

#define REAL(fn, ver, first) { #fn "_" #ver, fn##_##ver##_table, sizeof(fn##_##ver##_table), \
			       first, fn##_##ver##_lines, ARRAY_LEN(fn##_##ver##_lines) }

static const struct real_table tables39[] = {
	REAL(sample, 39, 4), REAL(big, 39, 4), REAL(exc, 39, 2),
};
static const struct real_table tables310[] = {
	REAL(sample, 310, 4), REAL(big, 310, 4), REAL(exc, 310, 2),
};
static const struct real_table tables311[] = {
	REAL(sample, 311, 4), REAL(big, 311, 4), REAL(exc, 311, 2),
	REAL(sample, 312, 4), REAL(big, 312, 4), REAL(exc, 312, 2),
	REAL(sample, 313, 4), REAL(big, 313, 4), REAL(exc, 313, 2),
};

/*
 * An exact-size heap copy, so that AddressSanitizer reports any read past the
 * end of the table. Never NULL, even for n == 0.
 */
static uint8_t *dup_table(const uint8_t *t, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	assert_non_null(copy);
	if (n)
		memcpy(copy, t, n);
	return copy;
}

/* pos_step: 2 for byte offsets (3.9, 3.10), 1 for code units (3.11+) */
static void check_every_position(const struct real_table *rt, line_fn fn, int pos_step)
{
	uint8_t *t = dup_table(rt->table, rt->n);
	size_t i;
	int got;

	assert_true(rt->n_lines > 0);
	for (i = 0; i < rt->n_lines; i++) {
		got = fn(t, rt->n, rt->firstlineno, (int)i * pos_step);
		if (got != rt->lines[i]) {
			free(t);
			fail_msg("%s: position %d: line %d, want %d", rt->name, (int)i * pos_step,
				 got, rt->lines[i]);
		}
	}
	free(t);
}

/* --- 3.9 co_lnotab --- */

static void test_lnotab39_sample_every_offset(void **state)
{
	check_every_position(&tables39[0], lines_lnotab39, 2);
}

static void test_lnotab39_big_gaps_every_offset(void **state)
{
	/* line delta 141 as 127 + 14, byte delta 304 as 255 + 49 */
	check_every_position(&tables39[1], lines_lnotab39, 2);
}

static void test_lnotab39_negative_deltas_every_offset(void **state)
{
	check_every_position(&tables39[2], lines_lnotab39, 2);
}

static void test_lnotab39_past_the_end_keeps_last_line(void **state)
{
	const struct real_table *rt = &tables39[0];
	uint8_t *t = dup_table(rt->table, rt->n);

	/* as CPython's PyCode_Addr2Line: the last line reached */
	assert_int_equal(lines_lnotab39(t, rt->n, rt->firstlineno, (int)rt->n_lines * 2), 14);
	assert_int_equal(lines_lnotab39(t, rt->n, rt->firstlineno, 100000), 14);
	free(t);
}

static void test_lnotab39_empty_table_is_first_line(void **state)
{
	/*
	 * Not malformed in 3.9: "f = lambda: 0" on line 3 has co_lnotab b''
	 * and dis.findlinestarts() gives [(0, 3)].
	 */
	uint8_t *t = dup_table(NULL, 0);

	assert_int_equal(lines_lnotab39(t, 0, 3, 0), 3);
	assert_int_equal(lines_lnotab39(t, 0, 3, 2), 3);
	free(t);
}

static void test_lnotab39_odd_trailing_byte_ignored(void **state)
{
	/* (2, +1) then a lone byte that would be another address delta */
	static const uint8_t bytes[] = { 0x02, 0x01, 0x02 };
	uint8_t *t = dup_table(bytes, sizeof(bytes));

	assert_int_equal(lines_lnotab39(t, sizeof(bytes), 10, 0), 10);
	assert_int_equal(lines_lnotab39(t, sizeof(bytes), 10, 2), 11);
	assert_int_equal(lines_lnotab39(t, sizeof(bytes), 10, 6), 11);
	free(t);
}

/* --- 3.10 co_linetable --- */

static void test_linetable310_sample_every_offset(void **state)
{
	check_every_position(&tables310[0], lines_linetable310, 2);
}

static void test_linetable310_big_gaps_every_offset(void **state)
{
	/* a zero-width (0, +127) entry, and 254-byte entries with no line change */
	check_every_position(&tables310[1], lines_linetable310, 2);
}

static void test_linetable310_exception_handlers_every_offset(void **state)
{
	check_every_position(&tables310[2], lines_linetable310, 2);
}

static void test_linetable310_past_the_end_has_no_line(void **state)
{
	const struct real_table *rt = &tables310[0];
	uint8_t *t = dup_table(rt->table, rt->n);

	assert_int_equal(lines_linetable310(t, rt->n, rt->firstlineno, (int)rt->n_lines * 2), -1);
	assert_int_equal(lines_linetable310(t, rt->n, rt->firstlineno, 100000), -1);
	assert_int_equal(lines_linetable310(t, rt->n, rt->firstlineno, -2), -1);
	free(t);
}

static void test_linetable310_no_line_entry(void **state)
{
	/* (2, +1), (2, -128: no line), (2, +1): the marker does not move the line */
	static const uint8_t bytes[] = { 0x02, 0x01, 0x02, 0x80, 0x02, 0x01 };
	uint8_t *t = dup_table(bytes, sizeof(bytes));

	assert_int_equal(lines_linetable310(t, sizeof(bytes), 10, 0), 11);
	assert_int_equal(lines_linetable310(t, sizeof(bytes), 10, 2), -1);
	assert_int_equal(lines_linetable310(t, sizeof(bytes), 10, 4), 12);
	free(t);
}

static void test_linetable310_empty_table(void **state)
{
	uint8_t *t = dup_table(NULL, 0);

	assert_int_equal(lines_linetable310(t, 0, 10, 0), -1);
	assert_int_equal(lines_linetable310(t, 0, 10, 2), -1);
	free(t);
}

static void test_linetable310_odd_trailing_byte_ignored(void **state)
{
	static const uint8_t bytes[] = { 0x02, 0x01, 0x02 };
	uint8_t *t = dup_table(bytes, sizeof(bytes));

	assert_int_equal(lines_linetable310(t, sizeof(bytes), 10, 0), 11);
	assert_int_equal(lines_linetable310(t, sizeof(bytes), 10, 2), -1);
	free(t);
}

/* A table cut short loses positions (-1) but never gives a wrong line. */
static void check_truncations(const struct real_table *rt, line_fn fn, int pos_step)
{
	size_t cut, i;
	uint8_t *t;
	int got;

	for (cut = 0; cut < rt->n; cut++) {
		t = dup_table(rt->table, cut);
		for (i = 0; i <= rt->n_lines; i++) {
			got = fn(t, cut, rt->firstlineno, (int)i * pos_step);
			if (got != -1 && (i == rt->n_lines || got != rt->lines[i])) {
				free(t);
				fail_msg("%s cut to %zu bytes: position %d: line %d, want -1 or %d",
					 rt->name, cut, (int)i * pos_step, got,
					 i < rt->n_lines ? rt->lines[i] : -1);
			}
		}
		free(t);
	}
}

static void test_linetable310_truncated_tables(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(tables310); i++)
		check_truncations(&tables310[i], lines_linetable310, 2);
}

/* --- 3.11+ location table --- */

static void test_locations311_sample_every_code_unit(void **state)
{
	check_every_position(&tables311[0], lines_locations311, 1);
}

static void test_locations311_big_gaps_every_code_unit(void **state)
{
	/* long form with a two-chunk line delta (+141) and one-line forms */
	check_every_position(&tables311[1], lines_locations311, 1);
}

static void test_locations311_no_location_entries(void **state)
{
	/* exc() has code-15 entries (no location): -1 */
	check_every_position(&tables311[2], lines_locations311, 1);
}

static void test_locations312_every_code_unit(void **state)
{
	check_every_position(&tables311[3], lines_locations311, 1);
	check_every_position(&tables311[4], lines_locations311, 1);
	check_every_position(&tables311[5], lines_locations311, 1);
}

static void test_locations313_every_code_unit(void **state)
{
	check_every_position(&tables311[6], lines_locations311, 1);
	check_every_position(&tables311[7], lines_locations311, 1);
	check_every_position(&tables311[8], lines_locations311, 1);
}

static void test_locations311_past_the_end_has_no_line(void **state)
{
	size_t i;
	uint8_t *t;

	for (i = 0; i < ARRAY_LEN(tables311); i++) {
		const struct real_table *rt = &tables311[i];

		t = dup_table(rt->table, rt->n);
		assert_int_equal(lines_locations311(t, rt->n, rt->firstlineno, (int)rt->n_lines), -1);
		assert_int_equal(lines_locations311(t, rt->n, rt->firstlineno, -1), -1);
		free(t);
	}
}

/*
 * A target's first line and deltas that leave int's range: no line, not
 * undefined behaviour (UBSan stops the test on a signed overflow).
 */
static void test_lines_out_of_int_range_have_no_line(void **state)
{
	static const uint8_t pairs[] = { 2, 100, 2, 100, 2, 100 };
	static const uint8_t down[] = { 2, 0x9c, 2, 0x9c, 2, 0x9c };	/* -100 each */
	/* five no-column entries (13) of line delta +2^29 - 1: svarint 0x3ffffffe */
	static const uint8_t big[] = { 0xe8, 0x7e, 0x7f, 0x7f, 0x7f, 0x3f,
				       0xe8, 0x7e, 0x7f, 0x7f, 0x7f, 0x3f,
				       0xe8, 0x7e, 0x7f, 0x7f, 0x7f, 0x3f,
				       0xe8, 0x7e, 0x7f, 0x7f, 0x7f, 0x3f,
				       0xe8, 0x7e, 0x7f, 0x7f, 0x7f, 0x3f };

	(void)state;
	assert_int_equal(lines_lnotab39(pairs, sizeof(pairs), INT_MAX - 150, 5), -1);
	assert_int_equal(lines_lnotab39(down, sizeof(down), INT_MIN + 150, 5), -1);
	assert_int_equal(lines_lnotab39(pairs, sizeof(pairs), INT_MAX - 150, 1), INT_MAX - 150);
	assert_int_equal(lines_linetable310(pairs, sizeof(pairs), INT_MAX - 150, 5), -1);
	assert_int_equal(lines_linetable310(down, sizeof(down), INT_MIN + 150, 5), -1);
	assert_int_equal(lines_locations311(big, sizeof(big), 1, 4), -1);
	assert_int_equal(lines_locations311(big, sizeof(big), INT_MAX, 0), -1);
	assert_int_equal(lines_locations311(big, sizeof(big), 1, 0), (1 << 29));
}

static void test_locations311_empty_table(void **state)
{
	uint8_t *t = dup_table(NULL, 0);

	assert_int_equal(lines_locations311(t, 0, 10, 0), -1);
	assert_int_equal(lines_locations311(t, 0, 10, 1), -1);
	free(t);
}

static void test_locations311_truncated_varint(void **state)
{
	/* no-column form (13), line delta varint with its continuation bit set */
	static const uint8_t no_col[] = { 0xe8, 0x42 };
	/* long form (14), line delta 282 cut after the first chunk */
	static const uint8_t long_start[] = { 0xf0, 0x5a };
	/* long form, line delta and end line but no columns */
	static const uint8_t long_cols[] = { 0xf0, 0x02, 0x00 };
	/* long form, end column varint with its continuation bit set */
	static const uint8_t long_end_col[] = { 0xf0, 0x02, 0x00, 0x05, 0x46 };
	/* long form head alone */
	static const uint8_t long_head[] = { 0xf0 };
	uint8_t *t;

	t = dup_table(no_col, sizeof(no_col));
	assert_int_equal(lines_locations311(t, sizeof(no_col), 10, 0), -1);
	free(t);
	t = dup_table(long_start, sizeof(long_start));
	assert_int_equal(lines_locations311(t, sizeof(long_start), 10, 0), -1);
	free(t);
	t = dup_table(long_cols, sizeof(long_cols));
	assert_int_equal(lines_locations311(t, sizeof(long_cols), 10, 0), -1);
	free(t);
	t = dup_table(long_end_col, sizeof(long_end_col));
	assert_int_equal(lines_locations311(t, sizeof(long_end_col), 10, 0), -1);
	free(t);
	t = dup_table(long_head, sizeof(long_head));
	assert_int_equal(lines_locations311(t, sizeof(long_head), 10, 0), -1);
	free(t);
}

static void test_locations311_complete_varints_decode(void **state)
{
	/* the same entries completed: 0x42 0x01 is 66 = +33; 0x5a 0x04 is 282 = +141 */
	static const uint8_t no_col[] = { 0xe8, 0x42, 0x01 };
	static const uint8_t long_form[] = { 0xf0, 0x5a, 0x04, 0x00, 0x05, 0x06 };
	/* five chunks, not minimal: 3 = -1 */
	static const uint8_t five_chunks[] = { 0xe8, 0x43, 0x40, 0x40, 0x40, 0x00 };
	uint8_t *t;

	t = dup_table(no_col, sizeof(no_col));
	assert_int_equal(lines_locations311(t, sizeof(no_col), 10, 0), 43);
	free(t);
	t = dup_table(long_form, sizeof(long_form));
	assert_int_equal(lines_locations311(t, sizeof(long_form), 10, 0), 151);
	free(t);
	t = dup_table(five_chunks, sizeof(five_chunks));
	assert_int_equal(lines_locations311(t, sizeof(five_chunks), 10, 0), 9);
	free(t);
}

static void test_locations311_overlong_varint(void **state)
{
	/* six chunks is more than an int holds: malformed */
	static const uint8_t bytes[] = { 0xe8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01 };
	uint8_t *t = dup_table(bytes, sizeof(bytes));

	assert_int_equal(lines_locations311(t, sizeof(bytes), 10, 0), -1);
	free(t);
}

static void test_locations311_entry_without_high_bit(void **state)
{
	/* a table starting with a byte that is not an entry head */
	static const uint8_t first[] = { 0x08, 0x00 };
	/* one good entry (1 unit, short form), then a stray column byte */
	static const uint8_t later[] = { 0x80, 0x00, 0x08, 0x80, 0x00 };
	uint8_t *t;

	t = dup_table(first, sizeof(first));
	assert_int_equal(lines_locations311(t, sizeof(first), 10, 0), -1);
	free(t);
	t = dup_table(later, sizeof(later));
	assert_int_equal(lines_locations311(t, sizeof(later), 10, 0), 10);
	assert_int_equal(lines_locations311(t, sizeof(later), 10, 1), -1);
	assert_int_equal(lines_locations311(t, sizeof(later), 10, 2), -1);
	free(t);
}

static void test_locations311_entry_lengths(void **state)
{
	/*
	 * short form covering 8 units, one-line form (+2) covering 3, no-column
	 * form (-1) covering 1, no location covering 2
	 */
	static const uint8_t bytes[] = { 0x87, 0x00, 0xe2, 0x01, 0x02, 0xe8, 0x03, 0xf9 };
	uint8_t *t = dup_table(bytes, sizeof(bytes));
	int want[] = { 10, 10, 10, 10, 10, 10, 10, 10, 12, 12, 12, 11, -1, -1, -1 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(want); i++)
		assert_int_equal(lines_locations311(t, sizeof(bytes), 10, (int)i), want[i]);
	free(t);
}

static void test_locations311_truncated_tables(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(tables311); i++)
		check_truncations(&tables311[i], lines_locations311, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lnotab39_sample_every_offset),
		cmocka_unit_test(test_lnotab39_big_gaps_every_offset),
		cmocka_unit_test(test_lnotab39_negative_deltas_every_offset),
		cmocka_unit_test(test_lnotab39_past_the_end_keeps_last_line),
		cmocka_unit_test(test_lnotab39_empty_table_is_first_line),
		cmocka_unit_test(test_lnotab39_odd_trailing_byte_ignored),
		cmocka_unit_test(test_linetable310_sample_every_offset),
		cmocka_unit_test(test_linetable310_big_gaps_every_offset),
		cmocka_unit_test(test_linetable310_exception_handlers_every_offset),
		cmocka_unit_test(test_linetable310_past_the_end_has_no_line),
		cmocka_unit_test(test_linetable310_no_line_entry),
		cmocka_unit_test(test_linetable310_empty_table),
		cmocka_unit_test(test_linetable310_odd_trailing_byte_ignored),
		cmocka_unit_test(test_linetable310_truncated_tables),
		cmocka_unit_test(test_locations311_sample_every_code_unit),
		cmocka_unit_test(test_locations311_big_gaps_every_code_unit),
		cmocka_unit_test(test_locations311_no_location_entries),
		cmocka_unit_test(test_locations312_every_code_unit),
		cmocka_unit_test(test_locations313_every_code_unit),
		cmocka_unit_test(test_locations311_past_the_end_has_no_line),
		cmocka_unit_test(test_locations311_empty_table),
		cmocka_unit_test(test_lines_out_of_int_range_have_no_line),
		cmocka_unit_test(test_locations311_truncated_varint),
		cmocka_unit_test(test_locations311_complete_varints_decode),
		cmocka_unit_test(test_locations311_overlong_varint),
		cmocka_unit_test(test_locations311_entry_without_high_bit),
		cmocka_unit_test(test_locations311_entry_lengths),
		cmocka_unit_test(test_locations311_truncated_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
