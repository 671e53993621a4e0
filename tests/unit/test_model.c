// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/model/model.c: connection accounting, grouping, sampling. */
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
#include "model.h"

#define START_NS (1000 * NSEC_PER_SEC)
#define AT(s) (START_NS + (uint64_t)((s) * (double)NSEC_PER_SEC))
#define PID 4242
#include "model_fixture.h"
#define OTHER_PID 5151

static struct endpoint ep4(const char *ip, uint16_t port)
{
	struct endpoint e = { .family = AF_INET, .port = port };

	assert_int_equal(inet_pton(AF_INET, ip, e.addr), 1);
	return e;
}

static struct endpoint ep6(const char *ip, uint16_t port)
{
	struct endpoint e = { .family = AF_INET6, .port = port };

	assert_int_equal(inet_pton(AF_INET6, ip, e.addr), 1);
	return e;
}

static struct conn mkconn(pid_t pid, uint64_t ino, enum conn_source src, uint8_t state,
			  uint64_t opened_ns, struct endpoint local, struct endpoint remote)
{
	struct conn c = {
		.pid = pid,
		.tid = pid,
		.ino = ino,
		.source = src,
		.inbound = src == CONN_SEEN_ACCEPT,
		.state = state,
		.local = local,
		.remote = remote,
		.opened_ns = opened_ns,
	};

	return c;
}

/* an outbound connection from local port sport to 10.0.0.5:5432 */
static void open_out(struct model *m, pid_t pid, uint64_t ino, uint16_t sport, uint64_t ts)
{
	struct conn c = mkconn(pid, ino, CONN_SEEN_CONNECT, TCP_STATE_ESTABLISHED, ts,
			       ep4("10.0.0.1", sport), ep4("10.0.0.5", 5432));

	model_conn_open(m, &c);
}

static void format(const struct endpoint *e, char *buf)
{
	memset(buf, 'X', ENDPOINT_STRLEN);
	endpoint_format(e, buf, ENDPOINT_STRLEN);
}

static void test_endpoint_format_ipv4(void **state)
{
	struct endpoint e = ep4("10.0.0.1", 80);
	char buf[ENDPOINT_STRLEN];

	format(&e, buf);
	assert_string_equal(buf, "10.0.0.1:80");
}

static void test_endpoint_format_ipv6_in_brackets(void **state)
{
	struct endpoint e = ep6("2001:db8::1", 443);
	char buf[ENDPOINT_STRLEN];

	format(&e, buf);
	assert_string_equal(buf, "[2001:db8::1]:443");
	e = ep6("::1", 8080);
	format(&e, buf);
	assert_string_equal(buf, "[::1]:8080");
}

static void test_endpoint_format_v4_mapped_as_ipv4(void **state)
{
	struct endpoint e = ep6("::ffff:192.168.1.2", 5432);
	char buf[ENDPOINT_STRLEN];

	format(&e, buf);
	assert_string_equal(buf, "192.168.1.2:5432");
}

/* ::ffff:0:0/96 only: a v4-compatible ::c0a8:102 is not mapped */
static void test_endpoint_format_not_mapped_prefix(void **state)
{
	struct endpoint e = ep6("::1:ffff:c0a8:102", 1);
	char buf[ENDPOINT_STRLEN];

	format(&e, buf);
	assert_string_equal(buf, "[::1:ffff:c0a8:102]:1");
}

static void test_endpoint_format_longest_fits(void **state)
{
	struct endpoint e = ep6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	char buf[ENDPOINT_STRLEN];

	format(&e, buf);
	assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void test_endpoint_format_truncates_to_size(void **state)
{
	struct endpoint e = ep4("192.168.100.200", 65535);
	char buf[32];

	memset(buf, 'X', sizeof(buf));
	endpoint_format(&e, buf, 8);
	assert_string_equal(buf, "192.168");
	assert_int_equal(buf[8], 'X');
}

static void test_endpoint_format_unknown_family(void **state)
{
	struct endpoint e = { .family = AF_UNIX, .port = 7 };
	char buf[ENDPOINT_STRLEN];

	format(&e, buf);
	assert_string_equal(buf, "?:7");
}

static void test_tcp_state_names(void **state)
{
	assert_string_equal(tcp_state_name(TCP_STATE_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(tcp_state_name(2), "SYN_SENT");
	assert_string_equal(tcp_state_name(TCP_STATE_TIME_WAIT), "TIME_WAIT");
	assert_string_equal(tcp_state_name(8), "CLOSE_WAIT");
	assert_string_equal(tcp_state_name(10), "LISTEN");
	assert_string_equal(tcp_state_name(TCP_STATE_NEW_SYN_RECV), "NEW_SYN_RECV");
	assert_string_equal(tcp_state_name(TCP_STATE_BOUND_INACTIVE), "BOUND_INACTIVE");
}

static void test_tcp_state_name_unknown(void **state)
{
	assert_string_equal(tcp_state_name(0), "UNKNOWN");
	assert_string_equal(tcp_state_name(14), "UNKNOWN");
	assert_string_equal(tcp_state_name(TCP_STATE_MAX), "UNKNOWN");
	assert_string_equal(tcp_state_name(255), "UNKNOWN");
	assert_string_equal(tcp_state_name(~0u), "UNKNOWN");
}

static void test_add_process_and_lookup(void **state)
{
	struct model *m = *state;
	struct proc_model *p;

	assert_non_null(model_add_process(m, OTHER_PID, "a-very-long-command-name", "/bin/x"));
	assert_int_equal(m->n_procs, 2);
	p = model_process(m, OTHER_PID);
	assert_non_null(p);
	assert_int_equal(p->pid, OTHER_PID);
	assert_string_equal(p->comm, "a-very-long-com");	/* truncated to 15 */
	assert_string_equal(p->exe, "/bin/x");
	assert_int_equal(p->sample_every_ns, NSEC_PER_SEC);
	assert_int_equal(model_process(m, PID)->pid, PID);
	assert_null(model_process(m, 1));
}

static void test_set_hook_adds_then_updates(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);
	char name[16];
	int i;

	model_set_hook(p, "connections", false, "pending %d", 1);
	model_set_hook(p, "connections", true, "kprobe %s", "tcp_connect");
	assert_int_equal(p->n_hooks, 1);
	assert_true(p->hooks[0].attached);
	assert_string_equal(p->hooks[0].detail, "kprobe tcp_connect");
	for (i = 0; i < 2 * MODEL_MAX_HOOKS; i++) {
		snprintf(name, sizeof(name), "hook%d", i);
		model_set_hook(p, name, true, "x");
	}
	assert_int_equal(p->n_hooks, MODEL_MAX_HOOKS);
}

static void test_hook_probes_added_capped_and_forgotten_with_a_new_status(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);
	int i;

	model_set_hook(p, "asyncio_tasks", true, "x");
	model_hook_probe(p, "asyncio_tasks", "Task init", 0x7230, "push r15");
	model_hook_probe(p, "no_such_hook", "Task init", 1, "nop");
	assert_int_equal(p->hooks[0].n_probes, 1);
	assert_string_equal(p->hooks[0].probes[0].what, "Task init");
	assert_int_equal(p->hooks[0].probes[0].file_offset, 0x7230);
	assert_string_equal(p->hooks[0].probes[0].instruction, "push r15");
	for (i = 0; i < 2 * HOOK_MAX_PROBES; i++)
		model_hook_probe(p, "asyncio_tasks", "more", (uint64_t)i, "");
	assert_int_equal(p->hooks[0].n_probes, HOOK_MAX_PROBES);
	model_set_hook(p, "asyncio_tasks", true, "attached again");
	assert_int_equal(p->hooks[0].n_probes, 0);
}

static void test_add_listener_deduplicates_and_caps(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);
	unsigned int i;

	model_add_listener(p, 8080);
	model_add_listener(p, 8080);
	model_add_listener(p, 9090);
	assert_int_equal(p->n_listen_ports, 2);
	for (i = 0; i < 2 * MODEL_MAX_LISTENERS; i++)
		model_add_listener(p, (uint16_t)(10000 + i));
	assert_int_equal(p->n_listen_ports, MODEL_MAX_LISTENERS);
}

static void test_open_counts(void **state)
{
	struct model *m = *state;
	struct proc_model *p;

	open_out(m, PID, 1, 40001, AT(1));
	open_out(m, PID, 2, 40002, AT(2));
	p = model_process(m, PID);
	assert_int_equal(p->open, 2);
	assert_int_equal(p->opened, 2);
	assert_int_equal(p->closed, 0);
	assert_int_equal(p->found_at_attach, 0);
	assert_int_equal(p->peak_open, 2);
	assert_int_equal(p->peak_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(p->by_state[TCP_STATE_ESTABLISHED], 2);
	assert_int_equal(m->n_conns, 2);
}

static void test_open_same_ino_twice_counted_once(void **state)
{
	struct model *m = *state;
	struct proc_model *p;

	open_out(m, PID, 7, 40001, AT(1));
	open_out(m, PID, 7, 40001, AT(2));
	p = model_process(m, PID);
	assert_int_equal(p->open, 1);
	assert_int_equal(p->opened, 1);
	assert_int_equal(m->n_conns, 1);
}

static void test_same_ino_in_two_processes_is_two_conns(void **state)
{
	struct model *m = *state;

	assert_non_null(model_add_process(m, OTHER_PID, "b", "/b"));
	open_out(m, PID, 7, 40001, AT(1));
	open_out(m, OTHER_PID, 7, 40001, AT(1));
	assert_int_equal(m->n_conns, 2);
	assert_int_equal(model_process(m, PID)->open, 1);
	assert_int_equal(model_process(m, OTHER_PID)->open, 1);
}

static void test_open_for_unknown_process_ignored(void **state)
{
	struct model *m = *state;

	open_out(m, 999, 1, 40001, AT(1));
	assert_int_equal(m->n_conns, 0);
	assert_int_equal(model_process(m, PID)->open, 0);
}

static void test_state_change_moves_by_state(void **state)
{
	struct model *m = *state;
	struct proc_model *p;

	open_out(m, PID, 1, 40001, AT(1));
	open_out(m, PID, 2, 40002, AT(1));
	model_conn_state(m, PID, 1, TCP_STATE_CLOSE_WAIT, AT(3));
	p = model_process(m, PID);
	assert_int_equal(p->by_state[TCP_STATE_ESTABLISHED], 1);
	assert_int_equal(p->by_state[TCP_STATE_CLOSE_WAIT], 1);
	assert_int_equal(p->open, 2);
	model_conn_state(m, PID, 1, TCP_STATE_LAST_ACK, AT(4));
	assert_int_equal(p->by_state[TCP_STATE_CLOSE_WAIT], 0);
	assert_int_equal(p->by_state[TCP_STATE_LAST_ACK], 1);
	assert_int_equal(m->unmatched_events, 0);
}

struct conn_copy {
	struct conn c[8];
	size_t n;
};

static void copy_conn(const struct conn *c, void *ctx)
{
	struct conn_copy *cc = ctx;

	if (cc->n < 8)
		cc->c[cc->n] = *c;
	cc->n++;
}

static void test_state_change_records_time(void **state)
{
	struct model *m = *state;
	struct conn_copy cc = {};

	open_out(m, PID, 1, 40001, AT(1));
	model_conn_state(m, PID, 1, TCP_STATE_CLOSE_WAIT, AT(3.5));
	model_foreach_conn(m, PID, copy_conn, &cc);
	assert_int_equal(cc.n, 1);
	assert_int_equal(cc.c[0].state, TCP_STATE_CLOSE_WAIT);
	assert_int_equal(cc.c[0].state_since_ns, AT(3.5));
	assert_true(cc.c[0].state_age_known);
	assert_int_equal(cc.c[0].opened_ns, AT(1));
}

static void test_release_counts_closed_and_lifetime(void **state)
{
	struct model *m = *state;
	struct proc_model *p;

	open_out(m, PID, 1, 40001, AT(1));
	open_out(m, PID, 2, 40002, AT(2));
	model_conn_state(m, PID, 1, TCP_STATE_CLOSE_WAIT, AT(2));
	model_conn_release(m, PID, 1, AT(4));
	p = model_process(m, PID);
	assert_int_equal(p->open, 1);
	assert_int_equal(p->opened, 2);
	assert_int_equal(p->closed, 1);
	assert_int_equal(p->peak_open, 2);
	assert_int_equal(p->by_state[TCP_STATE_CLOSE_WAIT], 0);
	assert_int_equal(p->by_state[TCP_STATE_ESTABLISHED], 1);
	assert_int_equal(p->lifetimes.count, 1);
	assert_int_equal(p->lifetimes.min_ns, 3 * NSEC_PER_SEC);
	assert_int_equal(p->lifetimes.max_ns, 3 * NSEC_PER_SEC);
	assert_int_equal(p->lifetimes.sum_ns, 3 * NSEC_PER_SEC);
	assert_int_equal(m->n_conns, 1);

	model_conn_release(m, PID, 2, AT(2.5));
	assert_int_equal(p->open, 0);
	assert_int_equal(p->closed, 2);
	assert_int_equal(p->lifetimes.count, 2);
	assert_int_equal(p->lifetimes.min_ns, NSEC_PER_SEC / 2);
	assert_int_equal(p->lifetimes.max_ns, 3 * NSEC_PER_SEC);
	assert_int_equal(p->by_state[TCP_STATE_ESTABLISHED], 0);
	assert_int_equal(m->n_conns, 0);
}

static void test_peak_tracks_maximum(void **state)
{
	struct model *m = *state;
	struct proc_model *p;

	open_out(m, PID, 1, 40001, AT(1));
	open_out(m, PID, 2, 40002, AT(2));
	open_out(m, PID, 3, 40003, AT(3));
	model_conn_release(m, PID, 1, AT(4));
	model_conn_release(m, PID, 2, AT(4));
	open_out(m, PID, 4, 40004, AT(5));
	p = model_process(m, PID);
	assert_int_equal(p->open, 2);
	assert_int_equal(p->peak_open, 3);
	assert_int_equal(p->peak_ns, 3 * NSEC_PER_SEC);
}

static struct conn found_conn(uint64_t ino, uint8_t state, struct endpoint local,
			      struct endpoint remote)
{
	return mkconn(PID, ino, CONN_FOUND_AT_ATTACH, state, START_NS, local, remote);
}

static void test_found_at_attach_counts(void **state)
{
	struct model *m = *state;
	struct conn c = found_conn(10, TCP_STATE_ESTABLISHED, ep4("10.0.0.1", 40001),
				   ep4("10.0.0.5", 5432));
	struct conn_copy cc = {};
	struct proc_model *p;

	model_conn_open(m, &c);
	p = model_process(m, PID);
	assert_int_equal(p->open, 1);
	assert_int_equal(p->found_at_attach, 1);
	assert_int_equal(p->opened, 0);
	assert_int_equal(p->peak_open, 1);
	assert_int_equal(p->peak_ns, 0);
	model_foreach_conn(m, PID, copy_conn, &cc);
	assert_int_equal(cc.n, 1);
	assert_false(cc.c[0].state_age_known);
	assert_false(cc.c[0].inbound);

	/* released: closed, but its lifetime is unknown */
	model_conn_release(m, PID, 10, AT(5));
	assert_int_equal(p->open, 0);
	assert_int_equal(p->closed, 1);
	assert_int_equal(p->lifetimes.count, 0);
}

static void test_found_at_attach_promoted_by_connect(void **state)
{
	struct model *m = *state;
	struct conn found = found_conn(10, TCP_STATE_ESTABLISHED, ep4("10.0.0.1", 40001),
				       ep4("10.0.0.5", 5432));
	struct conn seen = mkconn(PID, 10, CONN_SEEN_CONNECT, TCP_STATE_SYN_SENT, AT(0.5),
				  ep4("10.0.0.1", 40001), ep4("10.0.0.5", 5432));
	struct conn_copy cc = {};
	struct proc_model *p;

	seen.tid = PID + 3;
	model_conn_open(m, &found);
	model_conn_open(m, &seen);
	p = model_process(m, PID);
	assert_int_equal(p->found_at_attach, 0);
	assert_int_equal(p->opened, 1);
	assert_int_equal(p->open, 1);
	assert_int_equal(p->peak_open, 1);
	assert_int_equal(m->n_conns, 1);
	assert_int_equal(p->by_state[TCP_STATE_ESTABLISHED], 1);
	model_foreach_conn(m, PID, copy_conn, &cc);
	assert_int_equal(cc.n, 1);
	assert_int_equal(cc.c[0].source, CONN_SEEN_CONNECT);
	assert_int_equal(cc.c[0].opened_ns, AT(0.5));
	assert_int_equal(cc.c[0].tid, PID + 3);
	/* its age is known from the open on: not a lower bound any more */
	assert_true(cc.c[0].state_age_known);
	assert_int_equal(cc.c[0].state_since_ns, AT(0.5));

	/* now a connection seen opening: its lifetime counts */
	model_conn_release(m, PID, 10, AT(2.5));
	assert_int_equal(p->lifetimes.count, 1);
	assert_int_equal(p->lifetimes.max_ns, 2 * NSEC_PER_SEC);
}

static void test_found_at_attach_promoted_by_accept_becomes_inbound(void **state)
{
	struct model *m = *state;
	struct conn found = found_conn(11, TCP_STATE_ESTABLISHED, ep4("10.0.0.1", 8080),
				       ep4("10.0.0.9", 50000));
	struct conn seen = mkconn(PID, 11, CONN_SEEN_ACCEPT, TCP_STATE_ESTABLISHED, AT(0.1),
				  ep4("10.0.0.1", 8080), ep4("10.0.0.9", 50000));
	struct conn_copy cc = {};

	model_conn_open(m, &found);
	model_conn_open(m, &seen);
	model_foreach_conn(m, PID, copy_conn, &cc);
	assert_int_equal(cc.n, 1);
	assert_int_equal(cc.c[0].source, CONN_SEEN_ACCEPT);
	assert_true(cc.c[0].inbound);
	assert_int_equal(model_process(m, PID)->opened, 1);
}

/* the reverse order: seen first, then the /proc scan finds it again */
static void test_seen_then_found_stays_seen(void **state)
{
	struct model *m = *state;
	struct conn seen = mkconn(PID, 12, CONN_SEEN_CONNECT, TCP_STATE_ESTABLISHED, AT(0.2),
				  ep4("10.0.0.1", 40001), ep4("10.0.0.5", 5432));
	struct conn found = found_conn(12, TCP_STATE_ESTABLISHED, ep4("10.0.0.1", 40001),
				       ep4("10.0.0.5", 5432));
	struct proc_model *p;

	model_conn_open(m, &seen);
	model_conn_open(m, &found);
	p = model_process(m, PID);
	assert_int_equal(p->opened, 1);
	assert_int_equal(p->found_at_attach, 0);
	assert_int_equal(p->open, 1);
}

static void test_found_at_attach_on_listen_port_is_inbound(void **state)
{
	struct model *m = *state;
	struct conn in = found_conn(20, TCP_STATE_ESTABLISHED, ep4("10.0.0.1", 8080),
				    ep4("10.0.0.9", 50000));
	struct conn out = found_conn(21, TCP_STATE_ESTABLISHED, ep4("10.0.0.1", 50001),
				     ep4("10.0.0.9", 8080));
	struct conn_copy cc = {};

	model_add_listener(model_process(m, PID), 8080);
	model_conn_open(m, &in);
	model_conn_open(m, &out);
	model_foreach_conn(m, PID, copy_conn, &cc);
	assert_int_equal(cc.n, 2);
	assert_int_equal(cc.c[0].ino, 20);
	assert_true(cc.c[0].inbound);
	assert_int_equal(cc.c[1].ino, 21);
	assert_false(cc.c[1].inbound);
}

/* a found socket's direction comes from the listeners, not the caller */
static void test_found_at_attach_without_listener_is_outbound(void **state)
{
	struct model *m = *state;
	struct conn c = found_conn(22, TCP_STATE_ESTABLISHED, ep4("10.0.0.1", 8080),
				   ep4("10.0.0.9", 50000));
	struct conn_copy cc = {};

	c.inbound = true;
	model_conn_open(m, &c);
	model_foreach_conn(m, PID, copy_conn, &cc);
	assert_int_equal(cc.n, 1);
	assert_false(cc.c[0].inbound);
}

static void test_process_exit_releases_its_conns(void **state)
{
	struct model *m = *state;
	struct proc_model *p, *q;
	unsigned int i;

	assert_non_null(model_add_process(m, OTHER_PID, "other", "/other"));
	for (i = 0; i < 100; i++)
		open_out(m, PID, 100 + i, (uint16_t)(40000 + i), AT(1));
	open_out(m, OTHER_PID, 100, 40000, AT(1));
	open_out(m, OTHER_PID, 5000, 40001, AT(1));
	model_process_exited(m, PID, AT(3), NULL);
	p = model_process(m, PID);
	q = model_process(m, OTHER_PID);
	assert_true(p->exited);
	assert_int_equal(p->exited_ns, AT(3));
	assert_int_equal(p->open, 0);
	assert_int_equal(p->closed, 100);
	assert_int_equal(p->by_state[TCP_STATE_ESTABLISHED], 0);
	assert_int_equal(p->lifetimes.count, 100);
	assert_int_equal(p->lifetimes.max_ns, 2 * NSEC_PER_SEC);
	assert_false(q->exited);
	assert_int_equal(q->open, 2);
	assert_int_equal(q->closed, 0);
	assert_int_equal(m->n_conns, 2);
	assert_int_equal(m->unmatched_events, 0);
}

static void test_process_exit_twice_keeps_first_time(void **state)
{
	struct model *m = *state;

	model_process_exited(m, PID, AT(3), NULL);
	model_process_exited(m, PID, AT(9), NULL);
	assert_int_equal(model_process(m, PID)->exited_ns, AT(3));
}

/* An exec ends the old program's tasks as an exit would, and keeps the process and its sockets. */
static void test_process_exec_ends_tasks_keeps_connections(void **state)
{
	static const struct task_origin site = {
		"/srv/app.py", 9, "main", "serve", 0, 0, NULL, false, 0, 0 };
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);

	open_out(m, PID, 1, 40001, AT(1));
	model_task_created(m, PID, 0x1000, &site, 0, AT(1));
	model_task_created(m, PID, 0x2000, &site, 0, AT(1));
	model_process_exec(m, PID, AT(5), "sleep", "/usr/bin/sleep");
	assert_int_equal(p->execs, 1);
	assert_string_equal(p->comm, "sleep");
	assert_string_equal(p->exe, "/usr/bin/sleep");
	assert_false(p->exited);
	assert_int_equal(p->open, 1);
	assert_int_equal(p->tasks_in_flight, 0);
	assert_int_equal(p->tasks_ended_at_shutdown, 2);
	/* the new program's task at an old one's address is a task of its own */
	model_task_created(m, PID, 0x1000, &site, 0, AT(6));
	assert_int_equal(p->tasks_created, 3);
	assert_int_equal(p->tasks_in_flight, 1);
	/* an exec of a process that has exited is not one */
	model_process_exited(m, PID, AT(7), NULL);
	model_process_exec(m, PID, AT(8), "x", "/x");
	assert_int_equal(p->execs, 1);
}

static void test_unmatched_events_counted(void **state)
{
	struct model *m = *state;
	struct proc_model *p;

	open_out(m, PID, 1, 40001, AT(1));
	model_conn_state(m, PID, 999, TCP_STATE_CLOSE_WAIT, AT(2));
	assert_int_equal(m->unmatched_events, 1);
	model_conn_release(m, PID, 999, AT(2));
	assert_int_equal(m->unmatched_events, 2);
	model_conn_state(m, 31337, 1, TCP_STATE_CLOSE_WAIT, AT(2));
	assert_int_equal(m->unmatched_events, 3);
	model_conn_release(m, PID, 1, AT(3));
	model_conn_release(m, PID, 1, AT(4));
	assert_int_equal(m->unmatched_events, 4);
	p = model_process(m, PID);
	assert_int_equal(p->closed, 1);
	assert_int_equal(p->open, 0);
	assert_int_equal(p->by_state[TCP_STATE_CLOSE_WAIT], 0);
}

static void test_foreach_in_pid_ino_order(void **state)
{
	struct model *m = *state;
	struct conn_copy cc = {};

	assert_non_null(model_add_process(m, OTHER_PID, "other", "/other"));
	open_out(m, OTHER_PID, 3, 1, AT(1));
	open_out(m, PID, 9, 2, AT(1));
	open_out(m, PID, 2, 3, AT(1));
	open_out(m, OTHER_PID, 1, 4, AT(1));
	open_out(m, PID, 5, 5, AT(1));
	model_foreach_conn(m, 0, copy_conn, &cc);
	assert_int_equal(cc.n, 5);
	assert_int_equal(cc.c[0].pid, PID);
	assert_int_equal(cc.c[0].ino, 2);
	assert_int_equal(cc.c[1].ino, 5);
	assert_int_equal(cc.c[2].ino, 9);
	assert_int_equal(cc.c[3].pid, OTHER_PID);
	assert_int_equal(cc.c[3].ino, 1);
	assert_int_equal(cc.c[4].ino, 3);

	memset(&cc, 0, sizeof(cc));
	model_foreach_conn(m, OTHER_PID, copy_conn, &cc);
	assert_int_equal(cc.n, 2);
	assert_int_equal(cc.c[0].pid, OTHER_PID);
	assert_int_equal(cc.c[1].pid, OTHER_PID);
}

static const struct endpoint_row *find_row(const struct endpoint_row *rows, size_t n,
					   bool inbound, const struct endpoint *ep)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].inbound == inbound && rows[i].ep.family == ep->family &&
		    rows[i].ep.port == ep->port && !memcmp(rows[i].ep.addr, ep->addr, 16))
			return &rows[i];
	return NULL;
}

static void test_endpoint_rows_grouping(void **state)
{
	struct model *m = *state;
	struct endpoint db = ep4("10.0.0.5", 5432), cache = ep4("10.0.0.6", 6379);
	struct endpoint web = ep4("10.0.0.1", 8080);
	struct endpoint_row *rows = NULL;
	const struct endpoint_row *r;
	struct conn c;
	size_t n = 0;

	/* 3 outbound to the database, from different local ports */
	open_out(m, PID, 1, 40001, AT(3));
	open_out(m, PID, 2, 40002, AT(1));
	open_out(m, PID, 3, 40003, AT(2));
	model_conn_state(m, PID, 3, TCP_STATE_CLOSE_WAIT, AT(4));
	/* 1 outbound to the cache */
	c = mkconn(PID, 4, CONN_SEEN_CONNECT, TCP_STATE_ESTABLISHED, AT(1), ep4("10.0.0.1", 40004),
		   cache);
	model_conn_open(m, &c);
	/* 2 inbound on 8080 from different clients */
	c = mkconn(PID, 5, CONN_SEEN_ACCEPT, TCP_STATE_ESTABLISHED, AT(2), web,
		   ep4("10.0.0.20", 50000));
	model_conn_open(m, &c);
	c = mkconn(PID, 6, CONN_SEEN_ACCEPT, TCP_STATE_ESTABLISHED, AT(2), web,
		   ep4("10.0.0.21", 50001));
	model_conn_open(m, &c);

	assert_int_equal(model_endpoint_rows(m, PID, &rows, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].total, 3);
	assert_false(rows[0].inbound);
	assert_memory_equal(&rows[0].ep, &db, sizeof(db));
	assert_int_equal(rows[0].by_state[TCP_STATE_ESTABLISHED], 2);
	assert_int_equal(rows[0].by_state[TCP_STATE_CLOSE_WAIT], 1);
	assert_int_equal(rows[0].oldest_opened_ns, AT(1));
	assert_int_equal(rows[1].total, 2);
	assert_true(rows[1].inbound);
	assert_memory_equal(&rows[1].ep, &web, sizeof(web));
	assert_int_equal(rows[2].total, 1);
	r = find_row(rows, n, false, &cache);
	assert_ptr_equal(r, &rows[2]);
	free(rows);
}

/* the same address and port, outbound to it and inbound on it: two rows */
static void test_endpoint_rows_direction_separates(void **state)
{
	struct model *m = *state;
	struct endpoint same = ep4("10.0.0.1", 8080);
	struct endpoint_row *rows = NULL;
	struct conn c;
	size_t n = 0;

	c = mkconn(PID, 1, CONN_SEEN_CONNECT, TCP_STATE_ESTABLISHED, AT(1), ep4("10.0.0.1", 40000),
		   same);
	model_conn_open(m, &c);
	c = mkconn(PID, 2, CONN_SEEN_ACCEPT, TCP_STATE_ESTABLISHED, AT(1), same,
		   ep4("10.0.0.1", 40000));
	model_conn_open(m, &c);
	assert_int_equal(model_endpoint_rows(m, PID, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_non_null(find_row(rows, n, true, &same));
	assert_non_null(find_row(rows, n, false, &same));
	assert_int_equal(rows[0].total, 1);
	assert_int_equal(rows[1].total, 1);
	free(rows);
}

static void test_endpoint_rows_filtered_by_pid(void **state)
{
	struct model *m = *state;
	struct endpoint_row *rows = NULL;
	size_t n = 0;

	assert_non_null(model_add_process(m, OTHER_PID, "other", "/other"));
	open_out(m, PID, 1, 40001, AT(1));
	open_out(m, OTHER_PID, 2, 40002, AT(1));
	open_out(m, OTHER_PID, 3, 40003, AT(1));
	assert_int_equal(model_endpoint_rows(m, PID, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].total, 1);
	free(rows);
	assert_int_equal(model_endpoint_rows(m, 0, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].total, 3);
	free(rows);
}

static void test_endpoint_rows_empty(void **state)
{
	struct model *m = *state;
	struct endpoint_row *rows = (void *)1;
	size_t n = 99;

	assert_int_equal(model_endpoint_rows(m, PID, &rows, &n), 0);
	assert_int_equal(n, 0);
	assert_null(rows);
}

/* more distinct endpoints than the first allocation, sorted by count */
static void test_endpoint_rows_many_sorted(void **state)
{
	struct model *m = *state;
	struct endpoint_row *rows = NULL;
	char ip[32];
	struct conn c;
	uint64_t ino = 1;
	size_t n = 0, i;
	unsigned int e, k;

	for (e = 0; e < 40; e++) {
		snprintf(ip, sizeof(ip), "10.1.0.%u", e + 1);
		for (k = 0; k < e % 7 + 1; k++) {
			c = mkconn(PID, ino, CONN_SEEN_CONNECT, TCP_STATE_ESTABLISHED, AT(1),
				   ep4("10.0.0.1", (uint16_t)(30000 + ino)), ep4(ip, 443));
			ino++;
			model_conn_open(m, &c);
		}
	}
	assert_int_equal(model_endpoint_rows(m, PID, &rows, &n), 0);
	assert_int_equal(n, 40);
	assert_int_equal(rows[0].total, 7);
	assert_int_equal(rows[n - 1].total, 1);
	for (i = 1; i < n; i++)
		assert_true(rows[i - 1].total >= rows[i].total);
	free(rows);
}

static void test_sample_records_counters(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);

	model_sample(m, START_NS);
	open_out(m, PID, 1, 40001, AT(0.5));
	open_out(m, PID, 2, 40002, AT(0.6));
	open_out(m, PID, 3, 40003, AT(0.7));
	model_conn_state(m, PID, 2, TCP_STATE_CLOSE_WAIT, AT(0.8));
	model_conn_release(m, PID, 3, AT(0.9));
	model_sample(m, AT(0.95));	/* not due yet */
	assert_int_equal(p->n_samples, 1);
	model_sample(m, AT(1));
	assert_int_equal(p->n_samples, 2);
	assert_int_equal(p->samples[0].t_ns, 0);
	assert_int_equal(p->samples[0].open, 0);
	assert_int_equal(p->samples[1].t_ns, NSEC_PER_SEC);
	assert_int_equal(p->samples[1].open, 2);
	assert_int_equal(p->samples[1].close_wait, 1);
	assert_int_equal(p->samples[1].opened, 3);
	assert_int_equal(p->samples[1].closed, 1);
}

static void test_sample_skips_exited_process(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);

	model_sample(m, AT(0));
	model_process_exited(m, PID, AT(0.5), NULL);
	model_sample(m, AT(1));
	model_sample(m, AT(2));
	assert_int_equal(p->n_samples, 1);
}

static void test_sample_thinning_bounds_series(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);
	uint64_t i;

	for (i = 0; i < MODEL_MAX_SAMPLES; i++)
		model_sample(m, START_NS + i * NSEC_PER_SEC);
	assert_int_equal(p->n_samples, MODEL_MAX_SAMPLES);
	assert_int_equal(p->sample_every_ns, NSEC_PER_SEC);

	/* one more: every other sample kept, at twice the interval */
	model_sample(m, START_NS + MODEL_MAX_SAMPLES * NSEC_PER_SEC);
	assert_int_equal(p->n_samples, MODEL_MAX_SAMPLES / 2 + 1);
	assert_int_equal(p->sample_every_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(p->samples[0].t_ns, 0);
	assert_int_equal(p->samples[1].t_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(p->samples[MODEL_MAX_SAMPLES / 2 - 1].t_ns,
			 (MODEL_MAX_SAMPLES - 2) * NSEC_PER_SEC);
	assert_int_equal(p->samples[MODEL_MAX_SAMPLES / 2].t_ns, MODEL_MAX_SAMPLES * NSEC_PER_SEC);
}

static void test_sample_long_run_stays_bounded(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);
	uint64_t t, prev_every = NSEC_PER_SEC;
	size_t i;

	/* an hour and a half, offered a sample every second */
	for (t = 0; t <= 5400; t++) {
		model_sample(m, START_NS + t * NSEC_PER_SEC);
		assert_true(p->n_samples <= MODEL_MAX_SAMPLES);
		assert_true(p->sample_every_ns == prev_every || p->sample_every_ns == 2 * prev_every);
		prev_every = p->sample_every_ns;
	}
	assert_int_equal(p->sample_every_ns, 8 * NSEC_PER_SEC);
	assert_true(p->n_samples > MODEL_MAX_SAMPLES / 2);
	for (i = 1; i < p->n_samples; i++)
		assert_true(p->samples[i].t_ns > p->samples[i - 1].t_ns);
	assert_true(p->samples[p->n_samples - 1].t_ns >= 5400 * NSEC_PER_SEC - p->sample_every_ns);
}

static void test_finish_takes_last_sample_when_not_due(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);

	model_sample(m, AT(0));
	model_sample(m, AT(1));
	open_out(m, PID, 1, 40001, AT(1.2));
	open_out(m, PID, 2, 40002, AT(1.3));
	model_sample(m, AT(1.4));	/* not due */
	assert_int_equal(p->n_samples, 2);
	model_finish(m, AT(1.5));
	assert_int_equal(m->end_ns, AT(1.5));
	assert_int_equal(p->n_samples, 3);
	assert_int_equal(p->samples[2].t_ns, 1500 * NSEC_PER_MSEC);
	assert_int_equal(p->samples[2].open, 2);
	assert_int_equal(p->samples[2].opened, 2);
}

static void test_finish_skips_exited_process(void **state)
{
	struct model *m = *state;
	struct proc_model *p, *q;

	assert_non_null(model_add_process(m, OTHER_PID, "other", "/other"));
	model_sample(m, AT(0));
	model_process_exited(m, OTHER_PID, AT(0.5), NULL);
	model_finish(m, AT(0.7));
	p = model_process(m, PID);
	q = model_process(m, OTHER_PID);
	assert_int_equal(p->n_samples, 2);
	assert_int_equal(q->n_samples, 1);
	assert_int_equal(m->end_ns, AT(0.7));
}

/* a full series is thinned for the last sample too */
static void test_finish_on_full_series_thins(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);
	uint64_t i;

	for (i = 0; i < MODEL_MAX_SAMPLES; i++)
		model_sample(m, START_NS + i * NSEC_PER_SEC);
	model_finish(m, START_NS + (MODEL_MAX_SAMPLES - 1) * NSEC_PER_SEC + NSEC_PER_SEC / 2);
	assert_int_equal(p->n_samples, MODEL_MAX_SAMPLES / 2 + 1);
	assert_int_equal(p->sample_every_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(p->samples[MODEL_MAX_SAMPLES / 2].t_ns,
			 (MODEL_MAX_SAMPLES - 1) * NSEC_PER_SEC + NSEC_PER_SEC / 2);
}

static void test_max_conns_limits_tracking(void **state)
{
	struct model m;
	struct proc_model *p;

	model_init(&m, START_NS, 2);
	assert_non_null(model_add_process(&m, PID, "py", "/py"));
	open_out(&m, PID, 1, 40001, AT(1));
	open_out(&m, PID, 2, 40002, AT(1));
	open_out(&m, PID, 3, 40003, AT(1));
	open_out(&m, PID, 4, 40004, AT(1));
	p = model_process(&m, PID);
	assert_int_equal(m.n_conns, 2);
	assert_int_equal(m.untracked_conns, 2);
	assert_int_equal(p->open, 2);
	assert_int_equal(p->opened, 2);
	/* an already tracked one seen again is not a lost one */
	open_out(&m, PID, 1, 40001, AT(2));
	assert_int_equal(m.untracked_conns, 2);
	/* room again after a release */
	model_conn_release(&m, PID, 1, AT(3));
	open_out(&m, PID, 5, 40005, AT(4));
	assert_int_equal(m.n_conns, 2);
	assert_int_equal(m.untracked_conns, 2);
	assert_int_equal(p->opened, 3);
	model_free(&m);
	assert_int_equal(m.n_conns, 0);
	assert_null(m.procs);
}

static void test_quantile_empty_is_zero(void **state)
{
	struct duration_stats d = {};

	assert_int_equal(duration_quantile(&d, 0.5), 0);
	assert_int_equal(duration_quantile(&d, 0.99), 0);
}

/* Records lifetime ns for one connection of the model's process. */
static void add_lifetime(struct model *m, uint64_t ino, uint64_t ns)
{
	open_out(m, PID, ino, 40000, AT(1));
	model_conn_release(m, PID, ino, AT(1) + ns);
}

static void test_quantile_single_value(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);

	add_lifetime(m, 1, 1000);
	assert_int_equal(p->lifetimes.count, 1);
	assert_int_equal(duration_quantile(&p->lifetimes, 0.0), 1000);
	assert_int_equal(duration_quantile(&p->lifetimes, 0.5), 1000);
	assert_int_equal(duration_quantile(&p->lifetimes, 0.95), 1000);
	assert_int_equal(duration_quantile(&p->lifetimes, 1.0), 1000);
}

static void test_quantile_zero_duration(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);

	add_lifetime(m, 1, 0);
	assert_int_equal(p->lifetimes.count, 1);
	assert_int_equal(duration_quantile(&p->lifetimes, 0.5), 0);
}

static void test_quantile_capped_at_max(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);
	uint64_t i;

	/* 90 short (1 us) and 10 long (1 ms) connections */
	for (i = 0; i < 90; i++)
		add_lifetime(m, 100 + i, 1000);
	for (i = 0; i < 10; i++)
		add_lifetime(m, 200 + i, 1000000);
	assert_int_equal(p->lifetimes.count, 100);
	/* the median is the upper edge of 1000's bucket: [512, 1024) */
	assert_int_equal(duration_quantile(&p->lifetimes, 0.5), 1023);
	/* p95 falls in 1000000's bucket, whose edge 1048575 is above the max */
	assert_int_equal(duration_quantile(&p->lifetimes, 0.95), 1000000);
	assert_int_equal(duration_quantile(&p->lifetimes, 1.0), 1000000);
	assert_int_equal(p->lifetimes.min_ns, 1000);
	assert_int_equal(p->lifetimes.sum_ns, 90 * 1000 + 10 * 1000000);
}

static void test_quantile_monotonic_in_q(void **state)
{
	struct model *m = *state;
	struct proc_model *p = model_process(m, PID);
	uint64_t i, prev = 0, v;
	double q;

	for (i = 0; i < 64; i++)
		add_lifetime(m, 1 + i, (i + 1) * (i + 1) * 997);
	for (q = 0; q <= 1.0; q += 0.05) {
		v = duration_quantile(&p->lifetimes, q);
		assert_true(v >= prev);
		assert_in_range(v, p->lifetimes.min_ns, p->lifetimes.max_ns);
		prev = v;
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_model, teardown_model)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_format_ipv4),
		cmocka_unit_test(test_endpoint_format_ipv6_in_brackets),
		cmocka_unit_test(test_endpoint_format_v4_mapped_as_ipv4),
		cmocka_unit_test(test_endpoint_format_not_mapped_prefix),
		cmocka_unit_test(test_endpoint_format_longest_fits),
		cmocka_unit_test(test_endpoint_format_truncates_to_size),
		cmocka_unit_test(test_endpoint_format_unknown_family),
		cmocka_unit_test(test_tcp_state_names),
		cmocka_unit_test(test_tcp_state_name_unknown),
		T(test_add_process_and_lookup),
		T(test_set_hook_adds_then_updates),
		T(test_hook_probes_added_capped_and_forgotten_with_a_new_status),
		T(test_add_listener_deduplicates_and_caps),
		T(test_open_counts),
		T(test_open_same_ino_twice_counted_once),
		T(test_same_ino_in_two_processes_is_two_conns),
		T(test_open_for_unknown_process_ignored),
		T(test_state_change_moves_by_state),
		T(test_state_change_records_time),
		T(test_release_counts_closed_and_lifetime),
		T(test_peak_tracks_maximum),
		T(test_found_at_attach_counts),
		T(test_found_at_attach_promoted_by_connect),
		T(test_found_at_attach_promoted_by_accept_becomes_inbound),
		T(test_seen_then_found_stays_seen),
		T(test_found_at_attach_on_listen_port_is_inbound),
		T(test_found_at_attach_without_listener_is_outbound),
		T(test_process_exit_releases_its_conns),
		T(test_process_exit_twice_keeps_first_time),
		T(test_unmatched_events_counted),
		T(test_foreach_in_pid_ino_order),
		T(test_endpoint_rows_grouping),
		T(test_endpoint_rows_direction_separates),
		T(test_endpoint_rows_filtered_by_pid),
		T(test_endpoint_rows_empty),
		T(test_endpoint_rows_many_sorted),
		T(test_process_exec_ends_tasks_keeps_connections),
		T(test_sample_records_counters),
		T(test_sample_skips_exited_process),
		T(test_sample_thinning_bounds_series),
		T(test_sample_long_run_stays_bounded),
		T(test_finish_takes_last_sample_when_not_due),
		T(test_finish_skips_exited_process),
		T(test_finish_on_full_series_thins),
		cmocka_unit_test(test_max_conns_limits_tracking),
		cmocka_unit_test(test_quantile_empty_is_zero),
		T(test_quantile_single_value),
		T(test_quantile_zero_duration),
		T(test_quantile_capped_at_max),
		T(test_quantile_monotonic_in_q),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
