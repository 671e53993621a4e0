/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* Strict parsing of command-line values: the whole string, range checked. */
#ifndef INFLIGHT_PARSE_H
#define INFLIGHT_PARSE_H
#include <sys/types.h>

/* 0, or -EINVAL (not a number) or -ERANGE (outside 1..PID_MAX) */
int parse_pid(const char *s, pid_t *pid);
/* seconds as a decimal number in [min, max]; 0 or -EINVAL / -ERANGE */
int parse_seconds(const char *s, double min, double max, double *out);
/*
 * A size: a whole number, optionally followed by K, M or G (times 1024, 1024^2,
 * 1024^3), in [min, max]; 0 or -EINVAL / -ERANGE.
 */
int parse_size(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out);
/* A whole number, digits only, in [min, max]; 0 or -EINVAL / -ERANGE. */
int parse_count(const char *s, unsigned long long min, unsigned long long max,
		unsigned long long *out);

#endif
