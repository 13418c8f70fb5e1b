/*
 * Kernels of the tail-marker benchmark (built without instrumentation).
 *
 * stamped_add: a vector add (one element per thread) whose blocks write
 * when they started and when all their threads were done (%globaltimer),
 * the ground truth of when the grid's last block was dispatched.  The
 * dynamic shared memory, when asked for, only limits how many blocks fit on
 * an SM.
 *
 * tail_marker: one block that writes the time it started, to device memory
 * (for the comparison) and to a host-mapped word (what a dispatcher would
 * poll).  Launched on a lower-priority stream with the big kernel's block
 * shape and shared memory, it can only start where one of that kernel's
 * blocks would fit, once the kernel has no block left to dispatch.
 */

static __device__ __forceinline__ unsigned long long now_ns(void)
{
	unsigned long long t;

	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
	return t;
}

extern "C" __global__ void stamped_add(const float *__restrict__ a, const float *__restrict__ b,
				       float *__restrict__ c, unsigned long long n,
				       unsigned long long *__restrict__ stamps)
{
	unsigned long long t0 = now_ns();
	unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		c[i] = a[i] + b[i];
	__syncthreads();
	if (threadIdx.x == 0) {
		stamps[2 * blockIdx.x] = t0;
		stamps[2 * blockIdx.x + 1] = now_ns();
	}
}

extern "C" __global__ void tail_marker(unsigned long long *dev_time, unsigned int *host_word,
				       unsigned int seq)
{
	if (threadIdx.x == 0) {
		*dev_time = now_ns();
		asm volatile("st.relaxed.sys.global.u32 [%0], %1;" ::"l"(host_word), "r"(seq)
			     : "memory");
	}
}
