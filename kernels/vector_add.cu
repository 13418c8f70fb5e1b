/*
 * vector_add: c[i] = a[i] + b[i], one element per thread.
 *
 * Launch: 256-thread blocks, ceil(n / 256) blocks in a 1D, 2D or 3D grid
 * (1 to 262,144 blocks and beyond); the linear block id below makes the grid's
 * shape irrelevant.  Threads past n do nothing.
 *
 * The memory-bound kernel with many small blocks: the worst case for
 * per-block instrumentation (about 1 ns of work per element).
 */

extern "C" __global__ void vector_add(const float *__restrict__ a,
				      const float *__restrict__ b,
				      float *__restrict__ c, unsigned long long n)
{
	unsigned long long block =
		blockIdx.x + (unsigned long long)gridDim.x *
				     (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
	unsigned long long i = block * blockDim.x + threadIdx.x;

	if (i < n)
		c[i] = a[i] + b[i];
}
