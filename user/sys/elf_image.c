// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "elf_image.h"

struct reloc {
	uint64_t offset;	/* where the pointer is */
	uint64_t addend;	/* what it points to, before load bias */
};

struct elf_image {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	size_t file_size;
	struct reloc *relocs;	/* R_X86_64_RELATIVE, sorted by offset; loaded on demand */
	size_t n_relocs;
	bool relocs_loaded;
};

int elf_image_open(const char *path, struct elf_image **out)
{
	/* the target's owner may have put a FIFO or a device there: never block on one */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	return elf_image_open_fd(fd, out);
}

int elf_image_open_fd(int fd, struct elf_image **out)
{
	struct elf_image *e;
	struct stat st;
	off_t size;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		close(fd);
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		return -ENOMEM;
	}
	e->fd = fd;
	if (fstat(e->fd, &st) || !S_ISREG(st.st_mode)) {
		elf_image_close(e);
		return -EINVAL;
	}
	size = lseek(e->fd, 0, SEEK_END);
	e->file_size = size > 0 ? (size_t)size : 0;
	/* read, not mapped: a file truncated under us is a read error, not SIGBUS */
	e->elf = elf_begin(e->fd, ELF_C_READ, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &e->ehdr) ||
	    e->ehdr.e_ident[EI_CLASS] != ELFCLASS64) {
		elf_image_close(e);
		return -ENOEXEC;
	}
	*out = e;
	return 0;
}

void elf_image_close(struct elf_image *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->relocs);
	free(e);
}

bool elf_image_is_pic(struct elf_image *e)
{
	return e->ehdr.e_type == ET_DYN;
}

static int find_in_section(struct elf_image *e, Elf_Scn *scn, const GElf_Shdr *sh,
			   const char *name, uint64_t *vaddr)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const char *sym_name;
	GElf_Sym sym;
	size_t i, n;

	if (!data || !sh->sh_entsize)
		return -ENOENT;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		sym_name = elf_strptr(e->elf, sh->sh_link, sym.st_name);
		if (sym_name && !strcmp(sym_name, name)) {
			*vaddr = sym.st_value;
			return 0;
		}
	}
	return -ENOENT;
}

/* .symtab first (local symbols, when not stripped), then .dynsym */
int elf_image_symbol(struct elf_image *e, const char *name, uint64_t *vaddr)
{
	static const Elf64_Word tables[] = { SHT_SYMTAB, SHT_DYNSYM };
	Elf_Scn *scn;
	GElf_Shdr sh;
	size_t t;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		scn = NULL;
		while ((scn = elf_nextscn(e->elf, scn))) {
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != tables[t])
				continue;
			if (!find_in_section(e, scn, &sh, name, vaddr))
				return 0;
		}
	}
	return -ENOENT;
}

int elf_image_section(struct elf_image *e, const char *name, uint64_t *vaddr, uint64_t *size)
{
	Elf_Scn *scn = NULL;
	const char *scn_name;
	GElf_Shdr sh;
	size_t strndx;

	if (elf_getshdrstrndx(e->elf, &strndx))
		return -ENOENT;
	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		scn_name = elf_strptr(e->elf, strndx, sh.sh_name);
		if (scn_name && !strcmp(scn_name, name)) {
			*vaddr = sh.sh_addr;
			*size = sh.sh_size;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_image_file_offset(struct elf_image *e, uint64_t vaddr, uint64_t *offset)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(e->elf, &n))
		return -ENOENT;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_image_read(struct elf_image *e, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t offset;

	if (elf_image_file_offset(e, vaddr, &offset) || offset > e->file_size ||
	    len > e->file_size - offset)
		return -ENOENT;
	if (pread(e->fd, buf, len, (off_t)offset) != (ssize_t)len)
		return -EIO;
	return 0;
}

ssize_t elf_image_read_upto(struct elf_image *e, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t offset;

	if (elf_image_file_offset(e, vaddr, &offset) || offset >= e->file_size)
		return -ENOENT;
	if (len > e->file_size - offset)
		len = e->file_size - offset;
	return elf_image_read(e, vaddr, buf, len) ? -EIO : (ssize_t)len;
}

int elf_image_load_bias(struct elf_image *e, uint64_t map_start, uint64_t map_offset,
			uint64_t *bias)
{
	GElf_Phdr ph;
	size_t i, n;

	if (!elf_image_is_pic(e)) {
		*bias = 0;
		return 0;
	}
	if (elf_getphdrnum(e->elf, &n))
		return -ENOENT;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* the segment this mapping starts in, page-aligned as the loader maps it */
		if (map_offset >= (ph.p_offset & ~0xfffULL) && map_offset < ph.p_offset + ph.p_filesz) {
			*bias = map_start - ((ph.p_vaddr & ~0xfffULL) + (map_offset - (ph.p_offset & ~0xfffULL)));
			return 0;
		}
	}
	return -ENOENT;
}

int elf_image_find_string(struct elf_image *e, const char *s, uint64_t *vaddr)
{
	size_t len = strlen(s) + 1, off;
	Elf_Scn *scn = NULL;
	const char *data, *hit;
	Elf_Data *d;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < len)
			continue;
		data = d->d_buf;
		for (off = 0; off + len <= d->d_size; off = (size_t)(hit - data) + 1) {
			hit = memmem(data + off, d->d_size - off, s, len);
			if (!hit)
				break;
			/* a whole string, not the tail of a longer one */
			if (hit == data || hit[-1] == '\0') {
				*vaddr = sh.sh_addr + (uint64_t)(hit - data);
				return 0;
			}
		}
	}
	return -ENOENT;
}

static int cmp_reloc(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int load_relative_relocs(struct elf_image *e)
{
	Elf_Scn *scn = NULL;
	struct reloc *grown;
	size_t i, n, cap = 0;
	GElf_Shdr sh;
	GElf_Rela r;
	Elf_Data *d;

	if (e->relocs_loaded)
		return 0;
	e->relocs_loaded = true;
	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			if (!gelf_getrela(d, (int)i, &r) || GELF_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
				continue;
			if (e->n_relocs == cap) {
				cap = cap ? cap * 2 : 1024;
				grown = reallocarray(e->relocs, cap, sizeof(*grown));
				if (!grown)
					return -ENOMEM;
				e->relocs = grown;
			}
			e->relocs[e->n_relocs].offset = r.r_offset;
			e->relocs[e->n_relocs++].addend = (uint64_t)r.r_addend;
		}
	}
	if (e->n_relocs)
		qsort(e->relocs, e->n_relocs, sizeof(*e->relocs), cmp_reloc);
	return 0;
}

/* An executable's pointers are plain values in its data sections. */
static int scan_data_for_pointer(struct elf_image *e, uint64_t target, uint64_t *out, size_t max)
{
	Elf_Scn *scn = NULL;
	size_t off, found = 0;
	GElf_Shdr sh;
	Elf_Data *d;
	uint64_t v;

	while ((scn = elf_nextscn(e->elf, scn)) && found < max) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_ALLOC) || (sh.sh_flags & SHF_EXECINSTR))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		for (off = 0; off + 8 <= d->d_size && found < max; off += 8) {
			memcpy(&v, (const char *)d->d_buf + off, 8);
			if (v == target)
				out[found++] = sh.sh_addr + off;
		}
	}
	return (int)found;
}

int elf_image_pointers_to(struct elf_image *e, uint64_t target, uint64_t *out, size_t max)
{
	size_t i, found = 0;
	int err;

	if (!elf_image_is_pic(e))
		return scan_data_for_pointer(e, target, out, max);
	err = load_relative_relocs(e);
	if (err)
		return err;
	for (i = 0; i < e->n_relocs && found < max; i++)
		if (e->relocs[i].addend == target)
			out[found++] = e->relocs[i].offset;
	return (int)found;
}

int elf_image_pointer_at(struct elf_image *e, uint64_t vaddr, uint64_t *value)
{
	struct reloc key = { .offset = vaddr }, *r;

	if (elf_image_is_pic(e)) {
		if (load_relative_relocs(e))
			return -ENOMEM;
		r = bsearch(&key, e->relocs, e->n_relocs, sizeof(*e->relocs), cmp_reloc);
		if (!r)
			return -ENOENT;
		*value = r->addend;
		return 0;
	}
	return elf_image_read(e, vaddr, value, sizeof(*value));
}
