/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * What model.c and model_tasks.c share and nobody else calls: the
 * connection half tells the task half about connections, and the reverse.
 */
#ifndef INFLIGHT_MODEL_INTERNAL_H
#define INFLIGHT_MODEL_INTERNAL_H
#include "model.h"

/* A released connection leaves its site's counts; at_exit: its process's exit closed it. */
void model_site_conn_released(struct model *m, const struct conn *c, bool at_exit);
/* Gives a newly opened connection the site an earlier attribution named. */
void model_conn_claim_attribution(struct model *m, struct conn *c);
/* pid exited at ts_ns: its recent cancellations and its pending tasks ended with it. */
void model_tasks_process_exited(struct model *m, pid_t pid, uint64_t ts_ns);
/* Frees what model_free does not know about: called by it. */
void model_tasks_free(struct model *m);
/* Takes a sample of every site's tasks in flight (called with the process samples). */
void model_sample_sites(struct model *m, uint64_t now_ns);

#endif
