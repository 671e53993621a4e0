// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include "parse.h"

/* The kernel's PID_MAX_LIMIT on 64-bit: 4 * 1024 * 1024 */
#define PID_MAX_LIMIT 4194304

int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < 1 || v > PID_MAX_LIMIT)
		return -ERANGE;
	*pid = (pid_t)v;
	return 0;
}

int parse_seconds(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.') || strpbrk(s, "xX"))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v))
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static unsigned int size_suffix_shift(char c)
{
	switch (c) {
	case 'K': return 10;
	case 'M': return 20;
	case 'G': return 30;
	}
	return 0;
}

int parse_size(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end) {
		shift = size_suffix_shift(*end);
		if (!shift || end[1])
			return -EINVAL;
	}
	if (errno == ERANGE || v > (ULLONG_MAX >> shift))
		return -ERANGE;
	v <<= shift;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_count(const char *s, unsigned long long min, unsigned long long max,
		unsigned long long *out)
{
	if (!s || !*s || strspn(s, "0123456789") != strlen(s))
		return -EINVAL;
	return parse_size(s, min, max, out);
}
