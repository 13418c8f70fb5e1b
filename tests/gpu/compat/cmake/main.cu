/* Calls the library's launcher (static cudart, CMake's default). */
#include <cstdio>
#include <vector>

void heat_steps(float *a, float *b, int n, int steps);

int main()
{
	const int n = 10000, steps = 100;
	std::vector<float> h(n, 0.0f);
	float *a, *b;
	double sum = 0;

	h[n / 2] = 1000.0f;
	if (cudaMalloc(&a, n * sizeof(float)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	cudaMalloc(&b, n * sizeof(float));
	cudaMemcpy(a, h.data(), n * sizeof(float), cudaMemcpyHostToDevice);
	heat_steps(a, b, n, steps);
	cudaError_t err = cudaMemcpy(h.data(), a, n * sizeof(float), cudaMemcpyDeviceToHost);
	err = err != cudaSuccess ? err : cudaGetLastError(); /* a failed launch too */
	if (err != cudaSuccess) {
		printf("FAIL: %s\n", cudaGetErrorString(err));
		return 1;
	}
	for (int i = 0; i < n; i++)
		sum += h[i];
	printf("heat sum=%.3f centre=%.5f\n", sum, h[n / 2]);
	return 0;
}
