/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* Finding thresholds from a JSON file (--config), so a fleet can share them. */
#ifndef INFLIGHT_CONFIG_H
#define INFLIGHT_CONFIG_H
#include <stddef.h>
#include "findings.h"
#include "trend.h"

/*
 * Sets the thresholds the file names, leaving the others as they are.
 * 0, or -errno / -EINVAL with what is wrong in why (unknown key, wrong type,
 * out of range: a typo must not pass silently).
 */
int config_load_thresholds(const char *path, struct finding_thresholds *t, char *why,
			   size_t why_size);
/*
 * The same file's trend keys (grow_tasks_pct, grow_conns_pct,
 * grow_leak_slope_pct, grow_min), for inflight trend. Each command accepts
 * the other's keys and leaves them, so one file serves both.
 */
int config_load_trend(const char *path, struct trend_thresholds *t, char *why, size_t why_size);

#endif
