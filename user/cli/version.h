/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* inflight --version: what this binary was built from. */
#ifndef INFLIGHT_VERSION_H
#define INFLIGHT_VERSION_H
#include <stdio.h>

/*
 * "inflight 0.1.0 (git 0123456789ab[-dirty], libbpf 1.1)", then how it is
 * linked and the glibc it runs on.
 */
void version_print(FILE *out);

#endif
