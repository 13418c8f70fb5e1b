/*
 * paella/instrument-abi.h - the contract between the paella-instrument pass
 * and libpaellart.
 *
 * Every kernel the pass instruments gets one trailing parameter: a pointer
 * (in device memory) to a struct paella_launch_record.  A kernel reports in
 * one of two modes, chosen when it is compiled (paella-cc
 * -mllvm -paella-notify=sample|count) and named in the module's manifest:
 *
 * sample (the default): no barrier, no atomic.  The parameter is the
 * record's address plus a tag k < 32 in its low PAELLA_RECORD_TAG_BITS bits
 * (records are aligned to more than that).  Thread (0,0,0) of block b, if
 * b & (2^k - 1) == 2^k - 1 and b + PAELLA_SAMPLE_TAIL_INTERVALS * 2^k is
 * less than the grid's block count, stores b + 1 into host_counts[0]: right
 * after the kernel's first global loads are issued, where the pass finds
 * such a point before any loop or branch, else when the block starts
 * (kernels with loops or calls) or at its exit (kernels without).  In every
 * case between the block's start and its end.  A high-water mark of the blocks started: blocks start in id
 * order and at most a wave is resident, so the runtime reads it as at least
 * b + 1 - wave blocks done, a hint.  The other blocks touch no
 * memory, and nothing waits: a block lives no longer than it did (a store
 * after a main loop costs registers, hence entry for kernels with loops;
 * see benchmarks/results/overhead.md).  The runtime picks k so that a grid stores a few dozen
 * times at most, and so that the last intervals, which it makes at least a
 * wave, store nothing: reports there could only delay the grid's end.  The
 * exact completion of the grid comes from the stream after the kernel (a
 * write-value, or the runtime's completion kernel).
 *
 * count: at block exit every thread waits at named barrier
 * PAELLA_EXIT_BARRIER_ID, so the block is done; thread (0,0,0) then adds one
 * to its shard's counter in the record, a fire-and-forget reduction for most
 * blocks.  A sampled block ("poster") instead waits for the counter's new
 * value and stores it into host_counts[shard].  The parameter is untagged.
 * Exact, but on kernels of many short blocks the barrier and the one memory
 * operation per block cost about 10% (benchmarks/results/overhead.md).
 * Counters are never reset on the device: the runtime knows how many blocks
 * each shard received in earlier launches that used the record, and counts
 * from there (uint32 arithmetic, so wrap-around is harmless).  The grid is
 * complete once the posts sum to its size, or when the write-value lands.
 *
 * Host slots are plain host memory that the runtime rewrites before each
 * launch.  A sample-mode kernel reads only the record's header, so its
 * record may be just PAELLA_RECORD_HEADER_BYTES long.
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
#define PAELLA_ABI_VERSION 2

/* Module globals the pass emits and the runtime reads after loading. */
#define PAELLA_ABI_VERSION_SYMBOL "__paella_abi_version"
#define PAELLA_MANIFEST_SYMBOL "__paella_manifest"

/* Named barrier used at block exit; kernels that use it themselves are left
 * uninstrumented.  __syncthreads() uses barrier 0.  The lowest free id:
 * a kernel reserves every barrier up to the highest id it names, and on the
 * H200 naming barrier 15 cost about half the occupancy of small blocks. */
#define PAELLA_EXIT_BARRIER_ID 1

/* Sample mode: the low bits of the record parameter hold log2 of the
 * sampling interval. */
#define PAELLA_RECORD_TAG_BITS 5u
#define PAELLA_RECORD_TAG_MASK ((1u << PAELLA_RECORD_TAG_BITS) - 1u)
/* The inert record: a sample-mode record parameter tagged to sample no block
 * (no block id passes the test in any grid of fewer than 2^33 blocks) and
 * with no address, so the kernel touches no memory for it.  Passed where
 * nothing reads a launch's progress but the kernel may be instrumented:
 * transparent launches, launches and graph nodes built by hand, device-side
 * launches of another file's kernel. */
#define PAELLA_INERT_RECORD ((uint64_t)PAELLA_RECORD_TAG_MASK)
/* The alignment of every record's address. */
#define PAELLA_RECORD_ALIGN 128u
/* Sample mode: the last this many sampling intervals of a grid never
 * report. */
#define PAELLA_SAMPLE_TAIL_INTERVALS 4u

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
 *   "paella-manifest 3\n"
 *   "K <mangled-name> <original-parameter-count> <mode> [<plain>]\n"  instrumented
 *   "U <mangled-name> <parameter-count> <reason>\n"          left as it was
 * Modes: sample, count.  Reasons: skip-attribute, skip-regex, grid-sync,
 * device-launch, exit-barrier-in-use (count mode only).  <plain> (sample
 * mode, manifest 3): an uninstrumented copy of the kernel, named
 * <mangled-name> PAELLA_PLAIN_CLONE_SUFFIX, with the original parameters;
 * the runtime launches it instead where the sampling rule would pick no
 * block of the grid.  The runtime also reads manifest 2 (no copies).
 */
#define PAELLA_MANIFEST_HEADER "paella-manifest 3\n"
#define PAELLA_MANIFEST_HEADER_V2 "paella-manifest 2\n"
#define PAELLA_PLAIN_CLONE_SUFFIX "__paella_plain"
#define PAELLA_NOTIFY_SAMPLE_NAME "sample"
/* The host rewrite ORs this into paella_launch_kernel()'s parameter count
 * when the program was compiled in count mode: the runtime then passes an
 * untagged record. */
#define PAELLA_LAUNCH_COUNT_MODE 0x40000000
#define PAELLA_NOTIFY_COUNT_NAME "count"

#ifdef __cplusplus
}
#endif

#endif /* PAELLA_INSTRUMENT_ABI_H */
