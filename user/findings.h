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
};
/* "connection-leak", ... as in docs/findings.md */
const char *finding_kind_name(enum finding_kind k);

enum conn_leak_reason {
	CONN_LEAK_CLOSE_WAIT,	/* the peer closed, the process did not */
	CONN_LEAK_GROWTH,	/* open connections grow without a plateau */
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
	/* CLOSE_WAIT */
	uint32_t close_wait;
	uint64_t oldest_age_ns, youngest_age_ns;
	bool age_is_lower_bound;
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

struct finding {
	enum finding_kind kind;
	enum severity severity;
	pid_t pid;
	int site;		/* the task creation site behind it (model's sites), or -1 */
	char summary[256];
	const char *remediation;
	union {
		struct conn_leak_evidence conn_leak;
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
};
extern const struct finding_thresholds default_thresholds;

/* Findings in the model at now_ns, most severe first: 0 or -ENOMEM. */
int findings_compute(const struct model *m, const struct finding_thresholds *t, uint64_t now_ns,
		     struct findings *out);
void findings_free(struct findings *f);

#endif
