/*
 * occupancy.h - how many blocks of a kernel fit on a streaming
 * multiprocessor.  Private; pure arithmetic.
 *
 * The simulator places blocks on SMs with paella__blocks_fit() against each
 * SM's free resources; the dispatcher sizes a kernel's wave (the blocks the
 * whole GPU holds at once) from the same arithmetic on sim and from the
 * driver's occupancy API on cuda.  The rules are the CUDA occupancy
 * calculator's for sm_80 and later: warps allocate whole, registers in units
 * of 256 per warp, and each block costs 1 KiB of shared memory the driver
 * reserves.
 */
#ifndef PAELLA_OCCUPANCY_H
#define PAELLA_OCCUPANCY_H

#include <stdint.h>

/* What one SM offers, and the per-block maxima. */
struct paella__sm_limits {
	unsigned max_threads;
	unsigned max_regs;
	/* Shared memory usable by blocks, reserved bytes included. */
	unsigned max_smem;
	unsigned max_blocks;
	unsigned smem_reserved_per_block;
	unsigned reg_alloc_unit;
	unsigned max_regs_per_thread;
	unsigned max_threads_per_block;
	/* Most shared memory one block may have (static + dynamic). */
	unsigned max_smem_per_block;
};

/* What one block takes from an SM.  Also an SM's usage or free space. */
struct paella__sm_usage {
	unsigned threads;
	unsigned regs;
	unsigned smem;
	unsigned blocks;
};

/* The resources one block of @threads threads, @regs_per_thread registers
 * each and @smem bytes of static + dynamic shared memory takes. */
struct paella__sm_usage
paella__block_usage(const struct paella__sm_limits *sm, unsigned threads,
		    unsigned regs_per_thread, unsigned smem);

/* How many more blocks of @block fit into @free. */
unsigned
paella__blocks_fit(const struct paella__sm_usage *free,
		   const struct paella__sm_usage *block);

/* Blocks of @block an empty SM holds: 0 when one does not fit at all. */
unsigned
paella__occupancy(const struct paella__sm_limits *sm,
		  const struct paella__sm_usage *block);

static inline struct paella__sm_usage
paella__sm_empty(const struct paella__sm_limits *sm)
{
	struct paella__sm_usage u = { sm->max_threads, sm->max_regs, sm->max_smem,
				      sm->max_blocks };

	return u;
}

#endif /* PAELLA_OCCUPANCY_H */
