// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The /proc/PID/maps parser (user/sys/proc_maps.c) on any text, and the
 * look-ups python_target.c makes in what it parsed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc_maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct file_mapping *m;
	struct proc_maps maps;
	size_t i;
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (proc_maps_parse(f, &maps)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	for (i = 0; i < maps.len; i++)
		if (maps.maps[i].path[0] != '/' || strchr(maps.maps[i].path, '\n'))
			abort();
	m = proc_maps_find(&maps, "libpython3.");
	if (m && !proc_maps_find_path(&maps, m->path))
		abort();
	proc_maps_find(&maps, "_asyncio");
	proc_maps_find(&maps, "");
	proc_maps_free(&maps);
	return 0;
}
