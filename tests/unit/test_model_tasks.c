// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/model/model_tasks.c: live asyncio tasks, their creation
 * sites, and the connections the tasks open.
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
#include "model.h"

#define START_NS (1000 * NSEC_PER_SEC)
#define AT(s) (START_NS + (uint64_t)((s) * (double)NSEC_PER_SEC))
#define SEC(s) ((uint64_t)((s) * (double)NSEC_PER_SEC))
#define PID 4242
#include "model_fixture.h"
#define OTHER_PID 5151

/* task object addresses */
#define TASK_A 0x7f0000001000ull
#define TASK_B 0x7f0000002000ull
#define TASK_C 0x7f0000003000ull
#define TASK_D 0x7f0000004000ull

static const struct task_origin FETCH = {
	"/srv/app/client.py", 42, "fetch_all", "fetch", 0, 0, NULL, false, 0, 0 };
static const struct task_origin WORKER = {
	"/srv/app/worker.py", 7, "main", "worker", 0, 0, NULL, false, 0, 0 };

static struct proc_model *proc(struct model *m, pid_t pid)
{
	struct proc_model *p = model_process(m, pid);

	assert_non_null(p);
	return p;
}

/* The index of the one site at (pid, file, line, coroutine); fails if none. */
static int site_of(const struct model *m, pid_t pid, const char *file, int line,
		   const char *coroutine)
{
	int found = -1;
	size_t i;

	for (i = 0; i < m->n_sites; i++) {
		const struct task_site *s = &m->sites[i];

		if (s->pid == pid && s->line == line && !strcmp(s->file, file) &&
		    !strcmp(s->coroutine, coroutine)) {
			assert_int_equal(found, -1);
			found = (int)i;
		}
	}
	assert_int_not_equal(found, -1);
	return found;
}

static struct task_site *site(struct model *m, const struct task_origin *o)
{
	return &m->sites[site_of(m, PID, o->file, o->line, o->coroutine)];
}

/* an outbound connection ino of pid, opened at ts */
static void open_conn(struct model *m, pid_t pid, uint64_t ino, uint64_t ts)
{
	struct conn c = {
		.pid = pid,
		.tid = pid,
		.ino = ino,
		.source = CONN_SEEN_CONNECT,
		.state = TCP_STATE_ESTABLISHED,
		.local = { .family = AF_INET, .port = 40000 },
		.remote = { .family = AF_INET, .port = 5432 },
		.opened_ns = ts,
		.site = 12345,	/* the model must not take this over */
	};

	c.local.addr[0] = 10;
	c.remote.addr[0] = 10;
	c.remote.addr[3] = 5;
	model_conn_open(m, &c);
}

static struct conn *conn(struct model *m, pid_t pid, uint64_t ino)
{
	struct conn *c = model_find_conn(m, pid, ino);

	assert_non_null(c);
	return c;
}

struct visited {
	pid_t pid[16];
	uint64_t addr[16], coro[16], created_ns[16];
	size_t n;
};

static void visit(const struct pending_task *t, void *ctx)
{
	struct visited *v = ctx;

	assert_true(v->n < 16);
	v->pid[v->n] = t->pid;
	v->addr[v->n] = t->addr;
	v->coro[v->n] = t->coro;
	v->created_ns[v->n] = t->created_ns;
	v->n++;
}

static struct visited pending(const struct model *m)
{
	struct visited v = { .n = 0 };

	model_foreach_pending_task(m, visit, &v);
	return v;
}

/* --- creation and sites --- */

static void test_created_task_counts_in_process_and_site(void **state)
{
	struct model *m = *state;
	struct task_site *s;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	assert_int_equal(proc(m, PID)->tasks_created, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	assert_int_equal(m->n_tasks, 1);
	assert_int_equal(m->n_sites, 1);
	s = &m->sites[0];
	assert_int_equal(s->pid, PID);
	assert_string_equal(s->file, "/srv/app/client.py");
	assert_int_equal(s->line, 42);
	assert_string_equal(s->function, "fetch_all");
	assert_string_equal(s->coroutine, "fetch");
	assert_int_equal(s->parent_site, -1);
	assert_int_equal(s->created, 1);
	assert_int_equal(s->in_flight, 1);
	assert_int_equal(s->done, 0);
	assert_int_equal(s->destroyed_pending, 0);
	assert_int_equal(m->untracked_tasks, 0);
}

static void test_same_origin_shares_a_site(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(2));
	assert_int_equal(m->n_sites, 1);
	assert_int_equal(m->sites[0].created, 3);
	assert_int_equal(m->sites[0].in_flight, 3);
	assert_int_equal(proc(m, PID)->tasks_created, 3);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 3);
	assert_int_equal(m->n_tasks, 3);
}

static void test_site_keyed_by_file_line_and_coroutine(void **state)
{
	struct model *m = *state;
	struct task_origin other_line = FETCH, other_file = FETCH, other_coro = FETCH;

	other_line.line = 43;
	other_file.file = "/srv/app/server.py";
	other_coro.coroutine = "fetch_one";
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &other_line, 0, AT(1));
	model_task_created(m, PID, TASK_C, &other_file, 0, AT(1));
	model_task_created(m, PID, TASK_D, &other_coro, 0, AT(1));
	assert_int_equal(m->n_sites, 4);
	assert_int_equal(site(m, &FETCH)->created, 1);
	assert_int_equal(site(m, &other_line)->created, 1);
	assert_int_equal(site(m, &other_file)->created, 1);
	assert_int_equal(site(m, &other_coro)->created, 1);
}

static void test_site_not_keyed_by_function(void **state)
{
	struct model *m = *state;
	struct task_origin other_fn = FETCH;

	other_fn.function = "somewhere_else";
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &other_fn, 0, AT(1));
	assert_int_equal(m->n_sites, 1);
	assert_int_equal(m->sites[0].created, 2);
	assert_string_equal(m->sites[0].function, "fetch_all");	/* the first one's */
}

static void test_site_keyed_by_pid(void **state)
{
	struct model *m = *state;

	assert_non_null(model_add_process(m, OTHER_PID, "python3", "/usr/bin/python3"));
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, OTHER_PID, TASK_A, &FETCH, 0, AT(1));
	assert_int_equal(m->n_sites, 2);
	assert_int_equal(m->sites[site_of(m, PID, FETCH.file, FETCH.line, "fetch")].created, 1);
	assert_int_equal(m->sites[site_of(m, OTHER_PID, FETCH.file, FETCH.line, "fetch")].created,
			 1);
	assert_int_equal(proc(m, PID)->tasks_created, 1);
	assert_int_equal(proc(m, OTHER_PID)->tasks_created, 1);
	assert_int_equal(m->n_tasks, 2);	/* same address, two processes */
}

static void test_null_coroutine_and_function_become_question_mark(void **state)
{
	struct model *m = *state;
	struct task_origin anon = { "/srv/app/client.py", 42, NULL, NULL, 0, 0, NULL, false, 0, 0 };

	model_task_created(m, PID, TASK_A, &anon, 0, AT(1));
	assert_int_equal(m->n_sites, 1);
	assert_string_equal(m->sites[0].coroutine, "?");
	assert_string_equal(m->sites[0].function, "?");
	/* a second NULL coroutine at the same place is the same site */
	model_task_created(m, PID, TASK_B, &anon, 0, AT(1));
	assert_int_equal(m->n_sites, 1);
	assert_int_equal(m->sites[0].created, 2);
	/* and a named coroutine at the same place is not */
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(1));
	assert_int_equal(m->n_sites, 2);
}

static void test_origin_without_file_counts_task_without_site(void **state)
{
	struct model *m = *state;
	struct task_origin unknown = { NULL, 0, NULL, NULL, 0, 0, NULL, false, 0, 0 };

	model_task_created(m, PID, TASK_A, &unknown, 0, AT(1));
	assert_int_equal(m->n_sites, 0);
	assert_int_equal(proc(m, PID)->tasks_created, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	assert_int_equal(m->n_tasks, 1);
	assert_int_equal(m->untracked_tasks, 0);
	/* still tracked: its completion is seen */
	model_task_done(m, PID, TASK_A, 2, AT(2));
	assert_int_equal(proc(m, PID)->tasks_done, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 0);
}

static void test_long_strings_truncated(void **state)
{
	struct model *m = *state;
	char file[600], coro[300];
	struct task_origin o = { file, 1, "f", coro, 0, 0, NULL, false, 0, 0 };

	memset(file, 'f', sizeof(file) - 1);
	file[0] = '/';
	file[sizeof(file) - 1] = '\0';
	memset(coro, 'c', sizeof(coro) - 1);
	coro[sizeof(coro) - 1] = '\0';
	model_task_created(m, PID, TASK_A, &o, 0, AT(1));
	assert_int_equal(m->n_sites, 1);
	assert_int_equal(strlen(m->sites[0].file), sizeof(m->sites[0].file) - 1);
	assert_int_equal(strlen(m->sites[0].coroutine), sizeof(m->sites[0].coroutine) - 1);
}

static void test_unknown_process_ignored(void **state)
{
	struct model *m = *state;

	model_task_created(m, OTHER_PID, TASK_A, &FETCH, 0, AT(1));
	assert_int_equal(m->n_tasks, 0);
	assert_int_equal(m->n_sites, 0);
	assert_int_equal(m->untracked_tasks, 0);
	assert_int_equal(proc(m, PID)->tasks_created, 0);
	assert_int_equal(pending(m).n, 0);
}

static void test_many_sites_keep_their_counts(void **state)
{
	struct model *m = *state;
	struct task_origin o = FETCH;
	int line;

	/* the sites array grows one by one: indexes held by tasks stay valid */
	for (line = 1; line <= 100; line++) {
		o.line = line;
		model_task_created(m, PID, TASK_A + (uint64_t)line * 16, &o, 0, AT(1));
	}
	assert_int_equal(m->n_sites, 100);
	for (line = 1; line <= 100; line += 3)
		model_task_done(m, PID, TASK_A + (uint64_t)line * 16, 2, AT(2));
	for (line = 1; line <= 100; line++) {
		struct task_site *s = &m->sites[site_of(m, PID, o.file, line, "fetch")];

		assert_int_equal(s->created, 1);
		assert_int_equal(s->done, (line - 1) % 3 == 0);
		assert_int_equal(s->in_flight, (line - 1) % 3 != 0);
	}
	assert_int_equal(proc(m, PID)->tasks_in_flight, 66);
}

/* A service that runs a loop in a new thread per request: a site per thread, up to a cap. */
static void test_sites_per_thread_capped_and_tasks_past_the_cap_counted(void **state)
{
	struct model *m = *state;
	struct task_origin o = FETCH;
	size_t i, past = 10;

	for (i = 0; i < MODEL_MAX_SITES + past; i++) {
		o.tid = (pid_t)(1000 + i);
		model_task_created(m, PID, TASK_A + 16 * (uint64_t)i, &o, 0, AT(1));
	}
	assert_int_equal(m->n_sites, MODEL_MAX_SITES);
	assert_int_equal(m->site_table_full, past);
	/* the process still counts them: only their site is not kept */
	assert_int_equal(proc(m, PID)->tasks_created, MODEL_MAX_SITES + past);
	assert_int_equal(proc(m, PID)->tasks_in_flight, MODEL_MAX_SITES + past);
	/* a thread whose site was kept still finds it */
	o.tid = 1000 + MODEL_MAX_SITES - 1;
	model_task_created(m, PID, TASK_A + 16 * (uint64_t)i, &o, 0, AT(2));
	assert_int_equal(m->sites[MODEL_MAX_SITES - 1].created, 2);
	assert_int_equal(m->site_table_full, past);
}

/* --- parents --- */

static void test_parent_site_from_known_parent(void **state)
{
	struct model *m = *state;
	int parent;

	model_task_created(m, PID, TASK_A, &WORKER, 0, AT(1));
	parent = site_of(m, PID, WORKER.file, WORKER.line, "worker");
	model_task_created(m, PID, TASK_B, &FETCH, TASK_A, AT(2));
	assert_int_equal(site(m, &FETCH)->parent_site, parent);
	assert_int_equal(site(m, &WORKER)->parent_site, -1);
}

static void test_parent_site_unknown_parent(void **state)
{
	struct model *m = *state;

	/* a parent created before the trace began */
	model_task_created(m, PID, TASK_B, &FETCH, TASK_D, AT(2));
	assert_int_equal(site(m, &FETCH)->parent_site, -1);
}

static void test_parent_site_parent_without_site(void **state)
{
	struct model *m = *state;
	struct task_origin unknown = { NULL, 0, NULL, NULL, 0, 0, NULL, false, 0, 0 };

	model_task_created(m, PID, TASK_A, &unknown, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, TASK_A, AT(2));
	assert_int_equal(site(m, &FETCH)->parent_site, -1);
}

static void test_parent_site_parent_in_other_process(void **state)
{
	struct model *m = *state;

	assert_non_null(model_add_process(m, OTHER_PID, "python3", "/usr/bin/python3"));
	model_task_created(m, OTHER_PID, TASK_A, &WORKER, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, TASK_A, AT(2));
	assert_int_equal(site(m, &FETCH)->parent_site, -1);
}

static void test_parent_zero_is_no_parent(void **state)
{
	struct model *m = *state;

	/* even if a task were known at address 0 */
	model_task_created(m, PID, 0, &WORKER, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(2));
	assert_int_equal(site(m, &FETCH)->parent_site, -1);
}

static void test_parent_site_kept_from_first_task(void **state)
{
	struct model *m = *state;
	int parent;

	model_task_created(m, PID, TASK_A, &WORKER, 0, AT(1));
	parent = site_of(m, PID, WORKER.file, WORKER.line, "worker");
	model_task_created(m, PID, TASK_B, &FETCH, TASK_A, AT(2));
	/* a later task of the same site from no known parent changes nothing */
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(3));
	assert_int_equal(site(m, &FETCH)->parent_site, parent);
	assert_int_equal(site(m, &FETCH)->created, 2);
}

static void test_parent_site_gone_parent(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &WORKER, 0, AT(1));
	model_task_destroyed(m, PID, TASK_A, 2, AT(2));
	model_task_created(m, PID, TASK_B, &FETCH, TASK_A, AT(3));
	assert_int_equal(site(m, &FETCH)->parent_site, -1);
}

/* --- done and destroyed --- */

static void test_done_leaves_flight_and_records_lifetime(void **state)
{
	struct model *m = *state;
	struct task_site *s;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_done(m, PID, TASK_A, 2, AT(3.5));
	s = site(m, &FETCH);
	assert_int_equal(s->done, 1);
	assert_int_equal(s->in_flight, 1);
	assert_int_equal(s->lifetimes.count, 1);
	assert_int_equal(s->lifetimes.sum_ns, SEC(2.5));
	assert_int_equal(s->lifetimes.max_ns, SEC(2.5));
	assert_int_equal(proc(m, PID)->tasks_done, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	/* done is not destroyed: the task is still known */
	assert_int_equal(m->n_tasks, 2);
}

static void test_done_twice_counted_once(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_done(m, PID, TASK_A, 2, AT(2));
	model_task_done(m, PID, TASK_A, 2, AT(3));
	assert_int_equal(site(m, &FETCH)->done, 1);
	assert_int_equal(site(m, &FETCH)->in_flight, 1);
	assert_int_equal(site(m, &FETCH)->lifetimes.count, 1);
	assert_int_equal(proc(m, PID)->tasks_done, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
}

static void test_done_unknown_task_ignored(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_done(m, PID, TASK_B, 2, AT(2));
	assert_int_equal(proc(m, PID)->tasks_done, 0);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	assert_int_equal(site(m, &FETCH)->done, 0);
}

static void test_done_before_created_time_no_lifetime(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(5));
	model_task_done(m, PID, TASK_A, 2, AT(4));
	assert_int_equal(site(m, &FETCH)->done, 1);
	assert_int_equal(site(m, &FETCH)->lifetimes.count, 0);
}

static void test_done_tasks_leave_pending_iteration(void **state)
{
	struct model *m = *state;
	struct visited v;

	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	v = pending(m);
	assert_int_equal(v.n, 3);
	model_task_done(m, PID, TASK_B, 2, AT(2));
	v = pending(m);
	assert_int_equal(v.n, 2);
	/* in (pid, address) order */
	assert_int_equal(v.pid[0], PID);
	assert_int_equal(v.addr[0], TASK_A);
	assert_int_equal(v.pid[1], PID);
	assert_int_equal(v.addr[1], TASK_C);
}

static void test_pending_iteration_over_processes(void **state)
{
	struct model *m = *state;
	struct visited v;

	assert_non_null(model_add_process(m, OTHER_PID, "python3", "/usr/bin/python3"));
	model_task_created(m, OTHER_PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	v = pending(m);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.pid[0], PID);
	assert_int_equal(v.addr[0], TASK_B);
	assert_int_equal(v.pid[1], OTHER_PID);
	assert_int_equal(v.addr[1], TASK_A);
}

static void test_pending_iteration_empty_model(void **state)
{
	struct model *m = *state;

	assert_int_equal(pending(m).n, 0);
}

/* A verdict read from memory for a gathered task must not land on a later task at its address. */
static void test_gathered_task_is_told_from_a_later_one_at_its_address(void **state)
{
	struct model *m = *state;
	struct pending_task gathered;
	struct visited v;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	v = pending(m);
	gathered = (struct pending_task){ v.pid[0], v.addr[0], v.coro[0], v.created_ns[0] };
	assert_true(model_task_is_pending(m, &gathered));
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(2));	/* the address reused */
	assert_false(model_task_is_pending(m, &gathered));
	gathered.created_ns = AT(2);
	assert_true(model_task_is_pending(m, &gathered));
	model_task_done(m, PID, TASK_A, 2, AT(3));
	assert_false(model_task_is_pending(m, &gathered));
}

static void test_destroyed_pending_counted(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_destroyed(m, PID, TASK_A, 0, AT(4));
	/* held back a second: a shutdown within it would make it the shutdown's */
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 0);
	model_tasks_refreshed(m, AT(5));
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 1);
	assert_int_equal(site(m, &FETCH)->destroyed_pending, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	assert_int_equal(site(m, &FETCH)->in_flight, 1);
	assert_int_equal(m->n_tasks, 1);
	assert_int_equal(pending(m).n, 1);
	assert_int_equal(pending(m).addr[0], TASK_B);
}

/* destroyed pending as the process shuts down: the shutdown's, not a leak */
static void test_destroyed_pending_at_shutdown(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(1));
	model_task_done(m, PID, TASK_C, 2, AT(2));
	model_task_destroyed(m, PID, TASK_A, 0, AT(4.5));
	model_process_exited(m, PID, AT(5), NULL);
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 0);
	assert_int_equal(proc(m, PID)->tasks_ended_at_shutdown, 2);
	assert_int_equal(proc(m, PID)->tasks_finished, 1);
	assert_int_equal(site(m, &FETCH)->ended_at_shutdown, 2);
	assert_int_equal(site(m, &FETCH)->shutdown_ages.count, 2);
	assert_int_equal(site(m, &FETCH)->shutdown_ages.max_ns, 4 * NSEC_PER_SEC);
	assert_int_equal(site(m, &FETCH)->in_flight, 0);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 0);
	assert_int_equal(pending(m).n, 0);
}

static void test_destroyed_finished_not_destroyed_pending(void **state)
{
	struct model *m = *state;

	/* finished, but destroyed before a refresh saw it done */
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_destroyed(m, PID, TASK_A, 2, AT(2));
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 0);
	assert_int_equal(site(m, &FETCH)->destroyed_pending, 0);
	assert_int_equal(site(m, &FETCH)->done, 1);
	assert_int_equal(site(m, &FETCH)->in_flight, 0);
	assert_int_equal(proc(m, PID)->tasks_done, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 0);
	assert_int_equal(m->n_tasks, 0);
}

static void test_destroyed_cancelled_not_destroyed_pending(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_destroyed(m, PID, TASK_A, 1, AT(2));
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 0);
	assert_int_equal(site(m, &FETCH)->destroyed_pending, 0);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 0);
}

static void test_destroyed_after_done_counted_once(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_done(m, PID, TASK_A, 2, AT(2));
	/* whatever state the dealloc reads, a task seen done is not pending */
	model_task_destroyed(m, PID, TASK_A, 0, AT(3));
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 0);
	assert_int_equal(site(m, &FETCH)->destroyed_pending, 0);
	assert_int_equal(proc(m, PID)->tasks_done, 1);
	assert_int_equal(site(m, &FETCH)->done, 1);
	assert_int_equal(site(m, &FETCH)->lifetimes.count, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	assert_int_equal(m->n_tasks, 1);
	/* gone: a late done changes nothing */
	model_task_done(m, PID, TASK_A, 2, AT(4));
	assert_int_equal(proc(m, PID)->tasks_done, 1);
}

static void test_destroyed_unknown_task_ignored(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_destroyed(m, PID, TASK_B, 0, AT(2));
	model_task_destroyed(m, OTHER_PID, TASK_A, 0, AT(2));
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 0);
	assert_int_equal(proc(m, PID)->tasks_done, 0);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	assert_int_equal(m->n_tasks, 1);
}

static void test_reused_address_closes_old_task(void **state)
{
	struct model *m = *state;
	struct visited v;

	model_task_created(m, PID, TASK_A, &WORKER, 0, AT(1));
	/* the dealloc of the first was missed: its address is handed out again */
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(2));
	assert_int_equal(proc(m, PID)->tasks_created, 2);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	assert_int_equal(proc(m, PID)->tasks_done, 1);
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 0);
	assert_int_equal(site(m, &WORKER)->in_flight, 0);
	assert_int_equal(site(m, &WORKER)->done, 1);
	assert_int_equal(site(m, &WORKER)->destroyed_pending, 0);
	assert_int_equal(site(m, &FETCH)->in_flight, 1);
	assert_int_equal(m->n_tasks, 1);
	v = pending(m);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.addr[0], TASK_A);
	/* the address now names the new task */
	model_task_done(m, PID, TASK_A, 2, AT(3));
	assert_int_equal(site(m, &FETCH)->done, 1);
	assert_int_equal(site(m, &FETCH)->in_flight, 0);
	assert_int_equal(site(m, &WORKER)->done, 1);
}

/* --- peaks --- */

static void test_peaks_only_taken_at_refresh(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(1));
	assert_int_equal(proc(m, PID)->peak_tasks_in_flight, 0);
	assert_int_equal(site(m, &FETCH)->peak_in_flight, 0);
	model_tasks_refreshed(m, AT(2));
	assert_int_equal(proc(m, PID)->peak_tasks_in_flight, 3);
	assert_int_equal(proc(m, PID)->peak_tasks_ns, SEC(2));
	assert_int_equal(site(m, &FETCH)->peak_in_flight, 3);
	assert_int_equal(site(m, &FETCH)->peak_ns, SEC(2));
}

static void test_peak_kept_when_flight_drops(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_tasks_refreshed(m, AT(2));
	model_task_done(m, PID, TASK_A, 2, AT(3));
	model_tasks_refreshed(m, AT(4));
	assert_int_equal(proc(m, PID)->peak_tasks_in_flight, 2);
	assert_int_equal(proc(m, PID)->peak_tasks_ns, SEC(2));
	assert_int_equal(site(m, &FETCH)->peak_in_flight, 2);
	assert_int_equal(site(m, &FETCH)->peak_ns, SEC(2));
}

static void test_peak_between_refreshes_not_seen(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_tasks_refreshed(m, AT(2));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(3));
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(3));
	model_task_done(m, PID, TASK_B, 2, AT(4));
	model_task_done(m, PID, TASK_C, 2, AT(4));
	model_tasks_refreshed(m, AT(5));
	assert_int_equal(proc(m, PID)->peak_tasks_in_flight, 1);
	assert_int_equal(site(m, &FETCH)->peak_in_flight, 1);
	/* a higher level still standing at a refresh is taken, with its time */
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(6));
	model_tasks_refreshed(m, AT(7));
	assert_int_equal(proc(m, PID)->peak_tasks_in_flight, 2);
	assert_int_equal(proc(m, PID)->peak_tasks_ns, SEC(7));
	assert_int_equal(site(m, &FETCH)->peak_in_flight, 2);
	assert_int_equal(site(m, &FETCH)->peak_ns, SEC(7));
}

static void test_peaks_per_site_and_process(void **state)
{
	struct model *m = *state;

	assert_non_null(model_add_process(m, OTHER_PID, "python3", "/usr/bin/python3"));
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_C, &WORKER, 0, AT(1));
	model_task_created(m, OTHER_PID, TASK_A, &FETCH, 0, AT(1));
	model_tasks_refreshed(m, AT(2));
	assert_int_equal(proc(m, PID)->peak_tasks_in_flight, 3);
	assert_int_equal(proc(m, OTHER_PID)->peak_tasks_in_flight, 1);
	assert_int_equal(site(m, &FETCH)->peak_in_flight, 2);
	assert_int_equal(site(m, &WORKER)->peak_in_flight, 1);
	assert_int_equal(m->sites[site_of(m, OTHER_PID, FETCH.file, FETCH.line, "fetch")]
				 .peak_in_flight, 1);
}

static void test_refresh_before_start_is_time_zero(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, START_NS - 5);
	model_tasks_refreshed(m, START_NS - 5);
	assert_int_equal(proc(m, PID)->peak_tasks_in_flight, 1);
	assert_int_equal(proc(m, PID)->peak_tasks_ns, 0);
	assert_int_equal(site(m, &FETCH)->peak_ns, 0);
}

/* --- connections of tasks --- */

static void test_conn_task_after_open_attributes_immediately(void **state)
{
	struct model *m = *state;
	int s;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	s = site_of(m, PID, FETCH.file, FETCH.line, "fetch");
	open_conn(m, PID, 100, AT(2));
	assert_int_equal(conn(m, PID, 100)->site, -1);
	model_conn_task(m, PID, 100, TASK_A);
	assert_int_equal(conn(m, PID, 100)->site, s);
	assert_int_equal(m->sites[s].conns_opened, 1);
	assert_int_equal(m->sites[s].conns_open, 1);
	assert_int_equal(m->sites[s].peak_conns_open, 1);
}

static void test_conn_task_before_open_is_pending(void **state)
{
	struct model *m = *state;
	int s;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	s = site_of(m, PID, FETCH.file, FETCH.line, "fetch");
	model_conn_task(m, PID, 100, TASK_A);
	assert_int_equal(m->sites[s].conns_opened, 1);
	assert_int_equal(m->sites[s].conns_open, 0);
	open_conn(m, PID, 100, AT(2));
	assert_int_equal(conn(m, PID, 100)->site, s);
	assert_int_equal(m->sites[s].conns_open, 1);
	assert_int_equal(m->sites[s].peak_conns_open, 1);
	assert_int_equal(m->sites[s].conns_opened, 1);
}

static void test_pending_attribution_matches_pid_and_ino(void **state)
{
	struct model *m = *state;
	int s;

	assert_non_null(model_add_process(m, OTHER_PID, "python3", "/usr/bin/python3"));
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	s = site_of(m, PID, FETCH.file, FETCH.line, "fetch");
	model_conn_task(m, PID, 100, TASK_A);
	open_conn(m, OTHER_PID, 100, AT(2));
	open_conn(m, PID, 101, AT(2));
	assert_int_equal(conn(m, OTHER_PID, 100)->site, -1);
	assert_int_equal(conn(m, PID, 101)->site, -1);
	open_conn(m, PID, 100, AT(3));
	assert_int_equal(conn(m, PID, 100)->site, s);
	assert_int_equal(m->sites[s].conns_open, 1);
}

static void test_pending_attribution_claimed_once(void **state)
{
	struct model *m = *state;
	int s;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	s = site_of(m, PID, FETCH.file, FETCH.line, "fetch");
	model_conn_task(m, PID, 100, TASK_A);
	open_conn(m, PID, 100, AT(2));
	model_conn_release(m, PID, 100, AT(3));
	open_conn(m, PID, 100, AT(4));
	assert_int_equal(conn(m, PID, 100)->site, -1);
	assert_int_equal(m->sites[s].conns_open, 0);
}

static void test_pending_attributions_survive_a_burst(void **state)
{
	struct model *m = *state;
	uint64_t ino;
	int s;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	s = site_of(m, PID, FETCH.file, FETCH.line, "fetch");
	/* a fan-out's worth of connects seen before any of their connections */
	for (ino = 1; ino <= 5000; ino++)
		model_conn_task(m, PID, ino, TASK_A);
	for (ino = 1; ino <= 5000; ino++)
		open_conn(m, PID, ino, AT(2));
	assert_int_equal(m->sites[s].conns_open, 5000);
}

static void test_pending_attributions_oldest_give_way(void **state)
{
	struct model *m = *state;
	uint64_t ino, last = 4 * MODEL_PENDING_ATTRIBUTIONS;
	int s;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	s = site_of(m, PID, FETCH.file, FETCH.line, "fetch");
	for (ino = 1; ino <= last; ino++)
		model_conn_task(m, PID, ino, TASK_A);
	open_conn(m, PID, 1, AT(2));
	assert_int_equal(conn(m, PID, 1)->site, -1);	/* long gone */
	for (ino = last - 99; ino <= last; ino++)
		open_conn(m, PID, ino, AT(2));
	assert_int_equal(m->sites[s].conns_open, 100);	/* the newest are all kept */
}

static void test_conn_task_unknown_task_ignored(void **state)
{
	struct model *m = *state;
	struct task_origin unknown = { NULL, 0, NULL, NULL, 0, 0, NULL, false, 0, 0 };

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &unknown, 0, AT(1));
	model_conn_task(m, PID, 100, TASK_C);	/* not a known task */
	model_conn_task(m, PID, 101, TASK_B);	/* a task without a site */
	open_conn(m, PID, 100, AT(2));
	open_conn(m, PID, 101, AT(2));
	assert_int_equal(conn(m, PID, 100)->site, -1);
	assert_int_equal(conn(m, PID, 101)->site, -1);
	assert_int_equal(site(m, &FETCH)->conns_opened, 0);
	assert_int_equal(site(m, &FETCH)->conns_open, 0);
}

static void test_conn_keeps_its_first_site(void **state)
{
	struct model *m = *state;
	int first;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &WORKER, 0, AT(1));
	first = site_of(m, PID, FETCH.file, FETCH.line, "fetch");
	open_conn(m, PID, 100, AT(2));
	model_conn_task(m, PID, 100, TASK_A);
	model_conn_task(m, PID, 100, TASK_B);
	assert_int_equal(conn(m, PID, 100)->site, first);
	assert_int_equal(site(m, &FETCH)->conns_open, 1);
	assert_int_equal(site(m, &WORKER)->conns_open, 0);
}

static void test_conn_release_drops_site_conns_open(void **state)
{
	struct model *m = *state;
	struct task_site *s;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	open_conn(m, PID, 100, AT(2));
	open_conn(m, PID, 101, AT(2));
	model_conn_task(m, PID, 100, TASK_A);
	model_conn_task(m, PID, 101, TASK_A);
	s = site(m, &FETCH);
	assert_int_equal(s->conns_open, 2);
	assert_int_equal(s->peak_conns_open, 2);
	model_conn_release(m, PID, 100, AT(3));
	assert_int_equal(s->conns_open, 1);
	assert_int_equal(s->peak_conns_open, 2);
	model_conn_release(m, PID, 101, AT(3));
	assert_int_equal(s->conns_open, 0);
	assert_int_equal(s->peak_conns_open, 2);
	assert_int_equal(s->conns_opened, 2);
	/* a new one counts from zero, under the old peak */
	open_conn(m, PID, 102, AT(4));
	model_conn_task(m, PID, 102, TASK_A);
	assert_int_equal(s->conns_open, 1);
	assert_int_equal(s->peak_conns_open, 2);
	assert_int_equal(s->conns_opened, 3);
}

static void test_conn_release_unattributed_leaves_site(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	open_conn(m, PID, 100, AT(2));
	open_conn(m, PID, 101, AT(2));
	model_conn_task(m, PID, 100, TASK_A);
	model_conn_release(m, PID, 101, AT(3));
	assert_int_equal(site(m, &FETCH)->conns_open, 1);
}

static void test_conn_attribution_outlives_task(void **state)
{
	struct model *m = *state;

	/* the connection stays with the site after its task is gone */
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	open_conn(m, PID, 100, AT(2));
	model_conn_task(m, PID, 100, TASK_A);
	model_task_destroyed(m, PID, TASK_A, 2, AT(3));
	assert_int_equal(site(m, &FETCH)->conns_open, 1);
	model_conn_release(m, PID, 100, AT(4));
	assert_int_equal(site(m, &FETCH)->conns_open, 0);
}

/* --- limits --- */

static void test_max_tasks_counts_untracked(void **state)
{
	struct model *m = *state;
	struct visited v;

	m->max_tasks = 2;
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(1));
	assert_int_equal(m->untracked_tasks, 1);
	assert_int_equal(m->n_tasks, 2);
	assert_int_equal(proc(m, PID)->tasks_created, 3);
	assert_int_equal(site(m, &FETCH)->created, 2);
	v = pending(m);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.addr[0], TASK_A);
	assert_int_equal(v.addr[1], TASK_B);
	/* the untracked one's end is not seen */
	model_task_destroyed(m, PID, TASK_C, 0, AT(2));
	assert_int_equal(proc(m, PID)->tasks_destroyed_pending, 0);
	assert_int_equal(proc(m, PID)->tasks_done, 0);
}

static void test_max_tasks_room_again_after_destroy(void **state)
{
	struct model *m = *state;

	m->max_tasks = 2;
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_B, &FETCH, 0, AT(1));
	model_task_destroyed(m, PID, TASK_A, 2, AT(2));
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(3));
	assert_int_equal(m->untracked_tasks, 0);
	assert_int_equal(m->n_tasks, 2);
	assert_int_equal(site(m, &FETCH)->created, 3);
	/* done, not destroyed, still takes room */
	model_task_done(m, PID, TASK_B, 2, AT(4));
	model_task_created(m, PID, TASK_D, &FETCH, 0, AT(5));
	assert_int_equal(m->untracked_tasks, 1);
}

static void test_max_tasks_default_from_max_conns(void **state)
{
	struct model *m = *state;

	assert_int_equal(m->max_tasks, 4 * 100000);
}

static void test_model_free_releases_tasks(void **state)
{
	struct model *m = *state;
	uint64_t i;

	/* LeakSanitizer checks what model_free leaves behind */
	for (i = 0; i < 200; i++)
		model_task_created(m, PID, TASK_A + i * 64, i % 2 ? &FETCH : &WORKER, 0, AT(1));
	model_conn_task(m, PID, 100, TASK_A);
	assert_int_equal(m->n_tasks, 200);
	model_free(m);
	assert_null(m->tasks);
	assert_null(m->sites);
	assert_int_equal(m->n_tasks, 0);
	assert_int_equal(m->n_sites, 0);
	/* and it can be used again */
	model_init(m, START_NS, 10);
	assert_non_null(model_add_process(m, PID, "python3", "/usr/bin/python3"));
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(1));
	assert_int_equal(m->n_tasks, 1);
	assert_int_equal(m->n_sites, 1);
}

static void test_existing_tasks_count_at_attach_not_as_created(void **state)
{
	struct model *m = *state;
	struct task_site *s;

	model_task_existing(m, PID, TASK_A, &FETCH, 0, START_NS);
	model_task_existing(m, PID, TASK_B, &FETCH, 0, START_NS);
	s = site(m, &FETCH);
	assert_int_equal(s->at_attach, 2);
	assert_int_equal(s->created, 0);
	assert_int_equal(s->in_flight, 2);
	assert_int_equal(proc(m, PID)->tasks_at_attach, 2);
	assert_int_equal(proc(m, PID)->tasks_created, 0);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 2);
	/* seen done like any other */
	model_task_done(m, PID, TASK_A, 2, AT(1));
	assert_int_equal(s->in_flight, 1);
}

static void test_an_existing_task_the_probes_saw_is_not_added_again(void **state)
{
	struct model *m = *state;

	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(0.01));
	model_task_existing(m, PID, TASK_A, &FETCH, 0, START_NS);
	assert_int_equal(site(m, &FETCH)->created, 1);
	assert_int_equal(site(m, &FETCH)->at_attach, 0);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
}

static void test_a_task_created_while_memory_was_read_counts_once(void **state)
{
	struct model *m = *state;

	model_task_existing(m, PID, TASK_A, &FETCH, 0, AT(1));
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(0.5));	/* its event, drained after */
	assert_int_equal(site(m, &FETCH)->created, 0);
	assert_int_equal(site(m, &FETCH)->at_attach, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
	assert_int_equal(proc(m, PID)->tasks_created, 0);
	/* created after the read: the address reused */
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(2));
	assert_int_equal(site(m, &FETCH)->created, 1);
	assert_int_equal(site(m, &FETCH)->done, 1);
	assert_int_equal(proc(m, PID)->tasks_in_flight, 1);
}

static void test_the_probes_give_a_site_to_a_task_read_without_one(void **state)
{
	struct model *m = *state;
	struct task_origin none = { .coroutine = "fetch" };

	model_task_existing(m, PID, TASK_A, &none, 0, AT(1));
	assert_int_equal(m->n_sites, 0);
	model_task_created(m, PID, TASK_A, &FETCH, 0, AT(0.5));
	assert_int_equal(site(m, &FETCH)->at_attach, 1);
	assert_int_equal(site(m, &FETCH)->in_flight, 1);
	assert_int_equal(proc(m, PID)->tasks_at_attach, 1);
}

static void test_a_socket_read_before_its_connection_waits_for_it(void **state)
{
	struct model *m = *state;
	struct task_site *s;

	model_task_existing(m, PID, TASK_A, &FETCH, 0, START_NS);
	model_conn_task_existing(m, PID, 100, TASK_A);
	open_conn(m, PID, 100, AT(1));
	s = site(m, &FETCH);
	assert_int_equal(s->conns_open, 1);
	assert_int_equal(s->conns_opened, 0);	/* found in memory, not seen opened */
}

static void test_existing_task_without_origin_has_no_site(void **state)
{
	struct model *m = *state;
	struct task_origin none = { .coroutine = "orphan" };

	model_task_existing(m, PID, TASK_A, &none, 0, START_NS);
	assert_int_equal(m->n_sites, 0);
	assert_int_equal(proc(m, PID)->tasks_at_attach, 1);
}

static void test_existing_connection_goes_to_its_reader_task(void **state)
{
	struct model *m = *state;
	struct task_site *s;

	open_conn(m, PID, 100, START_NS);
	model_task_existing(m, PID, TASK_A, &FETCH, 0, START_NS);
	model_conn_task_existing(m, PID, 100, TASK_A);
	model_conn_task_existing(m, PID, 101, TASK_A);	/* no such connection (yet): nothing */
	model_conn_task_existing(m, PID, 100, TASK_B);	/* no such task: nothing */
	s = site(m, &FETCH);
	assert_int_equal(s->conns_open, 1);
	assert_int_equal(s->peak_conns_open, 1);
	assert_int_equal(s->conns_opened, 0);	/* it was not opened during the trace */
	assert_int_equal(s->n_endpoints, 1);
	assert_int_equal(s->endpoints[0].opened, 0);
	assert_int_equal(s->endpoints[0].peak_open, 1);
	assert_int_equal(conn(m, PID, 100)->site, site_of(m, PID, FETCH.file, FETCH.line,
							  FETCH.coroutine));
}

static void test_site_of_existing_tasks_is_claimed_by_the_thread_that_adds_to_it(void **state)
{
	struct model *m = *state;
	struct task_origin traced = FETCH;

	model_task_existing(m, PID, TASK_A, &FETCH, 0, START_NS);	/* thread 0: unknown */
	traced.tid = PID + 1;
	model_task_created(m, PID, TASK_B, &traced, 0, AT(1));
	assert_int_equal(m->n_sites, 1);
	assert_int_equal(m->sites[0].tid, PID + 1);
	assert_int_equal(m->sites[0].at_attach, 1);
	assert_int_equal(m->sites[0].created, 1);
	assert_int_equal(m->sites[0].in_flight, 2);
	/* another thread at the same line is another site */
	traced.tid = PID + 2;
	model_task_created(m, PID, TASK_C, &traced, 0, AT(2));
	assert_int_equal(m->n_sites, 2);
}

#define CORO_A 0x7f0000101000ull
#define CORO_B 0x7f0000102000ull

/* FETCH, running the coroutine at coro */
static struct task_origin fetch_running(uint64_t coro)
{
	struct task_origin o = FETCH;

	o.coro_addr = coro;
	return o;
}

static void test_task_found_by_its_coroutine_in_its_process(void **state)
{
	struct model *m = *state;
	struct task_origin a = fetch_running(CORO_A), b = fetch_running(CORO_B);
	struct task_origin unknown = fetch_running(CORO_B + 64);

	model_task_created(m, PID, TASK_A, &a, 0, AT(1));
	model_task_existing(m, PID, TASK_B, &b, 0, START_NS);
	assert_non_null(model_add_process(m, OTHER_PID, "python3", "/usr/bin/python3"));
	model_task_created(m, OTHER_PID, TASK_C, &a, 0, AT(1));
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_A), TASK_A);
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_B), TASK_B);
	assert_int_equal(model_task_of_coroutine(m, OTHER_PID, CORO_A), TASK_C);
	assert_int_equal(model_task_of_coroutine(m, OTHER_PID, CORO_B), 0);
	assert_int_equal(model_task_of_coroutine(m, PID, 0), 0);
	/* a task of a process not traced, or one without a coroutine: nothing recorded */
	model_task_created(m, PID + 1, TASK_D, &unknown, 0, AT(1));
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_B + 64), 0);
	model_task_created(m, PID, TASK_D, &FETCH, 0, AT(1));
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_A), TASK_A);
}

static void test_destroyed_task_no_longer_found_by_coroutine(void **state)
{
	struct model *m = *state;
	struct task_origin a = fetch_running(CORO_A);

	model_task_created(m, PID, TASK_A, &a, 0, AT(1));
	model_task_done(m, PID, TASK_A, 2, AT(2));
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_A), TASK_A);	/* still alive */
	model_task_destroyed(m, PID, TASK_A, 2, AT(3));
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_A), 0);
}

static void test_reused_coroutine_address_belongs_to_newest_task(void **state)
{
	struct model *m = *state;
	struct task_origin a = fetch_running(CORO_A), b = fetch_running(CORO_B);

	/* the coroutine's memory reused by another task's coroutine, no dealloc seen */
	model_task_created(m, PID, TASK_A, &a, 0, AT(1));
	model_task_created(m, PID, TASK_B, &a, 0, AT(2));
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_A), TASK_B);
	model_task_destroyed(m, PID, TASK_A, 2, AT(3));
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_A), TASK_B);
	/* the task's memory reused: its old coroutine goes with the old task */
	model_task_created(m, PID, TASK_B, &b, 0, AT(4));
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_A), 0);
	assert_int_equal(model_task_of_coroutine(m, PID, CORO_B), TASK_B);
}

static void test_pending_iteration_gives_each_task_its_coroutine(void **state)
{
	struct model *m = *state;
	struct task_origin a = fetch_running(CORO_A), b = fetch_running(CORO_B);
	struct visited v;

	model_task_created(m, PID, TASK_A, &a, 0, AT(1));
	model_task_existing(m, PID, TASK_B, &b, 0, START_NS);
	model_task_created(m, PID, TASK_C, &FETCH, 0, AT(1));
	v = pending(m);
	assert_int_equal(v.n, 3);
	for (size_t i = 0; i < v.n; i++)
		assert_int_equal(v.coro[i], v.addr[i] == TASK_A ? CORO_A :
					    v.addr[i] == TASK_B ? CORO_B : 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_model, teardown_model)
	const struct CMUnitTest tests[] = {
		T(test_task_found_by_its_coroutine_in_its_process),
		T(test_destroyed_task_no_longer_found_by_coroutine),
		T(test_reused_coroutine_address_belongs_to_newest_task),
		T(test_pending_iteration_gives_each_task_its_coroutine),
		T(test_existing_tasks_count_at_attach_not_as_created),
		T(test_site_of_existing_tasks_is_claimed_by_the_thread_that_adds_to_it),
		T(test_an_existing_task_the_probes_saw_is_not_added_again),
		T(test_existing_task_without_origin_has_no_site),
		T(test_existing_connection_goes_to_its_reader_task),
		T(test_a_task_created_while_memory_was_read_counts_once),
		T(test_the_probes_give_a_site_to_a_task_read_without_one),
		T(test_a_socket_read_before_its_connection_waits_for_it),
		T(test_created_task_counts_in_process_and_site),
		T(test_same_origin_shares_a_site),
		T(test_site_keyed_by_file_line_and_coroutine),
		T(test_site_not_keyed_by_function),
		T(test_site_keyed_by_pid),
		T(test_null_coroutine_and_function_become_question_mark),
		T(test_origin_without_file_counts_task_without_site),
		T(test_long_strings_truncated),
		T(test_unknown_process_ignored),
		T(test_many_sites_keep_their_counts),
		T(test_sites_per_thread_capped_and_tasks_past_the_cap_counted),
		T(test_parent_site_from_known_parent),
		T(test_parent_site_unknown_parent),
		T(test_parent_site_parent_without_site),
		T(test_parent_site_parent_in_other_process),
		T(test_parent_zero_is_no_parent),
		T(test_parent_site_kept_from_first_task),
		T(test_parent_site_gone_parent),
		T(test_done_leaves_flight_and_records_lifetime),
		T(test_done_twice_counted_once),
		T(test_done_unknown_task_ignored),
		T(test_done_before_created_time_no_lifetime),
		T(test_done_tasks_leave_pending_iteration),
		T(test_pending_iteration_over_processes),
		T(test_pending_iteration_empty_model),
		T(test_gathered_task_is_told_from_a_later_one_at_its_address),
		T(test_destroyed_pending_counted),
		T(test_destroyed_pending_at_shutdown),
		T(test_destroyed_finished_not_destroyed_pending),
		T(test_destroyed_cancelled_not_destroyed_pending),
		T(test_destroyed_after_done_counted_once),
		T(test_destroyed_unknown_task_ignored),
		T(test_reused_address_closes_old_task),
		T(test_peaks_only_taken_at_refresh),
		T(test_peak_kept_when_flight_drops),
		T(test_peak_between_refreshes_not_seen),
		T(test_peaks_per_site_and_process),
		T(test_refresh_before_start_is_time_zero),
		T(test_conn_task_after_open_attributes_immediately),
		T(test_conn_task_before_open_is_pending),
		T(test_pending_attribution_matches_pid_and_ino),
		T(test_pending_attribution_claimed_once),
		T(test_pending_attributions_survive_a_burst),
		T(test_pending_attributions_oldest_give_way),
		T(test_conn_task_unknown_task_ignored),
		T(test_conn_keeps_its_first_site),
		T(test_conn_release_drops_site_conns_open),
		T(test_conn_release_unattributed_leaves_site),
		T(test_conn_attribution_outlives_task),
		T(test_max_tasks_counts_untracked),
		T(test_max_tasks_room_again_after_destroy),
		T(test_max_tasks_default_from_max_conns),
		T(test_model_free_releases_tasks),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
