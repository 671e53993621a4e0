// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "proc_net.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int table_append(struct proc_tcp_table *t, const struct proc_tcp_socket *s)
{
	struct proc_tcp_socket *grown;
	size_t cap;

	if (t->len == t->cap) {
		cap = t->cap ? t->cap * 2 : 64;
		grown = reallocarray(t->socks, cap, sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		t->socks = grown;
		t->cap = cap;
	}
	t->socks[t->len++] = *s;
	return 0;
}

/*
 * The kernel prints each 32-bit word of an address as %08X of its value in
 * host byte order (net/ipv4/tcp_ipv4.c, get_tcp4_sock; net/ipv6/tcp_ipv6.c,
 * get_tcp6_sock), so each word is parsed and stored back in host order.
 */
static int parse_addr(const char *hex, size_t words, uint8_t *addr)
{
	char word[9];
	uint32_t v;
	char *end;
	size_t i;

	if (strlen(hex) != words * 8)
		return -EINVAL;
	for (i = 0; i < words; i++) {
		memcpy(word, hex + i * 8, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, &end, 16);
		if (*end)
			return -EINVAL;
		memcpy(addr + i * 4, &v, 4);
	}
	return 0;
}

static int parse_endpoint(const char *field, size_t words, uint8_t *addr, uint16_t *port)
{
	char hex[33];
	const char *colon = strchr(field, ':');
	unsigned long p;
	char *end;

	if (!colon || (size_t)(colon - field) >= sizeof(hex))
		return -EINVAL;
	memcpy(hex, field, colon - field);
	hex[colon - field] = '\0';
	p = strtoul(colon + 1, &end, 16);
	if (*end || p > 0xffff)
		return -EINVAL;
	*port = (uint16_t)p;
	return parse_addr(hex, words, addr);
}

/* "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12345 ..." */
static int parse_tcp_line(const char *line, uint16_t family, struct proc_tcp_socket *s)
{
	char local[64], remote[64];
	unsigned int state;
	unsigned long long ino;
	size_t words = family == AF_INET ? 1 : 4;

	if (sscanf(line, " %*u: %63s %63s %x %*s %*s %*s %*u %*u %llu", local, remote,
		   &state, &ino) != 4)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	if (parse_endpoint(local, words, s->saddr, &s->sport) ||
	    parse_endpoint(remote, words, s->daddr, &s->dport) || state > 0xff)
		return -EINVAL;
	s->family = family;
	s->state = (uint8_t)state;
	s->ino = ino;
	return 0;
}

int proc_net_parse_tcp(FILE *f, uint16_t family, const uint64_t *inos, size_t n_inos,
		       struct proc_tcp_table *out)
{
	struct proc_tcp_socket s;
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	while (getline(&line, &cap, f) > 0) {
		if (parse_tcp_line(line, family, &s))
			continue;	/* the header, or a line we do not understand */
		if (inos && !bsearch(&s.ino, inos, n_inos, sizeof(*inos), cmp_u64))
			continue;
		err = table_append(out, &s);
		if (err)
			break;
	}
	free(line);
	return err;
}

static int append_inode(uint64_t **inos, size_t *n, size_t *cap, uint64_t ino)
{
	uint64_t *grown;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		grown = reallocarray(*inos, *cap, sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*inos = grown;
	}
	(*inos)[(*n)++] = ino;
	return 0;
}

/* The socket inode an fd link names ("socket:[1234]"), or 0. */
static uint64_t socket_link_inode(int dirfd, const char *name)
{
	char link[64];
	unsigned long long ino;
	ssize_t len = readlinkat(dirfd, name, link, sizeof(link) - 1);

	if (len <= 0)
		return 0;	/* closed meanwhile */
	link[len] = '\0';
	return sscanf(link, "socket:[%llu]", &ino) == 1 ? ino : 0;
}

uint64_t proc_socket_inode(pid_t pid, int fd)
{
	char name[64];

	snprintf(name, sizeof(name), "/proc/%d/fd/%d", pid, fd);
	return socket_link_inode(AT_FDCWD, name);
}

bool proc_has_exited(pid_t pid)
{
	char path[64], buf[512], *state;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return true;
	buf[len] = '\0';
	/* "PID (COMM) S ...": the name may hold spaces and parentheses, the state follows the last ')' */
	state = strrchr(buf, ')');
	if (!state || state[1] != ' ')
		return true;
	return state[2] == 'Z' || state[2] == 'X' || state[2] == 'x';
}

int proc_socket_inodes(pid_t pid, uint64_t **inos, size_t *n)
{
	char path[64];
	struct dirent *de;
	size_t cap = 0;
	DIR *dir;
	uint64_t ino;
	int err = 0;

	*inos = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !(ino = socket_link_inode(dirfd(dir), de->d_name)))
			continue;
		err = append_inode(inos, n, &cap, ino);
		if (err)
			break;
	}
	closedir(dir);
	/* still running after the read: the table read was its own */
	if (!err && proc_has_exited(pid))
		err = -ESRCH;
	if (err) {
		free(*inos);
		*inos = NULL;
		*n = 0;
		return err;
	}
	if (*n)
		qsort(*inos, *n, sizeof(**inos), cmp_u64);
	return 0;
}

int proc_net_namespace(pid_t pid, uint64_t *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st))
		return -errno;
	*ns = st.st_ino;
	return 0;
}

static int read_one(pid_t pid, const char *name, uint16_t family, struct proc_tcp_table *out)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* no IPv6 in this kernel */
	err = proc_net_parse_tcp(f, family, NULL, 0, out);
	fclose(f);
	return err;
}

static int cmp_socket_ino(const void *a, const void *b)
{
	return cmp_u64(&((const struct proc_tcp_socket *)a)->ino,
		       &((const struct proc_tcp_socket *)b)->ino);
}

int proc_read_tcp_table(pid_t pid, struct proc_tcp_table *out)
{
	int err;

	err = read_one(pid, "tcp", AF_INET, out);
	if (!err)
		err = read_one(pid, "tcp6", AF_INET6, out);
	if (err) {
		proc_tcp_table_free(out);
		return err;
	}
	if (out->len)
		qsort(out->socks, out->len, sizeof(*out->socks), cmp_socket_ino);
	return 0;
}

int proc_tcp_table_select(const struct proc_tcp_table *all, const uint64_t *inos, size_t n,
			  struct proc_tcp_table *out)
{
	const struct proc_tcp_socket *s;
	struct proc_tcp_socket key;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		key.ino = inos[i];
		s = all->len ? bsearch(&key, all->socks, all->len, sizeof(key), cmp_socket_ino)
			     : NULL;
		if (!s)
			continue;	/* not TCP, or opened after the table was read */
		err = table_append(out, s);
		if (err)
			return err;
	}
	return 0;
}

void proc_tcp_table_free(struct proc_tcp_table *t)
{
	free(t->socks);
	memset(t, 0, sizeof(*t));
}
