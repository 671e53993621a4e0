// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * CPython's warning funnel in traced processes.
 *
 * Every warning, shown or filtered out, passes through warn_explicit()
 * (Python/_warnings.c) before the filters decide its fate: one uprobe at its
 * entry sees the category (a type), the message (a str, or a Warning whose
 * args[0] is one), the file and the line it is attributed to. The str
 * objects are copied as they are, a bounded number of bytes from their
 * start, and decoded by userspace, which knows the interpreter's layout.
 *
 * A message that names a file descriptor ("fd=N", as asyncio's unclosed
 * transports and sockets do) gets that descriptor's inode as it is now:
 * asyncio warns before it closes the socket, so the inode names the
 * connection, which the connection tracker knows by it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "warn_events.h"
#include "task_events.h"
#include "event_ring.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TPFLAGS_UNICODE_SUBCLASS (1UL << 28)
#define TPFLAGS_BASE_EXC_SUBCLASS (1UL << 30)
#define FD_DIGITS_MAX 7

volatile bool ready;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, struct warn_layout);
} warn_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* 22k warnings a poll: a hot loop of them may still fill it */
} warn_events SEC(".maps");

/* warnings lost to a full ring: per CPU, summed by userspace */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} warn_drops SEC(".maps");

/* warn_explicit's first five arguments, each read at a fixed place in the registers */
struct arguments {
	__u64 v[5];
};

static __always_inline void read_arguments(struct pt_regs *ctx, struct arguments *a)
{
	a->v[0] = PT_REGS_PARM1(ctx);
	a->v[1] = PT_REGS_PARM2(ctx);
	a->v[2] = PT_REGS_PARM3(ctx);
	a->v[3] = PT_REGS_PARM4(ctx);
	a->v[4] = PT_REGS_PARM5(ctx);
}

static __always_inline __u64 argument(const struct arguments *a, __u32 i)
{
	return i < 5 ? a->v[i] : 0;
}

/* Copies a str object's first bytes, fewer when it sits at the end of its mapping. */
static __always_inline __u32 copy_object(__u8 *to, __u64 obj)
{
	if (!obj)
		return 0;
	if (!bpf_probe_read_user(to, WARN_OBJ_BYTES, (void *)obj))
		return WARN_OBJ_BYTES;
	if (!bpf_probe_read_user(to, WARN_OBJ_BYTES / 4, (void *)obj))
		return WARN_OBJ_BYTES / 4;
	return 0;
}

static __always_inline __u64 read_ptr(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* The str a message is: itself, or a Warning instance's args[0]; 0 if neither. */
static __always_inline __u64 message_str(const struct warn_layout *l, __u64 msg, __u32 *from)
{
	__u64 type = read_ptr(msg + 8), flags = read_ptr(type + l->tp_flags), args;

	if (flags & TPFLAGS_UNICODE_SUBCLASS) {
		*from = WARN_MESSAGE_STR;
		return msg;
	}
	*from = WARN_MESSAGE_UNREAD;
	if (!(flags & TPFLAGS_BASE_EXC_SUBCLASS))
		return 0;
	args = read_ptr(msg + l->exc_args);
	if (!args)
		return 0;
	*from = WARN_MESSAGE_INSTANCE;
	return read_ptr(args + l->tuple_item0);
}

/* The number after the first "fd=" of an ASCII text, -1 if there is none. */
static __always_inline int fd_in_text(const __u8 *text, __u32 len)
{
	int fd = -1;
	__u32 i, j;

	for (i = 0; i + 3 < WARN_OBJ_BYTES && i + 3 < len; i++) {
		if (text[i] != 'f' || text[i + 1] != 'd' || text[i + 2] != '=')
			continue;
		fd = 0;
		for (j = i + 3; j < i + 3 + FD_DIGITS_MAX && j < WARN_OBJ_BYTES && j < len; j++) {
			if (text[j] < '0' || text[j] > '9')
				break;
			fd = fd * 10 + (text[j] - '0');
		}
		return j == i + 3 ? -1 : fd;
	}
	return -1;
}

static __always_inline __u64 inode_of_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file ? BPF_CORE_READ(file, f_inode, i_ino) : 0;
}

/* The fd an ASCII message names, and its inode now. */
static __always_inline void note_fd(const struct warn_layout *l, struct warn_event *e)
{
	__u32 start = l->str_ascii_data, state;

	e->fd = -1;
	if (e->message_bytes < 64 || start >= 64)
		return;
	state = *(__u32 *)&e->message[32];	/* PyASCIIObject.state, at 32 in every version */
	if (!(state & (1 << 6)))
		return;
	e->fd = fd_in_text(&e->message[start], WARN_OBJ_BYTES - 64);
	if (e->fd >= 0)
		e->fd_ino = inode_of_fd(e->fd);
}

SEC("uprobe")
int on_warn_explicit(struct pt_regs *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, zero = 0, from = 0;
	const struct warn_layout *l;
	struct warn_event *e;
	__u64 *drops, category, msg;
	struct arguments args;

	if (!ready)
		return 0;
	l = bpf_map_lookup_elem(&warn_procs, &pid);
	/* a probe shared by every process that maps the file: the others leave here */
	if (!l || bpf_get_attach_cookie(ctx) != l->probe_cookie)
		return 0;
	drops = bpf_map_lookup_elem(&warn_drops, &zero);
	e = event_reserve(&warn_events, drops, EVENT_WARNING, sizeof(*e));
	if (!e)
		return 0;
	e->pid = pid;
	e->fd_ino = 0;
	read_arguments(ctx, &args);
	category = argument(&args, l->first_arg);
	e->category[0] = '\0';
	bpf_probe_read_user_str(e->category, sizeof(e->category),
				(void *)read_ptr(category + l->tp_name));
	msg = message_str(l, argument(&args, l->first_arg + 1), &from);
	e->message_from = from;
	e->message_bytes = copy_object(e->message, msg);
	e->filename_bytes = copy_object(e->filename, argument(&args, l->first_arg + 2));
	e->lineno = (__s32)argument(&args, l->first_arg + 3);
	note_fd(l, e);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
