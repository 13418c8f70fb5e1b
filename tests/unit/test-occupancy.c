/*
 * test-occupancy.c - blocks per SM by the occupancy calculator's rules,
 * against figures of NVIDIA's calculator for Hopper.
 */
#include <check.h>
#include <stdlib.h>

#include "cards.h"
#include "occupancy.h"
#include "../check-main.h"

static unsigned
occ(const char *card, unsigned threads, unsigned regs, unsigned smem)
{
	const struct paella__card *c = paella__card_find(card);
	struct paella__sm_usage blk;

	ck_assert_ptr_nonnull(c);
	blk = paella__block_usage(&c->sm, threads, regs, smem);
	return paella__occupancy(&c->sm, &blk);
}

PAELLA_TEST(occupancy_hopper_limits)
{
	/* Threads limit: 2048 per SM. */
	ck_assert_uint_eq(occ("H100", 256, 16, 0), 8);
	ck_assert_uint_eq(occ("H100", 1024, 16, 0), 2);
	/* Blocks limit: 32 per SM. */
	ck_assert_uint_eq(occ("H100", 32, 16, 0), 32);
	/* Registers: 64 per thread, 256 threads = 16,384 per block: 4. */
	ck_assert_uint_eq(occ("H100", 256, 64, 0), 4);
	/* 255 registers round to 256 per thread (8,192 per warp): 1 block
	 * of 256 threads. */
	ck_assert_uint_eq(occ("H100", 256, 255, 0), 1);
	/* Warps allocate whole: 33 threads take 2 warps. */
	ck_assert_uint_eq(occ("H100", 33, 16, 0), 32);
	/* 168 registers x 32 lanes = 5,376 per warp, 12 warps: 4 blocks of 3. */
	ck_assert_uint_eq(occ("H100", 96, 168, 0), 4);
	/* Shared memory: 48 KiB + 1 KiB reserved per block, 228 KiB. */
	ck_assert_uint_eq(occ("H100", 128, 16, 48 * 1024), 4);
	ck_assert_uint_eq(occ("H100", 128, 16, 227 * 1024), 1);
	ck_assert_uint_eq(occ("H100", 128, 16, 228 * 1024), 0);
	/* Ampere: 164 KiB. */
	ck_assert_uint_eq(occ("A100", 128, 16, 48 * 1024), 3);
}
END_TEST

PAELLA_TEST(occupancy_fit_in_partial_sm)
{
	const struct paella__card *c = paella__card_find("H100");
	struct paella__sm_usage blk = paella__block_usage(&c->sm, 256, 32, 0);
	struct paella__sm_usage free = paella__sm_empty(&c->sm);

	/* Three blocks placed: five more fit. */
	free.threads -= 3 * blk.threads;
	free.regs -= 3 * blk.regs;
	free.smem -= 3 * blk.smem;
	free.blocks -= 3;
	ck_assert_uint_eq(paella__blocks_fit(&free, &blk), 5);
}
END_TEST

PAELLA_TEST(occupancy_cards)
{
	ck_assert_uint_eq(paella__card_find("H100")->sm_count, 132);
	ck_assert_uint_eq(paella__card_find("h200")->sm_count, 132);
	ck_assert_uint_eq(paella__card_find("A100")->sm_count, 108);
	ck_assert_uint_eq(paella__card_find("L4")->sm.max_threads, 1536);
	ck_assert_ptr_null(paella__card_find("V100"));
}
END_TEST

PAELLA_CHECK_MAIN("occupancy", 0, NULL, NULL)
