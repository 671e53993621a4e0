// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* The trend as JSON; its schema is documented in docs/trend-schema.md. */
#include <errno.h>
#include <json-c/json.h>
#include "report.h"
#include "trend_report.h"

static json_object *site_json(const struct snap_site *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_str(s->file));
	json_object_object_add(o, "line", json_object_new_int64(s->line));
	json_object_object_add(o, "function", json_str(s->function));
	json_object_object_add(o, "coroutine", json_str(s->coroutine));
	json_object_object_add(o, "kind", json_str(s->kind));
	return o;
}

static json_object *site_figures_json(const struct trend_site_change *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "service", json_str(c->service));
	json_object_object_add(o, "site", site_json(c->site));
	json_object_object_add(o, "peak_tasks", json_object_new_uint64(c->site->peak_tasks));
	json_object_object_add(o, "peak_connections", json_object_new_uint64(c->site->peak_conns));
	json_object_object_add(o, "leak_slope_per_min", json_fixed(c->site->leak_slope_per_min, 3));
	return o;
}

static json_object *finding_json(const struct trend_finding_change *c)
{
	const struct snap_finding *x = c->f;
	json_object *o = json_object_new_object(), *site = NULL;

	json_object_object_add(o, "service", json_str(c->service));
	json_object_object_add(o, "kind", json_str(x->kind));
	json_object_object_add(o, "reason", x->reason[0] ? json_str(x->reason) : NULL);
	json_object_object_add(o, "severity", json_str(x->severity));
	json_object_object_add(o, "summary", json_str(x->summary));
	if (x->site_file) {
		site = json_object_new_object();
		json_object_object_add(site, "file", json_str(x->site_file));
		json_object_object_add(site, "line", json_object_new_int64(x->site_line));
		json_object_object_add(site, "function", x->function ? json_str(x->function) : NULL);
	}
	json_object_object_add(o, "site", site);
	json_object_object_add(o, "coroutine", x->coroutine ? json_str(x->coroutine) : NULL);
	return o;
}

static json_object *growth_json(const struct trend_growth *g)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "service", json_str(g->service));
	json_object_object_add(o, "site", site_json(g->site));
	json_object_object_add(o, "metric", json_str(trend_metric_name(g->metric)));
	json_object_object_add(o, "baseline", json_fixed(g->from, 3));
	json_object_object_add(o, "newest", json_fixed(g->to, 3));
	json_object_object_add(o, "growth_pct",
			       g->from > 0 ? json_fixed((g->to - g->from) * 100.0 / g->from, 1)
					   : NULL);
	json_object_object_add(o, "slope_from_finding",
			       g->metric == TREND_LEAK_SLOPE ?
			       json_object_new_boolean(g->site->slope_from_finding) : NULL);
	return o;
}

static json_object *snapshot_ref_json(const struct snapshot *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_str(s->path));
	json_object_object_add(o, "started_at", json_str(s->started_at));
	json_object_object_add(o, "duration_s", json_fixed(s->duration_s, 6));
	json_object_object_add(o, "mode", s->mode ? json_str(s->mode) : NULL);
	json_object_object_add(o, "services", json_object_new_uint64(s->n_services));
	return o;
}

static json_object *point_json(const struct snap_site *s, unsigned int findings)
{
	json_object *o;

	if (!s)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "peak_tasks", json_object_new_uint64(s->peak_tasks));
	json_object_object_add(o, "peak_connections", json_object_new_uint64(s->peak_conns));
	json_object_object_add(o, "leak_slope_per_min", json_fixed(s->leak_slope_per_min, 3));
	json_object_object_add(o, "findings", json_object_new_uint64(findings));
	return o;
}

static json_object *series_json(const struct trend_host *h, const struct trend_series *s)
{
	json_object *o = json_object_new_object(), *points = json_object_new_array();
	size_t i;

	json_object_object_add(o, "service", json_str(s->service));
	json_object_object_add(o, "site", site_json(s->site));
	for (i = 0; i < h->n_snaps; i++)
		json_object_array_add(points, point_json(s->at[i], s->findings_at[i]));
	json_object_object_add(o, "points", points);
	return o;
}

static json_object *names_json(const char *const *names, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_str(names[i]));
	return a;
}

static json_object *host_json(const struct trend_host *h)
{
	json_object *o = json_object_new_object(), *a;
	size_t i;

	json_object_object_add(o, "host", json_str(h->host));
	a = json_object_new_array();
	for (i = 0; i < h->n_snaps; i++)
		json_object_array_add(a, snapshot_ref_json(h->snaps[i]));
	json_object_object_add(o, "snapshots", a);
	json_object_object_add(o, "baseline", json_object_new_uint64(h->baseline));
	json_object_object_add(o, "baseline_given", json_object_new_boolean(h->baseline_given));
	json_object_object_add(o, "newest", json_object_new_uint64(h->newest));
	a = json_object_new_array();
	for (i = 0; i < h->n_new_findings; i++)
		json_object_array_add(a, finding_json(&h->new_findings[i]));
	json_object_object_add(o, "new_findings", a);
	a = json_object_new_array();
	for (i = 0; i < h->n_resolved_findings; i++)
		json_object_array_add(a, finding_json(&h->resolved_findings[i]));
	json_object_object_add(o, "resolved_findings", a);
	a = json_object_new_array();
	for (i = 0; i < h->n_grown; i++)
		json_object_array_add(a, growth_json(&h->grown[i]));
	json_object_object_add(o, "grown", a);
	a = json_object_new_array();
	for (i = 0; i < h->n_new_sites; i++)
		json_object_array_add(a, site_figures_json(&h->new_sites[i]));
	json_object_object_add(o, "new_sites", a);
	a = json_object_new_array();
	for (i = 0; i < h->n_vanished_sites; i++)
		json_object_array_add(a, site_figures_json(&h->vanished_sites[i]));
	json_object_object_add(o, "vanished_sites", a);
	json_object_object_add(o, "new_services", names_json(h->new_services, h->n_new_services));
	json_object_object_add(o, "vanished_services",
			       names_json(h->vanished_services, h->n_vanished_services));
	a = json_object_new_array();
	for (i = 0; i < h->n_series; i++)
		json_object_array_add(a, series_json(h, &h->series[i]));
	json_object_object_add(o, "series", a);
	return o;
}

static json_object *fleet_json(const struct trend *t, size_t n_skipped)
{
	size_t i, c[7] = {};
	json_object *o = json_object_new_object();

	for (i = 0; i < t->n_hosts; i++) {
		c[0] += t->hosts[i].n_new_findings;
		c[1] += t->hosts[i].n_resolved_findings;
		c[2] += t->hosts[i].n_grown;
		c[3] += t->hosts[i].n_new_sites;
		c[4] += t->hosts[i].n_vanished_sites;
		c[5] += t->hosts[i].n_new_services;
		c[6] += t->hosts[i].n_vanished_services;
	}
	json_object_object_add(o, "hosts", json_object_new_uint64(t->n_hosts));
	json_object_object_add(o, "snapshots", json_object_new_uint64(t->n_snapshots));
	json_object_object_add(o, "skipped", json_object_new_uint64(n_skipped));
	json_object_object_add(o, "new_findings", json_object_new_uint64(c[0]));
	json_object_object_add(o, "resolved_findings", json_object_new_uint64(c[1]));
	json_object_object_add(o, "grown", json_object_new_uint64(c[2]));
	json_object_object_add(o, "new_sites", json_object_new_uint64(c[3]));
	json_object_object_add(o, "vanished_sites", json_object_new_uint64(c[4]));
	json_object_object_add(o, "new_services", json_object_new_uint64(c[5]));
	json_object_object_add(o, "vanished_services", json_object_new_uint64(c[6]));
	return o;
}

static json_object *thresholds_json(const struct trend_thresholds *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "grow_tasks_pct", json_fixed(t->grow_tasks_pct, 1));
	json_object_object_add(o, "grow_conns_pct", json_fixed(t->grow_conns_pct, 1));
	json_object_object_add(o, "grow_leak_slope_pct", json_fixed(t->grow_leak_slope_pct, 1));
	json_object_object_add(o, "grow_min", json_fixed(t->grow_min, 3));
	return o;
}

int trend_write_json(FILE *f, const struct trend_report_meta *meta, const struct trend *t)
{
	json_object *root = json_object_new_object(), *o, *a;
	const char *text;
	size_t i;
	int err = 0;

	json_object_object_add(root, "schema", json_object_new_string(TREND_SCHEMA));
	json_object_object_add(root, "schema_version", json_object_new_int(TREND_SCHEMA_VERSION));
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string("inflight"));
	json_object_object_add(o, "version", json_str(meta->version));
	json_object_object_add(root, "tool", o);
	json_object_object_add(root, "thresholds", thresholds_json(&t->thresholds));
	a = json_object_new_array();
	for (i = 0; i < meta->n_skipped; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "file", json_str(meta->skipped[i].path));
		json_object_object_add(o, "error", json_str(meta->skipped[i].why));
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "skipped", a);
	json_object_object_add(root, "fleet", fleet_json(t, meta->n_skipped));
	a = json_object_new_array();
	for (i = 0; i < t->n_hosts; i++)
		json_object_array_add(a, host_json(&t->hosts[i]));
	json_object_object_add(root, "hosts", a);

	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || fputs(text, f) < 0 || fputc('\n', f) < 0)
		err = -EIO;
	json_object_put(root);
	return err;
}
