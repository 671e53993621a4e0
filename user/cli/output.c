// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"

int output_open(struct output *o, const char *path)
{
	struct stat st;
	int fd, err;

	memset(o, 0, sizeof(*o));
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	/* a directory would only fail at the rename, after the whole trace */
	if (path[strlen(path) - 1] == '/' || (!stat(path, &st) && S_ISDIR(st.st_mode)))
		return -EISDIR;
	o->path = strdup(path);
	if (!o->path || asprintf(&o->tmp_path, "%s.inflight-XXXXXX", path) < 0) {
		o->tmp_path = NULL;
		output_abort(o);
		return -ENOMEM;
	}
	fd = mkstemp(o->tmp_path);
	if (fd < 0) {
		err = -errno;
		free(o->tmp_path);
		o->tmp_path = NULL;
		output_abort(o);
		return err;
	}
	fchmod(fd, 0644);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		err = -errno;
		close(fd);
		output_abort(o);
		return err;
	}
	return 0;
}

int output_commit(struct output *o)
{
	int err = 0;

	if (!o->path)
		return fflush(o->f) ? -errno : 0;
	if (fflush(o->f) || fsync(fileno(o->f)))
		err = -errno;
	if (fclose(o->f) && !err)
		err = -errno;
	o->f = NULL;
	if (!err && rename(o->tmp_path, o->path))
		err = -errno;
	if (!err) {
		free(o->tmp_path);
		o->tmp_path = NULL;
	}
	output_abort(o);
	return err;
}

void output_abort(struct output *o)
{
	if (o->f && o->path)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp_path)
		unlink(o->tmp_path);
	free(o->tmp_path);
	free(o->path);
	o->tmp_path = NULL;
	o->path = NULL;
}
