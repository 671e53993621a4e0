// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

static struct warning_group *group_of(const struct model *m, pid_t pid,
				      const struct warning_seen *w)
{
	struct warning_group *g;
	size_t i;

	for (i = 0; i < m->n_warnings; i++) {
		g = &m->warnings[i];
		if (g->pid == pid && g->line == w->line && !strcmp(g->category, w->category) &&
		    !strcmp(g->file, w->file))
			return g;
	}
	return NULL;
}

static struct warning_group *new_group(struct model *m)
{
	struct warning_group *grown;
	size_t cap;

	if (m->n_warnings == MODEL_MAX_WARNING_GROUPS)
		return NULL;
	if (m->n_warnings == m->cap_warnings) {
		cap = m->cap_warnings ? m->cap_warnings * 2 : 16;
		grown = reallocarray(m->warnings, cap, sizeof(*grown));
		if (!grown)
			return NULL;
		m->warnings = grown;
		m->cap_warnings = cap;
	}
	grown = &m->warnings[m->n_warnings++];
	memset(grown, 0, sizeof(*grown));
	grown->conn_site = -1;
	return grown;
}

/* a warning about the same fd this soon after one that found its connection: the same one */
#define SAME_COLLECTION_NS (100ULL * 1000 * 1000)

static void attribute_group(struct warning_group *g, int site)
{
	/* one that a task opened is worth more than one the loop accepted */
	if (g->connection && (g->conn_site >= 0 || site < 0))
		return;
	g->connection = true;
	g->conn_site = site;
}

static void remember_fd(struct model *m, pid_t pid, int fd, int site, uint64_t ts_ns)
{
	size_t n = sizeof(m->warned_fds) / sizeof(m->warned_fds[0]);

	m->warned_fds[m->next_warned_fd++ % n] = (struct warned_fd){ .pid = pid, .fd = fd,
		.conn_site = site, .ts_ns = ts_ns };
}

static const struct warned_fd *recently_warned(const struct model *m, pid_t pid, int fd,
					       uint64_t ts_ns)
{
	size_t i;

	for (i = 0; i < sizeof(m->warned_fds) / sizeof(m->warned_fds[0]); i++)
		if (m->warned_fds[i].pid == pid && m->warned_fds[i].fd == fd &&
		    ts_ns >= m->warned_fds[i].ts_ns &&
		    ts_ns - m->warned_fds[i].ts_ns < SAME_COLLECTION_NS)
			return &m->warned_fds[i];
	return NULL;
}

/*
 * A message that named a traced connection: who opened it, while it is
 * still known; or, with its fd already closed, the connection a warning
 * about that fd found just before.
 */
static void note_connection(struct model *m, pid_t pid, struct warning_group *g,
			    const struct warning_seen *w, uint64_t ts_ns)
{
	const struct conn *c = w->fd_ino ? model_find_conn(m, pid, w->fd_ino) : NULL;
	const struct warned_fd *before;

	if (c) {
		attribute_group(g, c->site);
		remember_fd(m, pid, w->fd, c->site, ts_ns);
		return;
	}
	before = w->fd >= 0 && !w->fd_ino ? recently_warned(m, pid, w->fd, ts_ns) : NULL;
	if (before)
		attribute_group(g, before->conn_site);
}

void model_warning(struct model *m, pid_t pid, const struct warning_seen *w, uint64_t ts_ns)
{
	struct warning_group *g = group_of(m, pid, w);

	if (!g) {
		g = new_group(m);
		if (!g) {
			m->warnings_ungrouped++;
			return;
		}
		g->pid = pid;
		g->line = w->line;
		g->first_ns = ts_ns;
		snprintf(g->category, sizeof(g->category), "%s", w->category);
		snprintf(g->file, sizeof(g->file), "%s", w->file);
		snprintf(g->message, sizeof(g->message), "%s", w->message);
		g->message_cut = w->message_cut || strlen(w->message) >= sizeof(g->message);
	}
	g->count++;
	g->last_ns = ts_ns;
	note_connection(m, pid, g, w, ts_ns);
}
