// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* inflight doctor's text: checks first, one per line, then the verdicts, to paste into a ticket. */
#include <errno.h>
#include "doctor.h"
#include "report.h"

static const char *status_mark(enum doctor_status s)
{
	switch (s) {
	case DOCTOR_OK:
		return "ok     ";
	case DOCTOR_NOTE:
		return "note   ";
	case DOCTOR_PROBLEM:
		return "PROBLEM";
	}
	return "?      ";
}

static void write_checks(FILE *f, const struct doctor_checks *cs, const char *indent)
{
	size_t i;

	for (i = 0; i < cs->n; i++) {
		const struct doctor_check *c = &cs->items[i];

		fprintf(f, "%s%s %-14s %s\n", indent, status_mark(c->status), c->name,
			text_shown(c->found));
		if (c->advice[0])
			fprintf(f, "%s%*s-> %s\n", indent, 23, "", text_shown(c->advice));
	}
}

static void write_target(FILE *f, const struct doctor_target *t)
{
	fprintf(f, "\nPID %d (%s) %s\n", t->pid, text_shown(t->comm),
		t->exe[0] ? text_shown(t->exe) : "(executable not readable)");
	write_checks(f, &t->checks, "  ");
}

/* One line per verdict, exactly "<capability>: ready" or "<capability>: no (<why>)". */
static void write_verdict(FILE *f, const struct doctor_verdict *v)
{
	if (v->ready)
		fprintf(f, "%s: ready\n", v->capability);
	else
		fprintf(f, "%s: no (%s)\n", v->capability, text_shown(v->why));
}

int doctor_write_text(FILE *f, const struct doctor_report *r)
{
	size_t i;

	fprintf(f, "inflight %s doctor, kernel %s\n\nHost\n", r->version,
		text_shown(r->kernel_release));
	write_checks(f, &r->host, "  ");
	for (i = 0; i < r->n_targets; i++)
		write_target(f, &r->targets[i]);
	for (i = 0; i < r->n_verdicts; i++) {
		/* the host's first, then each target's under its own heading */
		if (!i || r->verdicts[i].target_pid != r->verdicts[i - 1].target_pid) {
			if (r->verdicts[i].target_pid)
				fprintf(f, "\nVerdicts for PID %d\n", r->verdicts[i].target_pid);
			else
				fputs("\nVerdicts for this host\n", f);
		}
		write_verdict(f, &r->verdicts[i]);
	}
	return fflush(f) || ferror(f) ? -EIO : 0;
}
