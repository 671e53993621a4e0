// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <arpa/inet.h>
#include <errno.h>
#include <search.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "model_internal.h"

static const char *const state_names[TCP_STATE_MAX] = {
	[TCP_STATE_ESTABLISHED] = "ESTABLISHED",
	[TCP_STATE_SYN_SENT] = "SYN_SENT",
	[TCP_STATE_SYN_RECV] = "SYN_RECV",
	[TCP_STATE_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_STATE_FIN_WAIT2] = "FIN_WAIT2",
	[TCP_STATE_TIME_WAIT] = "TIME_WAIT",
	[TCP_STATE_CLOSE] = "CLOSE",
	[TCP_STATE_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_STATE_LAST_ACK] = "LAST_ACK",
	[TCP_STATE_LISTEN] = "LISTEN",
	[TCP_STATE_CLOSING] = "CLOSING",
	[TCP_STATE_NEW_SYN_RECV] = "NEW_SYN_RECV",
	[TCP_STATE_BOUND_INACTIVE] = "BOUND_INACTIVE",
};

const char *tcp_state_name(unsigned int state)
{
	if (state >= TCP_STATE_MAX || !state_names[state])
		return "UNKNOWN";
	return state_names[state];
}

const char *trace_mode_name(enum trace_mode mode)
{
	switch (mode) {
	case TRACE_MODE_LEAN: return "lean";
	case TRACE_MODE_SAMPLED: return "sampled";
	default: return "probes";
	}
}

void proc_end_describe(const struct proc_end *e, char *buf, size_t size)
{
	const char *name = e->signal ? sigabbrev_np(e->signal) : NULL;
	char sig[32];

	if (!e->known) {
		snprintf(buf, size, "exited (the kernel did not say how)");
		return;
	}
	if (!e->signal) {
		snprintf(buf, size, "exited with status %d", e->exit_status);
		return;
	}
	if (name)
		snprintf(sig, sizeof(sig), "SIG%s", name);
	else
		snprintf(sig, sizeof(sig), "signal %d", e->signal);
	snprintf(buf, size, "killed by %s%s%s", sig, e->core_dumped ? " (core dumped)" : "",
		 e->oom_killed ? " (the kernel's OOM killer chose it)" : "");
}

bool proc_end_is_failure(const struct proc_end *e)
{
	if (!e->known)
		return false;
	if (e->oom_killed || e->core_dumped)
		return true;
	switch (e->signal) {
	case 0:
		return e->exit_status != 0;
	case SIGSEGV: case SIGBUS: case SIGABRT: case SIGILL: case SIGFPE: case SIGSYS:
	case SIGTRAP:
		return true;
	default:
		return false;	/* SIGKILL, SIGTERM, SIGINT: someone ended it */
	}
}

static bool is_v4_mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

void endpoint_format(const struct endpoint *e, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (e->family == AF_INET6 && is_v4_mapped(e->addr)) {
		inet_ntop(AF_INET, e->addr + 12, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, e->port);
	} else if (e->family == AF_INET6) {
		inet_ntop(AF_INET6, e->addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, e->port);
	} else if (e->family == AF_INET) {
		inet_ntop(AF_INET, e->addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, e->port);
	} else {
		snprintf(buf, size, "?:%u", e->port);
	}
}

void duration_add(struct duration_stats *d, uint64_t ns)
{
	unsigned int bucket = ns ? 63 - (unsigned int)__builtin_clzll(ns) : 0;

	if (!d->count || ns < d->min_ns)
		d->min_ns = ns;
	if (ns > d->max_ns)
		d->max_ns = ns;
	d->count++;
	d->sum_ns += ns;
	d->buckets[bucket]++;
}

uint64_t duration_quantile(const struct duration_stats *d, double q)
{
	uint64_t rank, seen = 0, edge;
	unsigned int i;

	if (!d->count)
		return 0;
	rank = (uint64_t)(q * (double)d->count + 0.5);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < 64; i++) {
		seen += d->buckets[i];
		if (seen >= rank) {
			edge = i >= 63 ? UINT64_MAX : (2ULL << i) - 1;
			if (edge > d->max_ns)
				edge = d->max_ns;
			return edge < d->min_ns ? d->min_ns : edge;
		}
	}
	return d->max_ns;
}

static int cmp_conn(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int model_init(struct model *m, uint64_t start_ns, size_t max_conns)
{
	memset(m, 0, sizeof(*m));
	m->start_ns = start_ns;
	m->max_conns = max_conns;
	m->max_tasks = 4 * max_conns;
	clock_gettime(CLOCK_REALTIME, &m->start_wall);
	m->pending_attr = calloc(MODEL_PENDING_ATTRIBUTIONS, sizeof(*m->pending_attr));
	m->recent_cancels = calloc(MODEL_RECENT_CANCELS, sizeof(*m->recent_cancels));
	return m->pending_attr && m->recent_cancels ? 0 : -ENOMEM;
}

void model_free(struct model *m)
{
	model_tasks_free(m);
	free(m->warnings);
	free(m->pending_attr);
	free(m->recent_cancels);
	free(m->close_wait_history);
	tdestroy(m->conns, free);
	free(m->procs);
	memset(m, 0, sizeof(*m));
}

struct proc_model *model_add_process(struct model *m, pid_t pid, const char *comm,
				     const char *exe)
{
	struct proc_model *grown, *p;

	grown = reallocarray(m->procs, m->n_procs + 1, sizeof(*grown));
	if (!grown)
		return NULL;
	m->procs = grown;
	p = &m->procs[m->n_procs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	p->sample_every_ns = NSEC_PER_SEC;
	p->next_sample_ns = m->start_ns;
	return p;
}

void model_process_joined(struct model *m, struct proc_model *p, uint64_t ts_ns)
{
	p->joined_ns = ts_ns;
	p->next_sample_ns = ts_ns;
}

uint64_t model_traced_from(const struct model *m, const struct proc_model *p)
{
	return p->joined_ns > m->start_ns ? p->joined_ns : m->start_ns;
}

uint64_t model_traced_ns(const struct model *m, const struct proc_model *p, uint64_t now_ns)
{
	uint64_t from = model_traced_from(m, p), to = p->exited ? p->exited_ns : now_ns;

	return to > from ? to - from : 0;
}

struct proc_model *model_process(const struct model *m, pid_t pid)
{
	size_t i;

	for (i = 0; i < m->n_procs; i++)
		if (m->procs[i].pid == pid)
			return &m->procs[i];
	return NULL;
}

void model_set_hook(struct proc_model *p, const char *name, bool attached, const char *fmt, ...)
{
	struct hook_status *h = NULL;
	va_list ap;
	size_t i;

	for (i = 0; i < p->n_hooks; i++)
		if (strcmp(p->hooks[i].name, name) == 0)
			h = &p->hooks[i];
	if (!h) {
		if (p->n_hooks == MODEL_MAX_HOOKS)
			return;
		h = &p->hooks[p->n_hooks++];
		snprintf(h->name, sizeof(h->name), "%s", name);
	}
	h->attached = attached;
	h->n_probes = 0;
	va_start(ap, fmt);
	vsnprintf(h->detail, sizeof(h->detail), fmt, ap);
	va_end(ap);
}

void model_hook_probe(struct proc_model *p, const char *name, const char *what,
		      uint64_t file_offset, const char *instruction)
{
	struct hook_probe *probe;
	size_t i;

	for (i = 0; i < p->n_hooks; i++) {
		if (strcmp(p->hooks[i].name, name) || p->hooks[i].n_probes == HOOK_MAX_PROBES)
			continue;
		probe = &p->hooks[i].probes[p->hooks[i].n_probes++];
		snprintf(probe->what, sizeof(probe->what), "%s", what);
		probe->file_offset = file_offset;
		snprintf(probe->instruction, sizeof(probe->instruction), "%s", instruction);
	}
}

void model_add_listener(struct proc_model *p, uint16_t port)
{
	size_t i;

	for (i = 0; i < p->n_listen_ports; i++)
		if (p->listen_ports[i] == port)
			return;
	if (p->n_listen_ports < MODEL_MAX_LISTENERS)
		p->listen_ports[p->n_listen_ports++] = port;
}

static bool is_listen_port(const struct proc_model *p, uint16_t port)
{
	size_t i;

	for (i = 0; i < p->n_listen_ports; i++)
		if (p->listen_ports[i] == port)
			return true;
	return false;
}

struct conn *model_find_conn(const struct model *m, pid_t pid, uint64_t ino)
{
	struct conn key = { .pid = pid, .ino = ino };
	void *node = tfind(&key, &m->conns, cmp_conn);

	return node ? *(struct conn **)node : NULL;
}

static void count_open(struct model *m, struct proc_model *p, const struct conn *c)
{
	p->open++;
	if (c->state < TCP_STATE_MAX)
		p->by_state[c->state]++;
	if (p->open > p->peak_open) {
		p->peak_open = p->open;
		p->peak_ns = c->opened_ns > m->start_ns ? c->opened_ns - m->start_ns : 0;
	}
}

/* A socket found at attach turned out to be one the probes saw open: it is new. */
static void promote_to_seen(struct proc_model *p, struct conn *known, const struct conn *seen)
{
	known->source = seen->source;
	known->inbound = seen->inbound;
	known->opened_ns = seen->opened_ns;
	known->tid = seen->tid;
	known->state_since_ns = seen->opened_ns;
	known->state_age_known = true;
	p->found_at_attach--;
	p->opened++;
}

void model_conn_open(struct model *m, const struct conn *c)
{
	struct proc_model *p = model_process(m, c->pid);
	struct conn *known, *copy;

	if (!p)
		return;
	known = model_find_conn(m, c->pid, c->ino);
	if (known) {
		if (known->source == CONN_FOUND_AT_ATTACH && c->source != CONN_FOUND_AT_ATTACH)
			promote_to_seen(p, known, c);
		return;
	}
	if (m->n_conns >= m->max_conns) {
		m->untracked_conns++;
		return;
	}
	copy = malloc(sizeof(*copy));
	if (!copy) {
		m->untracked_conns++;
		return;
	}
	*copy = *c;
	copy->site = -1;
	if (c->source == CONN_FOUND_AT_ATTACH) {
		copy->inbound = is_listen_port(p, c->local.port);
		copy->state_age_known = false;
		p->found_at_attach++;
	} else {
		copy->state_age_known = true;
		p->opened++;
	}
	copy->state_since_ns = copy->held_ns = c->opened_ns;
	if (!tsearch(copy, &m->conns, cmp_conn)) {
		free(copy);
		m->untracked_conns++;
		return;
	}
	m->n_conns++;
	count_open(m, p, copy);
	model_conn_claim_attribution(m, copy);
}

/* c leaves CLOSE_WAIT at ts_ns: kept if it sat there long enough to count. */
static void remember_close_wait(struct model *m, const struct conn *c, uint64_t ts_ns)
{
	struct close_wait_episode *grown, *e;
	size_t cap;

	if (c->state != TCP_STATE_CLOSE_WAIT ||
	    (c->state_age_known && ts_ns < c->state_since_ns + m->close_wait_keep_ns))
		return;
	if (m->n_close_wait_history == MODEL_MAX_CLOSE_WAIT_HISTORY) {
		m->close_wait_history_lost++;
		return;
	}
	if (m->n_close_wait_history == m->cap_close_wait_history) {
		cap = m->cap_close_wait_history ? m->cap_close_wait_history * 2 : 64;
		grown = reallocarray(m->close_wait_history, cap, sizeof(*grown));
		if (!grown) {
			m->close_wait_history_lost++;
			return;
		}
		m->close_wait_history = grown;
		m->cap_close_wait_history = cap;
	}
	e = &m->close_wait_history[m->n_close_wait_history++];
	*e = (struct close_wait_episode){
		.pid = c->pid, .site = c->site, .inbound = c->inbound,
		.age_is_lower_bound = !c->state_age_known,
		.ep = c->inbound ? c->local : c->remote,
		.since_ns = c->state_since_ns, .ended_ns = ts_ns,
	};
}

void model_conn_state(struct model *m, pid_t pid, uint64_t ino, uint8_t new_state, uint64_t ts_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct conn *c = model_find_conn(m, pid, ino);

	if (!p || !c) {
		m->unmatched_events++;
		return;
	}
	if (c->state < TCP_STATE_MAX && p->by_state[c->state])
		p->by_state[c->state]--;
	if (new_state < TCP_STATE_MAX)
		p->by_state[new_state]++;
	if (new_state != c->state)
		remember_close_wait(m, c, ts_ns);
	c->state = new_state;
	c->state_since_ns = c->held_ns = ts_ns;
	c->state_age_known = true;
}

/* c leaves the model: the process no longer holds it. */
static void forget_conn(struct model *m, struct proc_model *p, struct conn *c, bool at_exit)
{
	if (c->state < TCP_STATE_MAX && p->by_state[c->state])
		p->by_state[c->state]--;
	if (p->open)
		p->open--;
	p->closed++;
	model_site_conn_released(m, c, at_exit);
	tdelete(c, &m->conns, cmp_conn);
	free(c);
	m->n_conns--;
}

static void release_conn(struct model *m, struct proc_model *p, struct conn *c, uint64_t ts_ns,
			 bool at_exit)
{
	remember_close_wait(m, c, ts_ns);
	if (c->source != CONN_FOUND_AT_ATTACH && ts_ns >= c->opened_ns)
		duration_add(&p->lifetimes, ts_ns - c->opened_ns);
	forget_conn(m, p, c, at_exit);
}

void model_conn_release(struct model *m, pid_t pid, uint64_t ino, uint64_t ts_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct conn *c = model_find_conn(m, pid, ino);

	if (!p || !c) {
		m->unmatched_events++;
		return;
	}
	release_conn(m, p, c, ts_ns, false);
}

void model_conn_gone(struct model *m, pid_t pid, uint64_t ino)
{
	struct proc_model *p = model_process(m, pid);
	struct conn *c = model_find_conn(m, pid, ino);

	if (!p || !c)
		return;
	m->closes_unseen++;
	forget_conn(m, p, c, false);
}

void model_conn_held(struct model *m, pid_t pid, uint64_t ino, uint64_t ts_ns)
{
	struct conn *c = model_find_conn(m, pid, ino);

	if (c && ts_ns > c->held_ns)
		c->held_ns = ts_ns;
}

/*
 * With connection events lost, a socket still in the model at exit may have
 * been closed long before, its close lost: all that is known is that it was
 * held when last seen. Its CLOSE_WAIT counts only to then, and it has no
 * lifetime.
 */
static void release_at_exit(struct model *m, struct proc_model *p, struct conn *c,
			    uint64_t ts_ns)
{
	if (!m->ringbuf_drops) {
		release_conn(m, p, c, ts_ns, true);
		return;
	}
	remember_close_wait(m, c, c->held_ns);
	forget_conn(m, p, c, true);
}

struct ino_list {
	uint64_t *inos;
	size_t n, cap;
};

static void collect_ino(const struct conn *c, void *ctx)
{
	struct ino_list *l = ctx;
	uint64_t *grown;

	if (l->n == l->cap) {
		grown = reallocarray(l->inos, l->cap ? l->cap * 2 : 64, sizeof(*grown));
		if (!grown)
			return;
		l->inos = grown;
		l->cap = l->cap ? l->cap * 2 : 64;
	}
	l->inos[l->n++] = c->ino;
}

/* An exiting process lets go of every socket it held, and ends its tasks. */
void model_process_exited(struct model *m, pid_t pid, uint64_t ts_ns, const struct proc_end *end)
{
	struct proc_model *p = model_process(m, pid);
	struct ino_list l = {};
	struct conn *c;
	size_t i;

	if (!p || p->exited)
		return;
	p->exited = true;
	p->exited_ns = ts_ns;
	if (end)
		p->end = *end;
	model_foreach_conn(m, pid, collect_ino, &l);
	for (i = 0; i < l.n; i++)
		if ((c = model_find_conn(m, pid, l.inos[i])))
			release_at_exit(m, p, c, ts_ns);
	free(l.inos);
	model_tasks_process_exited(m, pid, ts_ns);
}

void model_process_exec(struct model *m, pid_t pid, uint64_t ts_ns, const char *comm,
			const char *exe)
{
	struct proc_model *p = model_process(m, pid);

	if (!p || p->exited)
		return;
	p->execs++;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	p->python[0] = 0;	/* the new program's, once read */
	/* the old program's tasks went with it, as at an exit */
	model_tasks_process_exited(m, pid, ts_ns);
}

/* Halves the series when it is full: every other sample, twice the interval. */
static void thin_samples(struct proc_model *p)
{
	size_t i;

	for (i = 0; i < p->n_samples / 2; i++)
		p->samples[i] = p->samples[i * 2];
	p->n_samples /= 2;
	p->sample_every_ns *= 2;
}

static void take_samples(struct model *m, uint64_t now_ns, bool due_only)
{
	struct proc_model *p;
	struct sample *s;
	bool taken = false;
	size_t i;

	for (i = 0; i < m->n_procs; i++) {
		p = &m->procs[i];
		if ((due_only && now_ns < p->next_sample_ns) || p->exited)
			continue;
		if (p->n_samples == MODEL_MAX_SAMPLES)
			thin_samples(p);
		s = &p->samples[p->n_samples++];
		s->t_ns = now_ns - m->start_ns;
		s->tasks_in_flight = p->tasks_in_flight;
		s->open = p->open;
		s->close_wait = p->by_state[TCP_STATE_CLOSE_WAIT];
		s->opened = p->opened;
		s->closed = p->closed;
		p->next_sample_ns = now_ns + p->sample_every_ns;
		taken = true;
	}
	if (taken)
		model_sample_sites(m, now_ns);
}

void model_sample(struct model *m, uint64_t now_ns)
{
	take_samples(m, now_ns, true);
}

void model_finish(struct model *m, uint64_t now_ns)
{
	/* what is still held back ended while its process ran on */
	model_settle_cancels(m, UINT64_MAX);
	take_samples(m, now_ns, false);
	m->end_ns = now_ns;
}

struct walk_ctx {
	pid_t pid;
	conn_visit_fn fn;
	void *ctx;
};

static void walk_action(const void *node, VISIT which, void *closure)
{
	const struct conn *c = *(const struct conn *const *)node;
	struct walk_ctx *w = closure;

	if (which != postorder && which != leaf)
		return;
	if (!w->pid || c->pid == w->pid)
		w->fn(c, w->ctx);
}

void model_foreach_conn(const struct model *m, pid_t pid, conn_visit_fn fn, void *ctx)
{
	struct walk_ctx w = { .pid = pid, .fn = fn, .ctx = ctx };

	twalk_r(m->conns, walk_action, &w);
}

struct rows_ctx {
	struct endpoint_row *rows;
	size_t n, cap;
	int err;
};

static bool same_endpoint(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static void add_to_rows(const struct conn *c, void *ctx)
{
	struct rows_ctx *r = ctx;
	const struct endpoint *ep = c->inbound ? &c->local : &c->remote;
	struct endpoint_row *row = NULL, *grown;
	size_t i;

	if (r->err)
		return;
	for (i = 0; i < r->n && !row; i++)
		if (r->rows[i].inbound == c->inbound && same_endpoint(&r->rows[i].ep, ep))
			row = &r->rows[i];
	if (!row) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 16;
			grown = reallocarray(r->rows, r->cap, sizeof(*grown));
			if (!grown) {
				r->err = -ENOMEM;
				return;
			}
			r->rows = grown;
		}
		row = &r->rows[r->n++];
		memset(row, 0, sizeof(*row));
		row->inbound = c->inbound;
		row->ep = *ep;
		row->oldest_opened_ns = c->opened_ns;
	}
	row->total++;
	if (c->state < TCP_STATE_MAX)
		row->by_state[c->state]++;
	if (c->opened_ns < row->oldest_opened_ns)
		row->oldest_opened_ns = c->opened_ns;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct endpoint_row *x = a, *y = b;

	return x->total > y->total ? -1 : x->total < y->total;
}

int model_endpoint_rows(const struct model *m, pid_t pid, struct endpoint_row **rows, size_t *n)
{
	struct rows_ctx r = {};

	model_foreach_conn(m, pid, add_to_rows, &r);
	if (r.err) {
		free(r.rows);
		return r.err;
	}
	if (r.n)
		qsort(r.rows, r.n, sizeof(*r.rows), cmp_rows);
	*rows = r.rows;
	*n = r.n;
	return 0;
}
