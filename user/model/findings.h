/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Findings: what the model says is wrong, with the evidence for it and what
 * to do. Computed from the model alone; reports render them.
 */
#ifndef INFLIGHT_FINDINGS_H
#define INFLIGHT_FINDINGS_H
#include "model.h"

enum severity {
	SEVERITY_INFO,
	SEVERITY_WARNING,
	SEVERITY_CRITICAL,
};
const char *severity_name(enum severity s);

enum finding_kind {
	FINDING_CONNECTION_LEAK,
	FINDING_UNBOUNDED_FANOUT,
	FINDING_TASK_LEAK,
	FINDING_NEVER_AWAITED,
	FINDING_UNCLOSED_RESOURCE,
	FINDING_DEPRECATED_API,
};
/* "connection-leak", ... as in docs/findings.md */
const char *finding_kind_name(enum finding_kind k);

enum conn_leak_reason {
	CONN_LEAK_CLOSE_WAIT,	/* the peer closed, the process did not */
	CONN_LEAK_GROWTH,	/* open connections grow without a plateau */
	CONN_LEAK_NEVER_CLOSED,	/* one line opened many and closed none while the process lived */
};
const char *conn_leak_reason_name(enum conn_leak_reason r);

#define EVIDENCE_MAX_ENDPOINTS 8

struct endpoint_evidence {
	bool inbound;
	struct endpoint ep;
	uint32_t count;
	uint64_t oldest_age_ns;
	bool age_is_lower_bound;	/* older than the trace: found at attach */
};

struct conn_leak_evidence {
	enum conn_leak_reason reason;
	/* CLOSE_WAIT: every socket held there past the threshold during the trace */
	uint32_t close_wait;
	uint64_t oldest_age_ns, youngest_age_ns;
	bool age_is_lower_bound;
	uint32_t still_open, closed_late, closed_at_exit;	/* how they ended */
	uint64_t first_seen_ns;		/* since trace start: the first entered CLOSE_WAIT */
	/* never closed: the site's connections */
	uint64_t opened, open_at_end;
	struct endpoint_evidence endpoints[EVIDENCE_MAX_ENDPOINTS];
	size_t n_endpoints;
	/* growth */
	uint32_t open_first, open_last, peak_open;
	double slope_per_min;
	uint64_t window_start_ns, window_end_ns;	/* since trace start */
	/* the task creation site that opened most of the sockets (-1: none known), and how many */
	int site;
	uint32_t site_count;
};

struct fanout_evidence {
	uint64_t created;
	uint64_t at_attach;	/* of its tasks, pending before the trace began */
	uint32_t peak_in_flight;
	uint64_t conns_opened;
	uint32_t peak_conns_open;
	struct site_endpoint endpoints[SITE_MAX_ENDPOINTS];
	size_t n_endpoints;
	int parent_site;	/* the site of the task that fanned out, or -1 */
};

enum task_leak_reason {
	TASK_LEAK_DESTROYED_PENDING,	/* "Task was destroyed but it is pending!" */
	TASK_LEAK_STUCK,		/* pending far longer than the site's tasks live */
	TASK_LEAK_GROWTH,		/* pending tasks grow without a plateau */
	TASK_LEAK_PILED_UP,		/* thousands pending, none completed while the process ran */
};
const char *task_leak_reason_name(enum task_leak_reason r);

struct task_leak_evidence {
	enum task_leak_reason reason;
	uint64_t destroyed_pending;
	uint32_t stuck;
	uint64_t oldest_age_ns;
	uint64_t usual_lifetime_ns;	/* p95 of the site's finished tasks; 0 if none finished */
	/* --sampled: of those, the ones no read showed (counted between its tasks' numbers),
	   and how long they lived at most; the usual lifetime is then at least that */
	uint64_t short_unseen;
	uint64_t short_unseen_within_ns;
	uint32_t in_flight_first, in_flight_last;
	double slope_per_min;
	uint64_t window_start_ns, window_end_ns;
	/* piled up: how many, and how they ended */
	uint32_t peak_in_flight;
	uint64_t completed, ended_at_shutdown;
	uint32_t stuck_at_shutdown;	/* of stuck: pending that long when its shutdown ended them */
};

/* A finding from a group of Python warnings (model's warnings). */
struct warning_evidence {
	int group;		/* the model's warning group */
	char coroutine[128];	/* never-awaited: the coroutine the message names */
	const char *resource;	/* unclosed-resource: "transport", "socket", "stream writer", ... */
	bool attributed;	/* unclosed-resource: finding's site is its connection's opener */
	/* unclosed-resource: the warnings about those connections, the group's and those of
	   other groups attributed to the same opener (a socket and its transport both warn) */
	uint64_t warnings;
	char call[WARNING_MESSAGE_MAX];	/* deprecated-api: the call, as the message says or the table names */
	const char *removed_in;	/* the Python version that removes it, NULL if not known */
	const char *replacement;	/* what to use instead, NULL if not known */
};

struct finding {
	enum finding_kind kind;
	enum severity severity;
	pid_t pid;
	int site;		/* the task creation site behind it (model's sites), or -1 */
	char summary[256];
	const char *remediation;
	bool raised;		/* one severity up: the process died of something wrong */
	char caveat[640];	/* why its counts or its line may be off, "" if they are not */
	union {
		struct conn_leak_evidence conn_leak;
		struct fanout_evidence fanout;
		struct task_leak_evidence task_leak;
		struct warning_evidence warning;
	};
};

struct findings {
	struct finding *items;
	size_t len, cap;
};

struct finding_thresholds {
	double close_wait_min_age_s;	/* a CLOSE_WAIT socket younger than this is not a leak yet */
	uint32_t close_wait_critical;	/* this many CLOSE_WAIT sockets is critical */
	uint32_t growth_min_increase;	/* open connections must grow at least this much */
	double growth_min_window_s;	/* over at least this long */
	uint32_t fanout_min_tasks;	/* a site this many tasks in flight at once may be a fan-out */
	uint32_t fanout_min_conns;	/* ...holding at least this many connections at once */
	uint32_t fanout_memory_tasks;	/* a fan-out holding no connections: only past this many */
	double stuck_min_age_s;		/* a pending task this old, and ... */
	double stuck_lifetime_factor;	/* ... this many times its site's usual lifetime, is stuck */
	uint32_t task_growth_min_increase;	/* pending tasks of a site must grow this much */
	uint32_t pileup_min_tasks;	/* this many pending at once, none completed: a leak */
	uint32_t never_closed_min_conns;	/* one line opening this many, closing none: a leak */
};
extern const struct finding_thresholds default_thresholds;

/* Findings in the model at now_ns, most severe first: 0 or -ENOMEM. */
int findings_compute(const struct model *m, const struct finding_thresholds *t, uint64_t now_ns,
		     struct findings *out);
void findings_free(struct findings *f);

#endif
