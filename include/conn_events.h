/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Records shared by bpf/conn_tracker.bpf.c and user/trackers/conn_tracker.c: the
 * connection lifecycle events sent through the ring buffer, the per-process
 * counters aggregated in the kernel, and the tracer's own health counters.
 *
 * A connection is named by its socket inode number, the same number
 * /proc/PID/fd shows as socket:[INODE], so that connections found at attach
 * and connections seen by the probes meet under one key.
 */
#ifndef INFLIGHT_CONN_EVENTS_H
#define INFLIGHT_CONN_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define INFLIGHT_MAX_TARGETS 1024

enum event_type {
	EVENT_CONN_OPEN = 1,	/* a traced process connected or accepted */
	EVENT_CONN_STATE = 2,	/* the TCP state of a tracked socket changed */
	EVENT_CONN_RELEASE = 3,	/* the process let go of the socket (last fd closed) */
};

enum conn_origin {
	CONN_ORIGIN_CONNECT = 1,
	CONN_ORIGIN_ACCEPT = 2,
	CONN_ORIGIN_PREEXISTING = 3,	/* open before tracing began */
};

/* Every ring-buffer record starts with this; consumers check size first. */
struct event_header {
	__u64 ts_ns;	/* CLOCK_MONOTONIC */
	__u32 type;	/* enum event_type */
	__u32 size;	/* of the whole record */
};

struct conn_open_event {
	struct event_header hdr;
	__u64 ino;
	__u32 pid;	/* tgid */
	__u32 tid;
	__u8 saddr[16];	/* IPv4 in the first 4 bytes, network order */
	__u8 daddr[16];
	__u16 sport;	/* host order */
	__u16 dport;	/* host order */
	__u16 family;	/* AF_INET or AF_INET6 */
	__u8 origin;	/* enum conn_origin */
	__u8 state;	/* TCP state when first seen */
};

struct conn_state_event {
	struct event_header hdr;
	__u64 ino;
	__u32 pid;
	__u8 old_state;
	__u8 new_state;
	__u8 pad[2];
};

struct conn_release_event {
	struct event_header hdr;
	__u64 ino;
	__u32 pid;
	__u8 state;	/* TCP state when released */
	__u8 pad[3];
};

/* Per traced process, counted in the kernel: userspace only reads totals. */
struct proc_conn_counters {
	__u64 tcp_sockets_created;	/* socket(AF_INET/AF_INET6, SOCK_STREAM) */
	__u64 connect_calls;
	__u64 accept_calls;		/* successful accept/accept4 */
};

/* The tracer's own losses, per CPU; printed in every report. */
struct tracer_health {
	__u64 ringbuf_drops;	/* events lost: ring buffer full */
	__u64 sock_table_full;	/* connections not tracked: socket map full */
};

_Static_assert(sizeof(struct event_header) == 16, "event_header layout");
_Static_assert(sizeof(struct conn_open_event) == 72, "conn_open_event layout");
_Static_assert(sizeof(struct conn_state_event) == 32, "conn_state_event layout");
_Static_assert(sizeof(struct conn_release_event) == 32, "conn_release_event layout");

#endif /* INFLIGHT_CONN_EVENTS_H */
