/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * What inflight doctor found, ready to print: each check with what it found
 * and, for a problem, why it matters and what to do; each target's facts;
 * then one verdict per capability. Filled by the doctor session; the writers
 * know nothing of how it was found.
 */
#ifndef INFLIGHT_DOCTOR_H
#define INFLIGHT_DOCTOR_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define DOCTOR_MAX_CHECKS 24
#define DOCTOR_TEXT_MAX 640

enum doctor_status {
	DOCTOR_OK,		/* as inflight needs it */
	DOCTOR_NOTE,		/* worth knowing, costs nothing */
	DOCTOR_PROBLEM,		/* something inflight cannot do because of it */
};

struct doctor_check {
	char name[32];			/* "btf", "capabilities", ... */
	enum doctor_status status;
	char found[DOCTOR_TEXT_MAX];	/* what is there */
	char advice[DOCTOR_TEXT_MAX];	/* why it matters and what to do; "" if nothing */
};

struct doctor_checks {
	struct doctor_check items[DOCTOR_MAX_CHECKS];
	size_t n;
};

struct doctor_target {
	pid_t pid;
	char comm[16];
	char exe[PATH_MAX];
	bool python;			/* a CPython inflight recognises, supported or not */
	char version[24];		/* "" if not known */
	char build[160];		/* "symbols, libpython shared", ... */
	char runtime_file[PATH_MAX];	/* the file holding _PyRuntime */
	char asyncio_file[PATH_MAX];	/* where _asyncio's code is; "" if not found */
	char asyncio_hook[192];		/* how its functions were found */
	char root[PATH_MAX];		/* the root its files are read through */
	bool memory_readable;
	struct doctor_checks checks;
};

struct doctor_verdict {
	char capability[16];		/* "trace", "tasks", "warnings", "ps" */
	pid_t target_pid;		/* 0: the host's */
	bool ready;
	char why[DOCTOR_TEXT_MAX];	/* when not ready: why, and what to do */
};

struct doctor_report {
	const char *version;		/* inflight's */
	char kernel_release[65];
	struct doctor_checks host;
	struct doctor_target *targets;
	size_t n_targets;
	struct doctor_verdict *verdicts;
	size_t n_verdicts;
};

/* Adds a check to cs (the last is overwritten when full); found and advice are printf formats. */
struct doctor_check *doctor_check_add(struct doctor_checks *cs, const char *name,
				      enum doctor_status status);
/* Adds a verdict; false when out of memory. why is a printf format, ignored when ready. */
bool doctor_verdict_add(struct doctor_report *r, const char *capability, pid_t target_pid,
			bool ready, const char *why, ...) __attribute__((format(printf, 5, 6)));
/* Whether every verdict is ready. */
bool doctor_all_ready(const struct doctor_report *r);
void doctor_report_free(struct doctor_report *r);

/* The report for a ticket, verdict lines last: 0 or -errno. */
int doctor_write_text(FILE *f, const struct doctor_report *r);
/* The same as JSON (schema inflight-doctor, see docs/doctor-schema.md): 0 or -errno. */
int doctor_write_json(FILE *f, const struct doctor_report *r);

#endif
