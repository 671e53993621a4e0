/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Where a task was created, from the creator's Python frames: the policy,
 * apart from how the frames are read.
 */
#ifndef INFLIGHT_CREATION_SITE_H
#define INFLIGHT_CREATION_SITE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "py_objects.h"

/* A frame of the creator's stack: its code (NULL if unreadable) and position. */
struct frame_ref {
	const struct py_code *code;
	uint64_t pos;
};

/* Code of the asyncio package itself. */
bool in_asyncio_package(const char *file);
/*
 * Which of frames (innermost first) names the creation site: the innermost
 * that is not asyncio's own code. A task that asyncio creates from an event
 * loop callback (a server's connection handler, say) has no such frame above
 * the loop: its site is the callback that created it, the asyncio frame just
 * inside the loop's Handle._run. -1 if none.
 */
int creation_site_frame(const struct frame_ref *frames, size_t n);

#endif
