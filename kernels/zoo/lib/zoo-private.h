/*
 * zoo-private.h - what the zoo's own files share and its users do not see:
 * errors (the zoo's own thread-local message, paella_zoo_last_error()),
 * invariant checks, and the parts of the weights path that take the
 * safetensors reader's types.
 */
#ifndef PAELLA_ZOO_PRIVATE_H
#define PAELLA_ZOO_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "layer-abi.h"
#include "paella/zoo.h"

#define PZOO__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PZOO__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* Sets this thread's zoo error message (logged when PAELLA_LOG is debug,
 * info, warn or error) and returns @status, so that a failing path reads
 * `return pzoo__error_set(...)`. */
PZOO__PRINTF(2, 3) enum paella_status
pzoo__error_set(enum paella_status status, const char *fmt, ...);

/* After a paella_ call of the runtime failed with @status: its message
 * (paella_last_error()) becomes the zoo's, after "@what: " when @what is
 * not NULL. */
enum paella_status
pzoo__error_from_runtime(enum paella_status status, const char *what);

/* Aborts with a message naming the place: for broken invariants only. */
__attribute__((noreturn)) PZOO__PRINTF(4, 5) void
pzoo__abort(const char *file, int line, const char *func, const char *fmt, ...);

#define PZOO__ASSERT(cond) \
	do { \
		if (__builtin_expect(!(cond), 0)) \
			pzoo__abort(__FILE__, __LINE__, __func__, "assertion failed: %s", \
				    #cond); \
	} while (0)

#define PZOO__BUG(...) pzoo__abort(__FILE__, __LINE__, __func__, __VA_ARGS__)

/* @s with every byte that is not printable ASCII (and the backslash and
 * quote) written as \xNN, cut to fit @cap (which must be >= 4) with "...":
 * names from files are printed through it.  Returns @buf. */
char *
pzoo__escape(const char *s, char *buf, size_t cap);

struct pzoo__st_file;
struct pzoo__st_tensor;

/* paella_zoo_load_weights() from an open file (the checks and the
 * folding). */
enum paella_status
pzoo__make_blob(const struct paella_zoo_plan *plan, const struct pzoo__st_file *st,
		float **blob_out);

/* The folding alone: the blob from @found, one F32 tensor per plan tensor
 * (in the plan's order, shapes already checked), e.g. tensors made in
 * memory.  @what names the source in messages. */
enum paella_status
pzoo__fold_blob(const struct paella_zoo_plan *plan, const struct pzoo__st_tensor **found,
		const char *what, float **blob_out);

/*
 * The simulator's duration of one block of launch @l, in ns.
 *
 * Estimate: the launch alone takes
 *	t = floor + flops / R
 * by kind of kernel: implicit-GEMM convolution 7 us + flops / 10 TFLOP/s,
 * depthwise convolution 5 us + flops / 0.3 TFLOP/s, pooling, fully
 * connected, softmax and add 3 us + flops / 0.1 TFLOP/s (memory-bound),
 * fitted by hand to the H200's per-launch times in
 * benchmarks/results/models-kernels-2026-11-27-h200.csv.  Per job, against
 * that file's kernel sums (sim estimate / measured us, 2026-11-27): resnet18
 * 540/476, mobilenet_v2 556/561, resnet34 1022/877, squeezenet1_1 295/362,
 * resnet50 1257/1101, densenet121 1471/2032 (many small convolutions: low
 * by 28%), googlenet 890/965, inception_v3 2131/2113.  The blocks run in
 * waves of (blocks per SM) x 132 SMs (an H200's occupancy, the same
 * arithmetic as the simulator's), so
 *	block_ns = t / waves.
 * *@regs and *@smem (may be NULL) get the register and static shared
 * memory figures the simulator is told for the kernel.
 */
uint64_t
pzoo__sim_block_ns(const struct paella_zoo_launch *l, unsigned *regs, unsigned *smem);

/* Blocks of @threads threads, @regs registers each and @smem bytes of
 * shared memory that fit on one H100/H200 SM (sm_90). */
unsigned
pzoo__sm90_occupancy(unsigned threads, unsigned regs, unsigned smem);

#endif /* PAELLA_ZOO_PRIVATE_H */
