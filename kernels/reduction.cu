/*
 * reduce_sum: one partial sum per block, no atomics, so the partials are
 * bit-identical from run to run.
 *
 * Launch: blockDim.x a power of two from 32 to 1024 (256 usual), 1D, 2D or 3D
 * grid of at least ceil(n / (REDUCE_ITEMS * blockDim.x)) blocks.  Block b (the
 * linear block id) sums in[b * REDUCE_ITEMS * blockDim.x, ...) and thread 0
 * writes partial[b].  Blocks entirely past n return at once and write
 * nothing.
 *
 * Control flow that instrumentation must respect: an early return of whole
 * blocks, __syncthreads() in a loop, an early return of warps 1.. after the
 * last barrier, warp shuffles in a device function.
 */

#define REDUCE_ITEMS 4
#define WARP 32

/* Sum over the 32 lanes of a full warp; every lane gets the total. */
__device__ __noinline__ float warp_sum(float v)
{
	for (int off = WARP / 2; off > 0; off /= 2)
		v += __shfl_xor_sync(0xffffffffu, v, off);
	return v;
}

extern "C" __global__ void __launch_bounds__(1024)
reduce_sum(const float *__restrict__ in, float *__restrict__ partial, unsigned long long n)
{
	__shared__ float s[1024];
	unsigned long long block =
		blockIdx.x + (unsigned long long)gridDim.x *
				     (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
	unsigned int tid = threadIdx.x;
	unsigned long long base = block * REDUCE_ITEMS * blockDim.x;
	float v = 0.0f;

	if (base >= n)
		return;

	/* Strided by blockDim.x so that each load is coalesced. */
	for (int k = 0; k < REDUCE_ITEMS; k++) {
		unsigned long long i = base + (unsigned long long)k * blockDim.x + tid;

		if (i < n)
			v += in[i];
	}
	s[tid] = v;
	__syncthreads();

	for (unsigned int stride = blockDim.x / 2; stride >= WARP; stride /= 2) {
		if (tid < stride)
			s[tid] += s[tid + stride];
		__syncthreads();
	}

	/* The rest is warp 0's: the others are done, past the last barrier. */
	if (tid >= WARP)
		return;
	v = warp_sum(s[tid]);
	if (tid == 0)
		partial[block] = v;
}
