/*
 * marker.h - tail markers: when a plain kernel's last blocks have started.
 * Private.
 *
 * A tail marker is a one-block kernel launched on a stream of lower
 * priority than its kernel's once the kernel heads its own stream: the
 * block scheduler, which prefers the kernel's pending blocks, starts the
 * marker only once the kernel has none left, and the marker stores the
 * launch's number into the record's marker word (notify.h,
 * PAELLA__NOTIFY_MARKER).
 *
 *	paella__ptx_module_init(&mk.ptx, cu);
 *	paella__marker_plan_function(&mk, f, threads, dsmem, &m);  // once per shape
 *	... launch f with a PAELLA__NOTIFY_MARKER record rec (launch.h) ...
 *	... once f heads its stream: paella__marker_enqueue(&mk, rec, low, &m);
 *	paella__ptx_module_fini(&mk.ptx);
 */
#ifndef PAELLA_MARKER_H
#define PAELLA_MARKER_H

#include <stdbool.h>

#include <cuda.h>

#include "cuda-driver.h"
#include "notify.h"

/*
 * A tail marker must start only where one of its kernel's blocks would also
 * fit, so that the block scheduler, which prefers the kernel's pending
 * blocks (higher-priority stream), starts it only once the kernel has none
 * left.  So it needs at least the kernel block's threads (warps), shared
 * memory (the kernel's static plus dynamic, as the marker's dynamic) and
 * register file.  Markers come in variants built to use more or fewer
 * registers; a variant with fewer registers than the kernel makes up with
 * more warps.
 */
struct paella__marker_shape {
	/* Index into the variants given. */
	unsigned variant;
	unsigned threads;
};

/* Registers are given to a warp in units of this many per thread. */
#define PAELLA_MARKER_REG_UNIT 8u

/*
 * Picks the variant (registers per thread @variant_regs[i], at most
 * @variant_max_threads[i] threads a block, i < @nvariants) and thread
 * count for a kernel block of @kthreads threads using @kregs registers
 * each: the fewest warps times register units at or above the kernel
 * block's, warps at least the block's.  Returns false when no variant fits.
 */
bool
paella__marker_choose_shape(unsigned kthreads, unsigned kregs, const unsigned *variant_regs,
			    const unsigned *variant_max_threads, unsigned nvariants,
			    struct paella__marker_shape *out);

/* A marker launch for kernels of one shape, as paella__marker_plan() makes
 * it: which compiled variant, how many threads, how much dynamic shared
 * memory. */
struct paella__marker_launch {
	CUfunction fn;
	unsigned threads;
	unsigned smem;
};

/* Tail-marker variants built (marker.c says which). */
#define PAELLA__MARKER_VARIANTS 7

/* The tail markers of a context, in their owner (the launcher).  Readied,
 * zeroed, by paella__ptx_module_init(&mk->ptx, cu), with no driver call:
 * the variants load on first use. */
struct paella__markers {
	struct paella__ptx_module ptx;
	/* The variants that loaded, as measured. */
	CUfunction fn[PAELLA__MARKER_VARIANTS];
	unsigned regs[PAELLA__MARKER_VARIANTS];
	unsigned max_threads[PAELLA__MARKER_VARIANTS];
	unsigned nmarkers;
};

/*
 * Plans the tail marker for a kernel whose blocks have @kthreads threads,
 * @kregs registers each and @ksmem bytes of shared memory (static plus
 * dynamic), loading the marker variants on first use (in the current
 * context).  PAELLA_STATUS_UNSUPPORTED when no marker fits or the markers
 * do not load here; the kernel then reports by its instrumented copy
 * instead.
 */
enum paella_status
paella__marker_plan(struct paella__markers *mk, unsigned kthreads, unsigned kregs,
		    unsigned ksmem, struct paella__marker_launch *out);

/* As paella__marker_plan(), for blocks of kernel @f of @kthreads threads
 * and @dsmem bytes of dynamic shared memory: its registers and static
 * shared memory from the driver. */
enum paella_status
paella__marker_plan_function(struct paella__markers *mk, CUfunction f, unsigned kthreads,
			     unsigned dsmem, struct paella__marker_launch *out);

/*
 * Launches @rec's tail marker on @stream, a stream of lower priority than
 * the kernel's.  Call only once the kernel heads its own stream (everything
 * before it there has completed): a marker launched while the kernel still
 * waits behind other work would start at once and say nothing true.  A
 * late marker of an earlier launch stores an older number, which poll
 * ignores.
 */
enum paella_status
paella__marker_enqueue(struct paella__markers *mk, struct paella__notify_record *rec,
		       CUstream stream, const struct paella__marker_launch *m);

#endif /* PAELLA_MARKER_H */
