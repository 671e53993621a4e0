/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * What the task_snapshot fuzzer and its seed generator agree on: an input
 * is one byte choosing the CPython version (3.<oldest + byte % count>),
 * then a target's memory image starting at SNAPSHOT_IMAGE_BASE, where
 * _PyRuntime is. Low, so that pointers into it are small numbers a fuzzer
 * finds; everything outside it is unmapped. For 3.14+ the image's last
 * CPYTHON_ASYNCIO_DEBUG_SIZE bytes are also _asyncio's .AsyncioDebug.
 */
#ifndef INFLIGHT_FUZZ_SNAPSHOT_IMAGE_H
#define INFLIGHT_FUZZ_SNAPSHOT_IMAGE_H

#define SNAPSHOT_IMAGE_BASE 0x10000ULL
/* _Py_NoneStruct, where a dead weakref points: outside the image */
#define SNAPSHOT_NONE_ADDR 0x8000ULL

#endif
