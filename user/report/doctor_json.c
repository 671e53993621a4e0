// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* inflight doctor's JSON: docs/doctor-schema.md. */
#include <errno.h>
#include <json-c/json.h>
#include "doctor.h"
#include "report.h"

#define DOCTOR_SCHEMA_VERSION 1

static const char *status_name(enum doctor_status s)
{
	switch (s) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_NOTE:
		return "note";
	case DOCTOR_PROBLEM:
		return "problem";
	}
	return "unknown";
}

/* A string, or null when empty. */
static json_object *str_or_null(const char *s)
{
	return s[0] ? json_str(s) : NULL;
}

static json_object *checks_json(const struct doctor_checks *cs)
{
	json_object *a = json_object_new_array(), *o;
	size_t i;

	for (i = 0; i < cs->n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "check", json_str(cs->items[i].name));
		json_object_object_add(o, "status",
				       json_object_new_string(status_name(cs->items[i].status)));
		json_object_object_add(o, "found", json_str(cs->items[i].found));
		json_object_object_add(o, "advice", str_or_null(cs->items[i].advice));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *target_json(const struct doctor_target *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(t->pid));
	json_object_object_add(o, "comm", json_str(t->comm));
	json_object_object_add(o, "exe", str_or_null(t->exe));
	json_object_object_add(o, "python", json_object_new_boolean(t->python));
	json_object_object_add(o, "python_version", str_or_null(t->version));
	json_object_object_add(o, "build", str_or_null(t->build));
	json_object_object_add(o, "runtime_file", str_or_null(t->runtime_file));
	json_object_object_add(o, "asyncio_file", str_or_null(t->asyncio_file));
	json_object_object_add(o, "asyncio_hook", str_or_null(t->asyncio_hook));
	json_object_object_add(o, "root", str_or_null(t->root));
	json_object_object_add(o, "memory_readable", json_object_new_boolean(t->memory_readable));
	json_object_object_add(o, "checks", checks_json(&t->checks));
	return o;
}

static json_object *verdict_json(const struct doctor_verdict *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "capability", json_object_new_string(v->capability));
	json_object_object_add(o, "target_pid", v->target_pid ? json_object_new_int(v->target_pid) :
				NULL);
	json_object_object_add(o, "ready", json_object_new_boolean(v->ready));
	json_object_object_add(o, "why", v->ready ? NULL : json_str(v->why));
	return o;
}

static json_object *host_json(const struct doctor_report *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kernel_release", json_str(r->kernel_release));
	json_object_object_add(o, "checks", checks_json(&r->host));
	return o;
}

int doctor_write_json(FILE *f, const struct doctor_report *r)
{
	json_object *root = json_object_new_object(), *targets, *verdicts;
	const char *text;
	size_t i;
	int err = 0;

	json_object_object_add(root, "schema", json_object_new_string("inflight-doctor"));
	json_object_object_add(root, "schema_version", json_object_new_int(DOCTOR_SCHEMA_VERSION));
	json_object_object_add(root, "inflight_version", json_object_new_string(r->version));
	json_object_object_add(root, "host", host_json(r));
	targets = json_object_new_array();
	for (i = 0; i < r->n_targets; i++)
		json_object_array_add(targets, target_json(&r->targets[i]));
	json_object_object_add(root, "targets", targets);
	verdicts = json_object_new_array();
	for (i = 0; i < r->n_verdicts; i++)
		json_object_array_add(verdicts, verdict_json(&r->verdicts[i]));
	json_object_object_add(root, "verdicts", verdicts);
	json_object_object_add(root, "ready", json_object_new_boolean(doctor_all_ready(r)));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || fputs(text, f) < 0 || fputc('\n', f) < 0)
		err = -EIO;
	json_object_put(root);
	return err;
}
