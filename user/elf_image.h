/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* An ELF file on disk, read with libelf: symbols, and bytes at an address. */
#ifndef INFLIGHT_ELF_IMAGE_H
#define INFLIGHT_ELF_IMAGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_image;

/* Opens path (a target's file: treated as hostile input): 0 or -errno. */
int elf_image_open(const char *path, struct elf_image **out);
void elf_image_close(struct elf_image *e);
/* The value (virtual address) of a symbol from .symtab or .dynsym: 0 or -ENOENT. */
int elf_image_symbol(struct elf_image *e, const char *name, uint64_t *vaddr);
/* The file offset of a virtual address in a loadable segment: 0 or -ENOENT. */
int elf_image_file_offset(struct elf_image *e, uint64_t vaddr, uint64_t *offset);
/* Copies len bytes stored in the file at vaddr: 0 or -ENOENT (not in the file, e.g. .bss). */
int elf_image_read(struct elf_image *e, uint64_t vaddr, void *buf, size_t len);
/*
 * The load bias of a file mapped at map_start from file offset map_offset:
 * what to add to the file's virtual addresses to get the process's. 0 or -ENOENT.
 */
int elf_image_load_bias(struct elf_image *e, uint64_t map_start, uint64_t map_offset,
			uint64_t *bias);
/* Whether the file is position independent (ET_DYN): its addresses move by a load bias. */
bool elf_image_is_pic(struct elf_image *e);

#endif
