/*
 * A plain CUDA program: cudaMalloc, a <<<>>> launch, cudaMemcpy.  Built with
 * paella-cc, its launch goes through libpaellart's paella_launch_kernel
 * (transparent mode), which adds the launch record the instrumented kernel
 * expects.  The program itself is unchanged CUDA: that is the point.
 * Exits 0 when the result is right, 1 when not, 77 when there is no GPU.
 */
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

__global__ void saxpy(float a, const float *x, float *y, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= n)
		return;
	y[i] = a * x[i] + y[i];
}

int main()
{
	int devices = 0;
	if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	const int n = 1 << 22;
	std::vector<float> x(n), y(n), want(n);
	for (int i = 0; i < n; i++) {
		x[i] = 0.5f + (i % 1000) / 1000.0f;
		y[i] = 1.0f + (i % 77) / 77.0f;
		/* The device contracts a * x + y into one fused multiply-add. */
		want[i] = std::fmaf(3.0f, x[i], y[i]);
	}
	float *dx, *dy;
	if (cudaMalloc(&dx, n * sizeof(float)) != cudaSuccess ||
	    cudaMalloc(&dy, n * sizeof(float)) != cudaSuccess) {
		printf("FAIL: cudaMalloc\n");
		return 1;
	}
	cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
	cudaMemcpy(dy, y.data(), n * sizeof(float), cudaMemcpyHostToDevice);
	for (int rep = 0; rep < 3; rep++) {
		if (rep > 0)
			cudaMemcpy(dy, y.data(), n * sizeof(float), cudaMemcpyHostToDevice);
		saxpy<<<(n + 255) / 256, 256>>>(3.0f, dx, dy, n);
		cudaError_t err = cudaGetLastError();
		if (err != cudaSuccess) {
			printf("FAIL: launch: %s\n", cudaGetErrorString(err));
			return 1;
		}
		std::vector<float> got(n);
		err = cudaMemcpy(got.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost);
		if (err != cudaSuccess) {
			printf("FAIL: after the kernel: %s\n", cudaGetErrorString(err));
			return 1;
		}
		for (int i = 0; i < n; i++)
			if (got[i] != want[i]) {
				printf("FAIL: y[%d] = %g, want %g\n", i, got[i], want[i]);
				return 1;
			}
	}
	printf("PASS: saxpy through paella-cc and libpaellart, %d elements, 3 launches\n", n);
	return 0;
}
