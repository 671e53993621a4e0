/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* inflight trend: read the snapshots, compare, write the report. */
#ifndef INFLIGHT_TREND_CMD_H
#define INFLIGHT_TREND_CMD_H
#include <stddef.h>
#include "trend.h"

enum trend_format { TREND_TEXT, TREND_JSON, TREND_HTML };

struct trend_opts {
	char **inputs;		/* snapshot files and directories */
	size_t n_inputs;
	const char *baseline;	/* NULL: each host's oldest */
	enum trend_format format;
	const char *output;	/* NULL or "-": stdout */
	struct trend_thresholds thresholds;
};

/* 0 all read and the report written; 1 some skipped (report written); 2 nothing readable. */
int trend_run(const struct trend_opts *o);


#endif
