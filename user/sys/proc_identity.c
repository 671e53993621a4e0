// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proc_identity.h"
#include "proc_stat.h"
#include "small_file.h"

/* include/linux/sched.h */
#define PF_KTHREAD 0x00200000UL
#define CMDLINE_MAX (64 * 1024)

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int proc_list_pids(pid_t **pids, size_t *n)
{
	DIR *d = opendir("/proc");
	size_t cap = 0, len = 0;
	pid_t *out = NULL, *grown;
	struct dirent *e;
	char *end;
	long v;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		v = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || v <= 0)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 256;
			grown = reallocarray(out, cap, sizeof(*out));
			if (!grown) {
				free(out);
				closedir(d);
				return -ENOMEM;
			}
			out = grown;
		}
		out[len++] = (pid_t)v;
	}
	closedir(d);
	qsort(out, len, sizeof(*out), cmp_pid);
	*pids = out;
	*n = len;
	return 0;
}

bool proc_is_kernel_thread(pid_t pid)
{
	struct proc_stat st;

	return !proc_stat_read(pid, &st) && (st.flags & PF_KTHREAD);
}

int proc_cmdline_split(const char *text, size_t len, char ***argv, size_t *argc)
{
	size_t i, n = 0, k = 0;
	char **v;

	for (i = 0; i < len; i++)
		if (!text[i] || i == len - 1)
			n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < len && k < n; k++) {
		size_t l = strnlen(text + i, len - i);

		v[k] = strndup(text + i, l);
		if (!v[k]) {
			*argv = v;
			*argc = k;
			return -ENOMEM;
		}
		i += l + 1;
	}
	*argv = v;
	*argc = k;
	return 0;
}

static int read_cmdline(pid_t pid, struct proc_identity *id)
{
	char *buf = malloc(CMDLINE_MAX + 1);	/* + the NUL small files end with */
	ssize_t n;
	int err;

	if (!buf)
		return -ENOMEM;
	n = proc_file_read(pid, "cmdline", buf, CMDLINE_MAX + 1);
	err = n < 0 ? (int)n : proc_cmdline_split(buf, (size_t)n, &id->argv, &id->argc);
	free(buf);
	return err;
}

int proc_identity_peek(pid_t pid, unsigned long long *start_time, char *exe, size_t size)
{
	struct proc_stat st;
	char path[64];
	ssize_t n;
	int err;

	err = proc_stat_read(pid, &st);
	if (err)
		return err;
	*start_time = st.start_time;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, size - 1);
	exe[n > 0 ? n : 0] = '\0';
	return 0;
}

/* The container's name where its runtime keeps one on this host; left "" otherwise. */
static void container_name_read(struct proc_identity *id)
{
	const struct cgroup_identity *c = &id->cgroup;

	int err = -ENOENT;

	if (c->runtime == CGROUP_RUNTIME_DOCKER)
		err = docker_container_name(c->id, id->container_name, sizeof(id->container_name));
	else if (c->runtime == CGROUP_RUNTIME_KUBERNETES)
		err = pod_name_of_process(id->pid, id->container_name, sizeof(id->container_name));
	if (err)
		id->container_name[0] = '\0';
}

int proc_identity_read(pid_t pid, struct proc_identity *id)
{
	int err;

	memset(id, 0, sizeof(*id));
	id->pid = pid;
	err = proc_identity_peek(pid, &id->start_time, id->exe, sizeof(id->exe));
	if (err)
		return err;
	err = read_cmdline(pid, id);
	if (!err)
		err = proc_cgroup_read(pid, &id->cgroup);
	if (err) {
		proc_identity_free(id);
		return err;
	}
	container_name_read(id);
	return 0;
}

void proc_identity_free(struct proc_identity *id)
{
	size_t i;

	for (i = 0; id->argv && i < id->argc; i++)
		free(id->argv[i]);
	free(id->argv);
	id->argv = NULL;
	id->argc = 0;
}

/* The last component of a cgroup path, when it names a cgroup made for the process. */
static const char *own_cgroup_leaf(const char *path)
{
	const char *leaf = strrchr(path, '/');
	size_t len;

	if (!leaf || !leaf[1])
		return NULL;
	leaf++;
	len = strlen(leaf);
	/* scopes are made per login or per run, slices hold others: neither names a service */
	if ((len > 6 && !strcmp(leaf + len - 6, ".scope")) ||
	    (len > 6 && !strcmp(leaf + len - 6, ".slice")))
		return NULL;
	return leaf;
}

static const char *command_name(const struct proc_identity *id, char *buf, size_t size)
{
	size_t i, used;

	snprintf(buf, size, "%s", id->exe[0] ? id->exe : id->argc ? id->argv[0] : "?");
	for (i = 1; i < id->argc; i++) {
		used = strlen(buf);
		if (used + 1 >= size)
			break;
		snprintf(buf + used, size - used, " %s", id->argv[i]);
	}
	return "command";
}

const char *proc_identity_service(const struct proc_identity *id, char *buf, size_t size)
{
	const struct cgroup_identity *c = &id->cgroup;
	const char *leaf;

	if (id->container_name[0] && c->runtime != CGROUP_RUNTIME_SYSTEMD) {
		snprintf(buf, size, "%s:%s", cgroup_runtime_name(c->runtime), id->container_name);
		return "container";
	}
	switch (c->runtime) {
	case CGROUP_RUNTIME_DOCKER:
	case CGROUP_RUNTIME_PODMAN:
	case CGROUP_RUNTIME_CONTAINERD:
		snprintf(buf, size, "%s:%.12s", cgroup_runtime_name(c->runtime), c->id);
		return "container-id";
	case CGROUP_RUNTIME_KUBERNETES:
		if (c->pod_uid[0])
			snprintf(buf, size, "kubernetes:pod-%s", c->pod_uid);
		else
			snprintf(buf, size, "kubernetes:%.12s", c->id);
		return "container-id";
	case CGROUP_RUNTIME_SYSTEMD:
		snprintf(buf, size, "%s", c->unit);
		return "cgroup";
	default:
		break;
	}
	leaf = own_cgroup_leaf(c->path);
	if (leaf) {
		snprintf(buf, size, "%s", leaf);
		return "cgroup";
	}
	return command_name(id, buf, size);
}
