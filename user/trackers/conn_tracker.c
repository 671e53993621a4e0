// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "conn_events.h"
#include "conn_tracker.h"
#include "conn_tracker.skel.h"
#include "clock.h"
#include "host_checks.h"
#include "log.h"
#include "proc_net.h"

/* after events were dropped, the fd tables are read again at most this often */
#define RESYNC_PERIOD_NS NSEC_PER_SEC

/* One network namespace's TCP sockets, read for the scans of one round. */
struct netns_table {
	uint64_t ns;	/* inode of /proc/PID/ns/net */
	struct proc_tcp_table socks;
};

struct conn_tracker {
	struct conn_tracker_bpf *skel;
	struct ring_buffer *rb;
	struct model *model;
	int n_cpus;
	uint64_t drops_resynced;	/* ring-buffer drops the last resync accounted for */
	uint64_t resynced_ns;
	struct netns_table *tables;	/* read since the last target was added */
	size_t n_tables;
};

static int consume_events(struct conn_tracker *ct);

int conn_tracker_load(struct conn_tracker **out, const struct conn_tracker_config *cfg,
		      struct model *m)
{
	struct conn_tracker *ct;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = host_btf_custom_path());
	int err;

	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return -ENOMEM;
	ct->model = m;
	ct->n_cpus = libbpf_num_possible_cpus();
	ct->skel = conn_tracker_bpf__open_opts(&open_opts);
	if (!ct->skel) {
		err = -errno;
		log_error("failed to open the connection tracker's BPF object: %s", strerror(-err));
		goto fail;
	}
	bpf_map__set_max_entries(ct->skel->maps.socks, cfg->max_sockets);
	bpf_map__set_max_entries(ct->skel->maps.preexisting, cfg->max_sockets);
	bpf_map__set_max_entries(ct->skel->maps.events, cfg->ringbuf_bytes);
	err = conn_tracker_bpf__load(ct->skel);
	if (err) {
		log_error("failed to load the connection tracker's BPF programs: %s "
			  "(run with -vv for the verifier's log)", strerror(-err));
		goto fail;
	}
	*out = ct;
	return 0;
fail:
	conn_tracker_destroy(ct);
	return err;
}

int conn_tracker_add_target(struct conn_tracker *ct, pid_t pid)
{
	__u32 key = pid;
	__u8 one = 1;

	/* read before pid was followed: a socket it opened since is in neither */
	conn_tracker_scan_end(ct);
	if (bpf_map__update_elem(ct->skel->maps.targets, &key, sizeof(key), &one, sizeof(one),
				 BPF_ANY))
		return -errno;
	return 0;
}

static void conn_from_event(const struct conn_open_event *e, struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->pid = e->pid;
	c->tid = e->tid;
	c->ino = e->ino;
	c->source = e->origin == CONN_ORIGIN_ACCEPT ? CONN_SEEN_ACCEPT : CONN_SEEN_CONNECT;
	c->inbound = e->origin == CONN_ORIGIN_ACCEPT;
	c->state = e->state;
	c->local.family = c->remote.family = e->family;
	c->local.port = e->sport;
	c->remote.port = e->dport;
	memcpy(c->local.addr, e->saddr, sizeof(c->local.addr));
	memcpy(c->remote.addr, e->daddr, sizeof(c->remote.addr));
	c->opened_ns = e->hdr.ts_ns;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct conn_tracker *ct = ctx;
	const struct event_header *hdr = data;
	const struct conn_state_event *st = data;
	const struct conn_release_event *rel = data;
	struct conn c;

	ct->model->events++;
	if (size < sizeof(*hdr) || hdr->size > size)
		goto unknown;
	switch (hdr->type) {
	case EVENT_CONN_OPEN:
		if (hdr->size < sizeof(struct conn_open_event))
			goto unknown;
		conn_from_event(data, &c);
		model_conn_open(ct->model, &c);
		return 0;
	case EVENT_CONN_STATE:
		if (hdr->size < sizeof(*st))
			goto unknown;
		model_conn_state(ct->model, st->pid, st->ino, st->new_state, hdr->ts_ns);
		return 0;
	case EVENT_CONN_RELEASE:
		if (hdr->size < sizeof(*rel))
			goto unknown;
		model_conn_release(ct->model, rel->pid, rel->ino, hdr->ts_ns);
		return 0;
	}
unknown:
	ct->model->unmatched_events++;
	return 0;
}

int conn_tracker_attach(struct conn_tracker *ct)
{
	int err;

	err = conn_tracker_bpf__attach(ct->skel);
	if (err) {
		log_error("failed to attach the connection tracker: %s", strerror(-err));
		return err;
	}
	ct->rb = ring_buffer__new(bpf_map__fd(ct->skel->maps.events), handle_event, ct, NULL);
	if (!ct->rb) {
		err = -errno;
		log_error("failed to open the ring buffer: %s", strerror(-err));
		return err;
	}
	conn_tracker_scan_end(ct);
	ct->skel->bss->ready = true;
	return 0;
}

static void add_found_socket(struct conn_tracker *ct, pid_t pid, const struct proc_tcp_socket *s)
{
	struct conn c = {
		.pid = pid,
		.ino = s->ino,
		.source = CONN_FOUND_AT_ATTACH,
		.state = s->state,
	};
	__u32 tgid = pid;
	int err;

	/* a process that joined a sweep under way was first seen then, not at its start */
	c.opened_ns = model_traced_from(ct->model, model_process(ct->model, pid));
	c.local.family = c.remote.family = s->family;
	c.local.port = s->sport;
	c.remote.port = s->dport;
	memcpy(c.local.addr, s->saddr, sizeof(c.local.addr));
	memcpy(c.remote.addr, s->daddr, sizeof(c.remote.addr));
	model_conn_open(ct->model, &c);
	err = bpf_map__update_elem(ct->skel->maps.preexisting, &s->ino, sizeof(s->ino), &tgid,
				   sizeof(tgid), BPF_NOEXIST);
	if (!err)
		__sync_fetch_and_add(&ct->skel->bss->preexisting_pending, 1);
	else if (err != -EEXIST)	/* -EEXIST: another target shares it, handed over once */
		ct->model->found_table_full++;
}

/*
 * The TCP table of pid's network namespace: read once a round, since each
 * read lists every socket there, whoever holds it. Reads from before the
 * kernel side followed pid are gone (conn_tracker_scan_end), so a socket pid
 * opened after the read is seen by the tracepoints instead. A state change
 * between the read and the socket's handover (add_found_socket) goes unseen,
 * as with a read per process; the window is now the round's scans.
 */
static int netns_table(struct conn_tracker *ct, pid_t pid, const struct proc_tcp_table **out)
{
	struct netns_table *grown, *t;
	uint64_t ns;
	size_t i;
	int err;

	err = proc_net_namespace(pid, &ns);
	if (err)
		return err;
	for (i = 0; i < ct->n_tables; i++) {
		if (ct->tables[i].ns == ns) {
			*out = &ct->tables[i].socks;
			return 0;
		}
	}
	grown = reallocarray(ct->tables, ct->n_tables + 1, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	ct->tables = grown;
	t = &ct->tables[ct->n_tables];
	memset(t, 0, sizeof(*t));
	t->ns = ns;
	err = proc_read_tcp_table(pid, &t->socks);
	if (err)
		return err;
	ct->n_tables++;
	*out = &t->socks;
	return 0;
}

/* The TCP sockets pid holds: those of its fd table its namespace's table lists. */
static int held_tcp_sockets(struct conn_tracker *ct, pid_t pid, struct proc_tcp_table *out)
{
	const struct proc_tcp_table *all;
	uint64_t *inos;
	size_t n;
	int err;

	/*
	 * Either order of the two reads is sound: a socket closed between them
	 * is missing from the later one, one opened between them from the
	 * earlier one, and the tracepoints follow what it opens.
	 */
	err = proc_socket_inodes(pid, &inos, &n);
	if (err || !n)
		return err;
	err = netns_table(ct, pid, &all);
	if (!err)
		err = proc_tcp_table_select(all, inos, n, out);
	free(inos);
	return err;
}

int conn_tracker_scan_existing(struct conn_tracker *ct, pid_t pid)
{
	struct proc_tcp_table table = {};
	struct proc_model *p = model_process(ct->model, pid);
	size_t i;
	int err;

	if (!p)
		return -ENOENT;
	/* what the probes saw first takes precedence over the scan */
	consume_events(ct);
	err = held_tcp_sockets(ct, pid, &table);
	if (err) {
		proc_tcp_table_free(&table);
		return err;
	}
	for (i = 0; i < table.len; i++)
		if (table.socks[i].state == TCP_STATE_LISTEN)
			model_add_listener(p, table.socks[i].sport);
	for (i = 0; i < table.len; i++)
		if (table.socks[i].state != TCP_STATE_LISTEN)
			add_found_socket(ct, pid, &table.socks[i]);
	proc_tcp_table_free(&table);
	return 0;
}

void conn_tracker_scan_end(struct conn_tracker *ct)
{
	size_t i;

	for (i = 0; i < ct->n_tables; i++)
		proc_tcp_table_free(&ct->tables[i].socks);
	free(ct->tables);
	ct->tables = NULL;
	ct->n_tables = 0;
}

struct gone_ctx {
	const uint64_t *held;	/* sorted */
	size_t n_held;
	uint64_t read_ns;	/* when the fd table was read */
	struct ino_set {
		uint64_t *inos;
		size_t n, cap;
	} gone;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void collect_gone(const struct conn *c, void *ctx)
{
	struct gone_ctx *g = ctx;
	uint64_t *grown;
	size_t cap;

	/* opened after the fd table was read: its absence there says nothing */
	if (c->opened_ns >= g->read_ns ||
	    bsearch(&c->ino, g->held, g->n_held, sizeof(*g->held), cmp_u64))
		return;
	if (g->gone.n == g->gone.cap) {
		cap = g->gone.cap ? g->gone.cap * 2 : 64;
		grown = reallocarray(g->gone.inos, cap, sizeof(*grown));
		if (!grown)
			return;
		g->gone.inos = grown;
		g->gone.cap = cap;
	}
	g->gone.inos[g->gone.n++] = c->ino;
}

int conn_tracker_reconcile(struct conn_tracker *ct, pid_t pid)
{
	struct gone_ctx g = {};
	uint64_t *held;
	size_t i;
	int err;

	/* the fd table first: a socket closed after it is read still has its event to come */
	g.read_ns = monotonic_ns();
	err = proc_socket_inodes(pid, &held, &g.n_held);
	if (err)
		return err;
	g.held = held;
	consume_events(ct);
	model_foreach_conn(ct->model, pid, collect_gone, &g);
	for (i = 0; i < g.gone.n; i++)
		model_conn_gone(ct->model, pid, g.gone.inos[i]);
	for (i = 0; i < g.n_held; i++)
		model_conn_held(ct->model, pid, held[i], g.read_ns);
	free(g.gone.inos);
	free(held);
	return 0;
}

static void read_kernel_counters(struct conn_tracker *ct)
{
	struct tracer_health per_cpu[ct->n_cpus];
	struct proc_conn_counters c;
	struct proc_model *p;
	__u32 key = 0;
	size_t i;
	int cpu;

	if (!bpf_map__lookup_elem(ct->skel->maps.health, &key, sizeof(key), per_cpu,
				  sizeof(per_cpu), 0)) {
		ct->model->ringbuf_drops = 0;
		ct->model->sock_table_full = 0;
		for (cpu = 0; cpu < ct->n_cpus; cpu++) {
			ct->model->ringbuf_drops += per_cpu[cpu].ringbuf_drops;
			ct->model->sock_table_full += per_cpu[cpu].sock_table_full;
		}
	}
	for (i = 0; i < ct->model->n_procs; i++) {
		p = &ct->model->procs[i];
		key = p->pid;
		if (bpf_map__lookup_elem(ct->skel->maps.proc_counters, &key, sizeof(key), &c,
					 sizeof(c), 0))
			continue;
		p->tcp_sockets_created = c.tcp_sockets_created;
		p->connect_calls = c.connect_calls;
		p->accept_calls = c.accept_calls;
	}
}

/*
 * The events only: the kernel's counters cost a lookup per target, so they
 * are read once a poll, not at each of a round's scans or reconciles.
 */
static int consume_events(struct conn_tracker *ct)
{
	return ct->rb ? ring_buffer__consume(ct->rb) : 0;
}

static int drain(struct conn_tracker *ct)
{
	int n;

	if (!ct->rb)
		return 0;
	n = consume_events(ct);
	read_kernel_counters(ct);
	return n;
}

void conn_tracker_remove_target(struct conn_tracker *ct, pid_t pid)
{
	__u32 key = pid;

	bpf_map__delete_elem(ct->skel->maps.targets, &key, sizeof(key), 0);
}

int conn_tracker_targets_fd(const struct conn_tracker *ct)
{
	return bpf_map__fd(ct->skel->maps.targets);
}

/*
 * Dropped events may have been closes: the model would go on holding sockets
 * the targets let go of, and take them for leaks. So once events were
 * dropped, the live targets' fd tables are read again (at once, then at most
 * once a RESYNC_PERIOD_NS while drops go on).
 */
static void resync_after_drops(struct conn_tracker *ct)
{
	uint64_t now;
	size_t i;

	if (ct->model->ringbuf_drops == ct->drops_resynced)
		return;
	now = monotonic_ns();
	if (ct->resynced_ns && now - ct->resynced_ns < RESYNC_PERIOD_NS)
		return;
	ct->drops_resynced = ct->model->ringbuf_drops;
	ct->resynced_ns = now;
	for (i = 0; i < ct->model->n_procs; i++)
		if (!ct->model->procs[i].exited)
			conn_tracker_reconcile(ct, ct->model->procs[i].pid);
}

int conn_tracker_poll(struct conn_tracker *ct)
{
	int n = drain(ct);

	resync_after_drops(ct);
	return n;
}

void conn_tracker_destroy(struct conn_tracker *ct)
{
	if (!ct)
		return;
	conn_tracker_scan_end(ct);
	ring_buffer__free(ct->rb);
	conn_tracker_bpf__destroy(ct->skel);
	free(ct);
}
