/*
 * notify.c - launch records: planning, progress, and their device memory;
 * the completion word's stream write-value.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify-test.h"
#include "notify.h"

_Static_assert(PAELLA_NOTIFY_SHARDS_MAX <= PAELLA_MAX_SHARDS,
	       "the record holds at most PAELLA_MAX_SHARDS counters");
_Static_assert((PAELLA_NOTIFY_SHARDS_MAX & (PAELLA_NOTIFY_SHARDS_MAX - 1)) == 0,
	       "shard counts are powers of two");
_Static_assert(PAELLA_NOTIFY_POSTS_PER_GRID >= 1, "a grid posts at least once");
_Static_assert(offsetof(struct paella_launch_record, shard_mask) == PAELLA_RECORD_OFF_SHARD_MASK, "ABI");
_Static_assert(offsetof(struct paella_launch_record, shard_shift) == PAELLA_RECORD_OFF_SHARD_SHIFT, "ABI");
_Static_assert(offsetof(struct paella_launch_record, post_mask) == PAELLA_RECORD_OFF_POST_MASK, "ABI");
_Static_assert(offsetof(struct paella_launch_record, host_counts) == PAELLA_RECORD_OFF_HOST_COUNTS, "ABI");
_Static_assert(offsetof(struct paella_launch_record, counters) == PAELLA_RECORD_OFF_COUNTERS, "ABI");
_Static_assert(sizeof(struct paella_launch_record) == PAELLA_RECORD_BYTES, "ABI");

/* ---- pure arithmetic --------------------------------------------------- */

struct paella__notify_class
paella__notify_plan(uint64_t nblocks)
{
	struct paella__notify_class cls;
	uint64_t shards, interval;

	if (nblocks < 1)
		nblocks = 1;
	shards = paella__next_pow2_u64(nblocks);
	if (shards > PAELLA_NOTIFY_SHARDS_MAX)
		shards = PAELLA_NOTIFY_SHARDS_MAX;
	/* The post interval counts blocks of one shard, yet a grid of n blocks
	 * posts about n / interval times whatever the shard count: each shard
	 * posts count_s / interval times. */
	interval = paella__floor_pow2_u64(nblocks / PAELLA_NOTIFY_POSTS_PER_GRID);
	if (interval > (UINT64_C(1) << 31))
		interval = UINT64_C(1) << 31;

	cls.shard_shift = paella__log2_u64(shards);
	cls.post_mask = (uint32_t)(interval - 1);
	return cls;
}

uint32_t
paella__notify_sample_tag(uint64_t nblocks, uint64_t wave_blocks)
{
	uint64_t tail, spread, interval;

	if (nblocks < 1)
		nblocks = 1;
	if (wave_blocks < 1)
		wave_blocks = PAELLA_NOTIFY_DEFAULT_WAVE_BLOCKS;
	tail = paella__next_pow2_u64((wave_blocks + PAELLA_SAMPLE_TAIL_INTERVALS - 1) /
				     PAELLA_SAMPLE_TAIL_INTERVALS);
	spread = paella__floor_pow2_u64(nblocks / PAELLA_NOTIFY_SAMPLES_PER_GRID);
	interval = tail > spread ? tail : spread;
	if (interval > (UINT64_C(1) << 31))
		interval = UINT64_C(1) << 31;
	return paella__log2_u64(interval);
}

bool
paella__notify_use_plain_copy(uint64_t nblocks, uint64_t wave_blocks)
{
	return paella__notify_sample_reports(nblocks, paella__notify_sample_tag(nblocks, wave_blocks)) ==
		       0;
}

bool
paella__notify_use_tail_marker(uint64_t nblocks, uint64_t wave_blocks)
{
	return wave_blocks > 0 && nblocks > wave_blocks;
}

uint64_t
paella__notify_sample_reports(uint64_t nblocks, uint32_t tag)
{
	uint64_t interval = UINT64_C(1) << tag;
	uint64_t reach = (PAELLA_SAMPLE_TAIL_INTERVALS + 1) * interval;

	/* Blocks j * I + I - 1 with j * I + I - 1 + TAIL * I < nblocks. */
	if (nblocks < reach)
		return 0;
	return (nblocks - reach) / interval + 1;
}

uint64_t
paella__notify_shard_blocks(uint64_t nblocks, uint32_t shards, uint32_t s)
{
	PAELLA__ASSERT(paella__is_pow2_u64(shards));
	PAELLA__ASSERT(s < shards);
	return nblocks / shards + (s < nblocks % shards ? 1 : 0);
}

uint64_t
paella__notify_posts(uint64_t nblocks, struct paella__notify_class cls)
{
	uint32_t shards = paella__notify_class_shards(cls);
	uint64_t interval = (uint64_t)cls.post_mask + 1;
	uint64_t posts = 0;

	for (uint32_t s = 0; s < shards; s++) {
		uint64_t c = paella__notify_shard_blocks(nblocks, shards, s);

		if (c == 0)
			continue;
		/* Indexes i with i & mask == mask, plus the shard's last block
		 * when it is not one of them. */
		posts += c / interval;
		if (c % interval != 0)
			posts++;
	}
	return posts;
}

void
paella__notify_track_init(struct paella__notify_track *t, uint32_t shards)
{
	PAELLA__ASSERT(paella__is_pow2_u64(shards));
	PAELLA__ASSERT(shards <= PAELLA_NOTIFY_SHARDS_MAX);
	memset(t, 0, sizeof(*t));
	t->shards = shards;
}

void
paella__notify_track_start(struct paella__notify_track *t, uint64_t nblocks)
{
	PAELLA__ASSERT(nblocks <= PAELLA_NOTIFY_MAX_BLOCKS);
	t->nblocks = nblocks;
	t->progress = 0;
	for (uint32_t s = 0; s < t->shards; s++) {
		t->count[s] = (uint32_t)paella__notify_shard_blocks(nblocks, t->shards, s);
		t->seen[s] = 0;
	}
}

uint64_t
paella__notify_track_update(struct paella__notify_track *t,
			    const volatile uint32_t *slots)
{
	for (uint32_t s = 0; s < t->shards; s++) {
		/* The GPU stores to these words while we read: one plain
		 * 32-bit load each, no tearing. */
		uint32_t v = __atomic_load_n(&slots[s], __ATOMIC_RELAXED);
		uint32_t d = v - t->base[s];

		if (d > t->seen[s] && d <= t->count[s]) {
			t->progress += d - t->seen[s];
			t->seen[s] = d;
		}
	}
	return t->progress;
}

void
paella__notify_track_finish(struct paella__notify_track *t)
{
	for (uint32_t s = 0; s < t->shards; s++) {
		t->base[s] += t->count[s];
		t->seen[s] = 0;
		t->count[s] = 0;
	}
	t->nblocks = 0;
	t->progress = 0;
}

/* ---- records on the device ------------------------------------------- */

uint64_t
paella__notify_wave_blocks(const struct paella__cu *cu, CUfunction f, unsigned threads,
			   size_t smem)
{
	CUdevice dev;
	int sms = 0, per_sm = 0;

	if (cu->cuCtxGetDevice == NULL || cu->cuCtxGetDevice(&dev) != CUDA_SUCCESS ||
	    cu->cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) !=
		    CUDA_SUCCESS ||
	    cu->cuOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, f, (int)threads, smem) !=
		    CUDA_SUCCESS ||
	    sms <= 0 || per_sm <= 0)
		return 0;
	return (uint64_t)sms * (uint64_t)per_sm;
}

/* Host-mapped memory of one record: the posted counts (the ABI's
 * host_counts, uint32_t[PAELLA_MAX_SHARDS]) and then, on its own line, the
 * completion word. */
#define HOST_SLOTS_BYTES (PAELLA_MAX_SHARDS * 4u)
#define HOST_DONE_OFFSET HOST_SLOTS_BYTES
#define HOST_BYTES (HOST_SLOTS_BYTES + 128u)

/* Free lists: one per (shard_shift, post_mask) pair of count mode, plus
 * sample mode (its header does not change between launches), plus
 * completion-only. */
#define SHIFT_CLASSES 9u /* shard_shift 0..8: up to PAELLA_MAX_SHARDS */
#define MASK_CLASSES 33u /* post_mask 2^0 - 1 .. 2^32 - 1 */
#define NCLASSES (SHIFT_CLASSES * MASK_CLASSES + 2u)
#define CLASS_SAMPLE (NCLASSES - 2u)
#define CLASS_UNINSTRUMENTED (NCLASSES - 1u)

struct paella__notify_record {
	struct paella__notify_pool *pool;
	/* Next free record of the same class. */
	struct paella__notify_record *next_free;
	/* Every record of the pool, for destruction. */
	struct paella__notify_record *next_all;

	enum paella__notify_mode mode;
	struct paella__notify_class cls;
	unsigned class_index;

	/* Device address of the launch record; 0 when completion-only. */
	CUdeviceptr dev;
	/* The kernel's argument: dev, plus the tag in sample mode. */
	CUdeviceptr param;
	uint32_t tag;
	/* Sample mode: the blocks a wave holds, as planned. */
	uint64_t wave;
	/* cuMemHostAlloc'd, HOST_BYTES. */
	void *host;
	volatile uint32_t *slots;
	volatile uint32_t *done_word;
	CUdeviceptr done_word_dev;

	bool in_use;
	bool done;
	/* This launch's number: the value the completion write stores. */
	uint32_t seq;
	uint64_t nblocks;
	struct paella__notify_track track;
};
struct paella__notify_pool {
	const struct paella__cu *cu;
	/* Guards the lists and the count, not the records in use: a record
	 * belongs to the thread that acquired it. */
	pthread_mutex_t lock;
	struct paella__notify_record *free[NCLASSES];
	struct paella__notify_record *all;
	unsigned nrecords;
	unsigned in_use;
};

static unsigned
class_index(enum paella__notify_mode mode, struct paella__notify_class cls)
{
	if (mode == PAELLA__NOTIFY_NONE || mode == PAELLA__NOTIFY_MARKER)
		return CLASS_UNINSTRUMENTED;
	if (mode == PAELLA__NOTIFY_SAMPLE)
		return CLASS_SAMPLE;
	/* post_mask + 1 is a power of two; its log is the mask's bit count. */
	return cls.shard_shift * MASK_CLASSES +
	       (unsigned)__builtin_popcount(cls.post_mask);
}

enum paella_status
paella__notify_pool_create(const struct paella__cu *cu,
			   struct paella__notify_pool **out)
{
	struct paella__notify_pool *pool;

	*out = NULL;
	if (cu == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "notify pool: no CUDA driver table");
	PAELLA__NEW_OR_RETURN(pool, "notify pool: out of memory");
	pool->cu = cu;
	pthread_mutex_init(&pool->lock, NULL);
	*out = pool;
	return PAELLA_STATUS_OK;
}

static void
record_free(const struct paella__cu *cu, struct paella__notify_record *rec)
{
	/* Errors here are not worth reporting: the memory goes with the
	 * context at worst. */
	if (rec->dev != 0)
		cu->cuMemFree(rec->dev);
	if (rec->host != NULL)
		cu->cuMemFreeHost(rec->host);
	free(rec);
}

void
paella__notify_pool_destroy(struct paella__notify_pool *pool)
{
	struct paella__notify_record *rec, *next;

	if (pool == NULL)
		return;
	if (pool->in_use != 0)
		PAELLA__BUG("notify pool destroyed with %u records in use", pool->in_use);
	for (rec = pool->all; rec != NULL; rec = next) {
		next = rec->next_all;
		record_free(pool->cu, rec);
	}
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

unsigned
paella__notify_pool_records(struct paella__notify_pool *pool)
{
	unsigned n;

	pthread_mutex_lock(&pool->lock);
	n = pool->nrecords;
	pthread_mutex_unlock(&pool->lock);
	return n;
}

static enum paella_status
record_create(struct paella__notify_pool *pool, enum paella__notify_mode mode,
	      struct paella__notify_class cls,
	      struct paella__notify_record **out)
{
	const struct paella__cu *cu = pool->cu;
	enum paella_status status = PAELLA_STATUS_OK;
	struct paella__notify_record *rec;
	CUdeviceptr host_dev = 0;

	*out = NULL;
	PAELLA__NEW_OR_RETURN(rec, "launch record: out of memory");
	rec->pool = pool;
	rec->mode = mode;
	rec->cls = mode == PAELLA__NOTIFY_COUNT ? cls : (struct paella__notify_class){ 0, 0 };
	rec->class_index = class_index(mode, cls);

	/* Portable: the dispatcher may poll from a thread with no context. */
	PAELLA_CU_CHECK_GOTO(cu, cuMemHostAlloc(&rec->host, HOST_BYTES,
			     CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE),
			     status, err);
	memset(rec->host, 0, HOST_BYTES);
	PAELLA_CU_CHECK_GOTO(cu, cuMemHostGetDevicePointer(&host_dev, rec->host, 0),
			     status, err);
	rec->slots = (volatile uint32_t *)rec->host;
	rec->done_word = (volatile uint32_t *)((char *)rec->host + HOST_DONE_OFFSET);
	rec->done_word_dev = host_dev + HOST_DONE_OFFSET;

	if (mode == PAELLA__NOTIFY_SAMPLE || mode == PAELLA__NOTIFY_COUNT) {
		uint32_t shards = paella__notify_class_shards(rec->cls);
		unsigned char header[PAELLA_RECORD_HEADER_BYTES] = { 0 };
		uint32_t shard_mask = shards - 1;
		uint64_t host_counts = (uint64_t)host_dev;

		/* Sample mode reads only the header: graphs keep a record
		 * per kernel for their life, so the 32 KB of counters would
		 * add up. */
		size_t bytes = mode == PAELLA__NOTIFY_COUNT ? PAELLA_RECORD_BYTES
							    : PAELLA_RECORD_HEADER_BYTES;

		PAELLA_CU_CHECK_GOTO(cu, cuMemAlloc(&rec->dev, bytes), status, err);
		/* Once: the counters are never reset, the bases follow them. */
		PAELLA_CU_CHECK_GOTO(cu, cuMemsetD32(rec->dev, 0, bytes / 4), status, err);
		memcpy(header + PAELLA_RECORD_OFF_SHARD_MASK, &shard_mask, 4);
		memcpy(header + PAELLA_RECORD_OFF_SHARD_SHIFT, &rec->cls.shard_shift, 4);
		memcpy(header + PAELLA_RECORD_OFF_POST_MASK, &rec->cls.post_mask, 4);
		memcpy(header + PAELLA_RECORD_OFF_HOST_COUNTS, &host_counts, 8);
		PAELLA_CU_CHECK_GOTO(cu, cuMemcpyHtoD(rec->dev, header, sizeof(header)),
				     status, err);
		/* The tag lives in the address's low bits. */
		if ((rec->dev & (PAELLA_RECORD_ALIGN - 1)) != 0) {
			status = paella__error_set(PAELLA_STATUS_INTERNAL,
				"launch record at %#llx is not %u-byte aligned",
				(unsigned long long)rec->dev, PAELLA_RECORD_ALIGN);
			goto err;
		}
		paella__notify_track_init(&rec->track, shards);
	} else {
		paella__notify_track_init(&rec->track, 1);
	}

	paella__log_debug("launch record %p: %s, %u shards, post mask %#x",
			  (void *)rec,
			  mode == PAELLA__NOTIFY_COUNT ? "count" :
			  mode == PAELLA__NOTIFY_SAMPLE ? "sample" :
			  mode == PAELLA__NOTIFY_MARKER ? "marker" : "completion only",
			  rec->track.shards, rec->cls.post_mask);
	*out = rec;
	return PAELLA_STATUS_OK;

err:
	record_free(cu, rec);
	return status;
}

enum paella_status
paella__notify_acquire(struct paella__notify_pool *pool, uint64_t nblocks,
		       enum paella__notify_mode mode, uint64_t wave_blocks,
		       struct paella__notify_record **out)
{
	struct paella__notify_class cls = { 0, 0 };
	struct paella__notify_record *rec;
	enum paella_status status;
	unsigned idx;

	*out = NULL;
	if (nblocks < 1 || nblocks > PAELLA_NOTIFY_MAX_BLOCKS)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"a launch of %llu blocks: grids of 1 to %llu blocks are supported",
			(unsigned long long)nblocks,
			(unsigned long long)PAELLA_NOTIFY_MAX_BLOCKS);
	if (mode == PAELLA__NOTIFY_COUNT)
		cls = paella__notify_plan(nblocks);
	idx = class_index(mode, cls);

	pthread_mutex_lock(&pool->lock);
	rec = pool->free[idx];
	if (rec != NULL) {
		pool->free[idx] = rec->next_free;
		rec->next_free = NULL;
		pool->in_use++;
	}
	pthread_mutex_unlock(&pool->lock);

	if (rec == NULL) {
		/* Made outside the lock: driver calls take microseconds. */
		status = record_create(pool, mode, cls, &rec);
		if (status != PAELLA_STATUS_OK)
			return status;
		pthread_mutex_lock(&pool->lock);
		rec->next_all = pool->all;
		pool->all = rec;
		pool->nrecords++;
		pool->in_use++;
		pthread_mutex_unlock(&pool->lock);
	}

	rec->in_use = true;
	rec->done = false;
	rec->seq++;
	rec->nblocks = nblocks;
	rec->tag = 0;
	rec->param = rec->dev;
	paella__notify_track_start(&rec->track, mode == PAELLA__NOTIFY_COUNT ? nblocks : 0);
	/* Plain stores: the kernel, not yet launched, only ever writes these,
	 * and cuLaunchKernel orders our stores before its launch. */
	if (mode == PAELLA__NOTIFY_SAMPLE) {
		rec->tag = paella__notify_sample_tag(nblocks, wave_blocks);
		rec->wave = wave_blocks ? wave_blocks : PAELLA_NOTIFY_DEFAULT_WAVE_BLOCKS;
		rec->param = rec->dev + rec->tag;
		rec->slots[0] = 0;
	} else if (rec->class_index == CLASS_UNINSTRUMENTED) {
		/* Completion-only records serve both modes. */
		rec->mode = mode;
		rec->wave = wave_blocks;
		/* Any number but this launch's: the marker writes that. */
		rec->slots[0] = rec->seq - 1;
	} else {
		for (uint32_t s = 0; s < rec->track.shards; s++)
			rec->slots[s] = rec->track.base[s];
	}
	*out = rec;
	return PAELLA_STATUS_OK;
}

const CUdeviceptr *
paella__notify_kernel_param(const struct paella__notify_record *rec)
{
	return &rec->param;
}

bool
paella__notify_marker_seen(struct paella__notify_record *rec)
{
	return rec->mode == PAELLA__NOTIFY_MARKER &&
	       __atomic_load_n(&rec->slots[0], __ATOMIC_RELAXED) == rec->seq;
}

enum paella_status
paella__notify_enqueue_completion(struct paella__notify_record *rec,
				  CUstream stream)
{
	const struct paella__cu *cu = rec->pool->cu;
	enum paella_status status = PAELLA_STATUS_OK;

	PAELLA__ASSERT(rec->in_use);
	/* Default flags: the write waits for the kernel's memory writes, so a
	 * launch seen done has its outputs in place. */
	PAELLA_CU_CHECK_GOTO(cu, cuStreamWriteValue32(stream, rec->done_word_dev, rec->seq,
			     CU_STREAM_WRITE_VALUE_DEFAULT), status, out);
out:
	return status;
}

bool
paella__notify_poll(struct paella__notify_record *rec, uint64_t *progress)
{
	if (!rec->done) {
		uint32_t word = __atomic_load_n(rec->done_word, __ATOMIC_ACQUIRE);

		/* Signed distance: a late write of an earlier launch of this
		 * record carries a smaller number. */
		if ((int32_t)(word - rec->seq) >= 0) {
			rec->done = true;
		} else if (rec->mode == PAELLA__NOTIFY_COUNT) {
			if (paella__notify_track_update(&rec->track, rec->slots) == rec->nblocks)
				rec->done = true;
		} else if (rec->mode == PAELLA__NOTIFY_SAMPLE) {
			/* Block v - 1 has started: blocks start in id order
			 * and at most a wave is resident, so at least v - wave
			 * have ended.  Below the grid by construction (the
			 * tail never reports), checked all the same. */
			uint32_t v = __atomic_load_n(&rec->slots[0], __ATOMIC_RELAXED);
			uint64_t done = v > rec->wave ? v - rec->wave : 0;

			if (v <= rec->nblocks && done > rec->track.progress)
				rec->track.progress = done;
		} else if (rec->mode == PAELLA__NOTIFY_MARKER) {
			/* The marker started: every block has started, at
			 * most a wave is left. */
			uint32_t v = __atomic_load_n(&rec->slots[0], __ATOMIC_RELAXED);

			if (v == rec->seq && rec->nblocks > rec->wave)
				rec->track.progress = rec->nblocks - rec->wave;
		}
	}
	if (progress != NULL) {
		if (rec->done)
			*progress = rec->nblocks;
		else
			*progress = rec->track.progress;
	}
	return rec->done;
}

uint64_t
paella__notify_progress(struct paella__notify_record *rec)
{
	uint64_t p;

	paella__notify_poll(rec, &p);
	return p;
}

bool
paella__notify_done(struct paella__notify_record *rec)
{
	return paella__notify_poll(rec, NULL);
}

void
paella__notify_set_done(struct paella__notify_record *rec)
{
	PAELLA__ASSERT(rec->in_use);
	rec->done = true;
}

uint64_t
paella__notify_nblocks(const struct paella__notify_record *rec)
{
	return rec->nblocks;
}

struct paella__notify_class
paella__notify_record_class(const struct paella__notify_record *rec)
{
	return rec->cls;
}

bool
paella__notify_instrumented(const struct paella__notify_record *rec)
{
	return rec->mode == PAELLA__NOTIFY_SAMPLE || rec->mode == PAELLA__NOTIFY_COUNT;
}

enum paella__notify_mode
paella__notify_record_mode(const struct paella__notify_record *rec)
{
	return rec->mode;
}

struct paella__notify_store
paella__notify_done_store(const struct paella__notify_record *rec)
{
	PAELLA__ASSERT(rec->in_use);
	return (struct paella__notify_store){ .word = rec->done_word_dev, .seq = rec->seq };
}

struct paella__notify_store
paella__notify_marker_store(const struct paella__notify_record *rec)
{
	PAELLA__ASSERT(rec->in_use && rec->mode == PAELLA__NOTIFY_MARKER);
	/* The first host slot: a marker-mode record counts nothing. */
	return (struct paella__notify_store){ .word = rec->done_word_dev - HOST_DONE_OFFSET,
					      .seq = rec->seq };
}

uint32_t
paella__notify_sample_word(const struct paella__notify_record *rec)
{
	return __atomic_load_n(&rec->slots[0], __ATOMIC_RELAXED);
}

uint32_t
paella__notify_record_tag(const struct paella__notify_record *rec)
{
	return rec->tag;
}

enum paella_status
paella__notify_read_counters(struct paella__notify_record *rec,
			     uint64_t *total, uint32_t *per_shard)
{
	const struct paella__cu *cu = rec->pool->cu;
	enum paella_status status = PAELLA_STATUS_OK;
	uint32_t shards = rec->track.shards;
	size_t words = (size_t)shards * PAELLA_COUNTER_STRIDE_WORDS;
	uint32_t *buf = NULL;
	uint64_t sum = 0;

	PAELLA__ASSERT(rec->in_use);
	*total = 0;
	if (rec->mode != PAELLA__NOTIFY_COUNT)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "only a count-mode record has counters");
	buf = malloc(words * sizeof(*buf));
	if (buf == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY,
					 "reading counters: out of memory");
	PAELLA_CU_CHECK_GOTO(cu, cuMemcpyDtoH(buf, rec->dev + PAELLA_RECORD_OFF_COUNTERS,
			     words * sizeof(*buf)), status, out);
	for (uint32_t s = 0; s < shards; s++) {
		uint32_t d = buf[(size_t)s * PAELLA_COUNTER_STRIDE_WORDS] - rec->track.base[s];

		if (per_shard != NULL)
			per_shard[s] = d;
		sum += d;
	}
	*total = sum;
out:
	free(buf);
	return status;
}

static void
put_back(struct paella__notify_record *rec)
{
	struct paella__notify_pool *pool = rec->pool;

	rec->in_use = false;
	pthread_mutex_lock(&pool->lock);
	rec->next_free = pool->free[rec->class_index];
	pool->free[rec->class_index] = rec;
	pool->in_use--;
	pthread_mutex_unlock(&pool->lock);
}

void
paella__notify_release(struct paella__notify_record *rec)
{
	PAELLA__ASSERT(rec->in_use);
	if (!paella__notify_done(rec))
		PAELLA__BUG("launch record released before its launch completed "
			    "(%llu of %llu blocks seen): synchronize the stream and "
			    "call paella__notify_set_done() first",
			    (unsigned long long)rec->track.progress,
			    (unsigned long long)rec->nblocks);
	paella__notify_track_finish(&rec->track);
	put_back(rec);
}

void
paella__notify_cancel(struct paella__notify_record *rec)
{
	PAELLA__ASSERT(rec->in_use);
	/* Nothing ran: the counters did not move, the bases stay. */
	put_back(rec);
}
