/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * For the harnesses whose code under test reads a file by path: the input
 * becomes a regular file in memory (a memfd, never on disk), named by its
 * /proc/self/fd path, rewritten for each input.
 */
#ifndef INFLIGHT_FUZZ_FILE_H
#define INFLIGHT_FUZZ_FILE_H
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The path of a regular file holding exactly data; aborts if it cannot be made. */
static const char *fuzz_file_of(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (fd < 0) {
			perror("inflight: failed to create the fuzz input file");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("inflight: failed to write the fuzz input file");
		abort();
	}
	return path;
}

#endif
