// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * inflight trend: every snapshot named (a directory stands for its
 * *.json.gz files) is read; one that cannot be is named on stderr with why
 * and left out, and the report is written from the rest.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "output.h"
#include "report.h"
#include "trend_cmd.h"
#include "trend_report.h"

#define EXIT_SKIPPED 1
#define EXIT_USAGE 2
#define WHY_SIZE 256

struct inputs {
	char **paths;
	size_t n, cap;
	struct snapshot *snaps;
	size_t n_snaps;
	struct trend_skip *skipped;
	size_t n_skipped;
	char *skip_why;		/* n_skipped reasons of WHY_SIZE bytes */
};

static int add_path(struct inputs *in, const char *path)
{
	char **bigger;

	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 16;
		bigger = realloc(in->paths, in->cap * sizeof(*bigger));
		if (!bigger)
			return -ENOMEM;
		in->paths = bigger;
	}
	in->paths[in->n] = strdup(path);
	return in->paths[in->n++] ? 0 : -ENOMEM;
}

static bool is_snapshot_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 8 && !strcmp(name + len - 8, ".json.gz");
}

/* Every *.json.gz in dir; -errno when the directory cannot be read. */
static int add_directory(struct inputs *in, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *path;
	int err = 0;

	if (!d)
		return -errno;
	for (errno = 0; !err && (e = readdir(d)); errno = 0) {
		if (!is_snapshot_name(e->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
			err = -ENOMEM;
			break;
		}
		err = add_path(in, path);
		free(path);
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	return err;
}

static void inputs_free(struct inputs *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		free(in->paths[i]);
	for (i = 0; i < in->n_snaps; i++)
		snapshot_free(&in->snaps[i]);
	free(in->paths);
	free(in->snaps);
	free(in->skipped);
	free(in->skip_why);
}

static int collect(struct inputs *in, const struct trend_opts *o)
{
	struct stat st;
	size_t i;
	int err;

	for (i = 0; i < o->n_inputs; i++) {
		if (!stat(o->inputs[i], &st) && S_ISDIR(st.st_mode)) {
			err = add_directory(in, o->inputs[i]);
			if (err) {
				fprintf(stderr, "inflight: failed to read directory %s: %s\n",
					text_shown(o->inputs[i]), strerror(-err));
				return err;
			}
		} else if (add_path(in, o->inputs[i])) {
			return -ENOMEM;
		}
	}
	return o->baseline ? add_path(in, o->baseline) : 0;
}

struct named {
	char *path;
	char *real;	/* its realpath, or the path when it has none (it will fail to open) */
};

static int by_real(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->real, y->real);

	return c ? c : strcmp(x->path, y->path);
}

/* The same file named twice (in a directory and by name, or as --baseline too) is read once. */
static int drop_duplicates(struct inputs *in)
{
	struct named *all = calloc(in->n ? in->n : 1, sizeof(*all));
	size_t i, kept = 0;

	if (!all)
		return -ENOMEM;
	for (i = 0; i < in->n; i++) {
		all[i].path = in->paths[i];
		all[i].real = realpath(in->paths[i], NULL);
	}
	for (i = 0; i < in->n; i++)
		if (!all[i].real && !(all[i].real = strdup(all[i].path)))
			goto nomem;
	qsort(all, in->n, sizeof(*all), by_real);
	for (i = 0; i < in->n; i++) {
		if (i && !strcmp(all[i].real, all[i - 1].real))
			free(all[i].path);
		else
			in->paths[kept++] = all[i].path;
	}
	for (i = 0; i < in->n; i++)
		free(all[i].real);
	in->n = kept;
	free(all);
	return 0;
nomem:
	for (i = 0; i < in->n; i++)
		free(all[i].real);
	free(all);
	return -ENOMEM;
}

static int read_all(struct inputs *in)
{
	char why[WHY_SIZE];
	size_t i;

	in->snaps = calloc(in->n ? in->n : 1, sizeof(*in->snaps));
	in->skipped = calloc(in->n ? in->n : 1, sizeof(*in->skipped));
	in->skip_why = calloc(in->n ? in->n : 1, WHY_SIZE);
	if (!in->snaps || !in->skipped || !in->skip_why)
		return -ENOMEM;
	for (i = 0; i < in->n; i++) {
		why[0] = '\0';
		if (!snapshot_read_file(in->paths[i], &in->snaps[in->n_snaps], why, sizeof(why))) {
			in->n_snaps++;
			continue;
		}
		fprintf(stderr, "inflight: failed to read snapshot %s: %s (skipped)\n",
			text_shown(in->paths[i]), why);
		snprintf(in->skip_why + in->n_skipped * WHY_SIZE, WHY_SIZE, "%s", why);
		in->skipped[in->n_skipped].path = in->paths[i];
		in->skipped[in->n_skipped].why = in->skip_why + in->n_skipped * WHY_SIZE;
		in->n_skipped++;
	}
	return 0;
}

static const struct snapshot *find_baseline(const struct inputs *in, const char *path)
{
	char want[PATH_MAX], have[PATH_MAX];
	size_t i;

	if (!path || !realpath(path, want))
		return NULL;
	for (i = 0; i < in->n_snaps; i++)
		if (realpath(in->snaps[i].path, have) && !strcmp(want, have))
			return &in->snaps[i];
	return NULL;
}

static int write_report(const struct trend_opts *o, const struct trend_report_meta *meta,
			const struct trend *t)
{
	struct output out;
	int err = output_open(&out, o->output);

	if (err) {
		fprintf(stderr, "inflight: failed to open %s: %s\n", text_shown(o->output),
			output_strerror(err));
		return err;
	}
	switch (o->format) {
	case TREND_JSON:
		err = trend_write_json(out.f, meta, t);
		break;
	case TREND_HTML:
		err = trend_write_html(out.f, meta, t);
		break;
	default:
		err = trend_write_text(out.f, meta, t);
	}
	err = err ?: output_commit(&out);
	if (err) {
		output_abort(&out);
		fprintf(stderr, "inflight: failed to write the trend report%s%s: %s\n",
			o->output ? " to " : "", o->output ? text_shown(o->output) : "", strerror(-err));
	}
	return err;
}

static int compare_and_write(const struct trend_opts *o, const struct inputs *in)
{
	const struct snapshot *baseline = find_baseline(in, o->baseline);
	struct trend_report_meta meta = {
		.version = INFLIGHT_VERSION,
		.skipped = in->skipped,
		.n_skipped = in->n_skipped,
	};
	struct trend t;
	int err;

	if (o->baseline && !baseline) {
		fprintf(stderr, "inflight: failed to read the baseline %s: it is not a snapshot "
			"this inflight can read (see above); name another with --baseline, or "
			"leave it out for each host's oldest\n", text_shown(o->baseline));
		return EXIT_USAGE;
	}
	err = trend_build(in->snaps, in->n_snaps, baseline, &o->thresholds, &t);
	if (err) {
		fprintf(stderr, "inflight: failed to compare the snapshots: %s\n", strerror(-err));
		return EXIT_USAGE;
	}
	err = write_report(o, &meta, &t);
	trend_free(&t);
	if (err)
		return EXIT_USAGE;
	return in->n_skipped ? EXIT_SKIPPED : 0;
}

int trend_run(const struct trend_opts *o)
{
	struct inputs in = {};
	int ret;

	if (collect(&in, o) || drop_duplicates(&in)) {
		inputs_free(&in);
		return EXIT_USAGE;
	}
	if (read_all(&in)) {
		fprintf(stderr, "inflight: failed to read the snapshots: out of memory\n");
		inputs_free(&in);
		return EXIT_USAGE;
	}
	if (!in.n_snaps) {
		fprintf(stderr, "inflight: failed to compare snapshots: %s; name snapshot files "
			"(inflight-HOST-TIME.json.gz, as inflight sweep writes) or a directory "
			"holding them\n", in.n ? "none of them could be read" :
			"no *.json.gz file in the directories given");
		inputs_free(&in);
		return EXIT_USAGE;
	}
	ret = compare_and_write(o, &in);
	inputs_free(&in);
	return ret;
}
