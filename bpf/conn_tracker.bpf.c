// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Connection tracking for traced processes.
 *
 * A socket becomes ours when a traced process connects it (the TCP state goes
 * CLOSE -> SYN_SENT in the process's own context) or accepts it (accept and
 * accept4 return its fd). From then on, state changes are followed by socket
 * pointer wherever they happen (often in softirq context, where "current" is
 * not the owner).
 *
 * The process lets go of a socket when its last fd goes: close() of the last
 * reference is seen as it is called, dup2() or dup3() over it when the call
 * returns having replaced it (one that fails, or names the same fd twice,
 * closes nothing); any other way (close_range, a reference another thread
 * held during close) shows as the socket being orphaned at its next state
 * change. Process exit is handled in userspace.
 * Kprobes and fentry would see tcp_close directly, but kernels without
 * CONFIG_KPROBES (this project's CI among them) refuse both.
 *
 * Sockets open before tracing began are handed over by userspace as inode
 * numbers (read from /proc/PID/fd); the first event on such a socket adopts it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "conn_events.h"
#include "event_ring.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_TYPE_MASK 0xf
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace once every program is attached; nothing counts before. */
volatile bool ready;
/* Sockets userspace found open at attach and has not seen adopted yet. */
volatile __u64 preexisting_pending;

struct sock_owner {
	__u64 ino;
	__u32 pid;
	__u32 pad;
};

/* shared with proc_exit.bpf.c, which deletes a target at its exit: keep both alike */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, __u8);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);	/* resized by userspace before load */
	__type(key, __u64);	/* struct sock * */
	__type(value, struct sock_owner);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);	/* resized by userspace before load */
	__type(key, __u64);	/* socket inode */
	__type(value, __u32);	/* tgid */
} preexisting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_MAX_TARGETS);
	__type(key, __u32);	/* tgid */
	__type(value, struct proc_conn_counters);
} proc_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tracer_health);
} health SEC(".maps");

/* dup2/dup3 calls under way: the socket newfd held, released if the call succeeds */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);	/* pid_tgid of the calling thread */
	__type(value, __u64);	/* struct sock * */
} dup_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);	/* resized by userspace before load */
} events SEC(".maps");

static __always_inline struct tracer_health *health_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&health, &zero);
}

static __always_inline __u32 current_traced_tgid(void)
{
	__u32 tgid;

	if (!ready)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&targets, &tgid) ? tgid : 0;
}

static __always_inline struct proc_conn_counters *counters_of(__u32 tgid)
{
	struct proc_conn_counters zero = {}, *c;

	c = bpf_map_lookup_elem(&proc_counters, &tgid);
	if (c)
		return c;
	bpf_map_update_elem(&proc_counters, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&proc_counters, &tgid);
}

static __always_inline void *reserve_event(__u32 type, __u32 size)
{
	struct tracer_health *h = health_counters();

	return event_reserve(&events, h ? &h->ringbuf_drops : NULL, type, size);
}

static __always_inline __u64 sock_inode(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
}

static __always_inline bool is_tcp_inet(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family != AF_INET && family != AF_INET6)
		return false;
	return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP &&
	       BPF_CORE_READ(sk, sk_type) == SOCK_STREAM;
}

static __always_inline void emit_open(const struct sock *sk, __u64 ino, __u32 tgid,
				      __u8 origin)
{
	struct conn_open_event *e;
	__u16 family;

	e = reserve_event(EVENT_CONN_OPEN, sizeof(*e));
	if (!e)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->ino = ino;
	e->pid = tgid;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->family = family;
	e->origin = origin;
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline void track_socket(const struct sock *sk, __u32 tgid, __u8 origin)
{
	struct sock_owner owner = { .pid = tgid };
	__u64 key = (__u64)sk;
	struct tracer_health *h;

	owner.ino = sock_inode(sk);
	if (bpf_map_update_elem(&socks, &key, &owner, BPF_ANY)) {
		h = health_counters();
		if (h)
			h->sock_table_full++;
		return;
	}
	emit_open(sk, owner.ino, tgid, origin);
}

/*
 * The owner of a socket we follow; a socket found open at attach is adopted
 * here on the first event that touches it.
 */
static __always_inline struct sock_owner *owner_of(const struct sock *sk)
{
	struct sock_owner *owner, adopted = {};
	struct tracer_health *h;
	__u64 key = (__u64)sk;
	__u32 *tgid;

	owner = bpf_map_lookup_elem(&socks, &key);
	if (owner || !preexisting_pending)
		return owner;
	adopted.ino = sock_inode(sk);
	if (!adopted.ino)
		return NULL;
	tgid = bpf_map_lookup_elem(&preexisting, &adopted.ino);
	if (!tgid)
		return NULL;
	adopted.pid = *tgid;
	bpf_map_delete_elem(&preexisting, &adopted.ino);
	__sync_fetch_and_add(&preexisting_pending, -1);
	if (bpf_map_update_elem(&socks, &key, &adopted, BPF_ANY)) {
		h = health_counters();
		if (h)
			h->sock_table_full++;
		return NULL;
	}
	return bpf_map_lookup_elem(&socks, &key);
}

/* The process no longer holds the socket: tell userspace, stop following it. */
static __always_inline void release_socket(const struct sock *sk, struct sock_owner *owner)
{
	struct conn_release_event *e;
	__u64 key = (__u64)sk;

	e = reserve_event(EVENT_CONN_RELEASE, sizeof(*e));
	if (e) {
		e->ino = owner->ino;
		e->pid = owner->pid;
		e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	bpf_map_delete_elem(&socks, &key);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct conn_state_event *e;
	struct sock_owner *owner;
	__u32 tgid;

	/* sk is a typed kernel pointer here: its fields are plain loads, not helper calls */
	if (!ready || sk->sk_protocol != IPPROTO_TCP)
		return 0;

	/* connect() moves the socket out of CLOSE in the caller's context */
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		tgid = current_traced_tgid();
		if (tgid)
			track_socket(sk, tgid, CONN_ORIGIN_CONNECT);
		return 0;
	}

	owner = owner_of(sk);
	if (!owner)
		return 0;
	e = reserve_event(EVENT_CONN_STATE, sizeof(*e));
	if (!e)
		return 0;
	e->ino = owner->ino;
	e->pid = owner->pid;
	e->old_state = oldstate;
	e->new_state = newstate;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	if (!sk->sk_socket)
		release_socket(sk, owner);	/* orphaned: no fd refers to it any more */
	return 0;
}

/*
 * The file behind a file descriptor of the current process. Probe reads, not
 * loads through bpf_get_current_task_btf(), which would save ~0.1 us a call
 * but needs Linux 5.11: connection tracking runs from 5.8.
 */
static __always_inline struct file *file_of_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

/* The struct sock behind a file, if the file is a socket. */
static __always_inline struct sock *sock_of_file(struct file *file)
{
	struct socket *sock;
	umode_t mode;

	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* struct file before Linux 6.13 counted references in f_count */
struct file___f_count {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* true if this fd holds the file's only reference, so closing it releases the socket */
static __always_inline bool is_last_reference(struct file *file)
{
	struct file___f_count *old = (void *)file;

	/* file_ref_t stores references minus one (include/linux/file_ref.h) */
	if (bpf_core_field_exists(file->f_ref))
		return BPF_CORE_READ(file, f_ref.refcnt.counter) == 0;
	return BPF_CORE_READ(old, f_count.counter) == 1;
}

/* The socket behind fd when fd holds its file's last reference, else NULL. */
static __always_inline struct sock *sock_held_only_by(int fd)
{
	struct file *file = file_of_fd(fd);

	if (!file || !is_last_reference(file))
		return NULL;
	return sock_of_file(file);
}

static __always_inline void release_if_followed(const struct sock *sk)
{
	struct sock_owner *owner = owner_of(sk);

	if (owner)
		release_socket(sk, owner);
}

SEC("tracepoint/syscalls/sys_enter_close")
int on_close_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct sock *sk;

	if (!current_traced_tgid())
		return 0;
	sk = sock_held_only_by(ctx->args[0]);
	if (sk)
		release_if_followed(sk);
	return 0;
}

/*
 * dup2(oldfd, newfd) and dup3 close what newfd held only if they succeed, and
 * dup2(fd, fd) succeeds closing nothing: note the socket at entry, let it go
 * at exit.
 */
static __always_inline int note_dup_target(int oldfd, int newfd)
{
	__u64 id = bpf_get_current_pid_tgid(), key;
	struct sock *sk;

	if (oldfd == newfd || !current_traced_tgid())
		return 0;
	sk = sock_held_only_by(newfd);
	if (!sk)
		return 0;
	key = (__u64)sk;
	bpf_map_update_elem(&dup_targets, &id, &key, BPF_ANY);
	return 0;
}

static __always_inline int finish_dup(long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), *noted, sk;

	noted = bpf_map_lookup_elem(&dup_targets, &id);
	if (!noted)
		return 0;
	sk = *noted;
	bpf_map_delete_elem(&dup_targets, &id);
	if (ret >= 0)
		release_if_followed((const struct sock *)sk);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int on_dup2_enter(struct trace_event_raw_sys_enter *ctx)
{
	return note_dup_target(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_dup2")
int on_dup2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return finish_dup(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int on_dup3_enter(struct trace_event_raw_sys_enter *ctx)
{
	return note_dup_target(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_dup3")
int on_dup3_exit(struct trace_event_raw_sys_exit *ctx)
{
	return finish_dup(ctx->ret);
}

static __always_inline int handle_accept_exit(long ret)
{
	struct proc_conn_counters *c;
	struct file *file;
	struct sock *sk;
	__u32 tgid;

	tgid = current_traced_tgid();
	if (!tgid || ret < 0)
		return 0;
	c = counters_of(tgid);
	if (c)
		__sync_fetch_and_add(&c->accept_calls, 1);
	file = file_of_fd(ret);
	sk = file ? sock_of_file(file) : NULL;
	if (sk && is_tcp_inet(sk))
		track_socket(sk, tgid, CONN_ORIGIN_ACCEPT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int on_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_accept_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int on_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_accept_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int on_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct proc_conn_counters *c;
	__u32 tgid = current_traced_tgid();

	if (!tgid)
		return 0;
	c = counters_of(tgid);
	if (c)
		__sync_fetch_and_add(&c->connect_calls, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_socket")
int on_socket_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct proc_conn_counters *c;
	int family = ctx->args[0], type = ctx->args[1];
	__u32 tgid = current_traced_tgid();

	if (!tgid || (family != AF_INET && family != AF_INET6) ||
	    (type & SOCK_TYPE_MASK) != SOCK_STREAM)
		return 0;
	c = counters_of(tgid);
	if (c)
		__sync_fetch_and_add(&c->tcp_sockets_created, 1);
	return 0;
}
