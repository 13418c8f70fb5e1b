/*
 * completion.h - the completion kernel: how the CPU learns soonest that a
 * kernel has ended.  Private.
 *
 * A one-warp kernel launched after the kernel with programmatic stream
 * serialization waits in griddepcontrol.wait for the kernel before it (and
 * its memory) and stores the launch record's completion word: the CPU sees
 * it about 0.3 us sooner than the stream write-value
 * (benchmarks/results/notify-latency.md).  It needs sm_90 and
 * cuLaunchKernelEx; where either is missing the write-value serves.
 *
 *	paella__ptx_module_init(&ck.ptx, cu);
 *	... launch the kernel with record rec on stream ...
 *	paella__completion_enqueue(&ck, rec, stream, hint);
 *	paella__ptx_module_fini(&ck.ptx);
 */
#ifndef PAELLA_COMPLETION_H
#define PAELLA_COMPLETION_H

#include <stdbool.h>

#include <cuda.h>

#include "cuda-driver.h"
#include "notify.h"

enum paella__completion {
	PAELLA__COMPLETION_WRITE_VALUE,
	PAELLA__COMPLETION_KERNEL,
};

/* The completion kernels of a context, in their owner (the launcher).
 * Readied, zeroed, by paella__ptx_module_init(&ck->ptx, cu), with no
 * driver call: the kernels load on first use. */
struct paella__completion_kernels {
	/* ptx.tried: the way has been decided. */
	struct paella__ptx_module ptx;
	enum paella__completion kind;
	CUfunction done_fn;
	CUfunction hint_fn;
};

/* The way completions after kernels are signalled, deciding it on the
 * first call (loads the completion kernel in the current context). */
enum paella__completion
paella__completion_kind(struct paella__completion_kernels *ck);

/* As paella__notify_enqueue_completion(), for a record whose stream's last
 * operation is a kernel launch: by the completion kernel when there is
 * one, else by the write-value.  @hint: the completion only tells that the
 * GPU has room (something stream-ordered follows the kernel), so the
 * completion kernel may skip the system-scope fence that makes the
 * kernel's writes visible to the CPU before the word; false for a kernel
 * whose completion ends a job.  The write-value always fences. */
enum paella_status
paella__completion_enqueue(struct paella__completion_kernels *ck,
			   struct paella__notify_record *rec, CUstream stream, bool hint);

#endif /* PAELLA_COMPLETION_H */
