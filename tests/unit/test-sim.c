/*
 * test-sim.c - the simulated GPU through the backend table, as the
 * dispatcher drives it: timing of launches, waves and notifications; the
 * hardware block scheduler's launch order across streams; stream order;
 * copies; occupancy of the named cards.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "cards.h"
#include "paella/instrument-abi.h"
#include "paella/paella.h"
#include "../check-main.h"

#define US 1000ull

struct sim_env {
	struct paella__backend *b;
	void *module;
	struct paella__bkernel *k10;
	struct paella__bkernel *k50;
	struct paella__bkernel *big_smem;
	void *params[4];
};

static void
env_init(struct sim_env *e, const char *card, double jitter)
{
	static const struct paella_sim_kernel kernels[] = {
		{ "k10", 32, 0, 10 * US },
		{ "k50", 32, 0, 50 * US },
		{ "big_smem", 32, 100 * 1024, 10 * US },
	};
	struct paella_sim_module desc = { PAELLA_ABI_VERSION, NULL, kernels, 3 };
	struct paella__backend_params p = { 0, 4, card, 1, jitter };
	struct paella__kernel_attrs attrs;

	memset(e, 0, sizeof(*e));
	ck_assert_int_eq(paella__backend_sim_create(&p, &e->b), PAELLA_STATUS_OK);
	ck_assert(paella__backend_is_sim(e->b));
	ck_assert_int_eq(e->b->ops->module_load_sim(e->b, &desc, &e->module), PAELLA_STATUS_OK);
	ck_assert_int_eq(e->b->ops->kernel_get(e->b, e->module, "k10", &e->k10, &attrs),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(e->b->ops->kernel_get(e->b, e->module, "k50", &e->k50, &attrs),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(e->b->ops->kernel_get(e->b, e->module, "big_smem", &e->big_smem,
					       &attrs), PAELLA_STATUS_OK);
	ck_assert_uint_eq(attrs.static_smem, 100 * 1024);
	ck_assert_int_eq(e->b->ops->kernel_get(e->b, e->module, "nope", &e->k10, &attrs),
			 PAELLA_STATUS_NOT_FOUND);
}

static void
env_fini(struct sim_env *e)
{
	e->b->ops->module_unload(e->b, e->module);
	e->b->ops->destroy(e->b);
}

static struct paella__bop *
launch(struct sim_env *e, struct paella__bkernel *k, unsigned stream, unsigned blocks,
       bool instrumented)
{
	/* Instrumented: count mode, whose posts the timings below follow. */
	struct paella__launch_desc d = { k, stream, { blocks, 1, 1 }, { 256, 1, 1 }, 0,
					 e->params, 0, instrumented, instrumented, 0 };
	struct paella__bop *op = NULL;

	ck_assert_int_eq(e->b->ops->launch(e->b, &d, &op), PAELLA_STATUS_OK);
	return op;
}

/* Advances until @op is seen done; returns the time it was. */
static uint64_t
run_until_done(struct sim_env *e, struct paella__bop *op)
{
	while (!e->b->ops->poll(e->b, op, NULL))
		e->b->ops->advance(e->b, UINT64_MAX);
	return e->b->ops->now_ns(e->b);
}

PAELLA_TEST(sim_kernel_timing)
{
	struct sim_env e;
	struct paella__bop *op;
	uint64_t progress = 0, t;

	env_init(&e, "H100", 0.0);
	/* Two waves: 1,056 blocks of 256 threads fill the 132 SMs. */
	op = launch(&e, e.k10, 0, 2 * 1056, true);
	ck_assert(!e.b->ops->poll(e.b, op, &progress));
	/* The first wave's blocks are seen done 1.1 us after they end. */
	while (progress == 0) {
		e.b->ops->advance(e.b, UINT64_MAX);
		e.b->ops->poll(e.b, op, &progress);
	}
	ck_assert_uint_eq(progress, 1056);
	ck_assert_uint_eq(e.b->ops->now_ns(e.b),
			  PAELLA_SIM_LAUNCH_NS + 10 * US + PAELLA_SIM_PROGRESS_LATENCY_NS);
	t = run_until_done(&e, op);
	ck_assert_uint_eq(t, PAELLA_SIM_LAUNCH_NS + 20 * US + PAELLA_SIM_PROGRESS_LATENCY_NS);
	ck_assert(e.b->ops->poll(e.b, op, &progress));
	ck_assert_uint_eq(progress, 2 * 1056);
	e.b->ops->release(e.b, op);

	/* Uninstrumented: nothing until the write-value after it. */
	op = launch(&e, e.k10, 1, 1056, false);
	e.b->ops->advance(e.b, UINT64_MAX);
	ck_assert(!e.b->ops->poll(e.b, op, &progress));
	ck_assert_uint_eq(progress, 0);
	ck_assert_uint_eq(run_until_done(&e, op) - t,
			  PAELLA_SIM_LAUNCH_NS + 10 * US + PAELLA_SIM_COMPLETION_LATENCY_NS);
	e.b->ops->release(e.b, op);
	env_fini(&e);
}
END_TEST

PAELLA_TEST(sim_launches_serialize_on_the_host)
{
	struct sim_env e;
	struct paella__bop *a, *b, *c;

	env_init(&e, "H100", 0.0);
	/* Small kernels on three streams, issued at the same moment. */
	a = launch(&e, e.k10, 0, 1, true);
	b = launch(&e, e.k10, 1, 1, true);
	c = launch(&e, e.k10, 2, 1, true);
	ck_assert_uint_eq(run_until_done(&e, a), 1 * PAELLA_SIM_LAUNCH_NS + 10 * US + 1100);
	ck_assert_uint_eq(run_until_done(&e, b), 2 * PAELLA_SIM_LAUNCH_NS + 10 * US + 1100);
	ck_assert_uint_eq(run_until_done(&e, c), 3 * PAELLA_SIM_LAUNCH_NS + 10 * US + 1100);
	e.b->ops->release(e.b, a);
	e.b->ops->release(e.b, b);
	e.b->ops->release(e.b, c);
	env_fini(&e);
}
END_TEST

PAELLA_TEST(sim_head_of_line_blocking)
{
	struct sim_env e;
	struct paella__bop *big, *small;
	uint64_t t;

	env_init(&e, "H100", 0.0);
	/* Three waves of 50 us, then one block on another stream: it waits
	 * until every block of the big kernel is placed, two waves later. */
	big = launch(&e, e.k50, 0, 3 * 1056, true);
	small = launch(&e, e.k10, 1, 1, true);
	t = run_until_done(&e, small);
	ck_assert_uint_ge(t, PAELLA_SIM_LAUNCH_NS + 100 * US + 10 * US);
	run_until_done(&e, big);
	e.b->ops->release(e.b, big);
	e.b->ops->release(e.b, small);

	/* The other way round the small one is done at once. */
	t = e.b->ops->now_ns(e.b);
	small = launch(&e, e.k10, 1, 1, true);
	big = launch(&e, e.k50, 0, 3 * 1056, true);
	ck_assert_uint_eq(run_until_done(&e, small) - t,
			  PAELLA_SIM_LAUNCH_NS + 10 * US + PAELLA_SIM_PROGRESS_LATENCY_NS);
	run_until_done(&e, big);
	e.b->ops->release(e.b, big);
	e.b->ops->release(e.b, small);
	env_fini(&e);
}
END_TEST

PAELLA_TEST(sim_stream_order_and_sharing)
{
	struct sim_env e;
	struct paella__bop *a, *b, *c;
	uint64_t ta, tb, tc;

	env_init(&e, "H100", 0.0);
	/* Half a wave each: a and c (other streams) share the GPU; b waits
	 * for a, on a's stream. */
	a = launch(&e, e.k10, 0, 528, true);
	b = launch(&e, e.k10, 0, 528, true);
	c = launch(&e, e.k10, 1, 528, true);
	ta = run_until_done(&e, a);
	tc = run_until_done(&e, c);
	tb = run_until_done(&e, b);
	ck_assert_uint_eq(ta, 1 * PAELLA_SIM_LAUNCH_NS + 10 * US + 1100);
	ck_assert_uint_eq(tc, 3 * PAELLA_SIM_LAUNCH_NS + 10 * US + 1100);
	ck_assert_uint_eq(tb, ta - 1100 + 10 * US + 1100);
	e.b->ops->release(e.b, a);
	e.b->ops->release(e.b, b);
	e.b->ops->release(e.b, c);
	env_fini(&e);
}
END_TEST

PAELLA_TEST(sim_copies_move_bytes)
{
	struct sim_env e;
	struct paella__bop *in, *out;
	unsigned char src[1000], dst[1000];
	uint64_t dptr = 0, big = 0, t0;

	env_init(&e, "H100", 0.0);
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)i;
	memset(dst, 0, sizeof(dst));
	ck_assert_int_eq(e.b->ops->mem_alloc(e.b, sizeof(src), &dptr), PAELLA_STATUS_OK);
	t0 = e.b->ops->now_ns(e.b);
	ck_assert_int_eq(e.b->ops->copy(e.b, 0, PAELLA__COPY_TO_DEVICE, dptr, src, sizeof(src),
					&in), PAELLA_STATUS_OK);
	ck_assert_int_eq(e.b->ops->copy(e.b, 0, PAELLA__COPY_TO_HOST, dptr, dst, sizeof(dst),
					&out), PAELLA_STATUS_OK);
	ck_assert_uint_eq(run_until_done(&e, in) - t0,
			  PAELLA_SIM_LAUNCH_NS + PAELLA_SIM_COPY_LATENCY_NS +
			  sizeof(src) / PAELLA_SIM_COPY_BYTES_PER_NS +
			  PAELLA_SIM_COMPLETION_LATENCY_NS);
	run_until_done(&e, out);
	ck_assert(memcmp(src, dst, sizeof(src)) == 0);
	e.b->ops->release(e.b, in);
	e.b->ops->release(e.b, out);
	e.b->ops->mem_free(e.b, dptr);
	/* More than the card has. */
	ck_assert_int_eq(e.b->ops->mem_alloc(e.b, (size_t)200 << 30, &dptr), PAELLA_STATUS_NO_MEMORY);
	/* A size that would wrap the running total: refused as too large for
	 * the card (not as a host allocation failure), and the total is kept:
	 * what fits still fits. */
	ck_assert_int_eq(e.b->ops->mem_alloc(e.b, 4096, &dptr), PAELLA_STATUS_OK);
	ck_assert_int_eq(e.b->ops->mem_alloc(e.b, SIZE_MAX - 1024, &big), PAELLA_STATUS_NO_MEMORY);
	ck_assert_ptr_nonnull(strstr(paella_last_error(), "would exceed"));
	ck_assert_int_eq(e.b->ops->mem_alloc(e.b, 4096, &big), PAELLA_STATUS_OK);
	e.b->ops->mem_free(e.b, big);
	e.b->ops->mem_free(e.b, dptr);
	env_fini(&e);
}
END_TEST

PAELLA_TEST(sim_advance_stops_at_limit)
{
	struct sim_env e;
	struct paella__bop *op;

	env_init(&e, "H100", 0.0);
	e.b->ops->advance(e.b, 3 * US);
	ck_assert_uint_eq(e.b->ops->now_ns(e.b), 3 * US);
	op = launch(&e, e.k50, 0, 1, true);
	/* Nothing happens between now and 5 us but the clock. */
	e.b->ops->advance(e.b, 5 * US);
	ck_assert_uint_eq(e.b->ops->now_ns(e.b), 5 * US);
	run_until_done(&e, op);
	e.b->ops->release(e.b, op);
	env_fini(&e);
}
END_TEST

PAELLA_TEST(sim_occupancy_of_cards)
{
	struct sim_env e;
	unsigned n = 0;

	env_init(&e, "H100", 0.0);
	e.b->ops->occupancy(e.b, e.k10, 256, 0, &n);
	ck_assert_uint_eq(n, 8);
	e.b->ops->occupancy(e.b, e.k10, 1024, 0, &n);
	ck_assert_uint_eq(n, 2);
	e.b->ops->occupancy(e.b, e.k10, 32, 0, &n);
	ck_assert_uint_eq(n, 32);
	/* 100 KiB + 1 KiB reserved, twice into 228 KiB. */
	e.b->ops->occupancy(e.b, e.big_smem, 64, 0, &n);
	ck_assert_uint_eq(n, 2);
	e.b->ops->occupancy(e.b, e.big_smem, 64, 100 * 1024, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(e.b->device.sm_count, 132);
	env_fini(&e);

	env_init(&e, "L4", 0.0);
	e.b->ops->occupancy(e.b, e.k10, 256, 0, &n);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(e.b->device.sm_count, 58);
	env_fini(&e);
}
END_TEST

PAELLA_TEST(sim_unknown_card)
{
	struct paella__backend_params p = { 0, 4, "RTX 9090", 1, 0.0 };
	struct paella__backend *b = (struct paella__backend *)1;

	ck_assert_int_eq(paella__backend_sim_create(&p, &b), PAELLA_STATUS_NOT_FOUND);
	ck_assert_ptr_null(b);
	ck_assert_ptr_null(paella__card_find("RTX 9090"));
	ck_assert_ptr_nonnull(paella__card_find("h100"));
}
END_TEST

PAELLA_TEST(sim_jitter_spreads_progress)
{
	struct sim_env e;
	struct paella__bop *op;
	uint64_t progress = 0, steps = 0, last = 0;

	env_init(&e, "H100", 0.2);
	op = launch(&e, e.k10, 0, 1056, true);
	while (!e.b->ops->poll(e.b, op, &progress)) {
		if (progress != last)
			steps++;
		last = progress;
		e.b->ops->advance(e.b, UINT64_MAX);
	}
	/* One wave, yet progress arrives in several steps. */
	ck_assert_uint_ge(steps, 2);
	e.b->ops->release(e.b, op);
	env_fini(&e);
}
END_TEST

PAELLA_CHECK_MAIN("sim", 0, NULL, NULL)
