/*
 * Templates: a kernel template instantiated for three types, launched with
 * <<<>>>, through cuda_runtime.h's cudaLaunchKernel template and through
 * cudaLaunchKernelEx; a functor template; --expt-relaxed-constexpr style
 * constexpr host functions called from device code.
 */
#include <cstdio>
#include <cstdlib>

constexpr int weight(int i) { return i % 3 + 1; }

template <typename T> struct Scale {
	T k;
	__device__ T operator()(T x) const { return x * k; }
};

template <typename T, typename F> __global__ void apply(T *out, const T *in, F f, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		out[i] = f(in[i]) + (T)weight(i);
}

template <typename T> static double run(const char *name, int how)
{
	const int n = 4096;
	T h[n], *in, *out;
	double sum = 0;
	Scale<T> f = { (T)3 };
	int nn = n;

	for (int i = 0; i < n; i++)
		h[i] = (T)(i % 50);
	cudaMalloc(&in, sizeof(h));
	cudaMalloc(&out, sizeof(h));
	cudaMemcpy(in, h, sizeof(h), cudaMemcpyHostToDevice);
	if (how == 0) {
		apply<<<n / 256, 256>>>(out, (const T *)in, f, n);
	} else if (how == 1) {
		const T *cin = in;
		void *args[] = { &out, &cin, &f, &nn };

		cudaLaunchKernel(apply<T, Scale<T> >, dim3(n / 256), dim3(256), args, 0, 0);
	} else {
		cudaLaunchConfig_t cfg = {};

		cfg.gridDim = dim3(n / 256);
		cfg.blockDim = dim3(256);
		cudaLaunchKernelEx(&cfg, apply<T, Scale<T> >, out, (const T *)in, f, nn);
	}
	cudaMemcpy(h, out, sizeof(h), cudaMemcpyDeviceToHost);
	if (cudaGetLastError() != cudaSuccess) { /* a failed launch is no result */
		printf("FAIL: %s launch %d failed\n", name, how);
		exit(1);
	}
	for (int i = 0; i < n; i++)
		sum += (double)h[i];
	cudaFree(in);
	cudaFree(out);
	printf("%s launch %d: %.1f\n", name, how, sum);
	return sum;
}

int main()
{
	int devices = 0;

	if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	for (int how = 0; how < 3; how++) {
		run<int>("int", how);
		run<float>("float", how);
		run<double>("double", how);
	}
	printf("last error: %s\n", cudaGetErrorString(cudaGetLastError()));
	return 0;
}
