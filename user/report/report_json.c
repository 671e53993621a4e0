// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* The JSON report; its schema is documented in docs/report-schema.md. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "report.h"

json_object *json_str(const char *s)
{
	char *clean = utf8_sanitize(s);
	json_object *o;

	if (!clean)
		return NULL;
	o = json_object_new_string(clean);
	free(clean);
	return o;
}

/* a number printed with this many decimals rather than 17 digits */
json_object *json_fixed(double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

/* seconds, to the microsecond */
static json_object *json_seconds(uint64_t ns)
{
	return json_fixed(ns_to_s(ns), 6);
}

static json_object *json_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static json_object *endpoint_json(const struct endpoint *ep)
{
	char buf[ENDPOINT_STRLEN];

	endpoint_format(ep, buf, sizeof(buf));
	return json_str(buf);
}

static json_object *by_state_json(const uint32_t *by_state)
{
	json_object *o = json_object_new_object();
	unsigned int s;

	for (s = 0; s < TCP_STATE_MAX; s++)
		if (by_state[s])
			json_object_object_add(o, tcp_state_name(s), json_u64(by_state[s]));
	return o;
}

static json_object *conn_leak_evidence_json(const struct conn_leak_evidence *ev)
{
	json_object *o = json_object_new_object(), *eps, *e;
	size_t i;

	json_object_object_add(o, "reason", json_str(conn_leak_reason_name(ev->reason)));
	if (ev->reason == CONN_LEAK_GROWTH) {
		json_object_object_add(o, "open_first", json_u64(ev->open_first));
		json_object_object_add(o, "open_last", json_u64(ev->open_last));
		json_object_object_add(o, "peak_open", json_u64(ev->peak_open));
		json_object_object_add(o, "slope_per_min", json_fixed(ev->slope_per_min, 3));
		json_object_object_add(o, "window_start_s", json_seconds(ev->window_start_ns));
		json_object_object_add(o, "window_end_s", json_seconds(ev->window_end_ns));
		return o;
	}
	if (ev->reason == CONN_LEAK_NEVER_CLOSED) {
		json_object_object_add(o, "opened", json_u64(ev->opened));
		json_object_object_add(o, "open_at_end", json_u64(ev->open_at_end));
		json_object_object_add(o, "closed_at_exit", json_u64(ev->closed_at_exit));
		json_object_object_add(o, "peak_open", json_u64(ev->peak_open));
		return o;
	}
	json_object_object_add(o, "close_wait", json_u64(ev->close_wait));
	json_object_object_add(o, "still_open", json_u64(ev->still_open));
	json_object_object_add(o, "closed_late", json_u64(ev->closed_late));
	json_object_object_add(o, "closed_at_exit", json_u64(ev->closed_at_exit));
	json_object_object_add(o, "first_seen_s", json_seconds(ev->first_seen_ns));
	json_object_object_add(o, "close_wait_from_site", json_u64(ev->site_count));
	json_object_object_add(o, "oldest_age_s", json_seconds(ev->oldest_age_ns));
	json_object_object_add(o, "youngest_age_s", json_seconds(ev->youngest_age_ns));
	json_object_object_add(o, "age_is_lower_bound", json_object_new_boolean(ev->age_is_lower_bound));
	eps = json_object_new_array();
	for (i = 0; i < ev->n_endpoints; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "direction",
				       json_str(ev->endpoints[i].inbound ? "inbound" : "outbound"));
		json_object_object_add(e, "endpoint", endpoint_json(&ev->endpoints[i].ep));
		json_object_object_add(e, "count", json_u64(ev->endpoints[i].count));
		json_object_object_add(e, "oldest_age_s", json_seconds(ev->endpoints[i].oldest_age_ns));
		json_object_object_add(e, "age_is_lower_bound",
				       json_object_new_boolean(ev->endpoints[i].age_is_lower_bound));
		json_object_array_add(eps, e);
	}
	json_object_object_add(o, "endpoints", eps);
	return o;
}

static json_object *site_ref_json(const struct model *m, int site)
{
	json_object *o;

	if (site < 0 || (size_t)site >= m->n_sites)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "file", json_str(m->sites[site].file));
	json_object_object_add(o, "line", json_object_new_int(m->sites[site].line));
	json_object_object_add(o, "function", json_str(m->sites[site].function));
	json_object_object_add(o, "coroutine", json_str(m->sites[site].coroutine));
	json_object_object_add(o, "thread", json_object_new_int(m->sites[site].tid));
	return o;
}

static json_object *fanout_evidence_json(const struct model *m, const struct fanout_evidence *ev)
{
	json_object *o = json_object_new_object(), *eps = json_object_new_array(), *e;
	size_t i;

	json_object_object_add(o, "tasks_created", json_u64(ev->created));
	json_object_object_add(o, "tasks_at_attach", json_u64(ev->at_attach));
	json_object_object_add(o, "peak_tasks_in_flight", json_u64(ev->peak_in_flight));
	json_object_object_add(o, "connections_opened", json_u64(ev->conns_opened));
	json_object_object_add(o, "peak_connections_open", json_u64(ev->peak_conns_open));
	for (i = 0; i < ev->n_endpoints; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "endpoint", endpoint_json(&ev->endpoints[i].ep));
		json_object_object_add(e, "opened", json_u64(ev->endpoints[i].opened));
		json_object_object_add(e, "peak_open", json_u64(ev->endpoints[i].peak_open));
		json_object_array_add(eps, e);
	}
	json_object_object_add(o, "endpoints", eps);
	json_object_object_add(o, "inside", site_ref_json(m, ev->parent_site));
	return o;
}

static json_object *task_leak_evidence_json(const struct task_leak_evidence *ev)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "reason", json_str(task_leak_reason_name(ev->reason)));
	switch (ev->reason) {
	case TASK_LEAK_DESTROYED_PENDING:
		json_object_object_add(o, "destroyed_pending", json_u64(ev->destroyed_pending));
		break;
	case TASK_LEAK_STUCK:
		json_object_object_add(o, "stuck", json_u64(ev->stuck));
		json_object_object_add(o, "stuck_at_shutdown", json_u64(ev->stuck_at_shutdown));
		json_object_object_add(o, "oldest_age_s", json_seconds(ev->oldest_age_ns));
		json_object_object_add(o, "usual_lifetime_s", json_seconds(ev->usual_lifetime_ns));
		json_object_object_add(o, "short_unseen", json_u64(ev->short_unseen));
		json_object_object_add(o, "short_unseen_within_s", ev->short_unseen ?
				       json_seconds(ev->short_unseen_within_ns) : NULL);
		break;
	case TASK_LEAK_GROWTH:
		json_object_object_add(o, "in_flight_first", json_u64(ev->in_flight_first));
		json_object_object_add(o, "in_flight_last", json_u64(ev->in_flight_last));
		json_object_object_add(o, "slope_per_min", json_fixed(ev->slope_per_min, 3));
		json_object_object_add(o, "window_start_s", json_seconds(ev->window_start_ns));
		json_object_object_add(o, "window_end_s", json_seconds(ev->window_end_ns));
		break;
	case TASK_LEAK_PILED_UP:
		json_object_object_add(o, "peak_in_flight", json_u64(ev->peak_in_flight));
		json_object_object_add(o, "completed", json_u64(ev->completed));
		json_object_object_add(o, "ended_at_shutdown", json_u64(ev->ended_at_shutdown));
		break;
	}
	return o;
}

static const struct warning_group *group_of(const struct model *m, const struct finding *fd)
{
	int g = fd->warning.group;

	return g >= 0 && (size_t)g < m->n_warnings ? &m->warnings[g] : NULL;
}

static json_object *warning_site_json(const struct warning_group *g)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_str(g->file));
	json_object_object_add(o, "line", json_object_new_int(g->line));
	return o;
}

static json_object *warning_evidence_json(const struct model *m, const struct finding *fd)
{
	const struct warning_evidence *ev = &fd->warning;
	const struct warning_group *g = group_of(m, fd);
	json_object *o = json_object_new_object();

	if (!g)
		return o;
	json_object_object_add(o, "category", json_str(g->category));
	json_object_object_add(o, "count", json_u64(g->count));
	json_object_object_add(o, "first_s", json_seconds(g->first_ns > m->start_ns ?
							   g->first_ns - m->start_ns : 0));
	json_object_object_add(o, "last_s", json_seconds(g->last_ns > m->start_ns ?
							  g->last_ns - m->start_ns : 0));
	json_object_object_add(o, "message", json_str(g->message));
	json_object_object_add(o, "message_truncated", json_object_new_boolean(g->message_cut));
	json_object_object_add(o, "warned_at", warning_site_json(g));
	if (fd->kind == FINDING_NEVER_AWAITED)
		json_object_object_add(o, "coroutine", json_str(ev->coroutine));
	if (fd->kind == FINDING_UNCLOSED_RESOURCE) {
		json_object_object_add(o, "resource", json_str(ev->resource));
		json_object_object_add(o, "warnings", json_u64(ev->warnings));
		json_object_object_add(o, "opened_by", ev->attributed ?
				       site_ref_json(m, fd->site) : NULL);
	}
	if (fd->kind == FINDING_DEPRECATED_API) {
		json_object_object_add(o, "call", json_str(ev->call));
		json_object_object_add(o, "removed_in", ev->removed_in ? json_str(ev->removed_in) :
				       NULL);
		json_object_object_add(o, "replacement", ev->replacement ?
				       json_str(ev->replacement) : NULL);
	}
	return o;
}

static bool from_warning(const struct finding *fd)
{
	return fd->kind == FINDING_NEVER_AWAITED || fd->kind == FINDING_UNCLOSED_RESOURCE ||
	       fd->kind == FINDING_DEPRECATED_API;
}

static json_object *evidence_json(const struct model *m, const struct finding *fd)
{
	if (from_warning(fd))
		return warning_evidence_json(m, fd);
	switch (fd->kind) {
	case FINDING_UNBOUNDED_FANOUT:
		return fanout_evidence_json(m, &fd->fanout);
	case FINDING_TASK_LEAK:
		return task_leak_evidence_json(&fd->task_leak);
	default:
		return conn_leak_evidence_json(&fd->conn_leak);
	}
}

/* how a site's file and line were found: see struct task_site */
static const char *site_kind(const struct task_site *s)
{
	if (s->suspended_site)
		return "suspended_at";
	return s->sampled_site ? "seen_at" : "created_at";
}

json_object *report_json_finding(const struct model *m, const struct finding *fd)
{
	json_object *o = json_object_new_object(), *site = NULL, *coroutine = NULL;
	const struct task_site *s;

	if (fd->site >= 0 && (size_t)fd->site < m->n_sites) {
		s = &m->sites[fd->site];
		site = json_object_new_object();
		json_object_object_add(site, "file", json_str(s->file));
		json_object_object_add(site, "line", json_object_new_int(s->line));
		json_object_object_add(site, "function", json_str(s->function));
		json_object_object_add(site, "thread", json_object_new_int(s->tid));
		json_object_object_add(site, "kind", json_str(site_kind(s)));
		coroutine = json_str(s->coroutine);
	} else if (from_warning(fd) && group_of(m, fd)) {
		/* where Python attributed the warning: the line that dropped or called it */
		site = warning_site_json(group_of(m, fd));
		json_object_object_add(site, "kind", json_str("warned_at"));
		if (fd->kind == FINDING_NEVER_AWAITED)
			coroutine = json_str(fd->warning.coroutine);
	}

	json_object_object_add(o, "kind", json_str(finding_kind_name(fd->kind)));
	json_object_object_add(o, "severity", json_str(severity_name(fd->severity)));
	json_object_object_add(o, "raised_by_how_the_process_ended", json_object_new_boolean(fd->raised));
	json_object_object_add(o, "caveat", fd->caveat[0] ? json_str(fd->caveat) : NULL);
	json_object_object_add(o, "pid", json_object_new_int(fd->pid));
	json_object_object_add(o, "summary", json_str(fd->summary));
	json_object_object_add(o, "remediation", json_str(fd->remediation));
	json_object_object_add(o, "evidence", evidence_json(m, fd));
	json_object_object_add(o, "site", site);
	json_object_object_add(o, "coroutine", coroutine);
	return o;
}

static json_object *probes_json(const struct hook_status *h)
{
	json_object *a = json_object_new_array(), *o;
	size_t i;

	for (i = 0; i < h->n_probes; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "what", json_str(h->probes[i].what));
		json_object_object_add(o, "file_offset",
				       json_object_new_uint64(h->probes[i].file_offset));
		json_object_object_add(o, "instruction", json_str(h->probes[i].instruction));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *hooks_json(const struct proc_model *p)
{
	json_object *a = json_object_new_array(), *h;
	size_t i;

	for (i = 0; i < p->n_hooks; i++) {
		h = json_object_new_object();
		json_object_object_add(h, "name", json_str(p->hooks[i].name));
		json_object_object_add(h, "attached", json_object_new_boolean(p->hooks[i].attached));
		json_object_object_add(h, "detail", json_str(p->hooks[i].detail));
		json_object_object_add(h, "probes", probes_json(&p->hooks[i]));
		json_object_array_add(a, h);
	}
	return a;
}

static json_object *endpoints_json(const struct model *m, const struct proc_model *p,
				   uint64_t now_ns)
{
	json_object *a = json_object_new_array(), *e;
	struct endpoint_row *rows;
	size_t i, n;

	if (model_endpoint_rows(m, p->pid, &rows, &n))
		return a;
	for (i = 0; i < n; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "direction", json_str(rows[i].inbound ? "inbound" : "outbound"));
		json_object_object_add(e, "endpoint", endpoint_json(&rows[i].ep));
		json_object_object_add(e, "open", json_u64(rows[i].total));
		json_object_object_add(e, "by_state", by_state_json(rows[i].by_state));
		json_object_object_add(e, "oldest_age_s", json_seconds(now_ns - rows[i].oldest_opened_ns));
		json_object_array_add(a, e);
	}
	free(rows);
	return a;
}

/* per second of the time its process was traced; 0 when that was no time */
static json_object *per_second(double v, double traced_s)
{
	return json_fixed(traced_s > 0 ? v / traced_s : 0, 3);
}

static double traced_s(const struct model *m, pid_t pid, uint64_t now_ns)
{
	const struct proc_model *p = model_process(m, pid);

	return p ? ns_to_s(model_traced_ns(m, p, now_ns)) : 0;
}

static json_object *lifetimes_json(const struct duration_stats *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "count", json_u64(d->count));
	if (!d->count)
		return o;
	json_object_object_add(o, "min_s", json_seconds(d->min_ns));
	json_object_object_add(o, "p50_s", json_seconds(duration_quantile(d, 0.5)));
	json_object_object_add(o, "p95_s", json_seconds(duration_quantile(d, 0.95)));
	json_object_object_add(o, "max_s", json_seconds(d->max_ns));
	json_object_object_add(o, "mean_s", json_seconds(d->sum_ns / d->count));
	return o;
}

static json_object *connections_json(const struct model *m, const struct proc_model *p,
				     uint64_t now_ns)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "open", json_u64(p->open));
	json_object_object_add(o, "opened", json_u64(p->opened));
	json_object_object_add(o, "opened_per_s",
			       per_second(p->opened, ns_to_s(model_traced_ns(m, p, now_ns))));
	json_object_object_add(o, "closed", json_u64(p->closed));
	json_object_object_add(o, "open_at_attach", json_u64(p->found_at_attach));
	json_object_object_add(o, "peak_open", json_u64(p->peak_open));
	json_object_object_add(o, "peak_at_s", json_seconds(p->peak_ns));
	json_object_object_add(o, "by_state", by_state_json(p->by_state));
	json_object_object_add(o, "endpoints", endpoints_json(m, p, now_ns));
	json_object_object_add(o, "lifetimes", lifetimes_json(&p->lifetimes));
	json_object_object_add(o, "tcp_sockets_created", json_u64(p->tcp_sockets_created));
	json_object_object_add(o, "connect_calls", json_u64(p->connect_calls));
	json_object_object_add(o, "accept_calls", json_u64(p->accept_calls));
	return o;
}

static json_object *quantiles_json(struct concurrency_summary q)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "p50", json_u64(q.p50));
	json_object_object_add(o, "p95", json_u64(q.p95));
	json_object_object_add(o, "max", json_u64(q.max));
	return o;
}

/* what was in flight at each poll while the site was busy: input for sizing pools */
static json_object *concurrency_json(const struct task_site *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "samples", json_u64(s->concurrency.n));
	json_object_object_add(o, "tasks_in_flight", quantiles_json(site_concurrency(s, false)));
	json_object_object_add(o, "connections_open", quantiles_json(site_concurrency(s, true)));
	return o;
}

static json_object *site_json(const struct model *m, const struct task_site *s, uint64_t now_ns)
{
	double span = traced_s(m, s->pid, now_ns);
	json_object *o = json_object_new_object(), *conns, *parent;
	const struct task_site *up;

	json_object_object_add(o, "file", json_str(s->file));
	json_object_object_add(o, "line", json_object_new_int(s->line));
	json_object_object_add(o, "function", json_str(s->function));
	json_object_object_add(o, "coroutine", json_str(s->coroutine));
	json_object_object_add(o, "thread", json_object_new_int(s->tid));
	json_object_object_add(o, "kind", json_str(site_kind(s)));
	json_object_object_add(o, "task_name", s->suspended_site ? json_str(s->task_name) : NULL);
	parent = NULL;
	if (s->parent_site >= 0 && (size_t)s->parent_site < m->n_sites) {
		up = &m->sites[s->parent_site];
		parent = json_object_new_object();
		json_object_object_add(parent, "file", json_str(up->file));
		json_object_object_add(parent, "line", json_object_new_int(up->line));
		json_object_object_add(parent, "coroutine", json_str(up->coroutine));
	}
	json_object_object_add(o, "parent", parent);
	json_object_object_add(o, "created", json_u64(s->created));
	json_object_object_add(o, "created_per_s", per_second(s->created, span));
	json_object_object_add(o, "at_attach", json_u64(s->at_attach));
	json_object_object_add(o, "done", json_u64(s->done));
	json_object_object_add(o, "in_flight", json_u64(s->in_flight));
	json_object_object_add(o, "peak_in_flight", json_u64(s->peak_in_flight));
	json_object_object_add(o, "mean_in_flight", per_second(s->in_flight_s, span));
	json_object_object_add(o, "peak_at_s", json_seconds(s->peak_ns));
	json_object_object_add(o, "destroyed_pending", json_u64(s->destroyed_pending));
	json_object_object_add(o, "finished", json_u64(s->finished));
	json_object_object_add(o, "cancelled", json_u64(s->cancelled));
	json_object_object_add(o, "ended_at_shutdown", json_u64(s->ended_at_shutdown));
	json_object_object_add(o, "lifetimes", lifetimes_json(&s->lifetimes));
	json_object_object_add(o, "short_unseen", json_u64(s->short_unseen));
	json_object_object_add(o, "short_unseen_within_s", s->short_unseen ?
			       json_seconds(s->short_unseen_within_ns) : NULL);
	conns = json_object_new_object();
	json_object_object_add(conns, "opened", json_u64(s->conns_opened));
	json_object_object_add(conns, "opened_per_s", per_second(s->conns_opened, span));
	json_object_object_add(conns, "closed", json_u64(s->conns_closed));
	json_object_object_add(conns, "closed_at_exit", json_u64(s->conns_closed_at_exit));
	json_object_object_add(conns, "open", json_u64(s->conns_open));
	json_object_object_add(conns, "peak_open", json_u64(s->peak_conns_open));
	json_object_object_add(o, "connections", conns);
	json_object_object_add(o, "concurrency", concurrency_json(s));
	return o;
}

static json_object *tasks_json(const struct model *m, const struct proc_model *p, uint64_t now_ns)
{
	json_object *o = json_object_new_object(), *sites = json_object_new_array();
	double span = ns_to_s(model_traced_ns(m, p, now_ns));
	size_t i;

	json_object_object_add(o, "created", json_u64(p->tasks_created));
	json_object_object_add(o, "created_per_s", per_second(p->tasks_created, span));
	json_object_object_add(o, "at_attach", json_u64(p->tasks_at_attach));
	json_object_object_add(o, "done", json_u64(p->tasks_done));
	json_object_object_add(o, "in_flight", json_u64(p->tasks_in_flight));
	json_object_object_add(o, "peak_in_flight", json_u64(p->peak_tasks_in_flight));
	json_object_object_add(o, "mean_in_flight", per_second(p->tasks_in_flight_s, span));
	json_object_object_add(o, "peak_at_s", json_seconds(p->peak_tasks_ns));
	json_object_object_add(o, "destroyed_pending", json_u64(p->tasks_destroyed_pending));
	json_object_object_add(o, "finished", json_u64(p->tasks_finished));
	json_object_object_add(o, "cancelled", json_u64(p->tasks_cancelled));
	json_object_object_add(o, "ended_at_shutdown", json_u64(p->tasks_ended_at_shutdown));
	for (i = 0; i < m->n_sites; i++)
		if (m->sites[i].pid == p->pid)
			json_object_array_add(sites, site_json(m, &m->sites[i], now_ns));
	json_object_object_add(o, "sites", sites);
	return o;
}

static json_object *time_series_json(const struct proc_model *p)
{
	json_object *o = json_object_new_object(), *pts = json_object_new_array(), *pt;
	size_t i;

	json_object_object_add(o, "interval_s", json_seconds(p->sample_every_ns));
	for (i = 0; i < p->n_samples; i++) {
		pt = json_object_new_object();
		json_object_object_add(pt, "t_s", json_seconds(p->samples[i].t_ns));
		json_object_object_add(pt, "tasks_in_flight", json_u64(p->samples[i].tasks_in_flight));
		json_object_object_add(pt, "open", json_u64(p->samples[i].open));
		json_object_object_add(pt, "close_wait", json_u64(p->samples[i].close_wait));
		json_object_object_add(pt, "opened", json_u64(p->samples[i].opened));
		json_object_object_add(pt, "closed", json_u64(p->samples[i].closed));
		json_object_array_add(pts, pt);
	}
	json_object_object_add(o, "points", pts);
	return o;
}

/* How the process ended: null while it runs. */
static json_object *ended_json(const struct model *m, const struct proc_model *p)
{
	json_object *o;
	char how[PROC_END_STRLEN];

	if (!p->exited)
		return NULL;
	o = json_object_new_object();
	proc_end_describe(&p->end, how, sizeof(how));
	json_object_object_add(o, "description", json_str(how));
	json_object_object_add(o, "at_s", json_seconds(p->exited_ns > m->start_ns ?
							p->exited_ns - m->start_ns : 0));
	json_object_object_add(o, "known", json_object_new_boolean(p->end.known));
	json_object_object_add(o, "exit_status", p->end.known && !p->end.signal ?
				  json_object_new_int(p->end.exit_status) : NULL);
	json_object_object_add(o, "signal", p->end.signal ? json_object_new_int(p->end.signal) : NULL);
	json_object_object_add(o, "core_dumped", json_object_new_boolean(p->end.core_dumped));
	json_object_object_add(o, "oom_killed", json_object_new_boolean(p->end.oom_killed));
	json_object_object_add(o, "failure", json_object_new_boolean(proc_end_is_failure(&p->end)));
	return o;
}

static json_object *warnings_json(const struct model *m, const struct proc_model *p)
{
	json_object *o = json_object_new_object(), *groups = json_object_new_array(), *e;
	json_object *by_category = json_object_new_object(), *n;
	const struct warning_group *g;
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < m->n_warnings; i++) {
		g = &m->warnings[i];
		if (g->pid != p->pid)
			continue;
		total += g->count;
		e = warning_site_json(g);
		json_object_object_add(e, "category", json_str(g->category));
		json_object_object_add(e, "count", json_u64(g->count));
		json_object_object_add(e, "first_s", json_seconds(g->first_ns > m->start_ns ?
								   g->first_ns - m->start_ns : 0));
		json_object_object_add(e, "last_s", json_seconds(g->last_ns > m->start_ns ?
								  g->last_ns - m->start_ns : 0));
		json_object_object_add(e, "message", json_str(g->message));
		json_object_object_add(e, "message_truncated",
				       json_object_new_boolean(g->message_cut));
		json_object_array_add(groups, e);
		if (json_object_object_get_ex(by_category, g->category, &n))
			json_object_set_int64(n, json_object_get_int64(n) + (int64_t)g->count);
		else
			json_object_object_add(by_category, g->category, json_u64(g->count));
	}
	json_object_object_add(o, "total", json_u64(total));
	json_object_object_add(o, "by_category", by_category);
	json_object_object_add(o, "groups", groups);
	return o;
}

/* A process's reads in a sampled trace; null in the other modes. */
static json_object *task_reads_json(const struct model *m, const struct proc_model *p)
{
	double period = model_proc_read_period(p);
	json_object *o;

	if (m->mode != TRACE_MODE_SAMPLED)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "count", json_u64(p->task_reads.count));
	json_object_object_add(o, "first_at_s", p->task_reads.count ?
			       json_seconds(p->task_reads.first_ns - m->start_ns) : NULL);
	json_object_object_add(o, "last_at_s", p->task_reads.count ?
			       json_seconds(p->task_reads.last_ns - m->start_ns) : NULL);
	json_object_object_add(o, "period_s", period >= 0 ? json_fixed(period, 3) : NULL);
	json_object_object_add(o, "longest_gap_s", p->task_reads.count > 1 ?
			       json_seconds(p->task_reads.longest_gap_ns) : NULL);
	return o;
}

json_object *report_json_target(const struct model *m, const struct proc_model *p, uint64_t now_ns)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "comm", json_str(p->comm));
	json_object_object_add(o, "exe", json_str(p->exe));
	json_object_object_add(o, "execs", json_object_new_int64(p->execs));
	json_object_object_add(o, "processes_forked", json_object_new_int64(p->processes_forked));
	json_object_object_add(o, "exited", json_object_new_boolean(p->exited));
	json_object_object_add(o, "joined_at_s", json_seconds(model_traced_from(m, p) - m->start_ns));
	json_object_object_add(o, "traced_s", json_seconds(model_traced_ns(m, p, now_ns)));
	json_object_object_add(o, "ended", ended_json(m, p));
	json_object_object_add(o, "hooks", hooks_json(p));
	json_object_object_add(o, "connections", connections_json(m, p, now_ns));
	json_object_object_add(o, "tasks", tasks_json(m, p, now_ns));
	json_object_object_add(o, "warnings", warnings_json(m, p));
	json_object_object_add(o, "task_reads", task_reads_json(m, p));
	json_object_object_add(o, "time_series", time_series_json(p));
	return o;
}

static json_object *totals_json(const struct model *m)
{
	json_object *o = json_object_new_object();
	uint64_t open = 0, opened = 0, closed = 0, at_attach = 0, peak = 0;
	size_t i;

	for (i = 0; i < m->n_procs; i++) {
		open += m->procs[i].open;
		opened += m->procs[i].opened;
		closed += m->procs[i].closed;
		at_attach += m->procs[i].found_at_attach;
		peak += m->procs[i].peak_open;
	}
	json_object_object_add(o, "processes", json_u64(m->n_procs));
	json_object_object_add(o, "open_connections", json_u64(open));
	json_object_object_add(o, "connections_opened", json_u64(opened));
	json_object_object_add(o, "connections_closed", json_u64(closed));
	json_object_object_add(o, "connections_open_at_attach", json_u64(at_attach));
	json_object_object_add(o, "sum_of_peak_open_connections", json_u64(peak));
	return o;
}

/*
 * The period a sampled trace achieved over its processes: the median of their
 * mean times between reads, the longest time one went unread; null if no
 * process was read twice.
 */
static json_object *read_period_json(const struct model *m)
{
	double p50, longest;
	size_t n;
	json_object *o;

	if (m->mode != TRACE_MODE_SAMPLED || !model_read_period(m, &p50, &longest, &n))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "p50", json_fixed(p50, 3));
	json_object_object_add(o, "max", json_fixed(longest, 3));
	json_object_object_add(o, "processes", json_u64(n));
	return o;
}

json_object *report_json_tracer(const struct model *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mode", json_str(trace_mode_name(m->mode)));
	json_object_object_add(o, "sample_period_s", m->mode == TRACE_MODE_SAMPLED ?
			       json_object_new_double(ns_to_s(m->sample_period_ns)) : NULL);
	json_object_object_add(o, "sample_period_achieved_s", read_period_json(m));
	json_object_object_add(o, "events", json_u64(m->events));
	json_object_object_add(o, "ringbuf_drops", json_u64(m->ringbuf_drops));
	json_object_object_add(o, "sock_table_full", json_u64(m->sock_table_full));
	json_object_object_add(o, "found_table_full", json_u64(m->found_table_full));
	json_object_object_add(o, "untracked_connections", json_u64(m->untracked_conns));
	json_object_object_add(o, "unmatched_events", json_u64(m->unmatched_events));
	json_object_object_add(o, "closes_unseen", json_u64(m->closes_unseen));
	json_object_object_add(o, "close_wait_history_lost", json_u64(m->close_wait_history_lost));
	json_object_object_add(o, "task_events", json_u64(m->task_events));
	json_object_object_add(o, "task_ringbuf_drops", json_u64(m->task_ringbuf_drops));
	json_object_object_add(o, "warning_ringbuf_drops", json_u64(m->warning_drops));
	json_object_object_add(o, "warnings_ungrouped", json_u64(m->warnings_ungrouped));
	json_object_object_add(o, "untracked_tasks", json_u64(m->untracked_tasks));
	json_object_object_add(o, "stacks_not_read", json_u64(m->no_thread_state));
	json_object_object_add(o, "site_table_full", json_u64(m->site_table_full));
	json_object_object_add(o, "code_cache_full", json_u64(m->code_cache_full));
	json_object_object_add(o, "tasks_at_attach_left_out", json_u64(m->tasks_at_attach_left_out));
	json_object_object_add(o, "task_reads_failed", json_u64(m->task_reads_failed));
	json_object_object_add(o, "connections_of_unseen_tasks", json_u64(m->conn_tasks_unresolved));
	return o;
}

json_object *report_json_thresholds(const struct finding_thresholds *t)
{
	json_object *o = json_object_new_object();

	if (!t)
		return o;
	json_object_object_add(o, "close_wait_age_s", json_fixed(t->close_wait_min_age_s, 3));
	json_object_object_add(o, "close_wait_critical", json_u64(t->close_wait_critical));
	json_object_object_add(o, "connection_growth_min", json_u64(t->growth_min_increase));
	json_object_object_add(o, "growth_window_s", json_fixed(t->growth_min_window_s, 3));
	json_object_object_add(o, "fanout_tasks", json_u64(t->fanout_min_tasks));
	json_object_object_add(o, "fanout_connections", json_u64(t->fanout_min_conns));
	json_object_object_add(o, "fanout_memory_tasks", json_u64(t->fanout_memory_tasks));
	json_object_object_add(o, "stuck_age_s", json_fixed(t->stuck_min_age_s, 3));
	json_object_object_add(o, "stuck_lifetime_factor", json_fixed(t->stuck_lifetime_factor, 3));
	json_object_object_add(o, "task_growth_min", json_u64(t->task_growth_min_increase));
	json_object_object_add(o, "pileup_tasks", json_u64(t->pileup_min_tasks));
	json_object_object_add(o, "never_closed_connections", json_u64(t->never_closed_min_conns));
	return o;
}

json_object *report_json_started_at(const struct model *m)
{
	char buf[64];
	struct tm tm;

	gmtime_r(&m->start_wall.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_str(buf);
}

int report_write_json(FILE *f, const struct report_meta *meta, const struct model *m,
		      const struct findings *fs)
{
	json_object *root = json_object_new_object(), *tool, *targets, *findings;
	const char *text;
	size_t i;
	int err = 0;

	if (!root)
		return -ENOMEM;
	json_object_object_add(root, "schema_version", json_object_new_int(REPORT_SCHEMA_VERSION));
	tool = json_object_new_object();
	json_object_object_add(tool, "name", json_str("inflight"));
	json_object_object_add(tool, "version", json_str(meta->version));
	json_object_object_add(root, "tool", tool);
	json_object_object_add(root, "started_at", report_json_started_at(m));
	json_object_object_add(root, "duration_s", json_seconds(meta->now_ns - m->start_ns));
	json_object_object_add(root, "end_reason", json_str(meta->end_reason));
	targets = json_object_new_array();
	for (i = 0; i < m->n_procs; i++)
		json_object_array_add(targets, report_json_target(m, &m->procs[i], meta->now_ns));
	json_object_object_add(root, "targets", targets);
	json_object_object_add(root, "totals", totals_json(m));
	findings = json_object_new_array();
	for (i = 0; i < fs->len; i++)
		json_object_array_add(findings, report_json_finding(m, &fs->items[i]));
	json_object_object_add(root, "findings", findings);
	json_object_object_add(root, "thresholds", report_json_thresholds(meta->thresholds));
	json_object_object_add(root, "tracer", report_json_tracer(m));

	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || fputs(text, f) < 0 || fputc('\n', f) < 0)
		err = -EIO;
	json_object_put(root);
	return err;
}
