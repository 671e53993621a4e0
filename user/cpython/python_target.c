// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "elf_image.h"
#include "file_facts.h"
#include "mapped_file.h"
#include "proc_maps.h"
#include "python_target.h"
#include "x86_code.h"
#include "task_type_finder.h"

/* 3.<minor> from a file name like libpython3.11.so.1.0 or python3.11 */
static int minor_from_name(const char *path, unsigned int *minor)
{
	const char *base = strrchr(path, '/'), *p;
	char *end;
	unsigned long v;

	base = base ? base + 1 : path;
	p = strstr(base, "python3.");
	if (!p)
		return -ENOENT;
	v = strtoul(p + strlen("python3."), &end, 10);
	if (end == p + strlen("python3.") || v > 99)
		return -ENOENT;
	*minor = (unsigned int)v;
	return 0;
}

/*
 * A symbol's address in the file; _PyRuntime also by its section, which a
 * stripped 3.13+ keeps (the interpreter puts it in .PyRuntime).
 */
static int find_symbol(struct elf_image *e, const char *symbol, uint64_t *vaddr)
{
	uint64_t size;

	if (!elf_image_symbol(e, symbol, vaddr))
		return 0;
	if (!strcmp(symbol, "_PyRuntime"))
		return elf_image_section(e, ".PyRuntime", vaddr, &size);
	return -ENOENT;
}

/* What a runtime file lacks, when it does. */
enum runtime_lack { RUNTIME_OK, RUNTIME_NO_SYMBOL, RUNTIME_NO_MINOR, RUNTIME_NO_NONE,
		    RUNTIME_BAD_LAYOUT };

/* What the file holding _PyRuntime says, for any process that maps it. */
struct runtime_facts {
	enum runtime_lack lack;
	uint64_t runtime_vaddr, none_vaddr;
	bool pic;
	uint64_t bias_at_zero;		/* the load bias were the file mapped at 0 (from map_offset) */
	struct cpython_layout layout;	/* before any .AsyncioDebug */
	char version[24];
	char why[256];			/* RUNTIME_BAD_LAYOUT: what is wrong with it */
};

/* What a file lacks to place the Task probes, when it does. */
enum task_lack { TASK_OK, TASK_NO_TYPE, TASK_NOT_FOUND };

/* Where the Task probes go in the file holding _asyncio's code, for one layout. */
struct task_facts {
	enum task_lack lack;
	uint32_t basicsize;
	uint64_t init_offset, dealloc_offset, pending_offset;
	char init_insn[48], dealloc_insn[48], pending_insn[48];
	char method[48];		/* how the functions were found */
};

_Static_assert(sizeof(struct runtime_facts) <= FILE_FACTS_MAX_SIZE, "runtime facts too big to keep");
_Static_assert(sizeof(struct task_facts) <= FILE_FACTS_MAX_SIZE, "task facts too big to keep");

/*
 * The whole version the interpreter was built as, from Py_Version (3.11+:
 * PY_VERSION_HEX, Include/patchlevel.h), if it is of the minor version its
 * name says; else the layout's "3.<minor>".
 */
static void read_full_version(struct elf_image *e, unsigned int minor, struct runtime_facts *f)
{
	static const char *const levels[16] = { [0xA] = "a", [0xB] = "b", [0xC] = "rc" };
	uint64_t vaddr;
	uint32_t hex;
	unsigned int level, serial;

	snprintf(f->version, sizeof(f->version), "%s", f->layout.version);
	if (elf_image_symbol(e, "Py_Version", &vaddr) || elf_image_read(e, vaddr, &hex, sizeof(hex)))
		return;
	if (hex >> 24 != 3 || ((hex >> 16) & 0xff) != minor)
		return;
	level = (hex >> 4) & 0xf;
	serial = hex & 0xf;
	if (level == 0xF)
		snprintf(f->version, sizeof(f->version), "3.%u.%u", minor, (hex >> 8) & 0xff);
	else if (levels[level])
		snprintf(f->version, sizeof(f->version), "3.%u.%u%s%u", minor, (hex >> 8) & 0xff,
			 levels[level], serial);
}

/*
 * The layout of the interpreter in the file: its version's table, with the
 * offsets of the _Py_DebugOffsets at the start of its _PyRuntime where it has them.
 */
static void build_layout(struct elf_image *e, unsigned int minor, struct runtime_facts *f)
{
	uint8_t debug[CPYTHON_DEBUG_OFFSETS_READ];
	int err;

	err = elf_image_read(e, f->runtime_vaddr, debug, sizeof(debug));
	if (cpython_layout_build(minor, err ? NULL : debug, sizeof(debug), &f->layout, f->why,
				 sizeof(f->why)))
		f->lack = RUNTIME_BAD_LAYOUT;
	else
		read_full_version(e, minor, f);
}

/* What the runtime file says, read from it (minor is UINT_MAX when its name says none). */
static void read_runtime_facts(struct elf_image *e, unsigned int minor, uint64_t map_offset,
			       struct runtime_facts *f)
{
	uint64_t bias;

	memset(f, 0, sizeof(*f));
	f->pic = elf_image_is_pic(e);
	if (find_symbol(e, "_PyRuntime", &f->runtime_vaddr) ||
	    elf_image_load_bias(e, 0, map_offset, &bias)) {
		f->lack = RUNTIME_NO_SYMBOL;
		return;
	}
	/* a mapping at map_start has the bias map_start + this: see elf_image_load_bias */
	f->bias_at_zero = bias;
	if (minor == UINT_MAX) {
		f->lack = RUNTIME_NO_MINOR;
		return;
	}
	if (find_symbol(e, "_Py_NoneStruct", &f->none_vaddr)) {
		f->lack = RUNTIME_NO_NONE;
		return;
	}
	build_layout(e, minor, f);
}

/* A cache key of kind for the file opened as fd: 0, or -errno with fd closed. */
static int facts_key_start(int fd, uint64_t kind, struct facts_key *key)
{
	int err;

	memset(key, 0, sizeof(*key));
	key->kind = kind;
	err = file_key_of(fd, &key->file);
	if (err)
		close(fd);
	return err;
}

/* The runtime file's facts, from the cache or read from fd (closed here either way). */
static int runtime_facts_of(int fd, unsigned int minor, uint64_t map_offset,
			    struct file_key *file, struct runtime_facts *out)
{
	struct facts_key key;
	struct elf_image *e;
	int err;

	err = facts_key_start(fd, FACTS_RUNTIME, &key);
	if (err)
		return err;
	*file = key.file;
	key.minor = minor;
	key.map_offset = map_offset;
	if (file_facts_get(&key, out, sizeof(*out))) {
		close(fd);
		return 0;
	}
	err = elf_image_open_fd(fd, &e);
	if (err)
		return err;
	read_runtime_facts(e, minor, map_offset, out);
	elf_image_close(e);
	file_facts_put(&key, out, sizeof(*out));
	return 0;
}

int python_runtime_file_read(int fd, const char *name, uint64_t map_start, uint64_t map_offset,
			     struct python_target *t)
{
	struct runtime_facts f;
	unsigned int minor;
	uint64_t bias;
	int err;

	snprintf(t->runtime_file, sizeof(t->runtime_file), "%s", name);
	if (minor_from_name(name, &minor))
		minor = UINT_MAX;
	err = runtime_facts_of(fd, minor, map_offset, &t->runtime_key, &f);
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "cannot read %s as ELF: %s", name,
			 strerror(-err));
		return -ENOTSUP;
	}
	switch (f.lack) {
	case RUNTIME_NO_SYMBOL:
		return -ENOENT;
	case RUNTIME_NO_MINOR:
		snprintf(t->problem, sizeof(t->problem),
			 "found _PyRuntime in %s but could not tell its Python version from the name", name);
		return -ENOTSUP;
	case RUNTIME_NO_NONE:
		snprintf(t->problem, sizeof(t->problem), "no _Py_NoneStruct symbol in %s", name);
		return -ENOTSUP;
	case RUNTIME_BAD_LAYOUT:
		snprintf(t->problem, sizeof(t->problem), "%s: %s", name, f.why);
		return -ENOTSUP;
	case RUNTIME_OK:
		break;
	}
	bias = f.pic ? map_start + f.bias_at_zero : 0;
	t->runtime_addr = f.runtime_vaddr + bias;
	t->none_addr = f.none_vaddr + bias;
	t->layout = f.layout;
	snprintf(t->version, sizeof(t->version), "%s", f.version);
	return 0;
}

/* A file's .AsyncioDebug section: 0 with its bytes, -ENOENT without one, -EIO unreadable. */
struct asyncio_debug_facts {
	int64_t err;
	uint8_t sec[CPYTHON_ASYNCIO_DEBUG_SIZE];
};

_Static_assert(sizeof(struct asyncio_debug_facts) <= FILE_FACTS_MAX_SIZE,
	       "asyncio debug facts too big to keep");

static void read_asyncio_debug_facts(struct elf_image *e, struct asyncio_debug_facts *f)
{
	uint64_t vaddr, size;

	memset(f, 0, sizeof(*f));
	f->err = elf_image_section(e, ".AsyncioDebug", &vaddr, &size);
	if (!f->err && (size < sizeof(f->sec) || elf_image_read(e, vaddr, f->sec, sizeof(f->sec))))
		f->err = -EIO;
}

/* The section of the file open as fd (closed here), kept or read: 0 or -errno. */
static int asyncio_debug_facts_of(int fd, struct asyncio_debug_facts *out)
{
	struct facts_key key;
	struct elf_image *e;
	int err;

	err = facts_key_start(fd, FACTS_ASYNCIO_DEBUG, &key);
	if (err)
		return err;
	if (file_facts_get(&key, out, sizeof(*out))) {
		close(fd);
		return 0;
	}
	err = elf_image_open_fd(fd, &e);
	if (err)
		return err;
	read_asyncio_debug_facts(e, out);
	elf_image_close(e);
	file_facts_put(&key, out, sizeof(*out));
	return 0;
}

/*
 * The Task, thread and interpreter offsets _asyncio publishes (3.14+), from
 * the file that holds it: its own module, or the interpreter it is built into.
 * A file without the section leaves the table's values.
 */
static int read_asyncio_debug(const struct file_mapping *m, struct python_target *t)
{
	struct asyncio_debug_facts f;
	char why[256], opened_by[PATH_MAX + 32];
	int fd, err;

	fd = mapped_file_open(t->pid, m, opened_by, sizeof(opened_by), t->problem,
			      sizeof(t->problem));
	if (fd < 0)
		return -ENOTSUP;
	err = asyncio_debug_facts_of(fd, &f);
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "cannot read %s as ELF: %s", m->path,
			 strerror(-err));
		return -ENOTSUP;
	}
	if (f.err == -ENOENT)
		return 0;
	if (!f.err)
		err = cpython_layout_apply_asyncio(&t->layout, f.sec, sizeof(f.sec), why, sizeof(why));
	else
		snprintf(why, sizeof(why), "its .AsyncioDebug section cannot be read");
	if (f.err || err) {
		snprintf(t->problem, sizeof(t->problem), "%s: %s", m->path, why);
		return -ENOTSUP;
	}
	t->asyncio_debug = true;
	return 0;
}

/* The file that holds _PyRuntime: libpython when shared, else the executable. */
static const struct file_mapping *find_runtime(pid_t pid, const struct proc_maps *maps,
					       char *file, size_t size)
{
	const struct file_mapping *lib = proc_maps_find(maps, "libpython3.");
	char exe[64];
	ssize_t n;

	if (lib)
		return lib;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	n = readlink(exe, file, size - 1);
	if (n <= 0)
		return NULL;
	file[n] = '\0';
	return proc_maps_find_path(maps, file);
}

/* tp_basicsize of a static PyTypeObject, or basicsize of a PyType_Spec (an int at 8) */
static int read_task_basicsize(struct elf_image *e, const struct cpython_layout *l, uint32_t *size)
{
	uint64_t vaddr;
	int64_t static_size;
	int32_t spec_size;

	if (!l->task_type_from_spec) {
		if (elf_image_symbol(e, "TaskType", &vaddr) ||
		    elf_image_read(e, vaddr + l->tp_basicsize, &static_size, sizeof(static_size)))
			return -ENOENT;
		*size = (uint32_t)static_size;
	} else {
		if (elf_image_symbol(e, "Task_spec", &vaddr) ||
		    elf_image_read(e, vaddr + 8, &spec_size, sizeof(spec_size)))
			return -ENOENT;
		*size = (uint32_t)spec_size;
	}
	return 0;
}

/*
 * With symbols when the file has them, else through the Task type object;
 * either way with the Task's size, which checks the layout: -ENOENT without it.
 */
static int locate_task_functions(struct elf_image *e, const struct cpython_layout *l,
				 struct task_facts *f, uint64_t *init, uint64_t *dealloc,
				 uint64_t *finalize)
{
	struct task_type type;

	if (!elf_image_symbol(e, "_asyncio_Task___init__", init) &&
	    !elf_image_symbol(e, "TaskObj_dealloc", dealloc)) {
		if (elf_image_symbol(e, "TaskObj_finalize", finalize))
			*finalize = 0;
		snprintf(f->method, sizeof(f->method), "ELF symbols");
		if (!read_task_basicsize(e, l, &f->basicsize))
			return 0;
		if (find_task_type(e, l, &type))
			return -ENOENT;
		f->basicsize = type.basicsize;
		return 0;
	}
	if (find_task_type(e, l, &type))
		return -ENOENT;
	*init = type.init;
	*dealloc = type.dealloc;
	*finalize = type.finalize;
	f->basicsize = type.basicsize;
	snprintf(f->method, sizeof(f->method), "the Task type's slots (no symbols)");
	return 0;
}

/* Where a task destroyed while pending goes in the finalizer (0 if not found for certain). */
static uint64_t pending_path_site(struct elf_image *e, const struct cpython_layout *l,
				  uint64_t finalize)
{
	uint8_t code[128];	/* the check opens the function */
	ssize_t n = finalize ? elf_image_read_upto(e, finalize, code, sizeof(code)) : -ENOENT;
	uint64_t site;

	if (n <= 0 || task_finalize_pending_site(code, (size_t)n, finalize, l->task_state, &site))
		return 0;
	return site;
}

/* The instruction at vaddr as text, "" if it cannot be read or decoded. */
static void describe_instruction(struct elf_image *e, uint64_t vaddr, char *buf, size_t size)
{
	uint8_t code[16];	/* the longest x86 instruction is 15 bytes */
	ssize_t n = vaddr ? elf_image_read_upto(e, vaddr, code, sizeof(code)) : -ENOENT;

	if (n <= 0 || x86_instruction_text(code, (size_t)n, vaddr, buf, size))
		buf[0] = '\0';
}

/* Where an entry probe costs least (see x86_entry_probe_site): vaddr if undecided. */
static uint64_t probe_entry(struct elf_image *e, uint64_t vaddr)
{
	uint8_t code[64];	/* a prologue's first instructions */
	ssize_t n = elf_image_read_upto(e, vaddr, code, sizeof(code));
	uint64_t site;

	if (n <= 0 || x86_entry_probe_site(code, (size_t)n, vaddr, &site))
		return vaddr;
	return site;
}

/* Where each probe goes: file offsets, and the instruction each sits on. */
static int place_probes(struct elf_image *e, const struct cpython_layout *l, struct task_facts *f,
			uint64_t init, uint64_t dealloc, uint64_t finalize)
{
	uint64_t pending = pending_path_site(e, l, finalize);

	init = probe_entry(e, init);
	dealloc = probe_entry(e, dealloc);
	if (elf_image_file_offset(e, init, &f->init_offset) ||
	    elf_image_file_offset(e, dealloc, &f->dealloc_offset))
		return -ENOENT;
	if (!pending || elf_image_file_offset(e, pending, &f->pending_offset))
		f->pending_offset = 0;
	describe_instruction(e, init, f->init_insn, sizeof(f->init_insn));
	describe_instruction(e, dealloc, f->dealloc_insn, sizeof(f->dealloc_insn));
	describe_instruction(e, f->pending_offset ? pending : 0, f->pending_insn,
			     sizeof(f->pending_insn));
	return 0;
}

/* Where the Task probes go in the file, read from it for layout l. */
static void read_task_facts(struct elf_image *e, const struct cpython_layout *l,
			    struct task_facts *f)
{
	uint64_t init = 0, dealloc = 0, finalize = 0;
	int err;

	memset(f, 0, sizeof(*f));
	err = locate_task_functions(e, l, f, &init, &dealloc, &finalize);
	if (err && init && dealloc)
		f->lack = TASK_NO_TYPE;
	else if (err || place_probes(e, l, f, init, dealloc, finalize))
		f->lack = TASK_NOT_FOUND;
}

/* The Task facts of the file opened as fd for t's layout, from the cache or the file. */
static int task_facts_of(int fd, const struct python_target *t, struct task_facts *out)
{
	struct facts_key key;
	struct elf_image *e;
	unsigned int minor;
	int err;

	err = facts_key_start(fd, FACTS_TASK, &key);
	if (err)
		return err;
	key.runtime = t->runtime_key;
	key.minor = minor_from_name(t->runtime_file, &minor) ? UINT_MAX : minor;
	key.asyncio_debug = t->asyncio_debug;
	if (file_facts_get(&key, out, sizeof(*out))) {
		close(fd);
		return 0;
	}
	err = elf_image_open_fd(fd, &e);
	if (err)
		return err;
	read_task_facts(e, &t->layout, out);
	elf_image_close(e);
	file_facts_put(&key, out, sizeof(*out));
	return 0;
}

int python_task_file_read(int fd, const char *name, struct python_target *t)
{
	struct task_facts f;
	int err;

	err = task_facts_of(fd, t, &f);
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "cannot read %s as ELF: %s", name,
			 strerror(-err));
		return -ENOTSUP;
	}
	if (f.lack == TASK_NO_TYPE) {
		snprintf(t->problem, sizeof(t->problem),
			 "found the Task functions in %s but not its type, whose size checks the "
			 "layout: a patched or unknown build", name);
		return -ENOTSUP;
	}
	if (f.lack == TASK_NOT_FOUND) {
		snprintf(t->problem, sizeof(t->problem),
			 "found neither symbols nor the Task type in %s: cannot probe asyncio's tasks",
			 name);
		return -ENOTSUP;
	}
	if (f.basicsize != t->layout.task_basicsize) {
		snprintf(t->problem, sizeof(t->problem),
			 "the Task object in %s is %u bytes, not the %u of CPython %s's layout: "
			 "a patched or unknown build", name, f.basicsize,
			 t->layout.task_basicsize, t->layout.version);
		return -ENOTSUP;
	}
	t->task_init_offset = f.init_offset;
	t->task_dealloc_offset = f.dealloc_offset;
	t->task_pending_offset = f.pending_offset;
	t->task_symbols = !strcmp(f.method, "ELF symbols");
	memcpy(t->task_init_insn, f.init_insn, sizeof(t->task_init_insn));
	memcpy(t->task_dealloc_insn, f.dealloc_insn, sizeof(t->task_dealloc_insn));
	memcpy(t->task_pending_insn, f.pending_insn, sizeof(t->task_pending_insn));
	snprintf(t->method, sizeof(t->method), "%s, layout checked by Task basicsize%s%s", f.method,
		 t->layout.has_debug_offsets ? ", offsets from _Py_DebugOffsets" : "",
		 t->asyncio_debug ? " and .AsyncioDebug" : "");
	return 0;
}

/* The Task functions in the file the process maps at m, which holds _asyncio's code. */
static int resolve_functions(struct python_target *t, const struct file_mapping *m)
{
	int fd;

	snprintf(t->asyncio_file, sizeof(t->asyncio_file), "%s", m->path);
	t->asyncio_dev = makedev(m->dev_major, m->dev_minor);
	t->asyncio_ino = m->inode;
	fd = mapped_file_open(t->pid, m, t->asyncio_open, sizeof(t->asyncio_open), t->problem,
			      sizeof(t->problem));
	if (fd < 0)
		return -ENOTSUP;
	return python_task_file_read(fd, t->asyncio_file, t);
}

/* _asyncio's own offsets, from its module when loaded, else from the interpreter. */
static int asyncio_debug_of(const struct proc_maps *maps, struct python_target *t)
{
	const struct file_mapping *m = proc_maps_find(maps, "_asyncio.");

	return read_asyncio_debug(m ? m : proc_maps_find_path(maps, t->runtime_file), t);
}

/* python_runtime_discover on maps already read. */
static int runtime_from_maps(pid_t pid, const struct proc_maps *maps, struct python_target *t)
{
	const struct file_mapping *m;
	char file[PATH_MAX], opened_by[PATH_MAX + 32];
	int fd, err;

	m = find_runtime(pid, maps, file, sizeof(file));
	if (!m) {
		err = -ENOENT;
		goto not_cpython;
	}
	fd = mapped_file_open(pid, m, opened_by, sizeof(opened_by), t->problem,
			      sizeof(t->problem));
	if (fd < 0)
		return -ENOTSUP;
	err = python_runtime_file_read(fd, m->path, m->start, m->offset, t);
	if (err == -ENOENT)
		goto not_cpython;
	if (!err && t->layout.has_asyncio_debug)
		err = asyncio_debug_of(maps, t);
	return err;
not_cpython:
	snprintf(t->problem, sizeof(t->problem),
		 "not a CPython process (no _PyRuntime symbol in its executable or a libpython)");
	return err;
}

int python_runtime_discover(pid_t pid, struct python_target *t)
{
	struct proc_maps maps;
	int err;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	err = proc_maps_read(pid, &maps);
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "cannot read /proc/%d/maps: %s", pid,
			 strerror(-err));
		return -ENOENT;
	}
	err = runtime_from_maps(pid, &maps, t);
	proc_maps_free(&maps);
	return err;
}

int python_target_discover(pid_t pid, struct python_target *t)
{
	const struct file_mapping *asyncio, *runtime;
	struct proc_maps maps;
	int err;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	err = proc_maps_read(pid, &maps);
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "cannot read /proc/%d/maps: %s", pid,
			 strerror(-err));
		return -ENOENT;
	}
	/* one read of the maps: the layout's .AsyncioDebug and the probes come from the same file */
	err = runtime_from_maps(pid, &maps, t);
	if (err)
		goto out;
	asyncio = proc_maps_find(&maps, "_asyncio.");
	if (asyncio) {
		err = resolve_functions(t, asyncio);
		goto out;
	}
	/* built into the interpreter (probed before it is even imported), or not loaded yet */
	runtime = proc_maps_find_path(&maps, t->runtime_file);
	err = resolve_functions(t, runtime);
	if (err) {
		t->asyncio_file[0] = '\0';
		snprintf(t->problem, sizeof(t->problem), "asyncio is not imported yet");
		err = -EAGAIN;
	}
out:
	proc_maps_free(&maps);
	return err;
}

void python_target_build(const struct python_target *t, char *buf, size_t size)
{
	const char *base = strrchr(t->runtime_file, '/');
	bool shared = strstr(base ? base + 1 : t->runtime_file, "libpython") != NULL;
	const char *symbols = !t->method[0] ? "" : t->task_symbols ? "with symbols, " :
				"stripped (no symbol table), ";

	if (!t->runtime_file[0])
		snprintf(buf, size, "unknown");
	else
		snprintf(buf, size, "%s%s", symbols, shared ? "libpython shared" :
			 "the interpreter linked into the executable (no libpython)");
}

bool python_target_asyncio_mapped(pid_t pid)
{
	struct proc_maps maps;
	bool found;

	if (proc_maps_read(pid, &maps))
		return false;
	found = proc_maps_find(&maps, "_asyncio.") != NULL;
	proc_maps_free(&maps);
	return found;
}

bool python_process_lookalike(pid_t pid)
{
	char link[64], exe[PATH_MAX];
	struct proc_maps maps;
	const char *base;
	bool found = false;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		base = strrchr(exe, '/');
		found = !strncmp(base ? base + 1 : exe, "python", strlen("python"));
	}
	if (!found && !proc_maps_read(pid, &maps)) {
		found = proc_maps_find(&maps, "libpython") != NULL;
		proc_maps_free(&maps);
	}
	return found;
}
