// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The --config reader (user/cli/config.c) on any file: a rejected file
 * says why, and an accepted one leaves every threshold in the range
 * inflight(8) gives (counts 1 to 1e9, seconds 0 to 1e9, factors 1 to 1e9).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "fuzz_file.h"

#define MAX_VALUE 1e9

static bool seconds_ok(double v)
{
	return v >= 0 && v <= MAX_VALUE;
}

static bool count_ok(uint32_t v)
{
	return v >= 1 && v <= MAX_VALUE;
}

static bool in_range(const struct finding_thresholds *t)
{
	return seconds_ok(t->close_wait_min_age_s) && seconds_ok(t->growth_min_window_s) &&
	       seconds_ok(t->stuck_min_age_s) && t->stuck_lifetime_factor >= 1 &&
	       t->stuck_lifetime_factor <= MAX_VALUE && count_ok(t->close_wait_critical) &&
	       count_ok(t->growth_min_increase) && count_ok(t->fanout_min_tasks) &&
	       count_ok(t->fanout_min_conns) && count_ok(t->fanout_memory_tasks) &&
	       count_ok(t->task_growth_min_increase) && count_ok(t->pileup_min_tasks) &&
	       count_ok(t->never_closed_min_conns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* in range before, as the defaults are */
	struct finding_thresholds t = {
		2, 10, 20, 5, 100, 50, 10000, 30, 10, 50, 100, 10,
	};
	char why[256] = "";
	int err;

	err = config_load_thresholds(fuzz_file_of(data, size), &t, why, sizeof(why));
	if (err && !why[0])
		abort();
	if (!err && !in_range(&t))
		abort();
	return 0;
}
