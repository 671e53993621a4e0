// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "doctor.h"

struct doctor_check *doctor_check_add(struct doctor_checks *cs, const char *name,
				      enum doctor_status status)
{
	struct doctor_check *c = &cs->items[cs->n < DOCTOR_MAX_CHECKS ? cs->n++ : cs->n - 1];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->status = status;
	return c;
}

bool doctor_verdict_add(struct doctor_report *r, const char *capability, pid_t target_pid,
			bool ready, const char *why, ...)
{
	struct doctor_verdict *grown, *v;
	va_list ap;

	grown = reallocarray(r->verdicts, r->n_verdicts + 1, sizeof(*grown));
	if (!grown)
		return false;
	r->verdicts = grown;
	v = &grown[r->n_verdicts++];
	memset(v, 0, sizeof(*v));
	snprintf(v->capability, sizeof(v->capability), "%s", capability);
	v->target_pid = target_pid;
	v->ready = ready;
	if (!ready) {
		va_start(ap, why);
		vsnprintf(v->why, sizeof(v->why), why, ap);
		va_end(ap);
	}
	return true;
}

bool doctor_all_ready(const struct doctor_report *r)
{
	size_t i;

	for (i = 0; i < r->n_verdicts; i++)
		if (!r->verdicts[i].ready)
			return false;
	return true;
}

void doctor_report_free(struct doctor_report *r)
{
	free(r->targets);
	free(r->verdicts);
	r->targets = NULL;
	r->verdicts = NULL;
	r->n_targets = r->n_verdicts = 0;
}
