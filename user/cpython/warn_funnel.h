/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * CPython's warning funnel in a live process: warn_explicit()
 * (Python/_warnings.c), which every warning passes through before the
 * filters decide its fate. Where it is (by symbol, or in a stripped build
 * through the exported functions that call it), which argument holds what
 * in this version, and what its objects look like to bpf/warnings.bpf.c.
 */
#ifndef INFLIGHT_WARN_FUNNEL_H
#define INFLIGHT_WARN_FUNNEL_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cpython_layout.h"
#include "warn_events.h"

struct warn_funnel {
	struct cpython_layout layout;	/* to decode the str objects a warning carries */
	char file[PATH_MAX];		/* libpython, or the executable */
	char open_path[PATH_MAX + 32];	/* the path that reached it, to attach by */
	dev_t dev;
	uint64_t ino;
	uint64_t offset;		/* file offset of the probe */
	char insn[48];			/* the instruction it sits on */
	char method[96];		/* how it was found */
	struct warn_layout bpf;		/* probe_cookie left for the caller */
	char problem[PATH_MAX + 768];	/* why it cannot be hooked, when it cannot */
};

/* 0, or -ENOENT (not a CPython) / -ENOTSUP with problem saying why. */
int warn_funnel_discover(pid_t pid, struct warn_funnel *w);

/*
 * The text of a str object of which a warning event holds the first have
 * bytes (target data), as UTF-8 into out: as much of it as was copied, *cut
 * set when that is not all of it. 0, or -EINVAL if it is not a compact str.
 */
int warn_funnel_text(const struct warn_funnel *w, const uint8_t *obj, size_t have, char *out,
		     size_t size, bool *cut);

#endif
