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
	}
	return "unknown";
}

const char *conn_leak_reason_name(enum conn_leak_reason r)
{
	return r == CONN_LEAK_CLOSE_WAIT ? "close_wait" : "growth";
}

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

static void add_endpoint_evidence(struct conn_leak_evidence *ev, const struct conn *c,
				  uint64_t age_ns)
{
	const struct endpoint *ep = c->inbound ? &c->local : &c->remote;
	struct endpoint_evidence *e;
	size_t i;

	for (i = 0; i < ev->n_endpoints; i++) {
		e = &ev->endpoints[i];
		if (e->inbound == c->inbound && e->ep.family == ep->family &&
		    e->ep.port == ep->port && !memcmp(e->ep.addr, ep->addr, sizeof(ep->addr)))
			break;
	}
	if (i == ev->n_endpoints) {
		if (ev->n_endpoints == EVIDENCE_MAX_ENDPOINTS)
			return;
		e = &ev->endpoints[ev->n_endpoints++];
		e->inbound = c->inbound;
		e->ep = *ep;
	}
	e = &ev->endpoints[i];
	e->count++;
	if (age_ns > e->oldest_age_ns)
		e->oldest_age_ns = age_ns;
	if (!c->state_age_known)
		e->age_is_lower_bound = true;
}

static void collect_close_wait(const struct conn *c, void *ctx)
{
	struct close_wait_ctx *cw = ctx;
	struct conn_leak_evidence *ev = cw->ev;
	uint64_t age = cw->now_ns > c->state_since_ns ? cw->now_ns - c->state_since_ns : 0;

	if (c->state != TCP_STATE_CLOSE_WAIT)
		return;
	/* a socket found in CLOSE_WAIT at attach is at least as old as the trace */
	if (c->state_age_known && age < cw->min_age_ns)
		return;
	if (!ev->close_wait || age > ev->oldest_age_ns)
		ev->oldest_age_ns = age;
	if (!ev->close_wait || age < ev->youngest_age_ns)
		ev->youngest_age_ns = age;
	if (!c->state_age_known)
		ev->age_is_lower_bound = true;
	count_site(cw, c->site);
	ev->close_wait++;
	add_endpoint_evidence(ev, c, age);
}

/* "3 sockets held in CLOSE_WAIT for 2.1s to over 8.3s: ..." */
static void describe_close_wait(const struct conn_leak_evidence *ev, char *buf, size_t size)
{
	char ages[64];
	const char *over = ev->age_is_lower_bound ? "over " : "";

	if (ev->oldest_age_ns - ev->youngest_age_ns < NSEC_PER_SEC / 10)
		snprintf(ages, sizeof(ages), "%s%.1fs", over, ns_to_s(ev->oldest_age_ns));
	else
		snprintf(ages, sizeof(ages), "%.1fs to %s%.1fs", ns_to_s(ev->youngest_age_ns), over,
			 ns_to_s(ev->oldest_age_ns));
	snprintf(buf, size, "%u socket%s held in CLOSE_WAIT for %s: the peer closed, the process never did",
		 ev->close_wait, ev->close_wait == 1 ? "" : "s", ages);
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

/* Least-squares slope of open connections over samples [from, to), per second. */
static double open_slope(const struct sample *s, size_t from, size_t to)
{
	double n = (double)(to - from), sx = 0, sy = 0, sxx = 0, sxy = 0, x, y, den;
	size_t i;

	for (i = from; i < to; i++) {
		x = ns_to_s(s[i].t_ns);
		y = s[i].open;
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
	}
	den = n * sxx - sx * sx;
	return den > 0 ? (n * sxy - sx * sy) / den : 0;
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
	size_t n = p->n_samples, tail;
	double window_s, slope, tail_slope;
	struct conn_leak_evidence ev = { .reason = CONN_LEAK_GROWTH };
	struct finding *f;
	uint32_t peak = 0;
	size_t i;

	if (n < 6)
		return 0;
	window_s = ns_to_s(s[n - 1].t_ns - s[0].t_ns);
	if (window_s < t->growth_min_window_s || s[n - 1].open < s[0].open + t->growth_min_increase)
		return 0;
	tail = n - n / 3;
	slope = open_slope(s, 0, n);
	tail_slope = open_slope(s, tail, n);
	if (slope <= 0 || tail_slope < slope / 2)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i].open > peak)
			peak = s[i].open;
	ev.open_first = s[0].open;
	ev.open_last = s[n - 1].open;
	ev.peak_open = peak;
	ev.slope_per_min = slope * 60;
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

static int cmp_severity(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
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
	if (err) {
		findings_free(out);
		return err;
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
