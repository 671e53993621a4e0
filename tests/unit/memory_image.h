/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * A made-up target for the readers: regions of bytes at made-up addresses,
 * read through the memory_source seam as a process's memory would be, with
 * process_vm_readv's rules (a read stops at the first range not wholly
 * inside one region).
 */
#ifndef INFLIGHT_TEST_MEMORY_IMAGE_H
#define INFLIGHT_TEST_MEMORY_IMAGE_H
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "memory_source.h"

#define IMAGE_MAX_REGIONS 16

struct memory_image {
	struct image_region {
		uint64_t addr;
		size_t len;
		const void *bytes;
	} regions[IMAGE_MAX_REGIONS];
	size_t n;
	size_t largest_read;	/* the longest single range a reader asked for */
	size_t bytes_read;	/* all the bytes readers were given */
	struct memory_source src;
};

static void image_map(struct memory_image *im, uint64_t addr, const void *bytes, size_t len)
{
	im->regions[im->n++] = (struct image_region){ addr, len, bytes };
}

static const struct image_region *image_region_of(const struct memory_image *im, uint64_t addr,
						  size_t len)
{
	size_t i;

	for (i = 0; i < im->n; i++)
		if (addr >= im->regions[i].addr && len <= im->regions[i].len &&
		    addr - im->regions[i].addr <= im->regions[i].len - len)
			return &im->regions[i];
	return NULL;
}

/* The readers pair each remote range with a local buffer of its size: local[i] for remote[i]. */
static ssize_t image_readv(void *ctx, const struct iovec *local, unsigned long n_local,
			   const struct iovec *remote, unsigned long n_remote)
{
	struct memory_image *im = ctx;
	const struct image_region *r;
	ssize_t done = 0;
	unsigned long i;
	uint64_t at;

	for (i = 0; i < n_remote && i < n_local; i++) {
		at = (uint64_t)(uintptr_t)remote[i].iov_base;
		if (remote[i].iov_len > im->largest_read)
			im->largest_read = remote[i].iov_len;
		r = image_region_of(im, at, remote[i].iov_len);
		if (!r || local[i].iov_len != remote[i].iov_len)
			break;
		memcpy(local[i].iov_base, (const uint8_t *)r->bytes + (at - r->addr),
		       remote[i].iov_len);
		done += (ssize_t)remote[i].iov_len;
		im->bytes_read += remote[i].iov_len;
	}
	if (!done && n_remote) {
		errno = EFAULT;
		return -1;
	}
	return done;
}

/* Reads of pid come from im until image_detach. */
static int image_attach(struct memory_image *im, pid_t pid)
{
	im->src = (struct memory_source){ .readv = image_readv, .ctx = im };
	return memory_source_install(pid, &im->src);
}

static void image_detach(pid_t pid)
{
	memory_source_install(pid, NULL);
}

#endif
