/*
 * paella/instrument-abi.h - the contract between the paella-instrument pass
 * and libpaellart.
 *
 * Every kernel the pass instruments gets one trailing parameter: a pointer
 * (in device memory) to a struct paella_launch_record.  At block exit every
 * thread waits at named barrier PAELLA_EXIT_BARRIER_ID, so the block is done;
 * thread (0,0,0) then adds one to its shard's counter in the record, a
 * fire-and-forget reduction for most blocks.  A sampled block ("poster")
 * instead waits for the counter's new value and stores it into host-mapped
 * memory, where the dispatcher reads it.  So no block waits on an atomic
 * unless it posts, blocks spread over many counters, and only about one block
 * in (post_mask + 1) per shard touches host memory.
 *
 * Counters are never reset on the device: the runtime knows how many blocks
 * each shard received in earlier launches that used the record, and counts
 * from there (uint32 arithmetic, so wrap-around is harmless).  Host slots are
 * plain host memory that the runtime rewrites before each launch.
 *
 * The exact completion of the grid comes from a stream write-value after the
 * kernel (it costs the kernel nothing), or from the posts once they sum to
 * the grid size, whichever the CPU sees first.
 *
 * This header is C99 and C++, and holds layout only: no functions.
 */
#ifndef PAELLA_INSTRUMENT_ABI_H
#define PAELLA_INSTRUMENT_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump on any change to the record layout or the epilogue's behaviour. */
#define PAELLA_ABI_VERSION 1

/* Module globals the pass emits and the runtime reads after loading. */
#define PAELLA_ABI_VERSION_SYMBOL "__paella_abi_version"
#define PAELLA_MANIFEST_SYMBOL "__paella_manifest"

/* Named barrier used at block exit; kernels that use it themselves are left
 * uninstrumented.  __syncthreads() uses barrier 0.  The lowest free id:
 * a kernel reserves every barrier up to the highest id it names, and on the
 * H200 naming barrier 15 cost about half the occupancy of small blocks. */
#define PAELLA_EXIT_BARRIER_ID 1

#define PAELLA_MAX_SHARDS 256u
/* One counter per 128-byte line so that shards never share a line. */
#define PAELLA_COUNTER_STRIDE_WORDS 32u
#define PAELLA_RECORD_HEADER_BYTES 128u

/* Byte offsets of the fields the epilogue reads; the pass uses these. */
#define PAELLA_RECORD_OFF_SHARD_MASK 0u
#define PAELLA_RECORD_OFF_SHARD_SHIFT 4u
#define PAELLA_RECORD_OFF_POST_MASK 8u
#define PAELLA_RECORD_OFF_HOST_COUNTS 16u
#define PAELLA_RECORD_OFF_COUNTERS PAELLA_RECORD_HEADER_BYTES

struct paella_launch_record {
	/* shards - 1; shards is a power of two, at most PAELLA_MAX_SHARDS.
	 * A block's shard is its linear block id & shard_mask. */
	uint32_t shard_mask;
	/* log2(shards): a block's index within its shard is id >> shard_shift. */
	uint32_t shard_shift;
	/* A block posts when (index & post_mask) == post_mask, or when it has
	 * the highest index of its shard.  A power of two minus one. */
	uint32_t post_mask;
	uint32_t reserved0;
	/* Device address of host-mapped uint32_t[shards]: the posted counts. */
	uint64_t host_counts;
	uint8_t reserved1[PAELLA_RECORD_HEADER_BYTES - 24];
	/* counters[s * PAELLA_COUNTER_STRIDE_WORDS] counts blocks of shard s. */
	uint32_t counters[PAELLA_MAX_SHARDS * PAELLA_COUNTER_STRIDE_WORDS];
};

#define PAELLA_RECORD_BYTES \
	(PAELLA_RECORD_HEADER_BYTES + \
	 PAELLA_MAX_SHARDS * PAELLA_COUNTER_STRIDE_WORDS * 4u)

/*
 * The manifest is a NUL-terminated text, one line per kernel of the module:
 *   "paella-manifest 1\n"
 *   "K <mangled-name> <original-parameter-count>\n"   instrumented
 *   "U <mangled-name> <parameter-count> <reason>\n"   left as it was
 * Reasons: skip-attribute, skip-regex, grid-sync, device-launch,
 * exit-barrier-in-use.
 */
#define PAELLA_MANIFEST_HEADER "paella-manifest 1\n"

#ifdef __cplusplus
}
#endif

#endif /* PAELLA_INSTRUMENT_ABI_H */
