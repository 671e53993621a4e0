// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The config.v2.json name reader (user/sys/container_name.c) on any bytes:
 * whoever can write under /var/lib/docker chooses them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "container_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[CONTAINER_NAME_MAX];
	size_t n;

	if (docker_config_name((const char *)data, size, name, sizeof(name)))
		return 0;
	n = strlen(name);
	if (!n || n >= sizeof(name) || name[0] == '/' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
		abort();
	return 0;
}
