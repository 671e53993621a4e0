// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The figures of a trace as metrics for Prometheus (docs/metrics.md): one
 * family at a time, its series gathered from every source, sorted by labels,
 * and the series that name the same thing (the workers of one service, one
 * line run by two threads) folded into one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "report.h"

enum family_type {
	FAMILY_GAUGE,
	FAMILY_COUNTER,
	FAMILY_INFO,
};

/* how two series with the same labels fold into one */
enum fold_rule {
	FOLD_SUM,
	FOLD_MAX,
};

struct series {
	char *labels;		/* {host="...",...}, escaped */
	double value;
};

struct series_list {
	struct series *items;
	size_t len, cap;
	int err;		/* the first failure; the family is then not written */
};

/* labels being written for one series */
struct label_set {
	FILE *f;
	char *buf;
	size_t len;
	unsigned int n;
};

struct family {
	const char *name;	/* without its samples' _total or _info */
	enum family_type type;
	const char *unit;	/* the unit that ends the name, or NULL */
	const char *help;
	enum fold_rule fold;
	void (*collect)(const struct metrics_source *src, struct series_list *out);
};

static int labels_begin(struct label_set *ls)
{
	*ls = (struct label_set){};
	ls->f = open_memstream(&ls->buf, &ls->len);
	if (!ls->f)
		return -ENOMEM;
	fputc('{', ls->f);
	return 0;
}

/*
 * A label value as both text formats quote it: backslash, double quote and
 * line feed escaped; the rest as is, once made valid UTF-8.
 */
static void label_str(struct label_set *ls, const char *name, const char *value)
{
	char *clean = utf8_sanitize(value ? value : "");
	const char *c;

	if (!clean) {
		fputc(0, ls->f);	/* marks the set as failed: no label holds a NUL */
		return;
	}
	fprintf(ls->f, "%s%s=\"", ls->n++ ? "," : "", name);
	for (c = clean; *c; c++) {
		if (*c == '\\')
			fputs("\\\\", ls->f);
		else if (*c == '"')
			fputs("\\\"", ls->f);
		else if (*c == '\n')
			fputs("\\n", ls->f);
		else
			fputc(*c, ls->f);
	}
	fputc('"', ls->f);
	free(clean);
}

static void label_int(struct label_set *ls, const char *name, long long value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", value);
	label_str(ls, name, buf);
}

/* Closes the label set and adds the series; failures are kept in out->err. */
static void series_add(struct series_list *out, struct label_set *ls, double value)
{
	struct series *grown;
	bool failed;

	fputc('}', ls->f);
	failed = fclose(ls->f) != 0 || memchr(ls->buf, 0, ls->len);

	if (failed || out->err) {
		out->err = out->err ? out->err : -ENOMEM;
		free(ls->buf);
		return;
	}
	if (out->len == out->cap) {
		grown = realloc(out->items, (out->cap ? out->cap * 2 : 64) * sizeof(*grown));
		if (!grown) {
			out->err = -ENOMEM;
			free(ls->buf);
			return;
		}
		out->items = grown;
		out->cap = out->cap ? out->cap * 2 : 64;
	}
	out->items[out->len++] = (struct series){ .labels = ls->buf, .value = value };
}

/* host, service and (for a trace) pid: what every per-process series starts with */
static int service_labels(struct label_set *ls, const struct metrics_source *src,
			  const struct metrics_service *svc)
{
	if (labels_begin(ls))
		return -ENOMEM;
	label_str(ls, "host", src->host);
	label_str(ls, "service", svc->service);
	if (svc->pid_label)
		label_int(ls, "pid", svc->proc->pid);
	return 0;
}

static int host_labels(struct label_set *ls, const struct metrics_source *src)
{
	if (labels_begin(ls))
		return -ENOMEM;
	label_str(ls, "host", src->host);
	return 0;
}

static void collect_start_time(const struct metrics_source *src, struct series_list *out)
{
	const struct timespec *t = &src->model->start_wall;
	struct label_set ls;

	if (host_labels(&ls, src)) {
		out->err = -ENOMEM;
		return;
	}
	series_add(out, &ls, (double)t->tv_sec + (double)(t->tv_nsec / 1000) / 1e6);
}

static void collect_duration(const struct metrics_source *src, struct series_list *out)
{
	struct label_set ls;

	if (host_labels(&ls, src)) {
		out->err = -ENOMEM;
		return;
	}
	series_add(out, &ls, ns_to_s(src->meta->now_ns - src->model->start_ns));
}

static void ring_series(const struct metrics_source *src, struct series_list *out,
			const char *ring, uint64_t value)
{
	struct label_set ls;

	if (host_labels(&ls, src)) {
		out->err = -ENOMEM;
		return;
	}
	label_str(&ls, "ring", ring);
	series_add(out, &ls, (double)value);
}

static void collect_events(const struct metrics_source *src, struct series_list *out)
{
	ring_series(src, out, "connections", src->model->events);
	ring_series(src, out, "tasks", src->model->task_events);
}

static void collect_drops(const struct metrics_source *src, struct series_list *out)
{
	ring_series(src, out, "connections", src->model->ringbuf_drops);
	ring_series(src, out, "tasks", src->model->task_ringbuf_drops);
}

static void collect_process_info(const struct metrics_source *src, struct series_list *out)
{
	const struct proc_model *p;
	struct label_set ls;
	size_t i;

	for (i = 0; i < src->n_services; i++) {
		p = src->services[i].proc;
		if (service_labels(&ls, src, &src->services[i])) {
			out->err = -ENOMEM;
			return;
		}
		label_str(&ls, "comm", p->comm);
		label_str(&ls, "exe", p->exe);
		if (p->python[0])
			label_str(&ls, "python", p->python);
		series_add(out, &ls, 1);
	}
}

/* A figure of each process. */
static void process_series(const struct metrics_source *src, struct series_list *out,
			   uint64_t (*figure)(const struct proc_model *p))
{
	struct label_set ls;
	size_t i;

	for (i = 0; i < src->n_services; i++) {
		if (service_labels(&ls, src, &src->services[i])) {
			out->err = -ENOMEM;
			return;
		}
		series_add(out, &ls, (double)figure(src->services[i].proc));
	}
}

static uint64_t conns_opened(const struct proc_model *p) { return p->opened; }
static uint64_t conns_closed(const struct proc_model *p) { return p->closed; }
static uint64_t conns_peak(const struct proc_model *p) { return p->peak_open; }

static void collect_conns_opened(const struct metrics_source *src, struct series_list *out)
{
	process_series(src, out, conns_opened);
}

static void collect_conns_closed(const struct metrics_source *src, struct series_list *out)
{
	process_series(src, out, conns_closed);
}

static void collect_conns_peak(const struct metrics_source *src, struct series_list *out)
{
	process_series(src, out, conns_peak);
}

static void collect_conns_open(const struct metrics_source *src, struct series_list *out)
{
	const struct metrics_service *svc;
	char ep[ENDPOINT_STRLEN];
	struct endpoint_row *rows;
	struct label_set ls;
	size_t i, r, n;
	unsigned int s;

	for (i = 0; i < src->n_services; i++) {
		svc = &src->services[i];
		if (model_endpoint_rows(src->model, svc->proc->pid, &rows, &n)) {
			out->err = -ENOMEM;
			return;
		}
		for (r = 0; r < n; r++) {
			endpoint_format(&rows[r].ep, ep, sizeof(ep));
			for (s = 0; s < TCP_STATE_MAX; s++) {
				if (!rows[r].by_state[s])
					continue;
				if (service_labels(&ls, src, svc)) {
					out->err = -ENOMEM;
					break;
				}
				label_str(&ls, "direction", rows[r].inbound ? "inbound" : "outbound");
				label_str(&ls, "endpoint", ep);
				label_str(&ls, "state", tcp_state_name(s));
				series_add(out, &ls, rows[r].by_state[s]);
			}
		}
		free(rows);
	}
}

/* site="FILE:LINE" and coroutine, of a site of the model or of none (-1) */
static void site_labels(struct label_set *ls, const struct model *m, int site)
{
	const struct task_site *s = site >= 0 && (size_t)site < m->n_sites ? &m->sites[site] : NULL;
	char *place = NULL;

	if (s && asprintf(&place, "%s:%d", s->file, s->line) < 0) {
		fputc(0, ls->f);
		return;
	}
	label_str(ls, "site", place);
	label_str(ls, "coroutine", s ? s->coroutine : NULL);
	free(place);
}

/* A figure of each task creation site of each process. */
static void site_series(const struct metrics_source *src, struct series_list *out,
			uint64_t (*figure)(const struct task_site *s))
{
	const struct model *m = src->model;
	struct label_set ls;
	size_t i, k;

	for (i = 0; i < src->n_services; i++)
		for (k = 0; k < m->n_sites; k++) {
			if (m->sites[k].pid != src->services[i].proc->pid)
				continue;
			if (service_labels(&ls, src, &src->services[i])) {
				out->err = -ENOMEM;
				return;
			}
			site_labels(&ls, m, (int)k);
			series_add(out, &ls, (double)figure(&m->sites[k]));
		}
}

static uint64_t site_in_flight(const struct task_site *s) { return s->in_flight; }
static uint64_t site_peak(const struct task_site *s) { return s->peak_in_flight; }
static uint64_t site_created(const struct task_site *s) { return s->created; }

static void collect_tasks_in_flight(const struct metrics_source *src, struct series_list *out)
{
	site_series(src, out, site_in_flight);
}

static void collect_tasks_peak(const struct metrics_source *src, struct series_list *out)
{
	site_series(src, out, site_peak);
}

static void collect_tasks_created(const struct metrics_source *src, struct series_list *out)
{
	site_series(src, out, site_created);
}

static const char *finding_reason(const struct finding *fd)
{
	switch (fd->kind) {
	case FINDING_CONNECTION_LEAK:
		return conn_leak_reason_name(fd->conn_leak.reason);
	case FINDING_TASK_LEAK:
		return task_leak_reason_name(fd->task_leak.reason);
	default:
		return NULL;
	}
}

static void collect_findings(const struct metrics_source *src, struct series_list *out)
{
	const struct finding *fd;
	struct label_set ls;
	size_t i, k;

	for (i = 0; i < src->n_services; i++)
		for (k = 0; k < src->findings->len; k++) {
			fd = &src->findings->items[k];
			if (fd->pid != src->services[i].proc->pid)
				continue;
			if (service_labels(&ls, src, &src->services[i])) {
				out->err = -ENOMEM;
				return;
			}
			label_str(&ls, "kind", finding_kind_name(fd->kind));
			if (finding_reason(fd))
				label_str(&ls, "reason", finding_reason(fd));
			label_str(&ls, "severity", severity_name(fd->severity));
			site_labels(&ls, src->model, fd->site);
			series_add(out, &ls, 1);
		}
}

static const struct family families[] = {
	{ "inflight_trace_start_time_seconds", FAMILY_GAUGE, "seconds",
	  "When the trace began, in seconds since the Unix epoch.", FOLD_MAX, collect_start_time },
	{ "inflight_trace_duration_seconds", FAMILY_GAUGE, "seconds",
	  "How long the trace ran.", FOLD_MAX, collect_duration },
	{ "inflight_tracer_events", FAMILY_COUNTER, NULL,
	  "Events the tracer received from the kernel, by ring buffer.", FOLD_SUM, collect_events },
	{ "inflight_tracer_dropped_events", FAMILY_COUNTER, NULL,
	  "Events lost because a ring buffer was full: figures may be short by that much.",
	  FOLD_SUM, collect_drops },
	{ "inflight_process", FAMILY_INFO, NULL,
	  "A traced process: its command name, executable and CPython version.", FOLD_MAX,
	  collect_process_info },
	{ "inflight_tasks_in_flight", FAMILY_GAUGE, NULL,
	  "Asyncio tasks created at this line still pending when the trace ended.", FOLD_SUM,
	  collect_tasks_in_flight },
	{ "inflight_tasks_in_flight_peak", FAMILY_GAUGE, NULL,
	  "The most tasks of this line pending at once during the trace "
	  "(summed over the processes and threads that share the labels).", FOLD_SUM,
	  collect_tasks_peak },
	{ "inflight_tasks_created", FAMILY_COUNTER, NULL,
	  "Asyncio tasks created at this line during the trace.", FOLD_SUM, collect_tasks_created },
	{ "inflight_connections_open", FAMILY_GAUGE, NULL,
	  "TCP connections held when the trace ended, by endpoint and state.", FOLD_SUM,
	  collect_conns_open },
	{ "inflight_connections_open_peak", FAMILY_GAUGE, NULL,
	  "The most TCP connections the process held at once during the trace.", FOLD_SUM,
	  collect_conns_peak },
	{ "inflight_connections_opened", FAMILY_COUNTER, NULL,
	  "TCP connections the process opened or accepted during the trace.", FOLD_SUM,
	  collect_conns_opened },
	{ "inflight_connections_closed", FAMILY_COUNTER, NULL,
	  "TCP connections the process closed during the trace.", FOLD_SUM, collect_conns_closed },
	{ "inflight_findings", FAMILY_GAUGE, NULL,
	  "Findings present when the trace ended (docs/findings.md): 1 each.", FOLD_SUM,
	  collect_findings },
};

static int by_labels(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->labels, ((const struct series *)b)->labels);
}

/* Folds series with the same labels into the first of them: the list must be sorted. */
static void fold_duplicates(struct series_list *l, enum fold_rule rule)
{
	size_t i, kept = 0;

	for (i = 0; i < l->len; i++) {
		if (kept && !strcmp(l->items[kept - 1].labels, l->items[i].labels)) {
			if (rule == FOLD_SUM)
				l->items[kept - 1].value += l->items[i].value;
			else if (l->items[i].value > l->items[kept - 1].value)
				l->items[kept - 1].value = l->items[i].value;
			free(l->items[i].labels);
			continue;
		}
		l->items[kept++] = l->items[i];
	}
	l->len = kept;
}

static const char *sample_suffix(enum family_type type)
{
	switch (type) {
	case FAMILY_COUNTER: return "_total";
	case FAMILY_INFO: return "_info";
	default: return "";
	}
}

/*
 * OpenMetrics names the family and gives it a unit; the Prometheus format has
 * neither units nor an info type, and names the family as its samples are named.
 */
static void write_header(FILE *f, enum metrics_dialect dialect, const struct family *fam)
{
	static const char *const om_types[] = { "gauge", "counter", "info" };
	static const char *const prom_types[] = { "gauge", "counter", "gauge" };

	if (dialect == METRICS_OPENMETRICS) {
		fprintf(f, "# TYPE %s %s\n", fam->name, om_types[fam->type]);
		if (fam->unit)
			fprintf(f, "# UNIT %s %s\n", fam->name, fam->unit);
		fprintf(f, "# HELP %s %s\n", fam->name, fam->help);
		return;
	}
	fprintf(f, "# HELP %s%s %s\n", fam->name, sample_suffix(fam->type), fam->help);
	fprintf(f, "# TYPE %s%s %s\n", fam->name, sample_suffix(fam->type), prom_types[fam->type]);
}

/* the shortest of 15 or 17 significant digits that reads back as the same number */
static void write_value(FILE *f, double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, f);
}

static int write_family(FILE *f, enum metrics_dialect dialect, const struct family *fam,
			const struct metrics_source *src, size_t n_sources)
{
	struct series_list l = {};
	size_t i;
	int err;

	for (i = 0; i < n_sources && !l.err; i++)
		fam->collect(&src[i], &l);
	err = l.err;
	if (!err && l.len) {
		qsort(l.items, l.len, sizeof(*l.items), by_labels);
		fold_duplicates(&l, fam->fold);
		write_header(f, dialect, fam);
		for (i = 0; i < l.len; i++) {
			fprintf(f, "%s%s%s ", fam->name, sample_suffix(fam->type), l.items[i].labels);
			write_value(f, l.items[i].value);
			fputc('\n', f);
		}
	}
	for (i = 0; i < l.len; i++)
		free(l.items[i].labels);
	free(l.items);
	return err;
}

int report_write_metrics(FILE *f, enum metrics_dialect dialect, const struct metrics_source *src,
			 size_t n_sources)
{
	size_t i;
	int err;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		err = write_family(f, dialect, &families[i], src, n_sources);
		if (err)
			return err;
	}
	if (dialect == METRICS_OPENMETRICS)
		fputs("# EOF\n", f);
	return ferror(f) ? -EIO : 0;
}
