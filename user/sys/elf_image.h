/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* An ELF file on disk, read with libelf: symbols, and bytes at an address. */
#ifndef INFLIGHT_ELF_IMAGE_H
#define INFLIGHT_ELF_IMAGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct elf_image;

/*
 * Opens path (a target's file: treated as hostile input): 0, -EINVAL if it is
 * not a regular file, or -errno. The file is read, never mapped.
 */
int elf_image_open(const char *path, struct elf_image **out);
/* The same with a file already open for reading, which is the image's from then on (closed on failure too). */
int elf_image_open_fd(int fd, struct elf_image **out);
void elf_image_close(struct elf_image *e);
/* The value (virtual address) of a symbol from .symtab or .dynsym: 0 or -ENOENT. */
int elf_image_symbol(struct elf_image *e, const char *name, uint64_t *vaddr);
/* The address and size of the section called name (headers survive strip): 0 or -ENOENT. */
int elf_image_section(struct elf_image *e, const char *name, uint64_t *vaddr, uint64_t *size);
/* The file offset of a virtual address in a loadable segment: 0 or -ENOENT. */
int elf_image_file_offset(struct elf_image *e, uint64_t vaddr, uint64_t *offset);
/* Copies len bytes stored in the file at vaddr: 0 or -ENOENT (not in the file, e.g. .bss). */
int elf_image_read(struct elf_image *e, uint64_t vaddr, void *buf, size_t len);
/* Copies up to len bytes from vaddr, fewer where the file ends: how many, or -ENOENT / -EIO. */
ssize_t elf_image_read_upto(struct elf_image *e, uint64_t vaddr, void *buf, size_t len);
/*
 * The load bias of a file mapped at map_start from file offset map_offset:
 * what to add to the file's virtual addresses to get the process's. 0 or -ENOENT.
 */
int elf_image_load_bias(struct elf_image *e, uint64_t map_start, uint64_t map_offset,
			uint64_t *bias);
/* The address of the first NUL-terminated string equal to s in an allocated section: 0 or -ENOENT. */
int elf_image_find_string(struct elf_image *e, const char *s, uint64_t *vaddr);
/*
 * The addresses of the pointers to target: R_X86_64_RELATIVE relocations
 * whose addend is target in a position-independent file, 8-byte values equal
 * to it in the data of an executable. Returns how many were put in out (at
 * most max), or -errno.
 */
int elf_image_pointers_to(struct elf_image *e, uint64_t target, uint64_t *out, size_t max);
/* The pointer stored at vaddr once relocated (without load bias): 0 or -ENOENT. */
int elf_image_pointer_at(struct elf_image *e, uint64_t vaddr, uint64_t *value);
/* Whether the file is position independent (ET_DYN): its addresses move by a load bias. */
bool elf_image_is_pic(struct elf_image *e);

#endif
