/*
 * notify.h - the host side of the instrumentation ABI: launch records, and
 * the progress and completion of the launches that use them.  Private.
 *
 * See paella/instrument-abi.h for what an instrumented kernel does with its
 * record.  A record's header (shard count, post mask) is written once when the
 * record is made, so records come in classes and a launch takes a free record
 * of the class that paella__notify_plan() picks for its grid.
 *
 * A launch goes out through paella__launch() (launch.h), which takes the
 * record, passes it to the kernel and arranges its completion signal; then,
 * from one thread:
 *	while (!paella__notify_done(rec))
 *		p = paella__notify_progress(rec);
 *	paella__notify_release(rec);
 *
 * Count mode: counters are never reset on the device.  For each shard s a record keeps
 * base[s], the blocks shard s received in the record's earlier launches; a
 * post of value v in this launch means v - base[s] of its blocks finished
 * (uint32 arithmetic: wrap-around is harmless).
 *
 * The arithmetic (planning, shard counts, bases, progress from slot values)
 * is in pure functions with no driver calls, so unit tests cover it.
 */
#ifndef PAELLA_NOTIFY_H
#define PAELLA_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "cuda-driver.h"
#include "paella/instrument-abi.h"

/* ---- tuning: a later benchmark sets these ------------------------------ */

/* Most shards (separate counters) a launch uses.  More spread the blocks'
 * atomics over more lines; each is one more slot the CPU reads per poll.
 * 64 cost +6% on the 262,144-block vector add with fire-and-forget
 * reductions (DESIGN.md, hardware costs).  A power of two, at most PAELLA_MAX_SHARDS. */
#ifndef PAELLA_NOTIFY_SHARDS_MAX
#define PAELLA_NOTIFY_SHARDS_MAX 64u
#endif

/* How many posts to host memory a launch makes, at least (and fewer than
 * twice this many), once its grid has this many blocks; a smaller grid posts
 * from every block.  256 posts of a 262,144-block grid are one every 1,024
 * blocks: about once per wave on a 132-SM card. */
#define PAELLA_NOTIFY_POSTS_PER_GRID 256u

/* Largest grid a record can count: block ids and counters are 32-bit. */
#define PAELLA_NOTIFY_MAX_BLOCKS UINT32_MAX

/* Sample mode: about how many reports a grid makes at most (between this
 * and twice this many, fewer when its last wave is a large part of it). */
#define PAELLA_NOTIFY_SAMPLES_PER_GRID 32u

/* Sample mode: the wave taken for a launch whose wave is unknown (about a
 * wave of 256-thread blocks on a 132-SM card). */
#define PAELLA_NOTIFY_DEFAULT_WAVE_BLOCKS 1024u

/* How a launch reports (the kernel's mode, from its module's manifest). */
enum paella__notify_mode {
	/* A kernel the pass left alone: completion from the stream only. */
	PAELLA__NOTIFY_NONE,
	/* Sampled high-water mark, no barrier or atomic; completion from the
	 * stream. */
	PAELLA__NOTIFY_SAMPLE,
	/* Exact per-block counts on sharded device counters. */
	PAELLA__NOTIFY_COUNT,
	/* The kernel's plain copy, no code in it; a one-block tail marker on
	 * a lower-priority stream says when its last blocks have started
	 * (marker.h); completion from the stream. */
	PAELLA__NOTIFY_MARKER,
};

static inline enum paella__notify_mode
paella__notify_mode_of(bool instrumented, bool counted)
{
	if (!instrumented)
		return PAELLA__NOTIFY_NONE;
	return counted ? PAELLA__NOTIFY_COUNT : PAELLA__NOTIFY_SAMPLE;
}

/* ---- pure arithmetic --------------------------------------------------- */

/*
 * Sample mode: the tag k for a grid of @nblocks blocks of which a wave holds
 * @wave_blocks (0: unknown, taken as PAELLA_NOTIFY_DEFAULT_WAVE_BLOCKS).  The interval 2^k is the larger of
 * a wave / PAELLA_SAMPLE_TAIL_INTERVALS, rounded up to a power of two (so the
 * unreported tail covers at least a wave), and nblocks /
 * PAELLA_NOTIFY_SAMPLES_PER_GRID, rounded down; at most 2^31.
 */
uint32_t
paella__notify_sample_tag(uint64_t nblocks, uint64_t wave_blocks);

/*
 * Whether a sample-mode launch of @nblocks blocks (a wave holding
 * @wave_blocks) should run the kernel's plain copy: the sampling rule picks
 * none of its blocks, so the instrumented code could only cost.  Whether
 * plain copies run at all is paella_config.plain_copies.
 */
bool
paella__notify_use_plain_copy(uint64_t nblocks, uint64_t wave_blocks);

/*
 * Whether a launch of @nblocks blocks (a wave holding @wave_blocks, which
 * must be known) should run its plain copy with a tail marker: a grid of
 * more than one wave (whether markers run at all is paella_config.progress).
 */
bool
paella__notify_use_tail_marker(uint64_t nblocks, uint64_t wave_blocks);

/* How many blocks of a grid of @nblocks report with tag @tag (the
 * epilogue's rule, counted without a loop). */
uint64_t
paella__notify_sample_reports(uint64_t nblocks, uint32_t tag);

struct paella__notify_class {
	/* shards = 1 << shard_shift */
	uint32_t shard_shift;
	/* A block posts when its index in its shard & post_mask == post_mask
	 * (or it is its shard's last); a power of two minus one. */
	uint32_t post_mask;
};

/* The class for a grid of @nblocks (1 to PAELLA_NOTIFY_MAX_BLOCKS):
 * shards = min(PAELLA_NOTIFY_SHARDS_MAX, next power of two >= nblocks),
 * post interval = largest power of two <= nblocks / POSTS_PER_GRID. */
struct paella__notify_class
paella__notify_plan(uint64_t nblocks);

static inline uint32_t
paella__notify_class_shards(struct paella__notify_class cls)
{
	return UINT32_C(1) << cls.shard_shift;
}

/* Blocks of a grid of @nblocks that shard @s of @shards receives: the ids
 * b < nblocks with b & (shards - 1) == s.  Exact for any nblocks. */
uint64_t
paella__notify_shard_blocks(uint64_t nblocks, uint32_t shards, uint32_t s);

/* How many blocks of such a grid post to host memory. */
uint64_t
paella__notify_posts(uint64_t nblocks, struct paella__notify_class cls);

/* What the CPU knows of one record's counters: the bases across launches,
 * and this launch's best progress. */
struct paella__notify_track {
	uint32_t shards;
	uint64_t nblocks;
	/* Sum of seen[]: blocks known finished in this launch. */
	uint64_t progress;
	/* Counter value of shard s before this launch. */
	uint32_t base[PAELLA_NOTIFY_SHARDS_MAX];
	/* Blocks shard s receives in this launch. */
	uint32_t count[PAELLA_NOTIFY_SHARDS_MAX];
	/* Most blocks of shard s seen finished in this launch: the largest
	 * post, so that a stale smaller post arriving late changes nothing. */
	uint32_t seen[PAELLA_NOTIFY_SHARDS_MAX];
};

/* A record fresh from the device: counters zero. */
void
paella__notify_track_init(struct paella__notify_track *t, uint32_t shards);

/* Starts a launch of @nblocks: counts per shard, nothing seen. */
void
paella__notify_track_start(struct paella__notify_track *t, uint64_t nblocks);

/* Folds the host slots' current values into the progress and returns it.
 * A slot value outside [base, base + count] is a stale post from an earlier
 * launch (or the base itself) and is ignored.  Never more than nblocks,
 * never less than the last call's. */
uint64_t
paella__notify_track_update(struct paella__notify_track *t,
			    const volatile uint32_t *slots);

/* After the launch completed: bases move past its blocks. */
void
paella__notify_track_finish(struct paella__notify_track *t);

/* ---- records on the device ------------------------------------------- */

/* Blocks of @f, @threads threads and @smem bytes of dynamic shared memory
 * each, that one wave of the current context's device holds; 0 when the
 * driver cannot say (no error is recorded). */
uint64_t
paella__notify_wave_blocks(const struct paella__cu *cu, CUfunction f, unsigned threads,
			   size_t smem);

struct paella__notify_pool;
struct paella__notify_record;

/* A pool of records; makes no driver call until the first acquire.  Every
 * call that touches the driver needs the context of the pool's launches
 * current in the calling thread. */
enum paella_status
paella__notify_pool_create(const struct paella__cu *cu,
			   struct paella__notify_pool **out);

/* Frees every record.  None may be in use (acquired and not released). */
void
paella__notify_pool_destroy(struct paella__notify_pool *pool);

/*
 * Takes a record for one launch of @nblocks blocks of a kernel that reports
 * in @mode, making one if none of its class is free; PAELLA__NOTIFY_NONE
 * gives a completion-only record for a kernel the pass left alone.
 * @wave_blocks, the blocks of this kernel one wave of the GPU holds (0:
 * unknown), sets a sample-mode launch's interval.  The record's host slots
 * are set for the launch.
 */
enum paella_status
paella__notify_acquire(struct paella__notify_pool *pool, uint64_t nblocks,
		       enum paella__notify_mode mode, uint64_t wave_blocks,
		       struct paella__notify_record **out);

/* The kernel's extra last argument: kernelParams[i] = this pointer.  Valid
 * until release; for a completion-only record it points to a null record;
 * in sample mode to the record's address plus the launch's tag. */
const CUdeviceptr *
paella__notify_kernel_param(const struct paella__notify_record *rec);

/* Enqueues, on @stream after the kernel, the write of this launch's sequence
 * number to the record's host-mapped completion word. */
enum paella_status
paella__notify_enqueue_completion(struct paella__notify_record *rec,
				  CUstream stream);

/* Or the store that signals this launch, for a caller that enqueues its own
 * (the completion kernel, the tail marker, a benchmark's variant):
 * the device address of one of the record's words, and the launch's
 * number to store there. */
struct paella__notify_store {
	CUdeviceptr word;
	uint32_t seq;
};

/* Into the completion word: the completion, as the write-value does it. */
struct paella__notify_store
paella__notify_done_store(const struct paella__notify_record *rec);
/* Marker mode: into the word the tail marker stores into (marker.h). */
struct paella__notify_store
paella__notify_marker_store(const struct paella__notify_record *rec);

/* Reads the host-mapped words once: returns whether the launch is complete
 * and stores the blocks known finished in @progress (may be NULL). */
bool
paella__notify_poll(struct paella__notify_record *rec, uint64_t *progress);

/* Blocks known finished: monotone, at most the grid, the grid once done.
 * Completion-only records know 0 or the grid; marker mode the grid less a
 * wave once the marker is seen; sample mode the last sampled
 * block seen started, less a wave (a hint, short of the grid until the
 * stream says it is done). */
uint64_t
paella__notify_progress(struct paella__notify_record *rec);

/* True once the completion word shows this launch's sequence number or, in
 * count mode, the posts sum to the grid.  Stays true. */
bool
paella__notify_done(struct paella__notify_record *rec);

/* For a caller who knows the kernel finished by other means (it synchronized
 * the stream): the record counts as done. */
void
paella__notify_set_done(struct paella__notify_record *rec);

/* Returns a completed record to the pool; its bases move past the launch.
 * Aborts if the record is not done: reusing it while its kernel runs would
 * corrupt the next launch's progress. */
void
paella__notify_release(struct paella__notify_record *rec);

/* Returns a record whose kernel was never launched (cuLaunchKernel failed):
 * its bases stay. */
void
paella__notify_cancel(struct paella__notify_record *rec);

#endif /* PAELLA_NOTIFY_H */
