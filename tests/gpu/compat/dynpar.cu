/*
 * Dynamic parallelism (built with -rdc=true): a parent kernel launches a
 * child per block from the device.  The child keeps the layout the parent's
 * parameter buffer gives it, instrumented build or not; the child is also
 * launched from the host.
 */
#include <cstdio>

__global__ void child(int *out, int base, int scale)
{
	out[base + threadIdx.x] = (base + threadIdx.x) * scale;
}

__global__ void parent(int *out, int scale)
{
	if (threadIdx.x == 0)
		child<<<1, 64>>>(out, blockIdx.x * 64, scale);
}

int main()
{
	const int blocks = 16, n = blocks * 64;
	int *d, h[n];
	long long sum = 0;

	if (cudaMalloc(&d, sizeof(h)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	cudaMemset(d, 0, sizeof(h));
	parent<<<blocks, 32>>>(d, 3);
	child<<<1, 64>>>(d, 0, 5); /* the same kernel from the host */
	cudaError_t err = cudaMemcpy(h, d, sizeof(h), cudaMemcpyDeviceToHost);
	err = err != cudaSuccess ? err : cudaGetLastError(); /* a failed launch too */
	if (err != cudaSuccess) {
		printf("FAIL: %s\n", cudaGetErrorString(err));
		return 1;
	}
	for (int i = 0; i < n; i++)
		sum += h[i];
	printf("sum=%lld h[1]=%d h[100]=%d h[%d]=%d\n", sum, h[1], h[100], n - 1, h[n - 1]);
	return 0;
}
