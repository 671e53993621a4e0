// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/model/findings.c: CLOSE_WAIT and growth leak findings, and the
 * per-site findings: unbounded fan-out, and task leaks (destroyed pending,
 * stuck, growth); with --sampled's stuck tasks, the short tasks no read
 * showed counted from a read (task_adoption.c).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "clock.h"
#include "findings.h"
#include "python_target.h"
#include "task_adoption.h"
#include "task_snapshot.h"

#define START_NS (500 * NSEC_PER_SEC)
#define AT(s) (START_NS + (uint64_t)((s) * (double)NSEC_PER_SEC))
#define SEC(s) ((uint64_t)((s) * (double)NSEC_PER_SEC))
#define PID 4242
#include "model_fixture.h"

static const struct finding_thresholds thr = {
	.close_wait_min_age_s = 2.0,
	.close_wait_critical = 3,
	.growth_min_increase = 20,
	.growth_min_window_s = 5.0,
	.fanout_min_tasks = 100,
	.fanout_min_conns = 50,
	.fanout_memory_tasks = 10000,
	.stuck_min_age_s = 30.0,
	.stuck_lifetime_factor = 10.0,
	.task_growth_min_increase = 50,
	.pileup_min_tasks = 1000,
	.never_closed_min_conns = 200,
};

static struct endpoint ep4(const char *ip, uint16_t port)
{
	struct endpoint e = { .family = AF_INET, .port = port };

	assert_int_equal(inet_pton(AF_INET, ip, e.addr), 1);
	return e;
}

static void open_conn(struct model *m, pid_t pid, uint64_t ino, enum conn_source src,
		      struct endpoint local, struct endpoint remote, uint64_t ts)
{
	struct conn c = {
		.pid = pid,
		.ino = ino,
		.source = src,
		.inbound = src == CONN_SEEN_ACCEPT,
		.state = TCP_STATE_ESTABLISHED,
		.local = local,
		.remote = remote,
		.opened_ns = ts,
	};

	model_conn_open(m, &c);
}

/* outbound from 10.0.0.1 to remote, opened at opened_ns, CLOSE_WAIT from cw_ns */
static void close_wait_to(struct model *m, pid_t pid, uint64_t ino, struct endpoint remote,
			  uint64_t opened_ns, uint64_t cw_ns)
{
	open_conn(m, pid, ino, CONN_SEEN_CONNECT, ep4("10.0.0.1", (uint16_t)(30000 + ino)), remote,
		  opened_ns);
	model_conn_state(m, pid, ino, TCP_STATE_CLOSE_WAIT, cw_ns);
}

static void close_wait(struct model *m, pid_t pid, uint64_t ino, uint64_t cw_ns)
{
	close_wait_to(m, pid, ino, ep4("10.0.0.5", 5432), AT(0.5), cw_ns);
}

static void last_ino(const struct conn *c, void *ctx)
{
	*(uint64_t *)ctx = c->ino;
}

/* Opens or releases pid's connections until it holds exactly target. */
static void hold(struct model *m, pid_t pid, uint32_t target, uint64_t ts)
{
	struct proc_model *p = model_process(m, pid);
	static uint64_t next_ino = 1000000;
	uint64_t ino;

	assert_non_null(p);
	while (p->open > target) {
		ino = 0;
		model_foreach_conn(m, pid, last_ino, &ino);
		assert_int_not_equal(ino, 0);
		model_conn_release(m, pid, ino, ts);
	}
	while (p->open < target) {
		open_conn(m, pid, next_ino, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40000),
			  ep4("10.0.0.7", 80), ts);
		next_ino++;
	}
}

/* One sample a second from AT(0): pid holds open[i] at sample i. */
static void series(struct model *m, pid_t pid, const uint32_t *open, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		hold(m, pid, open[i], AT(i) > 0 ? AT(i) - 1 : 0);
		model_sample(m, AT(i));
	}
	assert_int_equal(model_process(m, pid)->n_samples, n);
}

/* Findings at now: task endings a second old or more are settled first, as polls do. */
static void compute(struct model *m, const struct finding_thresholds *t, uint64_t now,
		    struct findings *fs)
{
	model_settle_cancels(m, now);
	assert_int_equal(findings_compute(m, t, now, fs), 0);
}

static void test_names(void **state)
{
	assert_string_equal(severity_name(SEVERITY_INFO), "info");
	assert_string_equal(severity_name(SEVERITY_WARNING), "warning");
	assert_string_equal(severity_name(SEVERITY_CRITICAL), "critical");
	assert_string_equal(finding_kind_name(FINDING_CONNECTION_LEAK), "connection-leak");
	assert_string_equal(conn_leak_reason_name(CONN_LEAK_CLOSE_WAIT), "close_wait");
	assert_string_equal(conn_leak_reason_name(CONN_LEAK_GROWTH), "growth");
}

static void test_no_connections_no_findings(void **state)
{
	struct model *m = *state;
	struct findings fs;

	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_young_close_wait_no_finding(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(9));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_old_close_wait_is_warning(void **state)
{
	struct model *m = *state;
	const struct conn_leak_evidence *ev;
	struct findings fs;
	struct endpoint db = ep4("10.0.0.5", 5432);

	close_wait(m, PID, 1, AT(2));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].kind, FINDING_CONNECTION_LEAK);
	assert_int_equal(fs.items[0].severity, SEVERITY_WARNING);
	assert_int_equal(fs.items[0].pid, PID);
	assert_non_null(fs.items[0].remediation);
	assert_non_null(strstr(fs.items[0].summary, "1 socket held in CLOSE_WAIT"));
	ev = &fs.items[0].conn_leak;
	assert_int_equal(ev->reason, CONN_LEAK_CLOSE_WAIT);
	assert_int_equal(ev->close_wait, 1);
	assert_int_equal(ev->oldest_age_ns, SEC(8));
	assert_int_equal(ev->youngest_age_ns, SEC(8));
	assert_false(ev->age_is_lower_bound);
	assert_int_equal(ev->n_endpoints, 1);
	assert_false(ev->endpoints[0].inbound);
	assert_memory_equal(&ev->endpoints[0].ep, &db, sizeof(db));
	assert_int_equal(ev->endpoints[0].count, 1);
	assert_int_equal(ev->endpoints[0].oldest_age_ns, SEC(8));
	assert_false(ev->endpoints[0].age_is_lower_bound);
	findings_free(&fs);
}

/* the age is measured from the state change, not from the open */
static void test_close_wait_age_from_state_change(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait_to(m, PID, 1, ep4("10.0.0.5", 5432), AT(0), AT(9));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_close_wait_min_age_inclusive(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(8));
	close_wait(m, PID, 2, AT(8) + 1);
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].conn_leak.close_wait, 1);
	assert_int_equal(fs.items[0].conn_leak.oldest_age_ns, SEC(2));
	findings_free(&fs);
}

static void test_close_wait_min_age_threshold_respected(void **state)
{
	struct model *m = *state;
	struct finding_thresholds strict = thr;
	struct findings fs;

	close_wait(m, PID, 1, AT(2));	/* 8s old at AT(10) */
	strict.close_wait_min_age_s = 8.5;
	compute(m, &strict, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	strict.close_wait_min_age_s = 7.5;
	compute(m, &strict, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	findings_free(&fs);
}

static void test_close_wait_age_range(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(7));	/* 3s */
	close_wait(m, PID, 2, AT(3));	/* 7s */
	close_wait(m, PID, 3, AT(9));	/* 1s: too young */
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].conn_leak.close_wait, 2);
	assert_int_equal(fs.items[0].conn_leak.oldest_age_ns, SEC(7));
	assert_int_equal(fs.items[0].conn_leak.youngest_age_ns, SEC(3));
	assert_non_null(strstr(fs.items[0].summary, "2 sockets"));
	findings_free(&fs);
}

static void test_old_established_no_finding(void **state)
{
	struct model *m = *state;
	struct findings fs;

	open_conn(m, PID, 1, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40000), ep4("10.0.0.5", 5432),
		  AT(0));
	compute(m, &thr, AT(100), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_close_wait_left_no_finding(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	model_conn_state(m, PID, 1, TCP_STATE_LAST_ACK, AT(2));
	close_wait(m, PID, 2, AT(1));
	model_conn_release(m, PID, 2, AT(2.9));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

/* held past the threshold at some time is a leak, however it ended */
static void test_close_wait_closed_late_still_a_finding(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	model_conn_state(m, PID, 1, TCP_STATE_LAST_ACK, AT(3.5));
	close_wait(m, PID, 2, AT(1));
	model_conn_release(m, PID, 2, AT(4));
	close_wait(m, PID, 3, AT(2));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].conn_leak.close_wait, 3);
	assert_int_equal(fs.items[0].conn_leak.still_open, 1);
	assert_int_equal(fs.items[0].conn_leak.closed_late, 2);
	assert_int_equal(fs.items[0].conn_leak.closed_at_exit, 0);
	assert_int_equal(fs.items[0].conn_leak.youngest_age_ns, 2500 * NSEC_PER_MSEC);
	assert_int_equal(fs.items[0].conn_leak.oldest_age_ns, 8 * NSEC_PER_SEC);
	assert_int_equal(fs.items[0].conn_leak.first_seen_ns, 1 * NSEC_PER_SEC);
	assert_non_null(strstr(fs.items[0].summary, "2 closed late"));
	findings_free(&fs);
}

/* the process exits with its sockets in CLOSE_WAIT: the exit closed them, the leak stays */
static void test_close_wait_closed_by_exit_still_a_finding(void **state)
{
	struct model *m = *state;
	struct proc_end end = { .known = true, .exit_status = 0 };
	struct findings fs;
	uint64_t ino;

	for (ino = 1; ino <= 5; ino++)
		close_wait(m, PID, ino, AT(1));
	model_process_exited(m, PID, AT(5), &end);
	assert_int_equal(model_process(m, PID)->open, 0);
	compute(m, &thr, AT(6), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].kind, FINDING_CONNECTION_LEAK);
	assert_int_equal(fs.items[0].conn_leak.close_wait, 5);
	assert_int_equal(fs.items[0].conn_leak.closed_at_exit, 5);
	assert_int_equal(fs.items[0].severity, SEVERITY_CRITICAL);
	assert_false(fs.items[0].raised);
	assert_non_null(strstr(fs.items[0].summary, "5 closed only as the process exited"));
	findings_free(&fs);
}

/*
 * Events were dropped: sockets in the model at exit may have closed unseen, so
 * their CLOSE_WAIT lasted only as long as they were seen held, here at 1.5 s
 * for one and 4.5 s for the other.
 */
static void test_close_wait_at_exit_after_drops_counts_to_last_seen(void **state)
{
	struct model *m = *state;
	struct findings fs;

	m->close_wait_keep_ns = 2 * NSEC_PER_SEC;
	close_wait(m, PID, 1, AT(1));
	close_wait(m, PID, 2, AT(1));
	model_conn_held(m, PID, 1, AT(1.5));
	model_conn_held(m, PID, 2, AT(4.5));
	m->ringbuf_drops = 9;
	model_process_exited(m, PID, AT(8), NULL);
	compute(m, &thr, AT(9), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].conn_leak.close_wait, 1);
	assert_int_equal(fs.items[0].conn_leak.oldest_age_ns, 3500 * NSEC_PER_MSEC);
	assert_non_null(strstr(fs.items[0].caveat, "counts may be off"));
	findings_free(&fs);
}

/* shorter than the threshold: not kept, so no finding after the exit either */
static void test_close_wait_short_then_exit_no_finding(void **state)
{
	struct model *m = *state;
	struct findings fs;

	m->close_wait_keep_ns = 2 * NSEC_PER_SEC;
	close_wait(m, PID, 1, AT(4));
	model_process_exited(m, PID, AT(5), NULL);
	assert_int_equal(m->n_close_wait_history, 0);
	compute(m, &thr, AT(6), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

/* a close whose event was lost, found at the end: never a leak */
static void test_close_wait_gone_unseen_no_finding(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	model_conn_gone(m, PID, 1);
	assert_int_equal(m->closes_unseen, 1);
	assert_int_equal(model_process(m, PID)->open, 0);
	assert_int_equal(m->n_close_wait_history, 0);
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

/* OOM-killed: its findings are raised one severity */
static void test_failed_end_raises_severity(void **state)
{
	struct model *m = *state;
	struct proc_end end = { .known = true, .exit_status = -1, .signal = 9, .oom_killed = true };
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	model_process_exited(m, PID, AT(5), &end);
	compute(m, &thr, AT(6), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].severity, SEVERITY_CRITICAL);
	assert_true(fs.items[0].raised);
	findings_free(&fs);
}

/* lost events are said on the findings they may skew */
static void test_losses_are_a_caveat(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	compute(m, &thr, AT(6), &fs);
	assert_string_equal(fs.items[0].caveat, "");
	findings_free(&fs);
	m->ringbuf_drops = 7;
	compute(m, &thr, AT(6), &fs);
	assert_non_null(strstr(fs.items[0].caveat, "lost 7 events"));
	findings_free(&fs);
	m->found_table_full = 3;
	compute(m, &thr, AT(6), &fs);
	assert_non_null(strstr(fs.items[0].caveat, "lost 10 events"));
	findings_free(&fs);
}

static void test_close_wait_below_critical_is_warning(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	close_wait(m, PID, 2, AT(1));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].conn_leak.close_wait, 2);
	assert_int_equal(fs.items[0].severity, SEVERITY_WARNING);
	findings_free(&fs);
}

static void test_close_wait_at_critical_is_critical(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	close_wait(m, PID, 2, AT(1));
	close_wait(m, PID, 3, AT(1));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].conn_leak.close_wait, 3);
	assert_int_equal(fs.items[0].severity, SEVERITY_CRITICAL);
	findings_free(&fs);
}

/* young CLOSE_WAIT sockets do not count toward the critical threshold */
static void test_young_close_wait_not_counted_for_severity(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	close_wait(m, PID, 2, AT(1));
	close_wait(m, PID, 3, AT(9.5));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].severity, SEVERITY_WARNING);
	findings_free(&fs);
}

static void test_found_at_attach_close_wait_counts_regardless_of_age(void **state)
{
	struct model *m = *state;
	const struct conn_leak_evidence *ev;
	struct findings fs;
	struct conn c = {
		.pid = PID,
		.ino = 77,
		.source = CONN_FOUND_AT_ATTACH,
		.state = TCP_STATE_CLOSE_WAIT,
		.local = ep4("10.0.0.1", 41000),
		.remote = ep4("10.0.0.5", 5432),
		.opened_ns = START_NS,
	};

	model_conn_open(m, &c);
	compute(m, &thr, AT(0.5), &fs);
	assert_int_equal(fs.len, 1);
	ev = &fs.items[0].conn_leak;
	assert_int_equal(ev->close_wait, 1);
	assert_true(ev->age_is_lower_bound);
	assert_int_equal(ev->oldest_age_ns, SEC(0.5));
	assert_int_equal(ev->n_endpoints, 1);
	assert_true(ev->endpoints[0].age_is_lower_bound);
	assert_non_null(strstr(fs.items[0].summary, "over 0.5s"));
	findings_free(&fs);
}

/* once a found socket changes state, its age in that state is known */
static void test_found_at_attach_then_close_wait_needs_age(void **state)
{
	struct model *m = *state;
	struct findings fs;
	struct conn c = {
		.pid = PID,
		.ino = 78,
		.source = CONN_FOUND_AT_ATTACH,
		.state = TCP_STATE_ESTABLISHED,
		.local = ep4("10.0.0.1", 41000),
		.remote = ep4("10.0.0.5", 5432),
		.opened_ns = START_NS,
	};

	model_conn_open(m, &c);
	model_conn_state(m, PID, 78, TCP_STATE_CLOSE_WAIT, AT(9.5));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	compute(m, &thr, AT(12), &fs);
	assert_int_equal(fs.len, 1);
	assert_false(fs.items[0].conn_leak.age_is_lower_bound);
	assert_int_equal(fs.items[0].conn_leak.oldest_age_ns, SEC(2.5));
	findings_free(&fs);
}

static const struct endpoint_evidence *find_ev(const struct conn_leak_evidence *ev, bool inbound,
					       const struct endpoint *ep)
{
	size_t i;

	for (i = 0; i < ev->n_endpoints; i++)
		if (ev->endpoints[i].inbound == inbound &&
		    !memcmp(&ev->endpoints[i].ep, ep, sizeof(*ep)))
			return &ev->endpoints[i];
	return NULL;
}

static void test_close_wait_endpoints_grouped(void **state)
{
	struct model *m = *state;
	struct endpoint db = ep4("10.0.0.5", 5432), cache = ep4("10.0.0.6", 6379);
	struct endpoint web = ep4("10.0.0.1", 8080);
	const struct conn_leak_evidence *ev;
	const struct endpoint_evidence *e;
	struct findings fs;

	close_wait_to(m, PID, 1, db, AT(0), AT(1));
	close_wait_to(m, PID, 2, db, AT(0), AT(4));
	close_wait_to(m, PID, 3, db, AT(0), AT(2));
	close_wait_to(m, PID, 4, cache, AT(0), AT(5));
	open_conn(m, PID, 5, CONN_SEEN_ACCEPT, web, ep4("10.0.0.20", 50000), AT(0));
	model_conn_state(m, PID, 5, TCP_STATE_CLOSE_WAIT, AT(3));
	open_conn(m, PID, 6, CONN_SEEN_ACCEPT, web, ep4("10.0.0.21", 50001), AT(0));
	model_conn_state(m, PID, 6, TCP_STATE_CLOSE_WAIT, AT(6));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	ev = &fs.items[0].conn_leak;
	assert_int_equal(ev->close_wait, 6);
	assert_int_equal(ev->n_endpoints, 3);
	e = find_ev(ev, false, &db);
	assert_non_null(e);
	assert_int_equal(e->count, 3);
	assert_int_equal(e->oldest_age_ns, SEC(9));
	e = find_ev(ev, false, &cache);
	assert_non_null(e);
	assert_int_equal(e->count, 1);
	assert_int_equal(e->oldest_age_ns, SEC(5));
	e = find_ev(ev, true, &web);
	assert_non_null(e);
	assert_int_equal(e->count, 2);
	assert_int_equal(e->oldest_age_ns, SEC(7));
	findings_free(&fs);
}

static void test_close_wait_endpoints_capped(void **state)
{
	struct model *m = *state;
	const struct conn_leak_evidence *ev;
	struct findings fs;
	char ip[32];
	uint32_t sum = 0;
	uint64_t i;

	for (i = 0; i < EVIDENCE_MAX_ENDPOINTS + 4; i++) {
		snprintf(ip, sizeof(ip), "10.9.0.%u", (unsigned int)i + 1);
		close_wait_to(m, PID, i + 1, ep4(ip, 443), AT(0), AT(1));
	}
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	ev = &fs.items[0].conn_leak;
	assert_int_equal(ev->close_wait, EVIDENCE_MAX_ENDPOINTS + 4);
	assert_int_equal(ev->n_endpoints, EVIDENCE_MAX_ENDPOINTS);
	for (i = 0; i < ev->n_endpoints; i++)
		sum += ev->endpoints[i].count;
	assert_int_equal(sum, EVIDENCE_MAX_ENDPOINTS);
	findings_free(&fs);
}

static void test_close_wait_finding_per_process(void **state)
{
	struct model *m = *state;
	struct findings fs;

	assert_non_null(model_add_process(m, 7000, "worker", "/usr/bin/python3"));
	open_conn(m, PID, 1, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40000), ep4("10.0.0.5", 5432),
		  AT(0));
	close_wait(m, 7000, 2, AT(1));
	close_wait(m, 7000, 3, AT(1));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].pid, 7000);
	assert_int_equal(fs.items[0].conn_leak.close_wait, 2);
	findings_free(&fs);
}

static void test_growth_steady_rise(void **state)
{
	static const uint32_t open[] = { 0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50 };
	struct model *m = *state;
	const struct conn_leak_evidence *ev;
	struct findings fs;

	series(m, PID, open, 11);
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].kind, FINDING_CONNECTION_LEAK);
	assert_int_equal(fs.items[0].severity, SEVERITY_WARNING);
	assert_int_equal(fs.items[0].pid, PID);
	assert_non_null(fs.items[0].remediation);
	ev = &fs.items[0].conn_leak;
	assert_int_equal(ev->reason, CONN_LEAK_GROWTH);
	assert_int_equal(ev->open_first, 0);
	assert_int_equal(ev->open_last, 50);
	assert_int_equal(ev->peak_open, 50);
	assert_float_equal(ev->slope_per_min, 300.0, 1e-6);
	assert_int_equal(ev->window_start_ns, 0);
	assert_int_equal(ev->window_end_ns, SEC(10));
	assert_non_null(strstr(fs.items[0].summary, "from 0 to 50"));
	findings_free(&fs);
}

/* a noisy climb still climbs */
static void test_growth_noisy_rise(void **state)
{
	static const uint32_t open[] = { 10, 14, 12, 19, 22, 21, 27, 30, 29, 35, 38, 37 };
	struct model *m = *state;
	struct findings fs;

	series(m, PID, open, 12);
	compute(m, &thr, AT(11), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].conn_leak.open_first, 10);
	assert_int_equal(fs.items[0].conn_leak.open_last, 37);
	assert_int_equal(fs.items[0].conn_leak.peak_open, 38);
	findings_free(&fs);
}

static void test_growth_then_plateau_no_finding(void **state)
{
	/* 12 samples: climbs to 64, flat over the last third */
	static const uint32_t open[] = { 0, 8, 16, 24, 32, 40, 48, 56, 64, 64, 64, 64 };
	struct model *m = *state;
	struct findings fs;

	series(m, PID, open, 12);
	compute(m, &thr, AT(11), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_growth_increase_threshold_inclusive(void **state)
{
	static const uint32_t open[] = { 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20 };
	struct model *m = *state;
	struct finding_thresholds t = thr;
	struct findings fs;

	series(m, PID, open, 11);
	compute(m, &t, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	findings_free(&fs);
	t.growth_min_increase = 21;
	compute(m, &t, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_growth_window_too_short_no_finding(void **state)
{
	static const uint32_t open[] = { 0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50 };
	struct model *m = *state;
	struct finding_thresholds t = thr;
	struct findings fs;

	series(m, PID, open, 11);
	t.growth_min_window_s = 10.5;
	compute(m, &t, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	t.growth_min_window_s = 10.0;
	compute(m, &t, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	findings_free(&fs);
}

static void test_growth_needs_six_samples(void **state)
{
	static const uint32_t open[] = { 0, 10, 20, 30, 40, 50 };
	struct model *m = *state;
	struct finding_thresholds t = thr;
	struct findings fs;

	t.growth_min_window_s = 1;
	series(m, PID, open, 5);
	compute(m, &t, AT(4), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	hold(m, PID, open[5], AT(5) - 1);
	model_sample(m, AT(5));
	compute(m, &t, AT(5), &fs);
	assert_int_equal(fs.len, 1);
	findings_free(&fs);
}

static void test_growth_flat_high_no_finding(void **state)
{
	static const uint32_t open[] = { 60, 60, 60, 60, 60, 60, 60, 60, 60, 60 };
	struct model *m = *state;
	struct findings fs;

	series(m, PID, open, 10);
	compute(m, &thr, AT(9), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_findings_sorted_most_severe_first(void **state)
{
	static const uint32_t open[] = { 0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50 };
	struct model *m = *state;
	struct findings fs;
	size_t i;

	/* PID: growth (warning); 300: 1 CLOSE_WAIT (warning); 200: 3 (critical) */
	assert_non_null(model_add_process(m, 300, "c", "/c"));
	assert_non_null(model_add_process(m, 200, "b", "/b"));
	close_wait(m, 300, 1, AT(1));
	close_wait(m, 200, 2, AT(1));
	close_wait(m, 200, 3, AT(1));
	close_wait(m, 200, 4, AT(1));
	series(m, PID, open, 11);
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 3);
	assert_int_equal(fs.items[0].severity, SEVERITY_CRITICAL);
	assert_int_equal(fs.items[0].pid, 200);
	assert_int_equal(fs.items[0].conn_leak.reason, CONN_LEAK_CLOSE_WAIT);
	for (i = 1; i < fs.len; i++)
		assert_true(fs.items[i - 1].severity >= fs.items[i].severity);
	/* equal severity: by pid */
	assert_int_equal(fs.items[1].pid, 300);
	assert_int_equal(fs.items[1].conn_leak.reason, CONN_LEAK_CLOSE_WAIT);
	assert_int_equal(fs.items[2].pid, PID);
	assert_int_equal(fs.items[2].conn_leak.reason, CONN_LEAK_GROWTH);
	assert_int_equal(fs.items[2].severity, SEVERITY_WARNING);
	findings_free(&fs);
}

static void test_findings_free_resets(void **state)
{
	struct model *m = *state;
	struct findings fs;

	close_wait(m, PID, 1, AT(1));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_non_null(fs.items);
	findings_free(&fs);
	assert_null(fs.items);
	assert_int_equal(fs.len, 0);
	assert_int_equal(fs.cap, 0);
}

/* more findings than the first allocation */
static void test_many_processes_many_findings(void **state)
{
	struct model *m = *state;
	struct findings fs;
	pid_t pid;
	size_t i;

	for (pid = 10; pid < 30; pid++) {
		assert_non_null(model_add_process(m, pid, "w", "/w"));
		close_wait(m, pid, 1, AT(1));
	}
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 20);
	for (i = 0; i < fs.len; i++)
		assert_int_equal(fs.items[i].pid, 10 + (pid_t)i);
	findings_free(&fs);
}

/* --- per-site findings: unbounded fan-out and task leaks --- */

#define TID2 (PID + 1)

static const struct task_origin FETCH = {
	"/srv/app/client.py", 42, "fetch_all", "fetch", PID, 0, NULL, false, 0, 0 };
static const struct task_origin FETCH2 = {
	"/srv/app/client.py", 43, "fetch_all", "fetch", PID, 0, NULL, false, 0, 0 };
static const struct task_origin FETCH_T2 = {
	"/srv/app/client.py", 42, "fetch_all", "fetch", TID2, 0, NULL, false, 0, 0 };
static const struct task_origin LOAD = {
	"/srv/app/cache.py", 57, "warm", "load", PID, 0, NULL, false, 0, 0 };
static const struct task_origin RUN = {
	"/srv/app/main.py", 10, "main", "run", PID, 0, NULL, false, 0, 0 };

/* Tasks from one origin: created in order, seen done oldest first. */
struct crowd {
	pid_t pid;
	const struct task_origin *o;
	uint64_t base;		/* the address of its first task */
	uint64_t parent;	/* the task that creates them, or 0 */
	uint64_t next, first_live;
};

/* a crowd of pid, its task addresses in a block of its own */
#define CROWD(origin, block) \
	{ .pid = PID, .o = (origin), .base = 0x7f0000000000ull + ((uint64_t)(block) << 28) }

static uint64_t crowd_task(const struct crowd *c, uint64_t i)
{
	return c->base + i * 0x100;
}

static uint32_t crowd_live(const struct crowd *c)
{
	return (uint32_t)(c->next - c->first_live);
}

/* Creates tasks of c, or sees its oldest done, until exactly n are in flight. */
static void crowd_hold(struct model *m, struct crowd *c, uint32_t n, uint64_t ts)
{
	while (crowd_live(c) < n) {
		model_task_created(m, c->pid, crowd_task(c, c->next), c->o, c->parent, ts);
		c->next++;
	}
	while (crowd_live(c) > n) {
		model_task_done(m, c->pid, crowd_task(c, c->first_live), 2, ts);
		c->first_live++;
	}
}

/* An outbound connection to remote opened at ts by the task at addr; its ino. */
static uint64_t task_conn(struct model *m, pid_t pid, uint64_t addr, struct endpoint remote,
			  uint64_t ts)
{
	static uint64_t next_ino = 5000000;
	uint64_t ino = next_ino++;

	open_conn(m, pid, ino, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40000), remote, ts);
	model_conn_task(m, pid, ino, addr);
	return ino;
}

/* tasks more tasks of c at ts, the first conns of them opening a connection each; then a poll */
static void fan_out(struct model *m, struct crowd *c, uint32_t tasks, uint32_t conns,
		    struct endpoint remote, uint64_t ts)
{
	uint64_t first = c->next;
	uint32_t i;

	assert_true(conns <= tasks);
	crowd_hold(m, c, crowd_live(c) + tasks, ts);
	for (i = 0; i < conns; i++)
		task_conn(m, c->pid, crowd_task(c, first + i), remote, ts);
	model_tasks_refreshed(m, ts);
}

/* The index of the site of o in pid, which must exist. */
static int site_of(const struct model *m, pid_t pid, const struct task_origin *o)
{
	const struct task_site *s;
	size_t i;

	for (i = 0; i < m->n_sites; i++) {
		s = &m->sites[i];
		if (s->pid == pid && s->tid == o->tid && s->line == o->line &&
		    s->sampled_site == o->sampled && s->loop == o->loop &&
		    !strcmp(s->file, o->file) && !strcmp(s->coroutine, o->coroutine))
			return (int)i;
	}
	fail_msg("no site %s:%d tid %d", o->file, o->line, o->tid);
	return -1;
}

/* The one finding of kind at site (a task leak: for reason), or NULL. */
static const struct finding *finding_at(const struct findings *fs, enum finding_kind kind,
					int site, enum task_leak_reason reason)
{
	const struct finding *found = NULL;
	size_t i;

	for (i = 0; i < fs->len; i++) {
		if (fs->items[i].kind != kind || fs->items[i].site != site ||
		    (kind == FINDING_TASK_LEAK && fs->items[i].task_leak.reason != reason))
			continue;
		assert_null(found);
		found = &fs->items[i];
	}
	return found;
}

static const struct finding *fanout_at(const struct findings *fs, int site)
{
	return finding_at(fs, FINDING_UNBOUNDED_FANOUT, site, 0);
}

static void test_task_finding_names(void **state)
{
	assert_string_equal(finding_kind_name(FINDING_UNBOUNDED_FANOUT), "unbounded-fanout");
	assert_string_equal(finding_kind_name(FINDING_TASK_LEAK), "task-leak");
	assert_string_equal(task_leak_reason_name(TASK_LEAK_DESTROYED_PENDING),
			    "destroyed_pending");
	assert_string_equal(task_leak_reason_name(TASK_LEAK_STUCK), "stuck");
	assert_string_equal(task_leak_reason_name(TASK_LEAK_GROWTH), "growth");
}

/* the defaults docs/report-schema.md gives */
static void test_default_task_thresholds(void **state)
{
	assert_int_equal(default_thresholds.fanout_min_tasks, 100);
	assert_int_equal(default_thresholds.fanout_min_conns, 50);
	assert_int_equal(default_thresholds.fanout_memory_tasks, 10000);
	assert_float_equal(default_thresholds.stuck_min_age_s, 30.0, 1e-9);
	assert_float_equal(default_thresholds.stuck_lifetime_factor, 10.0, 1e-9);
	assert_int_equal(default_thresholds.task_growth_min_increase, 50);
}

static void test_fanout_at_thresholds(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	const struct fanout_evidence *ev;
	const struct finding *f;
	struct findings fs;

	fan_out(m, &c, 100, 50, ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 1);
	f = &fs.items[0];
	assert_int_equal(f->kind, FINDING_UNBOUNDED_FANOUT);
	assert_int_equal(f->severity, SEVERITY_WARNING);
	assert_int_equal(f->pid, PID);
	assert_int_equal(f->site, site_of(m, PID, &FETCH));
	assert_non_null(f->remediation);
	assert_non_null(strstr(f->remediation, "Semaphore"));
	assert_non_null(strstr(f->summary, "100 fetch tasks in flight at once"));
	assert_non_null(strstr(f->summary, "holding 50 connections"));
	ev = &f->fanout;
	assert_int_equal(ev->created, 100);
	assert_int_equal(ev->peak_in_flight, 100);
	assert_int_equal(ev->conns_opened, 50);
	assert_int_equal(ev->peak_conns_open, 50);
	assert_int_equal(ev->parent_site, -1);
	findings_free(&fs);
}

static void test_fanout_one_task_below_no_finding(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	struct findings fs;

	fan_out(m, &c, 99, 50, ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	/* the 100th task, connection-less, makes it one */
	fan_out(m, &c, 1, 0, ep4("10.0.0.5", 5432), AT(1.5));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].kind, FINDING_UNBOUNDED_FANOUT);
	findings_free(&fs);
}

static void test_fanout_one_connection_below_no_finding(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	struct findings fs;

	fan_out(m, &c, 100, 49, ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	/* a task without a connection opens one: 50 held at once */
	task_conn(m, PID, crowd_task(&c, 99), ep4("10.0.0.5", 5432), AT(1.5));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].fanout.peak_conns_open, 50);
	findings_free(&fs);
}

/* the peak is taken at the polls: tasks never seen by one do not count */
static void test_fanout_peak_taken_at_poll(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	struct findings fs;
	uint32_t i;

	crowd_hold(m, &c, 100, AT(1));
	for (i = 0; i < 100; i++)
		task_conn(m, PID, crowd_task(&c, i), ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	model_tasks_refreshed(m, AT(1.1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 1);
	findings_free(&fs);
}

/* connections held must be at least half the tasks in flight */
static void test_fanout_needs_half_as_many_connections(void **state)
{
	struct model *m = *state;
	struct crowd half = CROWD(&FETCH, 1), under = CROWD(&FETCH2, 2);
	struct findings fs;

	fan_out(m, &half, 200, 100, ep4("10.0.0.5", 5432), AT(1));
	fan_out(m, &under, 201, 100, ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].site, site_of(m, PID, &FETCH));
	assert_int_equal(fs.items[0].fanout.peak_in_flight, 200);
	assert_int_equal(fs.items[0].fanout.peak_conns_open, 100);
	assert_non_null(strstr(fs.items[0].remediation, "Semaphore"));
	findings_free(&fs);
	/* one more connection: 101 * 2 >= 201 */
	task_conn(m, PID, crowd_task(&under, 200), ep4("10.0.0.5", 5432), AT(1.5));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 2);
	assert_non_null(fanout_at(&fs, site_of(m, PID, &FETCH2)));
	findings_free(&fs);
}

/* what the caps on sites, the code cache and a snapshot left out is said on task findings */
static void test_capped_tables_are_a_caveat(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	struct findings fs;

	fan_out(m, &c, 100, 50, ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_string_equal(fs.items[0].caveat, "");
	findings_free(&fs);
	m->site_table_full = 2;
	m->code_cache_full = 3;
	m->tasks_at_attach_left_out = 4;
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.items[0].kind, FINDING_UNBOUNDED_FANOUT);
	assert_non_null(strstr(fs.items[0].caveat, "lost 9 events or records"));
	assert_non_null(strstr(fs.items[0].caveat, "cache full"));
	findings_free(&fs);
}

/* a Semaphore(16) in front of 300 tasks: many tasks, few connections at once */
static void test_fanout_bounded_pattern_no_finding(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	const struct task_site *s;
	struct findings fs;
	uint64_t inos[300];
	uint32_t i;

	crowd_hold(m, &c, 300, AT(1));
	model_tasks_refreshed(m, AT(1));
	for (i = 0; i < 300; i++) {
		if (i >= 16)
			model_conn_release(m, PID, inos[i - 16], AT(1) + i * NSEC_PER_MSEC);
		inos[i] = task_conn(m, PID, crowd_task(&c, i), ep4("10.0.0.5", 5432),
				    AT(1) + i * NSEC_PER_MSEC);
		model_tasks_refreshed(m, AT(1) + i * NSEC_PER_MSEC);
	}
	s = &m->sites[site_of(m, PID, &FETCH)];
	assert_int_equal(s->peak_in_flight, 300);
	assert_int_equal(s->peak_conns_open, 16);
	assert_int_equal(s->conns_opened, 300);
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_fanout_memory_only_at_memory_tasks(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	const struct finding *f;
	struct findings fs;

	fan_out(m, &c, 9999, 0, ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	fan_out(m, &c, 1, 0, ep4("10.0.0.5", 5432), AT(1.5));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 1);
	f = &fs.items[0];
	assert_int_equal(f->kind, FINDING_UNBOUNDED_FANOUT);
	assert_int_equal(f->severity, SEVERITY_WARNING);
	assert_int_equal(f->site, site_of(m, PID, &FETCH));
	assert_int_equal(f->fanout.peak_in_flight, 10000);
	assert_int_equal(f->fanout.peak_conns_open, 0);
	assert_int_equal(f->fanout.n_endpoints, 0);
	assert_non_null(f->remediation);
	assert_null(strstr(f->remediation, "Semaphore"));
	assert_non_null(strstr(f->remediation, "batches"));
	assert_non_null(strstr(f->summary, "10000 fetch tasks in flight at once"));
	findings_free(&fs);
}

/* many connections, but fewer than half the tasks: judged on the task count, never critical */
static void test_fanout_memory_only_never_critical(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	struct findings fs;

	fan_out(m, &c, 20000, 600, ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].kind, FINDING_UNBOUNDED_FANOUT);
	assert_int_equal(fs.items[0].severity, SEVERITY_WARNING);
	assert_int_equal(fs.items[0].fanout.peak_conns_open, 600);
	assert_non_null(strstr(fs.items[0].remediation, "batches"));
	findings_free(&fs);
}

static void test_fanout_critical_at_ten_times_min_conns(void **state)
{
	struct model *m = *state;
	struct crowd at = CROWD(&FETCH, 1), below = CROWD(&FETCH2, 2);
	struct findings fs;

	fan_out(m, &at, 500, 500, ep4("10.0.0.5", 5432), AT(1));
	fan_out(m, &below, 500, 499, ep4("10.0.0.5", 5432), AT(1));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 2);
	assert_int_equal(fs.items[0].site, site_of(m, PID, &FETCH));
	assert_int_equal(fs.items[0].severity, SEVERITY_CRITICAL);
	assert_int_equal(fs.items[1].site, site_of(m, PID, &FETCH2));
	assert_int_equal(fs.items[1].severity, SEVERITY_WARNING);
	findings_free(&fs);
}

static void test_fanout_evidence(void **state)
{
	struct model *m = *state;
	struct crowd run = CROWD(&RUN, 1), fetch = CROWD(&FETCH, 2);
	struct endpoint db = ep4("10.0.0.5", 5432), cache = ep4("10.0.0.6", 6379);
	const struct fanout_evidence *ev;
	const struct finding *f;
	struct findings fs;
	uint64_t inos[20];
	uint32_t i;

	crowd_hold(m, &run, 1, AT(0));
	fetch.parent = crowd_task(&run, 0);
	/* a first wave of 20, each with a connection to the database, over by AT(2) */
	crowd_hold(m, &fetch, 20, AT(1));
	for (i = 0; i < 20; i++)
		inos[i] = task_conn(m, PID, crowd_task(&fetch, i), db, AT(1));
	model_tasks_refreshed(m, AT(1));
	for (i = 0; i < 20; i++)
		model_conn_release(m, PID, inos[i], AT(2));
	crowd_hold(m, &fetch, 0, AT(2));
	/* then 100 at once: 60 to the database, 40 to the cache */
	crowd_hold(m, &fetch, 100, AT(3));
	for (i = 0; i < 100; i++)
		task_conn(m, PID, crowd_task(&fetch, 20 + i), i < 60 ? db : cache, AT(3));
	model_tasks_refreshed(m, AT(3));
	compute(m, &thr, AT(4), &fs);
	assert_int_equal(fs.len, 1);
	f = fanout_at(&fs, site_of(m, PID, &FETCH));
	assert_non_null(f);
	ev = &f->fanout;
	assert_int_equal(ev->created, 120);
	assert_int_equal(ev->peak_in_flight, 100);
	assert_int_equal(ev->conns_opened, 120);
	assert_int_equal(ev->peak_conns_open, 100);
	assert_int_equal(ev->n_endpoints, 2);
	assert_memory_equal(&ev->endpoints[0].ep, &db, sizeof(db));
	assert_int_equal(ev->endpoints[0].opened, 80);
	assert_int_equal(ev->endpoints[0].peak_open, 60);
	assert_memory_equal(&ev->endpoints[1].ep, &cache, sizeof(cache));
	assert_int_equal(ev->endpoints[1].opened, 40);
	assert_int_equal(ev->endpoints[1].peak_open, 40);
	/* the site it ran inside */
	assert_int_equal(ev->parent_site, site_of(m, PID, &RUN));
	assert_int_not_equal(ev->parent_site, f->site);
	findings_free(&fs);
}

static void test_destroyed_pending_per_site(void **state)
{
	struct model *m = *state;
	struct crowd fetch = CROWD(&FETCH, 1), load = CROWD(&LOAD, 2), run = CROWD(&RUN, 3);
	const struct finding *f;
	struct findings fs;

	crowd_hold(m, &fetch, 4, AT(1));
	crowd_hold(m, &load, 2, AT(1));
	crowd_hold(m, &run, 1, AT(1));
	model_task_destroyed(m, PID, crowd_task(&fetch, 0), 0, AT(2));
	model_task_destroyed(m, PID, crowd_task(&fetch, 1), 0, AT(2));
	model_task_destroyed(m, PID, crowd_task(&fetch, 2), 0, AT(2));
	model_task_destroyed(m, PID, crowd_task(&fetch, 3), 2, AT(2));	/* finished */
	model_task_destroyed(m, PID, crowd_task(&load, 0), 0, AT(2));
	model_task_destroyed(m, PID, crowd_task(&run, 0), 1, AT(2));	/* cancelled */
	compute(m, &thr, AT(3), &fs);
	assert_int_equal(fs.len, 2);
	f = finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &FETCH),
		       TASK_LEAK_DESTROYED_PENDING);
	assert_non_null(f);
	assert_int_equal(f->severity, SEVERITY_WARNING);
	assert_int_equal(f->pid, PID);
	assert_int_equal(f->task_leak.destroyed_pending, 3);
	assert_non_null(f->remediation);
	assert_non_null(strstr(f->remediation, "reference"));
	assert_non_null(strstr(f->summary, "3 fetch tasks were destroyed while still pending"));
	f = finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &LOAD), TASK_LEAK_DESTROYED_PENDING);
	assert_non_null(f);
	assert_int_equal(f->task_leak.destroyed_pending, 1);
	assert_non_null(strstr(f->summary, "1 load task was destroyed"));
	assert_null(finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &RUN),
			       TASK_LEAK_DESTROYED_PENDING));
	findings_free(&fs);
}

/* counted for the process, but with no site there is nothing to point at */
static void test_destroyed_pending_without_site_no_finding(void **state)
{
	struct model *m = *state;
	static const struct task_origin unknown = {
		NULL, 0, NULL, NULL, PID, 0, NULL, false, 0, 0 };
	struct crowd c = CROWD(&unknown, 1);
	struct findings fs;

	crowd_hold(m, &c, 1, AT(1));
	model_task_destroyed(m, PID, crowd_task(&c, 0), 0, AT(2));
	compute(m, &thr, AT(3), &fs);
	assert_int_equal(model_process(m, PID)->tasks_destroyed_pending, 1);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

/*
 * --sampled: tasks first read from memory are counted created at a site of
 * their own, one per event loop, apart from a created site at the same line;
 * their finding says its line is where they were seen.
 */
static void test_sampled_tasks_have_seen_sites(void **state)
{
	struct model *m = *state;
	struct task_origin loop1 = FETCH, loop2 = FETCH;
	const struct task_site *s;
	struct findings fs;
	uint64_t i;

	m->mode = TRACE_MODE_SAMPLED;
	loop1.tid = loop2.tid = 0;
	loop1.sampled = loop2.sampled = true;
	loop1.loop = 0x7000;
	loop2.loop = 0x8000;
	for (i = 0; i < 3; i++) {
		model_task_sampled(m, PID, 0x1000 + i * 0x100, &loop1, 0, AT(1));
		model_task_sampled(m, PID, 0x2000 + i * 0x100, &loop2, 0, AT(1));
	}
	model_task_sampled(m, PID, 0x1000, &loop1, 0, AT(1));	/* read again: the same task */
	model_task_created(m, PID, 0x9000, &FETCH, 0, AT(1));
	assert_int_equal(m->n_sites, 3);
	assert_int_equal(model_process(m, PID)->tasks_created, 7);
	s = &m->sites[site_of(m, PID, &loop1)];
	assert_true(s->sampled_site);
	assert_int_equal(s->loop, 0x7000);
	assert_int_equal(s->created, 3);
	assert_int_equal(s->at_attach, 0);
	assert_false(m->sites[site_of(m, PID, &FETCH)].sampled_site);
	for (i = 0; i < 3; i++)
		model_task_destroyed(m, PID, 0x1000 + i * 0x100, 0, AT(2));
	compute(m, &thr, AT(3), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].site, site_of(m, PID, &loop1));
	assert_non_null(strstr(fs.items[0].caveat, "where these tasks were seen"));
	findings_free(&fs);
}

/* --sampled: a task read at the address of one the model holds, named otherwise, is a new one */
static void test_sampled_address_reused_between_reads(void **state)
{
	struct model *m = *state;
	struct task_origin o = FETCH;
	const struct task_site *s;

	m->mode = TRACE_MODE_SAMPLED;
	o.tid = 0;
	o.sampled = true;
	o.identity = 11;
	model_task_sampled(m, PID, 0x5000, &o, 0, AT(1));
	model_task_sampled(m, PID, 0x5000, &o, 0, AT(1.1));	/* the same task, read again */
	o.identity = 12;
	model_task_sampled(m, PID, 0x5000, &o, 0, AT(1.2));
	s = &m->sites[site_of(m, PID, &o)];
	assert_int_equal(s->created, 2);
	assert_int_equal(s->finished, 1);
	assert_int_equal(s->in_flight, 1);
	assert_int_equal(s->lifetimes.count, 1);
}

/* --sampled: a connection whose task no read showed goes to the line that opened it */
static void test_sampled_connection_of_an_unseen_task(void **state)
{
	struct model *m = *state;
	struct task_origin opened_at = LOAD;
	const struct task_site *s;

	m->mode = TRACE_MODE_SAMPLED;
	opened_at.tid = 0;
	opened_at.sampled = true;
	model_conn_opened_at(m, PID, 77, &opened_at);
	open_conn(m, PID, 77, CONN_SEEN_CONNECT, ep4("10.0.0.1", 40000), ep4("10.0.0.2", 80), AT(1));
	s = &m->sites[site_of(m, PID, &opened_at)];
	assert_true(s->sampled_site);
	assert_int_equal(s->conns_opened, 1);
	assert_int_equal(s->conns_open, 1);
	assert_int_equal(model_find_conn(m, PID, 77)->site, site_of(m, PID, &opened_at));
}

/* A pending task of a sampled read, waiting at o's line, numbered serial. */
static struct snapshot_task read_task(const struct task_origin *o, uint64_t addr, uint64_t serial,
				      uint64_t born_after_ns)
{
	struct snapshot_task t = { .addr = addr, .coro = addr + 0x40, .loop = 0x7000,
				   .coroutine = o->coroutine, .socket_fd = -1, .state = SNAP_PENDING,
				   .serial = serial, .born_after_ns = born_after_ns, .n_frames = 1 };

	snprintf(t.name, sizeof(t.name), "Task-%llu", (unsigned long long)serial);
	t.frames[0] = (struct snapshot_frame){ o->file, o->function, o->line };
	return t;
}

/*
 * One read showed fetch tasks 10, 20 and 30 first, all three created since
 * the read at AT(0.5); of the numbers between them, 12 is a pending task of
 * the registry and 15 a finished one: 10 to 20 leaves 8 tasks that ended
 * unseen (15 among them), 20 to 30 leaves 9. An entry with no number might
 * hold one of them: each such entry counts one fewer.
 */
static void read_fetch_tasks(struct model *m, size_t unnumbered, uint64_t other_loop)
{
	uint64_t serials[] = { 10, 12, 15, 20, 30 };
	struct snapshot_task tasks[5];
	struct task_snapshot s = { .pid = PID, .tasks = tasks, .n_tasks = 5, .serials = serials,
				   .n_serials = 5, .unnumbered = unnumbered };
	struct python_target py = { .pid = PID };
	struct task_sampler *sampler = task_sampler_new(&py);

	assert_non_null(sampler);
	tasks[0] = read_task(&FETCH, 0x1000, 10, AT(0.5));
	tasks[1] = read_task(&FETCH, 0x2000, 15, AT(0.5));
	tasks[1].state = SNAP_FINISHED;
	tasks[2] = read_task(&FETCH, 0x3000, 20, AT(0.5));
	tasks[3] = read_task(&FETCH, 0x4000, 30, AT(0.5));
	/* moved on while read: its two reads of its name disagreed, so it has no number */
	tasks[4] = read_task(&FETCH, 0x5000, 90000, 0);
	tasks[4].serial = 0;
	tasks[4].flags = SNAP_CHANGED;
	tasks[4].loop = other_loop ? other_loop : tasks[4].loop;
	m->mode = TRACE_MODE_SAMPLED;
	adopt_sampled_snapshot(m, &s, AT(1), sampler);
	task_sampler_free(sampler);
}

static struct task_origin seen_fetch(void)
{
	struct task_origin o = FETCH;

	o.tid = 0;
	o.sampled = true;
	o.loop = 0x7000;
	return o;
}

/* --sampled: tasks numbered between a site's own and gone by the read are its short ones */
static void test_sampled_short_unseen_counted_between(void **state)
{
	struct model *m = *state;
	struct task_origin o = seen_fetch();
	const struct task_site *s;

	read_fetch_tasks(m, 0, 0);
	s = &m->sites[site_of(m, PID, &o)];
	assert_int_equal(s->in_flight, 4);
	assert_int_equal(s->short_unseen, 17);
	assert_int_equal(s->short_unseen_within_ns, SEC(0.5));
}

static void test_sampled_short_unseen_less_unnumbered(void **state)
{
	struct model *m = *state;
	struct task_origin o = seen_fetch();

	read_fetch_tasks(m, 5, 0);
	assert_int_equal(m->sites[site_of(m, PID, &o)].short_unseen, 12);
}

/* two event loops number their tasks from one counter: nothing is counted */
static void test_sampled_short_unseen_not_across_loops(void **state)
{
	struct model *m = *state;
	struct task_origin o = seen_fetch();

	read_fetch_tasks(m, 0, 0x8000);
	assert_int_equal(m->sites[site_of(m, PID, &o)].short_unseen, 0);
}

/*
 * --sampled: 3 fetch tasks pending 39s, 17 short ones counted unseen (each
 * lived under 0.5s): stuck, at 30s, and the caveat says on what.
 */
static void test_sampled_stuck_from_short_unseen(void **state)
{
	struct model *m = *state;
	struct task_origin o = seen_fetch();
	struct finding_thresholds t = thr;
	const struct finding *f;
	struct findings fs;

	read_fetch_tasks(m, 0, 0);
	model_task_done(m, PID, 0x5000, SNAP_FINISHED, AT(1.2));
	compute(m, &t, AT(40), &fs);
	f = finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &o), TASK_LEAK_STUCK);
	assert_non_null(f);
	assert_int_equal(f->task_leak.stuck, 3);
	assert_int_equal(f->task_leak.short_unseen, 17);
	assert_int_equal(f->task_leak.short_unseen_within_ns, SEC(0.5));
	assert_int_equal(f->task_leak.usual_lifetime_ns, SEC(0.5));
	assert_non_null(strstr(f->caveat, "judged against the finished fetch tasks"));
	assert_non_null(strstr(f->caveat, "a weaker inference: 17 of those finished tasks"));
	findings_free(&fs);
	/* unseen tasks that may have lived 5s: 10 times that is 50s, more than 39s */
	m->sites[site_of(m, PID, &o)].short_unseen_within_ns = SEC(5);
	compute(m, &t, AT(40), &fs);
	assert_null(finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &o), TASK_LEAK_STUCK));
	findings_free(&fs);
	/* fewer than ten finished tasks: no usual lifetime */
	m->sites[site_of(m, PID, &o)].short_unseen_within_ns = SEC(0.5);
	m->sites[site_of(m, PID, &o)].short_unseen = 8;
	compute(m, &t, AT(40), &fs);
	assert_null(finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &o), TASK_LEAK_STUCK));
	findings_free(&fs);
}

/*
 * --sampled: fetch tasks seen finishing at one line count for those pending
 * at another (where a read first showed them); not a probed site's, nor
 * another loop's.
 */
static void test_sampled_stuck_judged_per_coroutine(void **state)
{
	struct model *m = *state;
	struct task_origin waits = seen_fetch(), sleeps = seen_fetch(), other_loop = seen_fetch();
	struct findings fs;
	uint64_t i;

	m->mode = TRACE_MODE_SAMPLED;
	sleeps.line = 43;
	other_loop.loop = 0x8000;
	for (i = 0; i < 10; i++) {
		model_task_sampled(m, PID, 0x1000 + i * 0x100, &sleeps, 0, AT(1));
		model_task_done(m, PID, 0x1000 + i * 0x100, SNAP_FINISHED, AT(1.1));
	}
	model_task_sampled(m, PID, 0x9000, &waits, 0, AT(1));
	model_task_sampled(m, PID, 0xa000, &other_loop, 0, AT(1));
	model_task_created(m, PID, 0xb000, &FETCH, 0, AT(1));
	compute(m, &thr, AT(40), &fs);
	assert_int_equal(fs.len, 1);
	assert_non_null(finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &waits), TASK_LEAK_STUCK));
	assert_non_null(strstr(fs.items[0].summary, "far longer than its coroutine's tasks"));
	findings_free(&fs);
}

/* n tasks of c created at AT(0) and seen done lifetime_s later */
static void finished(struct model *m, struct crowd *c, uint32_t n, double lifetime_s)
{
	crowd_hold(m, c, n, AT(0));
	crowd_hold(m, c, 0, AT(0) + SEC(lifetime_s));
}

static const struct finding *stuck_at(const struct findings *fs, const struct model *m,
				      const struct task_origin *o)
{
	return finding_at(fs, FINDING_TASK_LEAK, site_of(m, PID, o), TASK_LEAK_STUCK);
}

static void test_stuck_needs_ten_finished(void **state)
{
	struct model *m = *state;
	struct crowd quick = CROWD(&FETCH, 1), slow = CROWD(&FETCH, 2);
	struct findings fs;

	crowd_hold(m, &slow, 1, AT(0));
	crowd_hold(m, &quick, 10, AT(0));
	crowd_hold(m, &quick, 1, AT(0.1));
	compute(m, &thr, AT(100), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	crowd_hold(m, &quick, 0, AT(0.1));
	compute(m, &thr, AT(100), &fs);
	assert_int_equal(fs.len, 1);
	assert_non_null(stuck_at(&fs, m, &FETCH));
	assert_int_equal(fs.items[0].task_leak.stuck, 1);
	findings_free(&fs);
}

/* tasks living 0.1s: 10 times that is 1s, below the least age of 30s */
static void test_stuck_at_least_min_age(void **state)
{
	struct model *m = *state;
	struct crowd quick = CROWD(&FETCH, 1);
	struct findings fs;
	const struct finding *f;

	finished(m, &quick, 10, 0.1);
	model_task_created(m, PID, 0x1000, &FETCH, 0, AT(10));		/* 30s at AT(40) */
	model_task_created(m, PID, 0x2000, &FETCH, 0, AT(10) + 1);	/* 1ns younger */
	model_task_created(m, PID, 0x3000, &FETCH, 0, AT(20));		/* 20s: over 10 x 0.1s */
	compute(m, &thr, AT(40), &fs);
	assert_int_equal(fs.len, 1);
	f = stuck_at(&fs, m, &FETCH);
	assert_non_null(f);
	assert_int_equal(f->kind, FINDING_TASK_LEAK);
	assert_int_equal(f->severity, SEVERITY_WARNING);
	assert_int_equal(f->pid, PID);
	assert_int_equal(f->task_leak.reason, TASK_LEAK_STUCK);
	assert_int_equal(f->task_leak.stuck, 1);
	assert_int_equal(f->task_leak.oldest_age_ns, SEC(30));
	assert_int_equal(f->task_leak.usual_lifetime_ns, SEC(0.1));
	assert_non_null(f->remediation);
	assert_non_null(strstr(f->remediation, "timeout"));
	assert_non_null(strstr(f->summary, "1 fetch task pending for 30.0s or more"));
	findings_free(&fs);
}

/* tasks living 5s: a stuck one is 10 x 5s = 50s old, more than the least age */
/* a factor so large its product passes 2^64 ns: nothing is ever old enough (not: everything is) */
static void test_stuck_with_a_huge_factor_is_never(void **state)
{
	struct model *m = *state;
	struct crowd quick = CROWD(&FETCH, 1);
	struct finding_thresholds huge = thr;
	struct findings fs;

	huge.stuck_lifetime_factor = 1e9;
	finished(m, &quick, 10, 100);
	model_task_created(m, PID, 0x1000, &FETCH, 0, AT(10));
	compute(m, &huge, AT(4000), &fs);
	assert_null(stuck_at(&fs, m, &FETCH));
	findings_free(&fs);
}

static void test_stuck_scales_with_usual_lifetime(void **state)
{
	struct model *m = *state;
	struct crowd quick = CROWD(&FETCH, 1);
	struct finding_thresholds t = thr;
	struct findings fs;
	const struct finding *f;

	finished(m, &quick, 10, 5);
	model_task_created(m, PID, 0x1000, &FETCH, 0, AT(40));		/* 60s at AT(100) */
	model_task_created(m, PID, 0x2000, &FETCH, 0, AT(50));		/* 50s */
	model_task_created(m, PID, 0x3000, &FETCH, 0, AT(50) + 1);	/* 1ns short of 50s */
	model_task_created(m, PID, 0x4000, &FETCH, 0, AT(65));		/* 35s: over 30s */
	compute(m, &t, AT(100), &fs);
	assert_int_equal(fs.len, 1);
	f = stuck_at(&fs, m, &FETCH);
	assert_non_null(f);
	assert_int_equal(f->task_leak.stuck, 2);
	assert_int_equal(f->task_leak.oldest_age_ns, SEC(60));
	assert_int_equal(f->task_leak.usual_lifetime_ns, SEC(5));
	assert_non_null(strstr(f->summary, "2 fetch tasks pending for 50.0s or more"));
	findings_free(&fs);
	t.stuck_lifetime_factor = 12;	/* 60s */
	compute(m, &t, AT(100), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].task_leak.stuck, 1);
	findings_free(&fs);
}

/* a long-lived worker is not stuck, however low the thresholds */
static void test_stuck_site_without_finished_tasks_never_stuck(void **state)
{
	struct model *m = *state;
	struct crowd worker = CROWD(&RUN, 1), quick = CROWD(&FETCH, 2), slow = CROWD(&FETCH, 3);
	struct finding_thresholds t = thr;
	struct findings fs;

	t.stuck_min_age_s = 0;
	t.stuck_lifetime_factor = 0;
	crowd_hold(m, &worker, 3, AT(0));
	finished(m, &quick, 10, 0.1);
	crowd_hold(m, &slow, 1, AT(0));
	compute(m, &t, AT(1000), &fs);
	assert_int_equal(fs.len, 1);
	assert_non_null(stuck_at(&fs, m, &FETCH));
	assert_null(stuck_at(&fs, m, &RUN));
	findings_free(&fs);
}

/*
 * One sample a second from AT(first): c's site has in_flight[i] tasks in
 * flight at sample i, the last one model_finish's. Polls before each sample.
 */
static void task_series(struct model *m, struct crowd *c, double first, const uint32_t *in_flight,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		crowd_hold(m, c, in_flight[i], AT(first + i) - 1);
		model_tasks_refreshed(m, AT(first + i) - 1);
		if (i + 1 < n)
			model_sample(m, AT(first + i));
		else
			model_finish(m, AT(first + i));
	}
	assert_int_equal(m->sites[site_of(m, c->pid, c->o)].n_samples, n);
}

static void test_task_growth_climbs(void **state)
{
	static const uint32_t in_flight[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110 };
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	const struct finding *f;
	struct findings fs;

	task_series(m, &c, 0, in_flight, 11);
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	f = finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &FETCH), TASK_LEAK_GROWTH);
	assert_non_null(f);
	assert_int_equal(f->severity, SEVERITY_WARNING);
	assert_int_equal(f->pid, PID);
	assert_int_equal(f->task_leak.in_flight_first, 10);
	assert_int_equal(f->task_leak.in_flight_last, 110);
	assert_float_equal(f->task_leak.slope_per_min, 600.0, 1e-6);
	assert_int_equal(f->task_leak.window_start_ns, 0);
	assert_int_equal(f->task_leak.window_end_ns, SEC(10));
	assert_non_null(f->remediation);
	assert_non_null(strstr(f->summary, "pending fetch tasks grew from 10 to 110"));
	findings_free(&fs);
}

static void test_task_growth_plateau_no_finding(void **state)
{
	/* climbs by 70, then flat over the last third */
	static const uint32_t in_flight[] = { 10, 20, 30, 40, 50, 60, 70, 80, 80, 80, 80, 80 };
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	struct findings fs;

	task_series(m, &c, 0, in_flight, 12);
	compute(m, &thr, AT(11), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

/* the rise counted is task_growth_min_increase, not the connections' growth_min_increase */
static void test_task_growth_min_increase_inclusive(void **state)
{
	static const uint32_t in_flight[] = { 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60 };
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	struct finding_thresholds t = thr;
	struct findings fs;

	task_series(m, &c, 0, in_flight, 11);
	compute(m, &t, AT(10), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].task_leak.reason, TASK_LEAK_GROWTH);
	findings_free(&fs);
	t.task_growth_min_increase = 51;
	compute(m, &t, AT(10), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

/* the same line in two threads' event loops: two sites, each below the fan-out threshold */
static void test_sites_split_by_thread(void **state)
{
	struct model *m = *state;
	struct crowd main_loop = CROWD(&FETCH, 1), other_loop = CROWD(&FETCH_T2, 2);
	struct findings fs;
	int a, b;

	fan_out(m, &main_loop, 60, 60, ep4("10.0.0.5", 5432), AT(1));
	fan_out(m, &other_loop, 60, 60, ep4("10.0.0.5", 5432), AT(1));
	assert_int_equal(m->n_sites, 2);
	a = site_of(m, PID, &FETCH);
	b = site_of(m, PID, &FETCH_T2);
	assert_int_not_equal(a, b);
	assert_int_equal(m->sites[a].tid, PID);
	assert_int_equal(m->sites[b].tid, TID2);
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
	fan_out(m, &main_loop, 40, 40, ep4("10.0.0.5", 5432), AT(1.5));
	compute(m, &thr, AT(2), &fs);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].site, a);
	assert_int_equal(fs.items[0].fanout.peak_in_flight, 100);
	findings_free(&fs);
}

static void test_destroyed_pending_split_by_thread(void **state)
{
	struct model *m = *state;
	struct crowd main_loop = CROWD(&FETCH, 1), other_loop = CROWD(&FETCH_T2, 2);
	const struct finding *f;
	struct findings fs;

	crowd_hold(m, &main_loop, 2, AT(1));
	crowd_hold(m, &other_loop, 1, AT(1));
	model_task_destroyed(m, PID, crowd_task(&main_loop, 0), 0, AT(2));
	model_task_destroyed(m, PID, crowd_task(&main_loop, 1), 0, AT(2));
	model_task_destroyed(m, PID, crowd_task(&other_loop, 0), 0, AT(2));
	compute(m, &thr, AT(3), &fs);
	assert_int_equal(fs.len, 2);
	f = finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &FETCH),
		       TASK_LEAK_DESTROYED_PENDING);
	assert_non_null(f);
	assert_int_equal(f->task_leak.destroyed_pending, 2);
	f = finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &FETCH_T2),
		       TASK_LEAK_DESTROYED_PENDING);
	assert_non_null(f);
	assert_int_equal(f->task_leak.destroyed_pending, 1);
	findings_free(&fs);
}

static void test_task_findings_sorted_most_severe_first(void **state)
{
	static const struct task_origin JOB = {
		"/srv/b/job.py", 5, "main", "job", 300, 0, NULL, false, 0, 0 };
	struct model *m = *state;
	struct crowd fan = CROWD(&FETCH, 1), dropped = CROWD(&LOAD, 2), job = CROWD(&JOB, 3);
	struct findings fs;
	size_t i;

	/* 200: 3 CLOSE_WAIT (critical); PID: critical fan-out and a warning; 300: a warning */
	assert_non_null(model_add_process(m, 300, "b", "/b"));
	assert_non_null(model_add_process(m, 200, "a", "/a"));
	job.pid = 300;
	crowd_hold(m, &dropped, 1, AT(1));
	model_task_destroyed(m, PID, crowd_task(&dropped, 0), 0, AT(2));
	crowd_hold(m, &job, 1, AT(1));
	model_task_destroyed(m, 300, crowd_task(&job, 0), 0, AT(2));
	fan_out(m, &fan, 500, 500, ep4("10.0.0.5", 5432), AT(3));
	close_wait(m, 200, 1, AT(1));
	close_wait(m, 200, 2, AT(1));
	close_wait(m, 200, 3, AT(1));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 4);
	for (i = 1; i < fs.len; i++)
		assert_true(fs.items[i - 1].severity >= fs.items[i].severity);
	assert_int_equal(fs.items[0].severity, SEVERITY_CRITICAL);
	assert_int_equal(fs.items[0].pid, 200);
	assert_int_equal(fs.items[0].kind, FINDING_CONNECTION_LEAK);
	assert_int_equal(fs.items[1].severity, SEVERITY_CRITICAL);
	assert_int_equal(fs.items[1].pid, PID);
	assert_int_equal(fs.items[1].kind, FINDING_UNBOUNDED_FANOUT);
	assert_int_equal(fs.items[2].severity, SEVERITY_WARNING);
	assert_int_equal(fs.items[2].pid, 300);
	assert_int_equal(fs.items[2].kind, FINDING_TASK_LEAK);
	assert_int_equal(fs.items[3].severity, SEVERITY_WARNING);
	assert_int_equal(fs.items[3].pid, PID);
	assert_int_equal(fs.items[3].kind, FINDING_TASK_LEAK);
	findings_free(&fs);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_model, teardown_model)

/* thousands pending, none completed, ended by asyncio.run()'s shutdown: piled up */
static void test_pileup_ended_by_shutdown(void **state)
{
	struct model *m = *state;
	struct proc_end end = { .known = true };
	struct crowd c = CROWD(&FETCH, 1);
	const struct finding *f;
	struct findings fs;
	uint32_t i;

	for (i = 1; i <= 10; i++) {
		crowd_hold(m, &c, 300 * i, AT(i));
		model_tasks_refreshed(m, AT(i));
	}
	for (i = 0; i < 1000; i++)	/* the shutdown cancels a third of them before the exit */
		model_task_done(m, PID, crowd_task(&c, i), 1, AT(11.5));
	model_process_exited(m, PID, AT(12), &end);
	compute(m, &thr, AT(13), &fs);
	f = finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &FETCH), TASK_LEAK_PILED_UP);
	assert_non_null(f);
	assert_int_equal(fs.len, 1);	/* not growth as well */
	assert_int_equal(f->task_leak.peak_in_flight, 3000);
	assert_int_equal(f->task_leak.completed, 0);
	assert_int_equal(f->task_leak.ended_at_shutdown, 3000);
	assert_int_equal(m->sites[f->site].cancelled, 0);
	assert_int_equal(m->sites[f->site].in_flight, 0);
	assert_int_equal(model_process(m, PID)->tasks_ended_at_shutdown, 3000);
	findings_free(&fs);
}

/* cancellations long before the exit are the service's own: no pile-up */
static void test_cancelled_before_shutdown_is_completion(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&FETCH, 1);
	struct findings fs;
	uint32_t i;

	crowd_hold(m, &c, 2000, AT(1));
	model_tasks_refreshed(m, AT(1));
	for (i = 0; i < 100; i++)
		model_task_done(m, PID, crowd_task(&c, i), 1, AT(2));
	model_tasks_refreshed(m, AT(4));
	model_process_exited(m, PID, AT(5), NULL);
	compute(m, &thr, AT(6), &fs);
	assert_int_equal(m->sites[0].cancelled, 100);
	assert_int_equal(m->sites[0].ended_at_shutdown, 1900);
	assert_null(finding_at(&fs, FINDING_TASK_LEAK, 0, TASK_LEAK_PILED_UP));
	findings_free(&fs);
}

/* stuck tasks still stuck when the process exits are still stuck */
static void test_stuck_until_exit(void **state)
{
	struct model *m = *state;
	struct crowd quick = CROWD(&FETCH, 1), stuck = CROWD(&FETCH, 2);
	const struct finding *f;
	struct findings fs;

	crowd_hold(m, &stuck, 3, AT(1));
	crowd_hold(m, &quick, 20, AT(1));
	crowd_hold(m, &quick, 0, AT(1.1));
	model_process_exited(m, PID, AT(100), NULL);
	compute(m, &thr, AT(101), &fs);
	f = finding_at(&fs, FINDING_TASK_LEAK, site_of(m, PID, &FETCH), TASK_LEAK_STUCK);
	assert_non_null(f);
	assert_int_equal(f->task_leak.stuck, 3);
	assert_int_equal(f->task_leak.stuck_at_shutdown, 3);
	findings_free(&fs);
}

/* one line opens 250 connections and closes none while the process lives */
static void test_never_closed_connections(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&RUN, 1);
	const struct finding *f;
	struct findings fs;
	uint32_t i;

	crowd_hold(m, &c, 1, AT(1));
	for (i = 0; i < 250; i++)
		task_conn(m, PID, crowd_task(&c, 0), ep4("10.0.0.5", 443), AT(2));
	model_process_exited(m, PID, AT(5), NULL);
	compute(m, &thr, AT(6), &fs);
	f = finding_at(&fs, FINDING_CONNECTION_LEAK, site_of(m, PID, &RUN), 0);
	assert_non_null(f);
	assert_int_equal(f->conn_leak.reason, CONN_LEAK_NEVER_CLOSED);
	assert_int_equal(f->conn_leak.opened, 250);
	assert_int_equal(f->conn_leak.closed_at_exit, 250);
	findings_free(&fs);
}

/* the same with events dropped: the closes may have been lost, no finding */
static void test_never_closed_not_inferred_after_drops(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&RUN, 1);
	struct findings fs;
	uint32_t i;

	crowd_hold(m, &c, 1, AT(1));
	for (i = 0; i < 250; i++)
		task_conn(m, PID, crowd_task(&c, 0), ep4("10.0.0.5", 443), AT(2));
	m->ringbuf_drops = 1;
	model_process_exited(m, PID, AT(5), NULL);
	compute(m, &thr, AT(6), &fs);
	assert_null(finding_at(&fs, FINDING_CONNECTION_LEAK, site_of(m, PID, &RUN), 0));
	findings_free(&fs);
}

/* one closed by the process: a pool that closes, not a leak */
static void test_never_closed_needs_none_closed(void **state)
{
	struct model *m = *state;
	struct crowd c = CROWD(&RUN, 1);
	struct findings fs;
	uint64_t ino = 0;
	uint32_t i;

	crowd_hold(m, &c, 1, AT(1));
	for (i = 0; i < 250; i++)
		ino = task_conn(m, PID, crowd_task(&c, 0), ep4("10.0.0.5", 443), AT(2));
	model_conn_release(m, PID, ino, AT(3));
	compute(m, &thr, AT(6), &fs);
	assert_int_equal(fs.len, 0);
	findings_free(&fs);
}

static void test_proc_end_described(void **state)
{
	struct proc_end e = { .known = true, .exit_status = 3 };
	char buf[PROC_END_STRLEN];

	proc_end_describe(&e, buf, sizeof(buf));
	assert_string_equal(buf, "exited with status 3");
	assert_true(proc_end_is_failure(&e));
	e = (struct proc_end){ .known = true, .exit_status = -1, .signal = 9, .oom_killed = true };
	proc_end_describe(&e, buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGKILL (the kernel's OOM killer chose it)");
	assert_true(proc_end_is_failure(&e));
	e.oom_killed = false;
	assert_false(proc_end_is_failure(&e));
	e = (struct proc_end){ .known = true, .exit_status = -1, .signal = 11, .core_dumped = true };
	proc_end_describe(&e, buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGSEGV (core dumped)");
	e = (struct proc_end){ .known = true };
	assert_false(proc_end_is_failure(&e));
	e.known = false;
	proc_end_describe(&e, buf, sizeof(buf));
	assert_string_equal(buf, "exited (the kernel did not say how)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_proc_end_described),
		T(test_no_connections_no_findings),
		T(test_young_close_wait_no_finding),
		T(test_old_close_wait_is_warning),
		T(test_close_wait_age_from_state_change),
		T(test_close_wait_min_age_inclusive),
		T(test_close_wait_min_age_threshold_respected),
		T(test_close_wait_age_range),
		T(test_old_established_no_finding),
		T(test_close_wait_left_no_finding),
		T(test_close_wait_below_critical_is_warning),
		T(test_close_wait_at_critical_is_critical),
		T(test_young_close_wait_not_counted_for_severity),
		T(test_found_at_attach_close_wait_counts_regardless_of_age),
		T(test_found_at_attach_then_close_wait_needs_age),
		T(test_close_wait_endpoints_grouped),
		T(test_close_wait_endpoints_capped),
		T(test_close_wait_finding_per_process),
		T(test_growth_steady_rise),
		T(test_growth_noisy_rise),
		T(test_growth_then_plateau_no_finding),
		T(test_growth_increase_threshold_inclusive),
		T(test_growth_window_too_short_no_finding),
		T(test_growth_needs_six_samples),
		T(test_growth_flat_high_no_finding),
		T(test_findings_sorted_most_severe_first),
		T(test_findings_free_resets),
		T(test_many_processes_many_findings),
		cmocka_unit_test(test_task_finding_names),
		T(test_close_wait_closed_late_still_a_finding),
		T(test_close_wait_closed_by_exit_still_a_finding),
		T(test_close_wait_at_exit_after_drops_counts_to_last_seen),
		T(test_close_wait_short_then_exit_no_finding),
		T(test_failed_end_raises_severity),
		T(test_close_wait_gone_unseen_no_finding),
		T(test_losses_are_a_caveat),
		T(test_pileup_ended_by_shutdown),
		T(test_cancelled_before_shutdown_is_completion),
		T(test_stuck_until_exit),
		T(test_never_closed_connections),
		T(test_never_closed_not_inferred_after_drops),
		T(test_never_closed_needs_none_closed),
		cmocka_unit_test(test_default_task_thresholds),
		T(test_sampled_tasks_have_seen_sites),
		T(test_sampled_connection_of_an_unseen_task),
		T(test_sampled_address_reused_between_reads),
		T(test_sampled_short_unseen_counted_between),
		T(test_sampled_short_unseen_less_unnumbered),
		T(test_sampled_short_unseen_not_across_loops),
		T(test_sampled_stuck_from_short_unseen),
		T(test_sampled_stuck_judged_per_coroutine),
		T(test_fanout_at_thresholds),
		T(test_capped_tables_are_a_caveat),
		T(test_fanout_one_task_below_no_finding),
		T(test_fanout_one_connection_below_no_finding),
		T(test_fanout_peak_taken_at_poll),
		T(test_fanout_needs_half_as_many_connections),
		T(test_fanout_bounded_pattern_no_finding),
		T(test_fanout_memory_only_at_memory_tasks),
		T(test_fanout_memory_only_never_critical),
		T(test_fanout_critical_at_ten_times_min_conns),
		T(test_fanout_evidence),
		T(test_destroyed_pending_per_site),
		T(test_destroyed_pending_without_site_no_finding),
		T(test_stuck_needs_ten_finished),
		T(test_stuck_at_least_min_age),
		T(test_stuck_scales_with_usual_lifetime),
		T(test_stuck_with_a_huge_factor_is_never),
		T(test_stuck_site_without_finished_tasks_never_stuck),
		T(test_task_growth_climbs),
		T(test_task_growth_plateau_no_finding),
		T(test_task_growth_min_increase_inclusive),
		T(test_sites_split_by_thread),
		T(test_destroyed_pending_split_by_thread),
		T(test_task_findings_sorted_most_severe_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
