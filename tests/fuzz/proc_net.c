// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The /proc/net/tcp and tcp6 parser (user/sys/proc_net.c) on any text:
 * the first byte of the input chooses IPv4 or IPv6 and whether to keep
 * every socket or only those of a few inodes, as a scan of a process does.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "proc_net.h"

static const uint64_t some_inodes[] = { 0, 1, 12345, 4294967295ULL, UINT64_MAX };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_tcp_table t = { 0 };
	uint16_t family;
	bool filter;
	size_t i;
	FILE *f;

	if (size < 2)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	filter = data[0] & 2;
	f = fmemopen((void *)(data + 1), size - 1, "r");
	if (!f)
		return 0;
	proc_net_parse_tcp(f, family, filter ? some_inodes : NULL,
			   filter ? sizeof(some_inodes) / sizeof(some_inodes[0]) : 0, &t);
	fclose(f);
	for (i = 0; i < t.len; i++)
		if (t.socks[i].family != family || t.len > t.cap)
			abort();
	proc_tcp_table_free(&t);
	return 0;
}
