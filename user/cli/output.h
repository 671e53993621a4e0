/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The report's destination: stdout, or a file written atomically (a temporary
 * file beside it, renamed into place only when the report is complete).
 */
#ifndef INFLIGHT_OUTPUT_H
#define INFLIGHT_OUTPUT_H
#include <stdio.h>

struct output {
	FILE *f;
	char *path;	/* NULL for stdout */
	char *tmp_path;
};

/* Creates the temporary file now, so an unwritable path fails before tracing. */
int output_open(struct output *o, const char *path);
/* Flushes, syncs and renames into place: 0 or -errno. */
int output_commit(struct output *o);
/* Removes the temporary file; safe after commit and on a zeroed struct. */
void output_abort(struct output *o);

#endif
