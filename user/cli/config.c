// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "config.h"

enum value_kind { SECONDS, COUNT, FACTOR, PERCENT, AMOUNT };

struct threshold_key {
	const char *name;
	enum value_kind kind;
	size_t offset;
};

#define KEY(name, kind, field) { name, kind, offsetof(struct finding_thresholds, field) }

static const struct threshold_key keys[] = {
	KEY("close_wait_age_s", SECONDS, close_wait_min_age_s),
	KEY("close_wait_critical", COUNT, close_wait_critical),
	KEY("connection_growth_min", COUNT, growth_min_increase),
	KEY("growth_window_s", SECONDS, growth_min_window_s),
	KEY("fanout_tasks", COUNT, fanout_min_tasks),
	KEY("fanout_connections", COUNT, fanout_min_conns),
	KEY("fanout_memory_tasks", COUNT, fanout_memory_tasks),
	KEY("stuck_age_s", SECONDS, stuck_min_age_s),
	KEY("stuck_lifetime_factor", FACTOR, stuck_lifetime_factor),
	KEY("task_growth_min", COUNT, task_growth_min_increase),
	KEY("pileup_tasks", COUNT, pileup_min_tasks),
	KEY("never_closed_connections", COUNT, never_closed_min_conns),
};

#define TREND_KEY(name, kind, field) { name, kind, offsetof(struct trend_thresholds, field) }

static const struct threshold_key trend_keys[] = {
	TREND_KEY("grow_tasks_pct", PERCENT, grow_tasks_pct),
	TREND_KEY("grow_conns_pct", PERCENT, grow_conns_pct),
	TREND_KEY("grow_leak_slope_pct", PERCENT, grow_leak_slope_pct),
	TREND_KEY("grow_min", AMOUNT, grow_min),
};

#define N_KEYS(table) (sizeof(table) / sizeof(table[0]))

static const struct threshold_key *key_named(const struct threshold_key *table, size_t n,
					     const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

static int set_value(const struct threshold_key *k, json_object *v, void *t, char *why,
		     size_t why_size)
{
	double d;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
		snprintf(why, why_size, "'%s' must be a number", k->name);
		return -EINVAL;
	}
	d = json_object_get_double(v);
	if (!isfinite(d) || d < 0 || d > 1e9 || (k->kind == COUNT && (d < 1 || d != floor(d))) ||
	    (k->kind == FACTOR && d < 1)) {
		snprintf(why, why_size, "'%s' is out of range: %s, up to 1e9", k->name,
			 k->kind == COUNT ? "a whole number from 1" :
			 k->kind == FACTOR ? "a number from 1" :
			 k->kind == PERCENT ? "a percentage from 0" :
			 k->kind == AMOUNT ? "a number from 0" : "seconds, from 0");
		return -EINVAL;
	}
	if (k->kind == COUNT)
		*(uint32_t *)((char *)t + k->offset) = (uint32_t)d;
	else
		*(double *)((char *)t + k->offset) = d;
	return 0;
}

#define MAX_CONFIG_BYTES (64 * 1024)

/* Strict JSON (no comments, no trailing commas, nothing after the object), or NULL. */
static json_object *read_json_file(const char *path, char *why, size_t why_size)
{
	char buf[MAX_CONFIG_BYTES + 1];
	struct json_tokener *tok;
	json_object *root;
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		snprintf(why, why_size, "%s", strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n > MAX_CONFIG_BYTES) {
		snprintf(why, why_size, "larger than %d bytes", MAX_CONFIG_BYTES);
		return NULL;
	}
	buf[n] = '\0';	/* what follows the object is checked as a string */
	/* json-c ends a key at an escaped NUL, so "fanout_tasks\u0000x" would pass as a known key */
	if (memmem(buf, n, "\\u0000", 6)) {
		snprintf(why, why_size, "a \\u0000 escape: no key or value holds one");
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, buf, (int)n);
	if (root && strspn(buf + json_tokener_get_parse_end(tok), " \t\r\n") !=
			    n - json_tokener_get_parse_end(tok)) {
		json_object_put(root);
		root = NULL;
		snprintf(why, why_size, "text after the JSON object");
	} else if (!root) {
		snprintf(why, why_size, "not valid JSON: %s",
			 n ? json_tokener_error_desc(json_tokener_get_error(tok)) : "the file is empty");
	}
	json_tokener_free(tok);
	return root;
}

/*
 * Sets the values of `mine` the file names; keys of `others` are another
 * command's and left alone; any other key is refused.
 */
static int load_keys(const char *path, const struct threshold_key *mine, size_t n_mine,
		     const struct threshold_key *others, size_t n_others, void *t, char *why,
		     size_t why_size)
{
	json_object *root = read_json_file(path, why, why_size);
	const struct threshold_key *k;
	int err = 0;

	if (!root)
		return -EINVAL;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(why, why_size, "expected a JSON object of thresholds");
		json_object_put(root);
		return -EINVAL;
	}
	json_object_object_foreach(root, name, value) {
		k = key_named(mine, n_mine, name);
		if (!k && key_named(others, n_others, name))
			continue;
		if (!k) {
			snprintf(why, why_size, "unknown key '%s' (see inflight(8), CONFIGURATION)", name);
			err = -EINVAL;
			break;
		}
		err = set_value(k, value, t, why, why_size);
		if (err)
			break;
	}
	json_object_put(root);
	return err;
}

int config_load_thresholds(const char *path, struct finding_thresholds *t, char *why,
			   size_t why_size)
{
	return load_keys(path, keys, N_KEYS(keys), trend_keys, N_KEYS(trend_keys), t, why,
			 why_size);
}

int config_load_trend(const char *path, struct trend_thresholds *t, char *why, size_t why_size)
{
	return load_keys(path, trend_keys, N_KEYS(trend_keys), keys, N_KEYS(keys), t, why,
			 why_size);
}
