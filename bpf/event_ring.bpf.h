/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Ring-buffer events, as every tracer here reserves them. They are submitted
 * without a wakeup (BPF_RB_NO_WAKEUP): userspace drains the rings on a timer,
 * which costs the traced process far less than a wakeup per event.
 */
#ifndef INFLIGHT_EVENT_RING_BPF_H
#define INFLIGHT_EVENT_RING_BPF_H

/*
 * An event of size bytes in ring, its header filled in; NULL when the ring
 * is full, counted in *drops (the tracer's per-CPU health, if it has one).
 */
static __always_inline void *event_reserve(void *ring, __u64 *drops, __u32 type, __u32 size)
{
	struct event_header *hdr = bpf_ringbuf_reserve(ring, size, 0);

	if (!hdr) {
		if (drops)
			(*drops)++;
		return NULL;
	}
	hdr->ts_ns = bpf_ktime_get_ns();
	hdr->type = type;
	hdr->size = size;
	return hdr;
}

#endif
