/*
 * Relocatable device code over several files (-rdc=true / -dc): a kernel
 * here calls device functions and reads a __device__ table defined in the
 * other files; a kernel there is launched from here, by the host and by a
 * kernel (a device-side launch across files: the child, instrumented in
 * its own file, must still read the parameters the parent wrote).
 */
#include <cstdio>

extern __device__ int polynomial(int x);
extern __device__ int table[8];
__global__ void fill_table(int k); /* defined in table.cu */
void set_offset(int v);            /* table.cu too */

__global__ void refill(int k)
{
	fill_table<<<1, 8>>>(k);
}

__global__ void evaluate(int *out, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		out[i] = polynomial(i) + table[i % 8];
}

int main()
{
	const int n = 2048;
	int *d, h[n];
	long long sum = 0;

	if (cudaMalloc(&d, sizeof(h)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	set_offset(5);
	fill_table<<<1, 8>>>(11);
	evaluate<<<n / 256, 256>>>(d, n);
	refill<<<1, 1>>>(13);
	evaluate<<<n / 256, 256>>>(d + n / 2, n / 2);
	cudaError_t err = cudaMemcpy(h, d, sizeof(h), cudaMemcpyDeviceToHost);
	err = err != cudaSuccess ? err : cudaGetLastError(); /* a failed launch too */
	if (err != cudaSuccess) {
		printf("FAIL: %s\n", cudaGetErrorString(err));
		return 1;
	}
	for (int i = 0; i < n; i++)
		sum += h[i];
	printf("sum=%lld h[7]=%d h[2047]=%d\n", sum, h[7], h[n - 1]);
	return 0;
}
