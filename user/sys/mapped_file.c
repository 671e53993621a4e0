// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "mapped_file.h"

int mapped_file_path(pid_t pid, const struct file_mapping *m, enum mapped_route route,
		     char *buf, size_t size)
{
	int n;

	if (route == MAPPED_VIA_MAP_FILES)
		n = snprintf(buf, size, "/proc/%d/map_files/%llx-%llx", pid,
			     (unsigned long long)m->start, (unsigned long long)m->end);
	else if (m->deleted || m->path[0] != '/')
		return -ENOENT;
	else
		n = snprintf(buf, size, "/proc/%d/root%s", pid, m->path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFDIR: return "a directory";
	case S_IFSOCK: return "a socket";
	default: return "not a regular file";
	}
}

int mapped_file_check(const struct stat *st, const struct file_mapping *m,
		      enum mapped_route route, char *why, size_t why_size)
{
	bool same_dev = major(st->st_dev) == m->dev_major && minor(st->st_dev) == m->dev_minor;

	if (!S_ISREG(st->st_mode)) {
		snprintf(why, why_size, "it is %s, not a regular file", file_kind(st->st_mode));
		return -EINVAL;
	}
	/*
	 * map_files is the mapping's own link, so there only the inode number
	 * must agree: btrfs's stat gives a subvolume's device where maps gives
	 * the filesystem's.
	 */
	if (st->st_ino == m->inode && (same_dev || route == MAPPED_VIA_MAP_FILES))
		return 0;
	snprintf(why, why_size,
		 "it is another file (device %x:%x inode %llu; the process maps %x:%x inode %llu)",
		 major(st->st_dev), minor(st->st_dev), (unsigned long long)st->st_ino,
		 m->dev_major, m->dev_minor, (unsigned long long)m->inode);
	return -ESTALE;
}

/* Reopens an O_PATH fd for reading. */
static int reopen_for_reading(int path_fd)
{
	char self[32];
	int fd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", path_fd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

/* m's file by route: an fd, or -errno with why. */
static int open_by(pid_t pid, const struct file_mapping *m, enum mapped_route route,
		   char *path, size_t size, char *why, size_t why_size)
{
	struct stat st;
	int path_fd, err;

	err = mapped_file_path(pid, m, route, path, size);
	if (err) {
		snprintf(why, why_size, "%s", err == -ENOENT ? "no name leads to it" : strerror(-err));
		return err;
	}
	/* O_PATH only resolves the name: no FIFO to block on, no device's open to trigger */
	path_fd = open(path, O_PATH | O_CLOEXEC);
	if (path_fd < 0) {
		err = -errno;
		snprintf(why, why_size, "%s%s", strerror(-err),
			 route == MAPPED_VIA_MAP_FILES && err == -EPERM ?
			 " (it needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)" : "");
		return err;
	}
	if (fstat(path_fd, &st)) {
		err = -errno;
		snprintf(why, why_size, "%s", strerror(-err));
	} else {
		err = mapped_file_check(&st, m, route, why, why_size);
	}
	if (!err) {
		err = reopen_for_reading(path_fd);
		if (err < 0)
			snprintf(why, why_size, "%s", strerror(-err));
	}
	close(path_fd);
	return err;
}

int mapped_file_open(pid_t pid, const struct file_mapping *m, char *opened_by, size_t size,
		     char *why, size_t why_size)
{
	char by_map_files[256], by_root[256];
	int fd;

	fd = open_by(pid, m, MAPPED_VIA_MAP_FILES, opened_by, size, by_map_files,
		     sizeof(by_map_files));
	if (fd >= 0)
		return fd;
	/* the mapping's own link led to the wrong thing (remapped since?): its name cannot do better */
	if (fd == -EINVAL || fd == -ESTALE) {
		snprintf(why, why_size, "refused %s, which process %d maps, as /proc/%d/map_files "
			 "shows it: %s", m->path, pid, pid, by_map_files);
		return fd;
	}
	if (m->deleted) {
		snprintf(why, why_size,
			 "cannot open %s: deleted since process %d mapped it, and /proc/%d/map_files, "
			 "the only way to it, failed: %s", m->path, pid, pid, by_map_files);
		return fd;
	}
	fd = open_by(pid, m, MAPPED_VIA_ROOT, opened_by, size, by_root, sizeof(by_root));
	if (fd < 0)
		snprintf(why, why_size,
			 "cannot open %s as process %d maps it: through /proc/%d/map_files: %s; "
			 "through /proc/%d/root: %s", m->path, pid, pid, by_map_files, pid, by_root);
	return fd;
}
