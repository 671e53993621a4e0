// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc_cgroup.h"
#include "small_file.h"

#define CONTAINER_ID_LEN 64

/* The path of the line "<id>:<controllers>:<path>" whose controllers are these. */
static bool line_path(const char *line, size_t len, const char *controllers, char *path,
		      size_t size)
{
	const char *c = memchr(line, ':', len), *p;
	size_t n = strlen(controllers);

	if (!c)
		return false;
	c++;
	p = memchr(c, ':', len - (size_t)(c - line));
	if (!p || (size_t)(p - c) != n || strncmp(c, controllers, n))
		return false;
	p++;
	n = len - (size_t)(p - line);
	if (!n || *p != '/' || n >= size)
		return false;
	memcpy(path, p, n);
	path[n] = '\0';
	return true;
}

/* The path of the first line whose controllers are these (and whose id is v2's, 0, if want_v2). */
static bool find_line(const char *text, const char *controllers, bool want_v2, char *path,
		      size_t size)
{
	const char *line = text, *end;
	size_t len;

	for (; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		len = (size_t)(end - line);
		if (want_v2 && strncmp(line, "0:", 2))
			continue;
		if (line_path(line, len, controllers, path, size))
			return true;
	}
	return false;
}

int cgroup_path_parse(const char *text, char *path, size_t size)
{
	/* hybrid hosts put processes in v2's root and name them in v1's systemd tree */
	if (find_line(text, "", true, path, size) && strcmp(path, "/"))
		return 0;
	if (find_line(text, "name=systemd", false, path, size))
		return 0;
	return find_line(text, "", true, path, size) ? 0 : -ENOENT;
}

static bool is_container_id(const char *s, size_t len)
{
	size_t i;

	if (len != CONTAINER_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A component "<prefix><64 hex digits><suffix>": copies the ID out. */
static bool id_between(const char *comp, size_t len, const char *prefix, const char *suffix,
		       char *id)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	if (len != pl + CONTAINER_ID_LEN + sl || strncmp(comp, prefix, pl) ||
	    strncmp(comp + len - sl, suffix, sl) || !is_container_id(comp + pl, CONTAINER_ID_LEN))
		return false;
	memcpy(id, comp + pl, CONTAINER_ID_LEN);
	id[CONTAINER_ID_LEN] = '\0';
	return true;
}

/*
 * The container ID a component names, by the runtime's naming: systemd's
 * cgroup driver makes "<runtime>-<id>.scope"; the cgroupfs driver a bare
 * ID under "docker" (or a pod's directory), "libpod-<id>" for podman.
 */
static enum cgroup_runtime container_of(const char *comp, size_t len, const char *parent,
					size_t parent_len, char *id)
{
	if (id_between(comp, len, "docker-", ".scope", id))
		return CGROUP_RUNTIME_DOCKER;
	if (id_between(comp, len, "libpod-", ".scope", id) || id_between(comp, len, "libpod-", "", id))
		return CGROUP_RUNTIME_PODMAN;
	if (id_between(comp, len, "cri-containerd-", ".scope", id) ||
	    id_between(comp, len, "crio-", ".scope", id))
		return CGROUP_RUNTIME_CONTAINERD;
	if (id_between(comp, len, "", "", id)) {
		if (parent_len == strlen("docker") && !strncmp(parent, "docker", parent_len))
			return CGROUP_RUNTIME_DOCKER;
		return CGROUP_RUNTIME_CONTAINERD;
	}
	return CGROUP_RUNTIME_NONE;
}

/*
 * A pod's UID from "pod<uid>" (cgroupfs driver) or "kubepods-<qos>-pod<uid>.slice"
 * (systemd driver, which writes the UID's dashes as underscores).
 */
static bool pod_uid_of(const char *comp, size_t len, char *uid, size_t size)
{
	const char *p = NULL, *s;
	size_t n, i;

	for (s = comp; s + 3 <= comp + len; s++)
		if (!strncmp(s, "pod", 3) && (s == comp || s[-1] == '-'))
			p = s + 3;
	if (!p)
		return false;
	n = (size_t)(comp + len - p);
	if (n > strlen(".slice") && !strncmp(comp + len - strlen(".slice"), ".slice", 6))
		n -= strlen(".slice");
	if (n < 32 || n >= size)
		return false;
	for (i = 0; i < n; i++) {
		if (!(p[i] == '-' || p[i] == '_' || (p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return false;
		uid[i] = p[i] == '_' ? '-' : p[i];
	}
	uid[n] = '\0';
	return true;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && !strncmp(s + len - n, suffix, n);
}

void cgroup_identify(const char *path, struct cgroup_identity *id)
{
	const char *comp = path, *end, *parent = "";
	size_t len, parent_len = 0;
	bool kubepods = false;
	char cid[CGROUP_ID_MAX];
	enum cgroup_runtime r;

	id->runtime = CGROUP_RUNTIME_NONE;
	id->id[0] = id->pod_uid[0] = id->unit[0] = '\0';
	for (; *comp; comp = *end ? end + 1 : end) {
		end = strchrnul(comp, '/');
		len = (size_t)(end - comp);
		if (!len)
			continue;
		if (!strncmp(comp, "kubepods", strlen("kubepods")))
			kubepods = true;
		if (kubepods && !id->pod_uid[0])
			pod_uid_of(comp, len, id->pod_uid, sizeof(id->pod_uid));
		r = container_of(comp, len, parent, parent_len, cid);
		if (r != CGROUP_RUNTIME_NONE) {
			id->runtime = kubepods ? CGROUP_RUNTIME_KUBERNETES : r;
			memcpy(id->id, cid, sizeof(cid));
		} else if (ends_with(comp, len, ".service") && len < sizeof(id->unit)) {
			memcpy(id->unit, comp, len);
			id->unit[len] = '\0';
		}
		parent = comp;
		parent_len = len;
	}
	if (kubepods && id->pod_uid[0])
		id->runtime = CGROUP_RUNTIME_KUBERNETES;
	else if (id->runtime == CGROUP_RUNTIME_NONE && id->unit[0])
		id->runtime = CGROUP_RUNTIME_SYSTEMD;
	/* a container's processes are named by it, not by a unit inside it */
	if (id->runtime != CGROUP_RUNTIME_SYSTEMD)
		id->unit[0] = '\0';
}

int proc_cgroup_read(pid_t pid, struct cgroup_identity *id)
{
	char buf[8192];
	ssize_t n = proc_file_read(pid, "cgroup", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	if (cgroup_path_parse(buf, id->path, sizeof(id->path)))
		id->path[0] = '\0';
	cgroup_identify(id->path, id);
	return 0;
}

const char *cgroup_runtime_name(enum cgroup_runtime r)
{
	switch (r) {
	case CGROUP_RUNTIME_DOCKER:
		return "docker";
	case CGROUP_RUNTIME_PODMAN:
		return "podman";
	case CGROUP_RUNTIME_CONTAINERD:
		return "containerd";
	case CGROUP_RUNTIME_KUBERNETES:
		return "kubernetes";
	case CGROUP_RUNTIME_SYSTEMD:
		return "systemd";
	default:
		return NULL;
	}
}
