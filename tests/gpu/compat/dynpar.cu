/*
 * Dynamic parallelism (built with -rdc=true): a parent kernel launches a
 * child per block from the device.  The child keeps the layout the parent's
 * parameter buffer gives it, instrumented build or not; the child is also
 * launched from the host.  A kernel allocates from the device
 * (cudaMalloc/cudaFree in device code: the device runtime, as with nvcc's
 * -rdc, not CUDA's stubs that fail without allocating).
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

__global__ void device_alloc(int *status)
{
	int *p = NULL;
	cudaError_t e = cudaMalloc((void **)&p, 32 * sizeof(int));

	if (e != cudaSuccess || p == NULL) {
		*status = 1000 + (int)e;
		return;
	}
	for (int i = 0; i < 32; i++)
		p[i] = i;
	*status = p[31];
	cudaFree(p);
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
	device_alloc<<<1, 1>>>(d);
	err = cudaMemcpy(h, d, sizeof(int), cudaMemcpyDeviceToHost);
	if (err != cudaSuccess || h[0] != 31) {
		printf("FAIL: device-side cudaMalloc: %s, status %d\n", cudaGetErrorString(err), h[0]);
		return 1;
	}
	printf("device-side cudaMalloc: ok\n");
	return 0;
}
