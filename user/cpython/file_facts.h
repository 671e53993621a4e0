/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * What discovery reads from a build's files, kept for the next process of
 * the same build: a file is known by what fstat says of it (device, inode,
 * size, mtime, ctime), never by its path, which names other files in other
 * mount namespaces. A few entries (FILE_FACTS_SLOTS), the least recently
 * used dropped first; the session's one thread uses it, so it is not locked.
 */
#ifndef INFLIGHT_FILE_FACTS_H
#define INFLIGHT_FILE_FACTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "python_target.h"

#define FILE_FACTS_SLOTS 16	/* three or four per build (runtime, .AsyncioDebug, Task, warnings) */
#define FILE_FACTS_MAX_SIZE 1024	/* the largest facts kept */

enum file_facts_kind { FACTS_RUNTIME = 1, FACTS_ASYNCIO_DEBUG, FACTS_TASK, FACTS_WARN_FUNNEL };

/* Every input the facts depend on; zero what a kind does not use. */
struct facts_key {
	uint64_t kind;
	struct file_key file;
	struct file_key runtime;	/* FACTS_TASK: the runtime file its layout came from */
	uint64_t minor;			/* the 3.<minor> the runtime file's name says */
	uint64_t map_offset;		/* FACTS_RUNTIME: where the first mapping starts in the file */
	uint64_t asyncio_debug;		/* FACTS_TASK: the layout took .AsyncioDebug from the file */
};

/* fd's file as it stands: 0 or -errno. */
int file_key_of(int fd, struct file_key *k);
/* Copies key's facts (size bytes) into out: true, or false if not kept. */
bool file_facts_get(const struct facts_key *key, void *out, size_t size);
/* Keeps size bytes of facts for key, in place of the least recently used. */
void file_facts_put(const struct facts_key *key, const void *facts, size_t size);

#endif
