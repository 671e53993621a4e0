// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The trend as one HTML page an SRE attaches to a ticket: inline CSS, charts
 * drawn here as inline SVG, no script, and a Content-Security-Policy that
 * lets the page fetch nothing. Every string from a snapshot is escaped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "report.h"
#include "trend_report.h"

/* The chart's box, in SVG user units. */
#define CHART_W 440
#define CHART_H 170
#define PAD_L 44
#define PAD_R 14
#define PAD_T 12
#define PAD_B 28

#define COLOR_TASKS "#2563eb"
#define COLOR_CONNS "#ea580c"
#define COLOR_FINDING "#dc2626"

static const char style[] =
	":root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;"
	"--red:#dc2626;--green:#16a34a;--amber:#d97706;--blue:" COLOR_TASKS ";--orange:" COLOR_CONNS "}"
	"*{box-sizing:border-box}"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"color:var(--ink);background:var(--bg)}"
	"main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 4px}"
	"h3{font-size:15px;margin:22px 0 8px}h4{font-size:14px;margin:18px 0 8px;color:var(--muted)}"
	".sub{color:var(--muted);margin:0 0 18px}"
	".cards{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 20px}"
	".card{background:var(--card);border:1px solid var(--line);border-radius:8px;"
	"padding:10px 14px;min-width:120px}"
	".card b{display:block;font-size:24px;line-height:1.1}.card span{color:var(--muted);font-size:12px}"
	".card.bad b{color:var(--red)}.card.good b{color:var(--green)}.card.warn b{color:var(--amber)}"
	".host{background:var(--card);border:1px solid var(--line);border-radius:10px;"
	"padding:18px 20px;margin:0 0 22px}"
	".ok{color:var(--green);font-weight:600}"
	".note{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:8px 12px}"
	".skipped{background:#fffbeb;border:1px solid #fcd34d;border-radius:8px;padding:10px 14px;"
	"margin:0 0 20px}.skipped li{font-family:ui-monospace,monospace;font-size:12px}"
	"table{border-collapse:collapse;width:100%;margin:0 0 6px;font-size:13px}"
	"th{text-align:left;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);"
	"padding:4px 8px}td{border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	"code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;"
	"overflow-wrap:anywhere}"
	".sev{display:inline-block;border-radius:4px;padding:0 6px;font-size:11px;font-weight:600;"
	"text-transform:uppercase;background:#e5e7eb}"
	".sev.critical{background:#fee2e2;color:#991b1b}.sev.warning{background:#fef3c7;color:#92400e}"
	".new{color:var(--red)}.resolved{color:var(--green)}.grown{color:var(--amber)}"
	".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}"
	"figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px 10px 4px;"
	"background:var(--card)}figure.changed{border-color:var(--amber);box-shadow:0 0 0 1px var(--amber)}"
	"figcaption{font-size:12px;margin:0 0 4px}figcaption .co{font-weight:600}"
	"figcaption .where{color:var(--muted);display:block;overflow-wrap:anywhere}"
	".badge{display:inline-block;margin-left:6px;border-radius:4px;padding:0 5px;font-size:11px;"
	"font-weight:600;background:#fef3c7;color:#92400e}.badge.f{background:#fee2e2;color:#991b1b}"
	"svg{display:block;width:100%;height:auto}"
	".legend{font-size:12px;color:var(--muted);margin:0 0 10px}"
	".legend i{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 4px 0 12px}"
	".legend i.ring{width:10px;height:10px;border:2px solid var(--red);border-radius:50%}";

void html_escaped(FILE *f, const char *s)
{
	char *clean = utf8_sanitize(s ? s : "");
	const unsigned char *p;

	if (!clean)
		return;
	for (p = (const unsigned char *)clean; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f) {
				fputs("&#xFFFD;", f);
			} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
				fputs("&#xFFFD;", f);	/* a C1 control */
				p++;
			} else {
				fputc(*p, f);
			}
		}
	}
	free(clean);
}

/* The last part of a path: charts name the file, their tooltips the whole path. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

static void site_cell(FILE *f, const struct snap_site *s)
{
	fputs("<code title=\"", f);
	html_escaped(f, s->file);
	fputs("\">", f);
	html_escaped(f, base_name(s->file));
	fprintf(f, ":%lld</code> ", (long long)s->line);
	html_escaped(f, s->coroutine);
	if (strcmp(s->kind, "created_at")) {
		fputs(" <small>(", f);
		html_escaped(f, s->kind);
		fputs(")</small>", f);
	}
}

static void finding_site_cell(FILE *f, const struct snap_finding *x)
{
	if (!x->site_file) {
		fputs("<td>(the process, no site)</td>", f);
		return;
	}
	fputs("<td><code title=\"", f);
	html_escaped(f, x->site_file);
	fputs("\">", f);
	html_escaped(f, base_name(x->site_file));
	fprintf(f, ":%lld</code> ", (long long)x->site_line);
	html_escaped(f, x->coroutine);
	fputs("</td>", f);
}

static void kind_cell(FILE *f, const struct snap_finding *x)
{
	fputs("<td>", f);
	html_escaped(f, x->kind);
	if (x->reason[0]) {
		fputs(" <small>(", f);
		html_escaped(f, x->reason);
		fputs(")</small>", f);
	}
	fputs("</td>", f);
}

static void findings_table(FILE *f, const char *title, const char *cls,
			   const struct trend_finding_change *c, size_t n, bool with_summary)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "<h3 class=\"%s\">%s (%zu)</h3>\n<table><tr><th>Service</th><th>Finding</th>"
		"<th>Site</th>%s</tr>\n", cls, title, n,
		with_summary ? "<th>Severity</th><th>Summary</th>" : "");
	for (i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		html_escaped(f, c[i].service);
		fputs("</td>", f);
		kind_cell(f, c[i].f);
		finding_site_cell(f, c[i].f);
		if (with_summary) {
			fputs("<td><span class=\"sev ", f);
			html_escaped(f, c[i].f->severity);
			fputs("\">", f);
			html_escaped(f, c[i].f->severity);
			fputs("</span></td><td>", f);
			html_escaped(f, c[i].f->summary);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

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

static void growth_table(FILE *f, const struct trend_host *h)
{
	const struct trend_growth *g;
	size_t i;

	if (!h->n_grown)
		return;
	fprintf(f, "<h3 class=\"grown\">Grown past the thresholds (%zu)</h3>\n<table><tr>"
		"<th>Service</th><th>Site</th><th>Figure</th><th>Baseline</th><th>Newest</th>"
		"<th>Growth</th></tr>\n", h->n_grown);
	for (i = 0; i < h->n_grown; i++) {
		g = &h->grown[i];
		fputs("<tr><td>", f);
		html_escaped(f, g->service);
		fputs("</td><td>", f);
		site_cell(f, g->site);
		fprintf(f, "</td><td>%s</td><td class=\"num\">%.4g</td><td class=\"num\">%.4g</td>",
			metric_label(g->metric), g->from, g->to);
		if (g->from > 0)
			fprintf(f, "<td class=\"num\">+%.0f%%</td></tr>\n",
				(g->to - g->from) * 100.0 / g->from);
		else
			fputs("<td class=\"num\">from 0</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void sites_table(FILE *f, const char *title, const struct trend_site_change *c, size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "<h3>%s (%zu)</h3>\n<table><tr><th>Service</th><th>Site</th>"
		"<th>Peak tasks</th><th>Peak connections</th></tr>\n", title, n);
	for (i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		html_escaped(f, c[i].service);
		fputs("</td><td>", f);
		site_cell(f, c[i].site);
		fprintf(f, "</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td></tr>\n",
			(unsigned long long)c[i].site->peak_tasks,
			(unsigned long long)c[i].site->peak_conns);
	}
	fputs("</table>\n", f);
}

static void names_list(FILE *f, const char *title, const char *const *names, size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "<h3>%s (%zu)</h3>\n<p>", title, n);
	for (i = 0; i < n; i++) {
		fputs(i ? ", <code>" : "<code>", f);
		html_escaped(f, names[i]);
		fputs("</code>", f);
	}
	fputs("</p>\n", f);
}

/* A round ceiling for the y axis: 1, 2 or 5 times a power of ten. */
static double nice_ceiling(double v)
{
	double step = 1;

	if (v < 4)
		return 4;
	while (step * 10 <= v)
		step *= 10;
	if (v <= step * 2)
		return step * 2;
	if (v <= step * 5)
		return step * 5;
	return step * 10;
}

struct chart_scale {
	time_t t0, t1;
	size_t n;
	double ymax;
};

static double x_of(const struct chart_scale *sc, const struct trend_host *h, size_t i)
{
	double w = CHART_W - PAD_L - PAD_R;

	if (sc->n == 1)
		return PAD_L + w / 2;
	if (sc->t1 > sc->t0)
		return PAD_L + w * (double)(h->snaps[i]->started - sc->t0) / (double)(sc->t1 - sc->t0);
	return PAD_L + w * (double)i / (double)(sc->n - 1);
}

static double y_of(const struct chart_scale *sc, double v)
{
	return PAD_T + (CHART_H - PAD_T - PAD_B) * (1 - v / sc->ymax);
}

static uint64_t figure_of(const struct snap_site *s, bool conns)
{
	return conns ? s->peak_conns : s->peak_tasks;
}

/* One figure's line, broken where a snapshot lacks the site, and its points. */
static void chart_line(FILE *f, const struct trend_host *h, const struct trend_series *s,
		       const struct chart_scale *sc, bool conns)
{
	const char *color = conns ? COLOR_CONNS : COLOR_TASKS;
	bool open = false;
	size_t i;

	for (i = 0; i < h->n_snaps; i++) {
		if (!s->at[i]) {
			if (open)
				fputs("\"/>", f);
			open = false;
			continue;
		}
		if (!open)
			fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
				"points=\"", color, conns ? " stroke-dasharray=\"5 3\"" : "");
		fprintf(f, "%.1f,%.1f ", x_of(sc, h, i), y_of(sc, (double)figure_of(s->at[i], conns)));
		open = true;
	}
	if (open)
		fputs("\"/>", f);
	for (i = 0; i < h->n_snaps; i++) {
		if (!s->at[i])
			continue;
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s %llu "
			"at ", x_of(sc, h, i), y_of(sc, (double)figure_of(s->at[i], conns)), color,
			conns ? "peak connections" : "peak tasks",
			(unsigned long long)figure_of(s->at[i], conns));
		html_escaped(f, h->snaps[i]->started_at);
		fputs("</title></circle>", f);
	}
}

/* A ring around the points of a snapshot where the site had findings. */
static void chart_findings(FILE *f, const struct trend_host *h, const struct trend_series *s,
			   const struct chart_scale *sc)
{
	uint64_t top;
	size_t i;

	for (i = 0; i < h->n_snaps; i++) {
		if (!s->at[i] || !s->findings_at[i])
			continue;
		top = s->at[i]->peak_tasks > s->at[i]->peak_conns ? s->at[i]->peak_tasks :
								    s->at[i]->peak_conns;
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"2\"><title>%u finding%s at ", x_of(sc, h, i),
			y_of(sc, (double)top), COLOR_FINDING, s->findings_at[i],
			s->findings_at[i] == 1 ? "" : "s");
		html_escaped(f, h->snaps[i]->started_at);
		fputs("</title></circle>", f);
	}
}

/* Dates for snapshots a week apart, seconds for a series taken within the hour. */
static void time_label(FILE *f, time_t t, time_t span, double x, const char *anchor)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), span >= 3600 ? "%Y-%m-%d %H:%M" : "%m-%d %H:%M:%S", &tm);
	fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#6b7280\" "
		"text-anchor=\"%s\">%s</text>", x, CHART_H - 8, anchor, buf);
}

static void chart_axes(FILE *f, const struct trend_host *h, const struct chart_scale *sc)
{
	double y, bx;
	int k;

	for (k = 0; k <= 2; k++) {
		y = y_of(sc, sc->ymax * k / 2);
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>"
			"<text x=\"%d\" y=\"%.1f\" font-size=\"10\" fill=\"#6b7280\" "
			"text-anchor=\"end\">%.0f</text>", PAD_L, CHART_W - PAD_R, y, y, PAD_L - 6,
			y + 3.5, sc->ymax * k / 2);
	}
	bx = x_of(sc, h, h->baseline);
	fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#9ca3af\" "
		"stroke-dasharray=\"2 3\"/><text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"#6b7280\" "
		"text-anchor=\"start\">baseline</text>", bx, bx, PAD_T, CHART_H - PAD_B, bx + 3,
		PAD_T + 8);
	time_label(f, sc->t0, sc->t1 - sc->t0, x_of(sc, h, 0), sc->n == 1 ? "middle" : "start");
	if (sc->n > 1)
		time_label(f, sc->t1, sc->t1 - sc->t0, x_of(sc, h, sc->n - 1), "end");
}

static void chart_svg(FILE *f, const struct trend_host *h, const struct trend_series *s)
{
	struct chart_scale sc = { h->snaps[0]->started, h->snaps[h->n_snaps - 1]->started,
				  h->n_snaps, 0 };
	size_t i;

	for (i = 0; i < h->n_snaps; i++) {
		if (!s->at[i])
			continue;
		if (s->at[i]->peak_tasks > sc.ymax)
			sc.ymax = (double)s->at[i]->peak_tasks;
		if (s->at[i]->peak_conns > sc.ymax)
			sc.ymax = (double)s->at[i]->peak_conns;
	}
	sc.ymax = nice_ceiling(sc.ymax);
	fprintf(f, "<svg viewBox=\"0 0 %d %d\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
		CHART_W, CHART_H);
	chart_axes(f, h, &sc);
	/* the dashed connections over the tasks: both show where they coincide */
	chart_line(f, h, s, &sc, false);
	chart_line(f, h, s, &sc, true);
	chart_findings(f, h, s, &sc);
	fputs("</svg>", f);
}

static bool site_grew(const struct trend_host *h, const struct trend_series *s)
{
	size_t i;

	for (i = 0; i < h->n_grown; i++)
		if (!strcmp(h->grown[i].service, s->service) && snap_site_same(h->grown[i].site, s->site))
			return true;
	return false;
}

/* What the newest snapshot says of the site against the baseline. */
static bool site_changed(const struct trend_host *h, const struct trend_series *s)
{
	return site_grew(h, s) || !s->at[h->newest] != !s->at[h->baseline] ||
	       (s->at[h->newest] && s->findings_at[h->newest]);
}

static void chart_figure(FILE *f, const struct trend_host *h, const struct trend_series *s)
{
	const struct snap_site *now = s->at[h->newest];
	bool grew = site_grew(h, s);

	fprintf(f, "<figure%s><figcaption><span class=\"co\">", grew ? " class=\"changed\"" : "");
	html_escaped(f, s->site->coroutine);
	fputs("</span>", f);
	if (grew)
		fputs("<span class=\"badge\">grown</span>", f);
	if (now && !s->at[h->baseline])
		fputs("<span class=\"badge\">new</span>", f);
	if (!now)
		fputs("<span class=\"badge\">vanished</span>", f);
	if (now && s->findings_at[h->newest])
		fputs("<span class=\"badge f\">finding</span>", f);
	fputs("<span class=\"where\" title=\"", f);
	html_escaped(f, s->site->file);
	fputs("\">", f);
	html_escaped(f, base_name(s->site->file));
	fprintf(f, ":%lld in ", (long long)s->site->line);
	html_escaped(f, s->site->function);
	if (now)
		fprintf(f, " &middot; now %llu tasks, %llu connections",
			(unsigned long long)now->peak_tasks, (unsigned long long)now->peak_conns);
	fputs("</span></figcaption>", f);
	chart_svg(f, h, s);
	fputs("</figure>\n", f);
}

/* A service's charts, those of sites that changed first: series[first..end). */
static void service_charts(FILE *f, const struct trend_host *h, size_t first, size_t end)
{
	size_t i;
	int pass;

	fputs("<h4>", f);
	html_escaped(f, h->series[first].service);
	fputs("</h4>\n<div class=\"charts\">\n", f);
	for (pass = 0; pass < 2; pass++)
		for (i = first; i < end; i++)
			if (site_changed(h, &h->series[i]) == !pass)
				chart_figure(f, h, &h->series[i]);
	fputs("</div>\n", f);
}

static void host_charts(FILE *f, const struct trend_host *h)
{
	size_t first, i;

	if (!h->n_series)
		return;
	fputs("<h3>Sites over time</h3>\n<p class=\"legend\"><i style=\"background:" COLOR_TASKS
	      "\"></i>peak tasks in flight<i style=\"background:" COLOR_CONNS "\"></i>peak "
	      "connections (dashed)<i class=\"ring\"></i>a finding at the site</p>\n", f);
	for (first = 0, i = 1; i <= h->n_series; i++) {
		if (i < h->n_series && !strcmp(h->series[i].service, h->series[first].service))
			continue;
		service_charts(f, h, first, i);
		first = i;
	}
}

static bool host_changed(const struct trend_host *h)
{
	return h->n_new_findings || h->n_resolved_findings || h->n_grown || h->n_new_sites ||
	       h->n_vanished_sites || h->n_new_services || h->n_vanished_services;
}

static void host_section(FILE *f, const struct trend_host *h)
{
	const struct snapshot *base = h->snaps[h->baseline], *now = h->snaps[h->newest];

	fputs("<section class=\"host\"><h2>Host ", f);
	html_escaped(f, h->host);
	fprintf(f, "</h2>\n<p class=\"sub\">%zu snapshot%s. Baseline <code>", h->n_snaps,
		h->n_snaps == 1 ? "" : "s");
	html_escaped(f, base_name(base->path));
	fputs("</code> (", f);
	html_escaped(f, base->started_at);
	fprintf(f, "%s), newest <code>", h->baseline_given ? ", given" : ", the oldest");
	html_escaped(f, base_name(now->path));
	fputs("</code> (", f);
	html_escaped(f, now->started_at);
	fputs(").</p>\n", f);
	if (trend_modes_differ(h)) {
		fputs("<p class=\"note\">The baseline followed tasks by <code>", f);
		html_escaped(f, base->mode);
		fputs("</code>, the newest by <code>", f);
		html_escaped(f, now->mode);
		fputs("</code>: their sites are told apart by how they were seen, and read as "
		      "vanished and new.</p>\n", f);
	}
	if (!host_changed(h))
		fputs("<p class=\"ok\">No change against the baseline.</p>\n", f);
	findings_table(f, "New findings", "new", h->new_findings, h->n_new_findings, true);
	findings_table(f, "Resolved findings", "resolved", h->resolved_findings,
		       h->n_resolved_findings, false);
	growth_table(f, h);
	sites_table(f, "New sites", h->new_sites, h->n_new_sites);
	sites_table(f, "Vanished sites", h->vanished_sites, h->n_vanished_sites);
	names_list(f, "New services", h->new_services, h->n_new_services);
	names_list(f, "Vanished services", h->vanished_services, h->n_vanished_services);
	host_charts(f, h);
	fputs("</section>\n", f);
}

static void card(FILE *f, const char *cls, size_t n, const char *label)
{
	fprintf(f, "<div class=\"card%s%s\"><b>%zu</b><span>%s</span></div>", n ? " " : "",
		n ? cls : "", n, label);
}

static void fleet_cards(FILE *f, const struct trend *t)
{
	size_t i, c[7] = {};

	for (i = 0; i < t->n_hosts; i++) {
		c[0] += t->hosts[i].n_new_findings;
		c[1] += t->hosts[i].n_resolved_findings;
		c[2] += t->hosts[i].n_grown;
		c[3] += t->hosts[i].n_new_sites;
		c[4] += t->hosts[i].n_vanished_sites;
		c[5] += t->hosts[i].n_new_services;
		c[6] += t->hosts[i].n_vanished_services;
	}
	fputs("<div class=\"cards\">", f);
	card(f, "bad", c[0], "new findings");
	card(f, "good", c[1], "resolved findings");
	card(f, "warn", c[2], "grown past a threshold");
	card(f, "", c[3], "new sites");
	card(f, "", c[4], "vanished sites");
	card(f, "", c[5], "new services");
	card(f, "", c[6], "vanished services");
	fputs("</div>\n", f);
}

static void skipped_box(FILE *f, const struct trend_report_meta *meta)
{
	size_t i;

	if (!meta->n_skipped)
		return;
	fprintf(f, "<div class=\"skipped\"><b>%zu file%s skipped</b> (not read; the report is "
		"from the others):<ul>", meta->n_skipped, meta->n_skipped == 1 ? "" : "s");
	for (i = 0; i < meta->n_skipped; i++) {
		fputs("<li>", f);
		html_escaped(f, meta->skipped[i].path);
		fputs(": ", f);
		html_escaped(f, meta->skipped[i].why);
		fputs("</li>", f);
	}
	fputs("</ul></div>\n", f);
}

int trend_write_html(FILE *f, const struct trend_report_meta *meta, const struct trend *t)
{
	size_t i;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'\">\n"
		"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
		"<title>inflight trend: %zu host%s</title>\n<style>%s</style></head>\n<body><main>\n",
		t->n_hosts, t->n_hosts == 1 ? "" : "s", style);
	fprintf(f, "<h1>inflight trend</h1>\n<p class=\"sub\">%zu snapshot%s of %zu host%s, "
		"each host's newest against its baseline. Grown means past %g%% in peak tasks, "
		"%g%% in peak connections or %g%% in leak slope, and by %g at least. inflight ",
		t->n_snapshots, t->n_snapshots == 1 ? "" : "s", t->n_hosts,
		t->n_hosts == 1 ? "" : "s", t->thresholds.grow_tasks_pct,
		t->thresholds.grow_conns_pct, t->thresholds.grow_leak_slope_pct,
		t->thresholds.grow_min);
	html_escaped(f, meta->version);
	fputs(".</p>\n", f);
	fleet_cards(f, t);
	skipped_box(f, meta);
	for (i = 0; i < t->n_hosts; i++)
		host_section(f, &t->hosts[i]);
	fputs("</main></body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}
