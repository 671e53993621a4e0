/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The TCP sockets a process holds right now, from /proc: its fd table gives
 * the socket inodes, /proc/PID/net/tcp{,6} (every socket of the process's
 * network namespace) gives each inode's endpoints and state.
 */
#ifndef INFLIGHT_PROC_NET_H
#define INFLIGHT_PROC_NET_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct proc_tcp_socket {
	uint64_t ino;
	uint16_t family;	/* AF_INET or AF_INET6 */
	uint8_t state;		/* kernel TCP state number */
	uint8_t saddr[16];	/* network order */
	uint8_t daddr[16];
	uint16_t sport;		/* host order */
	uint16_t dport;
};

struct proc_tcp_table {
	struct proc_tcp_socket *socks;
	size_t len, cap;
};

/*
 * Parses one /proc/net/tcp or tcp6 file, appending every socket whose inode
 * is in the sorted array inos (all of them if inos is NULL). Lines that do
 * not parse are skipped. 0 or -ENOMEM.
 */
int proc_net_parse_tcp(FILE *f, uint16_t family, const uint64_t *inos, size_t n_inos,
		       struct proc_tcp_table *out);
/* The socket inode behind fd in pid, or 0 (not a socket, or gone). */
uint64_t proc_socket_inode(pid_t pid, int fd);
/*
 * The socket inodes in /proc/PID/fd, sorted: 0 or -errno; -ESRCH once the
 * process has exited, when its fd table reads empty.
 */
int proc_socket_inodes(pid_t pid, uint64_t **inos, size_t *n);
/* The network namespace pid is in, by the inode of /proc/PID/ns/net: 0 or -errno. */
int proc_net_namespace(pid_t pid, uint64_t *ns);
/*
 * Every TCP socket (listeners included) of pid's network namespace, sorted by
 * inode: 0 or -errno.
 */
int proc_read_tcp_table(pid_t pid, struct proc_tcp_table *out);
/*
 * Appends the sockets of all (sorted by inode, as proc_read_tcp_table leaves
 * it) whose inode is in inos (any order): 0 or -ENOMEM.
 */
int proc_tcp_table_select(const struct proc_tcp_table *all, const uint64_t *inos, size_t n,
			  struct proc_tcp_table *out);
void proc_tcp_table_free(struct proc_tcp_table *t);
/* Whether pid has exited (a zombie, or gone), by /proc/PID/stat. */
bool proc_has_exited(pid_t pid);

#endif
