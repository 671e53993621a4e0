// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "file_facts.h"

struct facts_slot {
	uint64_t last_use;		/* 0: empty */
	struct facts_key key;
	size_t size;
	uint8_t facts[FILE_FACTS_MAX_SIZE];
};

static struct facts_slot slots[FILE_FACTS_SLOTS];
static uint64_t clock_now;
static struct file_facts_stats stats;

void python_file_facts_stats(struct file_facts_stats *out)
{
	*out = stats;
}

int file_key_of(int fd, struct file_key *k)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	memset(k, 0, sizeof(*k));
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->size = (uint64_t)st.st_size;
	k->mtime_sec = st.st_mtim.tv_sec;
	k->mtime_nsec = st.st_mtim.tv_nsec;
	k->ctime_sec = st.st_ctim.tv_sec;
	k->ctime_nsec = st.st_ctim.tv_nsec;
	return 0;
}

/* the key is all 64-bit fields: compared whole, no padding to differ in */
_Static_assert(sizeof(struct file_key) == 7 * sizeof(uint64_t) &&
	       sizeof(struct facts_key) == 4 * sizeof(uint64_t) + 2 * sizeof(struct file_key),
	       "facts_key has padding");

bool file_facts_get(const struct facts_key *key, void *out, size_t size)
{
	size_t i;

	for (i = 0; i < FILE_FACTS_SLOTS; i++) {
		if (slots[i].last_use && slots[i].size == size &&
		    !memcmp(&slots[i].key, key, sizeof(*key))) {
			slots[i].last_use = ++clock_now;
			memcpy(out, slots[i].facts, size);
			stats.hits++;
			return true;
		}
	}
	stats.misses++;
	return false;
}

void file_facts_put(const struct facts_key *key, const void *facts, size_t size)
{
	struct facts_slot *s = &slots[0];
	size_t i;

	if (size > sizeof(s->facts))
		return;
	for (i = 1; i < FILE_FACTS_SLOTS && s->last_use; i++)
		if (slots[i].last_use < s->last_use)
			s = &slots[i];
	memcpy(&s->key, key, sizeof(*key));
	memcpy(s->facts, facts, size);
	s->size = size;
	s->last_use = ++clock_now;
}
