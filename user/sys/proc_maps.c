// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "proc_maps.h"

#define DELETED_SUFFIX " (deleted)"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* "7f12a000-7f12b000 r-xp 00001000 08:01 1234   /usr/lib/libpython3.11.so.1.0" */
static bool parse_line(const char *line, struct file_mapping *m)
{
	unsigned long long start, end, offset, inode;
	unsigned int major, minor;
	char perms[8] = "";	/* a field shorter than "r-x" leaves the rest zero */
	int path_at = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &offset,
		   &major, &minor, &inode, &path_at) != 7 || !path_at || line[path_at] != '/')
		return false;
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->dev_major = major;
	m->dev_minor = minor;
	m->inode = inode;
	m->exec = perms[2] == 'x';
	snprintf(m->path, sizeof(m->path), "%s", line + path_at);
	m->path[strcspn(m->path, "\n")] = '\0';
	m->deleted = ends_with(m->path, DELETED_SUFFIX);
	return true;
}

int proc_maps_parse(FILE *f, struct proc_maps *out)
{
	struct file_mapping m, *grown;
	size_t cap = 0, len = 0;
	char *line = NULL;

	memset(out, 0, sizeof(*out));
	while (getline(&line, &len, f) > 0) {
		if (!parse_line(line, &m))
			continue;
		if (out->len == cap) {
			cap = cap ? cap * 2 : 64;
			grown = reallocarray(out->maps, cap, sizeof(*grown));
			if (!grown) {
				free(line);
				proc_maps_free(out);
				return -ENOMEM;
			}
			out->maps = grown;
		}
		out->maps[out->len++] = m;
	}
	free(line);
	return 0;
}

int proc_maps_read(pid_t pid, struct proc_maps *out)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = proc_maps_parse(f, out);
	fclose(f);
	return err;
}

void proc_maps_free(struct proc_maps *m)
{
	free(m->maps);
	memset(m, 0, sizeof(*m));
}

const struct file_mapping *proc_maps_find(const struct proc_maps *m, const char *prefix)
{
	const char *base;
	size_t i;

	for (i = 0; i < m->len; i++) {
		base = strrchr(m->maps[i].path, '/');
		base = base ? base + 1 : m->maps[i].path;
		if (!strncmp(base, prefix, strlen(prefix)))
			return &m->maps[i];
	}
	return NULL;
}

const struct file_mapping *proc_maps_find_path(const struct proc_maps *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->len; i++)
		if (!strcmp(m->maps[i].path, path))
			return &m->maps[i];
	return NULL;
}
