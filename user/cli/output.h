/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The report's destination: stdout; a file written atomically (an unnamed
 * file in its directory, or where the file system cannot, a temporary file
 * beside it, renamed into place only when the report is complete); or a FIFO
 * or character device, written through as it is.
 */
#ifndef INFLIGHT_OUTPUT_H
#define INFLIGHT_OUTPUT_H
#include <stdbool.h>
#include <stdio.h>

struct output {
	FILE *f;
	char *path;	/* NULL for stdout and streams */
	char *tmp_path;	/* the temporary file's name; an unnamed one has none until commit */
	bool stream;	/* a FIFO or character device, written through */
	bool unnamed;	/* an O_TMPFILE file: nothing to remove if the process dies */
};

/*
 * Creates the temporary file (or opens the stream) now, so an unwritable
 * path fails before tracing: 0 or -errno, output_strerror says why.
 */
int output_open(struct output *o, const char *path);
/*
 * For a command that ends on a signal rather than writing its report
 * (inflight ps): from now on SIGINT, SIGTERM and SIGHUP remove the temporary
 * file of the output opened next, then end the process as they would have.
 * Call it before output_open, so no signal finds the file unremovable.
 */
void output_remove_on_signals(void);
/* Why output_open failed, for people. */
const char *output_strerror(int err);
/* Flushes, syncs and renames into place: 0 or -errno. */
int output_commit(struct output *o);
/* Removes the temporary file; safe after commit and on a zeroed struct. */
void output_abort(struct output *o);

#endif
