// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "trend.h"

const struct trend_thresholds trend_default_thresholds = {
	.grow_tasks_pct = 50,
	.grow_conns_pct = 50,
	.grow_leak_slope_pct = 50,
	.grow_min = 10,
};

const char *trend_metric_name(enum trend_metric m)
{
	switch (m) {
	case TREND_PEAK_TASKS:
		return "peak_tasks";
	case TREND_PEAK_CONNS:
		return "peak_connections";
	case TREND_LEAK_SLOPE:
		return "leak_slope_per_min";
	default:
		return "?";
	}
}

/* A slope below zero (a site draining) leaks nothing: it counts as 0. */
bool trend_grew(double from, double to, double pct, double min)
{
	if (from < 0)
		from = 0;
	return to - from >= min && to > from * (1 + pct / 100.0);
}

/* Room for one more element: the capacity is the power of two at or above n, 4 at least. */
static int grow(void *arrayp, size_t n, size_t elem)
{
	void **array = arrayp, *bigger;

	if (n < 4 ? n : (n & (n - 1)))
		return 0;
	bigger = realloc(*array, (n ? n * 2 : 4) * elem);
	if (!bigger)
		return -ENOMEM;
	*array = bigger;
	return 0;
}

bool trend_modes_differ(const struct trend_host *h)
{
	const char *a = h->snaps[h->baseline]->mode, *b = h->snaps[h->newest]->mode;

	return a && b && strcmp(a, b);
}

static int snap_order(const void *a, const void *b)
{
	const struct snapshot *x = *(const struct snapshot *const *)a;
	const struct snapshot *y = *(const struct snapshot *const *)b;
	int c = strcmp(x->host, y->host);

	if (c)
		return c;
	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int add_finding_change(struct trend_finding_change **list, size_t *n, const char *service,
			      const struct snap_finding *f)
{
	if (grow(list, *n, sizeof(**list)))
		return -ENOMEM;
	(*list)[(*n)++] = (struct trend_finding_change){ service, f };
	return 0;
}

static int add_site_change(struct trend_site_change **list, size_t *n, const char *service,
			   const struct snap_site *s)
{
	if (grow(list, *n, sizeof(**list)))
		return -ENOMEM;
	(*list)[(*n)++] = (struct trend_site_change){ service, s };
	return 0;
}

static int add_name(const char ***list, size_t *n, const char *name)
{
	if (grow(list, *n, sizeof(**list)))
		return -ENOMEM;
	(*list)[(*n)++] = name;
	return 0;
}

static bool has_finding(const struct snap_service *svc, const struct snap_finding *f)
{
	size_t i;

	for (i = 0; svc && i < svc->n_findings; i++)
		if (snap_finding_same(&svc->findings[i], f))
			return true;
	return false;
}

/* Findings of `in` that `against` lacks: new ones (newest against baseline) or resolved ones. */
static int findings_missing(const struct snap_service *in, const struct snap_service *against,
			    struct trend_finding_change **list, size_t *n)
{
	size_t i;

	for (i = 0; i < in->n_findings; i++)
		if (!has_finding(against, &in->findings[i]) &&
		    add_finding_change(list, n, in->name, &in->findings[i]))
			return -ENOMEM;
	return 0;
}

static double metric_of(const struct snap_site *s, enum trend_metric m)
{
	switch (m) {
	case TREND_PEAK_TASKS:
		return (double)s->peak_tasks;
	case TREND_PEAK_CONNS:
		return (double)s->peak_conns;
	default:
		return s->leak_slope_per_min;
	}
}

static double metric_pct(const struct trend_thresholds *t, enum trend_metric m)
{
	switch (m) {
	case TREND_PEAK_TASKS:
		return t->grow_tasks_pct;
	case TREND_PEAK_CONNS:
		return t->grow_conns_pct;
	default:
		return t->grow_leak_slope_pct;
	}
}

static int compare_site(struct trend_host *h, const struct trend_thresholds *t, const char *service,
			const struct snap_site *base, const struct snap_site *now)
{
	enum trend_metric m;
	double from, to;

	for (m = 0; m < TREND_METRICS; m++) {
		from = metric_of(base, m);
		to = metric_of(now, m);
		if (!trend_grew(from, to, metric_pct(t, m), t->grow_min))
			continue;
		if (grow(&h->grown, h->n_grown, sizeof(*h->grown)))
			return -ENOMEM;
		h->grown[h->n_grown++] = (struct trend_growth){ service, now, m, from, to };
	}
	return 0;
}

/* The sites of a service both snapshots have. */
static int compare_sites(struct trend_host *h, const struct trend_thresholds *t,
			 const struct snap_service *base, const struct snap_service *now)
{
	const struct snap_site *other;
	size_t i;

	for (i = 0; i < now->n_sites; i++) {
		other = service_site(base, &now->sites[i]);
		if (other ? compare_site(h, t, now->name, other, &now->sites[i]) :
			    add_site_change(&h->new_sites, &h->n_new_sites, now->name, &now->sites[i]))
			return -ENOMEM;
	}
	for (i = 0; i < base->n_sites; i++)
		if (!service_site(now, &base->sites[i]) &&
		    add_site_change(&h->vanished_sites, &h->n_vanished_sites, base->name,
				    &base->sites[i]))
			return -ENOMEM;
	return 0;
}

/*
 * A new service's findings are all new; a vanished service's are not
 * resolved (it is gone, not fixed), and its sites are not listed one by one.
 */
static int compare_snapshots(struct trend_host *h, const struct trend_thresholds *t)
{
	const struct snapshot *base = h->snaps[h->baseline], *now = h->snaps[h->newest];
	const struct snap_service *other;
	size_t i;
	int err = 0;

	for (i = 0; i < now->n_services && !err; i++) {
		other = snapshot_service(base, now->services[i].name);
		err = findings_missing(&now->services[i], other, &h->new_findings,
				       &h->n_new_findings);
		if (err)
			break;
		if (!other)
			err = add_name(&h->new_services, &h->n_new_services, now->services[i].name);
		else
			err = findings_missing(other, &now->services[i], &h->resolved_findings,
					       &h->n_resolved_findings) ?:
			      compare_sites(h, t, other, &now->services[i]);
	}
	for (i = 0; i < base->n_services && !err; i++)
		if (!snapshot_service(now, base->services[i].name))
			err = add_name(&h->vanished_services, &h->n_vanished_services,
				       base->services[i].name);
	return err;
}

static struct trend_series *series_of(struct trend_host *h, const char *service,
				      const struct snap_site *site)
{
	struct trend_series *s;
	size_t i;

	for (i = 0; i < h->n_series; i++)
		if (!strcmp(h->series[i].service, service) && snap_site_same(h->series[i].site, site))
			return &h->series[i];
	if (grow(&h->series, h->n_series, sizeof(*h->series)))
		return NULL;
	s = &h->series[h->n_series];
	s->at = calloc(h->n_snaps, sizeof(*s->at));
	s->findings_at = calloc(h->n_snaps, sizeof(*s->findings_at));
	if (!s->at || !s->findings_at) {
		free(s->at);
		free(s->findings_at);
		return NULL;
	}
	s->service = service;
	s->site = site;
	h->n_series++;
	return s;
}

static unsigned int findings_at_site(const struct snap_service *svc, const struct snap_site *site)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < svc->n_findings; i++)
		n += snap_finding_at_site(&svc->findings[i], site);
	return n;
}

static int series_order(const void *a, const void *b)
{
	const struct trend_series *x = a, *y = b;
	int c = strcmp(x->service, y->service);

	if (!c)
		c = strcmp(x->site->file, y->site->file);
	if (!c && x->site->line != y->site->line)
		c = x->site->line < y->site->line ? -1 : 1;
	if (!c)
		c = strcmp(x->site->coroutine, y->site->coroutine);
	return c ? c : strcmp(x->site->kind, y->site->kind);
}

static int build_series(struct trend_host *h)
{
	const struct snap_service *svc;
	struct trend_series *s;
	size_t i, j, k;

	for (i = 0; i < h->n_snaps; i++) {
		for (j = 0; j < h->snaps[i]->n_services; j++) {
			svc = &h->snaps[i]->services[j];
			for (k = 0; k < svc->n_sites; k++) {
				s = series_of(h, svc->name, &svc->sites[k]);
				if (!s)
					return -ENOMEM;
				s->site = &svc->sites[k];
				s->service = svc->name;
				s->at[i] = &svc->sites[k];
				s->findings_at[i] = findings_at_site(svc, &svc->sites[k]);
			}
		}
	}
	if (h->n_series)
		qsort(h->series, h->n_series, sizeof(*h->series), series_order);
	return 0;
}

static size_t index_of(const struct trend_host *h, const struct snapshot *s)
{
	size_t i;

	for (i = 0; i < h->n_snaps; i++)
		if (h->snaps[i] == s)
			return i;
	return 0;
}

static int build_host(struct trend_host *h, const struct snapshot **snaps, size_t n,
		      const struct snapshot *baseline, const struct trend_thresholds *t)
{
	h->host = snaps[0]->host;
	h->snaps = snaps;
	h->n_snaps = n;
	h->newest = n - 1;
	h->baseline_given = baseline && !strcmp(baseline->host, h->host);
	h->baseline = h->baseline_given ? index_of(h, baseline) : 0;
	return compare_snapshots(h, t) ?: build_series(h);
}

int trend_build(const struct snapshot *snaps, size_t n, const struct snapshot *baseline,
		const struct trend_thresholds *t, struct trend *out)
{
	const struct snapshot **order;
	size_t i, first;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->thresholds = *t;
	out->n_snapshots = n;
	if (!n)
		return 0;
	order = malloc(n * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		order[i] = &snaps[i];
	qsort(order, n, sizeof(*order), snap_order);
	/* each host's run of `order` is its snapshots; host 0 owns the array */
	for (first = 0, i = 1; i <= n && !err; i++) {
		if (i < n && !strcmp(order[i]->host, order[first]->host))
			continue;
		err = grow(&out->hosts, out->n_hosts, sizeof(*out->hosts));
		if (err)
			break;
		memset(&out->hosts[out->n_hosts], 0, sizeof(*out->hosts));
		err = build_host(&out->hosts[out->n_hosts++], order + first, i - first, baseline, t);
		first = i;
	}
	if (!out->n_hosts)
		free(order);
	if (err)
		trend_free(out);
	return err;
}

static void host_free(struct trend_host *h)
{
	size_t i;

	for (i = 0; i < h->n_series; i++) {
		free(h->series[i].at);
		free(h->series[i].findings_at);
	}
	free(h->series);
	free(h->new_findings);
	free(h->resolved_findings);
	free(h->grown);
	free(h->new_sites);
	free(h->vanished_sites);
	free(h->new_services);
	free(h->vanished_services);
}

void trend_free(struct trend *t)
{
	size_t i;

	for (i = 0; i < t->n_hosts; i++)
		host_free(&t->hosts[i]);
	if (t->n_hosts)
		free((void *)t->hosts[0].snaps);
	free(t->hosts);
	memset(t, 0, sizeof(*t));
}
