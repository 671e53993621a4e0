// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"

/*
 * A symbolic link someone else made in a directory others can write (/tmp,
 * say): following it would let them aim a root-owned write anywhere.
 */
static bool planted_link(const char *path, const struct stat *link)
{
	char *copy = strdup(path);
	struct stat dir;
	bool others_write;

	if (!copy)
		return true;
	others_write = !stat(dirname(copy), &dir) && (dir.st_mode & (S_IWGRP | S_IWOTH));
	free(copy);
	return others_write && link->st_uid != geteuid();
}

/*
 * What is at path decides how the report gets there: nothing or a regular
 * file, a temporary file renamed into place; a FIFO or a character device (a
 * terminal, /dev/null), written through as it is. Anything else is refused.
 */
static int check_destination(const char *path, bool *stream)
{
	struct stat st;

	*stream = false;
	if (path[strlen(path) - 1] == '/')
		return -EISDIR;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode) && planted_link(path, &st))
		return -EPERM;
	if (stat(path, &st))
		return errno == ENOENT ? 0 : -errno;	/* a dangling link: renamed over */
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		*stream = true;
		return 0;
	}
	return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

/* A FIFO nobody reads fails at once (ENXIO) rather than blocking the trace's start. */
static int open_stream(struct output *o, const char *path)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), flags;

	if (fd < 0)
		return -errno;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) || !(o->f = fdopen(fd, "w"))) {
		close(fd);
		return -errno;
	}
	o->stream = true;
	return 0;
}

/*
 * The temporary file a fatal signal must not leave behind (one output at a
 * time), for a command that asked with output_remove_on_signals().
 */
static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t remove_armed;
static char *volatile doomed_tmp;

static void remove_and_die(int sig)
{
	char *tmp = doomed_tmp;

	if (tmp)
		unlink(tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

void output_remove_on_signals(void)
{
	struct sigaction sa = { .sa_handler = remove_and_die };
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
	remove_armed = 1;
}

/* Held while the file exists but the handler does not know it yet. */
static void block_fatal_signals(sigset_t *old)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaddset(&set, fatal_signals[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void forget_doomed(const struct output *o)
{
	if (o->tmp_path && o->tmp_path == doomed_tmp)
		doomed_tmp = NULL;
}

/* The file's mode as open(2) would make it: 0666 less the umask. */
static int honour_umask(int fd)
{
	mode_t mask = umask(0);

	umask(mask);
	return fchmod(fd, 0666 & ~mask) ? -errno : 0;
}

/*
 * An unnamed file in the destination's directory (O_TMPFILE), named only once
 * the report is complete: a process killed while tracing (SIGKILL, the OOM
 * killer) leaves nothing behind. -EOPNOTSUPP where the file system cannot
 * (-EISDIR from a kernel that predates O_TMPFILE).
 */
static int open_unnamed(struct output *o)
{
	char *dir = strdup(o->path);
	int fd, err;

	if (!dir)
		return -ENOMEM;
	fd = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
	free(dir);
	if (fd < 0)
		return -errno;
	if (!(o->f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		return err;
	}
	o->unnamed = true;
	return 0;
}

/* A named temporary file beside the destination, where O_TMPFILE is not to be had. */
static int open_temporary(struct output *o, const char *path)
{
	sigset_t old;
	int fd, err;

	if (asprintf(&o->tmp_path, "%s.inflight-XXXXXX", path) < 0) {
		o->tmp_path = NULL;
		return -ENOMEM;
	}
	if (remove_armed)
		block_fatal_signals(&old);
	fd = mkstemp(o->tmp_path);
	if (fd >= 0 && remove_armed)
		doomed_tmp = o->tmp_path;
	err = -errno;
	if (remove_armed)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd < 0) {
		free(o->tmp_path);
		o->tmp_path = NULL;
		return err;
	}
	err = honour_umask(fd);
	if (!err && !(o->f = fdopen(fd, "w")))
		err = -errno;
	if (err)
		close(fd);
	return err;
}

static int open_file(struct output *o, const char *path)
{
	int err;

	o->path = strdup(path);
	if (!o->path)
		return -ENOMEM;
	err = open_unnamed(o);
	if (err == -EOPNOTSUPP || err == -EISDIR)
		err = open_temporary(o, path);
	return err;
}

int output_open(struct output *o, const char *path)
{
	bool stream;
	int err;

	memset(o, 0, sizeof(*o));
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	err = check_destination(path, &stream);
	if (!err && stream)
		err = open_stream(o, path);
	else if (!err)
		err = open_file(o, path);
	if (err)
		output_abort(o);
	return err;
}

const char *output_strerror(int err)
{
	switch (err) {
	case -EPERM:
		return "it is a symbolic link another user made in a directory others can write: "
		       "not followed";
	case -EINVAL:
		return "it is neither a regular file nor a FIFO or a terminal";
	case -ENXIO:
		return "it is a FIFO no process is reading";
	default:
		return strerror(-err);
	}
}

/*
 * Names the complete unnamed file beside the destination, under a name no
 * one has (linkat never replaces), for output_commit to rename into place.
 */
static int link_beside(struct output *o)
{
	size_t size = strlen(o->path) + sizeof(".inflight-12345678");
	char fd_path[32], *name = malloc(size);
	int tries, err = -EEXIST;
	unsigned int r;

	if (!name)
		return -ENOMEM;
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fileno(o->f));
	for (tries = 0; tries < 16 && err == -EEXIST; tries++) {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
			err = -errno;
			break;
		}
		snprintf(name, size, "%s.inflight-%08x", o->path, r);
		err = linkat(AT_FDCWD, fd_path, AT_FDCWD, name, AT_SYMLINK_FOLLOW) ? -errno : 0;
	}
	if (err) {
		free(name);
		return err;
	}
	o->tmp_path = name;
	if (remove_armed)
		doomed_tmp = name;
	return 0;
}

int output_commit(struct output *o)
{
	int err = 0;

	if (!o->path && !o->stream)
		return fflush(o->f) ? -errno : 0;
	if (fflush(o->f) || (!o->stream && fsync(fileno(o->f))))
		err = -errno;
	if (!err && o->unnamed)
		err = link_beside(o);
	if (fclose(o->f) && !err)
		err = -errno;
	o->f = NULL;
	if (!err && !o->stream && rename(o->tmp_path, o->path))
		err = -errno;
	if (!err) {
		forget_doomed(o);
		free(o->tmp_path);
		o->tmp_path = NULL;
	}
	output_abort(o);
	return err;
}

void output_abort(struct output *o)
{
	if (o->f && (o->path || o->stream))
		fclose(o->f);
	o->f = NULL;
	o->stream = o->unnamed = false;
	forget_doomed(o);
	if (o->tmp_path)
		unlink(o->tmp_path);
	free(o->tmp_path);
	free(o->path);
	o->tmp_path = NULL;
	o->path = NULL;
}
