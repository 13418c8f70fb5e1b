/*
 * Device code with an abstract class: its vtable names __cxa_pure_virtual
 * and its virtual destructor sized operator delete, which nvcc provides on
 * the device without any #include.
 */
#include <cstdio>

struct Shape {
	__device__ virtual float area() const = 0;
	__device__ virtual ~Shape() {}
};

struct Square : Shape {
	float s;
	__device__ Square(float s) : s(s) {}
	__device__ float area() const override { return s * s; }
};

struct Circle : Shape {
	float r;
	__device__ Circle(float r) : r(r) {}
	__device__ float area() const override { return 3.0f * r * r; }
};

__global__ void areas(float *out, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	Square sq(i * 0.5f);
	Circle ci(i * 0.25f);
	const Shape *s = (i & 1) ? (const Shape *)&sq : (const Shape *)&ci;

	if (i < n)
		out[i] = s->area();
}

int main()
{
	const int n = 512;
	float *d, h[n];
	double sum = 0;

	if (cudaMalloc(&d, sizeof(h)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	areas<<<n / 128, 128>>>(d, n);
	cudaError_t err = cudaMemcpy(h, d, sizeof(h), cudaMemcpyDeviceToHost);
	err = err != cudaSuccess ? err : cudaGetLastError(); /* a failed launch too */
	if (err != cudaSuccess) {
		printf("FAIL: %s\n", cudaGetErrorString(err));
		return 1;
	}
	for (int i = 0; i < n; i++)
		sum += h[i];
	printf("area sum=%.2f h[3]=%.2f h[4]=%.2f\n", sum, h[3], h[4]);
	return 0;
}
