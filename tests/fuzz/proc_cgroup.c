// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The /proc/PID/cgroup parser and the path reader (user/sys/proc_cgroup.c)
 * on any text: a process names its own cgroups inside a container.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proc_cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgroup_identity id;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!cgroup_path_parse(text, id.path, sizeof(id.path)) && id.path[0] != '/')
		abort();
	/* the whole text as a path too: components of any shape */
	cgroup_identify(text, &id);
	if (strlen(id.id) != 0 && strlen(id.id) != 64)
		abort();
	if ((id.runtime == CGROUP_RUNTIME_NONE) != (cgroup_runtime_name(id.runtime) == NULL))
		abort();
	free(text);
	return 0;
}
