/*
 * nvcc's scoped atomic built-ins (__nv_atomic_*, CUDA 12.8+) with their
 * __NV_ATOMIC_* orders and __NV_THREAD_SCOPE_* scopes.
 */
#include <cstdio>

__global__ void count(unsigned int *c, int *mx, unsigned long long *last, int n)
{
	__shared__ unsigned int block_count;
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (threadIdx.x == 0)
		__nv_atomic_store_n(&block_count, 0u, __NV_ATOMIC_RELAXED, __NV_THREAD_SCOPE_BLOCK);
	__syncthreads();
	if (i < n) {
		__nv_atomic_fetch_add(&block_count, 1u, __NV_ATOMIC_RELAXED, __NV_THREAD_SCOPE_BLOCK);
		__nv_atomic_fetch_max(mx, (i * 7919) % 1000, __NV_ATOMIC_RELAXED,
				      __NV_THREAD_SCOPE_DEVICE);
		__nv_atomic_add(&c[1], 2u, __NV_ATOMIC_RELAXED, __NV_THREAD_SCOPE_DEVICE);
	}
	__syncthreads();
	if (threadIdx.x == 0) {
		unsigned int mine = __nv_atomic_load_n(&block_count, __NV_ATOMIC_ACQUIRE,
						       __NV_THREAD_SCOPE_BLOCK);
		unsigned long long expected = 0;

		__nv_atomic_fetch_add(&c[0], mine, __NV_ATOMIC_ACQ_REL, __NV_THREAD_SCOPE_DEVICE);
		/* Exactly one block wins. */
		if (__nv_atomic_compare_exchange_n(last, &expected, 1ull, false, __NV_ATOMIC_SEQ_CST,
						   __NV_ATOMIC_RELAXED, __NV_THREAD_SCOPE_SYSTEM))
			__nv_atomic_fetch_add(&c[2], 1u, __NV_ATOMIC_RELAXED);
		__nv_atomic_thread_fence(__NV_ATOMIC_SEQ_CST, __NV_THREAD_SCOPE_DEVICE);
	}
}

int main()
{
	unsigned int *c, hc[3];
	int *mx, hmx;
	unsigned long long *last;
	const int n = 100000;

	if (cudaMalloc(&c, sizeof(hc)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	cudaMalloc(&mx, sizeof(int));
	cudaMalloc(&last, sizeof(*last));
	cudaMemset(c, 0, sizeof(hc));
	cudaMemset(mx, 0, sizeof(int));
	cudaMemset(last, 0, sizeof(*last));
	count<<<(n + 127) / 128, 128>>>(c, mx, last, n);
	cudaMemcpy(hc, c, sizeof(hc), cudaMemcpyDeviceToHost);
	cudaError_t err = cudaMemcpy(&hmx, mx, sizeof(int), cudaMemcpyDeviceToHost);
	err = err != cudaSuccess ? err : cudaGetLastError(); /* a failed launch too */
	if (err != cudaSuccess) {
		printf("FAIL: %s\n", cudaGetErrorString(err));
		return 1;
	}
	printf("counted=%u added=%u winners=%u max=%d\n", hc[0], hc[1], hc[2], hmx);
	return hc[0] == n && hc[1] == 2u * n && hc[2] == 1 ? 0 : 1;
}
