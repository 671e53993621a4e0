// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Warnings in the model (model_warnings.c) and the findings made of them:
 * grouping by category and site, the coroutine a never-awaited names, the
 * knowledge table of deprecations, and an unclosed connection attributed to
 * the task that opened it, through the fd its warnings name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "clock.h"
#include "findings.h"

#define START_NS (500 * NSEC_PER_SEC)
#define AT(s) (START_NS + (uint64_t)((s) * (double)NSEC_PER_SEC))
#define PID 4242
#include "model_fixture.h"

static void warn(struct model *m, const char *category, const char *file, int line,
		 const char *message, int fd, uint64_t ino, uint64_t ts)
{
	struct warning_seen w = { .category = category, .file = file, .line = line,
				  .message = message, .fd = fd, .fd_ino = ino };

	model_warning(m, PID, &w, ts);
}

static struct findings compute(struct model *m)
{
	struct findings fs;

	assert_int_equal(findings_compute(m, &default_thresholds, AT(10), &fs), 0);
	return fs;
}

static void test_never_awaited_names_the_coroutine(void **state)
{
	struct model *m = *state;
	struct findings fs;

	warn(m, "RuntimeWarning", "app.py", 12, "coroutine 'notify' was never awaited", -1, 0, AT(1));
	warn(m, "RuntimeWarning", "app.py", 12, "coroutine 'notify' was never awaited", -1, 0, AT(2));
	fs = compute(m);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].kind, FINDING_NEVER_AWAITED);
	assert_string_equal(fs.items[0].warning.coroutine, "notify");
	assert_int_equal(m->n_warnings, 1);
	assert_int_equal(m->warnings[0].count, 2);
	assert_int_equal(m->warnings[0].line, 12);
	findings_free(&fs);
}

static void test_deprecations_known_and_unknown(void **state)
{
	struct model *m = *state;
	struct findings fs;
	size_t i;

	warn(m, "DeprecationWarning", "app.py", 3, "There is no current event loop", -1, 0, AT(1));
	warn(m, "DeprecationWarning", "app.py", 4, "old_thing() is deprecated", -1, 0, AT(1));
	fs = compute(m);
	assert_int_equal(fs.len, 2);
	for (i = 0; i < fs.len; i++) {
		const struct warning_evidence *ev = &fs.items[i].warning;

		assert_int_equal(fs.items[i].kind, FINDING_DEPRECATED_API);
		if (m->warnings[ev->group].line == 3) {
			assert_string_equal(ev->call, "asyncio.get_event_loop()");
			assert_string_equal(ev->removed_in, "3.14");
			assert_non_null(ev->replacement);
		} else {
			assert_string_equal(ev->call, "old_thing() is deprecated");
			assert_null(ev->removed_in);
		}
	}
	findings_free(&fs);
}

static void test_other_categories_counted_only(void **state)
{
	struct model *m = *state;
	struct findings fs;

	warn(m, "UserWarning", "app.py", 5, "careful", -1, 0, AT(1));
	warn(m, "RuntimeWarning", "app.py", 6, "overflow encountered", -1, 0, AT(1));
	warn(m, "ResourceWarning", "app.py", 7, "something else", -1, 0, AT(1));
	fs = compute(m);
	assert_int_equal(fs.len, 0);
	assert_int_equal(m->n_warnings, 3);
	findings_free(&fs);
}

/* A task created at opener.py:20 running fetch, which opens connection ino. */
static int task_with_connection(struct model *m, uint64_t ino)
{
	struct task_origin o = { .file = "opener.py", .line = 20, .function = "main",
				 .coroutine = "fetch", .tid = PID };
	struct conn c = { .pid = PID, .ino = ino, .source = CONN_SEEN_CONNECT,
			  .state = TCP_STATE_ESTABLISHED, .opened_ns = AT(1) };

	model_task_created(m, PID, 0x1000, &o, 0, AT(1));
	model_conn_open(m, &c);
	model_conn_task(m, PID, ino, 0x1000);
	return model_find_conn(m, PID, ino)->site;
}

static void test_socket_and_transport_are_one_connection(void **state)
{
	struct model *m = *state;
	int site = task_with_connection(m, 777);
	struct findings fs;

	assert_true(site >= 0);
	warn(m, "ResourceWarning", "app.py", 30, "unclosed <socket.socket fd=7, ...>", 7, 777,
	     AT(2));
	/* the socket closed the fd: its transport names it closed, just after */
	warn(m, "ResourceWarning", "selector_events.py", 702,
	     "unclosed transport <_SelectorSocketTransport fd=7>", 7, 0, AT(2.001));
	fs = compute(m);
	assert_int_equal(fs.len, 1);
	assert_int_equal(fs.items[0].kind, FINDING_UNCLOSED_RESOURCE);
	assert_true(fs.items[0].warning.attributed);
	assert_int_equal(fs.items[0].site, site);
	assert_int_equal(fs.items[0].warning.warnings, 2);
	findings_free(&fs);
}

static void test_closed_fd_long_after_is_not_attributed(void **state)
{
	struct model *m = *state;
	struct findings fs;

	task_with_connection(m, 778);
	warn(m, "ResourceWarning", "app.py", 30, "unclosed <socket.socket fd=7, ...>", 7, 778,
	     AT(2));
	warn(m, "ResourceWarning", "selector_events.py", 702,
	     "unclosed transport <_SelectorSocketTransport fd=7>", 7, 0, AT(3));
	fs = compute(m);
	assert_int_equal(fs.len, 2);
	assert_true(fs.items[0].warning.attributed != fs.items[1].warning.attributed);
	findings_free(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_never_awaited_names_the_coroutine,
						setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_deprecations_known_and_unknown,
						setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_other_categories_counted_only,
						setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_socket_and_transport_are_one_connection,
						setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_closed_fd_long_after_is_not_attributed,
						setup_model, teardown_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
