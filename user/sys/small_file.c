// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "small_file.h"

ssize_t small_file_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if (!size)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

ssize_t proc_file_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = small_file_read(path, buf, size);
	/* open says ENOENT once the process is gone, read ESRCH while it goes */
	return n == -ENOENT || n == -ESRCH ? -ESRCH : n;
}
