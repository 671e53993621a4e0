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

/* A message that named a traced connection: who opened it, while it is still known. */
static void note_connection(const struct model *m, pid_t pid, struct warning_group *g,
			    uint64_t ino)
{
	const struct conn *c = ino ? model_find_conn(m, pid, ino) : NULL;

	/* one that a task opened is worth more than one the loop accepted */
	if (!c || (g->connection && (g->conn_site >= 0 || c->site < 0)))
		return;
	g->connection = true;
	g->conn_site = c->site;
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
	note_connection(m, pid, g, w->fd_ino);
}
