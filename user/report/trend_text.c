// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* The trend as text: what changed per host, then the fleet in one line. */
#include <errno.h>
#include <stdio.h>
#include "report.h"
#include "trend_report.h"

static const char *metric_label(enum trend_metric m)
{
	switch (m) {
	case TREND_PEAK_TASKS:
		return "peak tasks";
	case TREND_PEAK_CONNS:
		return "peak connections";
	default:
		return "leak slope (tasks/min)";
	}
}

static void print_site(FILE *f, const struct snap_site *s)
{
	fprintf(f, "%s:%lld %s", text_shown(s->file), (long long)s->line, text_shown(s->coroutine));
	if (s->kind[0] != 'c')
		fprintf(f, " (%s)", text_shown(s->kind));
}

static void print_finding(FILE *f, const struct trend_finding_change *c, bool with_summary)
{
	const struct snap_finding *x = c->f;

	fprintf(f, "  %s: %s", text_shown(c->service), text_shown(x->kind));
	if (x->reason[0])
		fprintf(f, " (%s)", text_shown(x->reason));
	if (x->site_file)
		fprintf(f, " at %s:%lld", text_shown(x->site_file), (long long)x->site_line);
	if (x->coroutine)
		fprintf(f, " %s", text_shown(x->coroutine));
	if (x->severity[0])
		fprintf(f, " [%s]", text_shown(x->severity));
	fputc('\n', f);
	if (with_summary && x->summary[0])
		fprintf(f, "      %s\n", text_shown(x->summary));
}

static void print_findings(FILE *f, const char *title, const struct trend_finding_change *c,
			   size_t n, bool with_summary)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "%s (%zu):\n", title, n);
	for (i = 0; i < n; i++)
		print_finding(f, &c[i], with_summary);
}

static void print_growth(FILE *f, const struct trend_growth *g)
{
	fprintf(f, "  %s: ", text_shown(g->service));
	print_site(f, g->site);
	fprintf(f, ": %s %.4g -> %.4g", metric_label(g->metric), g->from, g->to);
	if (g->from > 0)
		fprintf(f, " (+%.0f%%)", (g->to - g->from) * 100.0 / g->from);
	fputc('\n', f);
}

static void print_sites(FILE *f, const char *title, const struct trend_site_change *c, size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "%s (%zu):\n", title, n);
	for (i = 0; i < n; i++) {
		fprintf(f, "  %s: ", text_shown(c[i].service));
		print_site(f, c[i].site);
		fprintf(f, ", peak tasks %llu, peak connections %llu\n",
			(unsigned long long)c[i].site->peak_tasks,
			(unsigned long long)c[i].site->peak_conns);
	}
}

static void print_names(FILE *f, const char *title, const char *const *names, size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "%s (%zu):\n", title, n);
	for (i = 0; i < n; i++)
		fprintf(f, "  %s\n", text_shown(names[i]));
}

/* Per series: its figures at each snapshot, '-' where the snapshot lacks the site. */
static void print_series(FILE *f, const struct trend_host *h)
{
	const struct trend_series *s;
	size_t i, j;

	if (!h->n_series)
		return;
	fprintf(f, "Sites over time (peak tasks/peak connections per snapshot, * a finding):\n");
	for (i = 0; i < h->n_series; i++) {
		s = &h->series[i];
		fprintf(f, "  %s: ", text_shown(s->service));
		print_site(f, s->site);
		fputs("\n     ", f);
		for (j = 0; j < h->n_snaps; j++) {
			if (s->at[j])
				fprintf(f, " %llu/%llu%s", (unsigned long long)s->at[j]->peak_tasks,
					(unsigned long long)s->at[j]->peak_conns,
					s->findings_at[j] ? "*" : "");
			else
				fputs(" -", f);
		}
		fputc('\n', f);
	}
}

static bool host_changed(const struct trend_host *h)
{
	return h->n_new_findings || h->n_resolved_findings || h->n_grown || h->n_new_sites ||
	       h->n_vanished_sites || h->n_new_services || h->n_vanished_services;
}

static void print_host(FILE *f, const struct trend_host *h)
{
	const struct snapshot *base = h->snaps[h->baseline], *now = h->snaps[h->newest];

	fprintf(f, "\n== host %s: %zu snapshot%s, %s to %s\n", text_shown(h->host), h->n_snaps,
		h->n_snaps == 1 ? "" : "s", text_shown(h->snaps[0]->started_at),
		text_shown(h->snaps[h->n_snaps - 1]->started_at));
	fprintf(f, "baseline %s (%s%s)\n", text_shown(base->path), text_shown(base->started_at),
		h->baseline_given ? ", given" : ", the oldest");
	fprintf(f, "newest   %s (%s)\n", text_shown(now->path), text_shown(now->started_at));
	if (trend_modes_differ(h))
		fprintf(f, "Note: the baseline followed tasks by %s, the newest by %s: their sites are "
			"told apart by how they were seen, and read as vanished and new.\n",
			text_shown(base->mode), text_shown(now->mode));
	if (!host_changed(h))
		fputs("No change against the baseline.\n", f);
	print_findings(f, "New findings", h->new_findings, h->n_new_findings, true);
	print_findings(f, "Resolved findings", h->resolved_findings, h->n_resolved_findings,
		       false);
	if (h->n_grown)
		fprintf(f, "Grown past the thresholds (%zu):\n", h->n_grown);
	for (size_t i = 0; i < h->n_grown; i++)
		print_growth(f, &h->grown[i]);
	print_sites(f, "New sites", h->new_sites, h->n_new_sites);
	print_sites(f, "Vanished sites", h->vanished_sites, h->n_vanished_sites);
	print_names(f, "New services", h->new_services, h->n_new_services);
	print_names(f, "Vanished services", h->vanished_services, h->n_vanished_services);
	print_series(f, h);
}

static void print_fleet(FILE *f, const struct trend *t)
{
	size_t i, nf = 0, rf = 0, g = 0, ns = 0, vs = 0, nsv = 0, vsv = 0;

	for (i = 0; i < t->n_hosts; i++) {
		nf += t->hosts[i].n_new_findings;
		rf += t->hosts[i].n_resolved_findings;
		g += t->hosts[i].n_grown;
		ns += t->hosts[i].n_new_sites;
		vs += t->hosts[i].n_vanished_sites;
		nsv += t->hosts[i].n_new_services;
		vsv += t->hosts[i].n_vanished_services;
	}
	fprintf(f, "\n== fleet: %zu host%s, %zu snapshot%s: %zu new finding%s, %zu resolved, "
		"%zu grown, %zu new site%s, %zu vanished, %zu new service%s, %zu vanished\n",
		t->n_hosts, t->n_hosts == 1 ? "" : "s", t->n_snapshots,
		t->n_snapshots == 1 ? "" : "s", nf, nf == 1 ? "" : "s", rf, g, ns,
		ns == 1 ? "" : "s", vs, nsv, nsv == 1 ? "" : "s", vsv);
}

int trend_write_text(FILE *f, const struct trend_report_meta *meta, const struct trend *t)
{
	size_t i;

	fprintf(f, "inflight trend: %zu snapshot%s of %zu host%s", t->n_snapshots,
		t->n_snapshots == 1 ? "" : "s", t->n_hosts, t->n_hosts == 1 ? "" : "s");
	if (meta->n_skipped)
		fprintf(f, ", %zu file%s skipped", meta->n_skipped, meta->n_skipped == 1 ? "" : "s");
	fprintf(f, "\nthresholds: growth past %g%% in peak tasks, %g%% in peak connections, "
		"%g%% in leak slope, by %g at least\n", t->thresholds.grow_tasks_pct,
		t->thresholds.grow_conns_pct, t->thresholds.grow_leak_slope_pct,
		t->thresholds.grow_min);
	for (i = 0; i < meta->n_skipped; i++)
		fprintf(f, "skipped %s: %s\n", text_shown(meta->skipped[i].path),
			text_shown(meta->skipped[i].why));
	for (i = 0; i < t->n_hosts; i++)
		print_host(f, &t->hosts[i]);
	print_fleet(f, t);
	return ferror(f) ? -EIO : 0;
}
