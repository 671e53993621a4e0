// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <string.h>
#include "creation_site.h"

bool in_asyncio_package(const char *file)
{
	return strstr(file, "/asyncio/") != NULL;
}

/* asyncio.events.Handle._run: the event loop running a callback */
static bool is_callback_runner(const struct py_code *code)
{
	static const char events_py[] = "/asyncio/events.py";
	size_t len = strlen(code->filename), suffix = sizeof(events_py) - 1;

	return len >= suffix && !strcmp(code->filename + len - suffix, events_py) &&
	       (!strcmp(code->name, "_run") || !strcmp(code->name, "Handle._run"));
}

int creation_site_frame(const struct frame_ref *frames, size_t n)
{
	int inner = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!frames[i].code)
			continue;
		if (!in_asyncio_package(frames[i].code->filename))
			return (int)i;
		if (is_callback_runner(frames[i].code))
			return inner;
		inner = (int)i;
	}
	return -1;
}
