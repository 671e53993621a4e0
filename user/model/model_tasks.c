// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* The asyncio half of the model: live tasks, and statistics per creation site. */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "model_internal.h"

struct task_rec {
	pid_t pid;
	uint64_t addr;
	uint64_t coro;		/* its coroutine, 0 if not known */
	int site;		/* -1 if the site could not be read */
	uint64_t created_ns;
	uint64_t read_ns;	/* a task pending at attach: when memory was read; else 0 */
	uint64_t identity;	/* its task_origin's, 0 if not known */
	bool done;
};

static int cmp_task(const void *a, const void *b)
{
	const struct task_rec *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_coro(const void *a, const void *b)
{
	const struct task_rec *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->coro < y->coro ? -1 : x->coro > y->coro;
}

static struct task_rec *find_task(const struct model *m, pid_t pid, uint64_t addr)
{
	struct task_rec key = { .pid = pid, .addr = addr };
	void *node = tfind(&key, &m->tasks, cmp_task);

	return node ? *(struct task_rec **)node : NULL;
}

/* Slots of each site index: twice the sites, so a probe always ends at a free slot. */
#define SITE_SLOTS (2 * MODEL_MAX_SITES)

/* Where tasks come from, as a site stores it: a long name cut short must still match its site. */
struct site_key {
	pid_t pid, tid;
	int line;
	bool suspended, sampled;
	uint64_t loop;
	char file[sizeof(((struct task_site *)0)->file)];
	char coroutine[sizeof(((struct task_site *)0)->coroutine)];
};

static void site_key_of(struct site_key *k, pid_t pid, const struct task_origin *o)
{
	k->pid = pid;
	k->tid = o->tid;
	k->line = o->line;
	k->suspended = o->task_name != NULL;
	k->sampled = o->sampled;
	k->loop = o->loop;
	snprintf(k->file, sizeof(k->file), "%s", o->file);
	snprintf(k->coroutine, sizeof(k->coroutine), "%s", o->coroutine ? o->coroutine : "?");
}

/* FNV-1a */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static size_t site_home(const struct site_key *k, bool by_thread)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = hash_bytes(h, &k->pid, sizeof(k->pid));
	h = hash_bytes(h, &k->line, sizeof(k->line));
	h = hash_bytes(h, &k->suspended, sizeof(k->suspended));
	h = hash_bytes(h, &k->sampled, sizeof(k->sampled));
	h = hash_bytes(h, &k->loop, sizeof(k->loop));
	h = hash_bytes(h, k->file, strlen(k->file) + 1);
	h = hash_bytes(h, k->coroutine, strlen(k->coroutine));
	if (by_thread)
		h = hash_bytes(h, &k->tid, sizeof(k->tid));
	return (size_t)(h ^ h >> 32) & (SITE_SLOTS - 1);
}

static bool at_place(const struct task_site *s, const struct site_key *k)
{
	return s->pid == k->pid && s->line == k->line && s->suspended_site == k->suspended &&
	       s->sampled_site == k->sampled && s->loop == k->loop && !strcmp(s->file, k->file) &&
	       !strcmp(s->coroutine, k->coroutine);
}

/* The slot of an index that holds k's site, or the free one where it would go. */
static int *site_slot(const struct model *m, int *index, const struct site_key *k, bool by_thread)
{
	const struct task_site *s;
	size_t i;

	for (i = site_home(k, by_thread);; i = (i + 1) & (SITE_SLOTS - 1)) {
		if (!index[i])
			return &index[i];
		s = &m->sites[index[i] - 1];
		if (at_place(s, k) && (!by_thread || s->tid == k->tid))
			return &index[i];
	}
}

/*
 * k's site, or -1. Thread 0 is a task pending at attach, its thread not
 * known: it takes its place's first site, and the first thread seen at a site
 * of thread 0 claims it (such a site is the only one at its place).
 */
static int find_site(struct model *m, const struct site_key *k)
{
	int first = *site_slot(m, m->site_by_place, k, false) - 1;
	struct task_site *s;

	if (first < 0 || !k->tid)
		return first;
	s = &m->sites[first];
	if (!s->tid) {
		s->tid = k->tid;
		*site_slot(m, m->site_by_thread, k, true) = first + 1;
		return first;
	}
	return *site_slot(m, m->site_by_thread, k, true) - 1;
}

static int grow_sites(struct model *m)
{
	size_t cap = m->cap_sites ? 2 * m->cap_sites : 64;
	struct task_site *grown;

	if (!m->site_by_place) {
		m->site_by_place = calloc(SITE_SLOTS, sizeof(int));
		m->site_by_thread = calloc(SITE_SLOTS, sizeof(int));
		if (!m->site_by_place || !m->site_by_thread) {
			free(m->site_by_place);
			free(m->site_by_thread);
			m->site_by_place = m->site_by_thread = NULL;
			return -ENOMEM;
		}
	}
	grown = reallocarray(m->sites, cap < MODEL_MAX_SITES ? cap : MODEL_MAX_SITES, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	m->sites = grown;
	m->cap_sites = cap < MODEL_MAX_SITES ? cap : MODEL_MAX_SITES;
	return 0;
}

/* A new site at k: its index, or -1 when the table is full (the task counted) or memory is out. */
static int add_site(struct model *m, const struct site_key *k, const struct task_origin *o,
		    int parent)
{
	struct task_site *s;
	int *slot;

	if (m->n_sites == MODEL_MAX_SITES) {
		m->site_table_full++;
		return -1;
	}
	if (m->n_sites == m->cap_sites && grow_sites(m))
		return -1;
	s = &m->sites[m->n_sites];
	memset(s, 0, sizeof(*s));
	s->pid = k->pid;
	s->tid = k->tid;
	s->line = k->line;
	s->parent_site = parent;
	s->suspended_site = k->suspended;
	s->sampled_site = k->sampled;
	s->loop = k->loop;
	snprintf(s->task_name, sizeof(s->task_name), "%s", o->task_name ? o->task_name : "");
	memcpy(s->file, k->file, sizeof(s->file));
	snprintf(s->function, sizeof(s->function), "%s", o->function ? o->function : "?");
	memcpy(s->coroutine, k->coroutine, sizeof(s->coroutine));
	slot = site_slot(m, m->site_by_place, k, false);
	if (!*slot)
		*slot = (int)m->n_sites + 1;
	if (k->tid)
		*site_slot(m, m->site_by_thread, k, true) = (int)m->n_sites + 1;
	return (int)m->n_sites++;
}

static int find_or_add_site(struct model *m, pid_t pid, const struct task_origin *o, int parent)
{
	struct site_key k;
	int site;

	site_key_of(&k, pid, o);
	site = m->site_by_place ? find_site(m, &k) : -1;
	return site >= 0 ? site : add_site(m, &k, o, parent);
}

static void forget_coroutine(struct model *m, struct task_rec *t)
{
	if (t->coro)
		tdelete(t, &m->task_coros, cmp_coro);
	t->coro = 0;
}

/* t drives coro: an older task still holding that address (not seen destroyed) gives it up */
static void index_coroutine(struct model *m, struct task_rec *t, uint64_t coro)
{
	struct task_rec key = { .pid = t->pid, .coro = coro };
	void *node;

	if (!coro)
		return;
	node = tfind(&key, &m->task_coros, cmp_coro);
	if (node)
		forget_coroutine(m, *(struct task_rec **)node);
	t->coro = coro;
	if (!tsearch(t, &m->task_coros, cmp_coro))
		t->coro = 0;
}

/* A pending task at its site: the record, or NULL when the table is full (counted). */
static struct task_rec *track_task(struct model *m, struct proc_model *p, pid_t pid, uint64_t addr,
				   const struct task_origin *o, uint64_t parent, uint64_t ts_ns)
{
	struct task_rec *t, *known = parent ? find_task(m, pid, parent) : NULL;

	/* an untracked task could never be seen done: it is not counted in flight */
	if (m->n_tasks >= m->max_tasks || !(t = malloc(sizeof(*t)))) {
		m->untracked_tasks++;
		return NULL;
	}
	t->pid = pid;
	t->addr = addr;
	t->coro = 0;
	t->created_ns = ts_ns;
	t->read_ns = 0;
	t->identity = o->identity;
	t->done = false;
	t->site = -1;
	if (!tsearch(t, &m->tasks, cmp_task)) {
		free(t);
		m->untracked_tasks++;
		return NULL;
	}
	m->n_tasks++;
	p->tasks_in_flight++;
	index_coroutine(m, t, o->coro_addr);
	if (o->file)
		t->site = find_or_add_site(m, pid, o, known ? known->site : -1);
	if (t->site >= 0)
		m->sites[t->site].in_flight++;
	return t;
}

/* The probes saw created a task the snapshot found too: where it was created, if not known. */
static void site_seen_created(struct model *m, pid_t pid, struct task_rec *t,
			      const struct task_origin *o, uint64_t parent)
{
	struct task_rec *known = parent ? find_task(m, pid, parent) : NULL;

	if (t->site >= 0 || !o->file || t->done)
		return;
	t->site = find_or_add_site(m, pid, o, known ? known->site : -1);
	if (t->site < 0)
		return;
	m->sites[t->site].at_attach++;
	m->sites[t->site].in_flight++;
}

void model_task_created(struct model *m, pid_t pid, uint64_t addr, const struct task_origin *o,
			uint64_t parent, uint64_t ts_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct task_rec *t;

	if (!p)
		return;
	t = find_task(m, pid, addr);
	/* created before the memory that showed it pending was read: the same task, seen twice */
	if (t && t->read_ns && ts_ns <= t->read_ns) {
		site_seen_created(m, pid, t, o, parent);
		return;
	}
	/* an address reused before its dealloc was seen: the old task is gone */
	if (t)
		model_task_destroyed(m, pid, addr, 1, ts_ns);
	p->tasks_created++;
	t = track_task(m, p, pid, addr, o, parent, ts_ns);
	if (t && t->site >= 0)
		m->sites[t->site].created++;
}

void model_task_existing(struct model *m, pid_t pid, uint64_t addr, const struct task_origin *o,
			 uint64_t parent, uint64_t ts_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct task_rec *t;

	if (!p || find_task(m, pid, addr))
		return;
	p->tasks_at_attach++;
	t = track_task(m, p, pid, addr, o, parent, ts_ns);
	if (t)
		t->read_ns = ts_ns;
	if (!t || t->site < 0)
		return;
	/* a line of many tasks nothing awaits: no one name stands for them */
	if (++m->sites[t->site].at_attach > 1)
		m->sites[t->site].task_name[0] = '\0';
}

static void note_loop(struct proc_model *p, uint64_t loop)
{
	if (!loop || loop == p->sampled_loop)
		return;
	if (p->sampled_loop)
		p->sampled_loops_many = true;
	else
		p->sampled_loop = loop;
}

bool model_task_sampled(struct model *m, pid_t pid, uint64_t addr, const struct task_origin *o,
			uint64_t parent, uint64_t ts_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct task_rec *t = find_task(m, pid, addr);

	if (!p)
		return false;
	note_loop(p, o->loop);
	if (t && (!t->identity || !o->identity || t->identity == o->identity))
		return false;
	if (t)
		model_task_destroyed(m, pid, addr, -1, ts_ns);
	p->tasks_created++;
	t = track_task(m, p, pid, addr, o, parent, ts_ns);
	if (t && t->site >= 0)
		m->sites[t->site].created++;
	return t != NULL;
}

int model_task_site(const struct model *m, pid_t pid, uint64_t addr)
{
	const struct task_rec *t = find_task(m, pid, addr);

	return t && !t->done ? t->site : -1;
}

void model_site_short_unseen(struct model *m, int site, uint64_t n, uint64_t within_ns)
{
	struct task_site *s = site >= 0 && (size_t)site < m->n_sites ? &m->sites[site] : NULL;

	if (!s || !n)
		return;
	s->short_unseen += n;
	if (within_ns > s->short_unseen_within_ns)
		s->short_unseen_within_ns = within_ns;
}

bool model_sampled_one_loop(const struct model *m, pid_t pid)
{
	const struct proc_model *p = model_process(m, pid);

	return p && !p->sampled_loops_many;
}

void model_task_read(struct model *m, pid_t pid, uint64_t read_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct task_reads *r = p ? &p->task_reads : NULL;

	if (!r)
		return;
	if (r->count && read_ns > r->last_ns && read_ns - r->last_ns > r->longest_gap_ns)
		r->longest_gap_ns = read_ns - r->last_ns;
	if (!r->count)
		r->first_ns = read_ns;
	r->last_ns = read_ns;
	r->count++;
}

double model_proc_read_period(const struct proc_model *p)
{
	const struct task_reads *r = &p->task_reads;

	if (r->count < 2)
		return -1;
	return ns_to_s(r->last_ns - r->first_ns) / (double)(r->count - 1);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

bool model_read_period(const struct model *m, double *p50_s, double *longest_s, size_t *n_procs)
{
	double *periods = calloc(m->n_procs + 1, sizeof(*periods)), longest = 0;
	size_t i, n = 0;

	if (!periods)
		return false;
	for (i = 0; i < m->n_procs; i++) {
		if (model_proc_read_period(&m->procs[i]) < 0)
			continue;
		periods[n++] = model_proc_read_period(&m->procs[i]);
		if (ns_to_s(m->procs[i].task_reads.longest_gap_ns) > longest)
			longest = ns_to_s(m->procs[i].task_reads.longest_gap_ns);
	}
	qsort(periods, n, sizeof(*periods), compare_doubles);
	if (n) {
		*p50_s = n % 2 ? periods[n / 2] : (periods[n / 2 - 1] + periods[n / 2]) / 2;
		*longest_s = longest;
		*n_procs = n;
	}
	free(periods);
	return n > 0;
}

uint64_t model_task_of_coroutine(const struct model *m, pid_t pid, uint64_t coro)
{
	struct task_rec key = { .pid = pid, .coro = coro };
	void *node = coro ? tfind(&key, &m->task_coros, cmp_coro) : NULL;

	return node ? (*(struct task_rec **)node)->addr : 0;
}

static struct task_site *site_of(struct model *m, int site)
{
	return site >= 0 && (size_t)site < m->n_sites ? &m->sites[site] : NULL;
}

/* An ending held back: it was a cancellation (or a destruction) of the running process. */
static void settle_ending(struct model *m, const struct recent_cancel *r)
{
	struct proc_model *p = model_process(m, r->pid);
	struct task_site *s = site_of(m, r->site);

	if (r->destroyed_pending) {
		/* "Task was destroyed but it is pending!" */
		if (p)
			p->tasks_destroyed_pending++;
		if (s)
			s->destroyed_pending++;
		return;
	}
	if (p)
		p->tasks_cancelled++;
	if (s) {
		s->cancelled++;
		if (r->ended_ns >= r->created_ns)
			duration_add(&s->lifetimes, r->ended_ns - r->created_ns);
	}
}

/* The oldest ending held back, settled as the running process's. */
static void pop_recent(struct model *m)
{
	const struct recent_cancel *r = &m->recent_cancels[m->recent_head];

	if (r->pid)
		settle_ending(m, r);
	m->recent_head = (m->recent_head + 1) & (MODEL_RECENT_CANCELS - 1);
	m->n_recent--;
}

/* An ending the process's exit may yet show to be its shutdown's. */
static void hold_ending(struct model *m, const struct task_rec *t, uint64_t ts_ns, bool destroyed)
{
	struct recent_cancel *r;

	if (m->n_recent == MODEL_RECENT_CANCELS)
		pop_recent(m);
	r = &m->recent_cancels[(m->recent_head + m->n_recent++) & (MODEL_RECENT_CANCELS - 1)];
	*r = (struct recent_cancel){ .pid = t->pid, .site = t->site, .created_ns = t->created_ns,
				     .ended_ns = ts_ns, .destroyed_pending = destroyed };
}

/* A task that its process's shutdown ended: cancelled by it, or pending when it exited. */
static void end_at_shutdown(struct model *m, pid_t pid, int site, uint64_t created_ns,
			    uint64_t ended_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct task_site *s = site_of(m, site);

	if (p)
		p->tasks_ended_at_shutdown++;
	if (s) {
		s->ended_at_shutdown++;
		duration_add(&s->shutdown_ages, ended_ns > created_ns ? ended_ns - created_ns : 0);
	}
}

void model_settle_cancels(struct model *m, uint64_t now_ns)
{
	const struct recent_cancel *r;

	while (m->n_recent) {
		r = &m->recent_cancels[m->recent_head];
		if (r->pid && r->ended_ns + SHUTDOWN_WINDOW_NS > now_ns)
			break;
		pop_recent(m);
	}
}

/* t is no longer in flight, however it ended: its site, if it has one. */
static struct task_site *leave_flight(struct model *m, struct proc_model *p, struct task_rec *t)
{
	struct task_site *s = site_of(m, t->site);

	t->done = true;
	if (p && p->tasks_in_flight)
		p->tasks_in_flight--;
	if (s && s->in_flight)
		s->in_flight--;
	return s;
}

/*
 * state: 0 destroyed pending, 1 cancelled, 2 finished (a result or an
 * exception); -1, an end that memory no longer tells (--lean, the block
 * reused), counts as finished.
 */
static void mark_done(struct model *m, struct proc_model *p, struct task_rec *t, int state,
		      uint64_t ts_ns)
{
	struct task_site *s = leave_flight(m, p, t);

	p->tasks_done++;
	if (s)
		s->done++;
	if (state == 0 || state == 1) {
		hold_ending(m, t, ts_ns, state == 0);
		return;
	}
	p->tasks_finished++;
	if (s) {
		s->finished++;
		if (ts_ns >= t->created_ns)
			duration_add(&s->lifetimes, ts_ns - t->created_ns);
	}
}

void model_task_done(struct model *m, pid_t pid, uint64_t addr, int state, uint64_t ts_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct task_rec *t = find_task(m, pid, addr);

	if (p && t && !t->done)
		mark_done(m, p, t, state, ts_ns);
}

void model_task_destroyed(struct model *m, pid_t pid, uint64_t addr, int state, uint64_t ts_ns)
{
	struct proc_model *p = model_process(m, pid);
	struct task_rec *t = find_task(m, pid, addr);

	if (!p || !t)
		return;	/* created before the trace, or not tracked */
	if (!t->done)
		mark_done(m, p, t, state, ts_ns);
	forget_coroutine(m, t);
	tdelete(t, &m->tasks, cmp_task);
	free(t);
	m->n_tasks--;
}

struct exit_walk {
	struct model *m;
	pid_t pid;
	uint64_t ts_ns;
};

static void end_with_process(const void *node, VISIT which, void *closure)
{
	struct task_rec *t = *(struct task_rec *const *)node;
	struct exit_walk *w = closure;

	if ((which != postorder && which != leaf) || t->pid != w->pid || t->done)
		return;
	leave_flight(w->m, model_process(w->m, t->pid), t);
	end_at_shutdown(w->m, t->pid, t->site, t->created_ns, w->ts_ns);
}

void model_tasks_process_exited(struct model *m, pid_t pid, uint64_t ts_ns)
{
	struct exit_walk w = { .m = m, .pid = pid, .ts_ns = ts_ns };
	struct recent_cancel *r;
	size_t i;

	for (i = 0; i < m->n_recent; i++) {
		r = &m->recent_cancels[(m->recent_head + i) & (MODEL_RECENT_CANCELS - 1)];
		if (r->pid != pid)
			continue;
		if (r->ended_ns + SHUTDOWN_WINDOW_NS > ts_ns)
			end_at_shutdown(m, r->pid, r->site, r->created_ns, r->ended_ns);
		else
			settle_ending(m, r);
		r->pid = 0;
	}
	twalk_r(m->tasks, end_with_process, &w);
}

static void record_concurrency(struct task_site *s)
{
	size_t i;

	if (!s->in_flight && !s->conns_open)
		return;	/* idle: says nothing about how busy it gets */
	if (s->concurrency.skipped + 1 < s->concurrency.stride) {
		s->concurrency.skipped++;
		return;
	}
	s->concurrency.skipped = 0;
	if (s->concurrency.n == SITE_CONCURRENCY_SAMPLES) {
		for (i = 0; i < SITE_CONCURRENCY_SAMPLES / 2; i++) {
			s->concurrency.tasks[i] = s->concurrency.tasks[2 * i + 1];
			s->concurrency.conns[i] = s->concurrency.conns[2 * i + 1];
		}
		s->concurrency.n = SITE_CONCURRENCY_SAMPLES / 2;
		s->concurrency.stride = s->concurrency.stride ? s->concurrency.stride * 2 : 2;
	}
	s->concurrency.tasks[s->concurrency.n] = s->in_flight;
	s->concurrency.conns[s->concurrency.n++] = s->conns_open;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct concurrency_summary site_concurrency(const struct task_site *s, bool connections)
{
	struct concurrency_summary out = {};
	uint32_t sorted[SITE_CONCURRENCY_SAMPLES];
	size_t n = s->concurrency.n;

	if (!n)
		return out;
	memcpy(sorted, connections ? s->concurrency.conns : s->concurrency.tasks,
	       n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	out.p50 = sorted[(n - 1) / 2];
	out.p95 = sorted[(size_t)((double)(n - 1) * 0.95)];
	out.max = sorted[n - 1];
	return out;
}

void model_tasks_refreshed(struct model *m, uint64_t ts_ns)
{
	uint64_t since = ts_ns > m->start_ns ? ts_ns - m->start_ns : 0;
	uint64_t last = m->tasks_refreshed_ns ? m->tasks_refreshed_ns : m->start_ns;
	/* what is in flight now is taken to have been since the last refresh */
	double dt = ts_ns > last ? ns_to_s(ts_ns - last) : 0;
	struct task_site *s;
	struct proc_model *p;
	size_t i;

	model_settle_cancels(m, ts_ns);
	m->tasks_refreshed_ns = ts_ns;
	for (i = 0; i < m->n_procs; i++) {
		p = &m->procs[i];
		p->tasks_in_flight_s += p->tasks_in_flight * dt;
		if (p->tasks_in_flight > p->peak_tasks_in_flight) {
			p->peak_tasks_in_flight = p->tasks_in_flight;
			p->peak_tasks_ns = since;
		}
	}
	for (i = 0; i < m->n_sites; i++) {
		s = &m->sites[i];
		s->in_flight_s += s->in_flight * dt;
		record_concurrency(s);
		if (s->in_flight > s->peak_in_flight) {
			s->peak_in_flight = s->in_flight;
			s->peak_ns = since;
		}
	}
}

static struct site_endpoint *site_endpoint(struct task_site *s, const struct endpoint *ep)
{
	struct site_endpoint *e;
	size_t i;

	for (i = 0; i < s->n_endpoints; i++) {
		e = &s->endpoints[i];
		if (e->ep.family == ep->family && e->ep.port == ep->port &&
		    !memcmp(e->ep.addr, ep->addr, sizeof(ep->addr)))
			return e;
	}
	if (s->n_endpoints == SITE_MAX_ENDPOINTS)
		return NULL;	/* the first few endpoints stand for the rest */
	e = &s->endpoints[s->n_endpoints++];
	memset(e, 0, sizeof(*e));
	e->ep = *ep;
	return e;
}

/* The connection is the site's; opened says whether its tasks opened it during the trace. */
static void attribute(struct model *m, struct conn *c, int site, bool opened)
{
	struct task_site *s = &m->sites[site];
	struct site_endpoint *e;

	if (c->site >= 0)
		return;
	c->site = site;
	s->conns_open++;
	if (s->conns_open > s->peak_conns_open)
		s->peak_conns_open = s->conns_open;
	e = site_endpoint(s, &c->remote);
	if (e) {
		e->opened += opened;
		if (++e->open > e->peak_open)
			e->peak_open = e->open;
	}
}

void model_site_conn_released(struct model *m, const struct conn *c, bool at_exit)
{
	struct task_site *s;
	struct site_endpoint *e;

	if (c->site < 0 || (size_t)c->site >= m->n_sites)
		return;
	s = &m->sites[c->site];
	if (s->conns_open)
		s->conns_open--;
	if (at_exit)
		s->conns_closed_at_exit++;
	else
		s->conns_closed++;
	e = site_endpoint(s, &c->remote);
	if (e && e->open)
		e->open--;
}

void model_sample_sites(struct model *m, uint64_t now_ns)
{
	const struct proc_model *p;
	struct task_site *s;
	size_t i, j;

	for (i = 0; i < m->n_sites; i++) {
		s = &m->sites[i];
		p = model_process(m, s->pid);
		/* the series of a process that exited ends where it did */
		if (p && p->exited)
			continue;
		if (s->n_samples == SITE_MAX_SAMPLES) {
			for (j = 0; j < SITE_MAX_SAMPLES / 2; j++)
				s->samples[j] = s->samples[2 * j + 1];
			s->n_samples = SITE_MAX_SAMPLES / 2;
		}
		s->samples[s->n_samples].t_ns = now_ns - m->start_ns;
		s->samples[s->n_samples++].in_flight = s->in_flight;
	}
}

static size_t pending_home(pid_t pid, uint64_t ino)
{
	return (size_t)(((ino ^ ((uint64_t)pid << 40)) * 0x9e3779b97f4a7c15ULL) >> 32);
}

/* Keeps an attribution until its connection shows up: a free slot, else the oldest nearby. */
static void hold_attribution(struct model *m, pid_t pid, uint64_t ino, int site, bool opened)
{
	struct pending_attribution *pa, *oldest = NULL;
	size_t home = pending_home(pid, ino), k;

	if (!m->pending_attr)
		return;
	for (k = 0; k < PENDING_PROBE; k++) {
		pa = &m->pending_attr[(home + k) & (MODEL_PENDING_ATTRIBUTIONS - 1)];
		if (!pa->ino) {
			oldest = pa;
			break;
		}
		if (!oldest || pa->seq < oldest->seq)
			oldest = pa;
	}
	*oldest = (struct pending_attribution){ .pid = pid, .site = site, .opened = opened,
						.ino = ino, .seq = ++m->next_pending_seq };
}

void model_conn_task(struct model *m, pid_t pid, uint64_t ino, uint64_t task_addr)
{
	struct task_rec *t = find_task(m, pid, task_addr);
	struct conn *c = model_find_conn(m, pid, ino);
	struct task_site *s;

	if (!t || t->site < 0)
		return;
	s = &m->sites[t->site];
	s->conns_opened++;
	if (!c) {
		hold_attribution(m, pid, ino, t->site, true);
		return;
	}
	attribute(m, c, t->site, true);
}

void model_conn_opened_at(struct model *m, pid_t pid, uint64_t ino, const struct task_origin *o)
{
	struct conn *c = model_find_conn(m, pid, ino);
	int site;

	if (!model_process(m, pid) || !o->file)
		return;
	site = find_or_add_site(m, pid, o, -1);
	if (site < 0)
		return;
	m->sites[site].conns_opened++;
	if (!c)
		hold_attribution(m, pid, ino, site, true);
	else
		attribute(m, c, site, true);
}

void model_conn_task_existing(struct model *m, pid_t pid, uint64_t ino, uint64_t task_addr)
{
	struct task_rec *t = find_task(m, pid, task_addr);
	struct conn *c = model_find_conn(m, pid, ino);

	if (!t || t->site < 0)
		return;
	if (!c)
		hold_attribution(m, pid, ino, t->site, false);
	/* accepted connections are never a task's, as with those seen accepted */
	else if (!c->inbound)
		attribute(m, c, t->site, false);
}

void model_conn_claim_attribution(struct model *m, struct conn *c)
{
	struct pending_attribution *pa;
	size_t home = pending_home(c->pid, c->ino), k;

	for (k = 0; m->pending_attr && k < PENDING_PROBE; k++) {
		pa = &m->pending_attr[(home + k) & (MODEL_PENDING_ATTRIBUTIONS - 1)];
		if (pa->ino == c->ino && pa->pid == c->pid && pa->ino) {
			pa->ino = 0;
			/* one found in memory and since seen accepted is no task's */
			if (pa->opened || !c->inbound)
				attribute(m, c, pa->site, pa->opened);
			return;
		}
	}
}

struct pending_walk {
	task_visit_fn fn;
	void *ctx;
};

static void visit_pending(const void *node, VISIT which, void *closure)
{
	const struct task_rec *t = *(const struct task_rec *const *)node;
	struct pending_walk *w = closure;
	struct pending_task p;

	if ((which == postorder || which == leaf) && !t->done) {
		p = (struct pending_task){ t->pid, t->addr, t->coro, t->created_ns };
		w->fn(&p, w->ctx);
	}
}

struct age_walk {
	task_age_fn fn;
	void *ctx;
};

static void visit_age(const void *node, VISIT which, void *closure)
{
	const struct task_rec *t = *(const struct task_rec *const *)node;
	struct age_walk *w = closure;

	if ((which == postorder || which == leaf) && !t->done)
		w->fn(t->pid, t->site, t->created_ns, w->ctx);
}

void model_foreach_pending_task_age(const struct model *m, task_age_fn fn, void *ctx)
{
	struct age_walk w = { .fn = fn, .ctx = ctx };

	twalk_r(m->tasks, visit_age, &w);
}

void model_foreach_pending_task(const struct model *m, task_visit_fn fn, void *ctx)
{
	struct pending_walk w = { .fn = fn, .ctx = ctx };

	twalk_r(m->tasks, visit_pending, &w);
}

bool model_task_is_pending(const struct model *m, const struct pending_task *p)
{
	const struct task_rec *t = find_task(m, p->pid, p->addr);

	return t && !t->done && t->created_ns == p->created_ns;
}

static void no_free(void *node)
{
	(void)node;
}

void model_tasks_free(struct model *m)
{
	tdestroy(m->task_coros, no_free);	/* the same records as tasks */
	m->task_coros = NULL;
	tdestroy(m->tasks, free);
	free(m->sites);
	free(m->site_by_place);
	free(m->site_by_thread);
	m->tasks = NULL;
	m->sites = NULL;
	m->site_by_place = m->site_by_thread = NULL;
	m->n_tasks = m->n_sites = m->cap_sites = 0;
}
