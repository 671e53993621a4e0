/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
#ifndef INFLIGHT_CLOCK_H
#define INFLIGHT_CLOCK_H
#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

/* CLOCK_MONOTONIC, the clock bpf_ktime_get_ns() reads */
static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline double ns_to_s(uint64_t ns)
{
	return (double)ns / (double)NSEC_PER_SEC;
}

#endif
