// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/sys/proc_net.c: parsing /proc/net/tcp and tcp6 text,
 * reading a network namespace's table once and picking a process's sockets
 * from it, and telling an exited process (whose fd table reads empty) from a
 * live one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "proc_net.h"

/*
 * The kernel prints each address word as %08X of a host-order load, so these
 * literal files are what a little-endian machine shows.
 */
static const char tcp4_text[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 23456 1 0000000000000000 100 0 0 10 0\n"
	"   1: 0A00020A:C350 0302010A:1538 01 00000000:00000000 02:000A7B2C 00000000  1000        0 23457 2 0000000000000000 20 4 30 10 -1\n"
	"   2: 0100007F:1F90 0100007F:D431 08 00000000:00000001 00:00000000 00000000  1000        0 23460 1 0000000000000000 20 4 30 10 -1\n";

static const char tcp6_text[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 34567 1 0000000000000000 100 0 0 10 0\n"
	"   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:E2A4 01 00000000:00000000 00:00000000 00000000  1000        0 34568 1 0000000000000000 20 4 30 10 -1\n"
	"   2: B80D0120000000000000000001000000:01BB B80D0120000000000000000002000000:C001 01 00000000:00000000 00:00000000 00000000     0        0 34569 1 0000000000000000 20 4 30 10 -1\n";

static int little_endian_only(void **state)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	skip();
#endif
	return 0;
}

/* Parses text as if it were a /proc file. */
static int parse_text(const char *text, uint16_t family, const uint64_t *inos, size_t n_inos,
		      struct proc_tcp_table *t)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int err;

	assert_non_null(f);
	err = proc_net_parse_tcp(f, family, inos, n_inos, t);
	fclose(f);
	return err;
}

static void assert_v4(const uint8_t *addr, const char *dotted)
{
	uint8_t want[4];

	assert_int_equal(inet_pton(AF_INET, dotted, want), 1);
	assert_memory_equal(addr, want, 4);
}

static void assert_v6(const uint8_t *addr, const char *text)
{
	uint8_t want[16];

	assert_int_equal(inet_pton(AF_INET6, text, want), 1);
	assert_memory_equal(addr, want, 16);
}

static const struct proc_tcp_socket *by_ino(const struct proc_tcp_table *t, uint64_t ino)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		if (t->socks[i].ino == ino)
			return &t->socks[i];
	return NULL;
}

static void test_tcp4_all_sockets_without_filter(void **state)
{
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(tcp4_text, AF_INET, NULL, 0, &t), 0);
	assert_int_equal(t.len, 3);
	assert_int_equal(t.socks[0].ino, 23456);
	assert_int_equal(t.socks[1].ino, 23457);
	assert_int_equal(t.socks[2].ino, 23460);
	proc_tcp_table_free(&t);
}

static void test_tcp4_listen_socket_fields(void **state)
{
	struct proc_tcp_table t = {};
	const struct proc_tcp_socket *s;

	assert_int_equal(parse_text(tcp4_text, AF_INET, NULL, 0, &t), 0);
	s = by_ino(&t, 23456);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET);
	assert_int_equal(s->state, 0x0A);	/* LISTEN */
	assert_v4(s->saddr, "127.0.0.1");
	assert_int_equal(s->sport, 8080);
	assert_v4(s->daddr, "0.0.0.0");
	assert_int_equal(s->dport, 0);
	proc_tcp_table_free(&t);
}

static void test_tcp4_established_socket_fields(void **state)
{
	struct proc_tcp_table t = {};
	const struct proc_tcp_socket *s;
	static const uint8_t zero[12];

	assert_int_equal(parse_text(tcp4_text, AF_INET, NULL, 0, &t), 0);
	s = by_ino(&t, 23457);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET);
	assert_int_equal(s->state, 1);	/* ESTABLISHED */
	assert_v4(s->saddr, "10.2.0.10");
	assert_int_equal(s->sport, 50000);
	assert_v4(s->daddr, "10.1.2.3");
	assert_int_equal(s->dport, 5432);
	/* an IPv4 address fills only the first 4 bytes */
	assert_memory_equal(s->saddr + 4, zero, 12);
	assert_memory_equal(s->daddr + 4, zero, 12);
	proc_tcp_table_free(&t);
}

static void test_tcp4_close_wait_state(void **state)
{
	struct proc_tcp_table t = {};
	const struct proc_tcp_socket *s;

	assert_int_equal(parse_text(tcp4_text, AF_INET, NULL, 0, &t), 0);
	s = by_ino(&t, 23460);
	assert_non_null(s);
	assert_int_equal(s->state, 8);	/* CLOSE_WAIT */
	assert_int_equal(s->dport, 54321);
	proc_tcp_table_free(&t);
}

static void test_inode_filter_keeps_only_listed(void **state)
{
	static const uint64_t inos[] = { 100, 23457, 99999 };
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(tcp4_text, AF_INET, inos, 3, &t), 0);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.socks[0].ino, 23457);
	assert_int_equal(t.socks[0].sport, 50000);
	proc_tcp_table_free(&t);
}

static void test_inode_filter_first_and_last(void **state)
{
	static const uint64_t inos[] = { 23456, 23460 };
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(tcp4_text, AF_INET, inos, 2, &t), 0);
	assert_int_equal(t.len, 2);
	assert_int_equal(t.socks[0].ino, 23456);
	assert_int_equal(t.socks[1].ino, 23460);
	proc_tcp_table_free(&t);
}

static void test_inode_filter_empty_array_keeps_nothing(void **state)
{
	static const uint64_t inos[1] = { 23456 };
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(tcp4_text, AF_INET, inos, 0, &t), 0);
	assert_int_equal(t.len, 0);
	proc_tcp_table_free(&t);
}

static void test_tcp6_loopback(void **state)
{
	struct proc_tcp_table t = {};
	const struct proc_tcp_socket *s;

	assert_int_equal(parse_text(tcp6_text, AF_INET6, NULL, 0, &t), 0);
	assert_int_equal(t.len, 3);
	s = by_ino(&t, 34567);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET6);
	assert_int_equal(s->state, 0x0A);
	assert_v6(s->saddr, "::1");
	assert_int_equal(s->sport, 8080);
	assert_v6(s->daddr, "::");
	assert_int_equal(s->dport, 0);
	proc_tcp_table_free(&t);
}

static void test_tcp6_v4_mapped(void **state)
{
	struct proc_tcp_table t = {};
	const struct proc_tcp_socket *s;

	assert_int_equal(parse_text(tcp6_text, AF_INET6, NULL, 0, &t), 0);
	s = by_ino(&t, 34568);
	assert_non_null(s);
	assert_int_equal(s->state, 1);
	assert_v6(s->saddr, "::ffff:127.0.0.1");
	assert_v6(s->daddr, "::ffff:127.0.0.1");
	assert_int_equal(s->sport, 8080);
	assert_int_equal(s->dport, 58020);
	proc_tcp_table_free(&t);
}

static void test_tcp6_global_address(void **state)
{
	struct proc_tcp_table t = {};
	const struct proc_tcp_socket *s;

	assert_int_equal(parse_text(tcp6_text, AF_INET6, NULL, 0, &t), 0);
	s = by_ino(&t, 34569);
	assert_non_null(s);
	assert_v6(s->saddr, "2001:db8::1");
	assert_v6(s->daddr, "2001:db8::2");
	assert_int_equal(s->sport, 443);
	assert_int_equal(s->dport, 0xC001);
	proc_tcp_table_free(&t);
}

static void test_tcp6_inode_filter(void **state)
{
	static const uint64_t inos[] = { 34568 };
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(tcp6_text, AF_INET6, inos, 1, &t), 0);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.socks[0].ino, 34568);
	proc_tcp_table_free(&t);
}

/* a tcp6 line read as tcp (or the reverse) has the wrong address length */
static void test_family_mismatch_skips_lines(void **state)
{
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(tcp6_text, AF_INET, NULL, 0, &t), 0);
	assert_int_equal(t.len, 0);
	assert_int_equal(parse_text(tcp4_text, AF_INET6, NULL, 0, &t), 0);
	assert_int_equal(t.len, 0);
	proc_tcp_table_free(&t);
}

static void test_garbage_lines_skipped(void **state)
{
	static const char text[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"\n"
		"garbage\n"
		"   0: ZZZZZZZZ:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0\n"
		"   1: 0100007F:1F9G 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 100 0 0 10 0\n"
		"   2: 0100007F:10000 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 3 1 0 100 0 0 10 0\n"
		"   3: 00007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4 1 0 100 0 0 10 0\n"
		"   4: 0100007F1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5 1 0 100 0 0 10 0\n"
		"   5: 0100007F:1F90 00000000:0000 1FF 00000000:00000000 00:00000000 00000000  1000        0 6 1 0 100 0 0 10 0\n"
		"   6: 0100007F:1F90 00000000:0000 0A 00000000:00000000\n"
		"   7: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0 100 0 0 10 0\n"
		"   8: 0100007F:1F90\n";
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(text, AF_INET, NULL, 0, &t), 0);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.socks[0].ino, 777);
	assert_int_equal(t.socks[0].sport, 8080);
	proc_tcp_table_free(&t);
}

static void test_empty_file(void **state)
{
	struct proc_tcp_table t = {};
	FILE *f = fmemopen(NULL, 1, "w+");

	assert_non_null(f);
	assert_int_equal(proc_net_parse_tcp(f, AF_INET, NULL, 0, &t), 0);
	assert_int_equal(t.len, 0);
	fclose(f);
	proc_tcp_table_free(&t);
}

static void test_appends_to_existing_table(void **state)
{
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(tcp4_text, AF_INET, NULL, 0, &t), 0);
	assert_int_equal(parse_text(tcp6_text, AF_INET6, NULL, 0, &t), 0);
	assert_int_equal(t.len, 6);
	assert_int_equal(t.socks[0].family, AF_INET);
	assert_int_equal(t.socks[2].family, AF_INET);
	assert_int_equal(t.socks[3].family, AF_INET6);
	assert_int_equal(t.socks[3].ino, 34567);
	proc_tcp_table_free(&t);
}

/* more sockets than the table's first allocation */
static void test_many_sockets_grow_table(void **state)
{
	enum { N = 300 };
	struct proc_tcp_table t = {};
	char *text = NULL;
	size_t size = 0, i;
	FILE *mem = open_memstream(&text, &size);

	assert_non_null(mem);
	fputs("  sl  local_address rem_address   st ...\n", mem);
	for (i = 0; i < N; i++)
		fprintf(mem, "%4zu: 0100007F:%04zX 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 %zu 1 0 20 4 30 10 -1\n",
			i, 40000 + i, 1000 + i);
	fclose(mem);
	assert_int_equal(parse_text(text, AF_INET, NULL, 0, &t), 0);
	assert_int_equal(t.len, N);
	assert_true(t.cap >= N);
	for (i = 0; i < N; i++) {
		assert_int_equal(t.socks[i].ino, 1000 + i);
		assert_int_equal(t.socks[i].sport, 40000 + i);
		assert_int_equal(t.socks[i].dport, 8080);
	}
	proc_tcp_table_free(&t);
	free(text);
}

static void test_table_free_resets(void **state)
{
	struct proc_tcp_table t = {};

	assert_int_equal(parse_text(tcp4_text, AF_INET, NULL, 0, &t), 0);
	assert_non_null(t.socks);
	proc_tcp_table_free(&t);
	assert_null(t.socks);
	assert_int_equal(t.len, 0);
	assert_int_equal(t.cap, 0);
}

/* a zombie's fd table reads empty: that must not pass for "holds no socket" */
static void test_an_exited_process_has_no_fd_table(void **state)
{
	uint64_t *inos = NULL;
	siginfo_t info;
	size_t n = 0;
	pid_t child;
	int fds[2];

	assert_false(proc_has_exited(getpid()));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	/* exited, not yet reaped */
	assert_int_equal(waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
	assert_true(proc_has_exited(child));
	assert_int_equal(proc_socket_inodes(child, &inos, &n), -ESRCH);
	assert_null(inos);
	assert_int_equal(n, 0);
	assert_int_equal(proc_socket_inodes(getpid(), &inos, &n), 0);
	assert_true(n >= 2);
	free(inos);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_true(proc_has_exited(child));
	close(fds[0]);
	close(fds[1]);
}

/* the table of a namespace, with one process's inodes picked out of it */
static void test_select_picks_only_held_tcp_inodes(void **state)
{
	struct proc_tcp_table all = {}, mine = {};
	/* 99: not TCP (a UNIX socket, say); unsorted, as fd tables come */
	const uint64_t held[] = { 34569, 99, 23456 };

	assert_int_equal(parse_text(tcp6_text, AF_INET6, NULL, 0, &all), 0);
	assert_int_equal(parse_text(tcp4_text, AF_INET, NULL, 0, &all), 0);
	/* sorted by inode, as proc_read_tcp_table leaves it */
	for (size_t i = 0; i + 1 < all.len; i++)
		for (size_t j = i + 1; j < all.len; j++)
			if (all.socks[j].ino < all.socks[i].ino) {
				struct proc_tcp_socket tmp = all.socks[i];

				all.socks[i] = all.socks[j];
				all.socks[j] = tmp;
			}
	assert_int_equal(proc_tcp_table_select(&all, held, 3, &mine), 0);
	assert_int_equal(mine.len, 2);
	assert_int_equal(mine.socks[0].ino, 34569);
	assert_int_equal(mine.socks[0].family, AF_INET6);
	assert_int_equal(mine.socks[1].ino, 23456);
	assert_int_equal(mine.socks[1].family, AF_INET);
	assert_int_equal(mine.socks[1].state, 0x0A);
	proc_tcp_table_free(&mine);
	assert_int_equal(proc_tcp_table_select(&all, held, 0, &mine), 0);
	assert_int_equal(mine.len, 0);
	proc_tcp_table_free(&all);
	assert_int_equal(proc_tcp_table_select(&all, held, 3, &mine), 0);
	assert_int_equal(mine.len, 0);
}

/* this process's listener, found in its namespace's table by its fd's inode */
static void test_read_own_namespace_table(void **state)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct proc_tcp_table all = {}, mine = {};
	uint64_t ns, ino;
	struct stat st;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 1), 0);
	ino = proc_socket_inode(getpid(), fd);
	assert_true(ino != 0);
	assert_int_equal(proc_net_namespace(getpid(), &ns), 0);
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	assert_int_equal(ns, st.st_ino);
	assert_int_equal(proc_read_tcp_table(getpid(), &all), 0);
	for (size_t i = 1; i < all.len; i++)
		assert_true(all.socks[i - 1].ino <= all.socks[i].ino);
	assert_int_equal(proc_tcp_table_select(&all, &ino, 1, &mine), 0);
	assert_int_equal(mine.len, 1);
	assert_int_equal(mine.socks[0].state, 0x0A);	/* LISTEN */
	proc_tcp_table_free(&mine);
	proc_tcp_table_free(&all);
	close(fd);
	assert_int_equal(proc_net_namespace(-1, &ns), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tcp4_all_sockets_without_filter, little_endian_only),
		cmocka_unit_test_setup(test_tcp4_listen_socket_fields, little_endian_only),
		cmocka_unit_test_setup(test_tcp4_established_socket_fields, little_endian_only),
		cmocka_unit_test_setup(test_tcp4_close_wait_state, little_endian_only),
		cmocka_unit_test_setup(test_inode_filter_keeps_only_listed, little_endian_only),
		cmocka_unit_test_setup(test_inode_filter_first_and_last, little_endian_only),
		cmocka_unit_test_setup(test_inode_filter_empty_array_keeps_nothing, little_endian_only),
		cmocka_unit_test_setup(test_tcp6_loopback, little_endian_only),
		cmocka_unit_test_setup(test_tcp6_v4_mapped, little_endian_only),
		cmocka_unit_test_setup(test_tcp6_global_address, little_endian_only),
		cmocka_unit_test_setup(test_tcp6_inode_filter, little_endian_only),
		cmocka_unit_test_setup(test_family_mismatch_skips_lines, little_endian_only),
		cmocka_unit_test_setup(test_garbage_lines_skipped, little_endian_only),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test_setup(test_appends_to_existing_table, little_endian_only),
		cmocka_unit_test_setup(test_many_sockets_grow_table, little_endian_only),
		cmocka_unit_test_setup(test_table_free_resets, little_endian_only),
		cmocka_unit_test(test_an_exited_process_has_no_fd_table),
		cmocka_unit_test_setup(test_select_picks_only_held_tcp_inodes, little_endian_only),
		cmocka_unit_test(test_read_own_namespace_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
