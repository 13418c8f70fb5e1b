/* The host side, compiled by the CUDA compiler (-x cu) as nvcc projects do. */
#include <cstdio>
#include <vector>

#include "kernels.cuh"

int main()
{
	const int n = 1 << 20;
	std::vector<float> x(n), y(n);
	float *dx, *dy;
	double sum = 0;

	for (int i = 0; i < n; i++) {
		x[i] = (float)(i % 1000) * 0.001f;
		y[i] = (float)(i % 7);
	}
	if (cudaMalloc(&dx, n * sizeof(float)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	cudaMalloc(&dy, n * sizeof(float));
	cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
	cudaMemcpy(dy, y.data(), n * sizeof(float), cudaMemcpyHostToDevice);
	launch_saxpy(2.0f, dx, dy, n);
	cudaError_t err = cudaMemcpy(y.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost);
	err = err != cudaSuccess ? err : cudaGetLastError(); /* a failed launch too */
	if (err != cudaSuccess) {
		printf("FAIL: %s\n", cudaGetErrorString(err));
		return 1;
	}
	for (int i = 0; i < n; i++)
		sum += y[i];
	printf("saxpy sum=%.3f y[12345]=%.4f\n", sum, y[12345]);
	return 0;
}
