// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* The sweep's snapshot; its schema is documented in docs/snapshot-schema.md. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "clock.h"
#include "report_snapshot.h"

/* a string, or null */
static json_object *json_opt(const char *s)
{
	return s ? json_str(s) : NULL;
}

static json_object *cmdline_json(const struct snapshot_process *sp)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sp->argc; i++)
		json_object_array_add(a, json_str(sp->argv[i]));
	return a;
}

static json_object *host_json(const struct snapshot_info *info)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "hostname", json_str(info->hostname));
	json_object_object_add(o, "machine_id", json_opt(info->machine_id));
	json_object_object_add(o, "kernel", json_str(info->kernel));
	return o;
}

static json_object *container_json(const struct snapshot_process *sp)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "cgroup", json_opt(sp->cgroup));
	json_object_object_add(o, "runtime", json_opt(sp->runtime));
	json_object_object_add(o, "name", json_opt(sp->container_name));
	json_object_object_add(o, "id", json_opt(sp->container_id));
	return o;
}

static json_object *service_json(const struct model *m, const struct findings *fs,
				 const struct snapshot_process *sp, uint64_t now_ns)
{
	const struct proc_model *p = model_process(m, sp->pid);
	json_object *o = json_object_new_object(), *found = json_object_new_array();
	size_t i;

	json_object_object_add(o, "service", json_str(sp->service));
	json_object_object_add(o, "service_source", json_str(sp->service_source));
	json_object_object_add(o, "pid", json_object_new_int(sp->pid));
	json_object_object_add(o, "exe", json_str(sp->exe));
	json_object_object_add(o, "cmdline", cmdline_json(sp));
	json_object_object_add(o, "python", json_opt(sp->python));
	json_object_object_add(o, "container", container_json(sp));
	json_object_object_add(o, "target", p ? report_json_target(m, p, now_ns) : NULL);
	for (i = 0; i < fs->len; i++)
		if (fs->items[i].pid == sp->pid)
			json_object_array_add(found, report_json_finding(m, &fs->items[i]));
	json_object_object_add(o, "findings", found);
	return o;
}

static json_object *skipped_json(const struct snapshot_process *sp)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(sp->pid));
	json_object_object_add(o, "exe", json_str(sp->exe));
	json_object_object_add(o, "cmdline", cmdline_json(sp));
	json_object_object_add(o, "service", json_str(sp->service));
	json_object_object_add(o, "reason", json_str(sp->reason));
	return o;
}

static json_object *snapshot_json(const struct report_meta *meta, const struct model *m,
				  const struct findings *fs, const struct snapshot_info *info)
{
	json_object *root = json_object_new_object(), *tool, *a;
	size_t i;

	json_object_object_add(root, "schema", json_str("inflight-snapshot"));
	json_object_object_add(root, "schema_version", json_object_new_int(SNAPSHOT_SCHEMA_VERSION));
	tool = json_object_new_object();
	json_object_object_add(tool, "name", json_str("inflight"));
	json_object_object_add(tool, "version", json_str(meta->version));
	json_object_object_add(root, "tool", tool);
	json_object_object_add(root, "host", host_json(info));
	json_object_object_add(root, "started_at", report_json_started_at(m));
	json_object_object_add(root, "duration_s", json_fixed(ns_to_s(meta->now_ns - m->start_ns), 6));
	json_object_object_add(root, "end_reason", json_str(meta->end_reason));
	json_object_object_add(root, "mode", json_str(trace_mode_name(m->mode)));
	a = json_object_new_array();
	for (i = 0; i < info->n_services; i++)
		json_object_array_add(a, service_json(m, fs, &info->services[i], meta->now_ns));
	json_object_object_add(root, "services", a);
	a = json_object_new_array();
	for (i = 0; i < info->n_skipped; i++)
		json_object_array_add(a, skipped_json(&info->skipped[i]));
	json_object_object_add(root, "skipped", a);
	json_object_object_add(root, "thresholds", report_json_thresholds(meta->thresholds));
	json_object_object_add(root, "tracer", report_json_tracer(m));
	return root;
}

/* text as one gzip member (RFC 1952), as gunzip and zlib's gzread read it */
static int write_gzip(FILE *f, const char *text, size_t len)
{
	unsigned char out[64 * 1024];
	z_stream z = {};
	size_t n;
	int rc, err = 0;

	/* 15 + 16: a gzip header and trailer rather than zlib's */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)text;
	z.avail_in = (uInt)len;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = deflate(&z, Z_FINISH);
		n = sizeof(out) - z.avail_out;
		if (rc == Z_STREAM_ERROR || (n && fwrite(out, 1, n, f) != n)) {
			err = -EIO;
			break;
		}
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
	return err;
}

int report_write_snapshot(FILE *f, const struct report_meta *meta, const struct model *m,
			  const struct findings *fs, const struct snapshot_info *info)
{
	json_object *root = snapshot_json(meta, m, fs, info);
	const char *text;
	size_t len;
	int err;

	if (!root)
		return -ENOMEM;
	text = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	err = text ? write_gzip(f, text, len) : -ENOMEM;
	json_object_put(root);
	return err;
}
