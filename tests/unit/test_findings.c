// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/findings.c: CLOSE_WAIT and growth leak findings. */
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

#define START_NS (500 * NSEC_PER_SEC)
#define AT(s) (START_NS + (uint64_t)((s) * (double)NSEC_PER_SEC))
#define SEC(s) ((uint64_t)((s) * (double)NSEC_PER_SEC))
#define PID 4242

static const struct finding_thresholds thr = {
	.close_wait_min_age_s = 2.0,
	.close_wait_critical = 3,
	.growth_min_increase = 20,
	.growth_min_window_s = 5.0,
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

static int setup_model(void **state)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return -1;
	model_init(m, START_NS, 100000);
	if (!model_add_process(m, PID, "python3", "/usr/bin/python3")) {
		free(m);
		return -1;
	}
	*state = m;
	return 0;
}

static int teardown_model(void **state)
{
	struct model *m = *state;

	model_free(m);
	free(m);
	return 0;
}

static void compute(const struct model *m, const struct finding_thresholds *t, uint64_t now,
		    struct findings *fs)
{
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
	model_conn_release(m, PID, 2, AT(3));
	compute(m, &thr, AT(10), &fs);
	assert_int_equal(fs.len, 0);
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_model, teardown_model)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
