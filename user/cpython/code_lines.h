/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Source lines from CPython's line tables, read out of a target: each format
 * as documented in CPython's Objects/lnotab_notes.txt (3.9, 3.10) and
 * Objects/locations.md (3.11+). Pure functions over bytes; -1 when the
 * position has no line or the table is malformed.
 */
#ifndef INFLIGHT_CODE_LINES_H
#define INFLIGHT_CODE_LINES_H
#include <stddef.h>
#include <stdint.h>

/* 3.9 co_lnotab; offset in bytes of bytecode (f_lasti) */
int lines_lnotab39(const uint8_t *t, size_t n, int firstlineno, int offset);
/* 3.10 co_linetable; offset in bytes (f_lasti * 2) */
int lines_linetable310(const uint8_t *t, size_t n, int firstlineno, int offset);
/* 3.11+ location table; index in code units */
int lines_locations311(const uint8_t *t, size_t n, int firstlineno, int index);

#endif
