// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/report/doctor*.c: the verdict lines; a hostile comm in text and JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "doctor.h"

/* A host that can trace but not attach uprobes, and one target named by a hostile comm. */
static void fill(struct doctor_report *r)
{
	struct doctor_check *c;

	memset(r, 0, sizeof(*r));
	r->version = "0.1.0";
	snprintf(r->kernel_release, sizeof(r->kernel_release), "6.1.0-18-amd64");
	c = doctor_check_add(&r->host, "capabilities", DOCTOR_PROBLEM);
	snprintf(c->found, sizeof(c->found), "lacks CAP_SYS_ADMIN");
	snprintf(c->advice, sizeof(c->advice), "uprobes need it");
	r->targets = calloc(1, sizeof(*r->targets));
	assert_non_null(r->targets);
	r->n_targets = 1;
	r->targets[0].pid = 4321;
	memcpy(r->targets[0].comm, "\x1b[2Jevil\xff\n", 11);
	assert_true(doctor_verdict_add(r, "trace", 0, true, "ignored"));
	assert_true(doctor_verdict_add(r, "tasks", 0, false, "failed to attach a uprobe: %s",
				       "Permission denied"));
	assert_true(doctor_verdict_add(r, "tasks", 4321, false, "CPython 3.%d is not supported", 8));
}

static char *text_of(const struct doctor_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(doctor_write_text(f, r), 0);
	fclose(f);
	return buf;
}

static void test_verdict_lines(void **state)
{
	struct doctor_report r;
	char *text;

	fill(&r);
	text = text_of(&r);
	assert_non_null(strstr(text, "\nVerdicts for this host\ntrace: ready\n"
				     "tasks: no (failed to attach a uprobe: Permission denied)\n"));
	assert_non_null(strstr(text, "\nVerdicts for PID 4321\n"
				     "tasks: no (CPython 3.8 is not supported)\n"));
	/* the comm's escape sequence and newline are shown, not sent to the terminal */
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "PID 4321 (\\x1b[2Jevil\\xff\\x0a)"));
	assert_false(doctor_all_ready(&r));
	free(text);
	doctor_report_free(&r);
}

static void test_json(void **state)
{
	struct doctor_report r;
	json_object *root, *v, *o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	fill(&r);
	f = open_memstream(&buf, &len);
	assert_int_equal(doctor_write_json(f, &r), 0);
	fclose(f);
	root = json_tokener_parse(buf);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "schema_version", &o));
	assert_int_equal(json_object_get_int(o), 1);
	assert_true(json_object_object_get_ex(root, "ready", &o));
	assert_false(json_object_get_boolean(o));
	assert_true(json_object_object_get_ex(root, "verdicts", &v));
	assert_int_equal(json_object_array_length(v), 3);
	o = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(o, "why", &o));
	assert_null(o);		/* ready: why is null */
	o = json_object_array_get_idx(v, 2);
	assert_true(json_object_object_get_ex(o, "target_pid", &o));
	assert_int_equal(json_object_get_int(o), 4321);
	assert_true(json_object_object_get_ex(root, "targets", &v));
	o = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(o, "comm", &o));
	/* invalid UTF-8 replaced, the control bytes kept as JSON escapes */
	assert_string_equal(json_object_get_string(o), "\x1b[2Jevil\xef\xbf\xbd\n");
	json_object_put(root);
	free(buf);
	doctor_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_lines),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
