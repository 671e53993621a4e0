/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
#ifndef INFLIGHT_SMALL_FILE_H
#define INFLIGHT_SMALL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* One read of a small file (/proc, /sys), NUL-terminated: its length, or -errno. */
ssize_t small_file_read(const char *path, char *buf, size_t size);

/* The same for /proc/PID/<name>: a process that is gone is -ESRCH. */
ssize_t proc_file_read(pid_t pid, const char *name, char *buf, size_t size);

#endif
