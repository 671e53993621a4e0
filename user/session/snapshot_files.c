// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "snapshot_files.h"

#define NAME_PREFIX "inflight-"
#define NAME_SUFFIX ".json.gz"
/* YYYYmmddTHHMMSSZ: 8 digits, T, 6 digits, Z */
#define STAMP_LEN 16

void snapshot_host_name(const char *hostname, char *buf, size_t size)
{
	size_t i;

	snprintf(buf, size, "%s", hostname && hostname[0] ? hostname : "unknown");
	for (i = 0; buf[i]; i++)
		if (buf[i] == '/')
			buf[i] = '_';
}

int snapshot_file_name(const char *host, time_t when, char *buf, size_t size)
{
	char stamp[STAMP_LEN + 1];
	struct tm tm;
	int n;

	gmtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	n = snprintf(buf, size, NAME_PREFIX "%s-%s" NAME_SUFFIX, host, stamp);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool is_stamp(const char *s)
{
	size_t i;

	for (i = 0; i < STAMP_LEN; i++) {
		if (i == 8 && s[i] == 'T')
			continue;
		if (i == STAMP_LEN - 1 && s[i] == 'Z')
			continue;
		if (i == 8 || i == STAMP_LEN - 1 || s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/*
 * The host is matched whole: "web" does not claim "inflight-web-1-...", whose
 * rest is no time stamp.
 */
bool snapshot_file_is_of_host(const char *name, const char *host)
{
	size_t p = strlen(NAME_PREFIX), h = strlen(host);

	if (strncmp(name, NAME_PREFIX, p) || strncmp(name + p, host, h) || name[p + h] != '-')
		return false;
	name += p + h + 1;
	return strlen(name) == STAMP_LEN + strlen(NAME_SUFFIX) && is_stamp(name) &&
	       !strcmp(name + STAMP_LEN, NAME_SUFFIX);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* host's snapshots in d but written, as regular files: 0 or -errno; free each and *names. */
static int list_others(DIR *d, const char *host, const char *written, char ***names, size_t *n)
{
	size_t cap = 0, len = 0;
	char **out = NULL, **grown;
	struct dirent *e;
	struct stat st;
	int err = 0;

	while (!err && (errno = 0, e = readdir(d))) {
		if (!snapshot_file_is_of_host(e->d_name, host) || !strcmp(e->d_name, written))
			continue;
		/* a link or a directory with a snapshot's name is not one inflight wrote */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 64;
			grown = reallocarray(out, cap, sizeof(*out));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			out = grown;
		}
		if (!(out[len] = strdup(e->d_name)))
			err = -ENOMEM;
		else
			len++;
	}
	if (!err && errno)
		err = -errno;
	*names = out;
	*n = len;
	return err;
}

int snapshot_keep_newest(const char *dir, const char *host, const char *written, size_t keep,
			 size_t *removed)
{
	char **names;
	size_t n, i;
	int err, first_err = 0;
	DIR *d;

	*removed = 0;
	if (keep < 1)
		return -EINVAL;
	d = opendir(dir);
	if (!d)
		return -errno;
	err = list_others(d, host, written, &names, &n);
	if (!err && n)
		/* the stamps sort as the times do; written is one of the keep */
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; !err && i + (keep - 1) < n; i++) {
		if (!unlinkat(dirfd(d), names[i], 0) || errno == ENOENT)
			(*removed)++;
		else if (!first_err)
			first_err = -errno;
	}
	if (!err)
		err = first_err;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}
