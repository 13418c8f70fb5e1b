/*
 * nvcc's style: host min()/max() on mixed integer types (CUDA's headers give
 * nvcc __host__ __device__ overloads; clang has the device ones only), and
 * __shared__ arrays filled by the block.  Prints the same lines however
 * built.
 */
#include <cstdio>

__global__ void clamp(const int *in, unsigned int *out, unsigned int hi, int n)
{
	__shared__ unsigned int tile[256];
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	tile[threadIdx.x] = i < n ? min(in[i], hi) : 0u; /* int, unsigned: unsigned */
	__syncthreads();
	if (i < n)
		out[i] = max(tile[threadIdx.x], tile[(threadIdx.x + 1) % blockDim.x]);
}

int main()
{
	int a = -3;
	unsigned int b = 4;
	long c = 7;
	unsigned long d = 2;
	long long e = -9;
	unsigned long long f = 5;
	const int n = 1000;
	int *din, h[n];
	unsigned int *dout, out[n];
	unsigned long sum = 0;

	/* As nvcc computes them: mixed signed/unsigned compare as unsigned. */
	printf("min(int,unsigned)=%u max(int,unsigned)=%u\n", min(a, b), max(a, b));
	printf("min(long,unsigned long)=%lu max(long,long)=%ld\n", min(c, d), max(c, (long)a));
	printf("min(long long,unsigned long long)=%llu max(float,float)=%g min(double,float)=%g\n",
	       min(e, f), max(1.5f, 2.5f), min(0.25, 1.0f));
	for (int i = 0; i < n; i++)
		h[i] = (i * 37) % 101 - 20;
	if (cudaMalloc(&din, sizeof(h)) != cudaSuccess || cudaMalloc(&dout, sizeof(out)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	cudaMemcpy(din, h, sizeof(h), cudaMemcpyHostToDevice);
	clamp<<<(n + 255) / 256, 256>>>(din, dout, 50u, n);
	cudaError_t err = cudaMemcpy(out, dout, sizeof(out), cudaMemcpyDeviceToHost);
	err = err != cudaSuccess ? err : cudaGetLastError(); /* a failed launch too */
	if (err != cudaSuccess) {
		printf("FAIL: %s\n", cudaGetErrorString(err));
		return 1;
	}
	for (int i = 0; i < n; i++)
		sum += out[i];
	printf("device sum=%lu first=%u last=%u\n", sum, out[0], out[n - 1]);
	return 0;
}
