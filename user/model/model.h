/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The aggregated model of what a trace saw: per process, its connections
 * (open ones one by one, closed ones as statistics), and a coarse time
 * series. Tracers feed it; findings and reports read it. It knows nothing of
 * BPF or /proc.
 */
#ifndef INFLIGHT_MODEL_H
#define INFLIGHT_MODEL_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Linux's TCP states, numbered as in include/net/tcp_states.h */
enum tcp_state {
	TCP_STATE_ESTABLISHED = 1,
	TCP_STATE_SYN_SENT,
	TCP_STATE_SYN_RECV,
	TCP_STATE_FIN_WAIT1,
	TCP_STATE_FIN_WAIT2,
	TCP_STATE_TIME_WAIT,
	TCP_STATE_CLOSE,
	TCP_STATE_CLOSE_WAIT,
	TCP_STATE_LAST_ACK,
	TCP_STATE_LISTEN,
	TCP_STATE_CLOSING,
	TCP_STATE_NEW_SYN_RECV,
	TCP_STATE_BOUND_INACTIVE,
	TCP_STATE_MAX = 16,
};

/* "ESTABLISHED", "CLOSE_WAIT", ...; "UNKNOWN" outside the table */
const char *tcp_state_name(unsigned int state);

struct endpoint {
	uint16_t family;	/* AF_INET or AF_INET6 */
	uint16_t port;		/* host order */
	uint8_t addr[16];	/* network order */
};

#define ENDPOINT_STRLEN 64
/* "10.0.0.1:80", "[2001:db8::1]:443"; IPv4-mapped IPv6 printed as IPv4 */
void endpoint_format(const struct endpoint *e, char *buf, size_t size);

enum conn_source {
	CONN_SEEN_CONNECT,	/* connect() seen while tracing */
	CONN_SEEN_ACCEPT,	/* accept() seen while tracing */
	CONN_FOUND_AT_ATTACH,	/* already open when tracing began */
};

struct conn {
	pid_t pid;
	pid_t tid;		/* thread that opened it; 0 if unknown */
	uint64_t ino;		/* socket inode: the connection's name */
	enum conn_source source;
	bool inbound;		/* accepted on a listening socket of the process */
	uint8_t state;		/* enum tcp_state */
	struct endpoint local, remote;
	uint64_t opened_ns;	/* monotonic; trace start for CONN_FOUND_AT_ATTACH */
	uint64_t state_since_ns;
	bool state_age_known;	/* false while a found-at-attach socket keeps its first state */
	uint64_t held_ns;	/* the last time the process was known to hold it */
	int site;		/* the creation site of the task that opened it, or -1 */
};

/* Log2 histogram of connection lifetimes, in nanoseconds. */
struct duration_stats {
	uint64_t count, sum_ns, min_ns, max_ns;
	uint64_t buckets[64];
};
void duration_add(struct duration_stats *d, uint64_t ns);
/* the q-quantile (0..1), as the upper edge of its bucket, capped at max */
uint64_t duration_quantile(const struct duration_stats *d, double q);

/* How a trace follows asyncio tasks. */
enum trace_mode {
	TRACE_MODE_PROBES,	/* a probe on each task's creation and end */
	TRACE_MODE_LEAN,	/* a probe on its creation; its end read from memory */
	/* no probe on either: tasks read from memory every poll, so one that lives and ends
	 * between two reads is not seen, and a task's line is where its awaiter (else its
	 * coroutine) was suspended when first read, not where it was created */
	TRACE_MODE_SAMPLED,
};
/* "probes", "lean", "sampled" */
const char *trace_mode_name(enum trace_mode mode);

struct sample {
	uint64_t t_ns;		/* since trace start */
	uint32_t tasks_in_flight;
	uint32_t open;
	uint32_t close_wait;
	uint64_t opened;	/* cumulative */
	uint64_t closed;
};

#define MODEL_MAX_SAMPLES 1024
#define MODEL_MAX_HOOKS 8
#define MODEL_MAX_LISTENERS 64
#define MODEL_PENDING_ATTRIBUTIONS 16384	/* a power of two */
#define PENDING_PROBE 16
#define SITE_MAX_ENDPOINTS 4
#define SITE_MAX_SAMPLES 128
#define SITE_CONCURRENCY_SAMPLES 512
/* creation sites kept (about 8 KiB each); tasks of a site past them count in their process only */
#define MODEL_MAX_SITES 4096

#define HOOK_MAX_PROBES 4
#define MODEL_MAX_CLOSE_WAIT_HISTORY 65536
#define MODEL_RECENT_CANCELS 65536	/* a power of two */
/* tasks cancelled this close to their process's exit were cancelled by its shutdown */
#define SHUTDOWN_WINDOW_NS (1000ULL * 1000 * 1000)

/* How a process ended, as the kernel said. */
struct proc_end {
	bool known;		/* false: it ended, but the kernel's word was not had */
	int exit_status;	/* -1 when a signal killed it */
	int signal;		/* 0 when it exited */
	bool core_dumped;
	bool oom_killed;	/* the kernel's OOM killer chose it */
};
#define PROC_END_STRLEN 96
/* "exited with status 0", "killed by SIGKILL (the kernel's OOM killer chose it)" */
void proc_end_describe(const struct proc_end *e, char *buf, size_t size);
/* Whether it died of something wrong: the OOM killer, a crash's signal, a failure status. */
bool proc_end_is_failure(const struct proc_end *e);

/* A uprobe of a hook: what it marks, where, and the instruction it traps on. */
struct hook_probe {
	char what[32];		/* "Task init" */
	uint64_t file_offset;
	char instruction[48];	/* "push r15"; "" if not decoded */
};

struct hook_status {
	char name[32];		/* "connections", "asyncio_tasks" */
	bool attached;
	char detail[PATH_MAX + 256];	/* how it was hooked, or why it could not be */
	struct hook_probe probes[HOOK_MAX_PROBES];
	size_t n_probes;
};

struct proc_model {
	pid_t pid;
	char comm[16];
	char exe[PATH_MAX];
	char python[24];	/* its CPython's version, "3.11.2" (or "3.10": see python_version.h) */
	bool exited;
	uint64_t exited_ns;	/* monotonic */
	uint64_t joined_ns;	/* monotonic: when it joined a trace already under way; 0 at its start */
	uint32_t execs;		/* exec()s while traced: comm and exe are the latest program's */
	uint32_t processes_forked;	/* child processes it started while traced (not traced) */
	struct proc_end end;
	struct hook_status hooks[MODEL_MAX_HOOKS];
	size_t n_hooks;

	uint64_t opened;	/* seen opening while tracing */
	uint64_t closed;	/* released by the process while tracing */
	uint64_t found_at_attach;
	uint32_t open;		/* held now */
	uint32_t peak_open;
	uint64_t peak_ns;	/* since trace start */
	uint32_t by_state[TCP_STATE_MAX];
	struct duration_stats lifetimes;	/* of connections opened and closed while tracing */

	/* counted in the kernel */
	uint64_t tcp_sockets_created, connect_calls, accept_calls;

	/* asyncio tasks created while tracing */
	uint64_t tasks_created, tasks_done, tasks_destroyed_pending;
	uint64_t tasks_finished, tasks_cancelled, tasks_ended_at_shutdown;
	uint64_t tasks_at_attach;	/* pending when the trace began, read from memory */
	/* TRACE_MODE_SAMPLED: the event loop of the tasks reads showed; more than one ever */
	uint64_t sampled_loop;
	bool sampled_loops_many;
	/* TRACE_MODE_SAMPLED: its tasks' reads, for the period they achieved */
	struct task_reads {
		uint64_t count;
		uint64_t first_ns, last_ns;	/* monotonic */
		uint64_t longest_gap_ns;
	} task_reads;
	uint32_t tasks_in_flight, peak_tasks_in_flight;
	uint64_t peak_tasks_ns;
	double tasks_in_flight_s;	/* tasks in flight integrated over time: task-seconds */

	uint16_t listen_ports[MODEL_MAX_LISTENERS];
	size_t n_listen_ports;

	struct sample samples[MODEL_MAX_SAMPLES];
	size_t n_samples;
	uint64_t sample_every_ns;
	uint64_t next_sample_ns;
};

/*
 * Where tasks come from: the first Python frame outside asyncio that led to
 * their creation, and the coroutine they run.
 */
struct task_site {
	pid_t pid;
	pid_t tid;		/* one line run by two threads' event loops is two sites */
	char file[256];
	int line;
	char function[128];
	char coroutine[128];
	int parent_site;	/* the site of the task that created the first of these, or -1 */
	char task_name[48];	/* a task pending at attach that nothing awaits: its name */
	bool suspended_site;	/* file and line say where that task was suspended, not created */
	/* TRACE_MODE_SAMPLED: file and line say where its first task was seen, not created:
	 * where its awaiter (else its own coroutine) was suspended when a read first showed
	 * it, or, for a task no read showed, where it opened a connection */
	bool sampled_site;
	uint64_t loop;		/* its tasks' event loop, where the thread is not known; else 0 */
	uint64_t created, done, destroyed_pending;
	/* how its tasks ended: a result or an exception; cancelled while the process ran on;
	 * cancelled by its shutdown, or still pending when it exited */
	uint64_t finished, cancelled, ended_at_shutdown;
	struct duration_stats shutdown_ages;	/* how long those had been pending by then */
	uint64_t at_attach;	/* its tasks that were already pending when the trace began */
	uint32_t in_flight, peak_in_flight;
	uint64_t peak_ns;	/* since trace start */
	double in_flight_s;	/* tasks in flight integrated over time: task-seconds */
	struct duration_stats lifetimes;	/* created to seen done */
	/*
	 * TRACE_MODE_SAMPLED: tasks no read showed pending whose numbers lay between
	 * two of this site's tasks that one read showed first (see task_adoption.c),
	 * taken for its tasks; each lived less than short_unseen_within_ns at most
	 */
	uint64_t short_unseen;
	uint64_t short_unseen_within_ns;
	uint64_t conns_opened;
	uint64_t conns_closed, conns_closed_at_exit;	/* by the process; by its exit */
	uint32_t conns_open, peak_conns_open;
	/* where its connections went: the first remote endpoints seen, with counts */
	struct site_endpoint {
		struct endpoint ep;
		uint64_t opened;
		uint32_t open, peak_open;
	} endpoints[SITE_MAX_ENDPOINTS];
	size_t n_endpoints;
	/* tasks in flight over time, sampled with the process */
	struct site_sample {
		uint64_t t_ns;
		uint32_t in_flight;
	} samples[SITE_MAX_SAMPLES];
	size_t n_samples;
	/*
	 * Concurrency seen at each poll while the site was busy: what a pool or
	 * a Semaphore for it should be sized from. Every stride-th poll once full.
	 */
	struct {
		uint32_t tasks[SITE_CONCURRENCY_SAMPLES];
		uint32_t conns[SITE_CONCURRENCY_SAMPLES];
		size_t n;
		unsigned int stride, skipped;
	} concurrency;
};

struct concurrency_summary {
	uint32_t p50, p95, max;
};
/* Quantiles of a site's busy-time concurrency, of tasks in flight or connections open. */
struct concurrency_summary site_concurrency(const struct task_site *s, bool connections);

struct model {
	enum trace_mode mode;
	uint64_t sample_period_ns;	/* TRACE_MODE_SAMPLED: how often tasks are read */
	uint64_t start_ns;	/* monotonic */
	uint64_t end_ns;
	struct timespec start_wall;
	struct proc_model *procs;
	size_t n_procs;
	void *conns;		/* tsearch tree of struct conn, by (pid, ino) */
	size_t n_conns, max_conns;
	struct task_site *sites;
	size_t n_sites, cap_sites;
	uint64_t tasks_refreshed_ns;	/* the last model_tasks_refreshed; 0 before the first */
	/* open-addressed indexes of sites (index + 1, 0 empty), by place and by (place, thread) */
	int *site_by_place, *site_by_thread;
	/*
	 * Attributions that arrived before their connection: the two tracers'
	 * ring buffers are drained one after the other, and a burst of connects
	 * from many tasks (a fan-out, on a busy host) can leave thousands waiting;
	 * so can a snapshot, which sees sockets the connection tracer has yet to.
	 * A hash table of MODEL_PENDING_ATTRIBUTIONS slots, by (pid, inode), each
	 * looked for in PENDING_PROBE slots; when those are full the oldest goes.
	 */
	struct pending_attribution {
		pid_t pid;
		int site;
		bool opened;	/* opened by the task during the trace, not found in memory */
		uint64_t ino;	/* 0: a free slot */
		uint64_t seq;	/* when it came: the oldest is overwritten first */
	} *pending_attr;
	uint64_t next_pending_seq;
	/* sockets that sat in CLOSE_WAIT for close_wait_keep_ns or more, then left it */
	struct close_wait_episode {
		pid_t pid;
		int site;
		bool inbound;
		bool age_is_lower_bound;	/* found in CLOSE_WAIT at attach */
		struct endpoint ep;		/* the remote one; the local one if inbound */
		uint64_t since_ns, ended_ns;	/* monotonic */
	} *close_wait_history;
	size_t n_close_wait_history, cap_close_wait_history;
	uint64_t close_wait_keep_ns;
	uint64_t close_wait_history_lost;	/* past MODEL_MAX_CLOSE_WAIT_HISTORY */
	/*
	 * Tasks cancelled or destroyed pending in the last SHUTDOWN_WINDOW_NS,
	 * oldest first: only their process's exit, or time, tells whether its
	 * shutdown ended them.
	 */
	struct recent_cancel {
		pid_t pid;	/* 0: already settled */
		int site;
		bool destroyed_pending;	/* else cancelled */
		uint64_t created_ns, ended_ns;
	} *recent_cancels;
	size_t recent_head, n_recent;
	void *tasks;		/* tsearch tree of live tasks, by (pid, address) */
	void *task_coros;	/* the same tasks, those with a known coroutine, by (pid, coroutine) */
	size_t n_tasks, max_tasks;
	/* the tracer's own losses and oddities, printed in every report */
	uint64_t events, ringbuf_drops, sock_table_full, untracked_conns, unmatched_events;
	uint64_t closes_unseen;	/* connections found gone with no event saying so */
	uint64_t found_table_full;	/* found open at attach, not handed to the kernel: no room */
	uint64_t task_events, untracked_tasks, no_thread_state, task_ringbuf_drops;
	uint64_t site_table_full;	/* tasks whose new site was past MODEL_MAX_SITES */
	uint64_t code_cache_full;	/* reads of the targets' code objects and names refused:
					   the readers' caches were full */
	uint64_t tasks_at_attach_left_out;	/* pending tasks past what one read of memory takes */
	/* TRACE_MODE_SAMPLED: reads of a target's tasks that failed (its tasks created since the
	 * last read are then found at the next); connections opened by a task no read showed */
	uint64_t task_reads_failed, conn_tasks_unresolved;
	/* Python warnings, by (process, category, file, line): see model_warning */
	struct warning_group *warnings;
	size_t n_warnings, cap_warnings;
	uint64_t warnings_ungrouped;	/* past MODEL_MAX_WARNING_GROUPS: counted here only */
	/*
	 * The connection the last warnings naming an fd found there: an object
	 * and its owner collected together warn one after the other (a socket,
	 * then its transport), the second after the first closed the fd.
	 */
	struct warned_fd {
		pid_t pid;
		int fd, conn_site;
		uint64_t ts_ns;
	} warned_fds[16];
	size_t next_warned_fd;
	uint64_t warning_drops;		/* lost to a full ring */
};

/* --- Python warnings (model_warnings.c) --- */

#define MODEL_MAX_WARNING_GROUPS 4096
#define WARNING_MESSAGE_MAX 240
#define WARNING_CATEGORY_MAX 64

/* The warnings of one category at one site (where Python attributed them). */
struct warning_group {
	pid_t pid;
	char category[WARNING_CATEGORY_MAX];	/* "DeprecationWarning" */
	char file[256];
	int line;
	uint64_t count;
	uint64_t first_ns, last_ns;	/* monotonic */
	char message[WARNING_MESSAGE_MAX];	/* the first one's, UTF-8, cut short (target data) */
	bool message_cut;
	/* the first message naming a file descriptor that was a traced connection then:
	   the creation site of the task that opened it (-1 if not known) */
	bool connection;
	int conn_site;
};

/* What the tracer saw of one warning. */
struct warning_seen {
	const char *category, *file, *message;	/* message "" when it could not be read */
	bool message_cut;
	int line;
	int fd;			/* the fd the message names, -1 if none */
	uint64_t fd_ino;	/* its inode as it was then; 0 if none, or already closed */
};

/* One warning in pid at ts_ns, grouped with its category and site. */
void model_warning(struct model *m, pid_t pid, const struct warning_seen *w, uint64_t ts_ns);

int model_init(struct model *m, uint64_t start_ns, size_t max_conns);
void model_free(struct model *m);
/* NULL on allocation failure */
struct proc_model *model_add_process(struct model *m, pid_t pid, const char *comm,
				     const char *exe);
struct proc_model *model_process(const struct model *m, pid_t pid);
/* A process added at ts_ns to a trace already under way (inflight sweep finds it late). */
void model_process_joined(struct model *m, struct proc_model *p, uint64_t ts_ns);
/* When the trace began for p: the trace's start, or when it joined. */
uint64_t model_traced_from(const struct model *m, const struct proc_model *p);
/* How long p was traced by now_ns: from its start or joining to now_ns or its exit. */
uint64_t model_traced_ns(const struct model *m, const struct proc_model *p, uint64_t now_ns);
/* Sets a hook's status (and forgets its probes, which model_hook_probe adds again). */
void model_set_hook(struct proc_model *p, const char *name, bool attached, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void model_hook_probe(struct proc_model *p, const char *name, const char *what,
		      uint64_t file_offset, const char *instruction);
void model_add_listener(struct proc_model *p, uint16_t port);

/* A connection opened (or found open); c->pid must be a model process. */
void model_conn_open(struct model *m, const struct conn *c);
void model_conn_state(struct model *m, pid_t pid, uint64_t ino, uint8_t new_state, uint64_t ts_ns);
void model_conn_release(struct model *m, pid_t pid, uint64_t ino, uint64_t ts_ns);
/*
 * The process no longer holds the connection, and the event that would have
 * said when it let go was lost: it leaves with no lifetime and no CLOSE_WAIT
 * history, so a lost close is never taken for a leak. Counted.
 */
void model_conn_gone(struct model *m, pid_t pid, uint64_t ino);
/* The process was seen holding the connection at ts_ns (in its fd table). */
void model_conn_held(struct model *m, pid_t pid, uint64_t ino, uint64_t ts_ns);
/* The process is gone, at ts_ns; end says how (NULL if not known). */
void model_process_exited(struct model *m, pid_t pid, uint64_t ts_ns, const struct proc_end *end);
/*
 * The process exec()ed at ts_ns, into comm and exe: the tasks of the old
 * program ended with it; its connections stay with the process.
 */
void model_process_exec(struct model *m, pid_t pid, uint64_t ts_ns, const char *comm,
			const char *exe);
/* Takes a time-series sample of each process when one is due. */
void model_sample(struct model *m, uint64_t now_ns);
/* The trace is over: a last sample of every process still running, at now_ns. */
void model_finish(struct model *m, uint64_t now_ns);

/* The open connection ino of pid, or NULL. */
struct conn *model_find_conn(const struct model *m, pid_t pid, uint64_t ino);
/* The open connections of pid (all if pid is 0), in (pid, ino) order. */
typedef void (*conn_visit_fn)(const struct conn *c, void *ctx);
void model_foreach_conn(const struct model *m, pid_t pid, conn_visit_fn fn, void *ctx);

/* Open connections grouped by direction and endpoint (the remote one for
 * outbound, the local listening one for inbound). */
struct endpoint_row {
	bool inbound;
	struct endpoint ep;
	uint32_t total;
	uint32_t by_state[TCP_STATE_MAX];
	uint64_t oldest_opened_ns;
};
/* 0 or -ENOMEM; rows sorted by total, largest first; free(*rows) */
int model_endpoint_rows(const struct model *m, pid_t pid, struct endpoint_row **rows, size_t *n);

/* --- asyncio tasks (model_tasks.c) --- */

struct task_origin {
	const char *file;	/* NULL if the creator's stack could not be read */
	int line;
	const char *function;
	const char *coroutine;
	pid_t tid;		/* the creating thread: sites are per thread, so per event loop */
	uint64_t coro_addr;	/* the coroutine object the task runs, 0 if not known */
	const char *task_name;	/* set for a task pending at attach that nothing awaits: file
				   and line then say where it is suspended */
	bool sampled;		/* first read from memory during a sampled trace: file and line
				   say where it (or its awaiter) was suspended then */
	uint64_t loop;		/* a sampled task's event loop (its thread is not known): one
				   line run by two loops is two sites; 0 if not known */
	uint64_t identity;	/* read from memory: what tells the task from a later one at
				   its address (its name, hashed); 0 if not known */
};

/* A task was created in pid at address addr, by the task at parent (0 if none). */
void model_task_created(struct model *m, pid_t pid, uint64_t addr, const struct task_origin *o,
			uint64_t parent, uint64_t ts_ns);
/*
 * A task that was pending before the probes went in, found in the target's
 * memory as it was at ts_ns; its origin is inferred (the line its awaiting
 * task is suspended at). Ignored if the probes already saw it created; if
 * they see it created later, with an earlier timestamp, it was created
 * while memory was read: counted once, at the site they saw when it had none.
 */
void model_task_existing(struct model *m, pid_t pid, uint64_t addr, const struct task_origin *o,
			 uint64_t parent, uint64_t ts_ns);
/*
 * TRACE_MODE_SAMPLED: a task memory showed pending at ts_ns that the model
 * does not hold, so created since the last read; counted as created, at a
 * sampled site (true). Ignored if the model holds it (false); a task the model holds at its
 * address with another identity ended unseen (as by model_task_destroyed
 * with state -1), its block reused between two reads.
 */
bool model_task_sampled(struct model *m, pid_t pid, uint64_t addr, const struct task_origin *o,
			uint64_t parent, uint64_t ts_ns);
/* The site of the live task at addr, or -1. */
int model_task_site(const struct model *m, pid_t pid, uint64_t addr);
/* TRACE_MODE_SAMPLED: n tasks of site no read showed, each of which lived less than within_ns. */
void model_site_short_unseen(struct model *m, int site, uint64_t n, uint64_t within_ns);
/* TRACE_MODE_SAMPLED: whether all the tasks reads showed in pid ran on one event loop. */
bool model_sampled_one_loop(const struct model *m, pid_t pid);
/* TRACE_MODE_SAMPLED: pid's tasks were read from memory at read_ns (monotonic). */
void model_task_read(struct model *m, pid_t pid, uint64_t read_ns);
/*
 * The period a sampled trace achieved: a process's is the mean time between
 * its reads; of those, the median over the processes read twice or more, and
 * the longest time any process went between two reads. False if none was.
 */
bool model_read_period(const struct model *m, double *p50_s, double *longest_s, size_t *n_procs);
/* p's mean time between reads in seconds, or a negative number if it was read less than twice */
double model_proc_read_period(const struct proc_model *p);
/* The live task driving the coroutine at coro (its origin's coro_addr), or 0. */
uint64_t model_task_of_coroutine(const struct model *m, pid_t pid, uint64_t coro);
/* A live task was seen done (state 1 cancelled, 2 finished). */
void model_task_done(struct model *m, pid_t pid, uint64_t addr, int state, uint64_t ts_ns);
/* A task object was destroyed; state is its fut_state then (0: still pending). */
void model_task_destroyed(struct model *m, pid_t pid, uint64_t addr, int state, uint64_t ts_ns);
/* Every pending task's state has just been read: peaks are taken here. */
void model_tasks_refreshed(struct model *m, uint64_t ts_ns);
/* The connection ino of pid was opened by the task at task_addr. */
void model_conn_task(struct model *m, pid_t pid, uint64_t ino, uint64_t task_addr);
/*
 * TRACE_MODE_SAMPLED: the connection ino of pid was opened by a task no read
 * of memory showed (it ended first); o says where, from the opener's frames.
 */
void model_conn_opened_at(struct model *m, pid_t pid, uint64_t ino, const struct task_origin *o);
/* The connection ino, open when the trace began, is in use by the task at task_addr. */
void model_conn_task_existing(struct model *m, pid_t pid, uint64_t ino, uint64_t task_addr);
/* Calls fn for every task not yet seen done, with when it was created. */
typedef void (*task_age_fn)(pid_t pid, int site, uint64_t created_ns, void *ctx);
void model_foreach_pending_task_age(const struct model *m, task_age_fn fn, void *ctx);
/* A task not yet seen done, as the model holds it. */
struct pending_task {
	pid_t pid;
	uint64_t addr;
	uint64_t coro;		/* 0 if not known */
	uint64_t created_ns;	/* tells it from a later task at the same address */
};
/* Calls fn for every task not yet seen done. */
typedef void (*task_visit_fn)(const struct pending_task *t, void *ctx);
void model_foreach_pending_task(const struct model *m, task_visit_fn fn, void *ctx);
/* Whether the model still holds t, not yet done (and no other task at its address). */
bool model_task_is_pending(const struct model *m, const struct pending_task *t);
/* Settles the cancellations that are older than the shutdown window at now_ns. */
void model_settle_cancels(struct model *m, uint64_t now_ns);

#endif
