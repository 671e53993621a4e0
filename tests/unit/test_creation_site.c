// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for the creation-site policy (user/trackers/creation_site.c) and
 * the origin of tasks pending at attach (user/trackers/task_adoption.c), on
 * frames and snapshots made up here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "creation_site.h"
#include "task_adoption.h"

#define ASYNCIO "/usr/lib/python3.11/asyncio/"

static struct py_code code(const char *file, const char *name)
{
	struct py_code c = {};

	snprintf(c.filename, sizeof(c.filename), "%s", file);
	snprintf(c.name, sizeof(c.name), "%s", name);
	return c;
}

/* create_task called from the service's own code: that line */
static void test_innermost_own_frame(void **state)
{
	struct py_code create = code(ASYNCIO "tasks.py", "create_task");
	struct py_code handler = code("/srv/app.py", "handle"), main = code("/srv/app.py", "main");
	struct frame_ref frames[] = { { &create, 1 }, { &handler, 2 }, { &main, 3 } };

	assert_int_equal(creation_site_frame(frames, 3), 1);
}

/* gather() wraps coroutines in tasks inside asyncio: still the caller's line */
static void test_through_asyncio_frames(void **state)
{
	struct py_code ensure = code(ASYNCIO "tasks.py", "ensure_future");
	struct py_code gather = code(ASYNCIO "tasks.py", "gather");
	struct py_code fetch = code("/srv/app.py", "fetch_all");
	struct frame_ref frames[] = { { &ensure, 1 }, { &gather, 2 }, { &fetch, 3 } };

	assert_int_equal(creation_site_frame(frames, 3), 2);
}

/* a server's handler task, made from a loop callback: the callback inside Handle._run */
static void test_loop_callback_is_the_site(void **state)
{
	struct py_code create = code(ASYNCIO "events.py", "AbstractEventLoop.create_task");
	struct py_code accept = code(ASYNCIO "streams.py", "StreamReaderProtocol.connection_made");
	struct py_code run = code(ASYNCIO "events.py", "Handle._run");
	struct py_code loop = code(ASYNCIO "base_events.py", "BaseEventLoop._run_once");
	struct py_code main = code("/srv/app.py", "main");
	struct frame_ref frames[] = { { &create, 1 }, { &accept, 2 }, { &run, 3 }, { &loop, 4 },
				      { &main, 5 } };

	assert_int_equal(creation_site_frame(frames, 5), 1);
}

/* 3.9 and 3.10 name the runner plainly */
static void test_plain_named_runner(void **state)
{
	struct py_code accept = code(ASYNCIO "streams.py", "connection_made");
	struct py_code run = code(ASYNCIO "events.py", "_run");
	struct frame_ref frames[] = { { &accept, 1 }, { &run, 2 } };

	assert_int_equal(creation_site_frame(frames, 2), 0);
}

/* the runner first, nothing of asyncio inside it: no site */
static void test_runner_first_no_site(void **state)
{
	struct py_code run = code(ASYNCIO "events.py", "Handle._run");
	struct py_code main = code("/srv/app.py", "main");
	struct frame_ref frames[] = { { &run, 1 }, { &main, 2 } };

	assert_int_equal(creation_site_frame(frames, 2), -1);
}

/* unreadable frames are passed over; all asyncio, or none at all: no site */
static void test_unreadable_and_empty(void **state)
{
	struct py_code create = code(ASYNCIO "tasks.py", "create_task");
	struct py_code main = code("/srv/app.py", "main");
	struct frame_ref frames[] = { { NULL, 1 }, { &create, 2 }, { NULL, 3 }, { &main, 4 } };

	assert_int_equal(creation_site_frame(frames, 4), 3);
	assert_int_equal(creation_site_frame(frames, 3), -1);
	assert_int_equal(creation_site_frame(frames, 0), -1);
}

static struct snapshot_task task(uint64_t addr, const char *coroutine, uint64_t parent)
{
	struct snapshot_task t = { .addr = addr, .coroutine = coroutine, .parent = parent,
				   .socket_fd = -1 };

	snprintf(t.name, sizeof(t.name), "Task-%llu", (unsigned long long)(addr & 0xff));
	return t;
}

static void add_frame(struct snapshot_task *t, const char *file, const char *function, int line)
{
	t->frames[t->n_frames++] = (struct snapshot_frame){ file, function, line };
}

/* awaited: the line its awaiting task is suspended at, outside asyncio */
static void test_existing_origin_from_parent(void **state)
{
	struct snapshot_task parent = task(0x10, "main", 0), child = task(0x20, "fetch", 0x10);
	struct task_origin o;

	add_frame(&parent, "/srv/app.py", "main", 40);
	add_frame(&parent, ASYNCIO "tasks.py", "gather", 700);
	existing_origin(&child, &parent, &o);
	assert_string_equal(o.file, "/srv/app.py");
	assert_int_equal(o.line, 40);
	assert_string_equal(o.coroutine, "fetch");
	assert_null(o.task_name);
}

/* nothing awaits it: where it is suspended, with its name */
static void test_existing_origin_of_a_root(void **state)
{
	struct snapshot_task main = task(0x11, "main", 0);
	struct task_origin o;

	add_frame(&main, "/srv/app.py", "main", 12);
	add_frame(&main, "/srv/client.py", "Client.get", 88);
	add_frame(&main, ASYNCIO "streams.py", "StreamReader.read", 700);
	existing_origin(&main, NULL, &o);
	assert_string_equal(o.file, "/srv/client.py");
	assert_int_equal(o.line, 88);
	assert_string_equal(o.task_name, "Task-17");
}

/* awaited by a task the snapshot could not read: no line to give it */
static void test_existing_origin_unknown_parent(void **state)
{
	struct snapshot_task child = task(0x20, "fetch", 0x99);
	struct task_origin o;

	add_frame(&child, "/srv/app.py", "fetch", 7);
	existing_origin(&child, NULL, &o);
	assert_null(o.file);
	assert_string_equal(o.coroutine, "fetch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_innermost_own_frame),
		cmocka_unit_test(test_through_asyncio_frames),
		cmocka_unit_test(test_loop_callback_is_the_site),
		cmocka_unit_test(test_plain_named_runner),
		cmocka_unit_test(test_runner_first_no_site),
		cmocka_unit_test(test_unreadable_and_empty),
		cmocka_unit_test(test_existing_origin_from_parent),
		cmocka_unit_test(test_existing_origin_of_a_root),
		cmocka_unit_test(test_existing_origin_unknown_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
