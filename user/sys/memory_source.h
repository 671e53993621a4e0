/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Where a target's memory is read from. Every reader of a target's memory
 * goes through memory_readv(): a live process by default
 * (process_vm_readv), or a source installed for that PID instead, such as
 * a test's image of made-up objects at made-up addresses. How memory is read
 * stays apart from what it means.
 */
#ifndef INFLIGHT_MEMORY_SOURCE_H
#define INFLIGHT_MEMORY_SOURCE_H
#include <sys/types.h>
#include <sys/uio.h>

struct memory_source {
	/*
	 * As process_vm_readv(2): the bytes read, stopping at the first remote
	 * range that cannot be read whole; -1 with errno set if none was.
	 */
	ssize_t (*readv)(void *ctx, const struct iovec *local, unsigned long n_local,
			 const struct iovec *remote, unsigned long n_remote);
	void *ctx;
};

/* Reads pid's memory, from the source installed for pid or else the process. */
ssize_t memory_readv(pid_t pid, const struct iovec *local, unsigned long n_local,
		     const struct iovec *remote, unsigned long n_remote);
/* Reads pid's memory from src from now on (NULL: the process again): 0 or -ENOSPC. */
int memory_source_install(pid_t pid, const struct memory_source *src);

#endif
