// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "findings.h"

const struct finding_thresholds default_thresholds = {
	.close_wait_min_age_s = 2.0,
	.close_wait_critical = 10,
	.growth_min_increase = 20,
	.growth_min_window_s = 5.0,
	.fanout_min_tasks = 100,
	.fanout_min_conns = 50,
	.fanout_memory_tasks = 10000,
	.stuck_min_age_s = 30.0,
	.stuck_lifetime_factor = 10.0,
	.task_growth_min_increase = 50,
	.pileup_min_tasks = 1000,
	.never_closed_min_conns = 200,
};

const char *severity_name(enum severity s)
{
	switch (s) {
	case SEVERITY_CRITICAL: return "critical";
	case SEVERITY_WARNING: return "warning";
	default: return "info";
	}
}

const char *finding_kind_name(enum finding_kind k)
{
	switch (k) {
	case FINDING_CONNECTION_LEAK: return "connection-leak";
	case FINDING_UNBOUNDED_FANOUT: return "unbounded-fanout";
	case FINDING_TASK_LEAK: return "task-leak";
	case FINDING_NEVER_AWAITED: return "never-awaited";
	case FINDING_UNCLOSED_RESOURCE: return "unclosed-resource";
	case FINDING_DEPRECATED_API: return "deprecated-api";
	}
	return "unknown";
}

const char *conn_leak_reason_name(enum conn_leak_reason r)
{
	switch (r) {
	case CONN_LEAK_CLOSE_WAIT: return "close_wait";
	case CONN_LEAK_NEVER_CLOSED: return "never_closed";
	default: return "growth";
	}
}

const char *task_leak_reason_name(enum task_leak_reason r)
{
	switch (r) {
	case TASK_LEAK_DESTROYED_PENDING: return "destroyed_pending";
	case TASK_LEAK_STUCK: return "stuck";
	case TASK_LEAK_PILED_UP: return "piled_up";
	default: return "growth";
	}
}

static const char fanout_remediation[] =
	"bound the concurrency: gather through an asyncio.Semaphore sized for the backend, "
	"or a fixed pool of worker tasks reading a Queue; size it from the observed peaks";
static const char fanout_memory_remediation[] =
	"process the input in batches, or through a fixed pool of worker tasks, rather than "
	"one task per item all at once";
static const char destroyed_remediation[] =
	"keep a reference to every task you create (a set you discard from in a done "
	"callback, or a TaskGroup) and await or cancel it; the event loop keeps only weak ones";
static const char stuck_remediation[] =
	"give the awaits of these tasks a timeout (asyncio.wait_for / asyncio.timeout) and "
	"cancel what you no longer need";
static const char task_growth_remediation[] =
	"tasks are created faster than they finish: bound how many may be pending (a Semaphore "
	"or a Queue with maxsize) and make sure each one ends";

static const char pileup_remediation[] =
	"these tasks wait for something that never comes: give their awaits a timeout, resolve "
	"or cancel what they wait on, and bound how many may be pending";
static const char never_closed_remediation[] =
	"close what this line opens (async with, or close() in 'finally'); if it is meant to be a "
	"pool, reuse one client or session instead of opening one per use";

static const char close_wait_remediation[] =
	"close the socket when the peer hangs up: call writer.close() and await "
	"writer.wait_closed() in a 'finally' block, so every path closes it, errors included";
static const char growth_remediation[] =
	"find the code path that opens without closing (see the endpoints); bound "
	"concurrency with a Semaphore or a connection pool, and close in 'finally'";

static struct finding *new_finding(struct findings *f)
{
	struct finding *grown;
	size_t cap;

	if (f->len == f->cap) {
		cap = f->cap ? f->cap * 2 : 8;
		grown = reallocarray(f->items, cap, sizeof(*grown));
		if (!grown)
			return NULL;
		f->items = grown;
		f->cap = cap;
	}
	memset(&f->items[f->len], 0, sizeof(f->items[0]));
	return &f->items[f->len++];
}

#define MAX_SITES_COUNTED 16

struct close_wait_ctx {
	const struct model *m;
	uint64_t now_ns, min_age_ns;
	struct conn_leak_evidence *ev;
	struct {
		int site;
		uint32_t count;
	} sites[MAX_SITES_COUNTED];
	size_t n_sites;
};

static void count_site(struct close_wait_ctx *cw, int site)
{
	size_t i;

	if (site < 0)
		return;
	for (i = 0; i < cw->n_sites; i++)
		if (cw->sites[i].site == site)
			break;
	if (i == cw->n_sites) {
		if (cw->n_sites == MAX_SITES_COUNTED)
			return;
		cw->sites[cw->n_sites].site = site;
		cw->sites[cw->n_sites++].count = 0;
	}
	cw->sites[i].count++;
}

/* The site behind most of the sockets. */
static void pick_site(const struct close_wait_ctx *cw, struct conn_leak_evidence *ev)
{
	size_t i;

	ev->site = -1;
	ev->site_count = 0;
	for (i = 0; i < cw->n_sites; i++) {
		if (cw->sites[i].count > ev->site_count) {
			ev->site = cw->sites[i].site;
			ev->site_count = cw->sites[i].count;
		}
	}
}

static void add_endpoint_evidence(struct conn_leak_evidence *ev, bool inbound,
				  const struct endpoint *ep, uint64_t age_ns, bool age_is_lower_bound)
{
	struct endpoint_evidence *e;
	size_t i;

	for (i = 0; i < ev->n_endpoints; i++) {
		e = &ev->endpoints[i];
		if (e->inbound == inbound && e->ep.family == ep->family &&
		    e->ep.port == ep->port && !memcmp(e->ep.addr, ep->addr, sizeof(ep->addr)))
			break;
	}
	if (i == ev->n_endpoints) {
		if (ev->n_endpoints == EVIDENCE_MAX_ENDPOINTS)
			return;
		e = &ev->endpoints[ev->n_endpoints++];
		e->inbound = inbound;
		e->ep = *ep;
	}
	e = &ev->endpoints[i];
	e->count++;
	if (age_ns > e->oldest_age_ns)
		e->oldest_age_ns = age_ns;
	if (age_is_lower_bound)
		e->age_is_lower_bound = true;
}

/* One socket held in CLOSE_WAIT past the threshold, entered at since_ns. */
static void count_close_wait(struct close_wait_ctx *cw, int site, bool inbound,
			     const struct endpoint *ep, uint64_t since_ns, uint64_t age,
			     bool age_is_lower_bound)
{
	struct conn_leak_evidence *ev = cw->ev;
	uint64_t since = since_ns > cw->m->start_ns ? since_ns - cw->m->start_ns : 0;

	if (!ev->close_wait || age > ev->oldest_age_ns)
		ev->oldest_age_ns = age;
	if (!ev->close_wait || age < ev->youngest_age_ns)
		ev->youngest_age_ns = age;
	if (!ev->close_wait || since < ev->first_seen_ns)
		ev->first_seen_ns = since;
	if (age_is_lower_bound)
		ev->age_is_lower_bound = true;
	count_site(cw, site);
	ev->close_wait++;
	add_endpoint_evidence(ev, inbound, ep, age, age_is_lower_bound);
}

static void collect_close_wait(const struct conn *c, void *ctx)
{
	struct close_wait_ctx *cw = ctx;
	uint64_t age = cw->now_ns > c->state_since_ns ? cw->now_ns - c->state_since_ns : 0;

	if (c->state != TCP_STATE_CLOSE_WAIT)
		return;
	/* a socket found in CLOSE_WAIT at attach is at least as old as the trace */
	if (c->state_age_known && age < cw->min_age_ns)
		return;
	cw->ev->still_open++;
	count_close_wait(cw, c->site, c->inbound, c->inbound ? &c->local : &c->remote,
			 c->state_since_ns, age, !c->state_age_known);
}

/* The sockets that sat in CLOSE_WAIT past the threshold and were closed since. */
static void collect_close_wait_history(struct close_wait_ctx *cw, const struct proc_model *p)
{
	const struct close_wait_episode *e;
	uint64_t age;
	size_t i;

	for (i = 0; i < cw->m->n_close_wait_history; i++) {
		e = &cw->m->close_wait_history[i];
		age = e->ended_ns - e->since_ns;
		if (e->pid != p->pid || (!e->age_is_lower_bound && age < cw->min_age_ns))
			continue;
		/* the interpreter's finalization, or the kernel once the process is gone */
		if (p->exited && e->ended_ns + SHUTDOWN_WINDOW_NS > p->exited_ns)
			cw->ev->closed_at_exit++;
		else
			cw->ev->closed_late++;
		count_close_wait(cw, e->site, e->inbound, &e->ep, e->since_ns, age,
				 e->age_is_lower_bound);
	}
}

/* "3 sockets held in CLOSE_WAIT for 2.1s to over 8.3s: ..., 2 closed when the process exited" */
static void describe_close_wait(const struct conn_leak_evidence *ev, char *buf, size_t size)
{
	char ages[64], fate[96] = "";
	const char *over = ev->age_is_lower_bound ? "over " : "";
	size_t len = 0;

	if (ev->oldest_age_ns - ev->youngest_age_ns < NSEC_PER_SEC / 10)
		snprintf(ages, sizeof(ages), "%s%.1fs", over, ns_to_s(ev->oldest_age_ns));
	else
		snprintf(ages, sizeof(ages), "%.1fs to %s%.1fs", ns_to_s(ev->youngest_age_ns), over,
			 ns_to_s(ev->oldest_age_ns));
	if (ev->closed_late)
		len += (size_t)snprintf(fate + len, sizeof(fate) - len, "; %u closed late",
					ev->closed_late);
	if (ev->closed_at_exit && len < sizeof(fate))
		snprintf(fate + len, sizeof(fate) - len, "; %u closed only as the process exited",
			 ev->closed_at_exit);
	snprintf(buf, size, "%u socket%s held in CLOSE_WAIT for %s: the peer closed, the process %s%s",
		 ev->close_wait, ev->close_wait == 1 ? "" : "s", ages,
		 ev->closed_late ? "was slow to" : "never did", fate);
}

static int find_close_wait(const struct model *m, const struct proc_model *p,
			   const struct finding_thresholds *t, uint64_t now_ns, struct findings *out)
{
	struct conn_leak_evidence ev = { .reason = CONN_LEAK_CLOSE_WAIT };
	struct close_wait_ctx ctx = {
		.m = m, .now_ns = now_ns, .ev = &ev,
		.min_age_ns = (uint64_t)(t->close_wait_min_age_s * NSEC_PER_SEC),
	};
	struct finding *f;

	model_foreach_conn(m, p->pid, collect_close_wait, &ctx);
	collect_close_wait_history(&ctx, p);
	if (!ev.close_wait)
		return 0;
	pick_site(&ctx, &ev);
	f = new_finding(out);
	if (!f)
		return -ENOMEM;
	f->kind = FINDING_CONNECTION_LEAK;
	f->severity = ev.close_wait >= t->close_wait_critical ? SEVERITY_CRITICAL : SEVERITY_WARNING;
	f->pid = p->pid;
	f->site = ev.site >= 0 ? ev.site : -1;
	f->remediation = close_wait_remediation;
	f->conn_leak = ev;
	describe_close_wait(&ev, f->summary, sizeof(f->summary));
	return 0;
}

/* Least-squares slope of y over samples [from, to), per second; t in ns. */
static double slope(const uint64_t *t, const double *y, size_t from, size_t to)
{
	double n = (double)(to - from), sx = 0, sy = 0, sxx = 0, sxy = 0, x, den;
	size_t i;

	for (i = from; i < to; i++) {
		x = ns_to_s(t[i]);
		sx += x;
		sy += y[i];
		sxx += x * x;
		sxy += x * y[i];
	}
	den = n * sxx - sx * sx;
	return den > 0 ? (n * sxy - sx * sy) / den : 0;
}

/*
 * Growth without a plateau in a series: it rose by at least min_increase
 * over at least min_window_s, and its last third still climbs at half the
 * overall rate or more (a pool that filled up and stayed flat does not).
 * Gives the overall slope per second.
 */
static bool grows_without_plateau(const uint64_t *t, const double *y, size_t n,
				  double min_increase, double min_window_s, double *per_s)
{
	double whole, tail;

	if (n < 6 || ns_to_s(t[n - 1] - t[0]) < min_window_s || y[n - 1] < y[0] + min_increase)
		return false;
	whole = slope(t, y, 0, n);
	tail = slope(t, y, n - n / 3, n);
	*per_s = whole;
	return whole > 0 && tail >= whole / 2;
}

/*
 * Growth without a plateau: open connections rose by at least the threshold
 * over the window, and the last third of the window still climbs at half the
 * overall rate or more (a pool that filled up and stayed flat does not).
 */
static int find_growth(const struct proc_model *p, const struct finding_thresholds *t,
		       struct findings *out)
{
	const struct sample *s = p->samples;
	size_t n = p->n_samples;
	uint64_t times[MODEL_MAX_SAMPLES];
	double open[MODEL_MAX_SAMPLES], slope_per_s, window_s;
	struct conn_leak_evidence ev = { .reason = CONN_LEAK_GROWTH };
	struct finding *f;
	uint32_t peak = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		times[i] = s[i].t_ns;
		open[i] = s[i].open;
		if (s[i].open > peak)
			peak = s[i].open;
	}
	if (!grows_without_plateau(times, open, n, t->growth_min_increase, t->growth_min_window_s,
				   &slope_per_s))
		return 0;
	window_s = ns_to_s(s[n - 1].t_ns - s[0].t_ns);
	ev.open_first = s[0].open;
	ev.open_last = s[n - 1].open;
	ev.peak_open = peak;
	ev.slope_per_min = slope_per_s * 60;
	ev.window_start_ns = s[0].t_ns;
	ev.window_end_ns = s[n - 1].t_ns;
	f = new_finding(out);
	if (!f)
		return -ENOMEM;
	f->kind = FINDING_CONNECTION_LEAK;
	f->severity = SEVERITY_WARNING;
	f->pid = p->pid;
	f->site = -1;
	f->remediation = growth_remediation;
	f->conn_leak = ev;
	snprintf(f->summary, sizeof(f->summary),
		 "open connections grew from %u to %u in %.0fs (%.0f/min) with no plateau",
		 ev.open_first, ev.open_last, window_s, ev.slope_per_min);
	return 0;
}

static int site_index(const struct model *m, const struct task_site *s)
{
	return (int)(s - m->sites);
}

/*
 * A site whose tasks were in flight by the hundred AND held connections by
 * the hundred at once: concurrency that follows the input. A site whose many
 * tasks queue behind a bound (a Semaphore) never holds many connections, so
 * it is not one. Without connections, only a very large fan-out counts.
 */
static int find_fanout(const struct model *m, const struct task_site *s,
		       const struct finding_thresholds *t, struct findings *out)
{
	bool holds_conns = s->peak_conns_open >= t->fanout_min_conns &&
			   s->peak_conns_open * 2 >= s->peak_in_flight;
	struct fanout_evidence *ev;
	struct finding *f;

	if (s->peak_in_flight < t->fanout_min_tasks ||
	    (!holds_conns && s->peak_in_flight < t->fanout_memory_tasks))
		return 0;
	f = new_finding(out);
	if (!f)
		return -ENOMEM;
	f->kind = FINDING_UNBOUNDED_FANOUT;
	f->pid = s->pid;
	f->site = site_index(m, s);
	ev = &f->fanout;
	ev->created = s->created;
	ev->at_attach = s->at_attach;
	ev->peak_in_flight = s->peak_in_flight;
	ev->conns_opened = s->conns_opened;
	ev->peak_conns_open = s->peak_conns_open;
	ev->n_endpoints = s->n_endpoints;
	memcpy(ev->endpoints, s->endpoints, sizeof(ev->endpoints));
	ev->parent_site = s->parent_site;
	if (holds_conns) {
		f->severity = s->peak_conns_open >= 10ULL * t->fanout_min_conns ? SEVERITY_CRITICAL
									     : SEVERITY_WARNING;
		f->remediation = fanout_remediation;
		snprintf(f->summary, sizeof(f->summary),
			 "%u %s tasks in flight at once from one line, holding %u connections at once: "
			 "concurrency follows the input, nothing bounds it",
			 s->peak_in_flight, s->coroutine, s->peak_conns_open);
	} else {
		f->severity = SEVERITY_WARNING;
		f->remediation = fanout_memory_remediation;
		snprintf(f->summary, sizeof(f->summary),
			 "%u %s tasks in flight at once from one line (%u connections open at most)",
			 s->peak_in_flight, s->coroutine, s->peak_conns_open);
	}
	return 0;
}

/*
 * One line's tasks opened many connections, more than twice as many as they
 * ever were at once, and the process closed none of them while it lived,
 * however healthy their TCP state: a client or session per use, never closed. A site whose sockets already make a CLOSE_WAIT or a
 * fan-out finding is left to that one.
 */
static int find_never_closed(const struct model *m, const struct task_site *s,
			     const struct finding_thresholds *t, const struct findings *so_far,
			     struct findings *out)
{
	/* with events lost, "closed at exit" may be a close whose event was lost */
	uint64_t held = s->conns_open + (m->ringbuf_drops ? 0 : s->conns_closed_at_exit);
	struct conn_leak_evidence *ev;
	struct finding *f;
	size_t i;

	/* each of a fan-out's tasks holds one: its connections must outnumber its tasks */
	if (s->conns_opened < t->never_closed_min_conns || s->conns_closed ||
	    held < t->never_closed_min_conns || held <= 2ULL * s->peak_in_flight)
		return 0;
	for (i = 0; i < so_far->len; i++)
		if (so_far->items[i].site == site_index(m, s) &&
		    so_far->items[i].kind != FINDING_TASK_LEAK)
			return 0;
	f = new_finding(out);
	if (!f)
		return -ENOMEM;
	f->kind = FINDING_CONNECTION_LEAK;
	f->severity = SEVERITY_WARNING;
	f->pid = s->pid;
	f->site = site_index(m, s);
	f->remediation = never_closed_remediation;
	ev = &f->conn_leak;
	ev->reason = CONN_LEAK_NEVER_CLOSED;
	ev->site = f->site;
	ev->opened = s->conns_opened;
	ev->open_at_end = s->conns_open;
	ev->closed_at_exit = (uint32_t)s->conns_closed_at_exit;
	ev->peak_open = s->peak_conns_open;
	snprintf(f->summary, sizeof(f->summary),
		 "%llu connections opened by %s tasks and none closed while the process %s",
		 (unsigned long long)s->conns_opened, s->coroutine,
		 s->conns_closed_at_exit ? "lived: its exit closed them" : "was traced");
	return 0;
}

static struct finding *task_leak_finding(const struct model *m, const struct task_site *s,
					 enum task_leak_reason reason, struct findings *out)
{
	struct finding *f = new_finding(out);

	if (!f)
		return NULL;
	f->kind = FINDING_TASK_LEAK;
	f->severity = SEVERITY_WARNING;
	f->pid = s->pid;
	f->site = site_index(m, s);
	f->task_leak.reason = reason;
	return f;
}

static int find_destroyed_pending(const struct model *m, const struct task_site *s,
				  struct findings *out)
{
	struct finding *f;

	if (!s->destroyed_pending)
		return 0;
	f = task_leak_finding(m, s, TASK_LEAK_DESTROYED_PENDING, out);
	if (!f)
		return -ENOMEM;
	f->remediation = destroyed_remediation;
	f->task_leak.destroyed_pending = s->destroyed_pending;
	snprintf(f->summary, sizeof(f->summary),
		 "%llu %s task%s destroyed while still pending: nothing kept a reference to them",
		 (unsigned long long)s->destroyed_pending, s->coroutine,
		 s->destroyed_pending == 1 ? " was" : "s were");
	return 0;
}

#define STUCK_MIN_FINISHED 10

/* What a site's pending tasks are judged against: the finished tasks like them. */
struct usual_life {
	uint64_t finished;		/* seen done, or (sampled) counted unseen */
	uint64_t lifetime_ns;		/* how long they usually live */
	uint64_t short_unseen, short_unseen_within_ns;
};

struct stuck_ctx {
	const struct model *m;
	const struct finding_thresholds *t;
	uint64_t now_ns;
	uint32_t *stuck;	/* per site */
	uint64_t *oldest;	/* per site */
	struct usual_life *usual;	/* per site */
};

/* Without enough finished tasks there is no usual lifetime: a long-lived worker is not stuck. */
static bool lifetime_known(const struct usual_life *u)
{
	return u->finished >= STUCK_MIN_FINISHED;
}

/* how old a pending task must be to count as stuck, against u */
static uint64_t stuck_age(const struct usual_life *u, const struct finding_thresholds *t)
{
	uint64_t min_ns = (uint64_t)(t->stuck_min_age_s * NSEC_PER_SEC);
	double scaled = (double)u->lifetime_ns * t->stuck_lifetime_factor;

	/* a factor so large no task is ever old enough: never stuck, not stuck at once */
	if (scaled >= 0x1p63)
		return UINT64_MAX;
	return (uint64_t)scaled > min_ns ? (uint64_t)scaled : min_ns;
}

/*
 * A sampled trace places a task where a read first showed it suspended, so
 * the tasks one line creates from one coroutine may sit at several lines:
 * the coroutine's sampled sites on one event loop are judged together.
 */
static bool same_coroutine(const struct task_site *a, const struct task_site *b)
{
	return a->sampled_site && b->sampled_site && a->pid == b->pid && a->loop == b->loop &&
	       !strcmp(a->coroutine, b->coroutine);
}

static void add_lifetimes(struct duration_stats *to, const struct duration_stats *from)
{
	unsigned int i;

	if (!from->count)
		return;
	if (!to->count || from->min_ns < to->min_ns)
		to->min_ns = from->min_ns;
	if (from->max_ns > to->max_ns)
		to->max_ns = from->max_ns;
	to->count += from->count;
	to->sum_ns += from->sum_ns;
	for (i = 0; i < 64; i++)
		to->buckets[i] += from->buckets[i];
}

/*
 * The finished tasks site i is judged against, with how long they usually
 * live: the unseen ones as long as they may have lived, at most.
 */
static void usual_life_of(const struct model *m, size_t i, struct usual_life *u)
{
	const struct task_site *s = &m->sites[i];
	struct duration_stats all = s->lifetimes;
	uint64_t seen;
	size_t j;

	u->short_unseen = s->short_unseen;
	u->short_unseen_within_ns = s->short_unseen_within_ns;
	for (j = 0; s->sampled_site && j < m->n_sites; j++) {
		if (j == i || !same_coroutine(s, &m->sites[j]))
			continue;
		add_lifetimes(&all, &m->sites[j].lifetimes);
		u->short_unseen += m->sites[j].short_unseen;
		if (m->sites[j].short_unseen_within_ns > u->short_unseen_within_ns)
			u->short_unseen_within_ns = m->sites[j].short_unseen_within_ns;
	}
	seen = duration_quantile(&all, 0.95);
	u->finished = all.count + u->short_unseen;
	u->lifetime_ns = u->short_unseen && u->short_unseen_within_ns > seen ?
			 u->short_unseen_within_ns : seen;
}

static void count_stuck(pid_t pid, int site, uint64_t created_ns, void *ctx)
{
	struct stuck_ctx *c = ctx;
	uint64_t age = c->now_ns > created_ns ? c->now_ns - created_ns : 0;

	const struct proc_model *p = model_process(c->m, pid);

	/* the tasks of a process that exited are not waiting any more */
	if (site < 0 || !p || p->exited || !lifetime_known(&c->usual[site]) ||
	    age < stuck_age(&c->usual[site], c->t))
		return;
	c->stuck[site]++;
	if (age > c->oldest[site])
		c->oldest[site] = age;
}

/* How many of d are at least ns, counting only the buckets wholly above it. */
static uint32_t count_at_least(const struct duration_stats *d, uint64_t ns)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < 64; i++)
		if ((i ? 1ULL << i : 0) >= ns)
			n += d->buckets[i];
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Tasks that were stuck when their process's shutdown ended them. */
static void count_stuck_at_shutdown(struct stuck_ctx *c, uint32_t *at_shutdown)
{
	const struct task_site *s;
	uint32_t n;
	size_t i;

	for (i = 0; i < c->m->n_sites; i++) {
		s = &c->m->sites[i];
		if (!s->shutdown_ages.count || !lifetime_known(&c->usual[i]))
			continue;
		n = count_at_least(&s->shutdown_ages, stuck_age(&c->usual[i], c->t));
		if (!n)
			continue;
		at_shutdown[i] = n;
		c->stuck[i] += n;
		if (s->shutdown_ages.max_ns > c->oldest[i])
			c->oldest[i] = s->shutdown_ages.max_ns;
	}
}

/* The sites that have pending tasks or tasks ended at shutdown: only they may be stuck. */
static void judge_usual_lives(struct stuck_ctx *c)
{
	const struct task_site *s;
	size_t i;

	for (i = 0; i < c->m->n_sites; i++) {
		s = &c->m->sites[i];
		if (s->in_flight || s->shutdown_ages.count)
			usual_life_of(c->m, i, &c->usual[i]);
	}
}

static int find_stuck(const struct model *m, const struct finding_thresholds *t, uint64_t now_ns,
		      struct findings *out)
{
	uint32_t *at_shutdown = NULL;
	struct stuck_ctx c = { .m = m, .t = t, .now_ns = now_ns };
	const struct task_site *s;
	const struct usual_life *u;
	struct finding *f;
	int err = 0;
	size_t i;

	if (!m->n_sites)
		return 0;
	c.stuck = calloc(m->n_sites, sizeof(*c.stuck));
	c.oldest = calloc(m->n_sites, sizeof(*c.oldest));
	c.usual = calloc(m->n_sites, sizeof(*c.usual));
	at_shutdown = calloc(m->n_sites, sizeof(*at_shutdown));
	if (!c.stuck || !c.oldest || !c.usual || !at_shutdown) {
		err = -ENOMEM;
		goto out;
	}
	judge_usual_lives(&c);
	model_foreach_pending_task_age(m, count_stuck, &c);
	count_stuck_at_shutdown(&c, at_shutdown);
	for (i = 0; i < m->n_sites && !err; i++) {
		if (!c.stuck[i])
			continue;
		s = &m->sites[i];
		u = &c.usual[i];
		f = task_leak_finding(m, s, TASK_LEAK_STUCK, out);
		if (!f) {
			err = -ENOMEM;
			break;
		}
		f->remediation = stuck_remediation;
		f->task_leak.stuck = c.stuck[i];
		f->task_leak.stuck_at_shutdown = at_shutdown[i];
		f->task_leak.oldest_age_ns = c.oldest[i];
		f->task_leak.usual_lifetime_ns = u->lifetime_ns;
		f->task_leak.short_unseen = u->short_unseen;
		f->task_leak.short_unseen_within_ns = u->short_unseen_within_ns;
		snprintf(f->summary, sizeof(f->summary),
			 "%u %s task%s pending for %.1fs or more, far longer than %s tasks "
			 "usually live", c.stuck[i], s->coroutine, c.stuck[i] == 1 ? "" : "s",
			 ns_to_s(stuck_age(u, t)), s->sampled_site ? "its coroutine's" : "this site's");
	}
out:
	free(c.stuck);
	free(c.oldest);
	free(c.usual);
	free(at_shutdown);
	return err;
}

static int find_task_growth(const struct model *m, const struct task_site *s,
			    const struct finding_thresholds *t, struct findings *out)
{
	uint64_t times[SITE_MAX_SAMPLES];
	double in_flight[SITE_MAX_SAMPLES], per_s;
	size_t i, n = s->n_samples;
	struct finding *f;

	for (i = 0; i < n; i++) {
		times[i] = s->samples[i].t_ns;
		in_flight[i] = s->samples[i].in_flight;
	}
	if (!grows_without_plateau(times, in_flight, n, t->task_growth_min_increase,
				   t->growth_min_window_s, &per_s))
		return 0;
	f = task_leak_finding(m, s, TASK_LEAK_GROWTH, out);
	if (!f)
		return -ENOMEM;
	f->remediation = task_growth_remediation;
	f->task_leak.in_flight_first = s->samples[0].in_flight;
	f->task_leak.in_flight_last = s->samples[n - 1].in_flight;
	f->task_leak.slope_per_min = per_s * 60;
	f->task_leak.window_start_ns = s->samples[0].t_ns;
	f->task_leak.window_end_ns = s->samples[n - 1].t_ns;
	snprintf(f->summary, sizeof(f->summary),
		 "pending %s tasks grew from %u to %u (%.0f/min) with no plateau",
		 s->coroutine, s->samples[0].in_flight, s->samples[n - 1].in_flight, per_s * 60);
	return 0;
}

/*
 * Thousands pending at once, none completed while the process ran, and most
 * still pending when it shut down (its cancellations are no completion):
 * they waited for what never came. Counted from the peak, so creation may
 * have stopped long before. In a process that runs on, growth and stuck
 * tasks tell a pile-up from a slow fan-out.
 */
static bool piled_up(const struct task_site *s, const struct finding_thresholds *t)
{
	uint64_t completed = s->finished + s->cancelled;

	return s->peak_in_flight >= t->pileup_min_tasks && completed * 100 < s->peak_in_flight &&
	       s->ended_at_shutdown * 2 >= s->peak_in_flight;
}

static int find_pileup(const struct model *m, const struct task_site *s,
		       const struct finding_thresholds *t, struct findings *out)
{
	struct finding *f;

	if (!piled_up(s, t))
		return 0;
	f = task_leak_finding(m, s, TASK_LEAK_PILED_UP, out);
	if (!f)
		return -ENOMEM;
	f->remediation = pileup_remediation;
	f->task_leak.peak_in_flight = s->peak_in_flight;
	f->task_leak.completed = s->finished + s->cancelled;
	f->task_leak.ended_at_shutdown = s->ended_at_shutdown;
	snprintf(f->summary, sizeof(f->summary),
		 "%u %s tasks piled up pending and %s completed%s", s->peak_in_flight, s->coroutine,
		 f->task_leak.completed ? "almost none" : "none",
		 s->ended_at_shutdown ? "; only the process's shutdown ended them" : "");
	return 0;
}

static int find_site_findings(const struct model *m, const struct finding_thresholds *t,
			      uint64_t now_ns, struct findings *out)
{
	size_t i;
	int err = 0;

	for (i = 0; i < m->n_sites && !err; i++) {
		err = find_fanout(m, &m->sites[i], t, out);
		if (!err)
			err = find_destroyed_pending(m, &m->sites[i], out);
		if (!err)
			err = find_pileup(m, &m->sites[i], t, out);
		/* a pile-up that was still growing is one finding, not two */
		if (!err && !piled_up(&m->sites[i], t))
			err = find_task_growth(m, &m->sites[i], t, out);
	}
	for (i = 0; i < m->n_sites && !err; i++)
		err = find_never_closed(m, &m->sites[i], t, out, out);
	return err ? err : find_stuck(m, t, now_ns, out);
}

/* A process that died of something wrong: its findings are likely why. */
static void raise_for_failed_end(const struct model *m, struct finding *f)
{
	const struct proc_model *p = model_process(m, f->pid);

	if (!p || !p->exited || !proc_end_is_failure(&p->end) || f->severity == SEVERITY_CRITICAL)
		return;
	f->severity++;
	f->raised = true;
}

/* What the tracer lost, said on every finding it may have skewed. */
static void note_losses(const struct model *m, struct finding *f)
{
	uint64_t conn_lost = m->ringbuf_drops + m->sock_table_full + m->found_table_full +
			     m->untracked_conns + m->close_wait_history_lost;
	uint64_t task_lost = m->task_ringbuf_drops + m->untracked_tasks + m->site_table_full +
			     m->code_cache_full + m->tasks_at_attach_left_out;
	uint64_t lost = f->kind == FINDING_CONNECTION_LEAK ? conn_lost : conn_lost + task_lost;

	if (f->kind == FINDING_NEVER_AWAITED || f->kind == FINDING_DEPRECATED_API)
		lost = m->warning_drops + m->warnings_ungrouped;
	else if (f->kind == FINDING_UNCLOSED_RESOURCE)
		lost = conn_lost + task_lost + m->warning_drops + m->warnings_ungrouped;

	if (lost)
		snprintf(f->caveat, sizeof(f->caveat),
			 "counts may be off: the tracer lost %llu events or records (ring buffer, "
			 "table or cache full; see the tracer's counters)", (unsigned long long)lost);
}

/*
 * A finding a sampled trace made about tasks: its line is where they were
 * seen, and tasks shorter than a poll were not; said after any losses.
 */
static void note_sampling(const struct model *m, struct finding *f)
{
	const struct task_site *s = f->site >= 0 && (size_t)f->site < m->n_sites ?
				    &m->sites[f->site] : NULL;
	size_t len = strlen(f->caveat);

	if (m->mode != TRACE_MODE_SAMPLED || !s || !s->sampled_site)
		return;
	snprintf(f->caveat + len, sizeof(f->caveat) - len,
		 "%straced --sampled: the line is where these tasks were seen (awaited, or "
		 "opening a connection), not where they were created; tasks that ended within "
		 "a poll were not seen", len ? "; " : "");
	len = strlen(f->caveat);
	if (f->kind != FINDING_TASK_LEAK || f->task_leak.reason != TASK_LEAK_STUCK)
		return;
	len += (size_t)snprintf(f->caveat + len, sizeof(f->caveat) - len,
				"; judged against the finished %s tasks wherever reads showed them, "
				"ages counted from the read that first showed these", s->coroutine);
	if (f->task_leak.short_unseen && len < sizeof(f->caveat))
		snprintf(f->caveat + len, sizeof(f->caveat) - len,
			 "; a weaker inference: %llu of those finished tasks were never seen, only "
			 "counted by the numbers of their default names (Task-N) between these "
			 "tasks' own, and taken for their siblings",
			 (unsigned long long)f->task_leak.short_unseen);
}

static int cmp_severity(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/*
 * What the message of a DeprecationWarning is known to be about: the call,
 * the version that removes it (NULL: not scheduled), what to use instead.
 */
struct deprecation {
	const char *message_part, *call, *removed_in, *replacement;
};

static const struct deprecation deprecations[] = {
	{ "There is no current event loop", "asyncio.get_event_loop()", "3.14",
	  "asyncio.get_running_loop() inside a coroutine, or asyncio.run() / asyncio.Runner" },
	{ "passing of coroutine objects to asyncio.wait()", "asyncio.wait() on coroutines", "3.11",
	  "wrap each coroutine in asyncio.create_task() and pass the tasks" },
	{ "SSLContext() without protocol argument", "ssl.SSLContext() without a protocol", NULL,
	  "ssl.create_default_context(), or ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)" },
	{ "get_event_loop_policy", "asyncio.get_event_loop_policy()", "3.16",
	  "asyncio.run() / asyncio.Runner, without policies" },
};

static const char *const never_awaited_fix =
	"await the coroutine, or schedule it with asyncio.create_task() and keep a reference: "
	"as it is, the work it stands for never runs";
static const char *const unclosed_fix =
	"close it where it is opened (writer.close(); await writer.wait_closed(), or 'async "
	"with'/try-finally): the peer and the fd are held until the garbage collector finds it";
static const char *const deprecated_fix =
	"replace the call before upgrading Python: the filters hide this warning, the next "
	"version may not keep the call";

/* The name between the quotes of "coroutine 'NAME' was never awaited". */
static bool never_awaited_name(const char *message, char *name, size_t size)
{
	const char *start, *end;

	if (strncmp(message, "coroutine '", strlen("coroutine '")))
		return false;
	start = message + strlen("coroutine '");
	end = strstr(start, "' was never awaited");
	if (!end)
		return false;
	snprintf(name, size, "%.*s", (int)(end - start), start);
	return true;
}

/* What an "unclosed ..." message says is left open, NULL if it is not one. */
static const char *unclosed_resource(const char *message)
{
	if (!strncmp(message, "unclosed transport", strlen("unclosed transport")))
		return "transport";
	if (!strncmp(message, "unclosed <socket", strlen("unclosed <socket")))
		return "socket";
	if (!strncmp(message, "unclosed <StreamWriter", strlen("unclosed <StreamWriter")))
		return "stream writer";
	if (!strncmp(message, "unclosed file", strlen("unclosed file")))
		return "file";
	if (!strncmp(message, "unclosed event loop", strlen("unclosed event loop")))
		return "event loop";
	return !strncmp(message, "unclosed", strlen("unclosed")) ? "resource" : NULL;
}

static struct finding *warning_finding(struct findings *out, enum finding_kind kind,
				       enum severity sev, const struct warning_group *g, int group)
{
	struct finding *f = new_finding(out);

	if (!f)
		return NULL;
	f->kind = kind;
	f->severity = sev;
	f->pid = g->pid;
	f->site = -1;
	f->warning.group = group;
	return f;
}

static int find_never_awaited(const struct warning_group *g, int group, struct findings *out)
{
	char name[128];
	struct finding *f;

	if (strcmp(g->category, "RuntimeWarning") || !never_awaited_name(g->message, name,
									  sizeof(name)))
		return 0;
	f = warning_finding(out, FINDING_NEVER_AWAITED, SEVERITY_WARNING, g, group);
	if (!f)
		return -ENOMEM;
	snprintf(f->warning.coroutine, sizeof(f->warning.coroutine), "%s", name);
	snprintf(f->summary, sizeof(f->summary), "coroutine %s was created and dropped without "
		 "being awaited, %llu time%s", name, (unsigned long long)g->count,
		 g->count > 1 ? "s" : "");
	f->remediation = never_awaited_fix;
	return 0;
}

static bool opener_known(const struct model *m, const struct warning_group *g)
{
	return g->connection && g->conn_site >= 0 && (size_t)g->conn_site < m->n_sites;
}

/* The finding already made for connections of this opener, if any. */
static struct finding *opener_finding(struct findings *out, pid_t pid, int site)
{
	size_t i;

	for (i = 0; i < out->len; i++)
		if (out->items[i].kind == FINDING_UNCLOSED_RESOURCE && out->items[i].pid == pid &&
		    out->items[i].warning.attributed && out->items[i].site == site)
			return &out->items[i];
	return NULL;
}

static void describe_unclosed(struct finding *f)
{
	snprintf(f->summary, sizeof(f->summary), "%s%s left for the garbage collector to close, "
		 "never closed by the program (%llu warning%s)", f->warning.resource,
		 f->warning.attributed ? " of a connection" : "",
		 (unsigned long long)f->warning.warnings, f->warning.warnings > 1 ? "s" : "");
}

static int find_unclosed(const struct model *m, const struct warning_group *g, int group,
			 struct findings *out)
{
	const char *what = unclosed_resource(g->message);
	struct finding *f;

	if (strcmp(g->category, "ResourceWarning") || !what)
		return 0;
	/* a socket and its transport (or writer), collected together: one connection */
	f = opener_known(m, g) ? opener_finding(out, g->pid, g->conn_site) : NULL;
	if (f) {
		f->warning.warnings += g->count;
		describe_unclosed(f);
		return 0;
	}
	f = warning_finding(out, FINDING_UNCLOSED_RESOURCE, SEVERITY_WARNING, g, group);
	if (!f)
		return -ENOMEM;
	f->warning.resource = what;
	f->warning.warnings = g->count;
	if (opener_known(m, g)) {
		f->site = g->conn_site;
		f->warning.attributed = true;
	}
	describe_unclosed(f);
	f->remediation = unclosed_fix;
	return 0;
}

static const struct deprecation *known_deprecation(const char *message)
{
	size_t i;

	for (i = 0; i < sizeof(deprecations) / sizeof(deprecations[0]); i++)
		if (strstr(message, deprecations[i].message_part))
			return &deprecations[i];
	return NULL;
}

static int find_deprecated(const struct warning_group *g, int group, struct findings *out)
{
	const struct deprecation *d;
	struct finding *f;

	if (strcmp(g->category, "DeprecationWarning") &&
	    strcmp(g->category, "PendingDeprecationWarning"))
		return 0;
	f = warning_finding(out, FINDING_DEPRECATED_API, SEVERITY_INFO, g, group);
	if (!f)
		return -ENOMEM;
	d = known_deprecation(g->message);
	snprintf(f->warning.call, sizeof(f->warning.call), "%s", d ? d->call : g->message);
	f->warning.removed_in = d ? d->removed_in : NULL;
	f->warning.replacement = d ? d->replacement : NULL;
	snprintf(f->summary, sizeof(f->summary), "a deprecated API, called %llu time%s%s%s",
		 (unsigned long long)g->count, g->count > 1 ? "s" : "",
		 f->warning.removed_in ? "; removed in Python " : "",
		 f->warning.removed_in ? f->warning.removed_in : "");
	f->remediation = deprecated_fix;
	return 0;
}

static int find_warning_findings(const struct model *m, struct findings *out)
{
	const struct warning_group *g;
	size_t i;
	int err = 0;

	for (i = 0; i < m->n_warnings && !err; i++) {
		g = &m->warnings[i];
		err = find_never_awaited(g, (int)i, out);
		if (!err)
			err = find_unclosed(m, g, (int)i, out);
		if (!err)
			err = find_deprecated(g, (int)i, out);
	}
	return err;
}

int findings_compute(const struct model *m, const struct finding_thresholds *t, uint64_t now_ns,
		     struct findings *out)
{
	const struct proc_model *p;
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < m->n_procs && !err; i++) {
		p = &m->procs[i];
		err = find_close_wait(m, p, t, now_ns, out);
		if (!err)
			err = find_growth(p, t, out);
	}
	if (!err)
		err = find_site_findings(m, t, now_ns, out);
	if (!err)
		err = find_warning_findings(m, out);
	if (err) {
		findings_free(out);
		return err;
	}
	for (i = 0; i < out->len; i++) {
		raise_for_failed_end(m, &out->items[i]);
		note_losses(m, &out->items[i]);
		note_sampling(m, &out->items[i]);
	}
	if (out->len)
		qsort(out->items, out->len, sizeof(*out->items), cmp_severity);
	return 0;
}

void findings_free(struct findings *f)
{
	free(f->items);
	memset(f, 0, sizeof(*f));
}
