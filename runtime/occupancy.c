/*
 * occupancy.c - blocks per SM, by the occupancy calculator's rules.
 */
#include "occupancy.h"
#include "util.h"

#define WARP 32u

static unsigned
round_up(unsigned x, unsigned unit)
{
	return unit ? (x + unit - 1) / unit * unit : x;
}

struct paella__sm_usage
paella__block_usage(const struct paella__sm_limits *sm, unsigned threads,
		    unsigned regs_per_thread, unsigned smem)
{
	struct paella__sm_usage u;
	unsigned warps = (threads + WARP - 1) / WARP;

	u.threads = warps * WARP;
	u.regs = warps * round_up(regs_per_thread * WARP, sm->reg_alloc_unit);
	u.smem = smem + sm->smem_reserved_per_block;
	u.blocks = 1;
	return u;
}

static unsigned
limit(unsigned free, unsigned need, unsigned best)
{
	if (need == 0)
		return best;
	return free / need < best ? free / need : best;
}

unsigned
paella__blocks_fit(const struct paella__sm_usage *free,
		   const struct paella__sm_usage *block)
{
	unsigned n = free->blocks;

	n = limit(free->threads, block->threads, n);
	n = limit(free->regs, block->regs, n);
	n = limit(free->smem, block->smem, n);
	return n;
}

unsigned
paella__occupancy(const struct paella__sm_limits *sm,
		  const struct paella__sm_usage *block)
{
	struct paella__sm_usage empty = paella__sm_empty(sm);

	return paella__blocks_fit(&empty, block);
}
