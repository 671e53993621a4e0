// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysmacros.h>
#include "elf_image.h"
#include "file_facts.h"
#include "mapped_file.h"
#include "proc_maps.h"
#include "py_objects.h"
#include "python_target.h"
#include "warn_funnel.h"
#include "x86_code.h"

/* enough of PyErr_WarnExplicitObject / Format to reach their call of warn_explicit */
#define CALLER_BYTES 0x600
#define PROLOGUE_BYTES 64

/*
 * warn_explicit's arguments by version, from each version's
 * Python/_warnings.c: 3.11 put the thread state first. The objects it reads
 * are the same everywhere: BaseException.args and a tuple's first item at 24.
 */
struct funnel_version {
	unsigned int minor;
	uint32_t first_arg;
};

static const struct funnel_version funnel_versions[] = {
	{ 9, 0 }, { 10, 0 }, { 11, 1 }, { 12, 1 }, { 13, 1 }, { 14, 1 }, { 15, 1 },
};

#define EXC_ARGS 24
#define TUPLE_ITEM0 24

static int minor_of(const char *version, unsigned int *minor)
{
	return sscanf(version, "3.%u", minor) == 1 ? 0 : -EINVAL;
}

static const struct funnel_version *funnel_version_of(unsigned int minor)
{
	size_t i;

	for (i = 0; i < sizeof(funnel_versions) / sizeof(funnel_versions[0]); i++)
		if (funnel_versions[i].minor == minor)
			return &funnel_versions[i];
	return NULL;
}

/* The local function a caller passes stack arguments to: warn_explicit, its only such callee. */
static int callee_with_stack_args(struct elf_image *e, const char *caller, uint64_t *target)
{
	uint8_t code[CALLER_BYTES];
	uint64_t vaddr;
	ssize_t n;

	if (elf_image_symbol(e, caller, &vaddr))
		return -ENOENT;
	n = elf_image_read_upto(e, vaddr, code, sizeof(code));
	if (n <= 0)
		return -ENOENT;
	return x86_stack_argument_call(code, (size_t)n, vaddr, target);
}

/*
 * By symbol (a local one: 't' in nm; Debian's LTO build privatises its
 * name), else as the one callee that both exported callers pass stack
 * arguments to, which is what stripping leaves to go by.
 */
static int locate(struct elf_image *e, struct warn_funnel *w, uint64_t *vaddr)
{
	uint64_t by_object, by_format;

	if (!elf_image_symbol(e, "warn_explicit", vaddr) ||
	    !elf_image_symbol(e, "warn_explicit.lto_priv.0", vaddr)) {
		snprintf(w->method, sizeof(w->method), "its ELF symbol");
		return 0;
	}
	if (callee_with_stack_args(e, "PyErr_WarnExplicitObject", &by_object) ||
	    callee_with_stack_args(e, "PyErr_WarnExplicitFormat", &by_format) ||
	    by_object != by_format)
		return -ENOENT;
	*vaddr = by_object;
	snprintf(w->method, sizeof(w->method),
		 "the callee of PyErr_WarnExplicitObject and PyErr_WarnExplicitFormat (no symbols)");
	return 0;
}

static int place(struct elf_image *e, struct warn_funnel *w, uint64_t vaddr)
{
	uint8_t code[PROLOGUE_BYTES];
	ssize_t n = elf_image_read_upto(e, vaddr, code, sizeof(code));
	uint64_t site = vaddr;

	if (n <= 0)
		return -ENOENT;
	if (x86_entry_probe_site(code, (size_t)n, vaddr, &site))
		site = vaddr;
	if (elf_image_file_offset(e, site, &w->offset))
		return -ENOENT;
	n = elf_image_read_upto(e, site, code, 16);
	if (n <= 0 || x86_instruction_text(code, (size_t)n, site, w->insn, sizeof(w->insn)))
		w->insn[0] = '\0';
	return 0;
}

/* The runtime file as pid maps it, opened: an fd, or -errno with w->problem. */
static int open_runtime(pid_t pid, struct warn_funnel *w)
{
	const struct file_mapping *m;
	struct proc_maps maps;
	int fd, err;

	err = proc_maps_read(pid, &maps);
	if (err) {
		snprintf(w->problem, sizeof(w->problem), "cannot read /proc/%d/maps: %s", pid,
			 strerror(-err));
		return -ENOENT;
	}
	m = proc_maps_find_path(&maps, w->file);
	fd = m ? mapped_file_open(pid, m, w->open_path, sizeof(w->open_path), w->problem,
				  sizeof(w->problem)) : -ENOENT;
	if (m) {
		w->dev = makedev(m->dev_major, m->dev_minor);
		w->ino = m->inode;
	}
	proc_maps_free(&maps);
	return fd < 0 ? -ENOTSUP : fd;
}

/* Where the probe goes in a file: the same for every process that maps it. */
struct funnel_facts {
	int64_t err;			/* 0, or -ENOENT: warn_explicit not found */
	uint64_t offset;
	char insn[48];
	char method[96];
};

_Static_assert(sizeof(struct funnel_facts) <= FILE_FACTS_MAX_SIZE, "funnel facts too big to keep");

/* Finds and places the probe in the file open as fd (closed here): 0 or -errno. */
static int read_funnel_facts(int fd, struct warn_funnel *w, struct funnel_facts *f)
{
	struct elf_image *e;
	uint64_t vaddr;
	int err;

	err = elf_image_open_fd(fd, &e);
	if (err)
		return err;
	memset(f, 0, sizeof(*f));
	f->err = locate(e, w, &vaddr);
	if (!f->err)
		f->err = place(e, w, vaddr);
	elf_image_close(e);
	f->offset = w->offset;
	memcpy(f->insn, w->insn, sizeof(f->insn));
	memcpy(f->method, w->method, sizeof(f->method));
	return 0;
}

/* The probe's place in the file open as fd (closed here), kept or read: 0 or -errno. */
static int funnel_facts_of(int fd, struct warn_funnel *w, struct funnel_facts *f)
{
	struct facts_key key;
	int err;

	memset(&key, 0, sizeof(key));
	key.kind = FACTS_WARN_FUNNEL;
	err = file_key_of(fd, &key.file);
	if (err) {
		close(fd);
		return err;
	}
	if (file_facts_get(&key, f, sizeof(*f))) {
		close(fd);
		return 0;
	}
	err = read_funnel_facts(fd, w, f);
	if (!err)
		file_facts_put(&key, f, sizeof(*f));
	return err;
}

static void fill_bpf_layout(struct warn_funnel *w, const struct funnel_version *v)
{
	memset(&w->bpf, 0, sizeof(w->bpf));
	w->bpf.first_arg = v->first_arg;
	w->bpf.tp_name = w->layout.tp_name;
	w->bpf.tp_flags = w->layout.tp_flags;
	w->bpf.exc_args = EXC_ARGS;
	w->bpf.tuple_item0 = TUPLE_ITEM0;
	w->bpf.str_ascii_data = w->layout.str_ascii_data;
}

int warn_funnel_discover(pid_t pid, struct warn_funnel *w)
{
	static struct python_target py;	/* large: the session's single thread calls this */
	const struct funnel_version *v;
	struct funnel_facts f;
	unsigned int minor;
	int fd, err;

	memset(w, 0, sizeof(*w));
	err = python_runtime_discover(pid, &py);
	if (err) {
		snprintf(w->problem, sizeof(w->problem), "%s", py.problem);
		return err;
	}
	w->layout = py.layout;
	snprintf(w->file, sizeof(w->file), "%s", py.runtime_file);
	v = minor_of(py.layout.version, &minor) ? NULL : funnel_version_of(minor);
	if (!v) {
		snprintf(w->problem, sizeof(w->problem), "no warn_explicit() argument order known "
			 "for CPython %s", py.layout.version);
		return -ENOTSUP;
	}
	fd = open_runtime(pid, w);
	if (fd < 0)
		return fd;
	err = funnel_facts_of(fd, w, &f);
	if (err) {
		snprintf(w->problem, sizeof(w->problem), "cannot read %s as ELF: %s", w->file,
			 strerror(-err));
		return -ENOTSUP;
	}
	w->offset = f.offset;
	memcpy(w->insn, f.insn, sizeof(w->insn));
	memcpy(w->method, f.method, sizeof(w->method));
	if (f.err) {
		snprintf(w->problem, sizeof(w->problem),
			 "warn_explicit() not found in %s: no symbol, and PyErr_WarnExplicitObject "
			 "and PyErr_WarnExplicitFormat do not lead to one function with its "
			 "arguments (an unknown build)", w->file);
		return -ENOTSUP;
	}
	fill_bpf_layout(w, v);
	return 0;
}

int warn_funnel_text(const struct warn_funnel *w, const uint8_t *obj, size_t have, char *out,
		     size_t size, bool *cut)
{
	const struct cpython_layout *l = &w->layout;
	uint8_t copy[WARN_OBJ_BYTES];
	uint32_t state, kind;
	int64_t length, fits;
	size_t data;

	*cut = false;
	if (have > sizeof(copy) || have < l->str_state + 4 || have < l->str_length + 8)
		return -EINVAL;
	memcpy(copy, obj, have);
	memcpy(&length, copy + l->str_length, sizeof(length));
	memcpy(&state, copy + l->str_state, sizeof(state));
	kind = (state >> 2) & 7;
	data = state & (1 << 6) ? l->str_ascii_data : l->str_compact_data;
	if ((kind != 1 && kind != 2 && kind != 4) || data > have || length < 0)
		return -EINVAL;
	/* only the bytes copied: the length says how much more there was */
	fits = (int64_t)((have - data) / kind);
	if (length > fits) {
		length = fits;
		memcpy(copy + l->str_length, &length, sizeof(length));
		*cut = true;
	}
	return py_str_decode(l, copy, have, out, size);
}
