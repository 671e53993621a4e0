// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The container name readers (user/sys/container_name.c) on any bytes: a
 * config.v2.json (whoever can write under /var/lib/docker chooses it) and a
 * process's environment (the process chooses it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "container_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[CONTAINER_NAME_MAX];
	size_t n;

	if (!docker_config_name((const char *)data, size, name, sizeof(name))) {
		n = strlen(name);
		if (!n || n >= sizeof(name) || name[0] == '/' ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
			abort();
	}
	if (!pod_name_from_environ((const char *)data, size, name, sizeof(name))) {
		n = strlen(name);
		if (!n || n >= sizeof(name) || name[n - 1] == '-' ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != n)
			abort();
	}
	return 0;
}
