/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* inflight ps and pstree: a task snapshot as text for people or JSON for tools. */
#ifndef INFLIGHT_REPORT_PS_H
#define INFLIGHT_REPORT_PS_H
#include <stdbool.h>
#include <stdio.h>
#include "task_snapshot.h"

int report_ps_text(FILE *f, const struct task_snapshot *s, bool per_task);
int report_ps_json(FILE *f, const struct task_snapshot *s, bool per_task);
int report_pstree_text(FILE *f, const struct task_snapshot *s);
int report_pstree_json(FILE *f, const struct task_snapshot *s);

#endif
