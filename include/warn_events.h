/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Records shared by bpf/warnings.bpf.c and user/trackers/warning_tracker.c:
 * where one target's warn_explicit() keeps its arguments and what its objects
 * look like (filled in by user/cpython/warn_funnel.c), and the warning event.
 */
#ifndef INFLIGHT_WARN_EVENTS_H
#define INFLIGHT_WARN_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "conn_events.h"

/* bytes of a str object copied as they are (header and text): the user side decodes them */
#define WARN_OBJ_BYTES 320
#define WARN_NAME_MAX 64

#define EVENT_WARNING 0x300

/* One target's warn_explicit: offsets in bytes. */
struct warn_layout {
	__u32 probe_cookie;	/* the PID while placed for it alone, PROBES_SHARED once shared */
	__u32 first_arg;	/* the category's argument: 0, or 1 after the thread state (3.11+) */
	__u32 tp_name, tp_flags;	/* PyTypeObject */
	__u32 exc_args;		/* PyBaseExceptionObject.args */
	__u32 tuple_item0;	/* PyTupleObject.ob_item[0] */
	__u32 str_ascii_data;	/* where an ASCII str's text starts */
};

enum warn_message_from {
	WARN_MESSAGE_STR = 1,		/* warn("text") */
	WARN_MESSAGE_INSTANCE = 2,	/* warn(Warning("text")): its args[0] */
	WARN_MESSAGE_UNREAD = 3,
};

struct warn_event {
	struct event_header hdr;
	__u32 pid;
	__s32 lineno;
	__u32 message_from;		/* enum warn_message_from */
	__u32 message_bytes, filename_bytes;	/* how much of each object was copied */
	__s32 fd;			/* the first "fd=N" of an ASCII message, -1 if none */
	__u64 fd_ino;			/* that fd's inode at the warning, 0 if none */
	char category[WARN_NAME_MAX];	/* the category type's tp_name */
	__u8 message[WARN_OBJ_BYTES];	/* the str object, from its start */
	__u8 filename[WARN_OBJ_BYTES];
};

#endif
