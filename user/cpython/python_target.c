// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "elf_image.h"
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

/*
 * The ELF file the process maps at m, opened as it maps it (mapped_file_open):
 * opened_by gets the path that reached it; -ENOTSUP with problem saying why not.
 */
static int open_mapped(struct python_target *t, const struct file_mapping *m, char *opened_by,
		       size_t size, struct elf_image **e)
{
	int fd, err;

	fd = mapped_file_open(t->pid, m, opened_by, size, t->problem, sizeof(t->problem));
	if (fd < 0)
		return -ENOTSUP;
	err = elf_image_open_fd(fd, e);
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "cannot read %s as ELF: %s", m->path,
			 strerror(-err));
		return -ENOTSUP;
	}
	return 0;
}

/* The address of symbol in the process, through the file's first mapping m. */
static int symbol_address(struct python_target *t, const struct file_mapping *m,
			  const char *symbol, uint64_t *addr)
{
	char opened_by[PATH_MAX + 32];
	struct elf_image *e;
	uint64_t vaddr, bias;
	int err;

	err = open_mapped(t, m, opened_by, sizeof(opened_by), &e);
	if (err)
		return err;
	err = find_symbol(e, symbol, &vaddr);
	if (!err)
		err = elf_image_load_bias(e, m->start, m->offset, &bias);
	if (!err)
		*addr = vaddr + bias;
	elf_image_close(e);
	return err;
}

/*
 * The whole version the interpreter was built as, from Py_Version (3.11+:
 * PY_VERSION_HEX, Include/patchlevel.h), if it is of the minor version its
 * name says; else the layout's "3.<minor>".
 */
static void read_full_version(struct elf_image *e, unsigned int minor, struct python_target *t)
{
	static const char *const levels[16] = { [0xA] = "a", [0xB] = "b", [0xC] = "rc" };
	uint64_t vaddr;
	uint32_t hex;
	unsigned int level, serial;

	snprintf(t->version, sizeof(t->version), "%s", t->layout.version);
	if (elf_image_symbol(e, "Py_Version", &vaddr) || elf_image_read(e, vaddr, &hex, sizeof(hex)))
		return;
	if (hex >> 24 != 3 || ((hex >> 16) & 0xff) != minor)
		return;
	level = (hex >> 4) & 0xf;
	serial = hex & 0xf;
	if (level == 0xF)
		snprintf(t->version, sizeof(t->version), "3.%u.%u", minor, (hex >> 8) & 0xff);
	else if (levels[level])
		snprintf(t->version, sizeof(t->version), "3.%u.%u%s%u", minor, (hex >> 8) & 0xff,
			 levels[level], serial);
}

/*
 * The layout of the interpreter in file: its version's table, with the
 * offsets of the _Py_DebugOffsets at the start of its _PyRuntime where it has them.
 */
static int build_layout(const struct file_mapping *m, unsigned int minor, struct python_target *t)
{
	uint8_t debug[CPYTHON_DEBUG_OFFSETS_READ];
	char why[256], opened_by[PATH_MAX + 32];
	struct elf_image *e = NULL;
	uint64_t vaddr;
	int err;

	err = open_mapped(t, m, opened_by, sizeof(opened_by), &e);
	if (err)
		return err;
	err = find_symbol(e, "_PyRuntime", &vaddr);
	if (!err)
		err = elf_image_read(e, vaddr, debug, sizeof(debug));
	err = cpython_layout_build(minor, err ? NULL : debug, sizeof(debug), &t->layout, why,
				   sizeof(why));
	if (err)
		snprintf(t->problem, sizeof(t->problem), "%s: %s", t->runtime_file, why);
	else
		read_full_version(e, minor, t);
	elf_image_close(e);
	return err;
}

/*
 * The Task, thread and interpreter offsets _asyncio publishes (3.14+), from
 * the file that holds it: its own module, or the interpreter it is built into.
 * A file without the section leaves the table's values.
 */
static int read_asyncio_debug(const struct file_mapping *m, struct python_target *t)
{
	uint8_t sec[CPYTHON_ASYNCIO_DEBUG_SIZE];
	char why[256], opened_by[PATH_MAX + 32];
	struct elf_image *e;
	uint64_t vaddr, size;
	int err;

	err = open_mapped(t, m, opened_by, sizeof(opened_by), &e);
	if (err)
		return err;
	err = elf_image_section(e, ".AsyncioDebug", &vaddr, &size);
	if (!err && (size < sizeof(sec) || elf_image_read(e, vaddr, sec, sizeof(sec))))
		err = -EIO;
	elf_image_close(e);
	if (err == -ENOENT)
		return 0;
	if (!err)
		err = cpython_layout_apply_asyncio(&t->layout, sec, sizeof(sec), why, sizeof(why));
	else
		snprintf(why, sizeof(why), "its .AsyncioDebug section cannot be read");
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "%s: %s", m->path, why);
		return -ENOTSUP;
	}
	t->asyncio_debug = true;
	return 0;
}

/* The file that holds _PyRuntime: libpython when shared, else the executable. */
static int find_runtime(pid_t pid, const struct proc_maps *maps, struct python_target *t,
			char *file, size_t size, unsigned int *minor)
{
	const struct file_mapping *lib = proc_maps_find(maps, "libpython3."), *m;
	char exe[PATH_MAX];
	ssize_t n;
	int err;

	if (lib) {
		snprintf(file, size, "%s", lib->path);
	} else {
		snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
		n = readlink(exe, file, size - 1);
		if (n <= 0)
			return -ENOENT;
		file[n] = '\0';
	}
	m = proc_maps_find_path(maps, file);
	if (!m)
		return -ENOENT;
	err = symbol_address(t, m, "_PyRuntime", &t->runtime_addr);
	if (err)
		return err;
	if (minor_from_name(file, minor)) {
		snprintf(t->problem, sizeof(t->problem),
			 "found _PyRuntime in %s but could not tell its Python version from the name", file);
		return -ENOTSUP;
	}
	return 0;
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
static int locate_task_functions(struct elf_image *e, struct python_target *t, uint64_t *init,
				 uint64_t *dealloc, uint64_t *finalize, uint32_t *basicsize)
{
	struct task_type type;

	if (!elf_image_symbol(e, "_asyncio_Task___init__", init) &&
	    !elf_image_symbol(e, "TaskObj_dealloc", dealloc)) {
		if (elf_image_symbol(e, "TaskObj_finalize", finalize))
			*finalize = 0;
		snprintf(t->method, sizeof(t->method), "ELF symbols");
		if (!read_task_basicsize(e, &t->layout, basicsize))
			return 0;
		if (find_task_type(e, &t->layout, &type))
			return -ENOENT;
		*basicsize = type.basicsize;
		return 0;
	}
	if (find_task_type(e, &t->layout, &type))
		return -ENOENT;
	*init = type.init;
	*dealloc = type.dealloc;
	*finalize = type.finalize;
	*basicsize = type.basicsize;
	snprintf(t->method, sizeof(t->method), "the Task type's slots (no symbols)");
	return 0;
}

/* Where a task destroyed while pending goes in the finalizer (0 if not found for certain). */
static uint64_t pending_path_site(struct elf_image *e, const struct python_target *t,
				  uint64_t finalize)
{
	uint8_t code[128];	/* the check opens the function */
	ssize_t n = finalize ? elf_image_read_upto(e, finalize, code, sizeof(code)) : -ENOENT;
	uint64_t site;

	if (n <= 0 || task_finalize_pending_site(code, (size_t)n, finalize,
						 t->layout.task_state, &site))
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
static int place_probes(struct elf_image *e, struct python_target *t, uint64_t init,
			uint64_t dealloc, uint64_t finalize)
{
	uint64_t pending = pending_path_site(e, t, finalize);

	init = probe_entry(e, init);
	dealloc = probe_entry(e, dealloc);
	if (elf_image_file_offset(e, init, &t->task_init_offset) ||
	    elf_image_file_offset(e, dealloc, &t->task_dealloc_offset))
		return -ENOENT;
	if (!pending || elf_image_file_offset(e, pending, &t->task_pending_offset))
		t->task_pending_offset = 0;
	describe_instruction(e, init, t->task_init_insn, sizeof(t->task_init_insn));
	describe_instruction(e, dealloc, t->task_dealloc_insn, sizeof(t->task_dealloc_insn));
	describe_instruction(e, t->task_pending_offset ? pending : 0, t->task_pending_insn,
			     sizeof(t->task_pending_insn));
	return 0;
}

/* The Task functions in the file the process maps at m, which holds _asyncio's code. */
static int resolve_functions(struct python_target *t, const struct file_mapping *m)
{
	struct elf_image *e;
	uint64_t init = 0, dealloc = 0, finalize = 0;
	uint32_t basicsize = 0;
	int err;

	snprintf(t->asyncio_file, sizeof(t->asyncio_file), "%s", m->path);
	t->asyncio_dev = makedev(m->dev_major, m->dev_minor);
	t->asyncio_ino = m->inode;
	err = open_mapped(t, m, t->asyncio_open, sizeof(t->asyncio_open), &e);
	if (err)
		return err;
	err = locate_task_functions(e, t, &init, &dealloc, &finalize, &basicsize);
	if (err && init && dealloc) {
		snprintf(t->problem, sizeof(t->problem),
			 "found the Task functions in %s but not its type, whose size checks the "
			 "layout: a patched or unknown build", t->asyncio_file);
		elf_image_close(e);
		return -ENOTSUP;
	}
	if (err || place_probes(e, t, init, dealloc, finalize)) {
		snprintf(t->problem, sizeof(t->problem),
			 "found neither symbols nor the Task type in %s: cannot probe asyncio's tasks",
			 t->asyncio_file);
		elf_image_close(e);
		return -ENOTSUP;
	}
	elf_image_close(e);
	if (basicsize != t->layout.task_basicsize) {
		snprintf(t->problem, sizeof(t->problem),
			 "the Task object in %s is %u bytes, not the %u of CPython %s's layout: "
			 "a patched or unknown build", t->asyncio_file, basicsize,
			 t->layout.task_basicsize, t->layout.version);
		return -ENOTSUP;
	}
	snprintf(t->method + strlen(t->method), sizeof(t->method) - strlen(t->method),
		 ", layout checked by Task basicsize%s%s",
		 t->layout.has_debug_offsets ? ", offsets from _Py_DebugOffsets" : "",
		 t->asyncio_debug ? " and .AsyncioDebug" : "");
	return 0;
}

/* _asyncio's own offsets, from its module when loaded, else from the interpreter. */
static int asyncio_debug_of(const struct proc_maps *maps, struct python_target *t)
{
	const struct file_mapping *m = proc_maps_find(maps, "_asyncio.");

	return read_asyncio_debug(m ? m : proc_maps_find_path(maps, t->runtime_file), t);
}

int python_runtime_discover(pid_t pid, struct python_target *t)
{
	const struct file_mapping *runtime;
	struct proc_maps maps;
	unsigned int minor = 0;
	int err;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	err = proc_maps_read(pid, &maps);
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "cannot read /proc/%d/maps: %s", pid,
			 strerror(-err));
		return -ENOENT;
	}
	err = find_runtime(pid, &maps, t, t->runtime_file, sizeof(t->runtime_file), &minor);
	if (err == -ENOENT)
		snprintf(t->problem, sizeof(t->problem),
			 "not a CPython process (no _PyRuntime symbol in its executable or a libpython)");
	if (err)
		goto out;
	runtime = proc_maps_find_path(&maps, t->runtime_file);
	err = symbol_address(t, runtime, "_Py_NoneStruct", &t->none_addr);
	if (err == -ENOENT) {
		snprintf(t->problem, sizeof(t->problem), "no _Py_NoneStruct symbol in %s",
			 t->runtime_file);
		err = -ENOTSUP;
	}
	if (!err)
		err = build_layout(runtime, minor, t);
	if (!err && t->layout.has_asyncio_debug)
		err = asyncio_debug_of(&maps, t);
out:
	proc_maps_free(&maps);
	return err;
}

int python_target_discover(pid_t pid, struct python_target *t)
{
	const struct file_mapping *asyncio, *runtime;
	struct proc_maps maps;
	int err;

	err = python_runtime_discover(pid, t);
	if (err)
		return err;
	err = proc_maps_read(pid, &maps);
	if (err) {
		snprintf(t->problem, sizeof(t->problem), "cannot read /proc/%d/maps: %s", pid,
			 strerror(-err));
		return -ENOENT;
	}
	asyncio = proc_maps_find(&maps, "_asyncio.");
	if (asyncio) {
		err = resolve_functions(t, asyncio);
		goto out;
	}
	/* built into the interpreter (probed before it is even imported), or not loaded yet */
	runtime = proc_maps_find_path(&maps, t->runtime_file);
	if (!runtime) {
		/* the maps read a moment ago had it: the process exec()ed or exited since */
		snprintf(t->problem, sizeof(t->problem), "%s is no longer mapped: the process "
			 "exec()ed or exited while being looked at", t->runtime_file);
		err = -ESRCH;
		goto out;
	}
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
