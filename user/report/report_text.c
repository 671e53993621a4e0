// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* The report for a terminal at 3 a.m.: findings first, then the tables. */
#include <stdio.h>
#include <stdlib.h>
#include "clock.h"
#include "report.h"

static const char *format_duration(uint64_t ns, char *buf, size_t size)
{
	double s = ns_to_s(ns);

	if (ns < 1000000)
		snprintf(buf, size, "%.0fus", (double)ns / 1e3);
	else if (ns < NSEC_PER_SEC)
		snprintf(buf, size, "%.1fms", (double)ns / 1e6);
	else if (s < 120)
		snprintf(buf, size, "%.1fs", s);
	else
		snprintf(buf, size, "%llum%02llus", (unsigned long long)(ns / NSEC_PER_SEC / 60),
			 (unsigned long long)(ns / NSEC_PER_SEC % 60));
	return buf;
}

static void print_conn_leak_evidence(FILE *f, const struct conn_leak_evidence *ev)
{
	char ep[ENDPOINT_STRLEN], age[32], from[32], to[32];
	size_t i;

	if (ev->reason == CONN_LEAK_NEVER_CLOSED) {
		fprintf(f, "      %llu opened, peak %u open; %llu still open at the end",
			(unsigned long long)ev->opened, ev->peak_open,
			(unsigned long long)ev->open_at_end);
		if (ev->closed_at_exit)
			fprintf(f, ", %u closed by the process's exit", ev->closed_at_exit);
		fputc('\n', f);
		return;
	}
	if (ev->reason == CONN_LEAK_GROWTH) {
		fprintf(f, "      open connections %u -> %u (peak %u) between %s and %s, %.1f/min\n",
			ev->open_first, ev->open_last, ev->peak_open,
			format_duration(ev->window_start_ns, from, sizeof(from)),
			format_duration(ev->window_end_ns, to, sizeof(to)), ev->slope_per_min);
		return;
	}
	for (i = 0; i < ev->n_endpoints; i++) {
		endpoint_format(&ev->endpoints[i].ep, ep, sizeof(ep));
		fprintf(f, "      %5u in CLOSE_WAIT  %s %-24s oldest %s%s\n", ev->endpoints[i].count,
			ev->endpoints[i].inbound ? "from clients of" : "to", ep,
			ev->endpoints[i].age_is_lower_bound ? ">" : "",
			format_duration(ev->endpoints[i].oldest_age_ns, age, sizeof(age)));
	}
}

/* how a site's line was found: where its tasks were created, or (--sampled) seen */
static const char *site_verb(const struct task_site *s)
{
	return s->sampled_site ? "seen at" : "created at";
}

static void print_fanout_evidence(FILE *f, const struct model *m, const struct fanout_evidence *ev)
{
	char ep[ENDPOINT_STRLEN];
	const struct task_site *up;
	size_t i;

	fprintf(f, "      %llu tasks created", (unsigned long long)ev->created);
	if (ev->at_attach)
		fprintf(f, " and %llu pending at attach", (unsigned long long)ev->at_attach);
	fprintf(f, ", peak %u in flight; %llu connections opened, peak %u open\n",
		ev->peak_in_flight, (unsigned long long)ev->conns_opened, ev->peak_conns_open);
	for (i = 0; i < ev->n_endpoints; i++) {
		endpoint_format(&ev->endpoints[i].ep, ep, sizeof(ep));
		fprintf(f, "      %6u at once to %s (%llu opened)\n", ev->endpoints[i].peak_open, ep,
			(unsigned long long)ev->endpoints[i].opened);
	}
	if (ev->parent_site >= 0 && (size_t)ev->parent_site < m->n_sites) {
		up = &m->sites[ev->parent_site];
		fprintf(f, "      inside %s tasks %s %s:%d\n", text_shown(up->coroutine),
			site_verb(up), text_shown(up->file), up->line);
	}
}

static void print_task_leak_evidence(FILE *f, const struct task_leak_evidence *ev)
{
	char a[32], b[32], c[32];

	if (ev->reason == TASK_LEAK_STUCK && ev->short_unseen)
		fprintf(f, "      oldest pending %s; this site's finished tasks live %s or less: "
			"%llu no read showed, numbered between its own, lived under %s%s\n",
			format_duration(ev->oldest_age_ns, a, sizeof(a)),
			format_duration(ev->usual_lifetime_ns, b, sizeof(b)),
			(unsigned long long)ev->short_unseen,
			format_duration(ev->short_unseen_within_ns, c, sizeof(c)),
			ev->stuck_at_shutdown ? "; still stuck when the process shut down" : "");
	else if (ev->reason == TASK_LEAK_STUCK)
		fprintf(f, "      oldest pending %s; this site's finished tasks live %s (p95)%s\n",
			format_duration(ev->oldest_age_ns, a, sizeof(a)),
			ev->usual_lifetime_ns ? format_duration(ev->usual_lifetime_ns, b, sizeof(b))
					      : "(none finished)",
			ev->stuck_at_shutdown ? "; still stuck when the process shut down" : "");
	else if (ev->reason == TASK_LEAK_PILED_UP)
		fprintf(f, "      peak %u pending; %llu completed, %llu ended by the shutdown\n",
			ev->peak_in_flight, (unsigned long long)ev->completed,
			(unsigned long long)ev->ended_at_shutdown);
	else if (ev->reason == TASK_LEAK_GROWTH)
		fprintf(f, "      pending %u -> %u between %s and %s\n", ev->in_flight_first,
			ev->in_flight_last, format_duration(ev->window_start_ns, a, sizeof(a)),
			format_duration(ev->window_end_ns, b, sizeof(b)));
}

/* what a bound for this site could be sized from */
static void print_concurrency(FILE *f, const struct task_site *s)
{
	struct concurrency_summary t = site_concurrency(s, false), c = site_concurrency(s, true);

	if (!s->concurrency.n)
		return;
	fprintf(f, "      observed at once while busy: tasks p50 %u, p95 %u, max %u; "
		"connections p50 %u, p95 %u, max %u\n", t.p50, t.p95, t.max, c.p50, c.p95, c.max);
}

static void print_site_line(FILE *f, const struct model *m, const struct finding *fd)
{
	const struct task_site *s;

	if (fd->site < 0 || (size_t)fd->site >= m->n_sites)
		return;
	s = &m->sites[fd->site];
	if (s->suspended_site && s->task_name[0])
		fprintf(f, "      by the task %s running %s, suspended at %s:%d (pending at attach, "
			"nothing awaits it)\n", text_shown(s->task_name), text_shown(s->coroutine),
			text_shown(s->file), s->line);
	else if (s->suspended_site)
		fprintf(f, "      by %llu %s tasks suspended at %s:%d (pending at attach, nothing "
			"awaits them)\n", (unsigned long long)s->at_attach, text_shown(s->coroutine),
			text_shown(s->file), s->line);
	else if (fd->kind == FINDING_CONNECTION_LEAK && fd->conn_leak.reason == CONN_LEAK_NEVER_CLOSED)
		fprintf(f, "      by %s tasks %s %s:%d (%s)\n", text_shown(s->coroutine),
			site_verb(s), text_shown(s->file), s->line, text_shown(s->function));
	else if (fd->kind == FINDING_CONNECTION_LEAK)
		fprintf(f, "      %u opened by %s tasks %s %s:%d (%s)\n",
			fd->conn_leak.site_count, text_shown(s->coroutine), site_verb(s),
			text_shown(s->file), s->line,
			text_shown(s->function));
	else
		fprintf(f, "      at %s:%d in %s, running %s\n", text_shown(s->file), s->line,
			text_shown(s->function), text_shown(s->coroutine));
}

/* A finding in a process that died: how, and what that may mean. */
static void print_end_note(FILE *f, const struct proc_model *p, const struct finding *fd)
{
	char how[PROC_END_STRLEN];

	if (!p || !p->exited)
		return;
	proc_end_describe(&p->end, how, sizeof(how));
	fprintf(f, "      the process then %s%s\n", how,
		fd->raised ? ": this is likely why (severity raised one level)" : "");
}

static bool from_warning(const struct finding *fd)
{
	return fd->kind == FINDING_NEVER_AWAITED || fd->kind == FINDING_UNCLOSED_RESOURCE ||
	       fd->kind == FINDING_DEPRECATED_API;
}

/* A finding from warnings: where Python said, what it said, and what is known of it. */
static void print_warning_evidence(FILE *f, const struct model *m, const struct finding *fd)
{
	const struct warning_evidence *ev = &fd->warning;
	const struct warning_group *g = ev->group >= 0 && (size_t)ev->group < m->n_warnings ?
					&m->warnings[ev->group] : NULL;

	if (!g)
		return;
	fprintf(f, "      %s at %s:%d, %llu time%s: \"%s%s\"\n", text_shown(g->category),
		text_shown(g->file), g->line, (unsigned long long)g->count,
		g->count > 1 ? "s" : "", text_shown(g->message), g->message_cut ? "..." : "");
	if (fd->kind == FINDING_UNCLOSED_RESOURCE && !ev->attributed)
		fprintf(f, "      opened by: not known (no traced connection named by the message)\n");
	if (fd->kind == FINDING_DEPRECATED_API)
		fprintf(f, "      call: %s; removed in: %s; instead: %s\n", text_shown(ev->call),
			ev->removed_in ? ev->removed_in : "not announced",
			ev->replacement ? ev->replacement : "see the message");
}

static void print_findings(FILE *f, const struct model *m, const struct findings *fs)
{
	const struct proc_model *p;
	const struct finding *fd;
	size_t i;

	fprintf(f, "FINDINGS\n");
	if (!fs->len)
		fprintf(f, "  none\n");
	for (i = 0; i < fs->len; i++) {
		fd = &fs->items[i];
		p = model_process(m, fd->pid);
		fprintf(f, "  [%s] %s  pid %d (%s)\n", severity_name(fd->severity),
			finding_kind_name(fd->kind), fd->pid, p ? text_shown(p->comm) : "?");
		/* ours, with the target's names in it */
		fprintf(f, "      %s\n", text_shown(fd->summary));
		if (!from_warning(fd) || fd->site >= 0)
			print_site_line(f, m, fd);
		if (from_warning(fd))
			print_warning_evidence(f, m, fd);
		if (fd->kind == FINDING_CONNECTION_LEAK)
			print_conn_leak_evidence(f, &fd->conn_leak);
		else if (fd->kind == FINDING_TASK_LEAK)
			print_task_leak_evidence(f, &fd->task_leak);
		if (fd->kind == FINDING_UNBOUNDED_FANOUT) {
			print_fanout_evidence(f, m, &fd->fanout);
			if (fd->site >= 0)
				print_concurrency(f, &m->sites[fd->site]);
		}
		print_end_note(f, p, fd);
		if (fd->caveat[0])
			fprintf(f, "      note: %s\n", fd->caveat);
		fprintf(f, "      fix: %s\n", fd->remediation);
		fprintf(f, "      see: docs/findings.md#%s\n", finding_kind_name(fd->kind));
	}
	fputc('\n', f);
}

static void print_hooks(FILE *f, const struct proc_model *p)
{
	size_t i;

	for (i = 0; i < p->n_hooks; i++)
		fprintf(f, "  %-14s %s %s: %s\n", i ? "" : "hooks", p->hooks[i].name,
			p->hooks[i].attached ? "attached" : "not attached", text_shown(p->hooks[i].detail));
}

static void print_endpoint_table(FILE *f, const struct model *m, const struct proc_model *p,
				 uint64_t now_ns)
{
	struct endpoint_row *rows;
	char ep[ENDPOINT_STRLEN], age[32];
	uint32_t other;
	size_t i, n;

	if (model_endpoint_rows(m, p->pid, &rows, &n) || !n) {
		if (!n)
			fprintf(f, "  no open connections\n");
		return;
	}
	fprintf(f, "  %-9s %-32s %6s %6s %6s %6s %8s\n", "DIRECTION", "ENDPOINT", "OPEN", "ESTAB",
		"CL_WAIT", "OTHER", "OLDEST");
	for (i = 0; i < n; i++) {
		other = rows[i].total - rows[i].by_state[TCP_STATE_ESTABLISHED] -
			rows[i].by_state[TCP_STATE_CLOSE_WAIT];
		endpoint_format(&rows[i].ep, ep, sizeof(ep));
		fprintf(f, "  %-9s %-32s %6u %6u %7u %6u %8s\n", rows[i].inbound ? "inbound" : "outbound",
			ep, rows[i].total, rows[i].by_state[TCP_STATE_ESTABLISHED],
			rows[i].by_state[TCP_STATE_CLOSE_WAIT], other,
			format_duration(now_ns - rows[i].oldest_opened_ns, age, sizeof(age)));
	}
	free(rows);
}

static int cmp_site_peak(const void *a, const void *b)
{
	const struct task_site *x = *(const struct task_site *const *)a;
	const struct task_site *y = *(const struct task_site *const *)b;

	return x->peak_in_flight > y->peak_in_flight ? -1 : x->peak_in_flight < y->peak_in_flight;
}

#define TEXT_MAX_SITES 20

static void print_sites(FILE *f, const struct model *m, const struct proc_model *p)
{
	const struct task_site **sites;
	char where[320];
	size_t i, n = 0;

	sites = calloc(m->n_sites ? m->n_sites : 1, sizeof(*sites));
	if (!sites)
		return;
	for (i = 0; i < m->n_sites; i++)
		if (m->sites[i].pid == p->pid)
			sites[n++] = &m->sites[i];
	qsort(sites, n, sizeof(*sites), cmp_site_peak);
	if (n)
		fprintf(f, "  %-28s %8s %8s %8s %6s %6s %7s %6s  %s\n", "COROUTINE", "CREATED", "AT_ATTACH",
			"INFLIGHT", "PEAK", "LOST", "CONNS", "PEAK_C", "CREATED AT");
	for (i = 0; i < n && i < TEXT_MAX_SITES; i++) {
		snprintf(where, sizeof(where), "%s:%d%s", text_shown(sites[i]->file), sites[i]->line,
			 sites[i]->suspended_site ? " (suspended there at attach)" :
			 sites[i]->sampled_site ? " (seen there, --sampled)" : "");
		fprintf(f, "  %-28.28s %8llu %9llu %8u %6u %6llu %7llu %6u  %s\n",
			text_shown(sites[i]->coroutine),
			(unsigned long long)sites[i]->created, (unsigned long long)sites[i]->at_attach,
			sites[i]->in_flight,
			sites[i]->peak_in_flight, (unsigned long long)sites[i]->destroyed_pending,
			(unsigned long long)sites[i]->conns_opened, sites[i]->peak_conns_open, where);
	}
	if (n > TEXT_MAX_SITES)
		fprintf(f, "  ... %zu more sites in the JSON report\n", n - TEXT_MAX_SITES);
	free(sites);
}

static void print_tasks(FILE *f, const struct model *m, const struct proc_model *p)
{
	char at[32];

	if (!p->tasks_created && !p->tasks_at_attach)
		return;
	fprintf(f, "  tasks          %llu created, %llu pending at attach, %llu done, %u in flight "
		"(peak %u at %s), %llu destroyed while pending\n",
		(unsigned long long)p->tasks_created, (unsigned long long)p->tasks_at_attach,
		(unsigned long long)p->tasks_done,
		p->tasks_in_flight, p->peak_tasks_in_flight,
		format_duration(p->peak_tasks_ns, at, sizeof(at)),
		(unsigned long long)p->tasks_destroyed_pending);
	fprintf(f, "  task ends      %llu finished, %llu cancelled, %llu ended by the process's "
		"shutdown\n", (unsigned long long)p->tasks_finished,
		(unsigned long long)p->tasks_cancelled,
		(unsigned long long)p->tasks_ended_at_shutdown);
	print_sites(f, m, p);
}

/* Every (category, site) the process warned at, shown or filtered out. */
static void print_warnings(FILE *f, const struct model *m, const struct proc_model *p)
{
	const struct warning_group *g;
	size_t i;
	bool any = false;

	for (i = 0; i < m->n_warnings; i++) {
		g = &m->warnings[i];
		if (g->pid != p->pid)
			continue;
		if (!any)
			fprintf(f, "  warnings       (category, where, how many: shown or filtered out)\n");
		any = true;
		fprintf(f, "    %-22s %s:%d  %llu  \"%s%s\"\n", text_shown(g->category),
			text_shown(g->file), g->line, (unsigned long long)g->count,
			text_shown(g->message), g->message_cut ? "..." : "");
	}
}

static void print_process(FILE *f, const struct model *m, const struct proc_model *p,
			  uint64_t now_ns)
{
	char a[32], b[32], c[32], how[PROC_END_STRLEN];
	const struct duration_stats *lt = &p->lifetimes;

	fprintf(f, "PROCESS %d %s (%s)\n", p->pid, text_shown(p->comm), text_shown(p->exe));
	if (p->execs)
		fprintf(f, "  exec()ed       %u time%s while traced: its tasks before that ended with "
			"the old program\n", p->execs, p->execs > 1 ? "s" : "");
	if (p->processes_forked)
		fprintf(f, "  forked         %u child process%s while traced, not traced themselves "
			"(give their PIDs with -p)\n", p->processes_forked,
			p->processes_forked > 1 ? "es" : "");
	if (p->exited) {
		proc_end_describe(&p->end, how, sizeof(how));
		fprintf(f, "  ended          %s, at %s\n", how,
			format_duration(p->exited_ns > m->start_ns ? p->exited_ns - m->start_ns : 0,
					a, sizeof(a)));
	}
	print_hooks(f, p);
	fprintf(f, "  connections    %u open (peak %u at %s), %llu opened, %llu closed, %llu open at attach\n",
		p->open, p->peak_open, format_duration(p->peak_ns, a, sizeof(a)),
		(unsigned long long)p->opened, (unsigned long long)p->closed,
		(unsigned long long)p->found_at_attach);
	if (lt->count)
		fprintf(f, "  lifetimes      %llu closed: p50 %s, p95 %s, max %s\n",
			(unsigned long long)lt->count,
			format_duration(duration_quantile(lt, 0.5), a, sizeof(a)),
			format_duration(duration_quantile(lt, 0.95), b, sizeof(b)),
			format_duration(lt->max_ns, c, sizeof(c)));
	fprintf(f, "  syscalls       %llu TCP sockets created, %llu connect, %llu accept\n",
		(unsigned long long)p->tcp_sockets_created, (unsigned long long)p->connect_calls,
		(unsigned long long)p->accept_calls);
	print_endpoint_table(f, m, p, now_ns);
	print_tasks(f, m, p);
	print_warnings(f, m, p);
	fputc('\n', f);
}

/* How often a sampled trace meant to read the tasks, and how often it did. */
static void print_sampling(FILE *f, const struct model *m)
{
	char achieved[160] = "";
	double p50, longest;
	size_t n;

	if (model_read_period(m, &p50, &longest, &n))
		snprintf(achieved, sizeof(achieved), " (achieved: %.2f s, the median over %zu "
			 "process%s; at most %.2f s between two reads of one)", p50, n,
			 n == 1 ? "" : "es", longest);
	fprintf(f, "        tasks read from memory every %.1f s%s (--sampled): %llu reads failed, "
		"%llu connections of tasks no read showed (placed where they were opened)\n",
		ns_to_s(m->sample_period_ns), achieved, (unsigned long long)m->task_reads_failed,
		(unsigned long long)m->conn_tasks_unresolved);
}

int report_write_text(FILE *f, const struct report_meta *meta, const struct model *m,
		      const struct findings *fs)
{
	char dur[32];
	size_t i;

	fprintf(f, "inflight %s: traced %zu process%s for %s (ended: %s)\n\n", meta->version,
		m->n_procs, m->n_procs == 1 ? "" : "es",
		format_duration(meta->now_ns - m->start_ns, dur, sizeof(dur)), meta->end_reason);
	print_findings(f, m, fs);
	for (i = 0; i < m->n_procs; i++)
		print_process(f, m, &m->procs[i], meta->now_ns);
	fprintf(f, "TRACER  %llu events, %llu ring-buffer drops, %llu sockets the kernel side could "
		"not follow (map full), %llu connections found at attach it had no room for, "
		"%llu connections past inflight's table, %llu unmatched events, "
		"%llu closes found only at the end\n",
		(unsigned long long)m->events, (unsigned long long)m->ringbuf_drops,
		(unsigned long long)m->sock_table_full, (unsigned long long)m->found_table_full,
		(unsigned long long)m->untracked_conns,
		(unsigned long long)m->unmatched_events, (unsigned long long)m->closes_unseen);
	if (m->mode == TRACE_MODE_SAMPLED)
		print_sampling(f, m);
	if (m->task_events || m->task_ringbuf_drops)
		fprintf(f, "        %llu task events, %llu ring-buffer drops, %llu tasks not tracked, "
			"%llu stacks not read\n", (unsigned long long)m->task_events,
			(unsigned long long)m->task_ringbuf_drops,
			(unsigned long long)(m->untracked_tasks),
			(unsigned long long)m->no_thread_state);
	if (m->site_table_full || m->code_cache_full || m->tasks_at_attach_left_out)
		fprintf(f, "        %llu tasks past inflight's table of sites, %llu reads of code objects "
			"and names refused (cache full), %llu tasks pending at attach not read (too "
			"many)\n",
			(unsigned long long)m->site_table_full,
			(unsigned long long)m->code_cache_full,
			(unsigned long long)m->tasks_at_attach_left_out);
	return ferror(f) ? -1 : 0;
}

void report_live_summary(FILE *f, const struct model *m, uint64_t now_ns)
{
	const struct proc_model *p;
	size_t i;

	for (i = 0; i < m->n_procs; i++) {
		p = &m->procs[i];
		fprintf(f, "[%7.1fs] pid %d: %u open (%u ESTABLISHED, %u CLOSE_WAIT), %llu opened, %llu closed%s\n",
			ns_to_s(now_ns - m->start_ns), p->pid, p->open,
			p->by_state[TCP_STATE_ESTABLISHED], p->by_state[TCP_STATE_CLOSE_WAIT],
			(unsigned long long)p->opened, (unsigned long long)p->closed,
			p->exited ? " (exited)" : "");
	}
	fflush(f);
}
