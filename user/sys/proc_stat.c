// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc_stat.h"
#include "small_file.h"

/* include/linux/sched.h: set by do_exit() before it releases the process's memory */
#define PF_EXITING 0x00000004UL

/* The text after field n, counting from field 3 at p; NULL if the line is shorter. */
static const char *skip_to_field(const char *p, int n)
{
	int field;

	for (field = 3; field < n && p; field++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	return p;
}

int proc_stat_parse(const char *text, struct proc_stat *st)
{
	/* the comm in field 2 may hold spaces and parentheses: the last ')' ends it */
	const char *p = strrchr(text, ')'), *f;
	char *end;

	memset(st, 0, sizeof(*st));
	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	p += 2;
	st->state = *p;
	f = skip_to_field(p, 9);
	if (!f)
		return -EINVAL;
	st->flags = strtoul(f, &end, 10);
	if (end == f)
		return -EINVAL;
	f = skip_to_field(p, 22);
	if (!f)
		return -EINVAL;
	st->start_time = strtoull(f, &end, 10);
	return end == f ? -EINVAL : 0;
}

int proc_stat_read(pid_t pid, struct proc_stat *st)
{
	char buf[1024];
	ssize_t n = proc_file_read(pid, "stat", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	return proc_stat_parse(buf, st);
}

bool proc_stat_exiting(const struct proc_stat *st)
{
	return (st->flags & PF_EXITING) || st->state == 'Z' || st->state == 'X';
}
