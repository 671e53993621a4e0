// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Reading a sweep's snapshot; the format is in docs/trend-schema.md (Input). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "snapshot.h"

struct why {
	char *buf;
	size_t size;
};

static int __attribute__((format(printf, 2, 3))) fail(struct why *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->buf, w->size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* gzip bytes to a NUL-terminated buffer of at most SNAPSHOT_MAX_JSON_BYTES; NULL and why. */
static char *gunzip(const unsigned char *data, size_t size, size_t *out_len, struct why *w)
{
	size_t cap = size < (1u << 16) ? (1u << 18) : size * 4, len = 0;
	z_stream z = {};
	char *out = NULL, *bigger;
	int ret = Z_OK;

	if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) {
		fail(w, "not a gzip file (a snapshot is gzip-compressed JSON)");
		return NULL;
	}
	if (cap > SNAPSHOT_MAX_JSON_BYTES)
		cap = SNAPSHOT_MAX_JSON_BYTES;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		fail(w, "zlib could not start: out of memory");
		return NULL;
	}
	z.next_in = (unsigned char *)data;
	z.avail_in = size;
	while (ret != Z_STREAM_END) {
		if (len == cap) {
			if (cap == SNAPSHOT_MAX_JSON_BYTES) {
				fail(w, "decompresses to more than %u MiB: not a snapshot",
				     SNAPSHOT_MAX_JSON_BYTES >> 20);
				goto err;
			}
			cap = cap * 2 > SNAPSHOT_MAX_JSON_BYTES ? SNAPSHOT_MAX_JSON_BYTES : cap * 2;
		}
		bigger = realloc(out, cap + 1);
		if (!bigger) {
			fail(w, "out of memory");
			goto err;
		}
		out = bigger;
		z.next_out = (unsigned char *)out + len;
		z.avail_out = cap - len;
		ret = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
		if (ret == Z_STREAM_END && z.avail_in) {
			/* another gzip member: gzip(1) reads them as one file, and so do we */
			if (inflateReset(&z) != Z_OK) {
				fail(w, "corrupt gzip data");
				goto err;
			}
			ret = Z_OK;
		} else if (ret == Z_BUF_ERROR && !z.avail_in) {
			fail(w, "truncated: the gzip stream ends early");
			goto err;
		} else if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			fail(w, "corrupt gzip data: %s", z.msg ? z.msg : "inflate failed");
			goto err;
		}
	}
	inflateEnd(&z);
	out[len] = '\0';
	*out_len = len;
	return out;
err:
	inflateEnd(&z);
	free(out);
	return NULL;
}

static json_object *parse_json(const char *text, size_t len, struct why *w)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *root;
	size_t end;

	if (!tok) {
		fail(w, "out of memory");
		return NULL;
	}
	if (len > (size_t)INT32_MAX) {
		json_tokener_free(tok);
		fail(w, "too large");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root) {
		fail(w, "not valid JSON: %s",
		     len ? json_tokener_error_desc(json_tokener_get_error(tok)) : "empty");
	} else {
		end = json_tokener_get_parse_end(tok);
		if (strspn(text + end, " \t\r\n") != len - end) {
			json_object_put(root);
			root = NULL;
			fail(w, "not valid JSON: text after the document");
		}
	}
	json_tokener_free(tok);
	return root;
}

/* A copy of a string member: -EINVAL if present but not a string, or missing and required. */
static int get_string(json_object *o, const char *key, bool required, char **out,
		      const char *where, struct why *w)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			return fail(w, "%s has no \"%s\"", where, key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return fail(w, "\"%s\" of %s is not a string", key, where);
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : fail(w, "out of memory");
}

/* A count: 0 when missing; -EINVAL when not a whole number from 0. */
static int get_count(json_object *o, const char *key, uint64_t *out, const char *where,
		     struct why *w)
{
	json_object *v;

	*out = 0;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return fail(w, "\"%s\" of %s is not a count", key, where);
	*out = json_object_get_uint64(v);
	return 0;
}

/* A number: missing gives 0 and *present false; -EINVAL when not a finite number. */
static int get_number(json_object *o, const char *key, double *out, bool *present,
		      const char *where, struct why *w)
{
	json_object *v;

	*out = 0;
	if (present)
		*present = false;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return fail(w, "\"%s\" of %s is not a number", key, where);
	*out = json_object_get_double(v);
	if (!isfinite(*out))
		return fail(w, "\"%s\" of %s is not a finite number", key, where);
	if (present)
		*present = true;
	return 0;
}

static int get_line(json_object *o, int64_t *line, const char *where, struct why *w)
{
	json_object *v;

	*line = -1;
	if (!json_object_object_get_ex(o, "line", &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return fail(w, "\"line\" of %s is not an integer", where);
	*line = json_object_get_int64(v);
	return 0;
}

/* A member that must be an object (or array) when present: NULL when missing. */
static int get_typed(json_object *o, const char *key, json_type type, bool required,
		     json_object **out, const char *where, struct why *w)
{
	*out = NULL;
	if (!o || !json_object_object_get_ex(o, key, out) ||
	    json_object_is_type(*out, json_type_null)) {
		*out = NULL;
		return required ? fail(w, "%s has no \"%s\"", where, key) : 0;
	}
	if (!json_object_is_type(*out, type))
		return fail(w, "\"%s\" of %s is not %s", key, where,
			    type == json_type_array ? "an array" : "an object");
	return 0;
}

static void site_free(struct snap_site *s)
{
	free(s->file);
	free(s->coroutine);
	free(s->kind);
	free(s->function);
}

static void finding_free(struct snap_finding *f)
{
	free(f->kind);
	free(f->reason);
	free(f->severity);
	free(f->summary);
	free(f->site_file);
	free(f->function);
	free(f->coroutine);
}

static void service_free(struct snap_service *svc)
{
	size_t i;

	for (i = 0; i < svc->n_sites; i++)
		site_free(&svc->sites[i]);
	for (i = 0; i < svc->n_findings; i++)
		finding_free(&svc->findings[i]);
	free(svc->sites);
	free(svc->findings);
	free(svc->name);
	memset(svc, 0, sizeof(*svc));
}

void snapshot_free(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n_services; i++)
		service_free(&s->services[i]);
	free(s->services);
	free(s->path);
	free(s->host);
	free(s->started_at);
	free(s->mode);
	memset(s, 0, sizeof(*s));
}

/* Room for one more element: the capacity is the power of two at or above n, 4 at least. */
static void *grow(void *array, size_t n, size_t elem)
{
	if (n < 4 ? n : (n & (n - 1)))
		return array;
	return realloc(array, (n ? n * 2 : 4) * elem);
}

bool snap_site_same(const struct snap_site *a, const struct snap_site *b)
{
	return a->line == b->line && !strcmp(a->file, b->file) &&
	       !strcmp(a->coroutine, b->coroutine) && !strcmp(a->kind, b->kind);
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool snap_finding_same(const struct snap_finding *a, const struct snap_finding *b)
{
	return !strcmp(a->kind, b->kind) && !strcmp(a->reason, b->reason) &&
	       str_same(a->site_file, b->site_file) && (!a->site_file || a->site_line == b->site_line);
}

bool snap_finding_at_site(const struct snap_finding *f, const struct snap_site *site)
{
	return f->site_file && f->site_line == site->line && !strcmp(f->site_file, site->file) &&
	       (!f->coroutine || !strcmp(f->coroutine, site->coroutine));
}

const struct snap_site *service_site(const struct snap_service *svc, const struct snap_site *key)
{
	size_t i;

	for (i = 0; i < svc->n_sites; i++)
		if (snap_site_same(&svc->sites[i], key))
			return &svc->sites[i];
	return NULL;
}

const struct snap_service *snapshot_service(const struct snapshot *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_services; i++)
		if (!strcmp(s->services[i].name, name))
			return &s->services[i];
	return NULL;
}

static int parse_finding(json_object *o, struct snap_finding *f, struct why *w)
{
	json_object *ev, *site;
	int err;

	memset(f, 0, sizeof(*f));
	if (!json_object_is_type(o, json_type_object))
		return fail(w, "a finding is not an object");
	err = get_string(o, "kind", true, &f->kind, "a finding", w);
	err = err ?: get_string(o, "severity", false, &f->severity, "a finding", w);
	err = err ?: get_string(o, "summary", false, &f->summary, "a finding", w);
	err = err ?: get_string(o, "coroutine", false, &f->coroutine, "a finding", w);
	err = err ?: get_typed(o, "evidence", json_type_object, false, &ev, "a finding", w);
	err = err ?: get_string(ev, "reason", false, &f->reason, "a finding's evidence", w);
	err = err ?: get_number(ev, "slope_per_min", &f->slope_per_min, &f->has_slope,
				"a finding's evidence", w);
	err = err ?: get_typed(o, "site", json_type_object, false, &site, "a finding", w);
	if (!err && site) {
		err = get_string(site, "file", true, &f->site_file, "a finding's site", w);
		err = err ?: get_string(site, "function", false, &f->function, "a finding's site", w);
		err = err ?: get_line(site, &f->site_line, "a finding's site", w);
	}
	if (!err && !f->reason && !(f->reason = strdup("")))
		err = fail(w, "out of memory");
	if (!err && !f->severity && !(f->severity = strdup("")))
		err = fail(w, "out of memory");
	if (!err && !f->summary && !(f->summary = strdup("")))
		err = fail(w, "out of memory");
	if (err)
		finding_free(f);
	return err;
}

static int parse_site(json_object *o, struct snap_site *s, struct why *w)
{
	json_object *conns, *conc, *conns_open;
	uint64_t conc_max;
	int err;

	memset(s, 0, sizeof(*s));
	if (!json_object_is_type(o, json_type_object))
		return fail(w, "a site is not an object");
	err = get_string(o, "file", true, &s->file, "a site", w);
	err = err ?: get_string(o, "coroutine", true, &s->coroutine, "a site", w);
	err = err ?: get_string(o, "kind", false, &s->kind, "a site", w);
	err = err ?: get_string(o, "function", false, &s->function, "a site", w);
	err = err ?: get_line(o, &s->line, "a site", w);
	err = err ?: get_count(o, "peak_in_flight", &s->peak_tasks, "a site", w);
	err = err ?: get_typed(o, "connections", json_type_object, false, &conns, "a site", w);
	err = err ?: get_count(conns, "peak_open", &s->peak_conns, "a site's connections", w);
	err = err ?: get_typed(o, "concurrency", json_type_object, false, &conc, "a site", w);
	err = err ?: get_typed(conc, "connections_open", json_type_object, false, &conns_open,
			       "a site's concurrency", w);
	err = err ?: get_count(conns_open, "max", &conc_max, "a site's concurrency", w);
	if (!err && !s->kind && !(s->kind = strdup("created_at")))
		err = fail(w, "out of memory");
	if (!err && !s->function && !(s->function = strdup("?")))
		err = fail(w, "out of memory");
	if (err) {
		site_free(s);
		return err;
	}
	if (conc_max > s->peak_conns)
		s->peak_conns = conc_max;
	return 0;
}

/*
 * A site seen in another process (or thread) of the service: the busiest
 * one's figures. Leak slopes come from growth findings only (see
 * slopes_from_findings): tasks in flight at the end over a short sweep say
 * how long the sweep was, not how fast anything leaks.
 */
static void merge_site(struct snap_site *into, const struct snap_site *s)
{
	if (s->peak_tasks > into->peak_tasks)
		into->peak_tasks = s->peak_tasks;
	if (s->peak_conns > into->peak_conns)
		into->peak_conns = s->peak_conns;
}

static int add_site(struct snap_service *svc, struct snap_site *s, struct why *w)
{
	struct snap_site *same = (struct snap_site *)service_site(svc, s), *sites;

	if (same) {
		merge_site(same, s);
		site_free(s);
		return 0;
	}
	sites = grow(svc->sites, svc->n_sites, sizeof(*sites));
	if (!sites) {
		site_free(s);
		return fail(w, "out of memory");
	}
	svc->sites = sites;
	svc->sites[svc->n_sites++] = *s;
	return 0;
}

static int add_finding(struct snap_service *svc, struct snap_finding *f, struct why *w)
{
	struct snap_finding *findings;
	size_t i;

	for (i = 0; i < svc->n_findings; i++) {
		if (snap_finding_same(&svc->findings[i], f)) {
			finding_free(f);
			return 0;
		}
	}
	findings = grow(svc->findings, svc->n_findings, sizeof(*findings));
	if (!findings) {
		finding_free(f);
		return fail(w, "out of memory");
	}
	svc->findings = findings;
	svc->findings[svc->n_findings++] = *f;
	return 0;
}

/* A growth finding's slope is the site's leak slope: measured, not estimated from two counts. */
static void slopes_from_findings(struct snap_service *svc)
{
	struct snap_finding *f;
	struct snap_site *s;
	size_t i, j;

	for (i = 0; i < svc->n_findings; i++) {
		f = &svc->findings[i];
		if (strcmp(f->kind, "task-leak") || strcmp(f->reason, "growth") || !f->has_slope)
			continue;
		for (j = 0; j < svc->n_sites; j++) {
			s = &svc->sites[j];
			if (!snap_finding_at_site(f, s))
				continue;
			if (!s->slope_from_finding || f->slope_per_min > s->leak_slope_per_min)
				s->leak_slope_per_min = f->slope_per_min;
			s->slope_from_finding = true;
		}
	}
}

static int parse_sites(json_object *target, struct snap_service *svc, struct why *w)
{
	json_object *tasks, *sites;
	struct snap_site s;
	size_t i, n;
	int err;

	err = get_typed(target, "tasks", json_type_object, false, &tasks, "a service's target", w);
	err = err ?: get_typed(tasks, "sites", json_type_array, false, &sites, "a target's tasks", w);
	if (err || !sites)
		return err;
	n = json_object_array_length(sites);
	for (i = 0; i < n && !err; i++) {
		err = parse_site(json_object_array_get_idx(sites, i), &s, w);
		err = err ?: add_site(svc, &s, w);
	}
	return err;
}

static int parse_findings(json_object *list, struct snap_service *svc, struct why *w)
{
	struct snap_finding f;
	size_t i, n;
	int err = 0;

	if (!list)
		return 0;
	n = json_object_array_length(list);
	for (i = 0; i < n && !err; i++) {
		err = parse_finding(json_object_array_get_idx(list, i), &f, w);
		err = err ?: add_finding(svc, &f, w);
	}
	return err;
}

/* The service of that name, made if the snapshot has none yet. */
static struct snap_service *service_named(struct snapshot *s, char *name, struct why *w)
{
	struct snap_service *svc = (struct snap_service *)snapshot_service(s, name), *services;

	if (svc) {
		free(name);
		return svc;
	}
	services = grow(s->services, s->n_services, sizeof(*services));
	if (!services) {
		free(name);
		fail(w, "out of memory");
		return NULL;
	}
	s->services = services;
	svc = &s->services[s->n_services++];
	memset(svc, 0, sizeof(*svc));
	svc->name = name;
	return svc;
}

static int parse_service(json_object *o, struct snapshot *s, struct why *w)
{
	json_object *target, *findings;
	struct snap_service *svc;
	char *name;
	int err;

	if (!json_object_is_type(o, json_type_object))
		return fail(w, "a service is not an object");
	err = get_string(o, "service", true, &name, "a service", w);
	err = err ?: get_typed(o, "target", json_type_object, true, &target, "a service", w);
	err = err ?: get_typed(o, "findings", json_type_array, false, &findings, "a service", w);
	if (err) {
		free(name);
		return err;
	}
	svc = service_named(s, name, w);
	if (!svc)
		return -ENOMEM;
	svc->processes++;
	err = parse_sites(target, svc, w);
	err = err ?: parse_findings(findings, svc, w);
	slopes_from_findings(svc);
	return err;
}

static int parse_time(const char *text, time_t *out, struct why *w)
{
	struct tm tm = {};
	const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (!end || *end)
		return fail(w, "\"started_at\" is not a UTC time like 2026-12-03T16:45:31Z");
	*out = timegm(&tm);
	return 0;
}

static int check_schema(json_object *root, struct why *w)
{
	json_object *v;

	if (!json_object_is_type(root, json_type_object))
		return fail(w, "not a snapshot: the JSON is not an object");
	if (!json_object_object_get_ex(root, "schema", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), SNAPSHOT_SCHEMA))
		return fail(w, "not a snapshot: \"schema\" is not \"%s\"", SNAPSHOT_SCHEMA);
	if (!json_object_object_get_ex(root, "schema_version", &v) ||
	    !json_object_is_type(v, json_type_int))
		return fail(w, "not a snapshot: no integer \"schema_version\"");
	if (json_object_get_int64(v) != SNAPSHOT_SCHEMA_VERSION)
		return fail(w, "schema_version %lld: this inflight reads version %d (a newer "
			    "inflight wrote it?)", (long long)json_object_get_int64(v),
			    SNAPSHOT_SCHEMA_VERSION);
	return 0;
}

static int parse_snapshot(json_object *root, struct snapshot *s, struct why *w)
{
	json_object *host, *services;
	size_t i, n;
	int err;

	err = check_schema(root, w);
	err = err ?: get_typed(root, "host", json_type_object, true, &host, "the snapshot", w);
	err = err ?: get_string(host, "hostname", true, &s->host, "\"host\"", w);
	err = err ?: get_string(root, "started_at", true, &s->started_at, "the snapshot", w);
	err = err ?: parse_time(s->started_at, &s->started, w);
	err = err ?: get_number(root, "duration_s", &s->duration_s, NULL, "the snapshot", w);
	err = err ?: get_string(root, "mode", false, &s->mode, "the snapshot", w);
	err = err ?: get_typed(root, "services", json_type_array, true, &services, "the snapshot",
			       w);
	if (err)
		return err;
	if (!*s->host)
		return fail(w, "\"hostname\" of \"host\" is empty");
	if (s->duration_s < 0)
		return fail(w, "\"duration_s\" is negative");
	n = json_object_array_length(services);
	for (i = 0; i < n && !err; i++)
		err = parse_service(json_object_array_get_idx(services, i), s, w);
	return err;
}

int snapshot_parse_gzip(const void *data, size_t size, const char *path, struct snapshot *s,
			char *why, size_t why_size)
{
	struct why w = { why, why_size };
	json_object *root;
	size_t len;
	char *text;
	int err;

	memset(s, 0, sizeof(*s));
	text = gunzip(data, size, &len, &w);
	if (!text)
		return -EINVAL;
	root = parse_json(text, len, &w);
	free(text);
	if (!root)
		return -EINVAL;
	err = parse_snapshot(root, s, &w);
	json_object_put(root);
	if (!err && !(s->path = strdup(path)))
		err = fail(&w, "out of memory");
	if (err)
		snapshot_free(s);
	return err;
}

/* The whole file, if it is a regular one of at most SNAPSHOT_MAX_FILE_BYTES. */
static void *read_whole(const char *path, size_t *size, struct why *w)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	size_t got = 0;
	struct stat st;
	char *buf = NULL;
	ssize_t n;

	if (fd < 0) {
		fail(w, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fail(w, "not a regular file");
		goto out;
	}
	if ((unsigned long long)st.st_size > SNAPSHOT_MAX_FILE_BYTES) {
		fail(w, "larger than %u MiB: not a snapshot", SNAPSHOT_MAX_FILE_BYTES >> 20);
		goto out;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		fail(w, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	*size = got;	/* a file that shrank while read is read as it is now */
out:
	close(fd);
	return buf;
}

int snapshot_read_file(const char *path, struct snapshot *s, char *why, size_t why_size)
{
	struct why w = { why, why_size };
	size_t size = 0;
	void *data;
	int err;

	memset(s, 0, sizeof(*s));
	data = read_whole(path, &size, &w);
	if (!data)
		return -EINVAL;
	err = snapshot_parse_gzip(data, size, path, s, why, why_size);
	free(data);
	return err;
}
