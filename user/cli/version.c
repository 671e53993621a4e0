// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* inflight --version */
#include <gnu/libc-version.h>
#include <sys/auxv.h>
#include "bpf_setup.h"
#include "git_rev.h"
#include "version.h"

/* A static binary is started by the kernel itself: no dynamic loader, so no AT_BASE. */
static const char *linkage(void)
{
	return getauxval(AT_BASE) ? "dynamically linked" : "statically linked";
}

void version_print(FILE *out)
{
	fprintf(out, "inflight %s (git %s, libbpf %s)\n", INFLIGHT_VERSION, INFLIGHT_GIT_REV,
		bpf_libbpf_version());
	fprintf(out, "%s, glibc %s\n", linkage(), gnu_get_libc_version());
}
