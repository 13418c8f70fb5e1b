/*
 * test-notify.c - launch-record arithmetic, and the host side of the
 * instrumentation ABI end to end on the fake driver, whose "device" memory
 * is host memory: the tests play the kernels' block-exit epilogue as
 * paella/instrument-abi.h describes it.
 */
#include <check.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "marker.h"
#include "notify-test.h"
#include "notify.h"
#include "../check-main.h"

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	/* xorshift64*: fixed seed, so failures reproduce. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void
shuffle_u32(uint32_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng() % i;
		uint32_t t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* A post on its way to host memory. */
struct post {
	uint32_t shard;
	uint32_t value;
};

/*
 * One block's exit epilogue, as the ABI header says: add one to the shard's
 * counter; a sampled block, or the last of its shard, posts the new value.
 * The post is returned (not stored) so the caller decides when it lands.
 */
static bool
block_exit(const struct paella__notify_class *cls, uint32_t shards,
	   uint32_t *counters, uint64_t nblocks, uint32_t id, struct post *out)
{
	uint32_t mask = shards - 1;
	uint32_t s = id & mask;
	uint32_t index = id >> cls->shard_shift;
	uint32_t last = (uint32_t)((nblocks - 1 - s) >> cls->shard_shift);
	uint32_t v = ++counters[s];

	if ((index & cls->post_mask) != cls->post_mask && index != last)
		return false;
	out->shard = s;
	out->value = v;
	return true;
}

/* ---- planning ----------------------------------------------------------- */

PAELLA_TEST(notify_plan_classes)
{
	static const struct {
		uint64_t nblocks;
		uint32_t shards;
		uint32_t post_mask;
	} cases[] = {
		{ 1, 1, 0 },
		{ 7, 8, 0 },
		{ 64, 64, 0 },
		{ 256, 64, 0 },
		{ 1000, 64, 1 },
		{ 4096, 64, 15 },
		{ 262144, 64, 1023 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct paella__notify_class cls = paella__notify_plan(cases[i].nblocks);

		ck_assert_msg(paella__notify_class_shards(cls) == cases[i].shards,
			      "%llu blocks: %u shards",
			      (unsigned long long)cases[i].nblocks,
			      paella__notify_class_shards(cls));
		ck_assert_msg(cls.post_mask == cases[i].post_mask,
			      "%llu blocks: post mask %u",
			      (unsigned long long)cases[i].nblocks, cls.post_mask);
	}
	/* A small grid posts from every block; 262,144 blocks about once
	 * per 1,024 blocks. */
	ck_assert_uint_eq(paella__notify_posts(7, paella__notify_plan(7)), 7);
	ck_assert_uint_eq(paella__notify_posts(64, paella__notify_plan(64)), 64);
	ck_assert_uint_eq(paella__notify_posts(262144, paella__notify_plan(262144)), 256);
}
END_TEST

PAELLA_TEST(notify_plan_posts_bounded)
{
	uint64_t n = 1;

	while (n <= PAELLA_NOTIFY_MAX_BLOCKS) {
		struct paella__notify_class cls = paella__notify_plan(n);
		uint32_t shards = paella__notify_class_shards(cls);
		uint64_t posts = paella__notify_posts(n, cls);
		uint64_t lo = n < PAELLA_NOTIFY_POSTS_PER_GRID ? n : PAELLA_NOTIFY_POSTS_PER_GRID;

		ck_assert(shards >= 1 && shards <= PAELLA_NOTIFY_SHARDS_MAX);
		ck_assert((shards & (shards - 1)) == 0);
		ck_assert(((uint64_t)cls.post_mask & ((uint64_t)cls.post_mask + 1)) == 0);
		ck_assert_msg(posts >= lo && posts < 2 * PAELLA_NOTIFY_POSTS_PER_GRID + shards,
			      "%llu blocks post %llu times",
			      (unsigned long long)n, (unsigned long long)posts);
		/* Every shard has a block once the grid is large enough. */
		if (n >= PAELLA_NOTIFY_SHARDS_MAX)
			ck_assert_uint_eq(shards, PAELLA_NOTIFY_SHARDS_MAX);
		n = n < 100 ? n + 1 : n + n / 3 + 1;
	}
}
END_TEST

PAELLA_TEST(notify_shard_blocks_exact)
{
	static const uint64_t grids[] = { 1, 2, 3, 7, 63, 65, 129, 999, 1001, 4097, 65535 };

	for (size_t g = 0; g < sizeof(grids) / sizeof(grids[0]); g++) {
		for (uint32_t shards = 1; shards <= PAELLA_MAX_SHARDS; shards *= 2) {
			uint64_t sum = 0;

			for (uint32_t s = 0; s < shards; s++) {
				uint64_t brute = 0, c;

				for (uint64_t b = 0; b < grids[g]; b++)
					brute += (b & (shards - 1)) == s;
				c = paella__notify_shard_blocks(grids[g], shards, s);
				ck_assert_uint_eq(c, brute);
				sum += c;
			}
			ck_assert_uint_eq(sum, grids[g]);
		}
	}
	/* Large odd grids: the counts still add up. */
	for (uint32_t shards = 1; shards <= 64; shards *= 2) {
		uint64_t big[] = { 262143, 262145, PAELLA_NOTIFY_MAX_BLOCKS };

		for (size_t i = 0; i < 3; i++) {
			uint64_t sum = 0;

			for (uint32_t s = 0; s < shards; s++)
				sum += paella__notify_shard_blocks(big[i], shards, s);
			ck_assert_uint_eq(sum, big[i]);
		}
	}
}
END_TEST

/* ---- progress from slot values ------------------------------------------ */

/*
 * Runs one simulated launch of @nblocks on @t, whose bases equal @counters:
 * blocks finish in random order, posts land late and out of order (a smaller
 * post may land after a larger one), and after every step the progress must
 * be monotone, at most the blocks really finished, and at most the grid.
 */
static void
simulate_launch(struct paella__notify_track *t, const struct paella__notify_class *cls,
		uint32_t *counters, uint32_t *slots, uint64_t nblocks)
{
	uint32_t shards = t->shards;
	uint32_t *order = malloc(nblocks * sizeof(*order));
	struct post *inflight = malloc(nblocks * sizeof(*inflight));
	size_t ninflight = 0;
	uint64_t finished = 0, last = 0, p;

	ck_assert_ptr_nonnull(order);
	ck_assert_ptr_nonnull(inflight);
	for (uint32_t s = 0; s < shards; s++)
		slots[s] = t->base[s];
	paella__notify_track_start(t, nblocks);
	for (uint64_t i = 0; i < nblocks; i++)
		order[i] = (uint32_t)i;
	shuffle_u32(order, nblocks);

	for (uint64_t i = 0; i < nblocks || ninflight > 0;) {
		uint64_t r = rng() % 4;

		if (i < nblocks && (r < 2 || ninflight == 0)) {
			if (block_exit(cls, shards, counters, nblocks, order[i],
				       &inflight[ninflight]))
				ninflight++;
			finished++;
			i++;
		} else {
			/* Land a random in-flight post, not the oldest. */
			size_t k = rng() % ninflight;

			slots[inflight[k].shard] = inflight[k].value;
			inflight[k] = inflight[--ninflight];
		}
		p = paella__notify_track_update(t, slots);
		ck_assert_msg(p >= last, "progress went back from %llu to %llu",
			      (unsigned long long)last, (unsigned long long)p);
		ck_assert_msg(p <= finished, "progress %llu ahead of %llu finished blocks",
			      (unsigned long long)p, (unsigned long long)finished);
		ck_assert(p <= nblocks);
		last = p;
	}
	/* Every shard's last block posted, but not necessarily the final
	 * count: only the completion word is exact. */
	ck_assert(last <= nblocks);
	for (uint32_t s = 0; s < shards; s++)
		ck_assert_uint_eq((uint32_t)(counters[s] - t->base[s]), t->count[s]);
	paella__notify_track_finish(t);
	for (uint32_t s = 0; s < shards; s++)
		ck_assert_uint_eq(t->base[s], counters[s]);
	free(order);
	free(inflight);
}

PAELLA_TEST(notify_progress_simulated)
{
	static const uint64_t grids[] = { 1, 2, 7, 64, 65, 300, 1000, 4099, 70001 };

	for (size_t g = 0; g < sizeof(grids) / sizeof(grids[0]); g++) {
		struct paella__notify_class cls = paella__notify_plan(grids[g]);
		uint32_t shards = paella__notify_class_shards(cls);
		uint32_t counters[PAELLA_NOTIFY_SHARDS_MAX] = { 0 };
		uint32_t slots[PAELLA_NOTIFY_SHARDS_MAX] = { 0 };
		struct paella__notify_track t;

		paella__notify_track_init(&t, shards);
		/* Several launches of the same class on one record: the
		 * counters keep going, the bases follow. */
		for (int launch = 0; launch < 3; launch++)
			simulate_launch(&t, &cls, counters, slots, grids[g]);
	}
}
END_TEST

PAELLA_TEST(notify_progress_wraps)
{
	struct paella__notify_class cls = paella__notify_plan(5000);
	uint32_t shards = paella__notify_class_shards(cls);
	uint32_t counters[PAELLA_NOTIFY_SHARDS_MAX];
	uint32_t slots[PAELLA_NOTIFY_SHARDS_MAX];
	struct paella__notify_track t;

	paella__notify_track_init(&t, shards);
	/* Counters a few blocks short of 2^32: this launch wraps them. */
	for (uint32_t s = 0; s < shards; s++) {
		counters[s] = UINT32_MAX - 20 + s % 7;
		t.base[s] = counters[s];
	}
	simulate_launch(&t, &cls, counters, slots, 5000);
	simulate_launch(&t, &cls, counters, slots, 5000);
}
END_TEST

PAELLA_TEST(notify_progress_all_posts_sum_to_grid)
{
	const uint64_t n = 1001;
	struct paella__notify_class cls = paella__notify_plan(n);
	uint32_t shards = paella__notify_class_shards(cls);
	uint32_t slots[PAELLA_NOTIFY_SHARDS_MAX];
	struct paella__notify_track t;

	paella__notify_track_init(&t, shards);
	for (uint32_t s = 0; s < shards; s++)
		t.base[s] = 0xfffffff0u + s;
	paella__notify_track_start(&t, n);
	for (uint32_t s = 0; s < shards; s++)
		slots[s] = t.base[s];
	ck_assert_uint_eq(paella__notify_track_update(&t, slots), 0);
	/* Each shard's final count, with uint32 wrap for most of them. */
	for (uint32_t s = 0; s < shards; s++)
		slots[s] = t.base[s] + (uint32_t)paella__notify_shard_blocks(n, shards, s);
	ck_assert_uint_eq(paella__notify_track_update(&t, slots), n);
	/* A stale smaller post landing afterwards changes nothing. */
	slots[3] -= 2;
	ck_assert_uint_eq(paella__notify_track_update(&t, slots), n);
}
END_TEST

PAELLA_TEST(notify_progress_ignores_previous_launch)
{
	const uint64_t n = 640;
	struct paella__notify_class cls = paella__notify_plan(n);
	uint32_t shards = paella__notify_class_shards(cls);
	uint32_t slots[PAELLA_NOTIFY_SHARDS_MAX];
	struct paella__notify_track t;

	paella__notify_track_init(&t, shards);
	paella__notify_track_start(&t, n);
	paella__notify_track_finish(&t);
	/* Second launch: slots reset to the new bases (10 per shard)... */
	paella__notify_track_start(&t, n);
	for (uint32_t s = 0; s < shards; s++) {
		ck_assert_uint_eq(t.base[s], 10);
		slots[s] = t.base[s];
	}
	/* ...then late posts of the first launch land (values 1 to 10). */
	for (uint32_t s = 0; s < shards; s++)
		slots[s] = 1 + s % 10;
	ck_assert_uint_eq(paella__notify_track_update(&t, slots), 0);
	/* A value past this launch's count is garbage, not progress. */
	slots[0] = t.base[0] + 11;
	ck_assert_uint_eq(paella__notify_track_update(&t, slots), 0);
	slots[0] = t.base[0] + 4;
	ck_assert_uint_eq(paella__notify_track_update(&t, slots), 4);
}
END_TEST

/* ---- records on the fake driver ----------------------------------------- */

static struct paella__cu *cu;
static struct paella__notify_pool *pool;
static void (*fake_flush)(void);
static void *fake_handle;

static void
fake_setup(void)
{
	const char *path = getenv("PAELLA_TEST_FAKE_LIBCUDA");

	ck_assert_msg(path != NULL, "meson sets PAELLA_TEST_FAKE_LIBCUDA");
	setenv("PAELLA_LIBCUDA", path, 1);
	setenv("FAKE_CUDA_DEFER_WRITES", "1", 1);
	unsetenv("FAKE_CUDA_FAIL");
	ck_assert_int_eq(paella__cu_open(&cu), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__notify_pool_create(cu, &pool), PAELLA_STATUS_OK);
	/* The same library object the runtime loaded: its deferred writes. */
	fake_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_ptr_nonnull(fake_handle);
	*(void **)&fake_flush = dlsym(fake_handle, "fake_cuda_flush");
	ck_assert_ptr_nonnull(fake_flush);
}

static void
fake_teardown(void)
{
	paella__notify_pool_destroy(pool);
	pool = NULL;
	paella__cu_close(cu);
	cu = NULL;
	dlclose(fake_handle);
}

/* Plays a whole grid on a record's "device" memory, reading the header as
 * the epilogue would; posts land in random order after all blocks ran,
 * checking the progress after each. */
static void
play_grid(struct paella__notify_record *rec, uint64_t nblocks)
{
	const CUdeviceptr *param = paella__notify_kernel_param(rec);
	struct paella_launch_record *r = (struct paella_launch_record *)(uintptr_t)*param;
	struct paella__notify_class cls = { r->shard_shift, r->post_mask };
	uint32_t shards = r->shard_mask + 1;
	uint32_t *host = (uint32_t *)(uintptr_t)r->host_counts;
	uint32_t counters[PAELLA_NOTIFY_SHARDS_MAX];
	struct post *posts = malloc(nblocks * sizeof(*posts));
	size_t nposts = 0;
	uint64_t last = 0;

	ck_assert_ptr_nonnull(posts);
	ck_assert_uint_eq(shards, 1u << r->shard_shift);
	for (uint32_t s = 0; s < shards; s++)
		counters[s] = r->counters[s * PAELLA_COUNTER_STRIDE_WORDS];
	for (uint32_t id = 0; id < nblocks; id++)
		if (block_exit(&cls, shards, counters, nblocks, id, &posts[nposts]))
			nposts++;
	for (uint32_t s = 0; s < shards; s++)
		r->counters[s * PAELLA_COUNTER_STRIDE_WORDS] = counters[s];
	ck_assert_uint_eq(nposts, paella__notify_posts(nblocks, cls));
	while (nposts > 0) {
		size_t k = rng() % nposts;
		uint64_t p;

		host[posts[k].shard] = posts[k].value;
		posts[k] = posts[--nposts];
		p = paella__notify_progress(rec);
		ck_assert(p >= last && p <= nblocks);
		last = p;
	}
	free(posts);
}

PAELLA_TEST(notify_record_header)
{
	struct paella__notify_record *rec;
	struct paella_launch_record *r;
	struct paella__notify_class cls = paella__notify_plan(262144);

	ck_assert_int_eq(paella__notify_acquire(pool, 262144, PAELLA__NOTIFY_COUNT, 0, &rec), PAELLA_STATUS_OK);
	r = (struct paella_launch_record *)(uintptr_t)*paella__notify_kernel_param(rec);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->shard_mask, paella__notify_class_shards(cls) - 1);
	ck_assert_uint_eq(r->shard_shift, cls.shard_shift);
	ck_assert_uint_eq(r->post_mask, cls.post_mask);
	ck_assert(r->host_counts != 0);
	for (uint32_t i = 0; i < PAELLA_MAX_SHARDS * PAELLA_COUNTER_STRIDE_WORDS; i++)
		ck_assert_uint_eq(r->counters[i], 0);
	paella__notify_cancel(rec);
}
END_TEST

PAELLA_TEST(notify_record_launches)
{
	static const uint64_t grids[] = { 1, 7, 1000, 1000, 7, 4097, 1000 };
	struct paella__notify_record *rec;
	uint64_t total;

	for (size_t g = 0; g < sizeof(grids) / sizeof(grids[0]); g++) {
		uint64_t n = grids[g];

		ck_assert_int_eq(paella__notify_acquire(pool, n, PAELLA__NOTIFY_COUNT, 0, &rec), PAELLA_STATUS_OK);
		ck_assert_int_eq(paella__notify_enqueue_completion(rec, NULL), PAELLA_STATUS_OK);
		ck_assert(!paella__notify_done(rec));
		ck_assert_uint_eq(paella__notify_progress(rec), 0);
		play_grid(rec, n);
		/* All blocks ran; the posts alone may or may not show it. */
		ck_assert_int_eq(paella__notify_read_counters(rec, &total, NULL), PAELLA_STATUS_OK);
		ck_assert_uint_eq(total, n);
		fake_flush();
		ck_assert(paella__notify_done(rec));
		ck_assert_uint_eq(paella__notify_progress(rec), n);
		paella__notify_release(rec);
	}
	/* One record per class: 1, 7, 1000 and 4097 blocks. */
	ck_assert_uint_eq(paella__notify_pool_records(pool), 4);
}
END_TEST

PAELLA_TEST(notify_record_done_from_posts)
{
	const uint64_t n = 64;
	struct paella__notify_record *rec;

	/* Every block posts, each shard one block: the posts are exact and
	 * show completion before the completion word does. */
	ck_assert_int_eq(paella__notify_acquire(pool, n, PAELLA__NOTIFY_COUNT, 0, &rec), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__notify_enqueue_completion(rec, NULL), PAELLA_STATUS_OK);
	play_grid(rec, n);
	ck_assert(paella__notify_done(rec));
	paella__notify_release(rec);
	/* The late completion write of that launch lands during the next
	 * one: not taken for the next one's completion. */
	ck_assert_int_eq(paella__notify_acquire(pool, n, PAELLA__NOTIFY_COUNT, 0, &rec), PAELLA_STATUS_OK);
	fake_flush();
	ck_assert(!paella__notify_done(rec));
	ck_assert_int_eq(paella__notify_enqueue_completion(rec, NULL), PAELLA_STATUS_OK);
	fake_flush();
	ck_assert(paella__notify_done(rec));
	paella__notify_release(rec);
}
END_TEST

PAELLA_TEST(notify_record_uninstrumented)
{
	struct paella__notify_record *rec;
	uint64_t total;

	ck_assert_int_eq(paella__notify_acquire(pool, 500, PAELLA__NOTIFY_NONE, 0, &rec), PAELLA_STATUS_OK);
	ck_assert(!paella__notify_instrumented(rec));
	ck_assert(*paella__notify_kernel_param(rec) == 0);
	ck_assert_int_eq(paella__notify_enqueue_completion(rec, NULL), PAELLA_STATUS_OK);
	ck_assert(!paella__notify_done(rec));
	ck_assert_uint_eq(paella__notify_progress(rec), 0);
	ck_assert_int_eq(paella__notify_read_counters(rec, &total, NULL),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	fake_flush();
	ck_assert(paella__notify_done(rec));
	ck_assert_uint_eq(paella__notify_progress(rec), 500);
	paella__notify_release(rec);
}
END_TEST

PAELLA_TEST(notify_record_bad_grid)
{
	struct paella__notify_record *rec;

	ck_assert_int_eq(paella__notify_acquire(pool, 0, PAELLA__NOTIFY_COUNT, 0, &rec),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(rec);
	ck_assert_int_eq(paella__notify_acquire(pool, (uint64_t)PAELLA_NOTIFY_MAX_BLOCKS + 1,
						PAELLA__NOTIFY_COUNT, 0, &rec),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_msg(strstr(paella__error_last(), "blocks") != NULL, "%s", paella__error_last());
}
END_TEST

PAELLA_TEST(notify_record_alloc_fails)
{
	struct paella__notify_record *rec;

	setenv("FAKE_CUDA_FAIL", "cuMemAlloc", 1);
	ck_assert_int_eq(paella__notify_acquire(pool, 100, PAELLA__NOTIFY_COUNT, 0, &rec), PAELLA_STATUS_NO_MEMORY);
	ck_assert_ptr_null(rec);
	ck_assert_msg(strstr(paella__error_last(), "FAKE_CUDA_ERROR_OUT_OF_MEMORY") != NULL,
		      "%s", paella__error_last());
	ck_assert_uint_eq(paella__notify_pool_records(pool), 0);
	unsetenv("FAKE_CUDA_FAIL");
	ck_assert_int_eq(paella__notify_acquire(pool, 100, PAELLA__NOTIFY_COUNT, 0, &rec), PAELLA_STATUS_OK);
	paella__notify_cancel(rec);
}
END_TEST

PAELLA_SIGNAL_TEST(notify_record_release_running_aborts, SIGABRT)
{
	struct paella__notify_record *rec;

	ck_assert_int_eq(paella__notify_acquire(pool, 5000, PAELLA__NOTIFY_COUNT, 0, &rec), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__notify_enqueue_completion(rec, NULL), PAELLA_STATUS_OK);
	paella__notify_release(rec); /* not done: must abort */
}
END_TEST

/* ---- sample mode ------------------------------------------------------- */

PAELLA_TEST(notify_sample_tag_rule)
{
	static const uint64_t grids[] = { 1, 2, 31, 32, 100, 1055, 1056, 1057, 2112, 4096,
					  5000, 65536, 262144, 1000003, UINT32_MAX };
	static const uint64_t waves[] = { 0, 1, 132, 1056, 2112, 8448 };

	for (size_t g = 0; g < sizeof(grids) / sizeof(grids[0]); g++) {
		for (size_t w = 0; w < sizeof(waves) / sizeof(waves[0]); w++) {
			uint64_t n = grids[g], wave = waves[w] ? waves[w]
							      : PAELLA_NOTIFY_DEFAULT_WAVE_BLOCKS;
			uint32_t tag = paella__notify_sample_tag(n, waves[w]);
			uint64_t interval = UINT64_C(1) << tag;
			uint64_t reports = paella__notify_sample_reports(n, tag);

			ck_assert_uint_le(tag, 31);
			/* The silent tail covers a wave, or the interval is
			 * as large as it may be. */
			ck_assert(PAELLA_SAMPLE_TAIL_INTERVALS * interval >= wave || tag == 31);
			/* A few dozen reports at most. */
			ck_assert_uint_lt(reports, 2 * PAELLA_NOTIFY_SAMPLES_PER_GRID);
			/* No report from the last wave. */
			if (reports > 0) {
				uint64_t last = (reports - 1) * interval + interval - 1;

				ck_assert_uint_le(last + wave, n - 1);
			}
			/* A grid of a wave or less never reports. */
			if (n <= wave)
				ck_assert_uint_eq(reports, 0);
		}
	}
}
END_TEST

PAELLA_TEST(notify_sample_reports_brute_force)
{
	for (uint64_t n = 1; n < 600; n += 7) {
		for (uint32_t tag = 0; tag < 7; tag++) {
			uint64_t mask = (UINT64_C(1) << tag) - 1, count = 0;

			for (uint64_t b = 0; b < n; b++)
				if ((b & mask) == mask &&
				    b + (PAELLA_SAMPLE_TAIL_INTERVALS << tag) < n)
					count++;
			ck_assert_uint_eq(paella__notify_sample_reports(n, tag), count);
		}
	}
}
END_TEST

/* Where the completion kernel cannot run (here: the fake driver has no
 * cuLaunchKernelEx and takes no PTX; a pre-Hopper GPU refuses the PTX),
 * completions after kernels go by the write-value, and still arrive. */
PAELLA_TEST(notify_kernel_completion_falls_back)
{
	struct paella__completion_kernels ck = { 0 };
	struct paella__notify_record *rec;

	paella__ptx_module_init(&ck.ptx, cu);
	ck_assert_int_eq(paella__notify_acquire(pool, 64, PAELLA__NOTIFY_SAMPLE, 0, &rec),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__completion_enqueue(&ck, rec, NULL, false), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__completion_kind(&ck), PAELLA__COMPLETION_WRITE_VALUE);
	ck_assert(!paella__notify_done(rec));
	fake_flush();
	ck_assert(paella__notify_done(rec));
	paella__notify_release(rec);
	paella__ptx_module_fini(&ck.ptx);
}
END_TEST

/* Where it loads, the completion kernel signals in stream order, as the
 * write-value would: not before the stream gets there. */
PAELLA_TEST(notify_kernel_completion_by_kernel)
{
	struct paella__completion_kernels ck = { 0 };
	struct paella__notify_record *rec;
	unsigned (*launches)(void);

	*(void **)&launches = dlsym(fake_handle, "fake_cuda_completion_launches");
	ck_assert_ptr_nonnull(launches);
	paella__ptx_module_init(&ck.ptx, cu);
	setenv("FAKE_CUDA_PTX_COMPLETION", "1", 1);
	ck_assert_int_eq(paella__completion_kind(&ck), PAELLA__COMPLETION_KERNEL);
	unsetenv("FAKE_CUDA_PTX_COMPLETION");
	for (int i = 0; i < 3; i++) {
		unsigned before = launches();

		ck_assert_int_eq(paella__notify_acquire(pool, 4096, PAELLA__NOTIFY_SAMPLE, 1056, &rec),
				 PAELLA_STATUS_OK);
		ck_assert_int_eq(paella__completion_enqueue(&ck, rec, NULL, i == 1),
				 PAELLA_STATUS_OK);
		ck_assert_uint_eq(launches() - before, 1);
		ck_assert(!paella__notify_done(rec));
		fake_flush();
		ck_assert(paella__notify_done(rec));
		ck_assert_uint_eq(paella__notify_progress(rec), 4096);
		paella__notify_release(rec);
	}
	paella__ptx_module_fini(&ck.ptx);
}
END_TEST

PAELLA_TEST(notify_config_environment)
{
	struct paella_config c;

	/* The environment is read by paella_config_init() alone. */
	setenv("PAELLA_COMPLETION", "write-value", 1);
	setenv("PAELLA_PLAIN_COPIES", "0", 1);
	setenv("PAELLA_PROGRESS", "reports", 1);
	paella_config_init(&c);
	ck_assert_uint_eq(c.completion_kernel_ns, UINT64_MAX);
	ck_assert(!c.plain_copies);
	ck_assert_int_eq(c.progress, PAELLA_PROGRESS_REPORTS);
	setenv("PAELLA_PROGRESS", "none", 1);
	setenv("PAELLA_PLAIN_COPIES", "yes", 1);
	paella_config_init(&c);
	ck_assert_int_eq(c.progress, PAELLA_PROGRESS_NONE);
	ck_assert(c.plain_copies);
	unsetenv("PAELLA_COMPLETION");
	unsetenv("PAELLA_PLAIN_COPIES");
	unsetenv("PAELLA_PROGRESS");
	paella_config_init(&c);
	ck_assert_uint_eq(c.completion_kernel_ns, 20000);
	ck_assert_int_eq(c.progress, PAELLA_PROGRESS_NONE);
}
END_TEST

PAELLA_TEST(notify_sample_record)
{
	const uint64_t n = 262144, wave = 1056;
	struct paella__notify_record *rec;
	struct paella_launch_record *r;
	uint32_t tag = paella__notify_sample_tag(n, wave);
	uint64_t mask = (UINT64_C(1) << tag) - 1, last = 0, reports = 0;
	CUdeviceptr param;
	uint32_t *host;

	for (int launch = 0; launch < 2; launch++) {
		ck_assert_int_eq(paella__notify_acquire(pool, n, PAELLA__NOTIFY_SAMPLE, wave, &rec),
				 PAELLA_STATUS_OK);
		ck_assert_int_eq(paella__notify_record_mode(rec), PAELLA__NOTIFY_SAMPLE);
		ck_assert(paella__notify_instrumented(rec));
		ck_assert_uint_eq(paella__notify_record_tag(rec), tag);
		param = *paella__notify_kernel_param(rec);
		ck_assert_uint_eq(param & PAELLA_RECORD_TAG_MASK, tag);
		ck_assert_uint_eq((param - tag) % PAELLA_RECORD_ALIGN, 0);
		r = (struct paella_launch_record *)(uintptr_t)(param - tag);
		host = (uint32_t *)(uintptr_t)r->host_counts;
		ck_assert_ptr_nonnull(host);
		/* Reset for the launch, whatever the last one left. */
		ck_assert_uint_eq(host[0], 0);
		ck_assert_int_eq(paella__notify_enqueue_completion(rec, NULL), PAELLA_STATUS_OK);
		ck_assert_uint_eq(paella__notify_progress(rec), 0);
		/* The device's rule, block by block. */
		last = 0;
		reports = 0;
		for (uint64_t b = 0; b < n; b++) {
			if ((b & mask) != mask || b + (PAELLA_SAMPLE_TAIL_INTERVALS << tag) >= n)
				continue;
			host[0] = (uint32_t)b + 1;
			reports++;
			/* Started, less a wave: a lower bound on the ended. */
			ck_assert_uint_eq(paella__notify_progress(rec), b + 1 > wave ? b + 1 - wave : 0);
			ck_assert(!paella__notify_done(rec));
			last = b + 1;
		}
		ck_assert_uint_eq(reports, paella__notify_sample_reports(n, tag));
		ck_assert_uint_gt(reports, 0);
		/* A stale, lower store does not move it back. */
		host[0] = 1;
		ck_assert_uint_eq(paella__notify_progress(rec), last - wave);
		/* Only the stream says it is done. */
		ck_assert_uint_lt(last, n);
		fake_flush();
		ck_assert(paella__notify_done(rec));
		ck_assert_uint_eq(paella__notify_progress(rec), n);
		ck_assert_int_eq(paella__notify_read_counters(rec, &last, NULL),
				 PAELLA_STATUS_INVALID_ARGUMENT);
		paella__notify_release(rec);
	}
	/* Any grid reuses the one sample record. */
	ck_assert_int_eq(paella__notify_acquire(pool, 10, PAELLA__NOTIFY_SAMPLE, 0, &rec),
			 PAELLA_STATUS_OK);
	ck_assert_uint_eq(paella__notify_pool_records(pool), 1);
	ck_assert_uint_eq(paella__notify_sample_reports(10, paella__notify_record_tag(rec)), 0);
	paella__notify_cancel(rec);
}
END_TEST

/* The marker variants as ptxas builds them for sm_90. */
static const unsigned variant_regs[] = { 32, 48, 64, 96, 128, 168, 254 };
#define NVARIANTS (sizeof(variant_regs) / sizeof(variant_regs[0]))
/* What a block of each may have: 64 Ki registers an SM, in warps. */
static const unsigned variant_max[] = { 1024, 1024, 1024, 640, 512, 384, 256 };
static const unsigned any_max[] = { 1024, 1024, 1024, 1024, 1024, 1024, 1024 };

PAELLA_TEST(notify_marker_shape_rule)
{
	struct paella__marker_shape m;

	/* Exactly a variant: same threads, that variant. */
	ck_assert(paella__marker_choose_shape(256, 32, variant_regs, variant_max, NVARIANTS, &m));
	ck_assert_uint_eq(variant_regs[m.variant], 32);
	ck_assert_uint_eq(m.threads, 256);
	ck_assert(paella__marker_choose_shape(128, 128, variant_regs, variant_max, NVARIANTS, &m));
	ck_assert_uint_eq(m.threads * variant_regs[m.variant], 128 * 128);
	/* Few registers: the smallest variant, never fewer warps. */
	ck_assert(paella__marker_choose_shape(64, 10, variant_regs, variant_max, NVARIANTS, &m));
	ck_assert_uint_eq(m.threads, 64);
	/* A partial warp counts whole. */
	ck_assert(paella__marker_choose_shape(33, 32, variant_regs, variant_max, NVARIANTS, &m));
	ck_assert_uint_eq(m.threads, 64);
	/* 256 threads of 255 registers (the whole register file): only the
	 * largest variant fits. */
	ck_assert(paella__marker_choose_shape(256, 255, variant_regs, variant_max, NVARIANTS, &m));
	ck_assert_uint_eq(variant_regs[m.variant], 254);
	ck_assert_uint_eq(m.threads, 256);
	/* 1,024 threads of 64: the 64-register variant, not the 254 one,
	 * whose blocks hold 256 threads at most. */
	ck_assert(paella__marker_choose_shape(1024, 64, variant_regs, variant_max, NVARIANTS, &m));
	ck_assert_uint_eq(variant_regs[m.variant], 64);
	ck_assert_uint_eq(m.threads, 1024);
	/* More than any block can hold: none fits. */
	ck_assert(!paella__marker_choose_shape(1024, 255, variant_regs, variant_max, NVARIANTS, &m));
	/* Without the largest variant, even with no thread limit, none covers
	 * it: 32 warps of 32 register units need 49 warps of the 168 one. */
	ck_assert(!paella__marker_choose_shape(1024, 255, variant_regs, any_max, NVARIANTS - 1, &m));
	ck_assert(!paella__marker_choose_shape(0, 32, variant_regs, variant_max, NVARIANTS, &m));
	/* Every shape: warps and register units at least the block's, threads
	 * within the limit, and the footprint the least any variant gives. */
	for (unsigned t = 32; t <= 1024; t += 32) {
		for (unsigned r = 1; r <= 255; r++) {
			unsigned kw = (t + 31) / 32, ku = (r + 7) / 8, mw, mu;

			if (!paella__marker_choose_shape(t, r, variant_regs, variant_max, NVARIANTS, &m)) {
				/* Only for a block more than an SM's registers. */
				ck_assert_uint_gt(kw * ku, 65536 / 256);
				continue;
			}
			mw = m.threads / 32;
			mu = (variant_regs[m.variant] + 7) / 8;
			ck_assert_uint_eq(m.threads % 32, 0);
			ck_assert_uint_le(m.threads, variant_max[m.variant]);
			ck_assert_uint_ge(mw, kw);
			ck_assert_uint_ge(mw * mu, kw * ku);
			for (unsigned v = 0; v < NVARIANTS; v++) {
				unsigned u = (variant_regs[v] + 7) / 8;
				unsigned w = (kw * ku + u - 1) / u;

				if (w < kw)
					w = kw;
				if (w * 32 <= variant_max[v])
					ck_assert_uint_le(mw * mu, w * u);
			}
		}
	}
}
END_TEST

/* Marker mode: progress is 0 until this launch's marker stores its number,
 * then the grid less a wave; done only from the stream; a marker of an
 * earlier launch of the record counts for nothing. */
PAELLA_TEST(notify_marker_record)
{
	const uint64_t n = 65536, wave = 1056;
	struct paella__notify_record *rec, *again;
	struct paella__marker_launch m;
	struct paella__markers mk = { 0 };
	unsigned (*launches)(void), (*threads)(void), (*smem)(void);

	*(void **)&launches = dlsym(fake_handle, "fake_cuda_marker_launches");
	*(void **)&threads = dlsym(fake_handle, "fake_cuda_marker_last_threads");
	*(void **)&smem = dlsym(fake_handle, "fake_cuda_marker_last_smem");
	ck_assert_ptr_nonnull(launches);
	ck_assert_ptr_nonnull(threads);
	ck_assert_ptr_nonnull(smem);

	/* Where the PTX does not load: unsupported, with a message. */
	paella__ptx_module_init(&mk.ptx, cu);
	ck_assert_int_eq(paella__marker_plan(&mk, 256, 32, 0, &m), PAELLA_STATUS_UNSUPPORTED);
	paella__ptx_module_fini(&mk.ptx);
	memset(&mk, 0, sizeof(mk));
	paella__ptx_module_init(&mk.ptx, cu);
	setenv("FAKE_CUDA_PTX_MARKER", "1", 1);
	ck_assert_int_eq(paella__marker_plan(&mk, 256, 40, 4096, &m), PAELLA_STATUS_OK);
	unsetenv("FAKE_CUDA_PTX_MARKER");
	ck_assert_uint_eq(m.smem, 4096);
	ck_assert_uint_ge(m.threads, 256);

	ck_assert_int_eq(paella__notify_acquire(pool, n, PAELLA__NOTIFY_MARKER, wave, &rec),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__notify_record_mode(rec), PAELLA__NOTIFY_MARKER);
	ck_assert(!paella__notify_instrumented(rec));
	ck_assert_int_eq(paella__notify_enqueue_completion(rec, NULL), PAELLA_STATUS_OK);
	ck_assert_uint_eq(paella__notify_progress(rec), 0);
	ck_assert(!paella__notify_marker_seen(rec));
	ck_assert_int_eq(paella__marker_enqueue(&mk, rec, NULL, &m), PAELLA_STATUS_OK);
	ck_assert_uint_eq(launches(), 1);
	ck_assert_uint_eq(threads(), m.threads);
	ck_assert_uint_eq(smem(), 4096);
	ck_assert(paella__notify_marker_seen(rec));
	ck_assert_uint_eq(paella__notify_progress(rec), n - wave);
	ck_assert(!paella__notify_done(rec));
	fake_flush();
	ck_assert(paella__notify_done(rec));
	ck_assert_uint_eq(paella__notify_progress(rec), n);
	paella__notify_release(rec);

	/* The same record again: the last launch's marker word says nothing. */
	ck_assert_int_eq(paella__notify_acquire(pool, n, PAELLA__NOTIFY_MARKER, wave, &again),
			 PAELLA_STATUS_OK);
	ck_assert_ptr_eq(again, rec);
	ck_assert_uint_eq(paella__notify_progress(again), 0);
	ck_assert(!paella__notify_marker_seen(again));
	ck_assert_int_eq(paella__notify_enqueue_completion(again, NULL), PAELLA_STATUS_OK);
	fake_flush();
	ck_assert(paella__notify_done(again));
	paella__notify_release(again);

	/* The fake's variants all allow 1,024 threads; a block of 2,048 none. */
	ck_assert_int_eq(paella__marker_plan(&mk, 1024, 255, 0, &m), PAELLA_STATUS_OK);
	ck_assert_uint_eq(m.threads, 1024);
	ck_assert_int_eq(paella__marker_plan(&mk, 2048, 32, 0, &m), PAELLA_STATUS_UNSUPPORTED);
	paella__ptx_module_fini(&mk.ptx);
}
END_TEST

PAELLA_TEST(notify_marker_rule)
{
	/* More than a wave, and the wave known. */
	ck_assert(paella__notify_use_tail_marker(65536, 1056));
	ck_assert(!paella__notify_use_tail_marker(1056, 1056));
	ck_assert(!paella__notify_use_tail_marker(65536, 0));
}
END_TEST

PAELLA_TEST(notify_marker_grids)
{
	/* More than a wave, wave known: a marker; else not. */
	ck_assert(paella__notify_use_tail_marker(1057, 1056));
	ck_assert(!paella__notify_use_tail_marker(1056, 1056));
	ck_assert(!paella__notify_use_tail_marker(65536, 0));
}
END_TEST

PAELLA_CHECK_MAIN("notify", 60, fake_setup, fake_teardown)
